"""How often the analysis is right, as the team's feedback tells it.

For each label the analysis gave a post (each entity it found, each customer
status but ``unknown``, each language, each yes/no label it said yes to), among
the posts whose effective feedback covers that label: how many the team
confirmed and how many it rejected, and so the precision,
confirmed / (confirmed + rejected). Split by the language the analysis gave the
post. The effective feedback is the latest per label (see :mod:`listener.feedback`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from listener.feedback import CHOICES, effective_labels, predicted_labels
from listener.index.base import BaseBackend
from listener.records import CUSTOMER_STATUSES, INTENTS


@dataclass
class Tally:
    confirmed: int = 0
    rejected: int = 0

    @property
    def n(self) -> int:
        return self.confirmed + self.rejected

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.n if self.n else None


@dataclass
class LabelPrecision:
    """One predicted label: ``value`` is the entity, status or language, ``None`` for a yes/no label."""

    label: str
    value: str | None
    overall: Tally = field(default_factory=Tally)
    by_language: dict[str, Tally] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.label if self.value is None else f"{self.label}: {self.value}"


@dataclass
class PrecisionReport:
    languages: list[str]
    labels: list[LabelPrecision]
    posts: int  # posts with feedback


def judgements(predicted: dict, team: dict) -> Iterator[tuple[tuple[str, str | None], bool]]:
    """``((label, value), confirmed)`` for every positive prediction the team's labels speak to."""
    for label, said in team.items():
        guess = predicted[label]
        if label == "mentions":
            for entity in guess:
                yield (label, entity), entity in said
        elif label in CHOICES:
            if not (label == "customer_status" and guess == "unknown"):
                yield (label, guess), said == guess
        elif guess:
            yield (label, None), said is True


def precision_report(backend: BaseBackend, entities: list[str], languages: list[str]) -> PrecisionReport:
    keys = [("mentions", e) for e in entities] + [("sector", None)] + [(i, None) for i in INTENTS]
    keys += [("customer_status", s) for s in CUSTOMER_STATUSES if s != "unknown"] + [("surface", None)]
    keys += [("language", lang) for lang in languages]
    rows = {key: LabelPrecision(*key) for key in keys}
    columns = list(languages)
    posts = 0
    for hit in backend.iter_feedback():
        posts += 1
        language = hit.analysis.language
        if language not in columns:
            columns.append(language)
        for key, confirmed in judgements(predicted_labels(hit.analysis), effective_labels(hit.feedback)):
            row = rows.setdefault(key, LabelPrecision(*key))  # an entity no longer configured keeps its figures
            for tally in (row.overall, row.by_language.setdefault(language, Tally())):
                if confirmed:
                    tally.confirmed += 1
                else:
                    tally.rejected += 1
    return PrecisionReport(languages=columns, labels=list(rows.values()), posts=posts)
