"""High-value prospects: one alert per crawl run listing the new ones."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from listener.present import answer_label
from listener.records import WAITING_FOR_BRAND, IndexedPost
from listener.workflow import OPEN_STATUSES
from scheduler.alerts import Alert, AlertItem, Notifier
from scheduler.settings import ProspectSettings

MAX_ITEMS = 10


class ProspectWatch:
    def __init__(self, notifier: Notifier, settings: ProspectSettings,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.notifier = notifier
        self.settings = settings
        self.clock = clock

    def wanted(self, doc: IndexedPost, now: datetime) -> bool:
        return (
            doc.analysis.surface
            and doc.analysis.customer_status == "prospect"
            and doc.analysis.lead_score >= self.settings.min_score
            and doc.workflow.status in OPEN_STATUSES
            and doc.answer_state in WAITING_FOR_BRAND  # the brand answered it already: nothing to alert
            and now - doc.post.created_at <= timedelta(seconds=self.settings.max_age)
        )

    def check(self, docs: list[IndexedPost]) -> Alert | None:
        now = self.clock()
        state = self.notifier.state
        found = [d for d in docs if self.wanted(d, now) and not state.alert_sent(f"prospect:{d.id}")]
        if not found:
            return None
        found.sort(key=lambda d: d.analysis.lead_score, reverse=True)
        ids = sorted(d.id for d in found)
        batch = "prospect-batch:" + hashlib.sha1("\n".join(ids).encode()).hexdigest()[:16]
        count = len(found)
        alert = Alert(
            kind="prospect",
            keys=(batch, *(f"prospect:{post_id}" for post_id in ids)),
            title=f"{count} new prospect{'s' if count != 1 else ''} worth answering",
            items=tuple(AlertItem.of(d, note=_note(d)) for d in found[:MAX_ITEMS]),
            data={"prospects": count, "post_ids": ids},
        )
        self.notifier.send(alert)
        return alert


def _note(doc: IndexedPost) -> str:
    note = f"score {doc.analysis.lead_score}: {', '.join(doc.analysis.reasons[:2])}"
    if doc.answered_by == "competitor":  # an analyst signal: a rival got to our prospect first
        note += f" ({answer_label(doc)})"
    return note
