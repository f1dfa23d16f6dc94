"""The embedded default: one SQLite file, full text through FTS5.

FTS5's ``unicode61`` tokenizer with ``remove_diacritics 2`` folds accents, so
"pelicula" finds "película". It does not stem; the contract tests mark that
gap. Multi-valued fields (entities, roles, intents) live in ``post_terms`` so
that filters and facets are index lookups. Feedback lives in its own table, which
re-crawls never write and which an older file gains on opening.

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
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from listener.errors import BackendError, NotFoundError
from listener.index.base import MULTI_FIELDS, BaseBackend, SearchQuery, SearchResult, WriteResult
from listener.records import Analysis, Feedback, IndexedPost, Post, Workflow

logger = logging.getLogger(__name__)

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
    version INTEGER NOT NULL DEFAULT 0
);
-- The records themselves, apart, so that filtering and counting read narrow rows.
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    post TEXT NOT NULL,
    analysis TEXT NOT NULL,
    workflow TEXT
);
-- One index per sort, so that a page of the inbox is read in order, not sorted.
DROP INDEX IF EXISTS posts_inbox;
CREATE INDEX IF NOT EXISTS posts_score ON posts (surface, lead_score, created_at);
CREATE INDEX IF NOT EXISTS posts_priority ON posts (surface, lead_score DESC, created_at);
CREATE INDEX IF NOT EXISTS posts_created ON posts (created_at);
CREATE INDEX IF NOT EXISTS posts_open ON posts (surface, status);
CREATE INDEX IF NOT EXISTS posts_author ON posts (author);
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

UPSERT = """
INSERT INTO posts (id, source, author, created_at, first_reply_at, language, customer_status,
                   lead_score, surface, answer_state)
VALUES (:id, :source, :author, :created_at, :first_reply_at, :language, :customer_status,
        :lead_score, :surface, :answer_state)
ON CONFLICT (id) DO UPDATE SET
    source = excluded.source, author = excluded.author, created_at = excluded.created_at,
    first_reply_at = excluded.first_reply_at,
    language = excluded.language, customer_status = excluded.customer_status,
    lead_score = excluded.lead_score, surface = excluded.surface,
    answer_state = excluded.answer_state
RETURNING rowid
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

WORD = re.compile(r"\w+\*?", re.UNICODE)
SCAN_BATCH = 1000
# The start of a post's histogram bucket, as ISO text (UTC; weeks start on Monday).
BUCKETS = {
    "hour": "strftime('%Y-%m-%dT%H:00:00', p.created_at, 'unixepoch')",
    "day": "date(p.created_at, 'unixepoch')",
    "week": "date(p.created_at, 'unixepoch', 'weekday 0', '-6 days')",
    "month": "strftime('%Y-%m-01', p.created_at, 'unixepoch')",
}


