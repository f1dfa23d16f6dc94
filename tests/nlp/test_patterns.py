from nlp.patterns import PhraseSet
from nlp.text import fold


def found(phrases: list[str], text: str) -> list[str]:
    return [m.group() for m in PhraseSet(phrases).finditer(fold(text))]


def test_phrase_ignores_case_and_accents():
    assert found(["qué tal"], "QUE TAL el cine") == ["que tal"]


def test_phrase_matches_whole_words_only():
    assert found(["digi"], "la digitalización") == []


def test_star_suffix_matches_any_ending():
    assert found(["recomend*"], "¿Qué me recomendáis?") == ["recomendais"]


def test_lone_star_matches_one_word():
    assert found(["llevo * años"], "llevo cinco años") == ["llevo cinco anos"]


def test_ellipsis_matches_up_to_three_words():
    assert found(["gracias ... por"], "gracias a todo el equipo por") == []
    assert found(["gracias ... por"], "gracias a la gestora por") == ["gracias a la gestora por"]


def test_number_marker_matches_digits_and_number_words():
    assert found(["llevo <n> días"], "llevo 3 días y llevo tres días") == ["llevo 3 dias", "llevo tres dias"]


def test_emoji_phrase_matches_literally():
    assert found(["🙄"], "genial 🙄") == ["🙄"]


def test_empty_set_never_matches():
    assert not PhraseSet([])
    assert PhraseSet([]).search("anything") is None
