"""A trained linear model over n-gram features: one weight column per label.

Saved as two files side by side: ``<name>.json`` (labels, options, vocabulary,
thresholds, what trained it) and ``<name>.npz`` (weights and biases). Reading
a post costs one dictionary look-up per n-gram and one small matrix product
per batch.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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

    def rows(self, texts: Sequence[str], extras: Iterable[Iterable[str]] | None = None):
        """The feature rows of ``texts`` as (indices, indptr) of a binary CSR matrix."""
        vocabulary = self.vocabulary
        indices: list[int] = []
        indptr = [0]
        extras = extras if extras is not None else ([] for _ in texts)
        for text, extra in zip(texts, extras):
            seen = {vocabulary[g] for g in self.features(text, extra) if g in vocabulary}
            indices.extend(seen)
            indptr.append(len(indices))
        return np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)

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
        probabilities = self.probabilities(texts, extras)
        return [dict(zip(self.labels, map(float, row))) for row in probabilities]

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
