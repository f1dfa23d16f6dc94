"""Answer re-checks: open posts are re-polled until answered, closed by the team, deleted or too old.

``schedule.recheck`` lists ages since a post was first stored (default 10 min,
1 h, 6 h, 24 h); at each the post's thread is fetched again through its source
and its reply fields refreshed, and after the last the last one repeats (every
24 h by default) until the post is ``schedule.recheck_max_age`` old (7 days).
Only the thread fields and the derived answer state change: the analysis and
the team's workflow are left as they are. A post stops being re-checked once
answered, once the team marks it answered, resolved or dismissed, or once too
old. A step missed while the scheduler was down is not repeated: the post is
checked once and moves to the next step still ahead.

Each round spends at most ``schedule.recheck_lookups`` thread look-ups,
cheapest first: a look-up serves every due post of its thread, so a thread
with many due posts costs less per post, and a kind whose look-ups are dear
(its ``recheck.cost``) waits behind the free ones. What does not fit stays due.

A post its source says is gone (the thread answers 404 or 410, or the post is
missing from its conversation) is recorded as deleted in the state and erased
from the index, so it leaves the inbox and search in that same round.

Fetching threads is the sources' business. The seam is :class:`ThreadRefresher`;
:class:`SpidersRefresher` uses ``spiders.recheck(config, source, posts)``.
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
from listener.workflow import OPEN_STATUSES
from scheduler.stats import Counters

logger = logging.getLogger(__name__)

# Posts not known to be answered: unanswered, or unknown because nobody looked yet or the look-up failed.
RECHECKED_STATES = ("unanswered", "unknown")
# What a re-check may change in a post: its place in the thread and the facts about its replies.
THREAD_FIELDS = ("thread_id", "parent_id", "reply_count", "replied_by", "first_reply_at", "reply_ids",
                 "later_repliers", "reply_check")


@dataclass
class RefreshResult:
    """The posts as the source sees them now (same ids; reply fields current), what failed, and what is gone.

    ``deleted`` maps a post id to why the source is taken to have deleted it.
    """

    posts: list[Post] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    deleted: dict[str, str] = field(default_factory=dict)


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

    def cost(self, source: SourceConfig) -> float:
        """What one thread look-up of ``source`` costs, in free look-ups (1)."""
        cost = getattr(self._recheck(), "cost", None)
        return float(cost(source)) if callable(cost) else 1.0

    def refresh(self, config: Config, source: SourceConfig, posts: list[Post]) -> RefreshResult:
        result = self._recheck()(config, source, posts, timeout=self.timeout)
        return RefreshResult(list(result.posts), list(result.errors), dict(getattr(result, "deleted", {})))


@dataclass
class RecheckReport:
    checked: int = 0
    answered: int = 0
    updated: int = 0
    finished: int = 0
    deleted: int = 0
    waiting: int = 0  # due, left for the next round by the look-up budget
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
        self.max_age = timedelta(seconds=config.schedule.recheck_max_age)
        self._unsupported_logged: set[str] = set()

    def plan(self, docs: list[IndexedPost]) -> int:
        """Plan re-checks of surfaced, open posts not yet planned; return how many were new."""
        if not self.steps:
            return 0
        now = self.clock()
        planned = 0
        for doc in docs:
            if not doc.analysis.surface or not self._open(doc) or self._too_old(doc, now + self.steps[0]):
                continue
            if not self._supported(doc.post.source):
                continue
            planned += self.state.schedule_recheck(doc.id, doc.post.source, 0, now + self.steps[0],
                                                   thread_id=doc.post.thread_id)
        self.counters.inc("recheck/planned", planned)
        return planned

    def _open(self, doc: IndexedPost) -> bool:
        return doc.answer_state in RECHECKED_STATES and doc.workflow.status in OPEN_STATUSES

    def _too_old(self, doc: IndexedPost, when: datetime) -> bool:
        return when - doc.post.created_at > self.max_age

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

    def run_due(self, limit: int | None = None) -> RecheckReport:
        """Re-check the posts whose time has come, cheapest look-ups first, within ``limit`` look-ups.

        ``limit`` defaults to ``schedule.recheck_lookups``.
        """
        report = RecheckReport()
        now = self.clock()
        dues = self.state.due_rechecks(now, limit=None)
        chosen = self._cheapest(dues, self.config.schedule.recheck_lookups if limit is None else limit)
        report.waiting = len(dues) - len(chosen)
        self.counters.inc("recheck/waiting", report.waiting)
        by_source: dict[str, list[Recheck]] = defaultdict(list)
        for due in chosen:
            by_source[due.source].append(due)
        for label, group in by_source.items():
            self._recheck_source(label, group, now, report)
        if report.checked or report.waiting:
            logger.info(
                "recheck: %d checked, %d newly answered, %d deleted, %d updated, %d finished, %d waiting, %d errors",
                report.checked, report.answered, report.deleted, report.updated, report.finished, report.waiting,
                len(report.errors),
                extra={"event": "recheck", "checked": report.checked, "answered": report.answered,
                       "deleted": report.deleted, "waiting": report.waiting},
            )
        return report

    def _cheapest(self, dues: list[Recheck], budget: float) -> list[Recheck]:
        """The due re-checks that fit ``budget`` look-ups, cheapest per post first, then the longest due."""
        threads: dict[tuple[str, str], list[Recheck]] = defaultdict(list)
        for due in dues:
            threads[(due.source, due.thread_id or due.post_id)].append(due)
        costs = {label: self._cost(label) for label in {due.source for due in dues}}
        order = sorted(threads.values(), key=lambda group: (costs[group[0].source] / len(group),
                                                            min(d.due_at for d in group)))
        chosen: list[Recheck] = []
        for group in order:
            cost = costs[group[0].source]
            if cost > budget and chosen:
                continue  # something cheaper may still fit
            chosen += group
            budget -= cost
        return chosen

    def _cost(self, label: str) -> float:
        cost = getattr(self.refresher, "cost", None)
        if not callable(cost):
            return 1.0
        try:
            return max(float(cost(self.config.source(label))), 0.0)
        except ConfigError:
            return 0.0  # the source is gone from the configuration: finishing its plans costs nothing

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
            if doc is None or not self._open(doc):
                self._finish(due, report)  # erased, answered as seen by a later crawl, or closed by the team
            elif self._too_old(doc, now):
                self._expire(due, report)
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
        self._erase(label, {post_id: why for post_id, why in result.deleted.items() if post_id in docs}, now, report)
        fresh = {post.id: post for post in result.posts}
        updates = []
        for post_id, (due, doc) in docs.items():
            if post_id in result.deleted:
                continue
            report.checked += 1
            self.counters.inc("recheck/checked")
            current = fresh.get(post_id)
            if current is None:
                self._advance(due, doc, now, report)
                continue
            post = replace(doc.post, **{name: getattr(current, name) for name in THREAD_FIELDS})
            state = answer_state(post, self.config)
            if post != doc.post or state != doc.answer_state:
                updates.append(IndexedPost(post=post, analysis=doc.analysis, answer_state=state, workflow=doc.workflow))
            if state in RECHECKED_STATES:
                self._advance(due, doc, now, report)
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

    def _erase(self, label: str, deleted: dict[str, str], now: datetime, report: RecheckReport) -> None:
        """Record posts deleted at the source, then take them out of the index (inbox and search)."""
        if not deleted:
            return
        for post_id, why in deleted.items():
            self.state.mark_deleted(post_id, label, why, at=now)
            logger.info("recheck: %s was deleted at its source (%s)", post_id, why)
        self.backend.delete(deleted)
        self.backend.refresh()
        report.checked += len(deleted)
        report.deleted += len(deleted)
        report.finished += len(deleted)
        self.counters.inc("recheck/checked", len(deleted))
        self.counters.inc("recheck/deleted", len(deleted))

    def _offset(self, step: int) -> timedelta:
        """How long after planning check number ``step`` falls; past the schedule, the last step repeats."""
        if step < len(self.steps):
            return self.steps[step]
        return self.steps[-1] * (step - len(self.steps) + 2)

    def _advance(self, due: Recheck, doc: IndexedPost, now: datetime, report: RecheckReport) -> None:
        """Move to the first step still ahead, or stop once the post would be too old by then."""
        base = due.due_at - self._offset(due.step)
        step = due.step + 1
        while base + self._offset(step) <= now:
            step += 1
        when = base + self._offset(step)
        if self._too_old(doc, when):
            self._expire(due, report)
            return
        self.state.schedule_recheck(due.post_id, due.source, step, when, replace=True)

    def _expire(self, due: Recheck, report: RecheckReport) -> None:
        self._finish(due, report)
        self.counters.inc("recheck/expired")

    def _finish(self, due: Recheck, report: RecheckReport) -> None:
        self.state.drop_recheck(due.post_id)
        report.finished += 1
