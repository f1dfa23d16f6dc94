"""The embedded default: one SQLite file, full text through FTS5.

FTS5's ``unicode61`` tokenizer with ``remove_diacritics 2`` folds accents, so
"pelicula" finds "película". It does not stem; the contract tests mark that
gap. Multi-valued fields (entities, roles, intents) live in ``post_terms`` so
that filters are index lookups. Facets are never counted by scanning: over the
whole index they are read from ``facet_counts``, kept on every write; over a
search's matches, each match gives one integer, the key of its combination of
facet values in ``facet_keys``; and a search that filters on those values alone
(no text, no workflow field) is counted from ``facet_key_counts``, the posts per
key, also kept on every write. A batch of posts is written with one statement
per table. Feedback lives in its own table, which re-crawls never write; an
older file gains what it lacks on opening.

Error policy: a post that cannot be written is reported in the
:class:`WriteResult` and the batch goes on; a broken database file raises
:class:`BackendError` at once, since nothing after it could succeed.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from listener import sqlitedb
from listener.errors import BackendError, NotFoundError
from listener.index.base import MULTI_FIELDS, SINGLE_FIELDS, BaseBackend, SearchQuery, SearchResult, WriteResult, inbox_query
from listener.records import Analysis, Feedback, IndexedPost, Post, Workflow
from listener.suppression import handle_key

logger = logging.getLogger(__name__)

NEW_STATUS = Workflow().status  # the status of a post nobody has touched (the column's default)

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    author TEXT,
    created_at REAL NOT NULL,
    first_reply_at REAL,
    language TEXT,
    customer_status TEXT,
    lead_score INTEGER NOT NULL DEFAULT 0,
    surface INTEGER NOT NULL DEFAULT 0,
    answer_state TEXT,
    status TEXT NOT NULL DEFAULT 'new',
    assignee TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    terms TEXT,  -- post_terms of the post as JSON
    facet_key INTEGER  -- its crawled facet values and terms, as a key of facet_keys
);
-- The records themselves, apart, so that filtering and counting read narrow rows.
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    post TEXT NOT NULL,
    analysis TEXT NOT NULL,
    workflow TEXT
);
-- One index per sort, so that a page of the inbox is read in order, not sorted.
CREATE INDEX IF NOT EXISTS posts_score ON posts (surface, lead_score, created_at);
CREATE INDEX IF NOT EXISTS posts_priority ON posts (surface, lead_score DESC, created_at);
CREATE INDEX IF NOT EXISTS posts_created ON posts (created_at);
CREATE INDEX IF NOT EXISTS posts_open ON posts (surface, status);
CREATE INDEX IF NOT EXISTS posts_author ON posts (author);
-- Each combination of crawled facet values and terms once, so that one pass over the
-- matches, reading one integer per post, counts every facet.
CREATE TABLE IF NOT EXISTS facet_keys (
    key INTEGER PRIMARY KEY,
    combo TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS post_terms (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    post_rowid INTEGER NOT NULL,
    PRIMARY KEY (field, value, post_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS post_terms_by_post ON post_terms (post_rowid);
-- The team's feedback on a post's analysis, one row per feedback, in the order given.
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    post_rowid INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_post ON feedback (post_rowid, id);
CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(
    title, text, author_name, tokenize = 'unicode61 remove_diacritics 2'
);
"""

# Posts per value of every facet but the author's, so that the facets of the whole
# index are read, not counted. A write of posts adds its changes to them itself
# (one statement per batch); triggers follow workflow changes and erasure.
COUNTED_FIELDS = tuple(name for name in SINGLE_FIELDS if name != "author")
CRAWLED_FIELDS = ("source", "language", "customer_status", "answer_state")  # the counted columns a crawl writes
WORKFLOW_FIELDS = ("status", "assignee")
KEYED_FIELDS = frozenset(CRAWLED_FIELDS + MULTI_FIELDS)  # the fields a facet key holds
ADD_KEYS = "INSERT INTO facet_key_counts (key, n) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET n = n + excluded.n"
ADD_COUNTS = "INSERT INTO facet_counts (field, value, n) VALUES (?, ?, ?) ON CONFLICT (field, value) DO UPDATE SET n = n + excluded.n"
# A filter value one post in this many has is checked while a page is read (see _common_filters).
COMMON = 100


def _count_changes(fields: tuple[str, ...], *sides: tuple[str, int], terms: str = "") -> str:
    """An upsert adding ``n`` per non-null value of ``fields`` of ``old`` or ``new`` (and of the terms of ``terms``)."""
    values = [f"SELECT '{name}' AS field, {row}.{name} AS value, {n} AS n" for row, n in sides for name in fields]
    if terms:
        values.append(f"SELECT t.key, v.value, -1 FROM json_each(coalesce({terms}, '{{}}')) t, json_each(t.value) v")
    return (
        f"INSERT INTO facet_counts (field, value, n) SELECT field, value, sum(n) FROM ({' UNION ALL '.join(values)}) "
        "WHERE value IS NOT NULL GROUP BY field, value HAVING sum(n) != 0 "
        "ON CONFLICT (field, value) DO UPDATE SET n = n + excluded.n"
    )


