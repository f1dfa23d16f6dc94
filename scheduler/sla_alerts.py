"""SLA breaches: alert once per post past its due time, and the reports behind
``listener report sla`` and ``listener report offhours``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from listener.config import Config
from listener.index.base import BaseBackend
from listener.records import IndexedPost
from listener.sla import SlaStatus, sla_status
from scheduler.alerts import Alert, AlertItem, Notifier
from scheduler.queries import awaiting_brand, search_all, surfaced
from scheduler.settings import SlaSettings

logger = logging.getLogger(__name__)

MAX_ITEMS = 10


@dataclass(frozen=True, slots=True)
class Clocked:
    doc: IndexedPost
    status: SlaStatus


def overdue(backend: BaseBackend, config: Config, now: datetime, lookback: timedelta) -> list[Clocked]:
    """Posts waiting for the brand past their due time, created within ``lookback``, most late first."""
    late = []
    for doc in search_all(backend, awaiting_brand(since=now - lookback)):
        status = sla_status(doc.post.created_at, config.schedule, now)
        if status.overdue:
            late.append(Clocked(doc, status))
    return sorted(late, key=lambda c: c.status.remaining)


def off_hours(backend: BaseBackend, config: Config, since: datetime, until: datetime, now: datetime) -> list[Clocked]:
    """Surfaced posts that arrived when nobody was on duty, oldest first.

    The clock of a post stops at its first reply if the brand answered it.
    """
    arrived = []
    for doc in search_all(backend, surfaced(since=since, until=until)):
        answered_at = doc.post.first_reply_at if doc.answer_state == "answered_by_brand" else None
        status = sla_status(doc.post.created_at, config.schedule, now, answered_at=answered_at)
        if status.off_hours:
            arrived.append(Clocked(doc, status))
    return arrived


def lateness(status: SlaStatus) -> str:
    minutes = int(-status.remaining.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min late"
    if minutes < 48 * 60:
        return f"{minutes // 60} h late"
    return f"{minutes // 1440} days late"


class SlaWatch:
    """Sends one alert per check listing the posts that became overdue since the last one."""

    def __init__(self, config: Config, backend: BaseBackend, notifier: Notifier, settings: SlaSettings,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.config = config
        self.backend = backend
        self.notifier = notifier
        self.settings = settings
        self.clock = clock

    def check(self) -> Alert | None:
        now = self.clock()
        late = overdue(self.backend, self.config, now, timedelta(seconds=self.settings.lookback))
        state = self.notifier.state
        fresh = [c for c in late if not state.alert_sent(f"sla:{c.doc.id}")]
        self.notifier.counters.inc("sla/overdue_seen", len(late))
        if not fresh:
            return None
        alert = sla_alert(fresh)
        self.notifier.send(alert)
        return alert


def sla_alert(late: list[Clocked]) -> Alert:
    ids = sorted(c.doc.id for c in late)
    batch = "sla-batch:" + hashlib.sha1("\n".join(ids).encode()).hexdigest()[:16]
    count = len(late)
    title = f"{count} post{'s' if count != 1 else ''} past the response time"
    shown = late[:MAX_ITEMS]
    more = f" (showing {len(shown)})" if count > len(shown) else ""
    return Alert(
        kind="sla",
        keys=(batch, *(f"sla:{post_id}" for post_id in ids)),
        title=title,
        summary=f"Nobody from the brand has answered these yet{more}.",
        items=tuple(AlertItem.of(c.doc, note=f"{lateness(c.status)}, due {c.status.due_at:%Y-%m-%d %H:%M} UTC") for c in shown),
        data={"overdue": count, "post_ids": ids},
    )
