"""Fuzzy scorers, chosen by name. Scores are reported from 0 to 100."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein, OSA


@dataclass(frozen=True)
class Scorer:
    name: str
    function: Callable
    scale: float  # multiply the function's result by this to get 0..100

    def score(self, query: str, choice: str, cutoff: float) -> float:
        """The score of one pair, 0 below ``cutoff`` (0..100)."""
        return self.function(query, choice, score_cutoff=cutoff / self.scale) * self.scale


SCORERS: dict[str, Scorer] = {
    # Optimal string alignment: a swap of two letters costs one edit ("cinsea").
    "osa": Scorer("osa", OSA.normalized_similarity, 100.0),
    "damerau": Scorer("damerau", DamerauLevenshtein.normalized_similarity, 100.0),
    "levenshtein": Scorer("levenshtein", Levenshtein.normalized_similarity, 100.0),
    "ratio": Scorer("ratio", fuzz.ratio, 1.0),
}


class UnknownScorerError(ValueError):
    """A fuzzy scorer name that is not one of SCORERS."""


def get_scorer(name: str) -> Scorer:
    try:
        return SCORERS[name]
    except KeyError:
        raise UnknownScorerError(
            f"unknown fuzzy scorer {name!r}; choose one of {', '.join(SCORERS)} "
            "(the brand matcher's 'scorer' option)"
        ) from None
