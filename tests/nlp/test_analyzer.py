import pytest

from listener.records import CUSTOMER_STATUSES, HOWS, INTENTS, ROLES, Analysis, Post
from nlp.analyzer import MAX_CHARS, analysed_text
from tests.factories import post
from tests.nlp.factories_nlp import analyze


def assert_valid(analysis: Analysis) -> None:
    assert analysis.language in ("es", "ca", "en", "pt", "other")
    assert all(m.role in ROLES and m.how in HOWS and 0 <= m.score <= 100 for m in analysis.mentions)
    assert set(analysis.intents) <= set(INTENTS)
    assert analysis.customer_status in CUSTOMER_STATUSES
    assert 0 <= analysis.lead_score <= 100
    assert analysis.reasons
    assert analysis.greeting


def test_every_field_is_filled(cinema):
    analysis = analyze(cinema, "¿Alguien sabe si Cinesa abre el día 25?", author_name="Marta López")
    assert analysis == Analysis(
        language="es",
        mentions=analysis.mentions,
        sector=True,
        intents=("question",),
        customer_status="prospect",
        lead_score=analysis.lead_score,
        reasons=analysis.reasons,
        surface=True,
        greeting="Hola Marta",
    )
    assert [(m.entity, m.role, m.how) for m in analysis.mentions] == [("Cinesa", "brand", "name")]
    assert analysis.lead_score >= 50


def test_analyze_many_keeps_input_order_across_languages(cinema):
    posts = [post("Yelmo Cines mola molt, gràcies"), post("I love Kinépolis"), post("Cinesa es genial, gracias"), post("😀")]
    analyses = list(cinema.analyze_many(posts, batch_size=3))
    assert [a.language for a in analyses] == ["ca", "en", "es", "other"]
    assert [a.entities for a in analyses] == [("Yelmo Cines",), ("Kinépolis",), ("Cinesa",), ()]


def test_analyze_many_gives_the_same_as_analyze(cinema):
    posts = [post(t) for t in ("Cinesa no funciona", "Qué cine me recomendáis?", "hola")]
    assert list(cinema.analyze_many(posts)) == [cinema.analyze(p) for p in posts]


def test_labelled_language_of_the_post_is_not_trusted(cinema):
    assert analyze(cinema, "Does anyone know if Cinesa opens today?", lang="es").language == "en"


@pytest.mark.parametrize("text", ["", " ", "😀🎬🍿", "?!¿¡", "\u200b\u200b", "日本語のテキストと Cinesa と кино", "a" * 50])
def test_odd_text_is_analysed_without_error(cinema, text):
    assert_valid(analyze(cinema, text))


def test_lone_surrogate_is_read_as_a_replacement_character(cinema):
    analysis = analyze(cinema, "\ud83d Cinesa no funciona")
    assert_valid(analysis)
    assert [(m.entity, m.start) for m in analysis.mentions] == [("Cinesa", 2)]
    assert "complaint" in analysis.intents


def test_hundred_kilobyte_post_is_analysed(cinema):
    text = ("Cinesa no funciona. " * 5000)[:100_000]
    analysis = analyze(cinema, text)
    assert_valid(analysis)
    assert "complaint" in analysis.intents


def test_longer_post_is_cut_at_the_limit():
    assert len(analysed_text(post("x" * (MAX_CHARS + 10)))) == MAX_CHARS


def test_title_is_read_with_the_text(cinema):
    analysis = cinema.analyze(post("Para ver Dune en VOSE", title="¿Qué cine me recomendáis?"))
    assert "recommendation_request" in analysis.intents


def test_mention_offsets_point_into_the_analysed_text(cinema):
    item = post("Fui al Kinépolis", title="Pregunta")
    mention = cinema.analyze(item).mentions[0]
    assert analysed_text(item)[mention.start:mention.end] == "Kinépolis"


def test_post_without_author_is_analysed(cinema):
    analysis = cinema.analyze(Post(id="t:1", source="t", url="", author=None, text="Cinesa mola", created_at=post().created_at))
    assert analysis.greeting == "Hola"
