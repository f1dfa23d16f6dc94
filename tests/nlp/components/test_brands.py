import pytest

from listener.config import Config, EntityConfig, load_config
from tests.nlp.conftest import CINEMA, ROOT, blank, entities, run

BANK = load_config(ROOT / "config" / "bank.yaml")
AIRLINE = load_config(ROOT / "config" / "airline.yaml")
TELECOM = load_config(ROOT / "config" / "telecom.yaml")


def matcher(config: Config, lang: str = "es", **options):
    settings = {"entities": entities(config), "sector_keywords": list(config.sector.keywords), **options}
    return blank(lang, ("listener_brands", settings))


@pytest.fixture(scope="module")
def cinema_matcher():
    return matcher(CINEMA)


@pytest.fixture(scope="module")
def bank_matcher():
    return matcher(BANK)


def found(nlp, text: str) -> list[tuple[str, str]]:
    return [(m.entity, m.how) for m in run(nlp, text)._.listener_mentions]


def test_handle_finds_the_brand(cinema_matcher):
    assert found(cinema_matcher, "@cinesa hola") == [("Cinesa", "handle")]


def test_handle_of_another_account_is_not_the_brand(cinema_matcher):
    assert found(cinema_matcher, "@cinesafan hola") == []


def test_camel_case_hashtag_split_finds_the_brand(cinema_matcher):
    assert found(cinema_matcher, "#CinesaNoContesta desde ayer") == [("Cinesa", "hashtag")]


def test_run_together_hashtag_finds_the_brand(bank_matcher):
    assert found(bank_matcher, "#bancsabadell no funciona") == [("Banco Sabadell", "hashtag")]


def test_name_is_case_and_accent_insensitive(cinema_matcher):
    assert found(cinema_matcher, "KINÉPOLIS y kinepolis") == [("Kinépolis", "name"), ("Kinépolis", "name")]


def test_name_written_together_finds_the_brand(bank_matcher):
    assert found(bank_matcher, "bancosabadell me cobra") == [("Banco Sabadell", "name")]


def test_longest_alias_wins(cinema_matcher):
    mention = run(cinema_matcher, "fui a Yelmo Cines ayer")._.listener_mentions[0]
    assert (mention.text, mention.start, mention.end) == ("Yelmo Cines", 6, 17)


def test_typo_with_swapped_letters_is_a_fuzzy_mention(cinema_matcher):
    mention = run(cinema_matcher, "la app de cinsea no va")._.listener_mentions[0]
    assert (mention.entity, mention.how) == ("Cinesa", "fuzzy")
    assert 80 <= mention.score < 100


def test_typo_with_an_extra_letter_is_a_fuzzy_mention():
    assert found(matcher(AIRLINE), "volé con rayanair") == [("Ryanair", "fuzzy")]


def test_typo_with_a_missing_letter_is_a_fuzzy_mention():
    assert found(matcher(AIRLINE), "vuelin me ha cobrado la maleta") == [("Vueling", "fuzzy")]


def test_everyday_word_close_to_a_name_is_not_a_typo(cinema_matcher):
    assert found(cinema_matcher, "los cines de mi barrio") == []


def test_fuzzy_threshold_is_an_option():
    assert found(matcher(CINEMA, threshold=90.0), "la app de cinsea no va") == []


def test_unknown_scorer_is_refused_with_the_choices():
    with pytest.raises(Exception, match="choose one of osa"):
        matcher(CINEMA, scorer="nope")


def test_city_sabadell_is_not_the_bank(bank_matcher):
    assert found(bank_matcher, "Vivo en Sabadell y busco piso") == []


def test_city_sabadell_with_a_bank_word_after_a_place_word_is_not_the_bank(bank_matcher):
    assert found(bank_matcher, "Vivo en Sabadell y busco banco") == []


