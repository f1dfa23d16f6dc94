"""Answering from the inbox: Send through the platform's API (a local fake of it), or mark answered with a link.

The API tests run on both backends; the browser tests, in Debian's Chromium, on SQLite.
"""

from __future__ import annotations

import re

import pytest

from listener.web import create_app, running
from tests.listener.sending.fakes import CREDENTIALS, FakePlatforms, sources
from tests.web.corpus import NOW, config
from tests.web.helpers import USERS, log_in
from tests.web.test_browser import SHOTS, Site, expect, logged_in

TEXT = "Hola, sí: abrimos el lunes festivo de 16:00 a 23:00."


@pytest.fixture
def fake():
    server = FakePlatforms()
    yield server
    server.close()


@pytest.fixture
def credentials(monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


def app_for(backend, fake):
    settings = config()
    return create_app(settings.model_copy(update={"sources": sources(fake.url)}), backend, users=USERS, now=lambda: NOW)


@pytest.fixture
def ana(backend, fake, credentials):
    return log_in(app_for(backend, fake), "ana")


def test_a_sent_reply_is_on_the_post_with_its_link_and_the_post_answered(ana, fake):
    response = ana.post("/api/posts/twitter:1/send", json={"version": 0, "text": TEXT}, headers={"Idempotency-Key": "click-1"})
    assert response.status_code == 200, response.text
    assert response.json()["reply_url"] == "https://x.com/i/web/status/1861000000000000001"
    assert fake.sent("/2/tweets")[0].body["reply"] == {"in_reply_to_tweet_id": "1"}
    post = ana.get("/api/posts/twitter:1").json()
    assert (post["status"], post["assignee"], post["reply_draft"], post["sla"]) == ("answered", "ana", TEXT, None)
    assert post["sends"][0]["reply_id"] == "1861000000000000001"


def test_sending_again_with_the_same_key_returns_the_reply_without_posting_twice(ana, fake):
    first = ana.post("/api/posts/twitter:1/send", json={"version": 0, "text": TEXT}, headers={"Idempotency-Key": "click-1"})
    again = ana.post("/api/posts/twitter:1/send", json={"version": 0, "text": TEXT}, headers={"Idempotency-Key": "click-1"})
    assert again.status_code == 200 and again.json() == first.json()
    assert len(fake.sent("/2/tweets")) == 1


def test_a_rate_limited_send_answers_502_with_retry_after_and_keeps_the_draft(ana, fake):
    fake.fail("/2/tweets", 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
              {"x-rate-limit-reset": str(int(NOW.timestamp()) + 900)})
    response = ana.post("/api/posts/twitter:1/send", json={"version": 0, "text": TEXT})
    assert response.status_code == 502
    assert response.json()["error"] == "rate_limited" and response.headers["retry-after"] == "900"
    post = ana.get("/api/posts/twitter:1").json()
    assert (post["status"], post["reply_draft"], post["sends"][0]["state"]) == ("new", TEXT, "failed")


def test_without_credentials_a_send_is_refused_naming_the_variable(backend, fake, monkeypatch):
    monkeypatch.delenv("LISTENER_TWITTER_USER_TOKEN", raising=False)
    client = log_in(app_for(backend, fake), "ana")
    response = client.post("/api/posts/twitter:1/send", json={"version": 0, "text": TEXT})
    assert response.status_code == 422
    assert "set LISTENER_TWITTER_USER_TOKEN" in response.json()["detail"]
    assert not fake.requests


def test_analysts_may_not_send(backend, fake, credentials):
    client = log_in(app_for(backend, fake), "marta")
    assert client.post("/api/posts/twitter:1/send", json={"version": 0, "text": TEXT}).status_code == 403


def test_marked_answered_by_its_link_and_a_link_that_is_no_web_address_refused(ana):
    bad = ana.post("/api/posts/reddit:3/answered", json={"version": 0, "url": "reddit.com/r/cine"})
    assert bad.status_code == 400 and "must be a web address" in bad.json()["detail"]
    good = ana.post("/api/posts/reddit:3/answered", json={"version": 0, "url": "https://www.reddit.com/r/cine/comments/abc/x/kx9/"})
    assert good.status_code == 200
    assert (good.json()["status"], good.json()["sends"][0]["via"]) == ("answered", "link")


# -- in the browser ------------------------------------------------------------------


@pytest.fixture
def send_site(sqlite_backend, fake, credentials):
    app = app_for(sqlite_backend, fake)
    with running(app) as url:
        yield Site(url, app, "sqlite")


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"sqlite-sending-{name}.png"), full_page=True)


