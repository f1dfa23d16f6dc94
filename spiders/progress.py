"""How far a newest-first listing got, as cursors that are safe to save at any moment.

A search read newest first that stops early (at ``max_pages``, or killed at
the crawl's time limit) has not seen its older posts. Its cursor then holds a
:class:`Gap`: posts after ``after`` and up to ``before`` are still to fetch,
and ``newest`` is where the query stands once they are. The next run fetches
the gap (newest first again) and, once it reaches the old cursor, the cursor
becomes ``newest``; posts newer than that come in the run after.

A :class:`Listing` tells the cursor as each page's posts are delivered (a post
waiting for its thread is not), so a crawl killed half-way keeps what it did.
Cursor values are strings in the kind's own unit (seconds, ids); they are
compared as numbers. A listing that cannot ask for "older than B" pages by
place instead (a page number, a list page's URL, Reddit's ``after``): each page
tells where the listing goes on after it, and the gap keeps that as ``resume``,
where the next run starts. A ``ceiling`` (the value of this run's start, for ids
that carry their time) caps a stored value from the future, so it cannot
hide the posts that come after now.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

# Sent with (cursor=Cursor) whenever a listing's cursor may be saved; the runner passes it on.
cursor_reached = object()


@dataclass(frozen=True, slots=True)
class Gap:
    """Posts after ``after`` (None: the back-fill window) and up to ``before`` are not fetched yet."""

    after: str | None
    before: str
    newest: str
    resume: str | None = None  # where the listing goes on, for one paged by place

    def value(self) -> str:
        data = {"after": self.after, "before": self.before, "newest": self.newest}
        if self.resume is not None:
            data["resume"] = self.resume
        return json.dumps(data)

    @classmethod
    def parse(cls, value: str | None) -> Gap | None:
        if not value or not value.startswith("{"):
            return None
        try:
            data = json.loads(value)
            return cls(_text(data.get("after")), str(data["before"]), str(data["newest"]), _text(data.get("resume")))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def lower_bound(value: str | None) -> str | None:
    """What a cursor value says was fetched already: the gap's start, or the value itself."""
    gap = Gap.parse(value)
    if gap is not None:
        return gap.after
    return None if value is not None and value.startswith("{") else value


def later(a: str | None, b: str | None, order: Callable[[str], Any] | None = None) -> str | None:
    """The later of two cursor values (None when neither is one), compared as numbers or by ``order``."""
    if a is None or b is None:
        return a if b is None else b
    order = order or _number
    return a if order(a) >= order(b) else b


def earlier(a: str | None, b: str | None, order: Callable[[str], Any] | None = None) -> str | None:
    """The earlier of two cursor values (None when neither is one)."""
    if a is None or b is None:
        return a if b is None else b
    order = order or _number
    return a if order(a) <= order(b) else b


def _number(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        return Decimal(0)


def _text(value) -> str | None:
    return None if value is None else str(value)


@dataclass
class _Page:
    oldest: str | None
    newest: str | None
    owed: set[str] = field(default_factory=set)
    resume: str | None = None


class Listing:
    """One query's newest-first listing in this run, from the cursor it started at.

    ``emit(key, value)`` is called with every cursor worth saving. A kind calls
    :meth:`page` for each page before yielding its posts, :meth:`delivered`
    is called for every post that leaves the spider, and :meth:`finish` when
    the listing ends (``complete`` when it reached the old cursor or the end).
    A page whose posts are known only later (a list of topics or of item
    pages) owes placeholders, which :meth:`expand` turns into posts.
    """

    def __init__(self, key: str, cursor: str | None, emit: Callable[[str, str], None], after: str | None = None,
                 order: Callable[[str], Any] | None = None, ceiling: str | None = None):
        self.key = key
        self.emit = emit
        self.order = order  # how the kind's values sort, when they are not plain numbers
        self.ceiling = ceiling
        gap = Gap.parse(cursor)
        self.after = self._capped(gap.after if gap else (lower_bound(cursor) if after is None else after))
        self.before = self._capped(gap.before) if gap else None  # the upper bound this run reads to, if any
        self.carried = self._capped(gap.newest) if gap else None  # the newest post earlier runs fetched
        self.resume = gap.resume if gap else None  # where an earlier run stopped, for a listing paged by place
        self.pages: list[_Page] = []
        self.done = 0  # pages whose posts were all delivered
        self.complete: bool | None = None
        self.told: str | None = None

    def _capped(self, value: str | None) -> str | None:
        """``value``, or the ceiling when it is later (a cursor from the future reads as now)."""
        if value is None or self.ceiling is None or not value.isdigit():
            return value  # only ids that carry their time are capped
        order = self.order or _number
        return self.ceiling if order(value) > order(self.ceiling) else value

    def page(self, post_ids: list[str], oldest: str | None, newest: str | None, resume: str | None = None) -> None:
        """A page was read: ``post_ids`` are owed until delivered; ``oldest``/``newest`` bound it.

        ``resume`` is where the listing goes on after this page, for a listing paged by place.
        """
        self.pages.append(_Page(oldest, newest, set(post_ids), resume))

    def expand(self, placeholder: str, post_ids: list[str], oldest: str | None = None,
               newest: str | None = None) -> None:
        """What a page owed as ``placeholder`` holds ``post_ids``, between ``oldest`` and ``newest``; they are owed instead."""
        for page in self.pages[self.done:]:
            if placeholder in page.owed:
                page.owed.discard(placeholder)
                page.owed.update(post_ids)
                page.oldest = earlier(page.oldest, oldest, self.order)
                page.newest = later(page.newest, newest, self.order)
        self._tell()

    def delivered(self, post_id: str) -> None:
        for page in self.pages[self.done:]:
            page.owed.discard(post_id)
        self._tell()

    def finish(self, complete: bool) -> None:
        self.complete = complete
        self._tell()

    def settle(self) -> int:
        """The crawl finished: posts still owed will never come, so the cursor passes them. How many there were."""
        if self.complete is None:
            return 0  # the listing itself did not finish: its last checkpoint stands
        lost = sum(len(page.owed) for page in self.pages[self.done:])
        for page in self.pages:
            page.owed.clear()
        self._tell()
        return lost

    def _tell(self) -> None:
        while self.done < len(self.pages) and not self.pages[self.done].owed:
            self.done += 1
        delivered = self.pages[:self.done]
        newest = self.carried
        for page in delivered:
            newest = later(newest, page.newest, self.order)
        if self.complete and self.done == len(self.pages):
            value = newest
        else:
            oldest = next((p.oldest for p in reversed(delivered) if p.oldest is not None), None)
            resume = delivered[-1].resume if delivered else None
            value = None if oldest is None or newest is None else Gap(self.after, oldest, newest, resume).value()
        if value is not None and value != self.told:
            self.told = value
            self.emit(self.key, value)
