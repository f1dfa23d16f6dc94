"""``listener run``: one process that keeps the index fresh and the team informed.

A BackgroundScheduler (APScheduler 3.x) runs, from a job store in the state
file so that jobs survive restarts:

- one crawl job per source (per query where a source lists several), at the
  source's ``interval``;
- ``recheck``: answer re-checks that are due;
- ``sla``: alerts for posts past their response time;
- ``spikes``: alerts for many people reporting the same problem;
- ``digest``: the daily digest, at ``alerts.digest.at`` local time;
- ``housekeeping`` (also in ``run_once``): pruning old run records, alert keys and the
  events files a stopped leader left on the workers' storage; on Elasticsearch, a
  rollover to a new write index once ``index.rollover``'s age or size is reached;
- ``retention``: with ``index.retention`` set, erasing posts published longer ago, daily;
- ``config``: with a configuration file, reading it again when it changed (the web app's settings page
  writes it): the brand, competitors and sector for the analysis, the sources' queries and intervals,
  the schedule and the alerts apply without a restart; the data directory and index need one.

Every job coalesces (a stopped scheduler catches up once, not once per missed
interval), never runs twice at once (``max_instances=1``), and may start up
to a day late. SIGTERM or SIGINT stops gracefully: running crawls finish,
their posts are indexed and their cursors saved; a second signal exits at once.

Only one ``listener run`` schedules: with SQLite, a file lock in the data
directory; with Elasticsearch, a lease in the index (:mod:`scheduler.lease`),
so that a second run on another machine waits and takes over when the leader
dies. A run that loses the lease pauses its jobs, lets running ones finish,
and waits to lead again.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from listener import redaction
from listener.config import Config, load_config
from listener.errors import ConfigError
from listener.erasure import erase_older_than
from listener.index import open_backend
from listener.pipeline import Pipeline
from listener.state import StateStore
from scheduler import jobs
from scheduler.alerts import Channel, Notifier
from scheduler.channels import build_channels
from scheduler.crawling import CrawlJob, Crawler, RunOutcome, SourceRunner, configured_crawler, crawl_jobs
from scheduler.digest import DigestJob
from scheduler.jobstore import SQLiteJobStore
from scheduler.lease import run_lease
from scheduler.prospects import ProspectWatch
from scheduler.rechecks import AnswerRechecker, SpidersRefresher, ThreadRefresher
from scheduler.settings import alerts_config
from scheduler.sla_alerts import SlaWatch
from scheduler.spike_alerts import SpikeWatch
from scheduler.stats import Counters

logger = logging.getLogger(__name__)

MISFIRE_GRACE = 24 * 3600
KEEP_RUNS = 500
KEEP_ALERT_KEYS = timedelta(days=45)


@dataclass(frozen=True)
class Ticks:
    """How often the checks run, in seconds."""

    recheck: float = 60.0
    sla: float = 60.0
    spikes: float = 60.0
    housekeeping: float = 3600.0
    retention: float = 86400.0
    heartbeat: float = 300.0
    config: float = 30.0


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ListenerService:
    """The continuous-listening process. ``crawler``, ``refresher``, ``analyzer`` and
    ``channels`` default to the real ones; tests pass local ones."""

    def __init__(
        self,
        config: Config,
        *,
        crawler: Crawler | None = None,
        refresher: ThreadRefresher | None = None,
        analyzer=None,
        channels: Sequence[Channel] | None = None,
        ticks: Ticks = Ticks(),
        workers: int | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ):
        self.config = config
        redaction.watch_config(config)
        redaction.install()
        self.settings = alerts_config(config)
        self._own_channels = channels is None
        self.channels = build_channels(self.settings) if channels is None else list(channels)
        self.crawler = crawler or configured_crawler(config, settings=_crawl_log_settings())
        self.refresher = refresher or SpidersRefresher()
        self.analyzer = analyzer
        self.ticks = ticks
        self.workers = workers or min(16, len(crawl_jobs(config)) + 4)
        self.clock = clock
        self.counters = Counters()
        self.scheduler: BackgroundScheduler | None = None
        self._lock = run_lease(config)
        self._lock.on_lost = self._stop_leading
        self._pipeline: Pipeline | None = None
        self._config_stamp = _stamp(config.origin)

    # -- wiring -------------------------------------------------------------

    def _open(self) -> None:
        self.state = StateStore.from_config(self.config)
        self.backend = open_backend(self.config)
        if self._pipeline is None:  # the analyzer is slow to load: once per service
            self._pipeline = Pipeline(self.config, self.backend, self.analyzer)
        self._pipeline.backend = self.backend
        self._wire()

    def _wire(self) -> None:
        """The parts that read the configuration, over the open index and state."""
        self.notifier = Notifier(self.channels, self.state, self.counters)
        self.rechecker = AnswerRechecker(self.config, self.backend, self.state, self.refresher, self.counters, self.clock)
        self.prospects = ProspectWatch(self.notifier, self.settings.prospects, self.clock)
        hooks = [self.rechecker.plan]
        if self.settings.prospects.enabled:
            hooks.append(self.prospects.check)
        self.runner = SourceRunner(self.config, self.backend, self.state, self._pipeline, self.crawler,
                                   self.counters, on_indexed=hooks)
        self.sla = SlaWatch(self.config, self.backend, self.notifier, self.settings.sla, self.clock)
        self.spikes = SpikeWatch(self.config, self.backend, self.notifier, self.settings.spikes, self.clock)
        self.digest = DigestJob(self.config, self.backend, self.notifier, self.settings, self.clock)

    def reload_config(self) -> bool:
        """Apply the configuration file again if it changed since it was read; True when it was applied.

        A file that no longer loads is logged and the configuration read before is
        kept. The analyzer is rebuilt only when what it matches changed (the brand,
        competitors, sector or languages); a change of ``data_dir`` or ``index`` is
        logged and waits for a restart."""
        origin, stamp = self.config.origin, _stamp(self.config.origin)
        if origin is None or stamp == self._config_stamp:
            return False
        self._config_stamp = stamp
        try:
            config = load_config(origin)
            settings = alerts_config(config)
            channels = build_channels(settings) if self._own_channels else self.channels
        except ConfigError as exc:
            logger.error("configuration not applied, the one read before is kept: %s", exc)
            return False
        if (config.data_dir, config.index) != (self.config.data_dir, self.config.index):
            logger.warning("configuration: data_dir and index changes apply at the next start")
            config = config.model_copy(update={"data_dir": self.config.data_dir, "index": self.config.index})
        redaction.watch_config(config)
        analyzer = self._pipeline.analyzer
        matched = ("brand", "competitors", "sector", "languages")
        if hasattr(analyzer, "with_config") and any(getattr(config, k) != getattr(self.config, k) for k in matched):
            analyzer = analyzer.with_config(config)
        self.config, self.settings, self.channels = config, settings, channels
        self._pipeline = Pipeline(config, self.backend, analyzer)
        self._wire()
        if self.scheduler is not None:
            self._sync_jobs()
        logger.info("configuration applied again from %s", origin)
        return True

    def _close(self) -> None:
        self.backend.close()
        self.state.close()

    def desired_jobs(self) -> list[dict]:
        """The jobs the configuration asks for, as ``add_job`` keyword arguments."""
        specs = [
            dict(id=job.job_id, name=f"crawl {job.name}", func="scheduler.jobs:crawl", args=[job.source, job.query],
                 trigger=IntervalTrigger(seconds=source.interval, timezone=timezone.utc))
            for job, source in crawl_jobs(self.config)
        ]

        def every(job_id: str, seconds: float) -> dict:
            return dict(id=job_id, name=job_id, func=f"scheduler.jobs:{job_id}", args=[],
                        trigger=IntervalTrigger(seconds=seconds, timezone=timezone.utc))

        if self.config.schedule.recheck:
            specs.append(every("recheck", self.ticks.recheck))
        if self.settings.sla.enabled:
            specs.append(every("sla", self.ticks.sla))
        if self.settings.spikes.enabled:
            specs.append(every("spikes", self.ticks.spikes))
        if self.settings.digest.enabled:
            hour, minute = self.settings.digest.at.split(":")
            specs.append(dict(id="digest", name="digest", func="scheduler.jobs:digest", args=[],
                              trigger=CronTrigger(hour=int(hour), minute=int(minute), timezone=self.config.schedule.timezone)))
        specs.append(every("housekeeping", self.ticks.housekeeping))
        if self.config.origin:
            specs.append(every("config", self.ticks.config))
        if self.config.index.retention:
            specs.append(every("retention", self.ticks.retention))
        return specs

    def _sync_jobs(self) -> None:
        """Keep stored jobs whose schedule is unchanged (so missed runs catch up once), add new
        ones (a new crawl runs at once) and drop those no longer configured."""
        stored = {job.id: job for job in self.scheduler.get_jobs()}
        now = self.clock()
        kept = added = 0
        for spec in self.desired_jobs():
            old = stored.pop(spec["id"], None)
            if old is not None and _same_schedule(old, spec):
                kept += 1
                continue
            first = now if spec["id"].startswith("crawl:") else None
            extra = {"next_run_time": first} if first else {}
            self.scheduler.add_job(replace_existing=True, **spec, **extra)
            added += 1
        for job_id in stored:
            self.scheduler.remove_job(job_id)
        logger.info("jobs: %d kept from the last run, %d added, %d removed", kept, added, len(stored))

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        if not self._lock.held:
            self._lock.acquire()
        try:
            self._open()
            jobs.bind(self)
            self.scheduler = BackgroundScheduler(
                jobstores={"default": SQLiteJobStore(self.config.data_path("state.db"))},
                executors={"default": ThreadPoolExecutor(self.workers)},
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
                timezone=timezone.utc,
            )
            self._overran: set[str] = set()
            self.scheduler.add_listener(
                self._on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_EXECUTED
            )
            self.scheduler.start(paused=True)
            self._sync_jobs()
            self._log_start()
            self.scheduler.resume()
        except BaseException:
            self._teardown(wait=False)
            raise

    def _log_start(self) -> None:
        """One line saying what is enabled."""
        jobs_ = crawl_jobs(self.config)
        logger.info(
            "listening: %d crawl job(s) (%s); answer re-checks %s; alerts to %s; index %s",
            len(jobs_), ", ".join(job.name for job, _ in jobs_) or "no sources", self._recheck_summary(),
            ", ".join(f"{c.kind}:{c.label}" for c in self.channels) or "the log only",
            self.config.index.backend + (f" (retention {self.config.index.retention})" if self.config.index.retention else ""),
        )

    def _recheck_summary(self) -> str:
        steps = self.config.schedule.recheck
        if not steps:
            return "off"
        rechecked = [source.label for source in self.config.sources if self.refresher.supports(source)]
        if not rechecked:
            return "off (no source can fetch threads again)"
        return f"at {'/'.join(_short(s) for s in steps)} for {', '.join(rechecked)}"

    def stop(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, let running ones finish first."""
        logger.info("stopping%s", ": waiting for running jobs" if wait else "")
        self._teardown(wait)
        logger.info("stopped; counters: %s", self.counters.snapshot(), extra={"event": "stopped", "counters": self.counters.snapshot()})

    def _teardown(self, wait: bool) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        self.scheduler = None
        jobs.unbind(self)
        if hasattr(self, "backend"):
            self._close()
        self._lock.release()

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Run until SIGTERM/SIGINT (or ``stop`` is set), then stop gracefully."""
        stop = stop or threading.Event()

        def on_signal(signum, _frame):
            if stop.is_set():
                logger.warning("second %s: exiting without waiting", signal.Signals(signum).name)
                os._exit(1)
            logger.info("%s received: finishing running jobs", signal.Signals(signum).name)
            stop.set()

        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        # With a lease, a lost lead is noticed within a quarter of its interval.
        tick = min(self.ticks.heartbeat, getattr(self._lock, "interval", self.ticks.heartbeat) / 4)
        try:
            while not stop.is_set() and self._lock.wait(stop):
                self.start()
                beat = time.monotonic()
                while not stop.wait(tick) and not self._lock.lost.is_set():
                    if time.monotonic() - beat >= self.ticks.heartbeat:
                        self.heartbeat()
                        beat = time.monotonic()
                self.stop(wait=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop_leading(self, reason: str) -> None:
        """Another run leads now: start no more jobs (``run_forever`` then stops these and waits)."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()

    def run_once(self) -> list[RunOutcome]:
        """Every crawl once, then every check once, without a scheduler (``listener run --once``).

        Returns the crawls that failed (those with errors), for the command to report and exit non-zero."""
        self._lock.acquire()
        failed = []
        try:
            self._open()
            for job, _ in crawl_jobs(self.config):
                outcome = self.runner.run(job)
                if outcome.errors:
                    failed.append(outcome)
            if self.config.schedule.recheck:
                self.recheck()
            if self.settings.sla.enabled:
                self.check_sla()
            if self.settings.spikes.enabled:
                self.check_spikes()
            if self.config.index.retention:
                self.apply_retention()
            self.housekeeping()
        finally:
            self._close()
            self._lock.release()
        return failed

    # -- what the jobs do -----------------------------------------------------

    def crawl(self, source: str, query: str | None = None):
        return self.runner.run(CrawlJob(source, query))

    def recheck(self):
        return self._guarded("recheck", self.rechecker.run_due)

    def check_sla(self):
        return self._guarded("sla", self.sla.check)

    def check_spikes(self):
        return self._guarded("spikes", self.spikes.check)

    def send_digest(self):
        return self._guarded("digest", self.digest.send)

    def housekeeping(self):
        def prune():
            runs = self.state.prune_runs(KEEP_RUNS)
            keys = self.state.prune_alerts(self.clock() - max(KEEP_ALERT_KEYS, timedelta(seconds=2 * self.settings.sla.lookback)))
            logger.info("housekeeping: %d old run records and %d old alert keys removed", runs, keys)
            prune_orphans = getattr(self.crawler, "prune_orphans", None)
            if prune_orphans is not None and (orphans := prune_orphans()):
                logger.info("housekeeping: %d crawl events files left by a stopped run removed", orphans)
            rolled = self.backend.rollover()
            if rolled:
                logger.info("housekeeping: new posts now go to the index %s", rolled)

        return self._guarded("housekeeping", prune)

    def apply_retention(self):
        """Erase posts published more than ``index.retention`` ago (see :mod:`listener.erasure`)."""

        def erase():
            report = erase_older_than(self.config, self.backend, self.state,
                                      self.clock() - timedelta(seconds=self.config.index.retention_seconds))
            self.counters.inc("retention/erased", report.posts)
            logger.info("retention: %s", report.summary())
            return report

        return self._guarded("retention", erase)

    def check_config(self):
        return self._guarded("config", self.reload_config)

    def heartbeat(self) -> None:
        snapshot = self.counters.snapshot()
        logger.info("counters: %s", " ".join(f"{k}={v}" for k, v in snapshot.items()) or "none yet",
                    extra={"event": "counters", "counters": snapshot})

    def _guarded(self, name: str, action: Callable):
        self.counters.inc(f"jobs/{name}")
        try:
            return action()
        except Exception:  # a failing check must not stop the others
            self.counters.inc(f"jobs/{name}/failed")
            logger.exception("%s check failed", name)
            return None

    def _on_event(self, event) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            self.counters.inc("scheduler/skipped_still_running")  # APScheduler logs the skip itself
            self._overran.add(event.job_id)
        elif event.code in (EVENT_JOB_EXECUTED, EVENT_JOB_ERROR) and event.job_id in self._overran:
            # A crawl outlasted its interval and a turn was skipped: run again now, once,
            # rather than leave new posts waiting a whole extra interval.
            self._overran.discard(event.job_id)
            if event.job_id.startswith("crawl:") and self.scheduler is not None and self.scheduler.running:
                self.scheduler.modify_job(event.job_id, next_run_time=self.clock())
                self.counters.inc("scheduler/catch_up_after_overrun")
        if event.code == EVENT_JOB_ERROR:
            self.counters.inc("scheduler/job_errors")
        elif event.code == EVENT_JOB_MISSED:
            self.counters.inc("scheduler/missed")
            logger.warning("%s missed its run at %s", event.job_id, event.scheduled_run_time)


def _crawl_log_settings() -> dict:
    """Crawl subprocesses log warnings only; each run's summary is the scheduler's own line.
    With ``-vv`` (debug) they log as Scrapy does."""
    return {} if logging.getLogger("spiders").isEnabledFor(logging.DEBUG) else {"LOG_LEVEL": "WARNING"}


def _same_schedule(job, spec: dict) -> bool:
    old, new = job.trigger, spec["trigger"]
    if job.func_ref != spec["func"] or list(job.args) != list(spec["args"]) or type(old) is not type(new):
        return False
    if isinstance(new, IntervalTrigger):
        return old.interval == new.interval
    return str(old) == str(new) and str(old.timezone) == str(new.timezone)


def _stamp(path: str | None) -> tuple | None:
    """What changes when the file is written, replaced or removed."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return ("missing",)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _short(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
