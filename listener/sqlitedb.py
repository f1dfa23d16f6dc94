"""What listener's SQLite files share: WAL, read-only opens, and waiting out a busy lock.

Several processes open the same file at once (four ``listener ingest`` runs, the
scheduler, ``listener search``, the web app). SQLite in WAL mode lets readers go
on while one writer writes; writers take turns. This module gives every store
the same three rules:

* readers open the file read-only (``mode=ro``), so a reader never writes and
  never waits for a writer;
* every write is one ``BEGIN IMMEDIATE`` transaction, so the write lock is
  taken before anything is read and two writers cannot deadlock on upgrading;
* a busy lock is waited out: SQLite's own busy handler for up to a second per
  attempt, then a retry after a growing, jittered pause, until ``patience``
  seconds have gone by. Only then is the error raised (the caller turns it into
  one sentence); a busy lock is never taken for a bad record.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

logger = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
ATTEMPT_TIMEOUT = 1.0  # seconds SQLite's busy handler waits within one attempt
FIRST_PAUSE = 0.01
MAX_PAUSE = 1.0
DEFAULT_PATIENCE = 300.0  # seconds a reader or writer waits for a lock before it gives up


def connect(path: str, *, read_only: bool = False, patience: float = DEFAULT_PATIENCE) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit); writers switch the file to WAL."""
    timeout = min(ATTEMPT_TIMEOUT, patience)
    if read_only:
        uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
        return db
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        if path != ":memory:" and db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # Switching needs the file to itself: wait for whoever else has it open.
            retry_busy(lambda: db.execute("PRAGMA journal_mode = WAL").fetchone(), patience, f"switching {path} to WAL")
        db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        db.close()
        raise
    return db


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says another connection holds a lock (worth waiting out), not that something is wrong."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in BUSY_CODES
    return str(exc).startswith(("database is locked", "database table is locked", "database is busy"))


def retry_busy(
    operation: Callable[[], T],
    patience: float,
    what: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``operation()``, again after a pause each time it finds the database busy, for up to ``patience`` seconds."""
    start = clock()
    pause = FIRST_PAUSE
    attempt = 1
    while True:
        try:
            return operation()
        except sqlite3.OperationalError as exc:
            waited = clock() - start
            if not is_busy(exc) or waited + pause > patience:
                if is_busy(exc):
                    logger.warning("%s: still busy after %.1f s and %d attempts, giving up", what, waited, attempt)
                raise
            logger.info("%s: database busy (%s), attempt %d, retrying in up to %.2f s", what, exc, attempt, pause)
            sleep(random.uniform(pause / 2, pause))
            pause = min(pause * 2, MAX_PAUSE)
            attempt += 1


def write_transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], patience: float, what: str) -> T:
    """Run ``work(db)`` in one immediate transaction, the whole of it again if the lock was busy.

    ``work`` must be safe to repeat: a busy attempt is rolled back before the next.
    """

    def attempt() -> T:
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    return retry_busy(attempt, patience, what)


def read_snapshot(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], patience: float, what: str) -> T:
    """Run ``work(db)`` in one read transaction, so that every statement in it sees the same commit."""

    def attempt() -> T:
        db.execute("BEGIN")
        try:
            return work(db)
        finally:
            if db.in_transaction:
                db.execute("COMMIT")

    return retry_busy(attempt, patience, what)


def truncate_wal(db: sqlite3.Connection, patience: float, what: str) -> bool:
    """Copy the write-ahead log into the database and empty it, so no old page stays in it.

    Returns False (with a warning) if readers of older snapshots kept it for ``patience`` seconds.
    """
    deadline = time.monotonic() + patience
    pause = FIRST_PAUSE
    while True:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        if time.monotonic() + pause > deadline:
            logger.warning("%s: other processes kept reading the write-ahead log; it is emptied at their next checkpoint", what)
            return False
        time.sleep(random.uniform(pause / 2, pause))
        pause = min(pause * 2, MAX_PAUSE)
