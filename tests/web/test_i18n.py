"""The web app in Spanish, Catalan and English: the language chosen, day-first dates, exports for Spanish Excel."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from listener import present
from listener.config import UiConfig
from listener.web import create_app, running, views
from listener.web.i18n import JS_MESSAGES, LANGUAGES, negotiate
from nlp.components.lead import INTENT_POINTS
from tests.web.corpus import NOW, config, item
from tests.web.helpers import USERS, log_in

playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
expect = playwright_api.expect
ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "listener" / "web" / "locale"


def ui_config(**ui):
    """The test corpus's configuration with its own ``ui:`` section (none: the browser decides)."""
    return config().model_copy(update={"ui": UiConfig(**ui)})


@pytest.fixture
def serve(sqlite_backend):
    def start(**ui):
        app = create_app(ui_config(**ui), sqlite_backend, users=USERS, now=lambda: NOW)
        return app, running(app)
    return start


def open_page(browser, app, url: str, user: str, path: str, locale: str, **options):
    """A browser whose language is ``locale`` (its Accept-Language), logged in as ``user``."""
    web = app.state.web
    session = web.sessions.create(user, web.users.get(user).role)
    context = browser.new_context(base_url=url, locale=locale, **options)
    context.add_cookies([{"name": web.session_cookie, "value": session.token, "domain": "127.0.0.1", "path": "/", "secure": True, "httpOnly": True}])
    page = context.new_page()
    page.goto(path)
    return page


# -- which language ------------------------------------------------------------------------


def test_a_browser_asking_for_a_language_the_app_lacks_gets_spanish(browser, serve):
    app, server = serve()
    with server as url:
        page = open_page(browser, app, url, "ana", "/inbox", "fr-FR")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Bandeja")
        expect(page.get_by_role("heading", level=1)).to_contain_text("11 publicaciones")
        expect(page.get_by_label("Marca o competidor")).to_be_visible()
        first = page.locator(".rows .row").first
        expect(first.locator(".sla")).to_have_text("30m de retraso")
        expect(first.locator("time")).to_have_text("hace 1h")
        expect(first.locator(".why")).to_have_text("Por qué: pregunta")
        expect(first.get_by_role("button", name="Me la quedo")).to_be_visible()


def test_ui_language_es_wins_over_an_english_browser(browser, serve):
    app, server = serve(language="es")
    with server as url:
        page = open_page(browser, app, url, "ana", "/inbox", "en-GB")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_role("navigation", name="Principal").get_by_role("link", name="Buscar")).to_be_visible()
        page.get_by_label("Intención").select_option(label="queja")
        page.get_by_role("button", name="Filtrar").click()
        expect(page).to_have_url(re.compile(r"intent=complaint"))
        expect(page.locator(".rows .row").first.locator(".tags .intent")).to_contain_text(["queja"])


def test_a_catalan_browser_gets_catalan_and_the_copy_button_says_it_in_catalan(browser, serve):
    app, server = serve()
    with server as url:
        page = open_page(browser, app, url, "ana", "/posts/twitter:1", "ca-ES", permissions=["clipboard-read", "clipboard-write"])
        expect(page.locator("html")).to_have_attribute("lang", "ca")
        expect(page.get_by_role("heading", name="L'anàlisi l'encerta?")).to_be_visible()
        expect(page.locator("#reply-reading")).to_contain_text("Proposta a partir de la plantilla «pregunta» (es)")
        copy = page.locator("button[data-copy]")
        expect(copy).to_contain_text("Copia")
        expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
        copy.click()
        expect(copy).to_have_text("Copiat")  # the text static/app.js shows, from the page's catalog


def test_ui_language_en_gives_english_to_a_catalan_browser(browser, serve):
    app, server = serve(language="en")
    with server as url:
        page = open_page(browser, app, url, "ana", "/inbox", "ca-ES")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Inbox 11 posts")
        expect(page.locator(".rows .row").first.locator(".sla")).to_have_text("late 30m")


