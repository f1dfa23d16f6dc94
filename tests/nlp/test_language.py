import pytest

from nlp.language import FOREIGN, LanguageClues, LanguageDetector


@pytest.fixture(scope="module")
def detect():
    return LanguageDetector().detect


@pytest.mark.parametrize("text", [
    "Algú sap si obre avui?",
    "Estic fart del banc",
    "Tinc un problema amb la targeta",
    "On és la parada?",
    "Molt bona peli!",
    "Vull canviar de companyia",
])
def test_short_catalan_is_not_spanish(detect, text):
    assert detect(text) == "ca"


@pytest.mark.parametrize("text", ["¿Alguien sabe si abre hoy?", "Estoy harto del banco", "Muy buena peli!"])
def test_short_spanish_is_spanish(detect, text):
    assert detect(text) == "es"


def test_english(detect):
    assert detect("Does anyone know if it opens today?") == "en"


def test_portuguese(detect):
    assert detect("Alguém sabe se o banco abre hoje?") == "pt"


def test_french_is_other(detect):
    assert detect("Est-ce que quelqu'un sait si le cinéma est ouvert aujourd'hui ?") == "other"


def test_handles_and_links_do_not_decide_the_language(detect):
    assert detect("@thebestcinema_official https://example.org/watch Molt bona peli!") == "ca"


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "!!!", "12345"])
def test_text_without_words_is_other(detect, text):
    assert detect(text) == "other"


def test_language_outside_the_configured_ones_is_other():
    assert LanguageDetector(("es",)).detect("Does anyone know if it opens today?") == "other"


@pytest.mark.parametrize("text", [
    "Moitas grazas a todos polo apoio, estamos moi contentos coa xente",   # Galician
    "Gaur goizean hondartzara joan gara eta oso ondo pasatu dugu",         # Basque
])
def test_galician_and_basque_are_not_read_as_their_neighbours(detect, text):
    assert detect(text) == "other"


@pytest.mark.parametrize("text", ["Avui plou molt a Barcelona", "Bon dia! Quina calor que fa", "No puc més amb aquest tren"])
def test_one_line_catalan_tweets_are_catalan(detect, text):
    assert detect(text) == "ca"


def test_a_batch_is_read_as_each_post_alone():
    detector = LanguageDetector()
    texts = ["¿Alguien sabe si abre hoy?", "Avui plou molt a Barcelona", "@someone", "Alguém sabe se abre hoje?"]
    assert detector.detect_many(texts) == [detector.detect(text) for text in texts] == ["es", "ca", "other", "pt"]


def test_a_batch_is_ranked_as_the_identifier_ranks_each_text():
    clues = LanguageClues()
    ranks = clues.ranks
    texts = ["¿Alguien sabe si abre hoy?", "Avui plou molt a Barcelona", "Est-ce que le cinéma est ouvert ?",
             "GRACIAS POR LA PREESTRENO DE ANOCHE", "", "😀", "Alguém sabe se abre hoje?", "Does anyone know?"]
    texts += [" ".join(texts[:4]) * (i % 5 + 1) for i in range(40)]  # longer ones, walked to their end in Python
    expected = []
    for text in texts:
        first, second, probability = ranks.rank(text)
        expected.append((first, second, probability if first in FOREIGN else None))
    found = ranks.rank_many(texts)
    assert [(f, s) for f, s, _ in found] == [(f, s) for f, s, _ in expected]
    assert all(p == q for (*_, p), (*_, q) in zip(found, expected) if p is not None)
