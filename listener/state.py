"""Operational state of continuous listening, in one SQLite file beside the index.

It holds what a restart must not lose and the index has no place for: how far
each source and query got (cursors), what each scheduled run did (for
``listener status``), which alerts were already sent, which posts are due
for an answer re-check and which were found deleted at their source. Several processes may open it at once (the scheduler,
``listener crawl``, ``listener status``): WAL mode, reads through a read-only
connection, the layout written only when the file is new or older, and every
write one short immediate transaction that waits out another process's lock
(see :mod:`listener.sqlitedb`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from listener import sqlitedb
from listener.errors import ListenerError

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (
    source TEXT NOT NULL,
    query_key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (source, query_key)
);
CREATE TABLE IF NOT EXISTS output_cursors (
    source TEXT NOT NULL,
    output TEXT NOT NULL,
    query_key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (source, output, query_key)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    posts INTEGER NOT NULL DEFAULT 0,
    errors TEXT NOT NULL DEFAULT '[]',
    next_run_at REAL
);
CREATE INDEX IF NOT EXISTS runs_by_source ON runs (source, id DESC);
CREATE TABLE IF NOT EXISTS sent_alerts (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    sent_at REAL NOT NULL,
    title TEXT
);
CREATE INDEX IF NOT EXISTS sent_alerts_by_kind ON sent_alerts (kind, sent_at);
CREATE TABLE IF NOT EXISTS rechecks (
    post_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    step INTEGER NOT NULL,
    due_at REAL NOT NULL,
    thread_id TEXT
);
CREATE INDEX IF NOT EXISTS rechecks_due ON rechecks (due_at);
CREATE TABLE IF NOT EXISTS deleted_posts (
    post_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    deleted_at REAL NOT NULL
);
"""

# 1: sent_alerts gained ``title``. 2: rechecks gained ``thread_id``; deleted_posts.
# 3: output_cursors. A file without a version, or an older one, is brought up to date.
STATE_VERSION = 3


