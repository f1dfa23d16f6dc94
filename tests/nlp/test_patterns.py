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


def test_spans_are_offsets_into_the_folded_text():
    folded = fold("¿Alguien sabe? (no funciona) y no contestan")
    spans = PhraseSet(["alguien sabe", "no funciona", "no contesta*"]).spans(folded)
    assert [folded[s:e] for s, e in spans] == ["alguien sabe", "no funciona", "no contestan"]


def test_spans_skip_handles_and_hashtags():
    assert PhraseSet(["cinesa"]).spans(fold("@cinesa #cinesa cinesa")) == [(16, 22)]


def test_spans_find_phrases_starting_with_a_symbol():
    assert PhraseSet(["🙄", "10/10"]).spans("genial 🙄 10/10") == [(7, 8), (9, 14)]
