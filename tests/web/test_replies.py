"""Reply drafts follow the post's reading, in each sector's wording and the post's language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner

from listener.config import parse_config
from listener.errors import ConfigError
from listener.index.sqlite import SQLiteBackend
from listener.records import Analysis, IndexedPost, Mention, Post
from listener.web import create_app, running
from listener.cli import main
from listener.web.settings import web_settings
from tests.factories import T0
from tests.web.corpus import NOW
from tests.web.helpers import USERS, log_in
from tests.web.test_browser import Site, expect, logged_in

SECTORS = {  # sector: (brand, competitor, words the sector's drafts use in es, ca, en)
    "bank": ("Banco Sabadell", "BBVA", ("tarjeta", "targeta", "card")),
    "telecom": ("Digi", "Movistar", ("línea", "línia", "line")),
    "airline": ("Vueling", "Ryanair", ("reserva", "reserva", "booking")),
    "cinema": ("Cinesa", "Yelmo Cines", ("sesión", "sessió", "screening")),
}
LANGUAGES = ("es", "ca", "en")
APOLOGY = {"es": r"sentimos|lamentamos|disculp", "ca": r"sentim|lamentem|disculp", "en": r"sorry|apolog"}
PRIVATE = {"es": "mensaje privado", "ca": "missatge privat", "en": "direct message"}
THANKS = {"es": "gracias", "ca": "gràcies", "en": "thank"}
RECOMMEND = {"es": "te recomendamos", "ca": "et recomanem", "en": "recommend"}
GREETING = {"es": "Hola Laura", "ca": "Hola Laura", "en": "Hi Laura"}
# One post per reading: (intents, customer status, roles of the companies named, in order).
POSTS = {
    "our_complaint": (("complaint",), "customer", ("brand",)),
    "rival_complaint": (("complaint",), "prospect", ("competitor",)),
    "rival_churn": (("churn",), "prospect", ("competitor",)),
    "our_churn": (("churn",), "customer", ("brand", "competitor")),
    "welcome": (("churn",), "customer", ("competitor", "brand")),
    "recommendation": (("recommendation_request",), "prospect", ("brand", "competitor")),
    "question": (("question",), "unknown", ("brand",)),
    "praise": (("praise",), "customer", ("brand",)),
}


def config_text(sector: str, web: str = "") -> str:
    brand, competitor, _ = SECTORS[sector]
    return f"brand: {{name: {brand}}}\ncompetitors: [{{name: {competitor}}}]\nweb: {{reply_templates: {sector}{web}}}\nui: {{language: en}}\n"


def post(case: str, language: str, sector: str, **changes) -> IndexedPost:
    brand, competitor, _ = SECTORS[sector]
    intents, status, roles = POSTS[case]
    names = {"brand": brand, "competitor": competitor}
    mentions, text = [], ""
    for role in roles:
        mentions.append(Mention(names[role], role, names[role], len(text), len(text) + len(names[role]), "name"))
        text += names[role] + " … "
    values = dict(id=f"twitter:{case}-{language}", source="twitter", url=f"https://x.com/laura/status/{case}", author="@laura",
                  author_name="Laura", text=text, created_at=T0 + timedelta(minutes=30))
    analysis = Analysis(language=language, mentions=tuple(mentions), sector=True, intents=intents, customer_status=status,
                        lead_score=80, reasons=("test",), surface=True, greeting=changes.pop("greeting", GREETING[language]))
    values.update(changes)
    return IndexedPost(post=Post(**values), analysis=analysis, answer_state="unanswered")


@pytest.fixture(scope="module")
def drafts(tmp_path_factory):
    """Every post's draft through the API, by (sector, case, language)."""
    found = {}
    for sector in SECTORS:
        backend = SQLiteBackend(tmp_path_factory.mktemp(sector) / "index.db")
        backend.ensure_schema()
        backend.upsert([post(case, language, sector) for case in POSTS for language in LANGUAGES])
        app = create_app(parse_config(config_text(sector, ", secure_cookies: true"), "brand.yaml"), backend, users=USERS, now=lambda: NOW)
        client = log_in(app, "ana")
        for case in POSTS:
            for language in LANGUAGES:
                found[sector, case, language] = client.get(f"/api/posts/twitter:{case}-{language}/reply").json()
        backend.close()
    return found


each = pytest.mark.parametrize("sector, language", [(s, lang) for s in SECTORS for lang in LANGUAGES])


@each
def test_our_customer_complaining_gets_an_apology_and_a_private_channel(drafts, sector, language):
    reply = drafts[sector, "our_complaint", language]
    assert reply["reading"] == "our_complaint"
    assert reply["text"].startswith(GREETING[language] + ", ")
    assert re.search(APOLOGY[language], reply["text"], re.I) and PRIVATE[language] in reply["text"]