class SQLiteBackend(BaseBackend):
    name = "sqlite"

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS hits (post_rowid INTEGER PRIMARY KEY)")
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open the SQLite index at {self.path}: {exc}")
        self._lock = threading.RLock()

    @classmethod
    def from_config(cls, config) -> SQLiteBackend:
        path = Path(config.index.path).expanduser()
        return cls(path if path.is_absolute() else config.data_path(config.index.path))

    def ensure_schema(self) -> None:
        with self._lock:
            try:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                has_posts = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'posts'").fetchone()
                if has_posts and version != SCHEMA_VERSION:
                    raise BackendError(
                        f"{self.path} holds an index of another listener version (layout {version}, expected {SCHEMA_VERSION})",
                        hint="Move the file aside and ingest again.",
                    )
                self._db.executescript(SCHEMA)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except sqlite3.DatabaseError as exc:
                raise BackendError(f"{self.path} is not a usable listener index: {exc}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writes ---------------------------------------------------------

    def upsert(self, items: Iterable[IndexedPost]) -> WriteResult:
        result = WriteResult()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for item in items:
                    try:
                        self._db.execute("SAVEPOINT item")
                        self._write(item)
                        self._db.execute("RELEASE item")
                        result.indexed.append(item.id)
                    except (sqlite3.Error, UnicodeEncodeError, ValueError) as exc:
                        self._db.execute("ROLLBACK TO item")
                        self._db.execute("RELEASE item")
                        result.failed.append((item.id, str(exc)))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return result

    def _write(self, item: IndexedPost) -> None:
        post, analysis = item.post, item.analysis
        row = {
            "id": post.id,
            "source": post.source,
            "author": post.author,
            "created_at": post.created_at.timestamp(),
            "first_reply_at": post.first_reply_at.timestamp() if post.first_reply_at else None,
            "language": analysis.language,
            "customer_status": analysis.customer_status,
            "lead_score": analysis.lead_score,
            "surface": int(analysis.surface),
            "answer_state": item.answer_state,
        }
        (rowid,) = self._db.execute(UPSERT, row).fetchone()
        self._db.execute(
            UPSERT_DOC,
            (rowid, json.dumps(post.to_dict(), ensure_ascii=False), json.dumps(analysis.to_dict(), ensure_ascii=False)),
        )
        self._db.execute("DELETE FROM post_terms WHERE post_rowid = ?", (rowid,))
        self._db.executemany(
            "INSERT OR IGNORE INTO post_terms (field, value, post_rowid) VALUES (?, ?, ?)",
            [(f, v, rowid) for f, v in _terms(analysis)],
        )
        self._db.execute("DELETE FROM posts_fts WHERE rowid = ?", (rowid,))
        self._db.execute(
            "INSERT INTO posts_fts (rowid, title, text, author_name) VALUES (?, ?, ?, ?)",
            (rowid, post.title or "", post.text, post.author_name or ""),
        )

    def _replace_workflow(self, post_id: str, expected_version: int, workflow: Workflow) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "UPDATE posts SET status = ?, assignee = ?, version = ? WHERE id = ? AND version = ? RETURNING rowid",
                    (workflow.status, workflow.assignee, workflow.version, post_id, expected_version),
                ).fetchone()
                if row:
                    self._db.execute(
                        "UPDATE docs SET workflow = ? WHERE rowid = ?",
                        (json.dumps(workflow.to_dict(), ensure_ascii=False), row[0]),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return row is not None

    def add_feedback(self, post_id: str, feedback: Feedback) -> bool:
        record = json.dumps(feedback.to_dict(), ensure_ascii=False)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT rowid FROM posts WHERE id = ?", (post_id,)).fetchone()
                if row is None:
                    raise NotFoundError(f"no post with id {post_id!r}")
                stored = self._db.execute("SELECT record FROM feedback WHERE post_rowid = ?", row).fetchall()
                new = all(Feedback.from_dict(json.loads(r)) != feedback for (r,) in stored)
                if new:
                    self._db.execute("INSERT INTO feedback (post_rowid, record) VALUES (?, ?)", (row[0], record))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return new

    def delete_by_author(self, author: str) -> int:
        with self._lock:
            self._db.execute("BEGIN")
            rowids = [r for (r,) in self._db.execute("SELECT rowid FROM posts WHERE author = ?", (author,))]
            for rowid in rowids:
                self._db.execute("DELETE FROM post_terms WHERE post_rowid = ?", (rowid,))
                self._db.execute("DELETE FROM feedback WHERE post_rowid = ?", (rowid,))
                self._db.execute("DELETE FROM posts_fts WHERE rowid = ?", (rowid,))
                self._db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
                self._db.execute("DELETE FROM posts WHERE rowid = ?", (rowid,))
            self._db.execute("COMMIT")
        return len(rowids)

    # -- reads ----------------------------------------------------------

    def get(self, post_id: str) -> IndexedPost | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {RECORD} FROM posts p JOIN docs d ON d.rowid = p.rowid WHERE p.id = ?", (post_id,)
            ).fetchone()
        return _load(row) if row else None

    def count(self, query: SearchQuery | None = None) -> int:
        where, params = _where(query or SearchQuery())
        with self._lock:
            return self._db.execute(f"SELECT count(*) FROM posts p WHERE {where}", params).fetchone()[0]

    def search(self, query: SearchQuery) -> SearchResult:
        where, params = _where(query)
        sort = query.effective_sort
        if sort == "relevance" and query.text.strip():
            sql = (
                f"SELECT {RECORD} FROM posts_fts f "
                "JOIN posts p ON p.rowid = f.rowid JOIN docs d ON d.rowid = p.rowid "
                f"WHERE posts_fts MATCH ? AND {where} "
                "ORDER BY bm25(posts_fts), p.created_at DESC LIMIT ? OFFSET ?"
            )
            page_params = [_fts_query(query.text), *params, query.limit, query.offset]
        else:
            sql = (
                f"SELECT {RECORD} FROM posts p JOIN docs d ON d.rowid = p.rowid "
                f"WHERE {where} ORDER BY {ORDERS[sort]} LIMIT ? OFFSET ?"
            )
            page_params = [*params, query.limit, query.offset]
        with self._lock:
            try:
                rows = self._db.execute(sql, page_params).fetchall()
            except sqlite3.OperationalError as exc:
                raise BackendError(f"search failed: {exc}")
            if query.facets:
                # Match once into a temporary table; every facet then joins it.
                self._db.execute("DELETE FROM temp.hits")
                total = self._db.execute(f"INSERT INTO temp.hits SELECT p.rowid FROM posts p WHERE {where}", params).rowcount
                facets = {name: self._facet(name) for name in query.facets}
            else:
                total = self._db.execute(f"SELECT count(*) FROM posts p WHERE {where}", params).fetchone()[0]
                facets = {}
        return SearchResult(total=total, hits=[_load(r) for r in rows], facets=facets)

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
            with self._lock:  # one batch at a time, so writers are not held up by a long scan
                rows = self._db.execute(sql, [last, *params]).fetchall()
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
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [(datetime.fromisoformat(start).replace(tzinfo=timezone.utc), value, n) for start, value, n in rows]

    def _facet(self, name: str) -> list[tuple[str, int]]:
        if name in MULTI_FIELDS:
            sql = (
                "SELECT t.value, count(*) AS n FROM temp.hits h JOIN post_terms t "
                "ON t.post_rowid = h.post_rowid AND t.field = ? GROUP BY t.value ORDER BY n DESC, t.value"
            )
            rows = self._db.execute(sql, [name])
        else:
            sql = (
                f"SELECT p.{name}, count(*) AS n FROM temp.hits h JOIN posts p ON p.rowid = h.post_rowid "
                f"WHERE p.{name} IS NOT NULL GROUP BY p.{name} ORDER BY n DESC, p.{name}"
            )
            rows = self._db.execute(sql)
        return [(value, n) for value, n in rows]


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


def _where(query: SearchQuery) -> tuple[str, list]:
    clauses, params = ["1"], []
    if query.text.strip():
        clauses.append("p.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)")
        params.append(_fts_query(query.text))
    for name, values in query.filters.items():
        if not values:
            continue
        marks = ", ".join("?" * len(values))
        if name in MULTI_FIELDS:
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
