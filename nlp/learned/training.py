"""Fit a :class:`~nlp.learned.linear.LinearModel`: vocabulary, one logistic regression per label, thresholds.

The same rows give the same model: the vocabulary is sorted, the solver is
deterministic and folds are assigned from each row's id. Thresholds are chosen
on out-of-fold predictions, never on the rows a model was fitted on.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlp.learned.features import NgramFeatures
from nlp.learned.linear import LinearModel


@dataclass(frozen=True)
class Row:
    """One training example: its id (for folds), text, extra features, labels and weight."""

    id: str
    text: str
    extra: tuple[str, ...]
    labels: dict[str, bool]            # a label left out is unknown for this row and not trained on
    weight: float = 1.0


@dataclass(frozen=True)
class TrainingOptions:
    min_count: int = 2
    c: float = 4.0
    folds: int = 5
    class_weight: str | None = "balanced"


def fold_of(row_id: str, folds: int) -> int:
    return zlib.crc32(row_id.encode("utf-8")) % folds


def _vocabulary(grams: list[list[str]], min_count: int) -> dict[str, int]:
    counts = Counter(g for row in grams for g in set(row))
    terms = sorted(g for g, n in counts.items() if n >= min_count)
    return {term: column for column, term in enumerate(terms)}


def _matrix(grams: list[list[str]], vocabulary: dict[str, int]):
    from scipy.sparse import csr_matrix

    indices, indptr = [], [0]
    for row in grams:
        columns = sorted({vocabulary[g] for g in row if g in vocabulary})
        indices.extend(columns)
        indptr.append(len(indices))
    counts = np.diff(indptr)
    data = np.repeat(np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0), counts)
    return csr_matrix((data, indices, indptr), shape=(len(grams), len(vocabulary)), dtype=np.float64)


def fit(rows: Sequence[Row], labels: Sequence[str], features: NgramFeatures, options: TrainingOptions = TrainingOptions(),
        thresholds: dict[str, float] | None = None, about: dict | None = None) -> LinearModel:
    """A model of ``labels`` fitted on every row (a label is learned from the rows that carry it)."""
    from sklearn.linear_model import LogisticRegression

    grams = [features(row.text, row.extra) for row in rows]
    vocabulary = _vocabulary(grams, options.min_count)
    matrix = _matrix(grams, vocabulary)
    weights = np.zeros((len(vocabulary), len(labels)), dtype=np.float32)
    bias = np.zeros(len(labels), dtype=np.float32)
    sample_weight = np.asarray([row.weight for row in rows])
    for column, label in enumerate(labels):
        known = np.asarray([label in row.labels for row in rows])
        y = np.asarray([bool(row.labels.get(label)) for row in rows])
        if not known.any() or y[known].all() or not y[known].any():
            bias[column] = 10.0 if y[known].all() and known.any() else -10.0
            continue
        model = LogisticRegression(C=options.c, solver="liblinear", dual=len(vocabulary) > len(rows), class_weight=options.class_weight,
                                   max_iter=1000, random_state=0)
        model.fit(matrix[known], y[known], sample_weight=sample_weight[known])
        weights[:, column] = model.coef_[0]
        bias[column] = model.intercept_[0]
    return LinearModel(tuple(labels), features, vocabulary, weights, bias, dict(thresholds or {}), False, dict(about or {}))


def out_of_fold(rows: Sequence[Row], labels: Sequence[str], features: NgramFeatures,
                options: TrainingOptions = TrainingOptions(), scored=None) -> np.ndarray:
    """Probabilities of each row from a model that did not see it (k folds by id).

    ``scored`` limits which rows are predicted (e.g. only hand-labelled ones); the others
    still train every fold.
    """
    probabilities = np.full((len(rows), len(labels)), np.nan)
    assignment = np.asarray([fold_of(row.id, options.folds) for row in rows])
    scored = np.ones(len(rows), bool) if scored is None else np.asarray(scored)
    for k in range(options.folds):
        held = (assignment == k) & scored
        if not held.any():
            continue
        model = fit([r for r, h in zip(rows, assignment == k) if not h], labels, features, options)
        test = [rows[i] for i in np.flatnonzero(held)]
        probabilities[held] = model.probabilities([r.text for r in test], [r.extra for r in test])
    return probabilities


def best_threshold(y: np.ndarray, p: np.ndarray, min_precision: float | None = None) -> float:
    """The probability cut that gives the best F1 on (y, p); 0.5 when there is nothing to learn from.

    With ``min_precision``, the best F1 among the cuts whose precision reaches it (when any does).
    """
    if not y.any():
        return 0.5
    best, best_f1 = 0.5, -1.0
    floor_best, floor_f1 = None, -1.0
    for cut in np.arange(0.1, 0.91, 0.025):
        predicted = p >= cut
        tp = int((predicted & y).sum())
        precision = tp / max(int(predicted.sum()), 1)
        recall = tp / int(y.sum())
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(round(cut, 3)), f1
        if min_precision is not None and precision >= min_precision and f1 > floor_f1 + 1e-9:
            floor_best, floor_f1 = float(round(cut, 3)), f1
    return floor_best if floor_best is not None else best


def scores(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    tp = int((predicted & y).sum())
    fp = int((predicted & ~y).sum())
    fn = int((~predicted & y).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"p": round(precision, 3), "r": round(recall, 3), "f1": round(f1, 3), "n": int(y.sum())}