@each
@pytest.mark.parametrize("case", ["rival_complaint", "rival_churn"])
def test_a_competitors_unhappy_customer_gets_an_offer_and_no_apology(drafts, sector, language, case):
    brand, competitor, _ = SECTORS[sector]
    reply = drafts[sector, case, language]
    assert reply["reading"] == "rival_unhappy" and reply["intent"] == case.removeprefix("rival_")
    assert not re.search(APOLOGY[language], reply["text"], re.I)
    assert brand in reply["text"] and competitor not in reply["text"]


@each
def test_our_customer_leaving_is_asked_why_in_private(drafts, sector, language):
    reply = drafts[sector, "our_churn", language]
    assert reply["reading"] == "our_churn"
    assert re.search(APOLOGY[language], reply["text"], re.I) and PRIVATE[language] in reply["text"]


@each
def test_someone_switching_to_us_is_welcomed_not_apologised_to(drafts, sector, language):
    reply = drafts[sector, "welcome", language]
    assert reply["reading"] == "welcome" and SECTORS[sector][0] in reply["text"]
    assert not re.search(APOLOGY[language], reply["text"], re.I)


@each
def test_a_prospect_choosing_gets_the_choice_answered_without_an_apology(drafts, sector, language):
    reply = drafts[sector, "recommendation", language]
    assert reply["reading"] == "recommendation"
    assert f"{RECOMMEND[language]}" in reply["text"].lower() and SECTORS[sector][0] in reply["text"]
    assert not re.search(APOLOGY[language], reply["text"], re.I)


@each
def test_a_question_is_answered_with_what_is_needed_to_answer_it(drafts, sector, language):
    reply = drafts[sector, "question", language]
    assert reply["reading"] == "question" and "?" in reply["text"]
    assert not re.search(APOLOGY[language], reply["text"], re.I)


@each
def test_praise_gets_thanks(drafts, sector, language):
    reply = drafts[sector, "praise", language]
    assert reply["reading"] == "praise" and THANKS[language] in reply["text"].lower()


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_sector_words_its_drafts_its_own_way(drafts, language):
    index = LANGUAGES.index(language)
    for sector, (_, _, words) in SECTORS.items():
        assert words[index] in drafts[sector, "our_complaint", language]["text"] + drafts[sector, "question", language]["text"]
    for case in POSTS:
        texts = [drafts[sector, case, language]["text"] for sector in SECTORS]
        assert len(set(texts)) == len(texts), f"{case}/{language}: two sectors share a draft"


def test_the_draft_greets_safely_and_never_by_the_display_name(tmp_path):
    backend = SQLiteBackend(tmp_path / "index.db")
    backend.ensure_schema()
    backend.upsert([post("our_complaint", "es", "bank", greeting="Hola", author_name="Puta Madre", author="@putamadre")])
    app = create_app(parse_config(config_text("bank"), "brand.yaml"), backend, users=USERS, now=lambda: NOW)
    text = log_in(app, "ana").get("/api/posts/twitter:our_complaint-es/reply").json()["text"]
    assert text.startswith("Hola, sentimos") and "Puta" not in text and "putamadre" not in text
    backend.close()


@pytest.fixture
def bank_site(tmp_path):
    backend = SQLiteBackend(tmp_path / "index.db")
    backend.ensure_schema()
    backend.upsert([post("rival_complaint", "es", "bank"), post("our_complaint", "ca", "bank")])
    app = create_app(parse_config(config_text("bank"), "brand.yaml"), backend, users=USERS, now=lambda: NOW)
    with running(app) as url:
        yield Site(url, app, "sqlite")
    backend.close()


def test_the_post_page_shows_the_draft_for_the_reading(browser, bank_site):
    page = logged_in(browser, bank_site, "ana", "/posts/twitter:rival_complaint-es")
    expect(page.locator("#reply-reading")).to_contain_text("A competitor's customer is unhappy")
    expect(page.locator("#reply")).to_have_value(re.compile(r"^Hola Laura, si estás pensando en cambiar de banco, en Banco Sabadell"))
    page.goto("/posts/twitter:our_complaint-ca")
    expect(page.locator("#reply-reading")).to_contain_text("Our customer complains")
    expect(page.locator("#reply")).to_have_value(re.compile(r"^Hola Laura, sentim molt les molèsties\. Escriu-nos per missatge privat"))


def test_an_unknown_placeholder_in_a_template_file_names_the_file_line_template_and_placeholder(tmp_path):
    (tmp_path / "replies.yaml").write_text("# ours\nour_complaint:\n  es: '{greeting}, lo sentimos, {nombre}.'\n")
    (tmp_path / "brand.yaml").write_text("brand: {name: Banco Sabadell}\nweb: {reply_templates: replies.yaml}\n")
    config = parse_config((tmp_path / "brand.yaml").read_text(), str(tmp_path / "brand.yaml"))
    with pytest.raises(ConfigError, match=re.escape(f"{tmp_path / 'replies.yaml'}, line 3: template our_complaint/es uses an "
                                                    "unknown placeholder {nombre} (placeholders: {greeting}, {brand})")):
        web_settings(config)


