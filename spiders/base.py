"""What every source spider shares: options, queries, cursors and error reports.

A kind subclasses :class:`SourceSpider`, names itself with ``kind``, declares
its options as a pydantic model and turns responses into :class:`Post` items
through pure ``parse_*`` functions. It yields :class:`Cursor` items to report
how far a query got; the runner hands both back to the caller, which stores the
posts and only then the cursors.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import urlencode

import scrapy
from pydantic import BaseModel, ConfigDict, ValidationError
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from listener.config import Config, SourceConfig
from listener.errors import ConfigError
from listener.records import Post
from listener.threads import unchecked
from spiders.limits import Problems, TooDeepError, loads, skipped
from spiders.admission import checked, post_rejected
from spiders.progress import Listing, cursor_reached, lower_bound

logger = logging.getLogger(__name__)

# Sent with (message=str) whenever a source reports a problem; the runner collects them.
source_error = object()


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far ``key`` (usually a query) got: the next run starts after ``value``."""

    key: str
    value: str


@dataclass(slots=True)
class Page:
    """What a parser found in one response: posts, where to go next, and what it skipped."""

    posts: list[Post] = field(default_factory=list)
    next: Any = None
    problems: list[str] = field(default_factory=Problems)


@dataclass(frozen=True, slots=True)
class Thread:
    """What a post's replies tell: how many, who wrote them (first seen first) and when the first came."""

    count: int = 0
    repliers: tuple[str, ...] = ()
    first_reply_at: datetime | None = None

    def apply(self, post: Post) -> Post:
        """``post`` with these replies, as looked up (``reply_check="checked"``)."""
        return replace(post, reply_count=max(self.count, post.reply_count or 0), replied_by=self.repliers,
                       first_reply_at=self.first_reply_at, reply_check="checked")

    @classmethod
    def of(cls, replies: list[tuple[str | None, datetime | None]], poster: str | None) -> Thread:
        """From ``(author, time)`` pairs: deleted authors and the poster are not repliers."""
        authors = [a for a, _ in replies if a and a != poster]
        times = [t for a, t in replies if t is not None and a != poster]
        return cls(len(replies), tuple(dict.fromkeys(authors)), min(times) if times else None)


@dataclass(frozen=True, slots=True)
class Terms:
    """The words a source searches for, from the brand, competitors and sector."""

    names: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> Terms:
        names, handles, hashtags = [], [], []
        for entity, _role in config.entities:
            names += [entity.name, *entity.aliases]
            handles += entity.handles
            hashtags += entity.hashtags
        return cls(_unique(names), _unique(handles), _unique(hashtags), _unique(config.sector.keywords))