class StateError(ListenerError):
    hint = "Check that the data directory is writable; delete state.db to start over (cursors are lost)."


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of one source: when it started and ended, what it fetched, what failed."""

    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    posts: int
    errors: tuple[str, ...]
    next_run_at: datetime | None

    @property
    def running(self) -> bool:
        return self.finished_at is None


@dataclass(frozen=True, slots=True)
class Recheck:
    """A post to re-poll for replies; ``step`` counts the checks so far; posts of one ``thread_id`` share a look-up."""

    post_id: str
    source: str
    step: int
    due_at: datetime
    thread_id: str | None = None


def _stamp(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


def _now() -> float:
    return datetime.now(timezone.utc).timestamp()


class StateStore:
    """Cursors, run records, sent-alert keys, re-check schedules and deleted posts in SQLite."""

    def __init__(self, path: str | Path, *, read_only: bool = False, busy_timeout: float = sqlitedb.DEFAULT_PATIENCE):
        self.path = str(path)
        self.read_only = read_only
        self.busy_timeout = busy_timeout
        memory = self.path == ":memory:"
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._read_lock = threading.RLock()
        self._write_lock = self._read_lock if memory else threading.RLock()
        try:
            if memory:
                self._reader = self._writer = sqlitedb.connect(self.path)
            elif not read_only:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            if memory or not Path(self.path).exists() or self._read(_version, what="open") != STATE_VERSION:
                if read_only:
                    raise StateError(f"there is no current listener state at {self.path}")
                self._write(_create_schema, what="create")
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_config(cls, config, *, read_only: bool = False) -> StateStore:
        return cls(config.data_path("state.db"), read_only=read_only)

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            for db in {id(c): c for c in (self._reader, self._writer) if c is not None}.values():
                db.close()
            self._reader = self._writer = None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, sql: str | Callable[[sqlite3.Connection], object], rows: Iterable[tuple] | tuple = (), what: str = "write"):
        """One statement (or one per row, or a function of the connection) in one immediate transaction.

        The one way the state is written; a lock held by another process is waited out.
        """
        if self.read_only:
            raise StateError(f"cannot write the listener state at {self.path}: it was opened read-only")
        if callable(sql):
            work = sql
        elif isinstance(rows, tuple):
            work = lambda db: db.execute(sql, rows)  # noqa: E731
        else:
            rows = list(rows)
            work = lambda db: db.executemany(sql, rows)  # noqa: E731
        with self._write_lock:
            try:
                if self._writer is None:
                    self._writer = sqlitedb.connect(self.path, patience=self.busy_timeout)
                return sqlitedb.write_transaction(self._writer, work, self.busy_timeout, f"{what} {self.path}")
            except sqlite3.DatabaseError as exc:
                raise StateError(f"cannot {what} the listener state at {self.path}: {exc}") from None

    def _read(self, sql: str | Callable[[sqlite3.Connection], object], args: tuple = (), what: str = "read"):
        work = sql if callable(sql) else lambda db: db.execute(sql, args).fetchall()
        with self._read_lock:
            try:
                if self._reader is None:
                    self._reader = sqlitedb.connect(self.path, read_only=True, patience=self.busy_timeout)
                return sqlitedb.retry_busy(lambda: work(self._reader), self.busy_timeout, f"{what} {self.path}")
            except sqlite3.DatabaseError as exc:
                raise StateError(f"cannot {what} the listener state at {self.path}: {exc}") from None

    # -- cursors ----------------------------------------------------------

    # ``listener run`` keeps one set per source; a one-off crawl (``listener crawl -o FILE``)
    # keeps its own per ``output``, so neither skips what the other fetched.

    def load_cursors(self, source: str, output: str | None = None) -> dict[str, str]:
        """Where each query of ``source`` got to, by query key (for the crawls that write to ``output``)."""
        if output is None:
            rows = self._read("SELECT query_key, value FROM cursors WHERE source = ?", (source,))
        else:
            rows = self._read("SELECT query_key, value FROM output_cursors WHERE source = ? AND output = ?",
                              (source, output))
        return dict(rows)

    def save_cursors(self, source: str, cursors: Mapping[str, str], output: str | None = None) -> None:
        """Store cursors of ``source``; call only after the posts they cover are indexed (or written to ``output``)."""
        now = _now()
        if output is None:
            self._write(
                "INSERT INTO cursors (source, query_key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source, query_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [(source, key, str(value), now) for key, value in cursors.items()],
            )
            return
        self._write(
            "INSERT INTO output_cursors (source, output, query_key, value, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (source, output, query_key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [(source, output, key, str(value), now) for key, value in cursors.items()],
        )

    # -- runs -------------------------------------------------------------

    def start_run(self, source: str, at: datetime | None = None) -> int:
        cursor = self._write("INSERT INTO runs (source, started_at) VALUES (?, ?)", (source, _stamp(at) or _now()))
        return int(cursor.lastrowid)

    def finish_run(
        self,
        run_id: int,
        posts: int,
        errors: Iterable[str] = (),
        next_run_at: datetime | None = None,
        at: datetime | None = None,
    ) -> None:
        self._write(
            "UPDATE runs SET finished_at = ?, posts = ?, errors = ?, next_run_at = ? WHERE id = ?",
            (_stamp(at) or _now(), posts, json.dumps(list(errors), ensure_ascii=False), _stamp(next_run_at), run_id),
        )

    def last_run(self, source: str) -> RunRecord | None:
        runs = self.runs(source, limit=1)
        return runs[0] if runs else None

    def runs(self, source: str | None = None, limit: int = 20) -> list[RunRecord]:
        """Newest first, for one source or all."""
        where, args = ("WHERE source = ?", (source,)) if source is not None else ("", ())
        rows = self._read(
            f"SELECT id, source, started_at, finished_at, posts, errors, next_run_at FROM runs {where} "
            "ORDER BY id DESC LIMIT ?",
            (*args, limit),
        )
        return [
            RunRecord(r[0], r[1], _time(r[2]), _time(r[3]), r[4], tuple(json.loads(r[5])), _time(r[6]))
            for r in rows
        ]

    def sources(self) -> list[str]:
        """Every source with a run or a cursor on record."""
        rows = self._read("SELECT source FROM runs UNION SELECT source FROM cursors ORDER BY 1")
        return [r[0] for r in rows]

    def prune_runs(self, keep: int = 200) -> int:
        """Forget all but the newest ``keep`` runs of each source; return how many went."""
        cursor = self._write(
            "DELETE FROM runs WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER "
            "(PARTITION BY source ORDER BY id DESC) AS n FROM runs) WHERE n > ?)",
            (keep,),
        )
        return cursor.rowcount

    # -- sent alerts ------------------------------------------------------

    def claim_alert(self, key: str, kind: str = "alert", title: str | None = None) -> bool:
        """Record ``key`` as sent; False if it already was (so the caller must not send)."""
        cursor = self._write(
            "INSERT INTO sent_alerts (key, kind, sent_at, title) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (key, kind, _now(), title),
        )
        return cursor.rowcount == 1

    def alerts_since(self, kind: str, since: datetime) -> list[tuple[str, datetime, str | None]]:
        """``(key, sent_at, title)`` of alerts of ``kind`` sent since ``since``, oldest first."""
        rows = self._read(
            "SELECT key, sent_at, title FROM sent_alerts WHERE kind = ? AND sent_at >= ? ORDER BY sent_at",
            (kind, _stamp(since)),
        )
        return [(r[0], _time(r[1]), r[2]) for r in rows]

    def prune_alerts(self, before: datetime) -> int:
        """Forget alert keys sent before ``before``; return how many went."""
        return self._write("DELETE FROM sent_alerts WHERE sent_at < ?", (_stamp(before),)).rowcount

    def release_alert(self, key: str) -> None:
        """Forget ``key`` (its delivery failed everywhere, so a later attempt may send it)."""
        self._write("DELETE FROM sent_alerts WHERE key = ?", (key,))

    def alert_sent(self, key: str) -> bool:
        return bool(self._read("SELECT 1 FROM sent_alerts WHERE key = ?", (key,)))

    # -- answer re-checks -------------------------------------------------

    def schedule_recheck(self, post_id: str, source: str, step: int, due_at: datetime, replace: bool = False,
                         thread_id: str | None = None) -> bool:
        """Plan a re-check; an existing plan for the post is kept unless ``replace``. True if written.

        A post marked deleted is never planned again.
        """
        conflict = (
            "DO UPDATE SET source = excluded.source, step = excluded.step, due_at = excluded.due_at, "
            "thread_id = COALESCE(excluded.thread_id, rechecks.thread_id)"
            if replace
            else "DO NOTHING"
        )
        cursor = self._write(
            "INSERT INTO rechecks (post_id, source, step, due_at, thread_id) SELECT ?, ?, ?, ?, ? "
            f"WHERE NOT EXISTS (SELECT 1 FROM deleted_posts WHERE post_id = ?) ON CONFLICT (post_id) {conflict}",
            (post_id, source, step, _stamp(due_at), thread_id, post_id),
        )
        return cursor.rowcount == 1

    def due_rechecks(self, now: datetime, source: str | None = None, limit: int | None = 100) -> list[Recheck]:
        """Re-checks due at ``now``, oldest first (all of them when ``limit`` is None)."""
        where, args = ("AND source = ?", (source,)) if source is not None else ("", ())
        rows = self._read(
            f"SELECT {_RECHECK} FROM rechecks WHERE due_at <= ? {where} ORDER BY due_at LIMIT ?",
            (_stamp(now), *args, -1 if limit is None else limit),
        )
        return [_recheck(r) for r in rows]

    def recheck(self, post_id: str) -> Recheck | None:
        rows = self._read(f"SELECT {_RECHECK} FROM rechecks WHERE post_id = ?", (post_id,))
        return _recheck(rows[0]) if rows else None

    def drop_recheck(self, post_id: str) -> None:
        """Stop re-checking a post (answered, resolved, too old)."""
        self._write("DELETE FROM rechecks WHERE post_id = ?", (post_id,))

    def pending_rechecks(self) -> int:
        return self._read("SELECT COUNT(*) FROM rechecks")[0][0]

    def mark_deleted(self, post_id: str, source: str, reason: str, at: datetime | None = None) -> None:
        """Record that ``post_id`` was deleted at its source (and why we think so); its re-checks end."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO deleted_posts (post_id, source, reason, deleted_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (post_id) DO NOTHING", (post_id, source, reason, _stamp(at) or _now()))
            db.execute("DELETE FROM rechecks WHERE post_id = ?", (post_id,))

        self._write(work, what="mark deleted in")

    def deleted_among(self, post_ids: Iterable[str]) -> set[str]:
        """Which of ``post_ids`` were found deleted at their source."""
        post_ids = list(post_ids)
        found: set[str] = set()
        for start in range(0, len(post_ids), 500):
            chunk = post_ids[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            found |= {r[0] for r in self._read(f"SELECT post_id FROM deleted_posts WHERE post_id IN ({marks})",
                                                tuple(chunk))}
        return found

    def deleted(self, post_id: str) -> tuple[str, datetime] | None:
        """``(reason, when)`` if ``post_id`` was found deleted at its source, else None."""
        rows = self._read("SELECT reason, deleted_at FROM deleted_posts WHERE post_id = ?", (post_id,))
        return (rows[0][0], _time(rows[0][1])) if rows else None

    # -- erasure (see listener.erasure) ------------------------------------

    def forget_posts(self, post_ids: Iterable[str]) -> int:
        """Drop every record of these posts: re-checks, deletion marks, alert keys naming them. Returns how many."""
        post_ids = list(post_ids)

        def work(db: sqlite3.Connection) -> int:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS forgotten (post_id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM temp.forgotten")
            db.executemany("INSERT OR IGNORE INTO temp.forgotten VALUES (?)", [(i,) for i in post_ids])
            gone = db.execute("DELETE FROM rechecks WHERE post_id IN (SELECT post_id FROM temp.forgotten)").rowcount
            gone += db.execute("DELETE FROM deleted_posts WHERE post_id IN (SELECT post_id FROM temp.forgotten)").rowcount
            # Alert keys are ``<kind>:<post id>`` (sla:, prospect:, spike-post:).
            gone += db.execute("DELETE FROM sent_alerts WHERE instr(key, ':') AND substr(key, instr(key, ':') + 1) "
                               "IN (SELECT post_id FROM temp.forgotten)").rowcount
            return gone

        return self._write(work, what="forget posts in") if post_ids else 0

    def redact(self, change: Callable[[str], str]) -> int:
        """Rewrite run errors and alert titles through ``change`` (removing a handle); return how many changed."""

        def work(db: sqlite3.Connection) -> int:
            changed = 0
            for table, column, key in (("runs", "errors", "id"), ("sent_alerts", "title", "key")):
                rows = db.execute(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()
                updates = [(new, row_key) for row_key, old in rows if (new := change(old)) != old]
                db.executemany(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", updates)
                changed += len(updates)
            return changed

        return self._write(work, what="redact")

    def compact(self) -> None:
        """Rewrite the file without free pages and empty the write-ahead log, so nothing forgotten stays on disk."""
        if self.path == ":memory:":
            return
        with self._write_lock:
            try:
                if self._writer is None:
                    self._writer = sqlitedb.connect(self.path, patience=self.busy_timeout)
                self._writer.execute("PRAGMA secure_delete = ON")
                sqlitedb.retry_busy(lambda: self._writer.execute("VACUUM"), self.busy_timeout, f"compact {self.path}")
                sqlitedb.truncate_wal(self._writer, min(self.busy_timeout, 30.0), self.path)
            except sqlite3.DatabaseError as exc:
                raise StateError(f"cannot compact the listener state at {self.path}: {exc}") from None


_RECHECK = "post_id, source, step, due_at, thread_id"


def _recheck(row: tuple) -> Recheck:
    return Recheck(row[0], row[1], row[2], _time(row[3]), row[4])


def _version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def _create_schema(db: sqlite3.Connection) -> None:
    """Create the tables, or bring a file written by an earlier version up to date."""
    if _version(db) == STATE_VERSION:
        return  # another process did it since we looked
    logger.info("state: creating or upgrading the layout of %s", db.execute("PRAGMA database_list").fetchone()[2] or ":memory:")
    for statement in (s.strip() for s in SCHEMA.split(";")):
        if statement:
            db.execute(statement)
    columns = {row[1] for row in db.execute("PRAGMA table_info(sent_alerts)")}
    if "title" not in columns:
        db.execute("ALTER TABLE sent_alerts ADD COLUMN title TEXT")
    if "thread_id" not in {row[1] for row in db.execute("PRAGMA table_info(rechecks)")}:
        db.execute("ALTER TABLE rechecks ADD COLUMN thread_id TEXT")
    db.execute(f"PRAGMA user_version = {STATE_VERSION}")


def open_state(config, *, read_only: bool = False) -> StateStore:
    """The state store of ``config``'s data directory; ``read_only`` for a process that only looks."""
    return StateStore.from_config(config, read_only=read_only)
