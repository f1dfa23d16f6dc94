"""The interface every index backend implements.

A backend stores :class:`~listener.records.IndexedPost` documents. Re-crawls
write through :meth:`BaseBackend.upsert`, which never touches the team's
workflow or feedback; people write through :meth:`BaseBackend.update_workflow`,
which checks the version they read so that two people cannot overwrite each
other, and :meth:`BaseBackend.add_feedback`, which only ever adds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from listener.errors import BackendError, ConflictError, ListenerError, NotFoundError
from listener.records import WAITING_FOR_BRAND, Feedback, IndexedPost, Workflow
from listener.suppression import Handles
from listener.workflow import OPEN_STATUSES, WorkflowChange, apply_change

# Filterable and facetable fields. Multi-valued ones hold every value of a post.
SINGLE_FIELDS = ("source", "language", "customer_status", "status", "assignee", "answer_state", "author")
MULTI_FIELDS = ("entity", "role", "intent")
FIELDS = SINGLE_FIELDS + MULTI_FIELDS
# "priority": best lead score first, then the oldest (its answer is due soonest).
SORTS = ("relevance", "newest", "oldest", "score", "priority")
# Date histogram buckets, in UTC; weeks start on Monday.
INTERVALS = ("hour", "day", "week", "month")


class QueryError(ListenerError):
    """A search that names an unknown field or sort."""


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    surface: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    facets: tuple[str, ...] = ()
    sort: str | None = None  # default: relevance with text, newest without
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        for name in list(self.filters) + list(self.facets):
            if name not in FIELDS:
                raise QueryError(f"unknown field {name!r} (valid: {', '.join(FIELDS)})")
        if self.sort is not None and self.sort not in SORTS:
            raise QueryError(f"unknown sort {self.sort!r} (valid: {', '.join(SORTS)})")
        normalised = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in self.filters.items()}
        object.__setattr__(self, "filters", normalised)
        # Stored text is NFC (the pipeline normalises it), so the query is too.
        object.__setattr__(self, "text", unicodedata.normalize("NFC", self.text))

    @property
    def effective_sort(self) -> str:
        if self.sort:
            return self.sort
        return "relevance" if self.text.strip() else "newest"


@dataclass
class SearchResult:
    """A page of matches, how many posts match, and the counts per value of the facets asked for.

    ``total_exact`` is false when a backend ranked and counted part of the
    matches only (SQLite, for a text search with more matches than its search
    window): ``total``, ``facets`` and the pages are then those of the newest
    ``total`` matches, and more posts match.
    """

    total: int
    hits: list[IndexedPost]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    total_exact: bool = True


@dataclass
class WriteResult:
    """What a bulk write did: ids written, and ``(id, reason)`` for each failure."""

    indexed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def __iadd__(self, other: WriteResult) -> WriteResult:
        self.indexed += other.indexed
        self.failed += other.failed
        return self


# A post the brand already replied to on its platform needs no one from the inbox (the web's and alerts' too).
INBOX_ANSWER_STATES = WAITING_FOR_BRAND


def inbox_query(filters: Mapping[str, tuple[str, ...]] | None = None, limit: int = 20, offset: int = 0) -> SearchQuery:
    """Posts to work on: surfaced, still open, not yet answered by the brand, most valuable first."""
    merged = {"status": OPEN_STATUSES, "answer_state": INBOX_ANSWER_STATES, **(filters or {})}
    return SearchQuery(filters=merged, surface=True, sort="score", limit=limit, offset=offset)


class BaseBackend(ABC):
    """Subclasses implement the storage verbs; the workflow rules live here."""

    name = "base"

    @abstractmethod
    def ensure_schema(self) -> None:
        ...

    @abstractmethod
    def upsert(self, items: Iterable[IndexedPost]) -> WriteResult:
        """Add or refresh posts by id. The workflow and feedback of existing posts are kept."""

    @abstractmethod
    def add_feedback(self, post_id: str, feedback: Feedback) -> bool:
        """Keep ``feedback`` with the post, after what it already has; ``False`` if it had this very feedback.

        Raises :class:`~listener.errors.NotFoundError` for an unknown post. ``get``
        sees it at once, searches after :meth:`refresh`.
        """

    @abstractmethod
    def iter_feedback(self) -> Iterator[IndexedPost]:
        """Every post that has feedback, in no particular order; reads only those posts."""

    @abstractmethod
    def get(self, post_id: str) -> IndexedPost | None:
        ...

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult:
        ...

    @abstractmethod
    def count(self, query: SearchQuery | None = None) -> int:
        ...

    def delete_by_author(self, author: str) -> int:
        """Erase every post by ``author`` in any spelling (``@ana``, ``ana``, ``ANA``); return how many."""
        return self.delete(self.posts_by(author))

    # -- erasure (see listener.erasure) -------------------------------------

    @abstractmethod
    def posts_by(self, handle: str) -> list[str]:
        """Ids of every post whose author is ``handle`` in any spelling (see :func:`listener.suppression.handle_key`)."""

    @abstractmethod
    def mentioning(self, handle: str) -> Iterator[IndexedPost]:
        """Posts that may mention ``handle`` in their text, title, repliers or the team's notes (a superset will do)."""

    def redact_mentions(self, handle: str) -> int:
        """Replace ``handle`` with ``@[erased]`` wherever other posts mention it; return how many posts changed.

        The rest of each post, its analysis (offsets moved), workflow and feedback stay.
        """
        handles = Handles.of(handle)
        changed = [(doc, new) for doc in list(self.mentioning(handle)) if (new := handles.redact_document(doc)) is not doc]
        for start in range(0, len(changed), 500):
            batch = changed[start:start + 500]
            result = self.upsert([new for _, new in batch])
            if result.failed:
                raise BackendError(f"could not redact {result.failed[0][0]}: {result.failed[0][1]}")
            for doc, new in batch:
                if new.workflow != doc.workflow:
                    self._replace_workflow(doc.id, doc.workflow.version, new.workflow)
        self.refresh()
        return len(changed)

    def ids_created_before(self, cutoff: datetime) -> list[str]:
        """Ids of the posts published before ``cutoff`` (what a retention period removes)."""
        return [doc.id for doc in self.scan(SearchQuery(until=cutoff))]

    @abstractmethod
    def purge(self) -> None:
        """Make what was deleted or rewritten unrecoverable from the store's files (free pages, old segments)."""

    @abstractmethod
    def delete(self, post_ids: Iterable[str]) -> int:
        """Erase the given posts (deleted at their source) with their feedback; return how many were there."""

    @abstractmethod
    def scan(self, query: SearchQuery) -> Iterator[IndexedPost]:
        """Every post ``query`` matches, in no particular order (its sort, limit and offset are ignored)."""

    def histogram(self, query: SearchQuery, interval: str = "day", by: str | None = None) -> list[tuple[datetime, str | None, int]]:
        """Posts matching ``query`` per ``interval`` of ``created_at``, split by the values of field ``by``.

        Returns ``(bucket start, value, count)`` ordered by start then value;
        empty buckets are left out. A post counts once for each value of a
        multi-valued field. Without ``by`` the value is ``None``.
        """
        if interval not in INTERVALS:
            raise QueryError(f"unknown interval {interval!r} (valid: {', '.join(INTERVALS)})")
        if by is not None and by not in FIELDS:
            raise QueryError(f"unknown field {by!r} (valid: {', '.join(FIELDS)})")
        return self._histogram(query, interval, by)

    @abstractmethod
    def _histogram(self, query: SearchQuery, interval: str, by: str | None) -> list[tuple[datetime, str | None, int]]:
        ...

    def refresh(self) -> None:
        """Make recent writes visible to search (a no-op where they already are)."""

    def rollover(self) -> str | None:
        """Start a new write index if the current one is due (Elasticsearch); returns its name, or None."""
        return None

    def reindex(self, delete_old: bool = False, progress=lambda step: None):
        """Rebuild the index with the current mapping and settings while it stays in use (Elasticsearch)."""
        raise ListenerError(f"the {self.name} index has no mapping to rebuild: reindex is for Elasticsearch")

    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def _replace_workflow(self, post_id: str, expected_version: int, workflow: Workflow) -> bool:
        """Store ``workflow`` only if the stored version is still ``expected_version``."""

    def inbox(self, filters: Mapping[str, tuple[str, ...]] | None = None, limit: int = 20, offset: int = 0) -> list[IndexedPost]:
        return self.search(inbox_query(filters, limit, offset)).hits

    def update_workflow(self, post_id: str, expected_version: int, change: WorkflowChange) -> Workflow:
        """Apply ``change`` if nobody changed the post since ``expected_version``."""
        current = self.get(post_id)
        if current is None:
            raise NotFoundError(f"no post with id {post_id!r}")
        if current.workflow.version != expected_version:
            raise _conflict(post_id, current.workflow)
        updated = apply_change(current.workflow, change, post_id)
        if not self._replace_workflow(post_id, expected_version, updated):
            latest = self.get(post_id)
            raise _conflict(post_id, latest.workflow if latest else current.workflow)
        return updated

    def claim(self, post_id: str, actor: str, expected_version: int) -> Workflow:
        return self.update_workflow(post_id, expected_version, WorkflowChange.claim(actor))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _conflict(post_id: str, workflow: Workflow) -> ConflictError:
    who = f" by {workflow.assignee}" if workflow.assignee else ""
    return ConflictError(f"post {post_id} was changed{who} since you loaded it (it is now {workflow.status}, version {workflow.version})")