def _unique(values: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value and value.lower() not in seen:
            seen[value.lower()] = value
    return tuple(seen.values())


def validate_options(model: type[BaseModel], source: SourceConfig) -> BaseModel:
    """The source's kind-specific options, or a :class:`ConfigError` naming source and key."""
    try:
        return model.model_validate(source.options)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(options)"
            if error["type"] == "extra_forbidden":
                problems.append(f"unknown option {key!r}")
            else:
                problems.append(f"option {key!r}: {error['msg']}, found {error.get('input')!r}")
        common = sorted(SourceConfig.model_fields)
        valid = ", ".join(sorted(model.model_fields)) or "none"
        raise ConfigError(
            f"source {source.label!r} (kind {source.kind}): {'; '.join(problems)} "
            f"(valid options: {valid}; common keys: {', '.join(common)})"
        ) from None


_BREAKS = re.compile(r"(?i)<br\s*/?>|</p>\s*<p[^>]*>|<p[^>]*>")
_TAGS = re.compile(r"<[^>]+>")


def html_text(value: str | None) -> str:
    """Plain text from the small HTML that APIs put in post bodies."""
    if not value:
        return ""
    text = _TAGS.sub("", _BREAKS.sub("\n\n", value))
    return html.unescape(text).strip()


def report(crawler, reason: str, url: str | None, detail: str) -> None:
    """Log a problem with source and URL, count it as ``source/errors/<reason>`` and pass it on."""
    spider = crawler.spider
    label = getattr(getattr(spider, "source", None), "label", getattr(spider, "name", "?"))
    message = f"{label}: {reason}: {detail}" + (f" ({url})" if url else "")
    logger.warning("%s", message)
    crawler.stats.inc_value(f"source/errors/{reason}")
    crawler.signals.send_catch_log(source_error, message=message)


class SourceSpider(scrapy.Spider):
    """Base of every source kind, built from ``(config, source, cursors)``."""

    kind: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    options_model: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, config: Config, source: SourceConfig, cursors: dict[str, str] | None = None,
                 recheck: list[Post] | None = None, **kwargs):
        super().__init__(name=source.label, **kwargs)
        self.config = config
        self.source = source
        self.cursors = dict(cursors or {})
        self.recheck = None if recheck is None else list(recheck)
        self.options = validate_options(self.options_model, source)
        self.base_url = (source.base_url or self.default_base_url).rstrip("/")
        self.started = datetime.now(timezone.utc)
        self.threads_left = getattr(self.options, "max_threads", 0)
        self.listings: list[Listing] = []

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        if isinstance(kwargs.get("request"), str):  # a scrapyd job (spiders.jobs)
            from spiders.jobs import from_request

            kwargs.update(from_request(kwargs.pop("request")))
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider._on_item_out, signal=signals.item_scraped)
        crawler.signals.connect(spider._on_item_out, signal=signals.item_dropped)
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        return spider

    # -- queries and cursors -------------------------------------------------

    def queries(self) -> list[str]:
        """The source's explicit queries, or ones built from the configuration."""
        return list(self.source.queries) or self.build_queries(Terms.from_config(self.config))

    def build_queries(self, terms: Terms) -> list[str]:
        """One query per name, handle, hashtag and keyword; kinds override for their syntax."""
        return [*terms.names, *(h.lstrip("@") for h in terms.handles), *terms.hashtags, *terms.keywords]

    def since(self, key: str) -> datetime:
        """Where ``key`` starts: after its cursor if it is a time (never past now), else the back-fill window."""
        value = lower_bound(self.cursors.get(key))
        if value is not None:
            try:
                return min(datetime.fromtimestamp(float(value), timezone.utc), self.started)
            except (ValueError, OverflowError, OSError):
                pass
        return datetime.fromtimestamp(self.started.timestamp() - self.source.backfill, timezone.utc)

    def cursor_time(self, post: Post) -> float:
        """``post``'s time as a cursor: never past this run's start, so a post dated in the future cannot freeze a query."""
        return min(post.created_at.timestamp(), self.started.timestamp())

    def span(self, posts: list[Post], whole: bool = True) -> tuple[str | None, str | None]:
        """The oldest and newest cursor time of ``posts``, bad ones included, so the cursor passes them.

        In whole seconds, unless the source's times are finer (``whole=False``).
        """
        stamps = [self.cursor_time(post) for post in posts if isinstance(post.created_at, datetime)]
        stamps = [int(stamp) for stamp in stamps] if whole else stamps
        return (str(min(stamps)), str(max(stamps))) if stamps else (None, None)

    def progress(self, key: str, after: str | None = None, order=None, ceiling: str | None = None) -> Listing:
        """Track ``key``'s newest-first listing; its cursor is told as pages are delivered (see :mod:`spiders.progress`).

        ``ceiling`` is the id of this run's start, for ids that carry their time: a later stored id is read as it.
        """
        listing = Listing(key, self.cursors.get(key), self._tell_cursor, after, order, ceiling)
        self.listings.append(listing)
        return listing

    def _tell_cursor(self, key: str, value: str) -> None:
        self.crawler.signals.send_catch_log(cursor_reached, cursor=Cursor(key, value))

    def _on_item_out(self, item, spider, **_) -> None:
        if spider is self and isinstance(item, Post):
            for listing in self.listings:
                listing.delivered(item.id)

    def _on_closed(self, spider, reason, **_) -> None:
        if spider is self and reason == "finished":  # nothing is left to come: a post still owed was lost
            for listing in self.listings:
                if lost := listing.settle():
                    self.problem("lost", None, f"{listing.key}: {lost} post(s) never left the spider; the cursor passes them")

    def opening(self):
        """A run's first requests (after any sign-in): the kind's searches, or in a recheck only the threads."""
        if self.recheck is None:
            yield from self.searches()
            return
        self.crawler.stats.inc_value("source/rechecked", len(self.recheck))
        yield from self.thread_requests(self.recheck)

    def searches(self):
        """The requests of an ordinary run; kinds that use :meth:`opening` define them."""
        return iter(())

    # -- threads ---------------------------------------------------------------

    @classmethod
    def sees_replies(cls) -> bool:
        """Whether this kind can fetch a post's replies, and so re-check whether it was answered."""
        return (cls.thread_request is not SourceSpider.thread_request
                or cls.thread_requests is not SourceSpider.thread_requests)

    def thread_request(self, post: Post) -> scrapy.Request | None:
        """The request for ``post``'s replies; its callback yields the post updated. None: the kind cannot tell."""
        return None

    def thread_requests(self, posts: list[Post]):
        """Each post's thread asked afresh, whatever its stored count and the run's limits (a recheck)."""
        for post in posts:
            request = self.thread_request(post)
            yield post if request is None else request

    def wants_thread(self, post: Post) -> bool:
        """Whether a crawl asks for ``post``'s thread; a kind that lacks counts may ask on None too."""
        return bool(post.reply_count)

    def with_thread(self, post: Post):
        """``post`` as found, or the request for its thread while ``threads`` is on and ``max_threads`` lasts.

        A post whose thread the budget left out is ``unknown`` (``budget_exhausted``), never unanswered.
        """
        if getattr(self.options, "threads", False) and self.wants_thread(post):
            if self.threads_left <= 0:
                self.crawler.stats.inc_value("source/threads/budget_exhausted")
                yield unchecked(post, "budget_exhausted")
                return
            request = self.thread_request(post)
            if request is not None:
                self.threads_left -= 1
                yield request
                return
        yield post

    # -- requests and responses ----------------------------------------------

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return f"{self.base_url}{path}" + (f"?{urlencode(query, doseq=True)}" if query else "")

    def request(self, url: str, callback, **kwargs) -> scrapy.Request:
        """A request whose failures are reported instead of ending the run."""
        kwargs.setdefault("errback", self.on_failure)
        kwargs.setdefault("headers", self.headers())
        return scrapy.Request(url, callback=callback, **kwargs)

    def headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    def load_json(self, response) -> Any | None:
        """The JSON body, or ``None`` after reporting an HTML page or a truncated body."""
        body = response.body
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if "html" in ctype or body.lstrip()[:1] == b"<":
            self.problem("not_json", response.url, f"expected JSON, got an HTML page (status {response.status})")
            return None
        try:
            return loads(body, self.crawler.settings.getint("JSON_MAX_DEPTH"))
        except (UnicodeDecodeError, json.JSONDecodeError, TooDeepError) as exc:
            self.problem("bad_json", response.url, f"{exc} in {len(body)} bytes")
            return None

    def page_posts(self, page: Page, response) -> list[Post]:
        """Report what the parser skipped (one line for the page) and return its posts.

        Each post is checked as ``listener ingest`` checks a line (:mod:`spiders.admission`).
        """
        posts = []
        for post in page.posts:
            found = checked(post, self.source.label)
            if isinstance(found, Post):
                posts.append(found)
            else:  # kept aside for the dead-letter file; the rest of the page goes on
                page.problems.append(f"{post.id}: not kept ({found.reason})")
                self.crawler.stats.inc_value("source/rejected")
                self.crawler.signals.send_catch_log(post_rejected, origin=self.source.label, reason=found.reason,
                                                    record=json.loads(found.raw))
        if page.problems:
            self.problem("bad_item", response.url, skipped(page.problems))
        self.crawler.stats.inc_value("source/posts", len(posts))
        return posts

    def problem(self, reason: str, url: str | None, detail: str) -> None:
        report(self.crawler, reason, url, detail)

    def on_failure(self, failure) -> None:
        request = failure.request
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            return  # the middleware that ignored it has reported why
        if failure.check(HttpError):
            response = failure.value.response
            body = response.body[:300].decode("utf-8", "replace").strip()
            self.problem(f"http_{response.status}", request.url, f"HTTP {response.status}" + (f": {body}" if body else ""))
        elif "download max size" in str(failure.value) or "max size" in str(failure.value):
            self.problem("too_large", request.url, str(failure.value))
        else:
            self.problem("download", request.url, f"{failure.type.__name__}: {failure.value}")

    def thread_failed(self, failure):
        """Errback of a thread request: report it and keep the post as found, its state ``unknown`` (``lookup_failed``)."""
        self.on_failure(failure)
        yield unchecked(failure.request.cb_kwargs["post"], "lookup_failed")

    def _on_spider_error(self, failure, response, spider) -> None:
        if spider is self:
            self.problem("parse", response.url, f"{failure.type.__name__}: {failure.value}")
            post = (response.request.cb_kwargs if response.request else {}).get("post")
            if isinstance(post, Post):  # its thread failed to parse: it is lost, and must not hold the cursor
                for listing in self.listings:
                    listing.delivered(post.id)

    def hold(self, url: str, seconds: float) -> None:
        """Send no request to ``url``'s host for ``seconds`` (a server asked us to back off)."""
        from spiders.dispatch import HostSchedule, host_of

        HostSchedule.of(self.crawler).hold(host_of(url), time.time() + seconds)

    def announced_wait(self, response) -> float | None:
        """Seconds a response's body asks the host to be left alone (0: slow down, no window); None: nothing.

        Called by the dispatch gate on the raw response (before decompression),
        before the next request to the host can go; kinds whose API announces
        waits in the body (Stack Exchange's ``backoff``) override it.
        """
        return None
