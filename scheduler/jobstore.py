"""An APScheduler 3.x job store in the listener state file (no SQLAlchemy).

Jobs are pickled the way APScheduler's own stores do it, one row per job with
its next run time, so that a restarted scheduler finds its jobs where they
were and catches up on what it missed (once, since jobs coalesce).
"""

from __future__ import annotations

import logging
import pickle
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime

logger = logging.getLogger(__name__)

TABLE = "scheduler_jobs"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id TEXT PRIMARY KEY,
    next_run_time REAL,
    job_state BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS {TABLE}_next ON {TABLE} (next_run_time);
"""


class SQLiteJobStore(BaseJobStore):
    def __init__(self, path: str | Path, pickle_protocol: int = pickle.HIGHEST_PROTOCOL):
        super().__init__()
        self.path = str(path)
        self.pickle_protocol = pickle_protocol
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(SCHEMA)

    def shutdown(self):
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _execute(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            if self._db is None:
                raise RuntimeError(f"the job store {self.path} is shut down")
            return self._db.execute(sql, args)

    @property
    def _closed(self) -> bool:
        return self._db is None

    def lookup_job(self, job_id):
        row = self._execute(f"SELECT job_state FROM {TABLE} WHERE id = ?", (job_id,)).fetchone()
        return self._reconstitute_job(row[0]) if row else None

    def get_due_jobs(self, now: datetime):
        if self._closed:  # the scheduler thread may look once more while shutting down
            return []
        return self._get_jobs("WHERE next_run_time <= ?", (datetime_to_utc_timestamp(now),))

    def get_next_run_time(self):
        if self._closed:
            return None
        row = self._execute(
            f"SELECT next_run_time FROM {TABLE} WHERE next_run_time IS NOT NULL ORDER BY next_run_time LIMIT 1"
        ).fetchone()
        return utc_timestamp_to_datetime(row[0]) if row else None

    def get_all_jobs(self):
        jobs = self._get_jobs()
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job: Job):
        try:
            self._execute(
                f"INSERT INTO {TABLE} (id, next_run_time, job_state) VALUES (?, ?, ?)",
                (job.id, datetime_to_utc_timestamp(job.next_run_time), self._state(job)),
            )
        except sqlite3.IntegrityError:
            raise ConflictingIdError(job.id) from None

    def update_job(self, job: Job):
        cursor = self._execute(
            f"UPDATE {TABLE} SET next_run_time = ?, job_state = ? WHERE id = ?",
            (datetime_to_utc_timestamp(job.next_run_time), self._state(job), job.id),
        )
        if cursor.rowcount == 0:
            raise JobLookupError(job.id)

    def remove_job(self, job_id):
        if self._execute(f"DELETE FROM {TABLE} WHERE id = ?", (job_id,)).rowcount == 0:
            raise JobLookupError(job_id)

    def remove_all_jobs(self):
        self._execute(f"DELETE FROM {TABLE}")

    def _state(self, job: Job) -> bytes:
        return pickle.dumps(job.__getstate__(), self.pickle_protocol)

    def _reconstitute_job(self, job_state: bytes) -> Job:
        state = pickle.loads(job_state)
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def _get_jobs(self, where: str = "", args: tuple = ()) -> list[Job]:
        rows = self._execute(
            f"SELECT id, job_state FROM {TABLE} {where} ORDER BY next_run_time", args
        ).fetchall()
        jobs, broken = [], []
        for job_id, job_state in rows:
            try:
                jobs.append(self._reconstitute_job(job_state))
            except Exception:
                logger.exception("cannot restore scheduled job %s; removing it", job_id)
                broken.append(job_id)
        for job_id in broken:
            self._execute(f"DELETE FROM {TABLE} WHERE id = ?", (job_id,))
        return jobs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({self.path})>"


def next_run_times(path: str | Path) -> dict[str, datetime | None]:
    """Each stored job's next run time, read without unpickling (for ``listener status``)."""
    if not Path(path).exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = db.execute(f"SELECT id, next_run_time FROM {TABLE}").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()
    return {job_id: utc_timestamp_to_datetime(stamp) if stamp is not None else None for job_id, stamp in rows}
