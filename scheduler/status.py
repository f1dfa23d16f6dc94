"""What ``listener status`` shows: per crawl job, its last run, lag, next run and last error in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from listener.config import Config
from listener.state import StateStore
from scheduler.crawling import crawl_jobs
from scheduler.jobstore import next_run_times


@dataclass(frozen=True, slots=True)
class JobStatus:
    """``lag``: time since the start of the last finished run; posts newer than that
    may not be in the index yet."""

    name: str
    interval: float
    last_started: datetime | None
    last_finished: datetime | None
    running: bool
    posts: int | None
    errors: tuple[str, ...]
    lag: timedelta | None
    next_run: datetime | None
    last_error: str | None = None  # the newest error of the recent runs, as recorded
    last_error_at: datetime | None = None

    @property
    def last_error_words(self) -> str | None:
        return error_in_words(self.last_error) if self.last_error else None

    @property
    def healthy(self) -> bool:
        return self.lag is not None and self.lag <= timedelta(seconds=2 * self.interval + 60) and not self.errors

    def to_dict(self) -> dict:
        def iso(value):
            return value.isoformat() if value else None

        return {
            "name": self.name,
            "interval": self.interval,
            "last_started": iso(self.last_started),
            "last_finished": iso(self.last_finished),
            "running": self.running,
            "posts": self.posts,
            "errors": list(self.errors),
            "lag_seconds": self.lag.total_seconds() if self.lag is not None else None,
            "next_run": iso(self.next_run),
            "healthy": self.healthy,
            "last_error": self.last_error_words,
            "last_error_at": iso(self.last_error_at),
        }


def job_statuses(config: Config, state: StateStore, now: datetime) -> list[JobStatus]:
    next_runs = next_run_times(state.path)
    statuses = []
    for job, source in crawl_jobs(config):
        runs = state.runs(job.name, limit=RECENT_RUNS)
        last = runs[0] if runs else None
        finished = next((run for run in runs if not run.running), None)
        failed = next((run for run in runs if run.errors), None)
        statuses.append(JobStatus(
            name=job.name,
            interval=source.interval,
            last_started=last.started_at if last else None,
            last_finished=finished.finished_at if finished else None,
            running=bool(last and last.running),
            posts=finished.posts if finished else None,
            errors=finished.errors if finished else (),
            lag=now - finished.started_at if finished else None,
            next_run=next_runs.get(job.job_id),
            last_error=failed.errors[-1] if failed else None,
            last_error_at=(failed.finished_at or failed.started_at) if failed else None,
        ))
    return statuses


RECENT_RUNS = 20
# A recorded error: "<source>: <reason>: <detail> (<url>)" from a spider, "<source>: <detail>" from the scheduler.
SPIDER_ERROR = re.compile(r"^[^:\s]+: (?P<reason>[a-z_]+\d*): (?P<detail>.*?)(?: \((?P<url>https?://[^\s)]*)\))?$", re.S)
HTTP_WORDS = {
    401: "refused our credentials; check the source's token or key in the environment",
    403: "refused access; check the source's token, its permissions, or whether the site allows crawling",
    404: "has no such page; check the source's address or query",
    410: "says the page is gone",
    429: "is rate-limiting us; the crawl waits and tries again later",
}
DOWNLOAD_WORDS = (
    (r"ConnectionRefused|Connection refused", "refused the connection (is the server up, and the address right?)"),
    (r"DNSLookupError|getaddrinfo|Name or service not known", "could not be found (the host name does not resolve)"),
    (r"TimeoutError|TCPTimedOut|timed out|took longer than", "did not answer in time"),
    (r"SSL|TLS|certificate", "could not be reached securely (a TLS or certificate problem)"),
    (r"ConnectionLost|ConnectionDone|ResponseNeverReceived|ConnectionReset", "dropped the connection mid-answer"),
)


def error_in_words(error: str) -> str:
    """A recorded crawl error as a person would say it: ``api.x.com refused our credentials (HTTP 401) …``."""
    match = SPIDER_ERROR.match(error.strip())
    if match:
        reason, detail, url = match["reason"], match["detail"], match["url"]
    else:  # from the scheduler: "hn: HTTP 503", "hn: ConnectionRefusedError: …"
        status = re.search(r"\bHTTP (\d{3})\b", error)
        reason, detail, url = (f"http_{status[1]}" if status else "download"), error, None
        if not status and not any(re.search(pattern, error) for pattern, _ in DOWNLOAD_WORDS):
            return error
    host = urlsplit(url).netloc if url else "the server"
    if reason.startswith("http_") and reason[5:].isdigit():
        status = int(reason[5:])
        words = HTTP_WORDS.get(status) or ("failed on its side; it is retried on the next run" if status >= 500
                                           else "refused the request")
        return f"{host} {words} (HTTP {status})"
    if reason == "download":
        for pattern, words in DOWNLOAD_WORDS:
            if re.search(pattern, detail):
                return f"{host} {words}"
        return f"downloading from {host} failed: {detail}"
    if reason == "too_large":
        return f"an answer from {host} was larger than the size limit"
    if reason == "parse":
        return f"an answer from {host} could not be read ({detail}); the source's format may have changed"
    if reason == "refused_address":
        return f"the address {host} was not crawled: {detail}"
    return f"{reason.replace('_', ' ')}: {detail}" + (f" ({url})" if url else "")
