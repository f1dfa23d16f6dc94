"""Index reads the scheduler's checks and reports share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from listener.index.base import BaseBackend, SearchQuery
from listener.records import WAITING_FOR_BRAND
from listener.workflow import OPEN_STATUSES

PAGE = 500


def search_all(backend: BaseBackend, query: SearchQuery, limit: int = 10_000) -> Iterator:
    """Every hit of ``query`` (up to ``limit``), page by page."""
    offset = 0
    while offset < limit:
        page = backend.search(replace(query, limit=min(PAGE, limit - offset), offset=offset))
        yield from page.hits
        if len(page.hits) < PAGE:
            return
        offset += len(page.hits)


def awaiting_brand(since: datetime | None = None, until: datetime | None = None) -> SearchQuery:
    """Surfaced posts still open for the team that the brand has not answered, oldest first."""
    return SearchQuery(
        filters={"status": OPEN_STATUSES, "answer_state": WAITING_FOR_BRAND},
        surface=True, since=since, until=until, sort="oldest",
    )


def surfaced(since: datetime | None = None, until: datetime | None = None) -> SearchQuery:
    return SearchQuery(surface=True, since=since, until=until, sort="oldest")
