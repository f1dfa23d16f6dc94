import pytest

from nlp.lexicons import LANGUAGES, Lexicon, LexiconError, _read_yaml, offensive_words


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_a_greeting_and_intent_phrases(language):
    lexicon = Lexicon.load(language)
    assert lexicon.greeting
    for section in ("question", "recommendation", "complaint", "churn", "praise", "customer"):
        assert lexicon[section], f"{language}: {section} is empty"


def test_other_languages_fall_back_to_english():
    assert Lexicon.load("other").greeting == Lexicon.load("en").greeting


def test_unknown_language_error_lists_the_available_ones():
    with pytest.raises(LexiconError, match="es, ca, en, pt"):
        Lexicon.load("fr")


def test_no_in_a_word_list_stays_the_word_no():
    assert "no" in Lexicon.load("es").words["negation"]


def test_unknown_section_error_names_the_section_and_the_valid_ones(tmp_path):
    path = tmp_path / "patterns.yaml"
    path.write_text("complains: [mal]\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="complains.*valid sections: greeting"):
        _read_yaml(path)


def test_negated_phrase_is_not_found():
    assert Lexicon.load("es").find("complaint", "no tengo ninguna queja") == []


def test_a_comma_ends_what_a_negation_cancels():
    lexicon = Lexicon.load("es")
    assert (6, 13) not in lexicon.find("complaint", "no es un robo")  # "un robo", cancelled
    assert (7, 14) in lexicon.find("complaint", "no, es un robo")


def test_offensive_words_cover_every_language():
    words = set(offensive_words())
    assert {"gilipollas", "collons", "fuck", "caralho"} <= words


def test_readme_documents_every_section_and_no_other():
    from nlp.lexicons import DATA, PHRASE_SECTIONS, WORD_SECTIONS

    text = (DATA / "README.md").read_text(encoding="utf-8")
    table = text.split("## Sections of `patterns.yaml`", 1)[1].split("\n## ", 1)[0]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert documented == {"greeting", *PHRASE_SECTIONS, *WORD_SECTIONS}


def test_homonyms_give_a_name_the_words_of_its_football_club():
    from nlp.lexicons import homonyms

    words = homonyms().other_context["sabadell"]
    assert {"gol", "partido", "nova creu alta"} <= set(words)