def test_listener_serve_refuses_a_bad_template_in_one_sentence(tmp_path):
    (tmp_path / "replies.yaml").write_text("praise:\n  es: 'Gracias {autor}'\n")
    (tmp_path / "brand.yaml").write_text(f"brand: {{name: Cinesa}}\ndata_dir: {tmp_path / 'data'}\nweb: {{reply_templates: replies.yaml}}\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(tmp_path / "brand.yaml")])
    assert result.exit_code != 0
    assert "line 2: template praise/es uses an unknown placeholder {autor}" in result.output
    assert "Traceback" not in result.output


def test_a_template_file_of_ones_own_is_read_relative_to_the_configuration(tmp_path):
    (tmp_path / "replies.yaml").write_text("praise:\n  es: '{greeting}, ¡gracias de parte de {brand}!'\n")
    (tmp_path / "brand.yaml").write_text("brand: {name: Cinesa}\nweb: {reply_templates: replies.yaml}\n")
    config = parse_config((tmp_path / "brand.yaml").read_text(), str(tmp_path / "brand.yaml"))
    backend = SQLiteBackend(tmp_path / "index.db")
    backend.ensure_schema()
    backend.upsert([post("praise", "es", "cinema")])
    app = create_app(config, backend, users=USERS, now=lambda: NOW)
    assert log_in(app, "ana").get("/api/posts/twitter:praise-es/reply").json()["text"] == "Hola Laura, ¡gracias de parte de Cinesa!"
    backend.close()


def test_a_missing_template_file_says_which_and_offers_the_built_in_sets(tmp_path):
    config = parse_config("web: {reply_templates: banks}", str(tmp_path / "brand.yaml"))
    with pytest.raises(ConfigError, match=r"web.reply_templates: cannot read .*banks .*built-in sets: bank, telecom, airline, cinema"):
        web_settings(config)


ANSWERS = """, answers: [{when: [descuento, estudiante, student], es: '{greeting}, sí: con el carné de estudiante tienes un 20 % de
  descuento en {brand} de lunes a jueves.', en: '{greeting}, yes: students get 20% off at {brand}, Monday to Thursday.'}]"""


@pytest.fixture
def answering(tmp_path):
    backend = SQLiteBackend(tmp_path / "index.db")
    backend.ensure_schema()
    backend.upsert([
        post("question", "es", "cinema", id="twitter:student-es", text="¿Cinesa tiene DESCUENTOS para estudiantes?"),
        post("question", "es", "cinema", id="twitter:student-es-accent", text="¿Hay descuénto para estudiántes en Cinesa?"),
        post("question", "ca", "cinema", id="twitter:student-ca", text="Cinesa fa descompte a estudiants?"),
        post("question", "es", "cinema", id="twitter:hours-es", text="¿A qué hora abre Cinesa Diagonal?"),
        post("our_complaint", "es", "cinema", id="twitter:complaint-es", text="Cinesa no me hizo el descuento de estudiante"),
    ])
    app = create_app(parse_config(config_text("cinema", ANSWERS), "brand.yaml"), backend, users=USERS, now=lambda: NOW)
    yield log_in(app, "ana")
    backend.close()


def test_a_question_the_team_has_an_answer_for_gets_the_answer(answering):
    reply = answering.get("/api/posts/twitter:student-es/reply").json()
    assert reply["reading"] == "answer" and reply["intent"] == "question"
    assert reply["text"] == "Hola Laura, sí: con el carné de estudiante tienes un 20 % de descuento en Cinesa de lunes a jueves."


def test_an_answer_is_matched_by_the_start_of_a_word_in_any_case_or_accent(answering):
    assert answering.get("/api/posts/twitter:student-es/reply").json()["reading"] == "answer"  # DESCUENTOS
    assert answering.get("/api/posts/twitter:student-es-accent/reply").json()["reading"] == "answer"
    assert answering.get("/api/posts/twitter:hours-es/reply").json()["reading"] == "question"  # "abre" is not "descuento"


def test_without_an_answer_in_its_language_or_its_words_a_question_asks_for_what_is_needed(answering):
    for post_id in ("twitter:student-ca", "twitter:hours-es"):
        assert answering.get(f"/api/posts/{post_id}/reply").json()["reading"] == "question"


def test_a_complaint_is_never_answered_with_a_frequent_answer(answering):
    assert answering.get("/api/posts/twitter:complaint-es/reply").json()["reading"] == "our_complaint"


@pytest.mark.parametrize("answers, message", [
    ("[{when: [precio], es: 'Cuesta {precio}'}]", "brand.yaml: web.answers[0].es uses an unknown placeholder {precio}"),
    ("[{when: [], es: hola}]", "brand.yaml: web.answers[0].when: expected a list of words or phrases"),
    ("[{when: [precio], fr: salut}]", "brand.yaml: web.answers[0]: unknown key 'fr' (valid: when, es, ca, en, pt, other)"),
    ("[{when: [precio]}]", "brand.yaml: web.answers[0]: no answer text"),
])
def test_a_bad_answer_is_named_by_its_place_and_problem(answers, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        web_settings(parse_config(f"web: {{answers: {answers}}}", "brand.yaml"))
