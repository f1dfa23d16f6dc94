from nlp.text import compact, fold, split_hashtag, squash


def test_fold_drops_accents_and_case_keeping_length():
    text = "Kinépolis ÀÉÏÕÜ Ñandú"
    assert fold(text) == "kinepolis aeiou nandu"
    assert len(fold(text)) == len(text)


def test_fold_keeps_length_of_characters_that_lowercase_to_two():
    text = "İstanbul"
    assert len(fold(text)) == len(text)


def test_fold_keeps_other_scripts():
    assert fold("Кино 映画") == "кино 映画"


def test_squash_undoes_leetspeak_and_spacing():
    assert squash("ElCabr0n") == "elcabron"
    assert squash("P u t 4") == "puta"


def test_compact_writes_a_name_together():
    assert compact("Banco de Sabadell") == "bancodesabadell"


def test_split_hashtag_splits_camel_case():
    assert split_hashtag("CinesaNoContesta") == ["cinesa", "no", "contesta"]


def test_split_hashtag_keeps_a_lower_case_tag_whole():
    assert split_hashtag("bancsabadell") == ["bancsabadell"]
