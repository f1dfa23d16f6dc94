"""App Store customer reviews, per app and country, from the public iTunes RSS feed.

``/{country}/rss/customerreviews/page={n}/id={app}/sortby=mostrecent/json``
serves up to ten pages of the newest reviews; a run reads pages until it
reaches a review at or before the cursor of that app and country. A review's
star rating goes into its title ("Title (2/5)"). No authentication; the
developer's answers are not in the feed, so the reply state stays unknown.

A run stopped early (``max_pages``, a failed page, the crawl's time limit)
keeps a gap whose ``resume`` is the next feed page: the next run goes on from
there, leaving out what it fetched already, and then moves on to new reviews
(see :mod:`spiders.progress`). The feed cannot page back further than its ten
pages: reviews pushed past the last page before a run reaches them are out of
reach, and a run that ends on the last page without reaching its cursor says so
(``source/out_of_reach``).

Options: ``apps`` (numeric App Store ids, ``id`` prefix allowed), ``countries``
(two-letter store codes, default ``es``) and ``max_pages`` (1-10). Each app and
country pair has its own cursor, ``<app>/<country>``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.records import Post, parse_time, post_id
from spiders.base import Page, SourceSpider
from spiders.progress import Listing

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
                listing = self.progress(f"{app}/{country}")
                yield self.page(app, country, listing, int(listing.resume or 1), 1)

    def page(self, app: str, country: str, listing: Listing, number: int, pages: int):
        url = self.url(REVIEWS_PATH.format(country=country, page=number, app=app))
        return self.request(url, self.parse_page,
                            cb_kwargs={"app": app, "country": country, "listing": listing, "number": number,
                                       "pages": pages})

    def parse_page(self, response, app: str, country: str, listing: Listing, number: int, pages: int):
        payload = self.load_json(response)
        if payload is None:
            return
        page = parse_reviews(payload, self.source.label, app, country, number)
        since = self.since(listing.key)
        older = False
        fresh = []
        for post in page.posts:
            if post.created_at <= since:
                older = True
            elif listing.before is None or self.cursor_time(post) <= float(listing.before):
                fresh.append(post)  # newer ones were fetched by the run that left the gap
        page.posts = fresh
        oldest, newest = self.span(page.posts)
        posts = self.page_posts(page, response)
        resume = str(page.next) if page.next is not None else None
        listing.page([post.id for post in posts], oldest or listing.before, newest, resume)
        yield from posts
        if page.next is not None and not older and pages < self.options.max_pages:
            yield self.page(app, country, listing, page.next, pages + 1)
            return
        if page.next is not None and not older:
            self.crawler.stats.inc_value("source/truncated")
        elif fresh and not older and listing.key in self.cursors:
            self.crawler.stats.inc_value("source/out_of_reach")
            self.logger.warning("%s: %s: the feed ends at page %s before the cursor; older reviews are out of its reach",
                                self.source.label, listing.key, number)
        listing.finish(complete=page.next is None or older)
