"""Near-duplicate complaints cluster; enough distinct authors make a spike."""

from __future__ import annotations

import pytest

from scheduler.spikes import SpikeDetector, content_words, scorer
from tests.factories import doc

APP_DOWN = [
    "La app de Cinesa no funciona, no puedo comprar entradas",
    "No me funciona la aplicación de @cinesa para comprar entradas!!",
    "¿A alguien más no le funciona la app de Cinesa? No me deja comprar las entradas",
    "cinesa la app caída otra vez, imposible comprar entradas",
    "Llevo media hora intentando comprar entradas en la app de Cinesa y nada, no funciona",
]
CHARGED_TWICE = [
    "Cinesa me ha cobrado el doble por las entradas, dos cargos en la tarjeta",
    "Me han cobrado dos veces las entradas en Cinesa y nadie me contesta",
    "Otro cobro duplicado de Cinesa, me han cobrado dos veces la misma entrada",
]
UNRELATED = [
    "En Cinesa Diagonal la sala 3 estaba sucísima y hacía un frío horrible",
    "Las palomitas de Cinesa están carísimas, 9 euros un menú",
    "El aire acondicionado de la sala no funciona en Cinesa Méndez Álvaro",
    "Cinesa no me devuelve el dinero de la sesión cancelada",
]


def detector(**options) -> SpikeDetector:
    return SpikeDetector(**{"min_authors": 3, "similarity": 60, "ignore": ["Cinesa", "cinesa"], **options})


def docs_of(texts, start=0):
    return [doc(text, minutes=start + i) for i, text in enumerate(texts)]


def test_content_words_fold_accents_and_drop_names_stop_words_and_handles():
    assert content_words("¡La aplicación de @cinesa NO funciona! https://x.co/1", ignore=["Cinesa"]) == ["aplic", "no", "funci"]


def test_variants_of_one_outage_form_one_cluster():
    clusters = detector().clusters(docs_of(APP_DOWN))
    assert [len(c.docs) for c in clusters] == [5]


def test_two_problems_mixed_in_time_form_two_spikes():
    mixed = [text for pair in zip(APP_DOWN, CHARGED_TWICE + ["", ""]) for text in pair if text]
    spikes = detector().spikes(docs_of(mixed))
    assert sorted(len(s.docs) for s in spikes) == [3, 5]


def test_unrelated_complaints_are_not_a_spike():
    assert detector().spikes(docs_of(UNRELATED + APP_DOWN[:2])) == []


def test_one_author_repeating_a_complaint_is_not_a_spike():
    same_author = [doc(text, minutes=i, post_fields={"author": "ana"}) for i, text in enumerate(APP_DOWN)]
    assert detector().spikes(same_author) == []


def test_the_problem_is_named_by_the_words_the_posts_share():
    spike = detector().spikes(docs_of(APP_DOWN))[0]
    assert set(spike.problem().split()) >= {"app", "comprar", "entradas"}


def test_examples_come_from_different_authors_newest_first():
    posts = docs_of(APP_DOWN)
    spike = detector().spikes(posts)[0]
    assert [d.id for d in spike.examples(2)] == [posts[4].id, posts[3].id]


def test_jaccard_scorer_is_chosen_by_name():
    assert scorer("jaccard")("app no funci", "app no funci") == 100


def test_an_unknown_scorer_lists_the_choices():
    with pytest.raises(ValueError, match="token_set_ratio, token_sort_ratio, jaccard"):
        scorer("cosine")
