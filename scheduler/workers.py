"""Crawls on scrapyd daemons (``schedule.workers.scrapyd``): one scrapyd job per source run.

Each run is scheduled on the worker with the fewest of our crawls under way
(in turn when they tie; the next one when a worker cannot be reached) with
``schedule.json``: the spider is the source's kind, its ``request`` argument
the configuration, the source and its cursors (:mod:`spiders.jobs`), and the
``LISTENER_EVENTS`` setting the file, in ``events_dir`` on storage every
machine shares, where the crawl writes what it found. ``listjobs.json`` is
polled until the job has finished (past ``timeout`` it is cancelled with
``cancel.json``); the file is then read back into a :class:`CrawlResult`, so
the posts and cursors go through the same pipeline as a local crawl's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import urlopen

from listener.config import Config, SourceConfig
from listener.errors import ListenerError
from spiders import CrawlResult
from spiders.base import validate_options
from spiders.runner import agent_settings, collect, spider_class

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = 30.0
# After cancel.json, how long a crawl has to write its last events and exit.
CANCEL_GRACE = 30.0


class WorkerError(ListenerError):
    hint = "Check that scrapyd runs at that address and serves the listener project (see scheduler/README.md)."


class ScrapydCrawler:
    """A crawler (see :data:`scheduler.crawling.Crawler`) that runs each crawl as a scrapyd job."""

    def __init__(self, workers: list[str], events_dir: str | Path, *, project: str = "listener", poll: float = 1.0,
                 timeout: float = 600.0, settings: dict[str, Any] | None = None):
        if not workers:
            raise ValueError("no scrapyd workers")
        self.workers = list(workers)
        self.events_dir = Path(events_dir).absolute()
        self.project = project
        self.poll = poll
        self.timeout = timeout
        self.settings = dict(settings or {})
        self._running = dict.fromkeys(self.workers, 0)
        self._turn = 0
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Config, settings: dict[str, Any] | None = None) -> ScrapydCrawler:
        workers = config.schedule.workers
        events_dir = Path(workers.events_dir).expanduser()
        if not events_dir.is_absolute():
            events_dir = config.data_path(workers.events_dir)
        return cls(workers.scrapyd, events_dir, project=workers.project, poll=workers.poll, timeout=workers.timeout,
                   settings=settings)

    def __call__(self, config: Config, source: SourceConfig, cursors: dict) -> CrawlResult:
        from spiders.jobs import request_argument

        kind = spider_class(source)
        validate_options(kind.options_model, source)
        job = uuid.uuid4().hex
        events = self.events_dir / f"{job}.jsonl"
        self.events_dir.mkdir(parents=True, exist_ok=True)
        agent = (kind.custom_settings or {}).get("USER_AGENT") or _default_agent()
        settings = {**self.settings, **agent_settings(source, agent), "LISTENER_EVENTS": str(events)}
        form = [("project", self.project), ("spider", source.kind), ("jobid", job),
                ("request", request_argument(config, source, cursors)),
                *(("setting", f"{key}={_setting(value)}") for key, value in settings.items())]
        worker = self._schedule(form, source)
        try:
            state, log_url = self._wait(worker, job)
            if state != "finished":
                logger.warning("crawl %s on %s: %s; cancelling", source.label, worker, state)
                self._cancel(worker, job)
                self._wait(worker, job, CANCEL_GRACE)
        finally:
            with self._lock:
                self._running[worker] -= 1
        result = CrawlResult(cursors=dict(cursors))
        with contextlib.suppress(FileNotFoundError):
            with open(events, encoding="utf-8") as stream:
                collect(stream, result)
            events.unlink()
        if state != "finished":
            result.errors.append(f"{source.label}: crawl on {worker} {state}")
        elif not result.stats:
            result.errors.append(f"{source.label}: the crawl on {worker} did not start or wrote nothing to {events} "
                                 f"(its log: {log_url or 'none'})")
        return result

    def prune_orphans(self, now: float | None = None) -> int:
        """Delete events files no crawl can still be writing: those of a leader that died while its crawl ran.

        Its job finished on the worker, but nobody reads the file; the next
        leader crawls again from the saved cursor. Returns how many were deleted.
        """
        if not self.events_dir.is_dir():
            return 0
        oldest = (time.time() if now is None else now) - (self.timeout + 2 * CANCEL_GRACE)
        pruned = 0
        for events in self.events_dir.glob("*.jsonl"):
            with contextlib.suppress(FileNotFoundError):
                if events.stat().st_mtime < oldest:
                    events.unlink()
                    pruned += 1
        return pruned

    # -- scrapyd's API --------------------------------------------------------

    def _schedule(self, form: list[tuple[str, str]], source: SourceConfig) -> str:
        """Start the job on the first worker that takes it; returns that worker."""
        failures = []
        for worker in self._order():
            try:
                answer = _call(worker, "schedule.json", form)
            except WorkerError as exc:
                failures.append(str(exc))
                continue
            with self._lock:
                self._running[worker] += 1
            logger.debug("crawl %s: job %s on %s", source.label, answer.get("jobid"), worker)
            return worker
        raise WorkerError(f"no crawl worker took the crawl of {source.label}: {'; '.join(failures)}")

    def _order(self) -> list[str]:
        with self._lock:
            turn, self._turn = self._turn, (self._turn + 1) % len(self.workers)
            rotated = self.workers[turn:] + self.workers[:turn]
            return sorted(rotated, key=self._running.__getitem__)

    def _wait(self, worker: str, job: str, timeout: float | None = None) -> tuple[str, str | None]:
        """Poll until ``job`` has finished: ("finished", its log URL), or why not."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                jobs = _call(worker, f"listjobs.json?{urlencode({'project': self.project})}")
            except WorkerError as exc:
                jobs, lost = None, str(exc)
            if jobs is not None:
                for state in ("finished", "running", "pending"):
                    found = next((j for j in jobs.get(state, []) if j.get("id") == job), None)
                    if found is not None:
                        break
                if found is None:
                    return "lost (the worker no longer lists the job)", None
                if state == "finished":
                    return state, found.get("log_url") and f"{worker}{found['log_url']}"
            if time.monotonic() >= deadline:
                return (f"cancelled after {self.timeout:g}s" if jobs is not None else f"unreachable ({lost})"), None
            time.sleep(self.poll)

    def _cancel(self, worker: str, job: str) -> None:
        try:
            _call(worker, "cancel.json", [("project", self.project), ("job", job)])
        except WorkerError as exc:
            logger.warning("could not cancel job %s on %s: %s", job, worker, exc)


def _call(worker: str, endpoint: str, form: list[tuple[str, str]] | None = None) -> dict:
    data = None if form is None else urlencode(form).encode()
    try:
        with urlopen(f"{worker}/{endpoint}", data=data, timeout=HTTP_TIMEOUT) as response:
            answer = json.loads(response.read())
    except HTTPError as exc:
        raise WorkerError(f"{worker}: {endpoint} answered HTTP {exc.code}") from None
    except (URLError, OSError, ValueError) as exc:
        raise WorkerError(f"{worker}: {endpoint} failed: {getattr(exc, 'reason', exc)}") from None
    if answer.get("status") == "error":
        raise WorkerError(f"{worker}: {endpoint}: {answer.get('message', 'error')}")
    return answer


def _setting(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _default_agent() -> str:
    from spiders import settings

    return settings.USER_AGENT
