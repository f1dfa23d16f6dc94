"""Answer re-checks: surfaced posts nobody answered are re-polled on a back-off schedule.

``schedule.recheck`` lists ages since a post was first stored (default 10 min,
1 h, 6 h, 24 h); at each, the post's thread is fetched again through its source
and its reply fields (count, repliers, first reply time) refreshed. Only those
fields and the derived answer state change: the analysis and the team's
workflow are left as they are. A post stops being re-checked once answered or
after the last step. A step missed while the scheduler was down is not repeated:
the post is checked once and moves to the next step still ahead.

Fetching threads is the sources' business. The seam is :class:`ThreadRefresher`;
:class:`SpidersRefresher` uses ``spiders.recheck(config, source, posts)`` when
the spiders package provides it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Protocol

from listener.config import Config, SourceConfig
from listener.errors import ConfigError
from listener.index.base import BaseBackend
from listener.records import IndexedPost, Post
from listener.state import Recheck, StateStore
from listener.threads import answer_state
from scheduler.stats import Counters

logger = logging.getLogger(__name__)

RECHECKED_STATES = ("unanswered",)


@dataclass
class RefreshResult:
    """The posts as the source sees them now (same ids; reply fields current) and what failed."""

    posts: list[Post] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class ThreadRefresher(Protocol):
    def supports(self, source: SourceConfig) -> bool:
        """Whether this source can fetch a post's replies again."""

    def refresh(self, config: Config, source: SourceConfig, posts: list[Post]) -> RefreshResult:
        """Fetch each post's thread again."""


class SpidersRefresher:
    """Re-fetches threads with ``spiders.recheck`` (a subprocess crawl of the given posts)."""

    def __init__(self, timeout: float = 300.0):
        self.timeout = timeout

    def _recheck(self) -> Callable | None:
        import spiders

        return getattr(spiders, "recheck", None)

    def supports(self, source: SourceConfig) -> bool:
        recheck = self._recheck()
        if recheck is None:
            return False
        can = getattr(recheck, "supports", None)
        return bool(can(source)) if callable(can) else True

    def refresh(self, config: Config, source: SourceConfig, posts: list[Post]) -> RefreshResult:
        result = self._recheck()(config, source, posts, timeout=self.timeout)
        return RefreshResult(list(result.posts), list(result.errors))


@dataclass
class RecheckReport:
    checked: int = 0
    answered: int = 0
    updated: int = 0
    finished: int = 0
    errors: list[str] = field(default_factory=list)


class AnswerRechecker:
    def __init__(
        self,
        config: Config,
        backend: BaseBackend,
        state: StateStore,
        refresher: ThreadRefresher,
        counters: Counters,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ):
        self.config = config
        self.backend = backend
        self.state = state
        self.refresher = refresher
        self.counters = counters
        self.clock = clock
        self.steps = [timedelta(seconds=s) for s in config.schedule.recheck]
        self._unsupported_logged: set[str] = set()

    def plan(self, docs: list[IndexedPost]) -> int:
        """Plan re-checks of surfaced, unanswered posts not yet planned; return how many were new."""
        if not self.steps:
            return 0
        now = self.clock()
        planned = 0
        for doc in docs:
            if not doc.analysis.surface or doc.answer_state not in RECHECKED_STATES:
                continue
            if not self._supported(doc.post.source):
                continue
            planned += self.state.schedule_recheck(doc.id, doc.post.source, 0, now + self.steps[0])
        self.counters.inc("recheck/planned", planned)
        return planned

    def _supported(self, label: str) -> bool:
        try:
            source = self.config.source(label)
        except ConfigError:
            return False
        if self.refresher.supports(source):
            return True
        if label not in self._unsupported_logged:
            self._unsupported_logged.add(label)
            logger.info("source %s cannot fetch threads again; its posts are not re-checked", label)
        return False

    def run_due(self, limit: int = 200) -> RecheckReport:
        """Re-check every post whose time has come (up to ``limit``)."""
        report = RecheckReport()
        now = self.clock()
        by_source: dict[str, list[Recheck]] = defaultdict(list)
        for due in self.state.due_rechecks(now, limit=limit):
            by_source[due.source].append(due)
        for label, dues in by_source.items():
            self._recheck_source(label, dues, now, report)
        if report.checked:
            logger.info(
                "recheck: %d checked, %d newly answered, %d updated, %d finished, %d errors",
                report.checked, report.answered, report.updated, report.finished, len(report.errors),
                extra={"event": "recheck", "checked": report.checked, "answered": report.answered},
            )
        return report

    def _recheck_source(self, label: str, dues: list[Recheck], now: datetime, report: RecheckReport) -> None:
        try:
            source = self.config.source(label)
        except ConfigError:
            for due in dues:
                self._finish(due, report)  # the source is gone from the configuration
            return
        docs: dict[str, tuple[Recheck, IndexedPost]] = {}
        for due in dues:
            doc = self.backend.get(due.post_id)
            if doc is None or doc.answer_state not in RECHECKED_STATES:
                self._finish(due, report)  # erased, or answered as seen by a later crawl
            else:
                docs[due.post_id] = (due, doc)
        if not docs:
            return
        try:
            result = self.refresher.refresh(self.config, source, [doc.post for _, doc in docs.values()])
        except Exception as exc:  # the plan stays; the next tick tries again
            report.errors.append(f"{label}: {exc}")
            self.counters.inc("recheck/errors")
            logger.warning("recheck %s failed: %s", label, exc)
            return
        report.errors += result.errors
        self.counters.inc("recheck/errors", len(result.errors))
        fresh = {post.id: post for post in result.posts}
        updates = []
        for post_id, (due, doc) in docs.items():
            report.checked += 1
            self.counters.inc("recheck/checked")
            current = fresh.get(post_id)
            if current is None:
                self._advance(due, now, report)
                continue
            post = replace(doc.post, reply_count=current.reply_count, replied_by=current.replied_by,
                           first_reply_at=current.first_reply_at)
            state = answer_state(post, self.config)
            if post != doc.post or state != doc.answer_state:
                updates.append(IndexedPost(post=post, analysis=doc.analysis, answer_state=state, workflow=doc.workflow))
            if state in RECHECKED_STATES:
                self._advance(due, now, report)
            else:
                report.answered += 1
                self.counters.inc(f"recheck/answered/{state}")
                self._finish(due, report)
        if updates:
            written = self.backend.upsert(updates)
            self.backend.refresh()
            report.updated += len(written.indexed)
            for post_id, reason in written.failed:
                report.errors.append(f"{post_id}: answer state not written ({reason})")

    def _advance(self, due: Recheck, now: datetime, report: RecheckReport) -> None:
        """Move to the first step still ahead, or stop after the last."""
        base = due.due_at - self.steps[min(due.step, len(self.steps) - 1)]
        for step in range(due.step + 1, len(self.steps)):
            if base + self.steps[step] > now:
                self.state.schedule_recheck(due.post_id, due.source, step, base + self.steps[step], replace=True)
                return
        self._finish(due, report)
        self.counters.inc("recheck/expired")

    def _finish(self, due: Recheck, report: RecheckReport) -> None:
        self.state.drop_recheck(due.post_id)
        report.finished += 1
