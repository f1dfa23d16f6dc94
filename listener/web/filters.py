"""Reading the filters of the inbox and search pages (and API) from a query string."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from listener.index.base import SearchQuery
from listener.records import WAITING_FOR_BRAND
from listener.web.i18n import gettext as _, parse_day
from listener.web.views import term
from listener.workflow import OPEN_STATUSES

FILTER_FIELDS = ("entity", "source", "language", "intent", "customer_status", "answer_state", "status", "assignee")
INBOX_SORTS = {"priority": "priority", "due": "oldest", "newest": "newest"}
SEARCH_SORTS = ("relevance", "newest", "oldest", "score")
SEARCH_FACETS = ("entity", "intent", "customer_status", "answer_state", "source", "language")


class FilterError(ValueError):
    """A query-string value that cannot be used; the message names the parameter."""


@dataclass
class Selection:
    """What a page asked for: filters, dates, text, sort and page."""

    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    since: date | None = None
    until: date | None = None
    text: str = ""
    sort: str = ""
    page: int = 1

    def query(self, zone: str, *, limit: int, facets: tuple[str, ...] = (), surface: bool | None = None, sort: str | None = None) -> SearchQuery:
        tz = ZoneInfo(zone)
        since = datetime.combine(self.since, time(), tz) if self.since else None
        until = datetime.combine(self.until + timedelta(days=1), time(), tz) if self.until else None
        return SearchQuery(
            text=self.text, filters=self.filters, surface=surface, since=since, until=until,
            facets=facets, sort=sort, limit=limit, offset=(self.page - 1) * limit,
        )

    def link(self, **changes) -> str:
        """This selection's query string with some values changed (``None`` removes one)."""
        params: list[tuple[str, str]] = []
        values = {name: list(v) for name, v in self.filters.items()}
        values.update({"q": [self.text] if self.text else [], "sort": [self.sort] if self.sort else []})
        values["since"] = [self.since.isoformat()] if self.since else []
        values["until"] = [self.until.isoformat()] if self.until else []
        for name, value in changes.items():
            values[name] = [] if value is None else ([value] if isinstance(value, (str, int)) else list(value))
        if "page" not in changes and self.page > 1:
            values["page"] = [self.page]
        for name, items in values.items():
            params += [(name, str(item)) for item in items if item != ""]
        return "?" + urlencode(params) if params else "?"

    def has(self, name: str, value: str) -> bool:
        return value in self.filters.get(name, ())


def read_selection(params, user: str, sorts, default_sort: str, inbox: bool = False) -> Selection:
    filters: dict[str, tuple[str, ...]] = {}
    for name in FILTER_FIELDS:
        values = tuple(dict.fromkeys(v for v in params.getlist(name) if v))
        if name == "assignee":
            values = tuple(user if v == "me" else v for v in values)
        if values:
            filters[name] = values
    if inbox and "status" not in filters:
        filters["status"] = OPEN_STATUSES
    if inbox and "answer_state" not in filters:  # what the brand answered leaves the inbox, as everywhere
        filters["answer_state"] = WAITING_FOR_BRAND
    sort = params.get("sort") or default_sort
    if sort not in sorts:
        raise FilterError(_("%(name)s must be one of %(valid)s, not %(value)r") % {"name": "sort", "valid": ", ".join(sorts), "value": sort})
    try:
        page = int(params.get("page") or 1)
    except ValueError:
        raise FilterError(_("page must be a number, not %(value)r") % {"value": params.get("page")}) from None
    if not 1 <= page <= 10_000:
        raise FilterError(_("page must be between 1 and 10000"))
    return Selection(
        filters=filters,
        since=read_date(params, "since"),
        until=read_date(params, "until"),
        text=(params.get("q") or "").strip()[:500],
        sort=sort,
        page=page,
    )


def window(zone: str, now: datetime, days: int, since: date | None, until: date | None) -> tuple[datetime, datetime]:
    """A period of whole days in the team's time zone; by default the ``days`` up to ``now``."""
    tz = ZoneInfo(zone)
    end = datetime.combine(until + timedelta(days=1), time(), tz) if until else now
    start = datetime.combine(since, time(), tz) if since else end - timedelta(days=days)
    if start >= end:
        raise FilterError(_("since must be before until"))
    return start, end


def read_date(params, name: str) -> date | None:
    value = params.get(name)
    if not value:
        return None
    try:
        return parse_day(value)
    except ValueError:
        raise FilterError(_("%(name)s must be a day like 20/11/2026, not %(value)r") % {"name": term(name), "value": value}) from None
