"""Who a post shows and who takes it, in a real headless Chromium."""

from __future__ import annotations

from dataclasses import replace

import pytest

from listener.index.sqlite import SQLiteBackend
from listener.web import create_app, running
from listener.workflow import WorkflowChange
from tests.web.corpus import NOW, config, corpus
from tests.web.helpers import USERS
from tests.web.test_browser import Site, expect, logged_in

X_HANDLE_ID = "twitter:1"  # X stores handles with their "@"


@pytest.fixture
def site(tmp_path):
    docs = [replace(d, post=replace(d.post, author="@lauramv")) if d.id == X_HANDLE_ID else d for d in corpus()]
    backend = SQLiteBackend(tmp_path / "index.db")
    backend.ensure_schema()
    backend.upsert(docs)
    app = create_app(config(), backend, users=USERS, now=lambda: NOW)
    with running(app) as url:
        yield Site(url, app, "sqlite")
    backend.close()


def hold(site: Site, post_id: str, user: str) -> None:
    site.app.state.web.backend.update_workflow(post_id, 0, WorkflowChange(actor=user, status="claimed", assignee=user))


def test_a_handle_stored_with_its_at_sign_shows_one_in_the_inbox_and_on_the_post(browser, site):
    page = logged_in(browser, site, "ana")
    row = page.locator(".rows .row", has_text="Cinesa abre el lunes")
    expect(row.locator(".handle")).to_have_text("@lauramv")
    page.goto(f"/posts/{X_HANDLE_ID}")
    expect(page.locator(".post .handle")).to_have_text("@lauramv")
    expect(page.locator("body")).not_to_contain_text("@@")


def test_assign_offers_the_current_user_first(browser, site):
    page = logged_in(browser, site, "luis", "/posts/twitter:2")
    expect(page.get_by_label("Assign to")).to_have_value("luis")


def test_an_admin_takes_a_post_someone_holds_in_one_click(browser, site):
    hold(site, "twitter:2", "ana")
    page = logged_in(browser, site, "root", "/posts/twitter:2")
    expect(page.get_by_label("Assign to")).to_have_value("ana")  # the holder, until someone changes it
    page.get_by_role("button", name="Take it").click()
    expect(page.locator(".flash")).to_contain_text("Assigned to root")
    assert site.app.state.web.backend.get("twitter:2").workflow.assignee == "root"


def test_an_agent_is_not_offered_a_post_a_colleague_holds(browser, site):
    hold(site, "twitter:2", "ana")
    page = logged_in(browser, site, "luis", "/posts/twitter:2")
    expect(page.get_by_role("button", name="Claim")).to_have_count(0)
    expect(page.get_by_role("button", name="Take it")).to_have_count(0)