@pytest.mark.parametrize(("header", "language"), [
    (None, "es"), ("", "es"), ("ca", "ca"), ("ca-ES,ca;q=0.9,es;q=0.8", "ca"), ("en-US,en;q=0.9", "en"),
    ("fr-FR,fr;q=0.9,en;q=0.5,ca;q=0.7", "ca"), ("de, en;q=0", "es"), ("EN-gb", "en"), ("es;q=bad, ca", "ca"),
])
def test_accept_language_picks_the_best_offered_language(header, language):
    assert negotiate(header) == language
    assert negotiate(header, configured="en") == "en"


def test_the_language_follows_the_browser_only_when_not_configured(sqlite_backend):
    for ui, header, said, vary in (({}, "ca", "Safata", True), ({"language": "es"}, "ca", "Bandeja", False)):
        client = log_in(create_app(ui_config(**ui), sqlite_backend, users=USERS, now=lambda: NOW), "ana")
        response = client.get("/inbox", headers={"accept-language": header})
        assert f"<title>{said} · Cinesa</title>" in response.text
        assert ("accept-language" in response.headers.get("vary", "").lower()) is vary  # caches keep one copy per language


def test_flash_messages_and_refusals_are_in_the_page_language(sqlite_backend):
    client = log_in(create_app(ui_config(language="es"), sqlite_backend, users=USERS, now=lambda: NOW), "ana")
    page = client.post("/posts/twitter:1/claim", data={"csrf_token": client.headers["X-CSRF-Token"], "version": "0"})
    assert "Te has quedado esta publicación." in page.text
    stale = client.post("/posts/twitter:1/note", data={"csrf_token": client.headers["X-CSRF-Token"], "version": "1", "text": "  "})
    assert stale.status_code == 400 and "No se ha guardado: la nota está vacía." in stale.text
    missing = client.get("/posts/twitter:404")
    assert missing.status_code == 404 and "No hay ninguna publicación con el id &#39;twitter:404&#39;." in missing.text


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "shown"), [(None, "20/11/2026 10:30"), ("Atlantic/Canary", "20/11/2026 09:30")])
def test_a_post_shows_its_time_day_first_in_the_ui_time_zone(browser, serve, zone, shown):
    app, server = serve(**({"timezone": zone} if zone else {}))  # twitter:1 was posted at 09:30 UTC
    with server as url:
        page = open_page(browser, app, url, "ana", "/posts/twitter:1", "es-ES")
        expect(page.locator("article .meta time")).to_have_text(f"{shown} · hace 1h")
        page.get_by_label("Volver a revisar el").fill("23/11/2026")
        page.get_by_role("button", name="Guardar", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("Fecha de seguimiento guardada.")
        expect(page.get_by_label("Volver a revisar el")).to_have_value("23/11/2026")


def test_date_filters_are_typed_and_shown_day_first_and_a_wrong_one_says_why(browser, serve):
    app, server = serve()
    with server as url:
        page = open_page(browser, app, url, "ana", "/inbox", "es-ES")
        since = page.get_by_label("Desde")
        expect(since).to_have_attribute("placeholder", "dd/mm/aaaa")
        since.fill("21/11/2026")
        page.get_by_role("button", name="Filtrar").click()
        expect(page.locator(".empty")).to_have_text("Nada que responder con estos filtros.")
        expect(page.get_by_label("Desde")).to_have_value("21/11/2026")
        page.get_by_label("Desde").fill("20/11/2026")
        page.get_by_role("button", name="Filtrar").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("publicaciones")
        expect(page.locator(".rows .row").first).to_contain_text("Cinesa abre el lunes")
        page.get_by_label("Desde").fill("31/02/2026")
        page.get_by_role("button", name="Filtrar").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("«desde» debe ser una fecha como 20/11/2026, no '31/02/2026'")


# -- exports -------------------------------------------------------------------------------


@pytest.fixture
def hostile(sqlite_backend):
    sqlite_backend.upsert([item(901, "Cinesa;=1+1", 1)])
    return sqlite_backend


def export(backend, path: str, accept_language: str | None = None, **ui) -> bytes:
    client = log_in(create_app(ui_config(**ui), backend, users=USERS, now=lambda: NOW), "marta")
    response = client.get(path, headers={"accept-language": accept_language} if accept_language else {})
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize("ui", [{}, {"language": "ca"}])
def test_in_spanish_and_catalan_an_export_opens_in_excel_as_utf8_split_on_semicolons(hostile, ui):
    raw = export(hostile, "/api/export/posts.csv", **ui)
    assert raw.startswith(b"\xef\xbb\xbfid;created_at;source;")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert {row["id"]: row["text"] for row in rows}["twitter:901"] == "Cinesa;'=1+1"  # still no formula
    assert {row["id"]: row["author"] for row in rows}["twitter:901"] == "user901"


def test_in_spanish_figures_have_a_decimal_comma(sqlite_backend):
    raw = export(sqlite_backend, "/api/export/share-of-voice.csv?since=2026-11-20&until=2026-11-20&interval=hour").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw), delimiter=";"))
    shares = [row["share_of_voice"] for row in rows]
    assert all(re.fullmatch(r"\d+(,\d+)?", share) for share in shares) and any("," in share for share in shares)


