"""RSS and Atom feeds (news, blogs, alerts feeds) read with feedparser.

Each feed URL is fetched once per run; entries newer than the feed's cursor
become posts. A feed URL may hold ``{query}``, filled with each query (for
search feeds such as a news site's ``/rss/search?q={query}``). Alerts feeds
that wrap every link in a redirect (``/url?...&url=<target>``) get the target.

Option: ``feeds``, a list of feed URLs (a path without a scheme goes under
``base_url``). Each feed has its own cursor, keyed by the feed as configured.
Entries without a date are reported and skipped. Feeds carry no replies, so
the reply state of their posts stays unknown. A feed is one page of its latest
entries and cannot page back: entries pushed out of it before a run reads it
are out of reach.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import feedparser
from pydantic import BaseModel, ConfigDict, Field

from listener.records import Post, post_id
from spiders.base import Cursor, Page, SourceSpider, html_text
from spiders.structured import block_text


class RSSOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeds: list[str] = Field(min_length=1)


class NotAFeedError(ValueError):
    """The body is not an RSS or Atom feed (an HTML error page, a login wall)."""


def unwrap(link: str) -> str:
    """The target of a redirect link like ``https://www.google.com/url?...&url=<target>``."""
    parts = urlsplit(link)
    if parts.path == "/url":
        target = parse_qs(parts.query).get("url") or parse_qs(parts.query).get("q")
        if target and target[0].startswith(("http://", "https://")):
            return target[0]
    return link


def parse_feed(body: bytes, source: str, url: str = "") -> Page:
    """Posts from a feed body; entries without an id or a date are reported and skipped."""
    feed = feedparser.parse(body, response_headers={"content-location": url} if url else None)
    if not feed.entries and (feed.bozo or not feed.version):
        reason = feed.get("bozo_exception") or "no entries and no feed version"
        raise NotAFeedError(f"not an RSS or Atom feed: {reason}")
    lang = (feed.feed.get("language") or "").split("-")[0].lower() or None
    author = (feed.feed.get("author") or "").strip() or None
    page = Page()
    for entry in feed.entries:
        try:
            post = parse_entry(entry, source, lang, author)
        except ValueError as exc:
            page.problems.append(str(exc))
            continue
        page.posts.append(post)
    return page


def parse_entry(entry: Any, source: str, lang: str | None = None, feed_author: str | None = None) -> Post:
    """One entry as a post; an entry without its own author has the feed's (as Atom says)."""
    link = unwrap(entry.get("link") or "")
    native = entry.get("id") or link
    if not native:
        raise ValueError(f"entry {entry.get('title')!r} has neither an id nor a link")
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if stamp is None:
        raise ValueError(f"entry {native} has no date")
    bodies = [c.get("value", "") for c in entry.get("content") or []] + [entry.get("summary") or ""]
    text = block_text(max(bodies, key=len))
    return Post(
        id=post_id(source, native),
        source=source,
        url=link or native,
        author=(entry.get("author") or "").strip() or feed_author,
        text=text,
        created_at=datetime.fromtimestamp(calendar.timegm(stamp), timezone.utc),
        title=html_text(entry.get("title")) or None,
        lang=lang,
        reply_check="no_thread_source",  # a feed carries no replies: the reply state stays unknown
    )


class RSSSpider(SourceSpider):
    kind = "rss"
    options_model = RSSOptions

    def feeds(self) -> dict[str, str]:
        """Every feed to read, by cursor key (the feed as configured, ``{query}`` filled) to URL.

        A feed without a scheme is a path under ``base_url``.
        """
        feeds: dict[str, str] = {}
        for feed in self.options.feeds:
            keys = [feed.replace("{query}", quote_plus(q)) for q in self.queries()] if "{query}" in feed else [feed]
            for key in keys:
                feeds[key] = key if urlsplit(key).scheme else f"{self.base_url}/{key.lstrip('/')}"
        return feeds

    def headers(self) -> dict[str, str]:
        return {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}

    async def start(self):
        relative = [f for f in self.options.feeds if not urlsplit(f).scheme]
        if relative and not self.base_url:
            self.problem("config", None, f"feed {relative[0]!r} is relative: give an absolute URL or set base_url")
            return
        for key, url in self.feeds().items():
            yield self.request(url, self.parse_page, cb_kwargs={"key": key})

    def parse_page(self, response, key: str):
        try:
            page = parse_feed(response.body, self.source.label, response.url)
        except NotAFeedError as exc:
            self.problem("not_feed", response.url, f"{exc} (status {response.status})")
            return
        since = self.since(key)
        newest = None
        for post in self.page_posts(page, response):
            if post.created_at <= since:
                continue
            newest = max(newest or 0.0, min(post.created_at.timestamp(), self.started.timestamp()))
            yield post
        if newest is not None:
            yield Cursor(key, str(newest))
