"""The records every part of listener shares.

A :class:`Post` is one public post as a source saw it. NLP adds an
:class:`Analysis`. The team's work on a post is a :class:`Workflow`, kept apart
so that a re-crawl never overwrites it, and so is the :class:`Feedback` people
give on the analysis. An :class:`IndexedPost` is all of them together, as an
index backend returns them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from types import MappingProxyType

ROLES = ("brand", "competitor")
HOWS = ("handle", "hashtag", "name", "fuzzy")
INTENTS = ("question", "recommendation_request", "complaint", "churn", "praise")
CUSTOMER_STATUSES = ("customer", "prospect", "unknown")
STATUSES = ("new", "claimed", "answered", "resolved", "dismissed")
# A reply sent from the inbox: under way, sent (through the platform's API or marked with its link), or failed.
SEND_STATES = ("sending", "sent", "failed")
ANSWER_STATES = ("unanswered", "answered", "answered_by_brand", "answered_by_competitor", "unknown")
# An answer state is two things at once (see listener.threads): whether the post
# was answered, and by whom.
REPLY_STATES = ("answered", "unanswered", "unknown")
ANSWERERS = ("brand", "competitor", "other", "nobody")
ANSWER_STATE_PARTS = {
    "answered_by_brand": ("answered", "brand"),
    "answered_by_competitor": ("answered", "competitor"),
    "answered": ("answered", "other"),
    "unanswered": ("unanswered", "nobody"),
    "unknown": ("unknown", "nobody"),
}
# Every state but the brand's own answer: what the brand still has to answer, in every view.
WAITING_FOR_BRAND = tuple(state for state in ANSWER_STATES if state != "answered_by_brand")
# Why a post's reply state is unknown; ``Post.reply_check`` holds one of these or "checked".
UNKNOWN_REASONS = ("not_checked", "no_thread_source", "lookup_failed", "budget_exhausted")
REPLY_CHECKS = ("checked", *UNKNOWN_REASONS)
LANGUAGES = ("es", "ca", "en", "pt", "other")
# The labels people give a post, named as in LABELS.md; mentions are entity names.
LABELS = ("mentions", "sector", *INTENTS, "customer_status", "surface", "language")


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time (``Z`` suffix allowed) into aware UTC."""
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return utc(datetime.fromisoformat(text))


def format_time(value: datetime) -> str:
    return utc(value).isoformat().replace("+00:00", "Z")


def post_id(source: str, native_id: str | int) -> str:
    """The stable id of a post: the same post crawled twice gets the same id."""
    return f"{source}:{native_id}"


