"""The settings page: admins change the configuration file from the browser, checked as when it is loaded.

In a real headless Chromium over a real configuration file; roles over the API client.
"""

from __future__ import annotations

import re

import pytest

from listener.config import load_config
from listener.web import create_app, running
from tests.web.corpus import NOW
from tests.web.helpers import USERS, log_in
from tests.web.test_browser import Site, expect, logged_in, shot  # noqa: F401  (shot is a fixture)

CONFIG_YAML = """\
# The brand and the chains it competes with.
brand: {name: Cinesa, aliases: [cinesa], handles: ["@cinesa"]}
competitors:
  # The biggest rival.
  - {name: Yelmo Cines, aliases: [yelmo], handles: ["@yelmocines"]}
  - {name: Kinépolis, aliases: [kinepolis, kinépolis]}
sources:
  - {kind: reddit, name: reddit, queries: [cinesa], interval: 10m}  # every ten minutes
schedule:
  timezone: Europe/Madrid
  sla_minutes: 60
  service_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}
alerts:
  channels:
    - {kind: slack, url_env: LISTENER_SLACK_WEBHOOK_URL}
web:
  secure_cookies: true
  page_size: 5
"""


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "listener.yaml"
    path.write_text(CONFIG_YAML, encoding="utf-8")
    return path


@pytest.fixture
def app(sqlite_backend, config_path):
    return create_app(load_config(config_path), sqlite_backend, users=USERS, now=lambda: NOW, config_file=config_path)


@pytest.fixture
def site(app):
    with running(app) as url:
        yield Site(url, app, "sqlite")


def test_an_admin_changes_a_competitors_alias_and_the_file_keeps_its_comments(browser, site, config_path, shot):
    page = logged_in(browser, site, "root", "/inbox")
    page.get_by_role("link", name="Settings").click()
    yelmo = page.get_by_role("group", name="Yelmo Cines")
    expect(yelmo.get_by_label("Aliases")).to_have_value("yelmo")
    yelmo.get_by_label("Aliases").fill("yelmo\nyelmitos")
    page.get_by_role("button", name="Save and apply").click()

    expect(page.locator(".flash.ok")).to_contain_text("applied: competitors[0].aliases")
    assert config_path.read_text(encoding="utf-8") == CONFIG_YAML.replace("aliases: [yelmo]", "aliases: [yelmo, yelmitos]")
    page.reload()
    expect(page.get_by_role("group", name="Yelmo Cines").get_by_label("Aliases")).to_have_value("yelmo\nyelmitos")
    shot(page, site, "saved")
    page.context.close()


def test_a_new_competitor_and_a_new_reply_template_apply_without_a_restart(browser, site, config_path):
    page = logged_in(browser, site, "root", "/settings")
    new = page.get_by_role("group", name="Add a competitor")
    new.get_by_label("Name").fill("Cinépolis")
    new.get_by_label("Aliases").fill("cinepolis\ncinépolis")
    page.locator("summary", has_text="our complaint").click()
    page.get_by_role("group", name="our complaint").get_by_label("es").fill("{greeting}, lo sentimos: escríbenos por privado y lo miramos en {brand}.")
    page.get_by_role("button", name="Save and apply").click()
    expect(page.locator(".flash.ok")).to_contain_text("competitors[2]")

    text = config_path.read_text(encoding="utf-8")
    assert "  - {name: Kinépolis, aliases: [kinepolis, kinépolis]}\n  - {name: Cinépolis, aliases: [cinepolis, cinépolis]}\n" in text
    assert "# The biggest rival." in text and "# every ten minutes" in text
    assert load_config(config_path).web["replies"]["our_complaint"]["es"].startswith("{greeting}, lo sentimos")

    page.goto("/inbox")
    expect(page.get_by_label("Brand or competitor").locator("option", has_text="Cinépolis")).to_have_count(1)
    page.goto("/posts/twitter:2")  # the brand's customer complains, in Spanish
    expect(page.locator("#reply")).to_have_value("Hola, lo sentimos: escríbenos por privado y lo miramos en Cinesa.")
    page.context.close()


@pytest.mark.parametrize("field, value, message", [
    (("Cinesa", "Name"), "", "brand.name: expected the name people know it by, found an empty one"),
    (("reddit", "Every"), "abc", "sources[0].interval: expected a duration like 30s, 5m, 1h or 2d, found 'abc'"),
    (("praise", "es"), "{greeting}, gracias {nombre}",
     "web.replies.praise.es: template praise/es uses an unknown placeholder {nombre} (placeholders: {greeting}, {brand})"),
    (("slack", "Variable holding the webhook URL"), "https://hooks.slack.com/services/T0/B0/s3cr3t",
     "alerts.channels[0].url_env: expected the name of an environment variable such as LISTENER_SLACK_WEBHOOK_URL"),
])
def test_a_bad_value_is_named_beside_its_field_and_the_file_is_left_as_it_was(browser, site, config_path, shot, field, value, message):
    page = logged_in(browser, site, "root", "/settings")
    group, label = field
    if group == "praise":
        page.locator("summary", has_text="praise").click()
    box = page.get_by_role("group", name=re.compile(rf"^{group}")).get_by_label(label)
    box.fill(value)
    page.get_by_role("button", name="Save and apply").click()

    problems = page.get_by_role("alert")
    expect(problems).to_contain_text("Not saved; the file is unchanged.")
    expect(problems).to_contain_text(message)
    key, reason = message.split(": ", 1)
    field_id = "f-" + key.replace(".", "-").replace("[", "-").replace("]", "")
    expect(page.locator(f"[id='{field_id}-error']")).to_contain_text(reason)
    expect(box).to_have_value(value)  # what was typed stays, to be corrected
    assert "s3cr3t" not in problems.inner_text()
    assert config_path.read_text(encoding="utf-8") == CONFIG_YAML
    shot(page, site, key)
    page.context.close()


def test_agents_and_analysts_get_403_on_the_page_and_on_saving(app, config_path):
    admin = log_in(app, "root")
    version = re.search(r'name="version" value="(\w+)"', admin.get("/settings").text).group(1)
    for name in ("ana", "marta"):
        client = log_in(app, name)
        assert client.get("/settings").status_code == 403
        response = client.post("/settings", data={"version": version, "brand.name": "Yelmo"})
        assert response.status_code == 403
        assert "Only admins can do this" in response.text
    assert config_path.read_text(encoding="utf-8") == CONFIG_YAML
    assert 'href="/settings"' not in log_in(app, "ana").get("/inbox").text


def test_a_form_made_from_an_older_file_is_refused_and_shows_the_file_as_it_is(app, config_path):
    admin = log_in(app, "root")
    version = re.search(r'name="version" value="(\w+)"', admin.get("/settings").text).group(1)
    config_path.write_text(CONFIG_YAML.replace("sla_minutes: 60", "sla_minutes: 30"), encoding="utf-8")
    response = admin.post("/settings", data={"version": version, "brand.name": "Cinesa", "brand.aliases": "cinesa\ncines"})
    assert response.status_code == 409
    assert "changed since you opened this page" in response.text
    assert "sla_minutes: 30" in config_path.read_text(encoding="utf-8") and "cines]" not in config_path.read_text(encoding="utf-8")


def test_without_a_configuration_file_the_page_says_how_to_get_one(sqlite_backend):
    from tests.web.corpus import config

    admin = log_in(create_app(config(), sqlite_backend, users=USERS, now=lambda: NOW), "root")
    response = admin.get("/settings")
    assert response.status_code == 200 and "listener serve --config FILE" in response.text
    assert admin.post("/settings", data={"brand.name": "Yelmo"}).status_code == 409
