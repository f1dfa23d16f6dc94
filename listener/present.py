"""Plain-text views of index results for the terminal."""

from __future__ import annotations

import shutil
import textwrap
from zoneinfo import ZoneInfo
from datetime import datetime, timedelta, timezone

from listener.config import Config
from listener.index.base import SearchResult
from listener.records import IndexedPost
from listener.sla import sla_status

ANSWER_LABELS = {
    "unanswered": "no reply",
    "answered": "someone else replied",
    "answered_by_brand": "we replied",
    "answered_by_competitor": "COMPETITOR replied",
    "unknown": "reply unknown",
}
UNKNOWN_LABELS = {
    "not_checked": "not checked yet",
    "no_thread_source": "the source shows no replies",
    "lookup_failed": "thread look-up failed",
    "budget_exhausted": "left out by the look-up budget",
}


def answer_label(hit: IndexedPost) -> str:
    """How a post's reply state reads, the same in the terminal, the web and alerts."""
    if hit.reply_state == "unknown":
        return f"reply unknown: {UNKNOWN_LABELS.get(hit.reply_state_reason, hit.reply_state_reason)}"
    if hit.answered_by == "competitor" and hit.analysis.customer_status == "prospect":
        return "COMPETITOR replied to our prospect"
    return ANSWER_LABELS.get(hit.answer_state, hit.answer_state)


def age(created_at: datetime, now: datetime | None = None) -> str:
    """A short age: ``45s``, ``12m``, ``3h``, ``2d``."""
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - created_at).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def sla_clock(created_at: datetime, config: Config, now: datetime | None = None) -> str:
    """Time left to answer within the SLA (counted in service hours), or how late it is."""
    now = now or datetime.now(timezone.utc)
    status = sla_status(created_at, config.schedule, now)
    if status.overdue:
        return f"LATE {age(now + status.remaining, now)}"
    if status.remaining > timedelta(hours=12):
        local = status.due_at.astimezone(ZoneInfo(config.schedule.timezone))
        return f"due {local:%a %H:%M}"
    return f"{age(now - status.remaining, now)} left"


def handle(author: str | None) -> str:
    """``@name`` whether or not the source stored the ``@`` (X and Mastodon do); the one place a handle is written."""
    if not author:
        return "(deleted author)"
    return "@" + author.lstrip("@")


def one_line(text: str, width: int) -> str:
    return textwrap.shorten(" ".join(text.split()), width=max(width, 10), placeholder="…")


def inbox_row(hit: IndexedPost, config: Config, width: int) -> list[str]:
    post, analysis = hit.post, hit.analysis
    who = handle(post.author)
    status = hit.workflow.status + (f" by {hit.workflow.assignee}" if hit.workflow.assignee else "")
    head = (
        f"{analysis.lead_score:>3}  {age(post.created_at):>4} old  {sla_clock(post.created_at, config):>12}  "
        f"{post.source:<12} {who:<18} {','.join(analysis.intents) or '-':<28} {status}"
    )
    lines = [head, "      " + one_line(post.text, width - 6)]
    why = "; ".join(analysis.reasons)
    extra = " · ".join(x for x in (answer_label(hit), analysis.customer_status) if x)
    lines.append("      " + one_line(f"why: {why} [{extra}]", width - 6))
    lines.append(f"      {post.url}  id={post.id}")
    return lines


def inbox_table(hits: list[IndexedPost], config: Config, total: int | None = None) -> str:
    if not hits:
        return "The inbox is empty: nothing to answer right now."
    width = min(shutil.get_terminal_size((110, 20)).columns, 140)
    header = f"score  age      SLA ({config.schedule.sla_minutes}m)  source       author             intents                      status"
    out = [header, "-" * min(len(header) + 10, width)]
    for hit in hits:
        out += inbox_row(hit, config, width)
    if total is not None and total > len(hits):
        out.append(f"… {total - len(hits)} more in the inbox (use --limit or filters).")
    return "\n".join(out)


def search_text(result: SearchResult) -> str:
    width = min(shutil.get_terminal_size((110, 20)).columns, 140)
    out = [f"{result.total} post(s)" if result.total_exact else f"{result.total}+ post(s); the newest {result.total} are ranked and counted"]
    for hit in result.hits:
        post = hit.post
        who = handle(post.author)
        out.append(f"  {age(post.created_at):>4}  {post.source:<12} {who:<18} {one_line(post.text, width - 42)}")
    for name, buckets in result.facets.items():
        counts = ", ".join(f"{value} ({n})" for value, n in buckets) or "none"
        out.append(f"{name}: {counts}")
    return "\n".join(out)