def test_an_agent_sends_the_draft_from_the_post_page(browser, send_site, fake):
    page = logged_in(browser, send_site, "ana", "/posts/twitter:1")
    page.locator("#reply").fill(TEXT)
    page.get_by_role("button", name="Send on X").dblclick()  # a double click posts once
    expect(page.locator(".flash.ok")).to_have_text("Reply sent; the post is marked answered.")
    expect(page.locator(".sending .sent")).to_contain_text("Sent on X by ana")
    expect(page.get_by_role("link", name="the reply ↗")).to_have_attribute("href", "https://x.com/i/web/status/1861000000000000001")
    expect(page.locator(".work .status")).to_contain_text("answered")
    expect(page.get_by_role("button", name="Send on X")).to_have_count(0)
    shoot(page, "sent")
    assert len(fake.sent("/2/tweets")) == 1 and fake.sent("/2/tweets")[0].body["text"] == TEXT
    page.context.close()


def test_a_deleted_post_is_said_so_and_the_edited_draft_stays(browser, send_site, fake):
    fake.fail("/2/tweets", 403, {"detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
                                 "type": "about:blank", "title": "Forbidden", "status": 403})
    page = logged_in(browser, send_site, "ana", "/posts/twitter:1")
    page.locator("#reply").fill(TEXT)
    page.get_by_role("button", name="Send on X").click()
    expect(page.get_by_role("alert")).to_contain_text("Not sent: the tweet is deleted or not visible")
    expect(page.locator("#reply")).to_have_value(TEXT)
    page.reload()
    expect(page.locator("#reply")).to_have_value(TEXT)  # kept on the post, not only in the page
    expect(page.locator(".sending .flash.error")).to_contain_text("deleted or not visible")
    shoot(page, "deleted")
    page.context.close()


def test_without_an_api_copy_and_open_the_original_then_mark_answered_with_link(browser, send_site, monkeypatch):
    monkeypatch.delenv("LISTENER_REDDIT_PASSWORD")
    page = logged_in(browser, send_site, "ana", "/posts/reddit:3", permissions=["clipboard-read", "clipboard-write"])
    expect(page.get_by_role("button", name=re.compile("^Send"))).to_have_count(0)
    expect(page.locator(".sending .hint")).to_contain_text("set LISTENER_REDDIT_PASSWORD")
    opener = page.get_by_role("link", name="Copy and open the original ↗")
    expect(opener).to_have_attribute("href", "https://example.org/reddit/3")
    with page.context.expect_page() as opened:
        opener.click()
    opened.value.close()
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#reply").input_value()

    page.get_by_label("Sent by hand? Link to the reply").fill("ftp://example.org/reply")
    page.get_by_role("button", name="Save the reply link").click()
    expect(page.get_by_role("alert")).to_contain_text("must be a web address")
    page.get_by_label("Sent by hand? Link to the reply").fill("https://www.reddit.com/r/cine/comments/abc/x/kx9/")
    page.get_by_role("button", name="Save the reply link").click()
    expect(page.locator(".sending .sent")).to_contain_text("Sent by hand by ana")
    expect(page.locator(".work .status")).to_contain_text("answered")
    shoot(page, "marked-with-link")
    page.context.close()
