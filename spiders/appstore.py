"""App Store customer reviews, per app and country, from the public iTunes RSS feed.

``/{country}/rss/customerreviews/page={n}/id={app}/sortby=mostrecent/json``
serves up to ten pages of the newest reviews; a run reads pages until it
reaches a review at or before the cursor of that app and country. A review's
star rating goes into its title ("Title (2/5)"). No authentication; the
developer's answers are not in the feed, so the reply state stays unknown.

Options: ``apps`` (numeric App Store ids, ``id`` prefix allowed), ``countries``
(two-letter store codes, default ``es``) and ``max_pages`` (1-10). Each app and
country pair has its own cursor, ``<app>/<country>``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.records import Post, parse_time, post_id
from spiders.base import Cursor, Page, SourceSpider

REVIEWS_PATH = "/{country}/rss/customerreviews/page={page}/id={app}/sortby=mostrecent/json"
APP_URL = "https://apps.apple.com/{country}/app/id{app}"


class AppStoreOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apps: list[str] = Field(min_length=1)
    countries: list[str] = ["es"]
    max_pages: int = Field(10, ge=1, le=10)

    @field_validator("apps", mode="before")
    @classmethod
    def _numeric_ids(cls, values: Any) -> Any:
        if not isinstance(values, list):
            return values
        ids = [str(v).strip().removeprefix("id") for v in values]
        for value in ids:
            if not value.isdigit():
                raise ValueError(f"expected numeric App Store ids like 1147581063, found {value!r}")
        return ids

    @field_validator("countries")
    @classmethod
    def _country_codes(cls, values: list[str]) -> list[str]:
        codes = [v.strip().lower() for v in values]
        for code in codes:
            if not re.fullmatch(r"[a-z]{2}", code):
                raise ValueError(f"expected two-letter country codes like es or us, found {code!r}")
        return codes


def _label(entry: dict, key: str) -> str | None:
    value = entry.get(key)
    return value.get("label") if isinstance(value, dict) else None


def parse_reviews(payload: Any, source: str, app: str, country: str, page_number: int = 1) -> Page:
    """Reviews on one feed page; ``next`` is the next page number while the feed has one."""
    page = Page()
    feed = payload.get("feed") if isinstance(payload, dict) else None
    if not isinstance(feed, dict):
        page.problems.append("response has no 'feed' object")
        return page
    entries = feed.get("entry") or []
    if isinstance(entries, dict):  # a page with one review holds an object, not a list
        entries = [entries]
    for entry in entries:
        if not isinstance(entry, dict) or "im:rating" not in entry:
            continue  # the app's own description, which older feeds put first
        try:
            page.posts.append(parse_review(entry, source, app, country))
        except (KeyError, TypeError, ValueError) as exc:
            page.problems.append(f"review {_label(entry, 'id')!r}: {exc!r}")
    last = page_number
    for link in feed.get("link") or []:
        attributes = link.get("attributes") or {} if isinstance(link, dict) else {}
        if attributes.get("rel") == "last":
            match = re.search(r"/page=(\d+)/", attributes.get("href") or "")
            last = int(match.group(1)) if match else last
    if entries and page_number < last:
        page.next = page_number + 1
    return page


def parse_review(entry: dict, source: str, app: str, country: str) -> Post:
    native = _label(entry, "id")
    if not native:
        raise ValueError("review has no id")
    author = entry.get("author") if isinstance(entry.get("author"), dict) else {}
    title = (_label(entry, "title") or "").strip()
    rating = _label(entry, "im:rating")
    if rating:
        title = f"{title} ({rating}/5)" if title else f"Rating {rating}/5"
    return Post(
        id=post_id(source, native),
        source=source,
        url=f"{APP_URL.format(country=country, app=app)}?see-all=reviews#{native}",
        author=(_label(author, "name") or "").strip() or None,
        text=(_label(entry, "content") or "").strip(),
        created_at=parse_time(_label(entry, "updated") or ""),
        title=title or None,
        reply_check="no_thread_source",  # a feed carries no replies: the reply state stays unknown
    )


class AppStoreSpider(SourceSpider):
    kind = "appstore"
    default_base_url = "https://itunes.apple.com"
    options_model = AppStoreOptions

    async def start(self):
        for app in self.options.apps:
            for country in self.options.countries:
                key = f"{app}/{country}"
                yield self.page(app, country, 1, self.since(key), None)

    def page(self, app: str, country: str, number: int, since: datetime, newest: float | None):
        url = self.url(REVIEWS_PATH.format(country=country, page=number, app=app))
        return self.request(url, self.parse_page,
                            cb_kwargs={"app": app, "country": country, "number": number, "since": since, "newest": newest})

    def parse_page(self, response, app: str, country: str, number: int, since: datetime, newest: float | None):
        payload = self.load_json(response)
        if payload is None:
            return
        page = parse_reviews(payload, self.source.label, app, country, number)
        older = False
        for post in self.page_posts(page, response):
            if post.created_at <= since:
                older = True
                continue
            newest = max(newest or 0.0, min(post.created_at.timestamp(), self.started.timestamp()))
            yield post
        if page.next is not None and not older and number < self.options.max_pages:
            yield self.page(app, country, page.next, since, newest)
            return
        if newest is not None:
            yield Cursor(f"{app}/{country}", str(newest))