FACET_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS facet_counts (
        field TEXT NOT NULL,
        value TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (field, value)
    ) WITHOUT ROWID""",
    f"CREATE TRIGGER IF NOT EXISTS workflow_counted AFTER UPDATE OF {', '.join(WORKFLOW_FIELDS)} ON posts "
    f"BEGIN {_count_changes(WORKFLOW_FIELDS, ('old', -1), ('new', 1))}; END",
    f"CREATE TRIGGER IF NOT EXISTS erasure_counted AFTER DELETE ON posts "
    f"BEGIN {_count_changes(COUNTED_FIELDS, ('old', -1), terms='old.terms')}; END",
    # Posts per facet key: a search filtering on crawled values alone is counted from these.
    # A write of posts adds its changes itself, as to facet_counts; erasure by trigger.
    "CREATE TABLE IF NOT EXISTS facet_key_counts (key INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS post_unkeyed AFTER DELETE ON posts "
    "BEGIN UPDATE facet_key_counts SET n = n - 1 WHERE key = old.facet_key; END",
)
# The terms and facet key of the posts a file held before it had them.
COMBO_SQL = "json_array(source, language, customer_status, answer_state, json(coalesce(terms, '{}')))"
FILL_TERMS = [
    """UPDATE posts SET terms = (
        SELECT json_group_object(field, json(value_list)) FROM (
            SELECT field, json_group_array(value) AS value_list FROM post_terms WHERE post_rowid = posts.rowid GROUP BY field
        )
    )""",
    f"INSERT OR IGNORE INTO facet_keys (combo) SELECT DISTINCT {COMBO_SQL} FROM posts",
    f"UPDATE posts SET facet_key = (SELECT key FROM facet_keys WHERE combo = {COMBO_SQL})",
]
# Counts for the posts a file held before it had them.
RECOUNT = [
    "DELETE FROM facet_counts",
    *(f"INSERT INTO facet_counts SELECT '{name}', {name}, count(*) FROM posts WHERE {name} IS NOT NULL GROUP BY {name}"
      for name in COUNTED_FIELDS),
    "INSERT INTO facet_counts SELECT field, value, count(*) FROM post_terms GROUP BY field, value",
]
RECOUNT_KEYS = [
    "DELETE FROM facet_key_counts",
    "INSERT INTO facet_key_counts SELECT facet_key, count(*) FROM posts WHERE facet_key IS NOT NULL GROUP BY facet_key",
]

# Every statement of the layout; each is safe to run again on a file that has some of it.
SCHEMA_STATEMENTS = (
    "DROP INDEX IF EXISTS posts_inbox",
    *(s.strip() for s in SCHEMA.split(";") if s.strip()),
    *FACET_STATEMENTS,
)
# What a current file holds, and what an older one may hold that the current one must not.
SCHEMA_NAMES = frozenset(re.findall(r"CREATE (?:VIRTUAL )?(?:TABLE|INDEX|TRIGGER) IF NOT EXISTS (\w+)", ";".join((SCHEMA, *FACET_STATEMENTS))))
DROPPED_NAMES = frozenset({"posts_inbox"})

UPSERT = """
INSERT INTO posts (rowid, id, source, author, created_at, first_reply_at, language, customer_status,
                   lead_score, surface, answer_state, terms, facet_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    source = excluded.source, author = excluded.author, created_at = excluded.created_at,
    first_reply_at = excluded.first_reply_at,
    language = excluded.language, customer_status = excluded.customer_status,
    lead_score = excluded.lead_score, surface = excluded.surface,
    answer_state = excluded.answer_state, terms = excluded.terms, facet_key = excluded.facet_key
"""

UPSERT_DOC = """
INSERT INTO docs (rowid, post, analysis) VALUES (?, ?, ?)
ON CONFLICT (rowid) DO UPDATE SET post = excluded.post, analysis = excluded.analysis
"""

SCHEMA_VERSION = 2

# What a read returns of a post: the records, thread state, and its feedback as a JSON array.
RECORD = (
    "d.post, d.analysis, p.answer_state, d.workflow, "
    "(SELECT json_group_array(json(record)) FROM (SELECT record FROM feedback WHERE post_rowid = p.rowid ORDER BY id))"
)

# Each order ends with rowid so that ties are stable and the sort's index serves it.
ORDERS = {
    "score": "p.lead_score DESC, p.created_at DESC, p.rowid DESC",
    "priority": "p.lead_score DESC, p.created_at ASC, p.rowid ASC",
    "newest": "p.created_at DESC, p.rowid DESC",
    "oldest": "p.created_at ASC, p.rowid ASC",
    "relevance": "p.created_at DESC, p.rowid DESC",  # without text there is nothing to rank
}
# The same orders over a text search's matches, as read by _text_search: (rowid, rank, created_at, lead_score, ...).
TEXT_ORDERS: dict[str, Callable[[tuple], tuple]] = {
    "score": lambda m: (-m[3], -m[2], -m[0]),
    "priority": lambda m: (-m[3], m[2], m[0]),
    "newest": lambda m: (-m[2], -m[0]),
    "oldest": lambda m: (m[2], m[0]),
    "relevance": lambda m: (m[1], -m[2], -m[0]),
}

WORD = re.compile(r"\w+\*?", re.UNICODE)
SCAN_BATCH = 1000
ID_LOOKUP_BATCH = 500  # ids per look-up, under SQLite's limit on parameters
# A text search ranks and counts at most this many of its newest matches, as
# Elasticsearch counts hits exactly up to 10,000 by default: ranking and counting
# more would cost time in proportion to the matches.
SEARCH_WINDOW = 10_000
# The start of a post's histogram bucket, as ISO text (UTC; weeks start on Monday).
BUCKETS = {
    "hour": "strftime('%Y-%m-%dT%H:00:00', p.created_at, 'unixepoch')",
    "day": "date(p.created_at, 'unixepoch')",
    "week": "date(p.created_at, 'unixepoch', 'weekday 0', '-6 days')",
    "month": "strftime('%Y-%m-01', p.created_at, 'unixepoch')",
}


class SQLiteBackend(BaseBackend):
    """The index in one SQLite file, shared by any number of reading and writing processes.

    Reads go through a read-only connection, so a process that only searches
    never writes to the file and never waits for the write lock. Writes go
    through a second connection, opened on the first write, and always as one
    immediate transaction via :meth:`_write` — the one writer path. A lock held
    by another process is waited out for up to ``busy_timeout`` seconds (see
    :mod:`listener.sqlitedb`); a busy lock never counts as a failed post.
    ``read_only=True`` refuses every write and never creates the file.
    """

    name = "sqlite"

    def __init__(self, path: str | Path, *, read_only: bool = False, busy_timeout: float = sqlitedb.DEFAULT_PATIENCE,
                 search_window: int = SEARCH_WINDOW):
        self.path = str(path)
        self.read_only = read_only
        self.busy_timeout = busy_timeout
        self.search_window = search_window  # 0: rank and count every match of a text search
        self._memory = self.path == ":memory:"
        if not self._memory and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._read_lock = threading.RLock()
        self._facet_keys = FacetKeys()
        # In memory there is one database only as long as there is one connection.
        self._write_lock = self._read_lock if self._memory else threading.RLock()
        if self._memory:
            self._reader = self._writer = self._connect(read_only=False)

    @classmethod
    def from_config(cls, config, *, read_only: bool = False) -> SQLiteBackend:
        path = Path(config.index.path).expanduser()
        window = SEARCH_WINDOW if config.index.search_window is None else config.index.search_window
        return cls(path if path.is_absolute() else config.data_path(config.index.path), read_only=read_only, search_window=window)

    # -- connections ----------------------------------------------------

    def _connect(self, read_only: bool) -> sqlite3.Connection:
        try:
            db = sqlitedb.connect(self.path, read_only=read_only, patience=self.busy_timeout)
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open the SQLite index at {self.path}: {exc}") from None
        return db

    def _reading(self) -> sqlite3.Connection:
        """The read connection (call with the read lock held)."""
        if self._reader is None:
            if not Path(self.path).exists():
                raise BackendError(f"there is no index at {self.path} yet", hint="Index some posts first: listener ingest FILE.")
            self._reader = self._connect(read_only=True)
        return self._reader

    def _read(self, work: Callable[[sqlite3.Connection], T], what: str = "reading the index") -> T:
        """``work(db)`` on the read connection, in one snapshot, waiting out a busy lock."""
        with self._read_lock:
            db = self._reading()
            try:
                return sqlitedb.read_snapshot(db, work, self.busy_timeout, f"{self.path}: {what}")
            except sqlite3.OperationalError as exc:
                if sqlitedb.is_busy(exc):
                    raise BackendError(f"{what} failed: {self.path} stayed locked for {self.busy_timeout:g} s: {exc}") from None
                raise

    def _write(self, work: Callable[[sqlite3.Connection], T], what: str = "writing the index") -> T:
        """The one way anything is written: ``work(db)`` in one immediate transaction.

        ``work`` runs again from the start if another process held the lock, so
        it must not keep state between attempts.
        """
        if self.read_only:
            raise BackendError(f"{what}: the index at {self.path} was opened read-only")
        with self._write_lock:
            if self._writer is None:
                self._writer = self._connect(read_only=False)
            try:
                return sqlitedb.write_transaction(self._writer, work, self.busy_timeout, f"{self.path}: {what}")
            except sqlite3.OperationalError as exc:
                if sqlitedb.is_busy(exc):
                    raise BackendError(
                        f"{what} failed: another process held {self.path} locked for {self.busy_timeout:g} s: {exc}",
                        hint="Wait for the other ingest or erase to finish, or look for a stuck listener process.",
                    ) from None
                raise

    # -- schema ---------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the index on first use and migrate an older layout; otherwise only read."""
        try:
            if not self._memory and Path(self.path).exists() and self._read(_schema_state, "checking the layout") == "current":
                return
            if self.read_only:
                raise BackendError(
                    f"{self.path} has no current listener index",
                    hint="Open it once for writing (listener ingest FILE) to create or upgrade it.",
                )
            self._write(_create_schema, "creating the layout")
        except sqlite3.DatabaseError as exc:
            raise BackendError(f"{self.path} is not a usable listener index: {exc}") from None

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            for db in {id(c): c for c in (self._reader, self._writer) if c is not None}.values():
                db.close()
            self._reader = self._writer = None

    # -- writes ---------------------------------------------------------

    def upsert(self, items: Iterable[IndexedPost]) -> WriteResult:
        items = list(items)

        def work(db: sqlite3.Connection) -> WriteResult:
            # The whole batch in a few statements; only if a post in it fails, one post at a time.
            try:
                db.execute("SAVEPOINT batch")
                _write_posts(db, items)
                db.execute("RELEASE batch")
                return WriteResult(indexed=[item.id for item in items])
            except (sqlite3.Error, UnicodeEncodeError, ValueError) as exc:
                if sqlitedb.is_busy(exc):
                    raise  # the lock, not a post: the whole batch is tried again
                db.execute("ROLLBACK TO batch")
                db.execute("RELEASE batch")
            result = WriteResult()
            for item in items:
                try:
                    db.execute("SAVEPOINT item")
                    _write_posts(db, [item])
                    db.execute("RELEASE item")
                    result.indexed.append(item.id)
                except (sqlite3.Error, UnicodeEncodeError, ValueError) as exc:
                    if sqlitedb.is_busy(exc):
                        raise
                    db.execute("ROLLBACK TO item")
                    db.execute("RELEASE item")
                    result.failed.append((item.id, str(exc)))
            return result

        return self._write(work, f"writing {len(items)} posts") if items else WriteResult()

    def _replace_workflow(self, post_id: str, expected_version: int, workflow: Workflow) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            row = db.execute(
                "UPDATE posts SET status = ?, assignee = ?, version = ? WHERE id = ? AND version = ? RETURNING rowid",
                (workflow.status, workflow.assignee, workflow.version, post_id, expected_version),
            ).fetchone()
            if row:
                db.execute("UPDATE docs SET workflow = ? WHERE rowid = ?", (json.dumps(workflow.to_dict(), ensure_ascii=False), row[0]))
            return row is not None

        return self._write(work, f"updating the workflow of {post_id}")

    def add_feedback(self, post_id: str, feedback: Feedback) -> bool:
        record = json.dumps(feedback.to_dict(), ensure_ascii=False)

        def work(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT rowid FROM posts WHERE id = ?", (post_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no post with id {post_id!r}")
            stored = db.execute("SELECT record FROM feedback WHERE post_rowid = ?", row).fetchall()
            new = all(Feedback.from_dict(json.loads(r)) != feedback for (r,) in stored)
            if new:
                db.execute("INSERT INTO feedback (post_rowid, record) VALUES (?, ?)", (row[0], record))
            return new

        return self._write(work, f"adding feedback to {post_id}")

    def posts_by(self, handle: str) -> list[str]:
        def work(db: sqlite3.Connection) -> list[str]:
            db.create_function("listener_handle_key", 1, lambda a: a and handle_key(a), deterministic=True)
            return [i for (i,) in db.execute("SELECT id FROM posts WHERE listener_handle_key(author) = ?", (handle_key(handle),))]

        return self._read(work, f"finding the posts of {handle}")

    def mentioning(self, handle: str) -> Iterator[IndexedPost]:
        # The key appears, in some case, in the post's JSON (text, title, repliers) or the team's notes.
        sql = (
            f"SELECT p.rowid, {RECORD} FROM posts p JOIN docs d ON d.rowid = p.rowid WHERE p.rowid > ? "
            "AND (instr(listener_casefold(d.post), ?) OR instr(listener_casefold(coalesce(d.workflow, '')), ?)) "
            f"ORDER BY p.rowid LIMIT {SCAN_BATCH}"
        )
        key = handle_key(handle)
        with self._read_lock:
            self._reading().create_function("listener_casefold", 1, str.casefold, deterministic=True)
        return self._batches(sql, [key, key])

    def purge(self) -> None:
        """Merge the full-text index (dropping deleted entries), rewrite the file without free pages, empty the WAL."""
        self._write(lambda db: db.execute("INSERT INTO posts_fts (posts_fts) VALUES ('optimize')"), "merging the full-text index")
        if self._memory:
            return
        with self._write_lock:
            db = self._writer
            db.execute("PRAGMA secure_delete = ON")
            sqlitedb.retry_busy(lambda: db.execute("VACUUM"), self.busy_timeout, f"{self.path}: compacting")
            sqlitedb.truncate_wal(db, min(self.busy_timeout, 30.0), self.path)

    def delete(self, post_ids: Iterable[str]) -> int:
        post_ids = list(post_ids)

        def work(db: sqlite3.Connection) -> int:
            rows = (db.execute("SELECT rowid FROM posts WHERE id = ?", (post_id,)).fetchone() for post_id in post_ids)
            return _erase(db, [row[0] for row in rows if row])

        # Read-only refuses even an empty erasure: the caller must know nothing can be erased here.
        return self._write(work, f"erasing {len(post_ids)} posts") if post_ids or self.read_only else 0

    # -- reads ----------------------------------------------------------

    def get(self, post_id: str) -> IndexedPost | None:
        sql = f"SELECT {RECORD} FROM posts p JOIN docs d ON d.rowid = p.rowid WHERE p.id = ?"
        row = self._read(lambda db: db.execute(sql, (post_id,)).fetchone())
        return _load(row) if row else None

    def count(self, query: SearchQuery | None = None) -> int:
        where, params = _where(query or SearchQuery())
        return self._read(lambda db: db.execute(f"SELECT count(*) FROM posts p WHERE {where}", params).fetchone()[0])

    def search(self, query: SearchQuery) -> SearchResult:
        if query.text.strip():
            return self._read(lambda db: _text_search(db, query, self.search_window, self._facet_keys), "searching")
        where, params = _where(query)

        def work(db: sqlite3.Connection) -> tuple[list, int, dict]:
            rows = _page(db, query)
            if not query.facets:
                return rows, db.execute(f"SELECT count(*) FROM posts p WHERE {where}", params).fetchone()[0], {}
            if not params and where == "1":  # the whole index: its counts are kept on write
                return rows, *_whole_index_facets(db, query.facets)
            if _keyed(query):  # crawled values only: counted from the posts per facet key
                return rows, *_tally(db, query.facets, _keyed_rows(db, query, self._facet_keys), self._facet_keys)
            return rows, *_matched_facets(db, query.facets, where, params, self._facet_keys)

        rows, total, facets = self._read(work, "searching")
        return SearchResult(total=total, hits=[_load(r) for r in rows], facets=facets)

    def inbox(self, filters: Mapping[str, tuple[str, ...]] | None = None, limit: int = 20, offset: int = 0) -> list[IndexedPost]:
        # A page without its total, which would cost more than the page.
        query = inbox_query(filters, limit, offset)
        return [_load(r) for r in self._read(lambda db: _page(db, query), "reading the inbox")]

    def scan(self, query: SearchQuery) -> Iterator[IndexedPost]:
        where, params = _where(query)
        sql = (
            f"SELECT p.rowid, {RECORD} FROM posts p JOIN docs d ON d.rowid = p.rowid "
            f"WHERE p.rowid > ? AND {where} ORDER BY p.rowid LIMIT {SCAN_BATCH}"
        )
        return self._batches(sql, params)

    def iter_feedback(self) -> Iterator[IndexedPost]:
        # Read through the feedback table's index: only posts with feedback are touched.
        sql = (
            f"SELECT p.rowid, {RECORD} FROM posts p JOIN docs d ON d.rowid = p.rowid WHERE p.rowid IN "
            f"(SELECT DISTINCT post_rowid FROM feedback WHERE post_rowid > ? ORDER BY post_rowid LIMIT {SCAN_BATCH}) "
            "ORDER BY p.rowid"
        )
        return self._batches(sql, [])

    def _batches(self, sql: str, params: list) -> Iterator[IndexedPost]:
        """Run ``sql`` (whose first parameter is the last rowid read) one batch at a time."""
        last = 0
        while True:
            # One batch per read, so that no snapshot is held open while the caller works.
            rows = self._read(lambda db: db.execute(sql, [last, *params]).fetchall())
            for row in rows:
                yield _load(row[1:])
            if len(rows) < SCAN_BATCH:
                return
            last = rows[-1][0]

    def _histogram(self, query: SearchQuery, interval: str, by: str | None) -> list[tuple[datetime, str | None, int]]:
        where, params = _where(query)
        bucket = BUCKETS[interval]
        if by is None:
            sql = f"SELECT {bucket} AS b, NULL, count(*) FROM posts p WHERE {where} GROUP BY b ORDER BY b"
        elif by in MULTI_FIELDS:
            sql = (
                f"SELECT {bucket} AS b, t.value, count(*) FROM post_terms t JOIN posts p ON p.rowid = t.post_rowid "
                f"WHERE t.field = ? AND {where} GROUP BY b, t.value ORDER BY b, t.value"
            )
            params = [by, *params]
        else:
            sql = (
                f"SELECT {bucket} AS b, p.{by}, count(*) FROM posts p WHERE {where} AND p.{by} IS NOT NULL "
                f"GROUP BY b, p.{by} ORDER BY b, p.{by}"
            )
        rows = self._read(lambda db: db.execute(sql, params).fetchall(), "counting per interval")
        return [(datetime.fromisoformat(start).replace(tzinfo=timezone.utc), value, n) for start, value, n in rows]


# -- layout -------------------------------------------------------------

def _schema_state(db: sqlite3.Connection) -> str:
    """``"current"``, ``"missing"`` (nothing there yet) or ``"outdated"`` (to be migrated); refuses another layout."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    names = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    if "posts" not in names:
        return "missing"
    if version != SCHEMA_VERSION:
        raise BackendError(
            f"{db_path(db)} holds an index of another listener version (layout {version}, expected {SCHEMA_VERSION})",
            hint="Move the file aside and ingest again.",
        )
    if SCHEMA_NAMES - names or names & DROPPED_NAMES or {"terms", "facet_key"} - _columns(db, "posts"):
        return "outdated"
    return "current"


def _create_schema(db: sqlite3.Connection) -> None:
    """Create or complete the layout, unless another process did so since it was checked."""
    if _schema_state(db) == "current":
        return
    logger.info("sqlite: creating or upgrading the index layout in %s", db_path(db))
    counted = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'facet_counts'").fetchone()
    keys_counted = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'facet_key_counts'").fetchone()
    for statement in SCHEMA_STATEMENTS:
        db.execute(statement)
    missing = {"terms", "facet_key"} - _columns(db, "posts")
    for column in sorted(missing):
        db.execute(f"ALTER TABLE posts ADD COLUMN {column} {'TEXT' if column == 'terms' else 'INTEGER'}")
    if missing:
        for statement in FILL_TERMS:
            db.execute(statement)
    if not counted:
        for statement in RECOUNT:
            db.execute(statement)
    if missing or not keys_counted:
        for statement in RECOUNT_KEYS:
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def db_path(db: sqlite3.Connection) -> str:
    return db.execute("PRAGMA database_list").fetchone()[2] or ":memory:"


def _erase(db: sqlite3.Connection, rowids: list[int]) -> int:
    for rowid in rowids:
        db.execute("DELETE FROM post_terms WHERE post_rowid = ?", (rowid,))
        db.execute("DELETE FROM feedback WHERE post_rowid = ?", (rowid,))
        db.execute("DELETE FROM posts_fts WHERE rowid = ?", (rowid,))
        db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
        db.execute("DELETE FROM posts WHERE rowid = ?", (rowid,))
    return len(rowids)


def _write_posts(db: sqlite3.Connection, items: list[IndexedPost]) -> None:
    """Add or refresh ``items`` with one statement per table, keeping each post's rowid (and so its workflow)."""
    latest = {item.id: item for item in items}  # a post given twice is written as last given
    ids = list(latest)
    known: dict[str, int] = {}
    counts: Counter[tuple[str, str]] = Counter()  # what this write changes in facet_counts
    key_counts: Counter[int] = Counter()  # and in facet_key_counts
    columns = ", ".join(CRAWLED_FIELDS)
    for start in range(0, len(ids), ID_LOOKUP_BATCH):
        chunk = ids[start:start + ID_LOOKUP_BATCH]
        sql = f"SELECT id, rowid, facet_key, terms, {columns} FROM posts WHERE id IN ({', '.join('?' * len(chunk))})"
        for post_id, rowid, key, terms, *values in db.execute(sql, chunk):
            known[post_id] = rowid
            if key is not None:
                key_counts[key] -= 1
            counts.subtract(pair for pair in zip(CRAWLED_FIELDS, values) if pair[1] is not None)
            counts.subtract((field, value) for field, values in json.loads(terms or "{}").items() for value in values)
    # New posts take the rowids SQLite would give them; the write lock is held, so nobody else takes them.
    next_rowid = (db.execute("SELECT max(rowid) FROM posts").fetchone()[0] or 0) + 1
    rows, docs, terms, texts = [], [], [], []
    for post_id, item in latest.items():
        rowid = known.get(post_id)
        if rowid is None:
            rowid, next_rowid = next_rowid, next_rowid + 1
            counts[("status", NEW_STATUS)] += 1
        post, analysis = item.post, item.analysis
        post_terms = _terms(analysis)
        by_field: dict[str, dict[str, None]] = {}
        for field, value in post_terms:
            by_field.setdefault(field, {})[value] = None
        counts.update((field, value) for field, values in by_field.items() for value in values)
        crawled = (post.source, analysis.language, analysis.customer_status, item.answer_state)
        counts.update(pair for pair in zip(CRAWLED_FIELDS, crawled) if pair[1] is not None)
        terms_of_post = {field: list(values) for field, values in by_field.items()}
        rows.append([
            rowid, post.id, post.source, post.author, post.created_at.timestamp(),
            post.first_reply_at.timestamp() if post.first_reply_at else None,
            analysis.language, analysis.customer_status, analysis.lead_score, int(analysis.surface), item.answer_state,
            json.dumps(terms_of_post, ensure_ascii=False), json.dumps([*crawled, terms_of_post], ensure_ascii=False),
        ])
        docs.append((rowid, json.dumps(post.to_dict(), ensure_ascii=False), json.dumps(analysis.to_dict(), ensure_ascii=False)))
        terms += [(field, value, rowid) for field, value in post_terms]
        texts.append((rowid, post.title or "", post.text, post.author_name or ""))
    combos = list({row[-1]: None for row in rows})
    db.executemany("INSERT OR IGNORE INTO facet_keys (combo) VALUES (?)", ((combo,) for combo in combos))
    keys: dict[str, int] = {}
    for start in range(0, len(combos), ID_LOOKUP_BATCH):
        chunk = combos[start:start + ID_LOOKUP_BATCH]
        keys.update(db.execute(f"SELECT combo, key FROM facet_keys WHERE combo IN ({', '.join('?' * len(chunk))})", chunk))
    for row in rows:
        row[-1] = keys[row[-1]]
        key_counts[row[-1]] += 1
    stale = [(rowid,) for rowid in known.values()]
    db.executemany(UPSERT, rows)
    db.executemany(UPSERT_DOC, docs)
    if stale:
        db.executemany("DELETE FROM post_terms WHERE post_rowid = ?", stale)
        db.executemany("DELETE FROM posts_fts WHERE rowid = ?", stale)
    db.executemany("INSERT OR IGNORE INTO post_terms (field, value, post_rowid) VALUES (?, ?, ?)", terms)
    db.executemany("INSERT INTO posts_fts (rowid, title, text, author_name) VALUES (?, ?, ?, ?)", texts)
    db.executemany(ADD_COUNTS, [(field, value, n) for (field, value), n in counts.items() if n])
    db.executemany(ADD_KEYS, [(key, n) for key, n in key_counts.items() if n])


def _page(db: sqlite3.Connection, query: SearchQuery) -> list:
    """The records of one page of ``query``'s matches: the page's rowids first, on the narrow rows, then their records."""
    sort = query.effective_sort
    where, params = _where(query, walked=_common_filters(db, query))
    sql = (
        f"SELECT {RECORD} FROM (SELECT p.rowid FROM posts p WHERE {where} ORDER BY {ORDERS[sort]} LIMIT ? OFFSET ?) AS page "
        f"JOIN posts p ON p.rowid = page.rowid JOIN docs d ON d.rowid = p.rowid ORDER BY {ORDERS[sort]}"
    )
    params = [*params, query.limit, query.offset]
    return _search_rows(db, sql, params)


def _search_rows(db: sqlite3.Connection, sql: str, params: list) -> list:
    """The rows of a search; a query SQLite refuses is a failed search, a busy lock is waited out by the caller."""
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if sqlitedb.is_busy(exc):
            raise
        raise BackendError(f"search failed: {exc}")


def _text_search(db: sqlite3.Connection, query: SearchQuery, window: int, facet_keys: FacetKeys) -> SearchResult:
    """A text search from one walk of its matches, newest first, that stops after ``window`` of them.

    Each match's filters are checked on its row, and the walk reads what the
    order and the facets need, so its page, total and counts come from it.
    With more than ``window`` matches they are those of the newest ``window``.
    """
    extra = [name for name in query.facets if name not in KEYED_FIELDS]
    where, params = _where(query, text=False, walked=frozenset(MULTI_FIELDS))
    columns = ", ".join(["f.rowid", "bm25(posts_fts)", "p.created_at", "p.lead_score", "p.facet_key", *(f"p.{n}" for n in extra)])
    sql = f"SELECT {columns} FROM posts_fts f JOIN posts p ON p.rowid = f.rowid WHERE posts_fts MATCH ? AND {where} ORDER BY f.rowid DESC"
    params = [_fts_query(query.text), *params]
    if window:
        sql += " LIMIT ?"
        params.append(window + 1)
    matches = _search_rows(db, sql, params)
    exact = not window or len(matches) <= window
    matches = matches if exact else matches[:window]
    page = [m[0] for m in sorted(matches, key=TEXT_ORDERS[query.effective_sort])[query.offset:query.offset + query.limit]]
    records = {}
    for start in range(0, len(page), ID_LOOKUP_BATCH):
        chunk = page[start:start + ID_LOOKUP_BATCH]
        sql = f"SELECT p.rowid, {RECORD} FROM posts p JOIN docs d ON d.rowid = p.rowid WHERE p.rowid IN ({', '.join('?' * len(chunk))})"
        records.update((row[0], row[1:]) for row in db.execute(sql, chunk))
    total, facets = len(matches), {}
    if query.facets:
        total, facets = _tally(db, query.facets, Counter(m[4:] for m in matches), facet_keys)
    return SearchResult(total=total, hits=[_load(records[rowid]) for rowid in page], facets=facets, total_exact=exact)


def _posts_counted(db: sqlite3.Connection) -> int:
    """The number of posts, from ``facet_counts``: every post has a source, so the source counts add up to it."""
    return db.execute("SELECT coalesce(sum(n), 0) FROM facet_counts WHERE field = 'source'").fetchone()[0]


def _common_filters(db: sqlite3.Connection, query: SearchQuery) -> frozenset[str]:
    """The multi-valued filters of ``query`` whose values at least one post in ``COMMON`` has, by ``facet_counts``.

    Walking the sort's index, a page of ``limit`` posts then needs about
    ``limit * COMMON`` rows; rarer values are cheaper to gather first.
    """
    wanted = {name: values for name, values in query.filters.items() if values and name in MULTI_FIELDS}
    if not wanted:
        return frozenset()
    total = _posts_counted(db)
    common = set()
    for name, values in wanted.items():
        sql = f"SELECT coalesce(sum(n), 0) FROM facet_counts WHERE field = ? AND value IN ({', '.join('?' * len(values))})"
        if db.execute(sql, [name, *values]).fetchone()[0] * COMMON >= total:
            common.add(name)
    return frozenset(common)


def _whole_index_facets(db: sqlite3.Connection, names: tuple[str, ...]) -> tuple[int, dict[str, list[tuple[str, int]]]]:
    """The number of posts and the counts per value of ``names`` over every post, as kept in ``facet_counts``."""
    counts: dict[str, list[tuple[str, int]]] = {name: [] for name in names}
    counted = [name for name in names if name in COUNTED_FIELDS or name in MULTI_FIELDS]
    sql = f"SELECT field, value, n FROM facet_counts WHERE n > 0 AND field IN ({', '.join('?' * len(counted))})"
    for name, value, n in db.execute(sql, counted):
        counts[name].append((value, n))
    if "author" in counts:  # too many values to keep: read from the author index
        counts["author"] = db.execute("SELECT author, count(*) FROM posts WHERE author IS NOT NULL GROUP BY author").fetchall()
    total = _posts_counted(db)
    return total, {name: _by_count(values) for name, values in counts.items()}


class FacetKeys:
    """What each facet key stands for, as indexes into ``pairs`` of ``(field, value)``; kept, as keys never change."""

    def __init__(self) -> None:
        self.keys: dict[int, tuple[int, ...]] = {}
        self.pairs: list[tuple[str, str]] = []
        self._index: dict[tuple[str, str], int] = {}

    def learn(self, db: sqlite3.Connection, keys: set[int]) -> None:
        missing = list(keys - self.keys.keys())
        for start in range(0, len(missing), ID_LOOKUP_BATCH):
            chunk = missing[start:start + ID_LOOKUP_BATCH]
            for key, combo in db.execute(f"SELECT key, combo FROM facet_keys WHERE key IN ({', '.join('?' * len(chunk))})", chunk):
                *crawled, terms = json.loads(combo)
                pairs = [*zip(CRAWLED_FIELDS, crawled), *((field, value) for field, values in terms.items() for value in values)]
                self.keys[key] = tuple(self._number(pair) for pair in pairs if pair[1] is not None)

    def numbers(self, name: str, values) -> set[int]:
        """The numbers of the pairs of ``name`` with any of ``values`` (those some key holds)."""
        return {self._index[(name, value)] for value in values if (name, value) in self._index}

    def _number(self, pair: tuple[str, str]) -> int:
        if pair not in self._index:
            self._index[pair] = len(self.pairs)
            self.pairs.append(pair)
        return self._index[pair]


def _matched_facets(db: sqlite3.Connection, names: tuple[str, ...], where: str, params: list,
                    facet_keys: FacetKeys) -> tuple[int, dict]:
    """The number of posts ``where`` matches and their counts per value of ``names``, in one pass over the matches.

    Each match gives its facet key, and the workflow columns asked for.
    """
    extra = [name for name in names if name not in KEYED_FIELDS]
    rows = Counter(db.execute(f"SELECT {', '.join(['p.facet_key', *(f'p.{n}' for n in extra)])} FROM posts p WHERE {where}", params))
    return _tally(db, names, rows, facet_keys)


def _keyed(query: SearchQuery) -> bool:
    """Whether ``query`` filters and counts crawled values only, which every post's facet key holds."""
    return (not query.text.strip() and query.surface is None and query.since is None and query.until is None
            and all(name in KEYED_FIELDS for name, values in query.filters.items() if values)
            and all(name in KEYED_FIELDS for name in query.facets))


def _keyed_rows(db: sqlite3.Connection, query: SearchQuery, facet_keys: FacetKeys) -> Counter:
    """The posts per facet key of the keys ``query``'s filters accept, from ``facet_key_counts``."""
    counted = dict(db.execute("SELECT key, n FROM facet_key_counts WHERE n > 0"))
    facet_keys.learn(db, set(counted))
    accepted = [facet_keys.numbers(name, values) for name, values in query.filters.items() if values]
    return Counter({(key,): n for key, n in counted.items()
                    if all(not wanted.isdisjoint(facet_keys.keys[key]) for wanted in accepted)})


def _tally(db: sqlite3.Connection, names: tuple[str, ...], rows: Counter, facet_keys: FacetKeys) -> tuple[int, dict]:
    """The total and the counts per value of ``names`` of ``rows``: (facet key, *other values) -> posts."""
    extra = [name for name in names if name not in KEYED_FIELDS]
    facet_keys.learn(db, {row[0] for row in rows})
    per_pair = [0] * len(facet_keys.pairs)
    counts: Counter[tuple[str, str]] = Counter()
    for (key, *values), n in rows.items():
        for number in facet_keys.keys[key]:
            per_pair[number] += n
        if extra:
            counts.update({pair: n for pair in zip(extra, values) if pair[1] is not None})
    counts.update({facet_keys.pairs[number]: n for number, n in enumerate(per_pair) if n})
    wanted: dict[str, list[tuple[str, int]]] = {name: [] for name in names}
    for (name, value), n in counts.items():
        if name in wanted:
            wanted[name].append((value, n))
    return sum(rows.values()), {name: _by_count(values) for name, values in wanted.items()}


def _by_count(values) -> list[tuple[str, int]]:
    """Most posts first, then by value."""
    return sorted(values, key=lambda item: (-item[1], item[0]))


def _terms(analysis: Analysis) -> list[tuple[str, str]]:
    terms = [("entity", m.entity) for m in analysis.mentions]
    terms += [("role", m.role) for m in analysis.mentions]
    terms += [("intent", i) for i in analysis.intents]
    return terms


def _load(row) -> IndexedPost:
    post, analysis, answer_state, workflow, feedback = row
    return IndexedPost(
        post=Post.from_dict(json.loads(post)),
        analysis=Analysis.from_dict(json.loads(analysis)),
        answer_state=answer_state or "unknown",
        workflow=Workflow.from_dict(json.loads(workflow)) if workflow else Workflow(),
        feedback=tuple(Feedback.from_dict(f) for f in json.loads(feedback)),
    )


def _fts_query(text: str) -> str:
    """Turn what a person typed into an FTS5 query: every word must match."""
    words = WORD.findall(text)
    if not words:
        return '""'
    return " ".join(f'"{w[:-1]}"*' if w.endswith("*") else f'"{w}"' for w in words)


def _where(query: SearchQuery, *, text: bool = True, walked: frozenset[str] = frozenset()) -> tuple[str, list]:
    """The SQL condition on ``posts p`` and its parameters.

    ``walked``: multi-valued fields whose filters are checked post by post
    while the sort's index is read (one look-up in ``post_terms`` each), rather
    than their posts gathered first: for values that many posts have, a page
    is then found after a few rows, however large the index.
    """
    clauses, params = ["1"], []
    if text and query.text.strip():
        clauses.append("p.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
        params.append(_fts_query(query.text))
    for name, values in query.filters.items():
        if not values:
            continue
        marks = ", ".join("?" * len(values))
        if name in walked:
            clauses.append(f"EXISTS (SELECT 1 FROM post_terms t WHERE t.field = ? AND t.value IN ({marks}) AND t.post_rowid = p.rowid)")
            params += [name, *values]
        elif name in MULTI_FIELDS:
            clauses.append(f"p.rowid IN (SELECT post_rowid FROM post_terms WHERE field = ? AND value IN ({marks}))")
            params += [name, *values]
        else:
            clauses.append(f"p.{name} IN ({marks})")
            params += list(values)
    if query.surface is not None:
        clauses.append("p.surface = ?")
        params.append(int(query.surface))
    if query.since is not None:
        clauses.append("p.created_at >= ?")
        params.append(query.since.timestamp())
    if query.until is not None:
        clauses.append("p.created_at < ?")
        params.append(query.until.timestamp())
    return " AND ".join(clauses), params