@dataclass(frozen=True, slots=True)
class Post:
    id: str
    source: str
    url: str
    author: str | None
    text: str
    created_at: datetime
    author_name: str | None = None
    title: str | None = None
    lang: str | None = None
    parent_id: str | None = None
    thread_id: str | None = None
    reply_count: int | None = None
    replied_by: tuple[str, ...] = ()
    first_reply_at: datetime | None = None
    # The thread as the source showed it (see listener.threads): ids of the
    # direct replies, who addressed the author after this post when it is the
    # author's last in the thread, and whether the replies were looked up
    # (one of REPLY_CHECKS; None: the source only gave ``reply_count``).
    reply_ids: tuple[str, ...] = ()
    later_repliers: tuple[str, ...] = ()
    reply_check: str | None = None

    def to_dict(self) -> dict:
        # Written out rather than dataclasses.asdict, which deep-copies and is
        # the slowest step of an index write.
        return {
            "id": self.id,
            "source": self.source,
            "url": self.url,
            "author": self.author,
            "text": self.text,
            "created_at": format_time(self.created_at),
            "author_name": self.author_name,
            "title": self.title,
            "lang": self.lang,
            "parent_id": self.parent_id,
            "thread_id": self.thread_id,
            "reply_count": self.reply_count,
            "replied_by": list(self.replied_by),
            "first_reply_at": format_time(self.first_reply_at) if self.first_reply_at else None,
            "reply_ids": list(self.reply_ids),
            "later_repliers": list(self.later_repliers),
            "reply_check": self.reply_check,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Post:
        """Build a post from trusted data (see :mod:`listener.jsonl` for untrusted input)."""
        values = dict(data)
        created = values["created_at"]
        values["created_at"] = parse_time(created) if isinstance(created, str) else utc(created)
        for name in ("replied_by", "reply_ids", "later_repliers"):  # stored before these existed: empty
            values[name] = tuple(values.get(name) or ())
        first_reply = values.get("first_reply_at")
        values["first_reply_at"] = parse_time(first_reply) if isinstance(first_reply, str) else first_reply
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Mention:
    """A reference to the brand or a competitor inside a post's text."""

    entity: str
    role: str  # one of ROLES
    text: str
    start: int
    end: int
    how: str  # one of HOWS
    score: int = 100

    def to_dict(self) -> dict:
        return {"entity": self.entity, "role": self.role, "text": self.text, "start": self.start,
                "end": self.end, "how": self.how, "score": self.score}


@dataclass(frozen=True, slots=True)
class Analysis:
    language: str = "other"
    mentions: tuple[Mention, ...] = ()
    sector: bool = False
    intents: tuple[str, ...] = ()
    customer_status: str = "unknown"
    lead_score: int = 0
    reasons: tuple[str, ...] = ()
    surface: bool = False
    greeting: str | None = None

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.entity for m in self.mentions))

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "mentions": [m.to_dict() for m in self.mentions],
            "sector": self.sector,
            "intents": list(self.intents),
            "customer_status": self.customer_status,
            "lead_score": self.lead_score,
            "reasons": list(self.reasons),
            "surface": self.surface,
            "greeting": self.greeting,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Analysis:
        values = dict(data)
        values["mentions"] = tuple(Mention(**m) for m in values.get("mentions", ()))
        values["intents"] = tuple(values.get("intents", ()))
        values["reasons"] = tuple(values.get("reasons", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Note:
    author: str
    text: str
    at: datetime

    def to_dict(self) -> dict:
        return {"author": self.author, "text": self.text, "at": format_time(self.at)}

    @classmethod
    def from_dict(cls, data: dict) -> Note:
        return cls(author=data["author"], text=data["text"], at=parse_time(data["at"]))


@dataclass(frozen=True, slots=True)
class ReplySend:
    """One attempt to answer a post from the inbox, kept under its idempotency ``key``.

    ``via`` is ``api`` (sent through the platform) or ``link`` (sent by hand, its
    link given). A failed attempt says why: ``error`` is one of
    ``listener.sending.ERRORS``, ``message`` a sentence, ``retry_at`` when a rate
    limit lifts.
    """

    key: str
    by: str
    at: datetime
    state: str
    via: str = "api"
    reply_id: str | None = None
    reply_url: str | None = None
    error: str | None = None
    message: str | None = None
    retry_at: datetime | None = None

    def to_dict(self) -> dict:
        return {
            "key": self.key, "by": self.by, "at": format_time(self.at), "state": self.state, "via": self.via,
            "reply_id": self.reply_id, "reply_url": self.reply_url, "error": self.error, "message": self.message,
            "retry_at": format_time(self.retry_at) if self.retry_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ReplySend:
        values = dict(data)
        values["at"] = parse_time(values["at"])
        values["retry_at"] = parse_time(values["retry_at"]) if values.get("retry_at") else None
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Workflow:
    """The team's work on a post. ``version`` grows by one on every change."""

    status: str = "new"
    assignee: str | None = None
    notes: tuple[Note, ...] = ()
    reply_draft: str | None = None
    follow_up_at: datetime | None = None
    version: int = 0
    updated_at: datetime | None = None
    sends: tuple[ReplySend, ...] = ()  # replies sent from the inbox, oldest first

    @property
    def sent(self) -> ReplySend | None:
        """The latest reply that went out, or None."""
        return next((s for s in reversed(self.sends) if s.state == "sent"), None)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "assignee": self.assignee,
            "notes": [n.to_dict() for n in self.notes],
            "reply_draft": self.reply_draft,
            "follow_up_at": format_time(self.follow_up_at) if self.follow_up_at else None,
            "version": self.version,
            "updated_at": format_time(self.updated_at) if self.updated_at else None,
            "sends": [s.to_dict() for s in self.sends],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Workflow:
        return cls(
            status=data.get("status", "new"),
            assignee=data.get("assignee"),
            notes=tuple(Note.from_dict(n) for n in data.get("notes") or ()),
            reply_draft=data.get("reply_draft"),
            follow_up_at=parse_time(data["follow_up_at"]) if data.get("follow_up_at") else None,
            version=data.get("version", 0),
            updated_at=parse_time(data["updated_at"]) if data.get("updated_at") else None,
            sends=tuple(ReplySend.from_dict(s) for s in data.get("sends") or ()),
        )


@dataclass(frozen=True, slots=True)
class Feedback:
    """What one person said about some of a post's labels (any subset of :data:`LABELS`)."""

    labels: Mapping[str, object]
    by: str
    at: datetime

    def __post_init__(self) -> None:
        labels = {k: tuple(v) if k == "mentions" else v for k, v in self.labels.items()}
        object.__setattr__(self, "labels", MappingProxyType(labels))
        object.__setattr__(self, "at", utc(self.at))

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.labels.items())), self.by, self.at))

    def to_dict(self) -> dict:
        labels = {k: list(v) if k == "mentions" else v for k, v in self.labels.items()}
        return {"labels": labels, "by": self.by, "at": format_time(self.at)}

    @classmethod
    def from_dict(cls, data: dict) -> Feedback:
        return cls(labels=data["labels"], by=data["by"], at=parse_time(data["at"]))


@dataclass(frozen=True, slots=True)
class IndexedPost:
    """A post as the index holds it: crawl data, analysis, thread state, team work and feedback (oldest first)."""

    post: Post
    analysis: Analysis
    answer_state: str = "unknown"
    workflow: Workflow = field(default_factory=Workflow)
    feedback: tuple[Feedback, ...] = ()

    @property
    def id(self) -> str:
        return self.post.id

    @property
    def reply_state(self) -> str:
        """``answered``, ``unanswered`` or ``unknown``."""
        return ANSWER_STATE_PARTS.get(self.answer_state, ANSWER_STATE_PARTS["unknown"])[0]

    @property
    def answered_by(self) -> str:
        """``brand``, ``competitor``, ``other`` or ``nobody``."""
        return ANSWER_STATE_PARTS.get(self.answer_state, ANSWER_STATE_PARTS["unknown"])[1]

    @property
    def reply_state_reason(self) -> str | None:
        """Why the reply state is unknown (one of UNKNOWN_REASONS); None when it is known."""
        if self.reply_state != "unknown":
            return None
        check = self.post.reply_check
        return check if check in UNKNOWN_REASONS else "not_checked"

    def to_dict(self) -> dict:
        return {
            "post": self.post.to_dict(),
            "analysis": self.analysis.to_dict(),
            "answer_state": self.answer_state,
            "workflow": self.workflow.to_dict(),
            "feedback": [f.to_dict() for f in self.feedback],
        }

    def with_workflow(self, workflow: Workflow) -> IndexedPost:
        return replace(self, workflow=workflow)