def test_sabadell_with_a_bank_word_near_is_the_bank(bank_matcher):
    assert found(bank_matcher, "Sabadell me ha cobrado una comisión") == [("Banco Sabadell", "name")]


def test_article_before_an_ambiguous_name_makes_it_the_company(bank_matcher):
    assert found(bank_matcher, "Qué tarde el Santander en contestar") == [("Santander", "name")]


def test_client_of_sabadell_is_the_bank(bank_matcher):
    assert found(bank_matcher, "soy cliente de Sabadell") == [("Banco Sabadell", "name")]


def test_name_inside_a_longer_name_is_excluded(bank_matcher):
    assert found(bank_matcher, "El Racing de Santander gana la liga con un gol del banquillo") == []


def test_city_santander_is_not_the_bank(bank_matcher):
    assert found(bank_matcher, "Este verano nos vamos a Santander, qué playas!") == []


def test_all_caps_acronym_is_the_company():
    assert found(matcher(BANK, "en"), "Switched from ING to Revolut") == [("ING", "name")]


def test_orange_the_fruit_is_not_the_operator():
    assert found(matcher(TELECOM), "Me encanta el zumo de naranja y el color orange") == []


def test_orange_with_a_telecom_word_is_the_operator():
    assert found(matcher(TELECOM), "Orange me ha subido la tarifa") == [("Orange", "name")]


def test_digi_inside_a_word_is_not_the_operator():
    assert found(matcher(TELECOM), "La transformación digital y #digitalizacion") == []


def test_iberia_the_peninsula_is_not_the_airline():
    assert found(matcher(AIRLINE), "La conquista romana de Iberia duró dos siglos") == []


def test_iberia_with_an_airline_word_is_the_airline():
    assert found(matcher(AIRLINE), "Iberia me ha perdido la maleta") == [("Iberia", "name")]


@pytest.mark.parametrize("lang, text, entity", [
    ("es", "Orange no funciona desde ayer", "Orange"),
    ("ca", "Digi m'ha resolt el problema en cinc minuts", "Digi"),
    ("en", "Orange charged me twice this month", "Orange"),
    ("pt", "Digi não funciona no meu bairro", "Digi"),
])
def test_what_only_a_company_does_makes_an_ambiguous_name_the_company(lang, text, entity):
    assert found(matcher(TELECOM, lang), text) == [(entity, "name")]


def test_what_only_a_company_does_does_not_turn_a_place_into_one(bank_matcher):
    assert found(bank_matcher, "Vivo en Sabadell y no funciona el ascensor") == []


def test_another_company_makes_an_ambiguous_name_a_company():
    assert ("Digi", "name") in found(matcher(TELECOM), "Movistar me sube la cuota. Me voy a Digi.")


def test_configured_exclude_phrase_is_never_the_company():
    config = Config(brand=EntityConfig(name="Sol", aliases=["Sol Meliá"], exclude=["sol meliá de playa"]))
    assert found(matcher(config), "Hotel Sol Meliá de playa") == []


def test_mention_offsets_point_into_the_text(cinema_matcher):
    text = "Ayer en Kinépolis"
    mention = run(cinema_matcher, text)._.listener_mentions[0]
    assert text[mention.start:mention.end] == mention.text == "Kinépolis"


@pytest.mark.parametrize("text", [
    "El Sabadel me ha vuelto a cobrar la comisión",
    "Sabadelll no me deja entrar en la app",
])
def test_typo_of_an_ambiguous_name_with_a_company_word_is_the_company(bank_matcher, text):
    assert found(bank_matcher, text) == [("Banco Sabadell", "fuzzy")]


def test_typo_of_an_ambiguous_name_without_a_company_word_is_not_the_company(bank_matcher):
    assert found(bank_matcher, "Sabadel és la ciutat on vaig néixer") == []


def test_typo_of_an_ambiguous_name_after_a_place_word_is_the_place():
    assert found(matcher(BANK, "ca"), "A Sabadel hi ha molta gent avui") == []


