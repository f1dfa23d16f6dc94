"""End to end in a real headless Chromium (Debian's, at /usr/bin/chromium).

What a team must be able to do (log in, filter, claim, note, draft, answer, lose a
claim race, correct the analysis, read the competitor and precision pages) runs on
both backends; the rest on SQLite.

Screenshots go to artifacts/screenshots/ (named backend-test-step.png).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from listener.web import create_app, running
from tests.web.helpers import PASSWORD, USERS
from tests.web.corpus import NOW, config

playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
expect = playwright_api.expect


@dataclass
class Site:
    url: str
    app: object
    backend: str


def serve(backend):
    app = create_app(config(), backend, users=USERS, now=lambda: NOW)
    with running(app) as url:
        yield Site(url, app, backend.name)


@pytest.fixture
def site(backend):
    """The app on both backends: for the flows a team must be able to do on either."""
    yield from serve(backend)


@pytest.fixture
def sqlite_site(sqlite_backend):
    yield from serve(sqlite_backend)


@pytest.fixture
def shot(request):
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"\W+", "-", request.node.originalname.removeprefix("test_"))

    def take(page, site: Site, step: str) -> None:
        page.screenshot(path=str(SHOTS / f"{site.backend}-{name}-{step}.png"), full_page=True)

    return take


def log_in(browser, site: Site, user: str, **options):
    """A browser logged in through the login form."""
    context = browser.new_context(base_url=site.url, **{"viewport": {"width": 1280, "height": 900}, **options})
    page = context.new_page()
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/inbox"))
    return page


def logged_in(browser, site: Site, user: str, path: str = "/inbox", **options):
    """A browser with a session made on the server: for tests about what comes after logging in."""
    web = site.app.state.web
    session = web.sessions.create(user, web.users.get(user).role)
    context = browser.new_context(base_url=site.url, **{"viewport": {"width": 1280, "height": 900}, **options})
    context.add_cookies([{"name": web.session_cookie, "value": session.token, "domain": "127.0.0.1", "path": "/", "secure": True, "httpOnly": True}])
    page = context.new_page()
    page.goto(path)
    return page


def scripts_ready(page) -> None:
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))


def test_an_agent_works_a_post_from_the_inbox_to_answered(browser, site, shot):
    page = log_in(browser, site, "ana", permissions=["clipboard-read", "clipboard-write"])
    rows = page.locator(".rows .row")
    expect(rows.first).to_contain_text("Cinesa abre el lunes")  # best lead score first
    expect(rows.first.locator(".sla")).to_contain_text("late")
    expect(rows.first.locator(".why")).to_contain_text("question")
    shot(page, site, "1-inbox")

    page.get_by_label("Brand or competitor").select_option("Yelmo Cines")
    page.locator("form.filters").get_by_label("Intent").select_option("complaint")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"entity=Yelmo"))
    expect(rows).to_have_count(3)
    for text in rows.all_inner_texts():
        assert "Yelmo" in text and "complaint" in text
    shot(page, site, "2-filtered")

    rows.first.locator("a.text").click()
    expect(page.locator(".full-text")).to_contain_text("Yelmo falla al pagar")
    page.get_by_role("button", name="Claim").click()
    expect(page.locator(".flash.ok")).to_have_text("You have claimed this post.")
    expect(page.locator(".work .status")).to_contain_text("claimed · ana")

    page.get_by_label("Add a note").fill("Ofrecer la app de Cinesa; probar el pago con Bizum")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".notes")).to_contain_text("probar el pago con Bizum")

    reply = page.locator("#reply")
    # A complaint about a competitor: an offer, and no apology on Yelmo's behalf.
    expect(reply).to_have_value(re.compile(r"^Hola, si buscas una alternativa, en Cinesa"))
    assert "User 3" not in reply.input_value() and "sentimos" not in reply.input_value()
    reply.fill(reply.input_value() + " Si quieres, te ayudamos a comprar en Cinesa.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash.ok")).to_have_text("Reply draft saved.")
    expect(reply).to_have_value(re.compile(r"te ayudamos a comprar en Cinesa\.$"))
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()").endswith("te ayudamos a comprar en Cinesa.")
    expect(page.get_by_role("link", name=re.compile("Reply on reddit"))).to_have_attribute("href", "https://example.org/reddit/3")

    page.get_by_label("Check again on").fill("23/11/2026")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Check again on")).to_have_value("23/11/2026")
    shot(page, site, "3-claimed-with-note-and-draft")

    page.get_by_role("button", name=re.compile(r"^Mark answered(?! with)")).click()
    expect(page.locator(".work .status")).to_contain_text("answered · ana")
    shot(page, site, "4-answered")
    page.goto("/inbox")
    expect(page.locator(".rows")).not_to_contain_text("Yelmo falla al pagar")
    page.context.close()


def test_a_second_sessions_conflicting_claim_is_refused_with_a_clear_message(browser, site, shot):
    ana = logged_in(browser, site, "ana", "/posts/twitter:1")
    luis = logged_in(browser, site, "luis", "/posts/twitter:1")
    ana.get_by_role("button", name="Claim").click()
    expect(ana.locator(".work .status")).to_contain_text("claimed · ana")

    luis.get_by_role("button", name="Claim").click()
    problem = luis.get_by_role("alert")
    expect(problem).to_contain_text("Not saved")
    expect(problem).to_contain_text("by ana")
    expect(luis.locator(".work .status")).to_contain_text("claimed · ana")
    shot(luis, site, "refused")

    luis.reload()
    expect(luis.locator(".work .status")).to_contain_text("claimed · ana")
    for page in (ana, luis):
        page.context.close()


def test_an_agent_corrects_the_analysis_and_an_analyst_reads_the_precision_it_implies(browser, site, shot):
    page = logged_in(browser, site, "ana", "/posts/reddit:3")
    expect(page.get_by_role("heading", name="Is the analysis right?")).to_be_visible()
    page.locator("tr[data-label=complaint]").get_by_role("button", name="Wrong").click()
    expect(page.locator(".flash.ok")).to_have_text("Feedback saved: complaint is no.")
    expect(page.locator("tr[data-label=complaint] .team")).to_contain_text(re.compile(r"^no ana,"))

    page.get_by_text("Wrong brand").click()
    page.get_by_label("Yelmo Cines").uncheck()
    page.get_by_label("Kinépolis").check()
    page.get_by_role("button", name="Save the right brands").click()
    expect(page.locator("tr[data-label=mentions] .team")).to_contain_text("Kinépolis")
    page.get_by_role("button", name="Not relevant").click()
    expect(page.locator("tr[data-label=surface] .team .disagrees")).to_have_text("no")
    shot(page, site, "1-corrected")

    analyst = logged_in(browser, site, "marta", "/inbox")
    analyst.get_by_role("link", name="Precision").click()
    expect(analyst.get_by_role("heading", name="Precision of the analysis")).to_be_visible()

    def cells(name: str):
        return analyst.locator("table.precision tbody tr").filter(has=analyst.get_by_role("rowheader", name=name, exact=True)).locator("td")

    expect(cells("complaint").nth(0)).to_have_text("0% n=1")  # all languages
    expect(cells("complaint").nth(1)).to_have_text("0% n=1")  # es
    expect(cells("complaint").nth(2)).to_have_text("— n=0")   # ca
    expect(cells("mentions: Yelmo Cines").nth(0)).to_have_text("0% n=1")
    expect(cells("question").nth(0)).to_have_text("— n=0")
    shot(analyst, site, "2-precision")
    for each in (page, analyst):
        each.context.close()


def test_keyboard_shortcuts_select_claim_and_answer(browser, sqlite_site, shot):
    site = sqlite_site
    page = logged_in(browser, site, "ana")
    scripts_ready(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    second = page.locator(".rows .row").nth(1)
    expect(second).to_have_class(re.compile("selected"))
    title = second.locator("a.text").inner_text()
    page.keyboard.press("c")
    expect(page.locator(".flash.ok")).to_have_text("You have claimed this post.")
    scripts_ready(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("o")
    expect(page.locator(".full-text")).to_have_text(title)
    scripts_ready(page)
    page.keyboard.press("a")
    expect(page.locator(".work .status")).to_contain_text("answered · ana")
    scripts_ready(page)
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    shot(page, site, "help")
    page.context.close()


def test_an_analyst_gets_the_competitor_page_with_charts_and_csv(browser, site, shot):
    page = logged_in(browser, site, "marta", "/search")
    page.get_by_role("link", name="Competitors").click()
    expect(page.get_by_role("heading", name="Competitor gaps")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(5)
    expect(page.locator("svg.chart rect title").first).to_contain_text("Cinesa")
    expect(page.locator("table.figures tbody tr")).to_have_count(3)
    expect(page.locator("#churn + svg, section:has(#churn) svg")).to_have_count(1)
    expect(page.locator("section:has(#churn) table").first).to_contain_text("Yelmo Cines")
    expect(page.locator("h3:text('Yelmo Cines') + .clusters")).to_contain_text("app · pagar")
    shot(page, site, "gaps")
    with page.expect_download() as download:
        page.get_by_role("link", name="figures per entity").click()
    assert Path(download.value.path()).read_text().startswith("entity,role,posts,share_of_voice")
    page.context.close()


def test_search_with_facets_narrows_the_results(browser, sqlite_site, shot):
    site = sqlite_site
    page = logged_in(browser, site, "marta", "/search")
    page.get_by_label("Words to find").fill("app")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("h1")).to_contain_text("4 posts")
    page.locator(".facets").get_by_role("link", name="Yelmo Cines").click()
    expect(page.locator("h1")).to_contain_text("3 posts")
    shot(page, site, "faceted")
    page.context.close()


def test_reading_works_with_javascript_off(browser, sqlite_site, shot):
    site = sqlite_site
    page = log_in(browser, site, "ana", java_script_enabled=False)
    expect(page.locator(".rows .row")).to_have_count(5)
    expect(page.get_by_role("button", name="Shortcuts")).to_be_hidden()
    page.get_by_role("link", name="next →").click()
    expect(page.locator(".rows .row").first).to_be_visible()
    page.locator(".rows .row a.text").first.click()
    expect(page.locator(".full-text")).to_be_visible()
    page.get_by_role("button", name="Claim").click()
    expect(page.locator(".flash.ok")).to_have_text("You have claimed this post.")
    shot(page, site, "post-without-js")
    page.context.close()


def test_a_wrong_password_is_refused_and_nothing_shows_without_login(browser, sqlite_site):
    context = browser.new_context(base_url=sqlite_site.url)
    page = context.new_page()
    page.goto("/gaps")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fgaps"))
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    assert page.context.cookies() == [] or all(c["name"].endswith("login") for c in page.context.cookies())
    context.close()


@pytest.fixture
def bidi_site(sqlite_backend):
    """A post whose author name ends in U+202E RIGHT-TO-LEFT OVERRIDE and whose text carries one too."""
    from tests.web.corpus import item

    sqlite_backend.upsert([item(950, "¿Cinesa abre hoy? \u202eadnet al", 1, score=100, author_name="Ana \u202eatsoC")])
    yield from serve(sqlite_backend)


def left_to_right(*locators) -> bool:
    xs = [locator.bounding_box()["x"] for locator in locators]
    return xs == sorted(xs)


def test_a_right_to_left_override_in_an_author_name_does_not_reorder_what_follows(browser, bidi_site, shot):
    site = bidi_site
    page = logged_in(browser, site, "ana")
    row = page.locator(".rows .row").first
    meta = row.locator(".meta")
    expect(meta.locator("bdi.name")).to_contain_text("Ana")
    assert left_to_right(meta.locator("bdi.name"), meta.locator(".handle"), meta.locator(".where"), meta.locator("time"))
    assert left_to_right(row.locator(".score"), row.locator("a.text"))
    shot(page, site, "bidi-inbox")
    row.locator("a.text").click()
    meta = page.locator("article .meta")
    assert left_to_right(meta.locator("bdi.name"), meta.locator(".handle"), meta.locator(".where"), meta.locator("time"))
    expect(page.locator(".full-text")).to_have_attribute("dir", "auto")
    assert page.title().startswith("\u2068") and "\u2069 · Cinesa" in page.title()
    shot(page, site, "bidi-post")
    page.context.close()


def test_a_throttled_login_says_when_to_try_again(browser, sqlite_site):
    context = browser.new_context(base_url=sqlite_site.url)
    page = context.new_page()
    page.goto("/login")
    for _ in range(11):
        page.get_by_label("Name").fill("ana")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Too many failed attempts; try again in 5 minutes.")
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")
    assert all(c["name"].endswith("login") for c in context.cookies())
    context.close()


PHONE = {"width": 390, "height": 844}
PAGES = ["/inbox", "/posts/twitter:1", "/posts/reddit:3", "/posts/nowhere", "/search?q=app", "/gaps", "/gaps?interval=day", "/precision",
         "/settings"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_fits_a_phone_screen(browser, sqlite_site, shot, path):
    page = logged_in(browser, sqlite_site, "root", path, viewport=PHONE)
    expect(page.locator("main > *").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, sqlite_site, re.sub(r"\W+", "-", path).strip("-"))
    assert width <= 390, f"{path} is {width} px wide on a 390 px screen"
    page.context.close()


def test_the_login_page_fits_a_phone_screen(browser, sqlite_site):
    context = browser.new_context(base_url=sqlite_site.url, viewport=PHONE)
    page = context.new_page()
    page.goto("/login")
    expect(page.get_by_label("Name")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_each_competitor_chart_is_labelled_and_has_a_table_with_its_numbers(browser, sqlite_site, shot):
    page = logged_in(browser, sqlite_site, "marta", "/gaps")
    charts = page.locator("svg.chart[role=img]")
    expect(charts).to_have_count(5)
    for label in [charts.nth(i).get_attribute("aria-label") for i in range(5)]:
        assert re.search(r"\d", label), label  # a summary in figures, not only a title
    share = page.get_by_role("img", name=re.compile("^Share of voice per entity over time"))
    expect(share).to_have_attribute("aria-label", re.compile(r"Cinesa 9 \(53%\), Yelmo Cines 6 \(35%\), Kinépolis 2 \(12%\)"))
    series = page.get_by_role("region", name="Share of voice over time, as a table").locator("tbody tr")
    expect(series).to_have_count(2)
    expect(series.first.locator("td")).to_have_text(["3", "3", "1", "7"])

    # 6 posts name Yelmo: under the minimum n of 10, the n shows and the rate does not, in the chart and its table.
    complaints = page.locator("figure").filter(has=page.get_by_role("img", name=re.compile("^Complaint rate")))
    expect(complaints.get_by_role("img")).to_have_attribute("aria-label", re.compile("Yelmo Cines: n=6, too few for a rate"))
    expect(complaints.locator("tbody tr").filter(has_text="Yelmo Cines").locator("td")).to_have_text(["3", "n=6"])
    expect(page.locator("table.figures tbody tr").filter(has_text="Yelmo Cines").locator("td").nth(4)).to_have_text("n=6")
    flows = page.locator("section:has(#churn)")
    expect(flows.get_by_role("img")).to_have_attribute("aria-label", re.compile("Yelmo Cines → Cinesa: 1 post"))
    expect(flows.locator("table").first.locator("tbody tr")).to_have_count(2)

    page.goto("/gaps?interval=day&since=2026-11-18&until=2026-11-22")
    days = page.get_by_role("region", name="Share of voice over time, as a table").locator("tbody tr")
    expect(days).to_have_count(6)  # UTC days 17 to 22 Nov: every one, empty ones at 0
    expect(days.nth(1).locator("td")).to_have_text(["0", "0", "0", "0"])
    expect(days.nth(3).locator("td")).to_have_text(["9", "6", "2", "17"])
    shot(page, sqlite_site, "days")
    page.context.close()


@pytest.fixture
def any_n_site(sqlite_backend):
    app = create_app(config(gap_min_n=1), sqlite_backend, users=USERS, now=lambda: NOW)
    with running(app) as url:
        yield Site(url, app, sqlite_backend.name)


def test_rates_show_with_their_n_when_enough_posts_back_them(browser, any_n_site):
    page = logged_in(browser, any_n_site, "marta", "/gaps")
    yelmo = page.locator("table.figures tbody tr").filter(has_text="Yelmo Cines").locator("td")
    expect(yelmo.nth(2)).to_have_text("35% n=17")  # share of voice, of all 17 mentions
    expect(yelmo.nth(4)).to_have_text("50% n=6")
    expect(yelmo.nth(6)).to_have_text("80% n=5")
    expect(yelmo.nth(7)).to_have_text("30m n=1")
    page.context.close()


@pytest.fixture
def midnight_site(backend):
    """Two more posts: one at 00:30 in Madrid today (23:30 UTC the day before), one at 23:30 in Madrid yesterday."""
    from tests.web.corpus import item

    backend.upsert([item(960, "¿Cinesa abre en Navidad?", -570, source="youtube"),
                    item(961, "¿Cinesa abre en Reyes?", -630, source="tiktok")])
    backend.refresh()
    yield from serve(backend)


def test_the_inbox_counts_todays_posts_per_source_and_intent_each_a_link_to_them(browser, midnight_site, shot):
    site = midnight_site
    page = logged_in(browser, site, "ana")
    sources = page.get_by_role("list", name="By source")
    expect(sources.get_by_role("link")).to_have_text(["twitter 8", "forum 1", "mastodon 1", "reddit 1", "youtube 1"])
    intents = page.get_by_role("list", name="By intent")
    expect(intents.get_by_role("link", name="complaint 5")).to_be_visible()
    expect(intents.get_by_role("link", name="question 4")).to_be_visible()
    expect(page.locator(".today h2")).to_contain_text("20/11/2026 · 12 to answer")  # the team's day: Madrid's
    shot(page, site, "counts")

    intents.get_by_role("link", name="complaint 5").click()
    expect(page).to_have_url(re.compile(r"intent=complaint&since=2026-11-20&until=2026-11-20"))
    expect(page.locator("h1")).to_have_text("Inbox 5 posts")
    expect(page.locator(".rows .row")).to_have_count(5)
    page.get_by_role("list", name="By source").get_by_role("link", name="youtube 1").click()
    expect(page.locator(".rows .row")).to_have_count(1)
    expect(page.locator(".rows")).to_contain_text("abre en Navidad")
    page.context.close()
