"""What a page or the API shows of a post: ages, SLA clocks, labels and the team's feedback on them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from markupsafe import Markup

from listener.config import ScheduleConfig
from listener.feedback import BOOLEAN_LABELS, CHOICES, effective_labels, latest_by_label, predicted_labels
from listener.present import age, handle
from listener.records import LABELS, Feedback, IndexedPost, format_time
from listener.sla import sla_status
from listener.web.i18n import N_, current_language, day_text, gettext
from listener.workflow import OPEN_STATUSES

SOON = timedelta(minutes=15)

__all__ = [
    "LabelRow", "SlaView", "age", "answer_label", "bdi", "day_field", "duration", "handle", "label_rows", "label_text", "local_time",
    "native_id", "percent", "post_json", "reasons_text", "safe_url", "send_reason_text", "sla_view", "term",
]

# The values a page shows (intents, statuses, roles, label and facet names...), as a person reads them.
TERMS = {
    "question": N_("question"), "recommendation_request": N_("recommendation request"), "complaint": N_("complaint"),
    "churn": N_("churn"), "praise": N_("praise"),
    "new": N_("new"), "claimed": N_("claimed"), "answered": N_("answered"), "resolved": N_("resolved"), "dismissed": N_("dismissed"),
    "customer": N_("customer"), "prospect": N_("prospect"), "unknown": N_("unknown"),
    "brand": N_("brand"), "competitor": N_("competitor"), "other": N_("other"),
    "agent": N_("agent"), "analyst": N_("analyst"), "admin": N_("admin"),
    "mentions": N_("mentions"), "sector": N_("sector"), "customer_status": N_("customer status"), "surface": N_("surface"),
    "language": N_("language"), "entity": N_("entity"), "source": N_("source"), "intent": N_("intent"),
    "answer_state": N_("answer state"), "status": N_("status"), "assignee": N_("assignee"),
    "hour": N_("hour"), "day": N_("day"), "week": N_("week"), "month": N_("month"),
    "since": N_("since"), "until": N_("until"),
    "relevance": N_("relevance"), "newest": N_("newest"), "oldest": N_("oldest"), "score": N_("score"),
    "our_complaint": N_("our complaint"), "our_churn": N_("our churn"), "welcome": N_("welcome"), "rival_unhappy": N_("rival unhappy"),
    "recommendation": N_("recommendation"), "answer": N_("answer"), "default": N_("default"),
}
ANSWER_TEXTS = {
    "unanswered": N_("no reply"), "answered": N_("someone else replied"), "answered_by_brand": N_("we replied"),
    "answered_by_competitor": N_("COMPETITOR replied"), "unknown": N_("reply unknown"),
}
UNKNOWN_TEXTS = {
    "not_checked": N_("not checked yet"), "no_thread_source": N_("the source shows no replies"),
    "lookup_failed": N_("thread look-up failed"), "budget_exhausted": N_("left out by the look-up budget"),
}


# Why a post surfaced, as the analysis wrote it (nlp/components/lead.py), and how a page says it: the names stay.
REASONS = [
    (re.compile(pattern), message) for pattern, message in (
        (r"^posted by (?P<name>.+) itself$", N_("posted by %(name)s itself")),
        (r"^looks like spam or a promotion$", N_("looks like spam or a promotion")),
        (r"^not about the brand, its competitors or the sector$", N_("not about the brand, its competitors or the sector")),
        (r"^does not tag (?P<name>.+), so the team may not have seen it$", N_("does not tag %(name)s, so the team may not have seen it")),
        (r"^mentions (?P<name>.+) \(competitor\)$", N_("mentions %(name)s (competitor)")),
        (r"^mentions (?P<name>.+)$", N_("mentions %(name)s")),
        (r"^talks about the sector without naming a company$", N_("talks about the sector without naming a company")),
        (r"^asks a question$", N_("asks a question")),
        (r"^asks for a recommendation$", N_("asks for a recommendation")),
        (r"^complains$", N_("complains")),
        (r"^is leaving or switching company$", N_("is leaving or switching company")),
        (r"^praises$", N_("praises")),
        (r"^is not yet a customer of (?P<name>.+)$", N_("is not yet a customer of %(name)s")),
        (r"^is a customer of (?P<name>.+)$", N_("is a customer of %(name)s")),
    )
]


# Why a post cannot be sent from the page (listener/sending/platforms.py), as a page says it.
SEND_REASONS = [
    (re.compile(pattern), message) for pattern, message in (
        (r"^(?P<source>.+) is not a configured source$", N_("%(source)s is not a configured source")),
        (r"^(?P<kind>.+) has no API to reply through$", N_("%(kind)s has no API to reply through")),
        (r"^the (?P<source>.+) source has no base_url$", N_("the %(source)s source has no base_url")),
        (r"^to send from here, set (?P<variables>.+)$", N_("to send from here, set %(variables)s")),
    )
]


def send_reason_text(reason: str) -> str:
    """Why a reply cannot be sent from here, in the page's language (any other text as written)."""
    return _translated(reason, SEND_REASONS) or reason


