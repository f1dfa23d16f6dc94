"""Checks recent complaints for spikes and alerts once per problem.

A spike's posts are remembered as alerted; a cluster holding any of them does
not alert again, so a growing spike is one alert, not one per new complaint.
Once its posts leave the window, a problem that keeps coming is a new spike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from listener.config import Config
from listener.index.base import BaseBackend, SearchQuery
from scheduler.alerts import Alert, AlertItem, Notifier
from scheduler.queries import search_all
from scheduler.settings import SpikeSettings
from scheduler.spikes import Cluster, SpikeDetector

logger = logging.getLogger(__name__)


def detector_for(config: Config, settings: SpikeSettings) -> SpikeDetector:
    names = [phrase for entity, _ in config.entities for phrase in (entity.name, *entity.aliases)]
    handles = [h.lstrip("@") for entity, _ in config.entities for h in entity.handles]
    return SpikeDetector(settings.min_authors, settings.similarity, settings.scorer, ignore=names + handles)


class SpikeWatch:
    def __init__(self, config: Config, backend: BaseBackend, notifier: Notifier, settings: SpikeSettings,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.backend = backend
        self.notifier = notifier
        self.settings = settings
        self.detector = detector_for(config, settings)
        self.clock = clock

    def check(self) -> list[Alert]:
        now = self.clock()
        window = timedelta(seconds=self.settings.window)
        query = SearchQuery(filters={"intent": tuple(self.settings.intents), "role": ("brand",)},
                            since=now - window, sort="oldest")
        docs = list(search_all(self.backend, query))
        alerts = []
        state = self.notifier.state
        for cluster in self.detector.spikes(docs):
            if any(state.alert_sent(f"spike-post:{doc.id}") for doc in cluster.docs):
                continue
            alert = spike_alert(cluster, window, self.settings.examples)
            self.notifier.counters.inc("spikes/detected")
            if self.notifier.send(alert):
                alerts.append(alert)
        return alerts


def spike_alert(cluster: Cluster, window: timedelta, examples: int) -> Alert:
    authors = len(cluster.authors)
    problem = cluster.problem()
    minutes = int(window.total_seconds() // 60)
    return Alert(
        kind="spike",
        keys=(cluster.key(), *(f"spike-post:{doc.id}" for doc in cluster.docs)),
        title=f"Spike: {authors} people report “{problem}” in the last {minutes} min",
        summary=f"{len(cluster.docs)} similar complaints from {authors} different authors. "
                "Consider one public notice, then answer each.",
        items=tuple(AlertItem.of(doc) for doc in cluster.examples(examples)),
        data={"problem": problem, "authors": authors, "posts": len(cluster.docs),
              "post_ids": sorted(doc.id for doc in cluster.docs)},
    )
