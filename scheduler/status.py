"""What ``listener status`` shows: per crawl job, its last run, lag and next run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
        }


def job_statuses(config: Config, state: StateStore, now: datetime) -> list[JobStatus]:
    next_runs = next_run_times(state.path)
    statuses = []
    for job, source in crawl_jobs(config):
        runs = state.runs(job.name, limit=5)
        last = runs[0] if runs else None
        finished = next((run for run in runs if not run.running), None)
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
        ))
    return statuses