def test_in_english_an_export_keeps_commas_and_no_byte_order_mark(hostile):
    raw = export(hostile, "/api/export/posts.csv", accept_language="ca", language="en")
    assert raw.startswith(b"id,created_at,source,")
    shares = [row["share_of_voice"] for row in csv.DictReader(io.StringIO(export(hostile, "/api/export/gaps.csv", language="en").decode()))]
    assert any("." in share for share in shares) and not any("," in share for share in shares)


def test_a_delimiter_asked_for_wins_over_the_language(hostile):
    raw = export(hostile, "/api/export/gaps.csv?delimiter=,", language="es")
    assert raw.startswith(b"\xef\xbb\xbfentity,role,posts,share_of_voice,")
    shares = [row["share_of_voice"] for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))]
    assert any("." in share for share in shares)  # with `,` between fields, the decimal mark stays a point


def test_the_gaps_page_links_exports_with_the_days_it_shows(sqlite_backend):
    client = log_in(create_app(ui_config(language="ca"), sqlite_backend, users=USERS, now=lambda: NOW), "marta")
    page = client.get("/gaps", params={"since": "19/11/2026", "until": "20/11/2026"}).text
    assert 'value="19/11/2026"' in page
    link = re.search(r'href="(/api/export/gaps\.csv\?[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "since=2026-11-19" in link and client.get(link).status_code == 200


# -- the catalogs --------------------------------------------------------------------------


def catalog(language: str):
    with open(LOCALE / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def test_every_string_in_the_code_is_in_the_catalogs_and_translated():
    method_map = [("listener/web/**.py", "python"), ("listener/web/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    options = {"listener/web/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
    found = {message[2] if isinstance(message[2], str) else message[2][0]
             for message in extract_from_dir(str(ROOT), method_map, options_map=options, keywords=keywords)}
    for language in set(LANGUAGES) - {"en"}:
        messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog(language) if m.id}
        assert found - set(messages) == set(), f"{language}: run the extraction in listener/web/README.md"
        untranslated = [m.id for m in messages.values() if m.id in found and (not m.string or "fuzzy" in m.flags or not all(m.string))]
        assert untranslated == []
        assert list(catalog(language).check()) == []  # the same placeholders as the English


def test_the_pages_wording_of_replies_and_reasons_is_the_terminals():
    assert views.ANSWER_TEXTS == present.ANSWER_LABELS and views.UNKNOWN_TEXTS == present.UNKNOWN_LABELS
    spanish = {m.id: m.string for m in catalog("es") if m.id}
    for _, reason in INTENT_POINTS.values():
        assert any(pattern.match(reason) for pattern, _ in views.REASONS) and reason in spanish
    assert "Copied" in JS_MESSAGES


def test_reasons_with_names_keep_the_names(sqlite_backend):
    sqlite_backend.upsert([item(950, "Cinesa y Yelmo", 1, reasons=["mentions Yelmo Cines (competitor)", "is not yet a customer of Cinesa"])])
    client = log_in(create_app(ui_config(language="es"), sqlite_backend, users=USERS, now=lambda: NOW), "ana")
    assert "Por qué aparece: menciona a Yelmo Cines (competencia); aún no es cliente de Cinesa" in client.get("/posts/twitter:950").text


def test_outside_a_request_text_stays_english(sqlite_backend):
    log_in(create_app(ui_config(language="es"), sqlite_backend, users=USERS, now=lambda: NOW), "ana").get("/inbox")
    assert views.term("complaint") == "complaint" and views.percent(0.75) == "75%"