def test_word_two_edits_from_an_ambiguous_name_is_not_a_typo_of_it():
    assert found(matcher(BANK, "pt"), "No sábado fui ao banco pagar a comissão") == []


def test_typo_of_a_short_ambiguous_name_is_not_looked_for():
    assert found(matcher(TELECOM), "Ornage me ha subido la tarifa") == []


def test_shortest_ambiguous_name_with_typos_is_an_option():
    assert found(matcher(TELECOM, min_ambiguous_fuzzy_length=6), "Ornage me ha subido la tarifa") == [("Orange", "fuzzy")]


def test_name_with_a_letter_written_twice_is_a_typo(bank_matcher):
    assert found(bank_matcher, "BBVVA me ha bloqueado la tarjeta") == [("BBVA", "fuzzy")]


def test_camel_case_hashtag_with_a_typo_of_a_name_is_a_fuzzy_mention(bank_matcher):
    assert found(bank_matcher, "#SabadelNoContesta llevo 3 días sin respuesta") == [("Banco Sabadell", "fuzzy")]


def test_one_case_hashtag_starting_with_a_typo_of_a_name_is_a_fuzzy_mention(cinema_matcher):
    assert found(cinema_matcher, "#cinseanocontesta desde ayer") == [("Cinesa", "fuzzy")]


def test_one_case_hashtag_whose_start_does_not_end_like_the_name_is_not_a_typo(cinema_matcher):
    assert found(cinema_matcher, "#cinesdemibarrio siempre") == []


def test_hashtag_of_an_ambiguous_name_and_what_only_a_company_does_is_the_company(bank_matcher):
    assert found(bank_matcher, "#SabadellNoContesta llevo 3 días sin respuesta") == [("Banco Sabadell", "hashtag")]


def test_mistyped_handle_is_a_fuzzy_mention_that_tags_no_one(bank_matcher):
    mention = run(bank_matcher, "@SabadelAyuda no puedo hacer transferencias")._.listener_mentions[0]
    assert (mention.entity, mention.how, mention.text) == ("Banco Sabadell", "fuzzy", "@SabadelAyuda")
    assert 80 <= mention.score < 100


def test_short_handle_one_edit_off_is_another_account(cinema_matcher):
    assert found(cinema_matcher, "@cinesas hola") == []


def test_no_typo_is_looked_for_inside_a_link(bank_matcher):
    assert found(bank_matcher, "Mirad https://bbvva.es/oferta que me ha bloqueado la tarjeta") == []


def test_name_inside_a_link_is_the_company(bank_matcher):
    assert found(bank_matcher, "Mirad las hipotecas https://www.bbva.es/personas/hipotecas.html") == [("BBVA", "name")]


def test_football_words_make_an_ambiguous_name_the_club(bank_matcher):
    assert found(bank_matcher, "el Sabadell juega el domingo contra el Nàstic") == []


def test_football_words_make_a_typo_of_an_ambiguous_name_the_club(bank_matcher):
    assert found(bank_matcher, "el Sabadel juega el domingo") == []


def test_what_only_a_company_does_beats_football_words(bank_matcher):
    assert found(bank_matcher, "El Sabadell me ha cobrado la entrada del partido") == [("Banco Sabadell", "name")]


@pytest.mark.parametrize("text", [
    "El Centre d'Esports Sabadell ganó ayer en casa",
    "La web del Sabadell FC me ha cobrado una comisión por la entrada",
])
def test_football_club_is_never_the_bank(bank_matcher, text):
    assert found(bank_matcher, text) == []


@pytest.mark.parametrize("lang, text", [
    ("es", "El sábado fui al banco a pagar la comisión"),
    ("ca", "Sóc sabadellenc i tinc compte al banc de la cantonada"),
])
def test_everyday_words_close_to_sabadell_are_not_the_bank(lang, text):
    assert found(matcher(BANK, lang), text) == []
