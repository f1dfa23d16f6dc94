"""A trained linear model over n-gram features: one weight column per label.

Saved as two files side by side: ``<name>.json`` (labels, options, vocabulary,
thresholds, what trained it) and ``<name>.npz`` (weights and biases). Reading
a post costs a few dictionary look-ups per word (each word's columns are
remembered, see :class:`ColumnReader`) and one small matrix product per batch.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from operator import is_not
from pathlib import Path

import numpy as np

from nlp.learned.features import NgramFeatures


def _save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` with a fixed time stamp in the archive: the same model gives the same bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


_is_column = partial(is_not, None)


class ColumnReader:
    """The vocabulary columns of a text's n-grams, as ``{vocabulary[g] for g in features(text, extra) if g in vocabulary}``.

    Words recur far more than texts do, so the columns of each word (its
    character n-grams and itself) are remembered, up to ``limit`` words. The
    set is filled in the order of the n-grams, so it holds and iterates the same
    columns as the set built from the n-grams themselves (and sums add up in the
    same order).
    """

    def __init__(self, features: NgramFeatures, vocabulary: dict[str, int], limit: int = 100_000):
        self.features = features
        self.vocabulary = vocabulary
        self.limit = limit
        # word -> (column of the word, columns of its character n-grams, "w:<word> " to make its bigrams)
        self.words: dict[str, tuple[int | None, tuple[int, ...], str]] = {}
        low, high = features.word_ngrams
        self.unigrams = low == 1 <= high
        self.word_pairs = high >= 2
        self.bigrams_only = high == 2  # the usual case: n-grams of two words made from the prefixes
        # Word n-grams from zero words are not worth a fast path of their own.
        self.general = low < 1

    def __call__(self, text: str, extra: Iterable[str] = ()) -> set[int]:
        vocabulary = self.vocabulary
        if self.general:
            return {vocabulary[g] for g in self.features(text, extra) if g in vocabulary}
        words = self.features.words(text)
        known = self.words
        entries = [known.get(word) or self._learn(word) for word in words]
        get = vocabulary.get
        if len(words) < 2 or not self.word_pairs:
            grams = ()
        elif self.bigrams_only:
            grams = [entry[2] + word for entry, word in zip(entries, words[1:])]
        else:
            grams = self.features.word_grams(words, low=2)
        return set(chain(
            filter(_is_column, [entry[0] for entry in entries]) if self.unigrams else (),
            filter(_is_column, map(get, grams)),
            chain.from_iterable([entry[1] for entry in entries]),
            filter(_is_column, map(get, extra)),
        ))

    def _learn(self, word: str) -> tuple[int | None, tuple[int, ...], str]:
        vocabulary = self.vocabulary
        chars = tuple(dict.fromkeys(vocabulary[g] for g in self.features.char_grams(word) if g in vocabulary))
        entry = vocabulary.get("w:" + word), chars, f"w:{word} "
        if len(self.words) >= self.limit:
            self.words.clear()
        self.words[word] = entry
        return entry


class ModelError(ValueError):
    """A model file that cannot be read: the message names the file and what is wrong."""


@dataclass
class LinearModel:
    labels: tuple[str, ...]
    features: NgramFeatures
    vocabulary: dict[str, int]
    weights: np.ndarray                # (n_features, n_labels), float32
    bias: np.ndarray                   # (n_labels,)
    thresholds: dict[str, float] = field(default_factory=dict)
    exclusive: bool = False            # one label per text (softmax), else each label on its own (sigmoid)
    about: dict = field(default_factory=dict)  # what trained it: sources, rows, scores
    # Made on first use; the vocabulary and features must not change after it.
    _columns: ColumnReader | None = field(default=None, init=False, repr=False, compare=False)

    def rows(self, texts: Sequence[str], extras: Iterable[Iterable[str]] | None = None):
        """The feature rows of ``texts`` as (indices, indptr) of a binary CSR matrix."""
        columns = self._columns
        if columns is None:
            columns = self._columns = ColumnReader(self.features, self.vocabulary)
        extras = extras if extras is not None else ([] for _ in texts)
        rows = [columns(text, extra) for text, extra in zip(texts, extras)]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)), out=indptr[1:])
        return np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=int(indptr[-1])), indptr

    def probabilities(self, texts: Sequence[str], extras: Iterable[Iterable[str]] | None = None) -> np.ndarray:
        """(len(texts), len(labels)) probabilities."""
        indices, indptr = self.rows(texts, extras)
        counts = np.diff(indptr)
        # Row sums of the selected weight rows, each row scaled to unit length (binary features, l2 norm).
        if len(indices):
            summed = np.add.reduceat(self.weights[indices], np.minimum(indptr[:-1], len(indices) - 1), axis=0)
            summed[counts == 0] = 0.0
        else:
            summed = np.zeros((len(counts), len(self.labels)), dtype=np.float32)
        scale = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)[:, None]
        logits = summed * scale + self.bias
        if self.exclusive:
            logits = logits - logits.max(axis=1, keepdims=True)
            exp = np.exp(logits)
            return exp / exp.sum(axis=1, keepdims=True)
        return 1.0 / (1.0 + np.exp(-logits))

    def predict(self, texts: Sequence[str], extras: Iterable[Iterable[str]] | None = None) -> list[dict[str, float]]:
        """Per text: ``{label: probability}``."""
        labels = self.labels
        return [dict(zip(labels, row)) for row in self.probabilities(texts, extras).tolist()]

    def decide(self, label: str, probability: float) -> bool:
        return probability >= self.thresholds.get(label, 0.5)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        terms = [None] * len(self.vocabulary)
        for term, column in self.vocabulary.items():
            terms[column] = term
        meta = {"labels": list(self.labels), "features": self.features.to_dict(), "thresholds": self.thresholds,
                "exclusive": self.exclusive, "about": self.about, "terms": terms}
        path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        # float16 halves the file; the products are computed in float32.
        _save_arrays(path.with_suffix(".npz"), weights=self.weights.astype(np.float16), bias=self.bias.astype(np.float32))

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        path = Path(path)
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:
                weights = arrays["weights"].astype(np.float32)
                bias = arrays["bias"].astype(np.float32)
            labels = tuple(meta["labels"])
            vocabulary = {term: column for column, term in enumerate(meta["terms"])}
            features = NgramFeatures.from_dict(meta["features"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: cannot read the model ({exc.__class__.__name__}: {exc}); "
                             "train it again with `listener train`") from None
        if weights.shape != (len(vocabulary), len(labels)):
            raise ModelError(f"{path}: weights of shape {weights.shape} do not fit {len(vocabulary)} terms and {len(labels)} labels")
        return cls(labels, features, vocabulary, weights, bias, dict(meta.get("thresholds", {})),
                   bool(meta.get("exclusive")), dict(meta.get("about", {})))
