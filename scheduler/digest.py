"""The daily digest: new prospects, posts waiting, SLA breaches, spikes and share of voice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from listener.config import Config
from listener.index.base import BaseBackend, SearchQuery
from listener.workflow import OPEN_STATUSES
from listener.state import StateStore
from scheduler.alerts import Alert, AlertItem, Notifier
from scheduler.queries import awaiting_brand
from scheduler.sla_alerts import overdue
from scheduler.settings import AlertsConfig

PERIOD = timedelta(days=1)
TOP = 5


def share_of_voice(backend: BaseBackend, config: Config, since: datetime, until: datetime) -> list[tuple[str, int, float]]:
    """``(entity, posts, share)`` for the brand and each competitor, brand first."""
    result = backend.search(SearchQuery(since=since, until=until, facets=("entity",), limit=1))
    counts = dict(result.facets.get("entity", []))
    names = [entity.name for entity, _ in config.entities]
    total = sum(counts.get(name, 0) for name in names)
    return [(name, counts.get(name, 0), counts.get(name, 0) / total if total else 0.0) for name in names]


def build_digest(config: Config, backend: BaseBackend, state: StateStore, settings: AlertsConfig, now: datetime) -> Alert:
    since = now - PERIOD
    day = now.astimezone(ZoneInfo(config.schedule.timezone)).date()
    prospects = backend.search(SearchQuery(
        filters={"customer_status": ("prospect",)}, surface=True, since=since, until=now, sort="score", limit=TOP,
    ))
    waiting = backend.count(awaiting_brand())
    rivals = backend.count(SearchQuery(filters={"customer_status": ("prospect",), "answer_state": ("answered_by_competitor",),
                                                "status": OPEN_STATUSES}, surface=True, since=since, until=now))
    late = overdue(backend, config, now, timedelta(seconds=settings.sla.lookback))
    breaches = state.alerts_since("sla/post", since)
    spikes = state.alerts_since("spike", since)
    voice = share_of_voice(backend, config, since, now)
    sections = (
        (f"New prospects: {prospects.total}",
         tuple(AlertItem.of(doc, note=f"score {doc.analysis.lead_score}").line() for doc in prospects.hits)),
        (f"Waiting for an answer from the brand: {waiting}", ()),
        (f"Prospects a competitor answered first (last 24 h): {rivals}", ()),
        (f"SLA: {len(late)} overdue now, {len(breaches)} breached in the last 24 h", ()),
        (f"Spikes: {len(spikes)}", tuple(title or key for key, _, title in spikes)),
        ("Share of voice (last 24 h)", tuple(f"{name}: {posts} posts ({share:.0%})" for name, posts, share in voice)),
    )
    return Alert(
        kind="digest",
        keys=(f"digest:{day.isoformat()}",),
        title=f"listener daily digest for {config.brand.name}, {day.isoformat()}",
        sections=sections,
        data={
            "prospects": prospects.total,
            "waiting": waiting,
            "prospects_answered_by_competitor": rivals,
            "overdue": len(late),
            "breaches": len(breaches),
            "spikes": len(spikes),
            "share_of_voice": {name: posts for name, posts, _ in voice},
        },
    )


class DigestJob:
    def __init__(self, config: Config, backend: BaseBackend, notifier: Notifier, settings: AlertsConfig,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.config = config
        self.backend = backend
        self.notifier = notifier
        self.settings = settings
        self.clock = clock

    def send(self) -> Alert:
        alert = build_digest(self.config, self.backend, self.notifier.state, self.settings, self.clock())
        self.notifier.send(alert)
        return alert
