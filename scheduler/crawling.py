"""One scheduled run of one source: fetch, analyse, index, and only then advance the cursors.

A source with several explicit ``queries`` gets one job per query, so a slow or
failing query does not hold the others back; a source whose queries are built
from the brand configuration is one job. Each run is recorded in the state
store for ``listener status``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from listener.config import Config, SourceConfig
from listener.deadletter import FILENAME, DeadLetterFile
from listener.errors import ListenerError
from listener.index.base import BaseBackend
from listener.pipeline import IngestReport, Pipeline
from listener.records import IndexedPost, Post
from listener.redaction import redact
from listener.state import StateStore
from scheduler.stats import Counters

if TYPE_CHECKING:
    from spiders import CrawlResult

logger = logging.getLogger(__name__)

# A local crawl is a subprocess; past this it is killed and the run fails (its cursors stay put).
CRAWL_TIMEOUT = 600.0

# (config, source, cursors) -> CrawlResult; tests pass a local one.
Crawler = Callable[[Config, SourceConfig, dict], "CrawlResult"]


def spiders_crawler(timeout: float = CRAWL_TIMEOUT, settings: dict | None = None) -> Crawler:
    """The real crawler: ``spiders.crawl`` in a fresh subprocess per run (Scrapy ``settings`` on top)."""

    def crawl(config: Config, source: SourceConfig, cursors: dict) -> CrawlResult:
        import spiders

        return spiders.crawl(config, source, cursors, settings=settings, timeout=timeout)

    return crawl


def configured_crawler(config: Config, settings: dict | None = None) -> Crawler:
    """Crawls on the scrapyd workers of ``schedule.workers``, else in local subprocesses."""
    if config.schedule.workers.scrapyd:
        from scheduler.workers import ScrapydCrawler

        return ScrapydCrawler.from_config(config, settings=settings)
    return spiders_crawler(settings=settings)


@dataclass(frozen=True, slots=True)
class CrawlJob:
    """What one scheduled job crawls: a source, or one query of it."""

    source: str
    query: str | None = None

    @property
    def name(self) -> str:
        return self.source if self.query is None else f"{self.source}/{self.query}"

    @property
    def job_id(self) -> str:
        return f"crawl:{self.name}"


def crawl_jobs(config: Config) -> list[tuple[CrawlJob, SourceConfig]]:
    """One job per source, or per query where a source lists several."""
    jobs = []
    for source in config.sources:
        if len(source.queries) > 1:
            jobs += [(CrawlJob(source.label, query), source) for query in source.queries]
        else:
            jobs.append((CrawlJob(source.label), source))
    return jobs


@dataclass
class RunOutcome:
    job: CrawlJob
    fetched: int = 0
    indexed: int = 0
    errors: list[str] = field(default_factory=list)
    cursors_saved: bool = False
    docs: list[IndexedPost] = field(default_factory=list)
    seconds: float = 0.0
    crawl_seconds: float = 0.0


class SourceRunner:
    """Runs crawl jobs; ``on_indexed`` hooks see the posts each run stored."""

    def __init__(
        self,
        config: Config,
        backend: BaseBackend,
        state: StateStore,
        pipeline: Pipeline,
        crawler: Crawler,
        counters: Counters,
        on_indexed: Sequence[Callable[[list[IndexedPost]], None]] = (),
        dead_letter: DeadLetterFile | None = None,
    ):
        self.config = config
        self.backend = backend
        self.state = state
        self.pipeline = pipeline
        self.crawler = crawler
        self.counters = counters
        self.on_indexed = list(on_indexed)
        # What a source sent that is not a post, and posts the index refused, go here to be fixed and replayed.
        self.dead_letter = dead_letter or DeadLetterFile(config.data_path(FILENAME))
        # Analysis and writes are one at a time; crawls (subprocesses) run side by side.
        self._ingest_lock = threading.Lock()

    def run(self, job: CrawlJob) -> RunOutcome:
        started = time.monotonic()
        outcome = RunOutcome(job)
        run_id = self.state.start_run(job.name)
        self.counters.inc("crawl/runs")
        try:
            self._run(job, outcome)
        except ListenerError as exc:
            outcome.errors.append(f"{job.name}: {exc}")
            logger.error("crawl %s failed: %s", job.name, exc)
        except Exception as exc:  # a job must never take the scheduler down
            outcome.errors.append(f"{job.name}: {type(exc).__name__}: {exc}")
            logger.exception("crawl %s failed", job.name)
        outcome.seconds = time.monotonic() - started
        self.state.finish_run(run_id, outcome.fetched, [redact(error) for error in outcome.errors])
        self.counters.inc("crawl/posts", outcome.fetched)
        self.counters.inc("crawl/indexed", outcome.indexed)
        if outcome.errors:
            self.counters.inc("crawl/runs_with_errors")
            self.counters.inc("crawl/errors", len(outcome.errors))
        logger.info(
            "crawl %s: %d fetched, %d indexed, %d errors, cursors %s in %.1fs (crawl %.1fs)",
            job.name, outcome.fetched, outcome.indexed, len(outcome.errors),
            "saved" if outcome.cursors_saved else "kept", outcome.seconds, outcome.crawl_seconds,
            extra={"event": "crawl", "source": job.source, "query": job.query, "fetched": outcome.fetched,
                   "indexed": outcome.indexed, "errors": len(outcome.errors), "seconds": round(outcome.seconds, 3),
                   "crawl_seconds": round(outcome.crawl_seconds, 3)},
        )
        return outcome

    def _run(self, job: CrawlJob, outcome: RunOutcome) -> None:
        source = self.config.source(job.source)
        if job.query is not None:
            source = source.model_copy(update={"queries": [job.query]})
        cursors = self.state.load_cursors(job.source)
        started = time.monotonic()
        result = self.crawler(self.config, source, dict(cursors))
        outcome.crawl_seconds = time.monotonic() - started
        outcome.errors += list(result.errors)
        if result.rejected:  # a bad item is kept aside and never holds its source back
            self.dead_letter.add(result.rejected)
            self.counters.inc("crawl/rejected", len(result.rejected))
        posts = list({post.id: post for post in result.posts}.values())  # the last copy of a post wins
        gone = self.state.deleted_among(post.id for post in posts)
        if gone:  # a search may still list a post its author deleted: it stays out of the index
            posts = [post for post in posts if post.id not in gone]
            self.counters.inc("crawl/deleted_skipped", len(gone))
        outcome.fetched = len(posts)
        if posts:
            with self._ingest_lock:
                report = self.pipeline.ingest(posts, dead_letter=self.dead_letter)
            if report.suppressed:
                self.counters.inc("crawl/suppressed", report.suppressed)
                logger.info("crawl %s: %d post(s) by erased authors skipped", job.name, report.suppressed)
            outcome.docs, unconfirmed = self._confirm(posts, report)
            outcome.indexed = len(outcome.docs)
            if unconfirmed:
                outcome.errors.append(f"{job.name}: {len(unconfirmed)} post(s) not indexed; cursors kept: {unconfirmed[0]}")
                return
        changed = {key: value for key, value in result.cursors.items() if cursors.get(key) != value}
        if changed:
            self.state.save_cursors(job.source, changed)
        outcome.cursors_saved = True
        for hook in self.on_indexed:
            if outcome.docs:
                hook(outcome.docs)

    def _confirm(self, posts: list[Post], report: IngestReport) -> tuple[list[IndexedPost], list[str]]:
        """Read the posts back. A post the index failed to write holds the cursors back;
        a post the analysis rejected does not (crawling it again would not help)."""
        docs = [doc for doc in (self.backend.get(post.id) for post in posts) if doc is not None]
        write_failures = list(report.failed_writes)
        # Posts by erased authors were skipped on purpose.
        silently_missing = len(posts) - len(docs) - (len(report.rejected) - len(write_failures)) - report.suppressed
        if silently_missing > 0 and not write_failures:
            write_failures.append(f"{silently_missing} post(s) missing from the index after ingest")
        return docs, write_failures
