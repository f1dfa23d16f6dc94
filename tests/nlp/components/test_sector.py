from nlp.components.sector import keyword_pattern
from tests.nlp.conftest import blank, run


def sector(keywords, exclude=()):
    return blank("es", ("listener_sector", {"keywords": list(keywords), "exclude": list(exclude)}))


def test_keyword_inflection_is_sector():
    assert run(sector(["película"]), "Vimos dos películas")._.listener_sector


def test_short_keyword_takes_a_plural():
    assert run(sector(["cine"]), "Los cines del centro")._.listener_sector


def test_short_keyword_is_not_a_prefix_of_another_word():
    assert not run(sector(["cine"]), "Tengo cinco gatos")._.listener_sector


def test_excluded_phrase_is_not_sector():
    assert not run(sector(["sala"], ["sala de espera"]), "En la sala de espera")._.listener_sector


def test_sector_terms_are_offsets():
    doc = run(sector(["palomitas"]), "Las palomitas")
    assert doc._.listener_sector_terms == ((4, 13),)


def test_multiword_keyword_inflects_its_last_word():
    assert keyword_pattern("cuenta corriente").endswith(r"corrient\w{0,4}")


def test_no_keywords_is_not_sector():
    assert not run(sector([]), "cualquier cosa")._.listener_sector