def _translated(text: str, patterns) -> str | None:
    for pattern, message in patterns:
        match = pattern.match(text)
        if match:
            return gettext(message) % match.groupdict()
    return None


def reasons_text(reasons) -> str:
    """The analysis's reasons for surfacing a post, joined, in the page's language (any other text as written)."""
    return "; ".join(_reason(reason) for reason in reasons)


def _reason(reason: str) -> str:
    translated = _translated(reason, REASONS)
    if translated is not None:
        return translated
    key = reason.replace(" ", "_")
    return term(key) if key in TERMS else reason


def term(value: object) -> str:
    """A value as a page shows it, in the page's language: ``recommendation_request`` reads "solicitud de recomendación"."""
    text = str(value)
    return gettext(TERMS[text]) if text in TERMS else text.replace("_", " ")


class _AnswerTexts(Mapping):
    """How each answer state reads, in the page's language (``answer_text.get(state, state)`` in templates)."""

    def __getitem__(self, state: str) -> str:
        return gettext(ANSWER_TEXTS[state])

    def __iter__(self):
        return iter(ANSWER_TEXTS)

    def __len__(self) -> int:
        return len(ANSWER_TEXTS)


ANSWER_TEXT = _AnswerTexts()


def answer_label(hit: IndexedPost) -> str:
    """How a post's reply state reads on a page (the wording of :func:`listener.present.answer_label`, translated)."""
    if hit.reply_state == "unknown":
        reason = hit.reply_state_reason
        return gettext("reply unknown: %(reason)s") % {"reason": gettext(UNKNOWN_TEXTS[reason]) if reason in UNKNOWN_TEXTS else reason}
    if hit.answered_by == "competitor" and hit.analysis.customer_status == "prospect":
        return gettext("COMPETITOR replied to our prospect")
    return ANSWER_TEXT.get(hit.answer_state, hit.answer_state)


def percent(value: float) -> str:
    """``0.75`` as ``75 %`` or ``75%``, as the page's language writes it."""
    return format_percent(value, locale=current_language())


def bdi(text: object) -> Markup:
    """Text people wrote, isolated for inline use in a translated sentence."""
    return Markup("<bdi>{}</bdi>").format(text)


def day_field(name: str, value: date | str | None) -> Markup:
    """A day as a text field, day first (``20/11/2026``); the server reads it (see :func:`listener.web.i18n.parse_day`)."""
    shown = value if isinstance(value, str) else day_text(value)
    return Markup('<input type="text" name="{}" value="{}" inputmode="numeric" size="10" pattern="{}" placeholder="{}" title="{}">').format(
        name, shown, r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}", gettext("dd/mm/yyyy"), gettext("A day, like 20/11/2026"),
    )


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
            return SlaView(gettext("answered"), "done", None, None, False, False)
        if status.overdue:
            text = gettext("answered %(late)s late") % {"late": duration(status.remaining)}
        else:
            text = gettext("answered on time")
        return SlaView(text, "done", None, None, status.overdue, status.off_hours)
    if hit.workflow.status not in OPEN_STATUSES:
        return SlaView(term(hit.workflow.status), "done", None, None, False, False)
    if hit.answered_by == "brand":  # answered on its platform: no clock, whatever the workflow says
        return SlaView(gettext("answered by us"), "done", None, None, False, False)
    try:
        status = sla_status(hit.post.created_at, schedule, now)
    except ValueError:  # a schedule without service time: no clock to show
        return SlaView(gettext("no SLA"), "done", None, None, False, False)
    if status.overdue:
        text, kind = gettext("late %(late)s") % {"late": duration(status.remaining)}, "late"
    else:
        left = gettext("due in %(left)s") % {"left": duration(status.remaining)} if status.remaining >= timedelta(minutes=1) else gettext("due now")
        text, kind = left, "soon" if status.remaining <= SOON else "ok"
    if status.off_hours:
        text += " " + gettext("(arrived off hours)")
    return SlaView(text, kind, status.due_at, status.remaining, status.overdue, status.off_hours)


def label_text(value: object) -> str:
    """A label's value as a person reads it: ``yes``, ``no``, ``Cinesa, Yelmo Cines``, ``none``."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, (tuple, list)):
        return ", ".join(value) or gettext("none")
    return term(value)


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
