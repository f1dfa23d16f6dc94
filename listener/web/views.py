"""What a page or the API shows of a post: ages, SLA clocks, labels and the team's feedback on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from listener.config import ScheduleConfig
from listener.feedback import BOOLEAN_LABELS, CHOICES, effective_labels, latest_by_label, predicted_labels
from listener.present import ANSWER_LABELS, age, answer_label, handle
from listener.records import LABELS, Feedback, IndexedPost, format_time
from listener.sla import sla_status
from listener.workflow import OPEN_STATUSES

SOON = timedelta(minutes=15)
ANSWER_TEXT = ANSWER_LABELS

__all__ = ["LabelRow", "SlaView", "age", "answer_label", "duration", "handle", "label_rows", "label_text", "local_time", "native_id", "post_json", "safe_url", "sla_view"]


def duration(value: timedelta) -> str:
    """``45s``, ``12m``, ``1h 20m``, ``2d 3h``."""
    seconds = abs(int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{seconds}s"


def local_time(value: datetime | None, zone: str, fmt: str = "%a %d %b %H:%M") -> str:
    return value.astimezone(ZoneInfo(zone)).strftime(fmt) if value else ""


def safe_url(url: str | None) -> str:
    """``url`` if it is a web address, else an empty string (no ``javascript:`` links from crawled data)."""
    return url if url and url.lower().startswith(("https://", "http://")) else ""


FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def isolate(text: object) -> str:
    """``text`` as a bidi isolate, for where no element can hold it (the page title, attributes)."""
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"


def native_id(post_id: str) -> str:
    return post_id.split(":", 1)[1] if ":" in post_id else post_id


@dataclass(frozen=True, slots=True)
class SlaView:
    """The SLA clock as shown: ``kind`` is ok, soon, late or done."""

    text: str
    kind: str
    due_at: datetime | None
    remaining: timedelta | None
    overdue: bool
    off_hours: bool


def sla_view(hit: IndexedPost, schedule: ScheduleConfig, now: datetime) -> SlaView:
    sent = hit.workflow.sent
    if sent is not None:  # the clock stopped when the reply went out
        try:
            status = sla_status(hit.post.created_at, schedule, now, answered_at=sent.at)
        except ValueError:
            return SlaView("answered", "done", None, None, False, False)
        text = f"answered {duration(status.remaining)} late" if status.overdue else "answered on time"
        return SlaView(text, "done", None, None, status.overdue, status.off_hours)
    if hit.workflow.status not in OPEN_STATUSES:
        return SlaView(hit.workflow.status, "done", None, None, False, False)
    if hit.answered_by == "brand":  # answered on its platform: no clock, whatever the workflow says
        return SlaView("answered by us", "done", None, None, False, False)
    try:
        status = sla_status(hit.post.created_at, schedule, now)
    except ValueError:  # a schedule without service time: no clock to show
        return SlaView("no SLA", "done", None, None, False, False)
    if status.overdue:
        text, kind = f"late {duration(status.remaining)}", "late"
    else:
        left = f"due in {duration(status.remaining)}" if status.remaining >= timedelta(minutes=1) else "due now"
        text, kind = left, "soon" if status.remaining <= SOON else "ok"
    if status.off_hours:
        text += " (arrived off hours)"
    return SlaView(text, kind, status.due_at, status.remaining, status.overdue, status.off_hours)


def label_text(value: object) -> str:
    """A label's value as a person reads it: ``yes``, ``no``, ``Cinesa, Yelmo Cines``, ``none``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (tuple, list)):
        return ", ".join(value) or "none"
    return str(value)


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One label of a post in its feedback table: what the analysis says, and what the team said last."""

    label: str
    kind: str  # "yes/no", "choice" or "mentions"
    predicted: object
    deciding: Feedback | None
    choices: tuple[str, ...] = ()

    @property
    def team(self) -> object:
        return self.deciding.labels[self.label] if self.deciding else None

    @property
    def agrees(self) -> bool:
        """Whether the team's value is the analysis's (for mentions, the same entities in any order)."""
        if self.kind == "mentions":
            return self.deciding is not None and set(self.team) == set(self.predicted)
        return self.deciding is not None and self.team == self.predicted


def label_rows(hit: IndexedPost, languages: list[str]) -> list[LabelRow]:
    predicted, deciding = predicted_labels(hit.analysis), latest_by_label(hit.feedback)
    rows = []
    for label in LABELS:
        if label in BOOLEAN_LABELS:
            kind, choices = "yes/no", ()
        elif label in CHOICES:
            kind, choices = "choice", tuple(languages) if label == "language" else CHOICES[label]
        else:
            kind, choices = "mentions", ()
        rows.append(LabelRow(label, kind, predicted[label], deciding.get(label), choices))
    return rows


def post_json(hit: IndexedPost, schedule: ScheduleConfig, now: datetime) -> dict:
    post, analysis, workflow = hit.post, hit.analysis, hit.workflow
    clock = sla_view(hit, schedule, now)
    return {
        "id": post.id,
        "source": post.source,
        "url": safe_url(post.url),
        "author": post.author,
        "author_name": post.author_name,
        "title": post.title,
        "text": post.text,
        "created_at": format_time(post.created_at),
        "first_reply_at": format_time(post.first_reply_at) if post.first_reply_at else None,
        "age": age(post.created_at, now),
        "language": analysis.language,
        "entities": list(analysis.entities),
        "intents": list(analysis.intents),
        "customer_status": analysis.customer_status,
        "lead_score": analysis.lead_score,
        "reasons": list(analysis.reasons),
        "answer_state": hit.answer_state,
        "reply_state": hit.reply_state,
        "answered_by": hit.answered_by,
        "reply_state_reason": hit.reply_state_reason,
        "status": workflow.status,
        "assignee": workflow.assignee,
        "version": workflow.version,
        "notes": [note.to_dict() for note in workflow.notes],
        "reply_draft": workflow.reply_draft,
        "follow_up_at": format_time(workflow.follow_up_at) if workflow.follow_up_at else None,
        "sends": [send.to_dict() for send in workflow.sends],
        "feedback": [item.to_dict() for item in hit.feedback],
        "team_labels": {k: list(v) if k == "mentions" else v for k, v in effective_labels(hit.feedback).items()},
        "sla": None if clock.due_at is None else {
            "due_at": format_time(clock.due_at),
            "remaining_seconds": int(clock.remaining.total_seconds()),
            "overdue": clock.overdue,
            "off_hours": clock.off_hours,
        },
    }
