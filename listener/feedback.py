"""The team's feedback on a post's analysis: read without trusting the input, then merged.

Feedback comes as JSON Lines, one ``{"id": "twitter:123", "labels": {...}, "by": "ana"}``
per line, with an optional ``"at"`` (ISO 8601; default: when the file is read).
Labels are any subset of :data:`~listener.records.LABELS`, named and valued as in
LABELS.md: ``mentions`` a list of configured entity names, ``customer_status`` one
of ``customer|prospect|unknown``, ``language`` one of ``es|ca|en|pt|other``, the
rest ``true`` or ``false``. A bad line becomes a :class:`~listener.jsonl.Rejection`
naming the file, line and field; the lines around it are still read.

Merge rule: the effective value of a label is the one given by the latest
feedback that gives that label (by ``at``; at the same time, the one stored
last). Feedback that leaves a label out says nothing about it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from listener.errors import ListenerError
from listener.jsonl import Rejection, describe_errors, read_lines
from listener.records import CUSTOMER_STATUSES, INTENTS, LABELS, LANGUAGES, Analysis, Feedback, utc

BOOLEAN_LABELS = ("sector", *INTENTS, "surface")
CHOICES = {"customer_status": CUSTOMER_STATUSES, "language": LANGUAGES}


class LabelError(ListenerError):
    """A label that does not exist, or a value it cannot take. ``field`` is ``labels.<name>``."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"field {field!r}: {problem}")
        self.field = field


@dataclass(frozen=True, slots=True)
class PostFeedback:
    """One line of a feedback file: which post, and what was said about it."""

    post_id: str
    feedback: Feedback


class FeedbackInput(BaseModel):
    """The JSON shape of a feedback line; the labels are checked by :func:`check_labels`."""

    model_config = ConfigDict(extra="ignore")

    id: str
    labels: dict[str, Any]
    by: str
    at: datetime | None = None

    @field_validator("id", "by")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


def check_labels(labels: dict, entities: Collection[str] | None = None) -> dict[str, object]:
    """``labels`` with checked values (mentions as a tuple), or :class:`LabelError` naming the first bad one.

    With ``entities``, every mention must be one of them.
    """
    if not labels:
        raise LabelError("labels", "no labels given")
    checked: dict[str, object] = {}
    for name, value in labels.items():
        field = f"labels.{name}"
        if name not in LABELS:
            raise LabelError(field, f"unknown label (valid: {', '.join(LABELS)})")
        if name in BOOLEAN_LABELS:
            if not isinstance(value, bool):
                raise LabelError(field, f"expected true or false, found {value!r:.60}")
        elif name in CHOICES:
            if not isinstance(value, str) or value not in CHOICES[name]:
                raise LabelError(field, f"expected one of {', '.join(CHOICES[name])}, found {value!r:.60}")
        else:
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise LabelError(field, f"expected a list of entity names, found {value!r:.60}")
            unknown = [v for v in value if entities is not None and v not in entities]
            if unknown:
                raise LabelError(field, f"{unknown[0]!r} is not a configured entity (entities: {', '.join(entities)})")
            value = tuple(dict.fromkeys(value))
        checked[name] = value
    return checked


def parse_feedback(data: dict, origin: str, line: int, entities: Collection[str] | None, now: datetime) -> PostFeedback | Rejection:
    try:
        item = FeedbackInput.model_validate(data)
        labels = check_labels(item.labels, entities)
    except ValidationError as exc:
        return Rejection(origin, line, describe_errors(exc))
    except LabelError as exc:
        return Rejection(origin, line, str(exc))
    return PostFeedback(item.id, Feedback(labels=labels, by=item.by, at=utc(item.at) if item.at else now))


def read_feedback(
    stream: BinaryIO | Iterable[bytes], origin: str, entities: Collection[str] | None = None, now: datetime | None = None
) -> Iterator[tuple[int, PostFeedback | Rejection]]:
    """Yield ``(line number, PostFeedback or Rejection)`` for every non-blank line."""
    now = now or datetime.now(timezone.utc)
    for number, item in read_lines(stream, origin):
        yield number, item if isinstance(item, Rejection) else parse_feedback(item, origin, number, entities, now)


def latest_by_label(feedback: Iterable[Feedback]) -> dict[str, Feedback]:
    """For each label, the feedback that decides it (see the merge rule above)."""
    deciding: dict[str, Feedback] = {}
    for item in sorted(feedback, key=lambda f: f.at):  # a stable sort: at the same time, the later one wins
        deciding.update(dict.fromkeys(item.labels, item))
    return deciding


def effective_labels(feedback: Iterable[Feedback]) -> dict[str, object]:
    """The team's value of every label it gave feedback on."""
    return {label: item.labels[label] for label, item in latest_by_label(feedback).items()}


def predicted_labels(analysis: Analysis) -> dict[str, object]:
    """What the analysis says, in the labels' terms (every label, in :data:`LABELS` order)."""
    return {
        "mentions": analysis.entities,
        "sector": analysis.sector,
        **{intent: intent in analysis.intents for intent in INTENTS},
        "customer_status": analysis.customer_status,
        "surface": analysis.surface,
        "language": analysis.language,
    }
