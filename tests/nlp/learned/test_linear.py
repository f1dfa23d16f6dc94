"""Reading a text's vocabulary columns: the same columns, in the same order, as from its n-grams."""

import pytest

from nlp.learned.features import NgramFeatures
from nlp.learned.linear import ColumnReader

TEXTS = [
    "Llevo 12 días esperando que me devuelvan el dinero de las entradas. Vergüenza.",
    "@cinesa no no no, siiiii https://t.co/x l'app del col·legi ¿Qué hago?",
    "de de de la la película película",
    "",
    "!!!",
]
EXTRA = ("lid:es", "r:complaint", "not-in-vocabulary")


def vocabulary_of(features: NgramFeatures) -> dict[str, int]:
    """Every other n-gram of the texts, so that some are known and some are not."""
    grams = dict.fromkeys(g for text in TEXTS for g in features(text, EXTRA))
    return {gram: column for column, gram in enumerate(list(grams)[::2])}


@pytest.mark.parametrize("options", [
    {}, {"char_ngrams": (1, 4), "fold_accents": False}, {"word_ngrams": (1, 1), "char_ngrams": (1, 4)},
    {"char_ngrams": (0, 0)}, {"word_ngrams": (2, 3)},
    {"word_ngrams": (0, 1)},
])
def test_columns_are_those_of_the_ngrams_in_the_same_order(options):
    features = NgramFeatures(**options)
    vocabulary = vocabulary_of(features)
    reader = ColumnReader(features, vocabulary)
    for text in TEXTS * 2:  # the second time from remembered words
        expected = {vocabulary[g] for g in features(text, EXTRA) if g in vocabulary}
        assert list(reader(text, EXTRA)) == list(expected)


def test_remembered_words_are_forgotten_past_the_limit():
    features = NgramFeatures()
    vocabulary = vocabulary_of(features)
    reader = ColumnReader(features, vocabulary, limit=3)
    for text in TEXTS:
        assert list(reader(text)) == list({vocabulary[g] for g in features(text) if g in vocabulary})
        assert len(reader.words) <= 3
