import pytest

from tests.nlp.conftest import blank, run


@pytest.fixture(scope="module")
def greeters():
    return {lang: blank(lang, ("listener_greeting", {})) for lang in ("es", "ca", "en", "pt", "xx")}


def greeting(greeters, name, handle="someone", lang="es"):
    return run(greeters[lang], "hola", author=handle, author_name=name)._.listener_greeting


def test_safe_name_is_greeted_by_first_name(greeters):
    assert greeting(greeters, "Marta López") == "Hola Marta"


def test_name_in_capitals_is_greeted_in_title_case(greeters):
    assert greeting(greeters, "MARTA") == "Hola Marta"


def test_offensive_display_name_gets_a_neutral_greeting(greeters):
    assert greeting(greeters, "Puta desagradecida") == "Hola"


def test_leetspeak_insult_gets_a_neutral_greeting(greeters):
    assert greeting(greeters, "ElCabr0n") == "Hola"


def test_spaced_out_insult_gets_a_neutral_greeting(greeters):
    assert greeting(greeters, "P u t a") == "Hola"


def test_accented_insult_gets_a_neutral_greeting(greeters):
    assert greeting(greeters, "Cabrón Mayor") == "Hola"


def test_offensive_handle_gets_a_neutral_greeting_even_with_a_clean_name(greeters):
    assert greeting(greeters, "Pedro", handle="H1jodeput4") == "Hola"


def test_insult_in_another_language_is_caught(greeters):
    assert greeting(greeters, "Fuck Off", lang="es") == "Hola"


def test_name_that_is_not_a_person_gets_a_neutral_greeting(greeters):
    assert greeting(greeters, "Cines Oficial") == "Hola"


def test_no_name_gets_a_neutral_greeting(greeters):
    assert greeting(greeters, None) == "Hola"


def test_emoji_name_gets_a_neutral_greeting(greeters):
    assert greeting(greeters, "🌸🌸") == "Hola"


@pytest.mark.parametrize("lang, expected", [("ca", "Hola Núria"), ("en", "Hi Núria"), ("pt", "Olá Núria"), ("xx", "Hi Núria")])
def test_greeting_is_in_the_post_language(greeters, lang, expected):
    assert greeting(greeters, "Núria", lang=lang) == expected
