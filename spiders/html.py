"""Generic HTML forums and review pages, read with per-site selectors.

A site is described in the source's options: list pages (``start_urls``, or
``search_url`` with ``{query}``), the links on a list page to item pages
(``item_links``), the list's "next" link (``next_page``), and on an item page
the ``post`` containers and their ``fields``. When an item page declares
schema.org data (JSON-LD or microdata: DiscussionForumPosting, QAPage,
Review), that is read instead of the selectors. A selector starting with ``/``
or ``./`` or ``(`` is XPath, any other is CSS (``::text`` and ``::attr(x)``
allowed). robots.txt is obeyed, AutoThrottle paces the requests, and links to
other sites than the list pages' are not followed (``source/offsite``).

Options: ``start_urls`` (list pages; paths go under ``base_url``), ``search_url``
(a list page per query, ``{query}`` filled), ``item_links``, ``next_page``,
``post`` and ``fields`` (``text``, ``date`` required; ``author``, ``title``, ``id``
optional), ``threaded`` (default true: the first post on an item page starts
the thread and the others answer it, which gives ``reply_count`` and
``replied_by``; false for review pages), ``structured`` (default true),
``date_format`` (strptime, when dates are not ISO 8601 or RFC 2822),
``timezone`` (for dates without one; default UTC), ``max_pages`` (list pages
followed per start URL and run, 5) and ``max_items`` (item pages per run, 100).
Each list URL has a cursor (``posts`` when there is one); a walk cut short
goes on from the list page where it stopped in the next run (see
:class:`HTMLSpider`). Posts without a readable date are reported and skipped,
since a run could not tell them from old ones.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from urllib.parse import quote_plus, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from listener.records import Post, post_id
from spiders.base import Page, SourceSpider
from spiders.conversations import gone_status
from spiders.dispatch import RateLimitedError
from spiders.limits import JSON_MAX_DEPTH
from spiders.progress import Listing, lower_bound
from spiders.robots import RobotsUnavailableError
from spiders.structured import block_text, parse_date, schema_items, schema_posts, with_replies


class PostFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    author: str | None = None
    date: str
    title: str | None = None  # threaded: selected on the whole page, for the first post
    id: str | None = None


class HTMLOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_urls: list[str] = []
    search_url: str | None = None
    item_links: str | None = None
    next_page: str | None = None
    post: str | None = None
    fields: PostFields | None = None
    threaded: bool = True
    structured: bool = True
    date_format: str | None = None
    timezone: str = "UTC"
    max_pages: int = Field(5, ge=1)
    max_items: int = Field(100, ge=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone like Europe/Madrid, found {value!r}") from None
        return value

    @model_validator(mode="after")
    def _complete(self) -> HTMLOptions:
        if not self.start_urls and not self.search_url:
            raise ValueError("give start_urls or search_url (with {query}) to say where the list pages are")
        if self.search_url and "{query}" not in self.search_url:
            raise ValueError("search_url needs a {query} placeholder")
        if (self.post is None) != (self.fields is None):
            raise ValueError("post and fields go together: post selects each post, fields its parts")
        if self.post is None and not self.structured:
            raise ValueError("with structured: false, give post and fields selectors")
        return self


def select(node, query: str):
    """Run a CSS or XPath selector (XPath when it starts with ``/``, ``./`` or ``(``)."""
    return node.xpath(query) if query.startswith(("/", "./", "(")) else node.css(query)


def extract(node, query: str | None) -> str | None:
    """The text a selector points at: strings as they are, elements as readable text."""
    if not query:
        return None
    values = []
    for found in select(node, query):
        if isinstance(found.root, str):
            values.append(found.root.strip())
        else:
            values.append(block_text(found.get()))
    text = "\n".join(v for v in values if v)
    return text or None


def parse_list(response, item_links: str | None, next_page: str | None) -> tuple[list[str], str | None]:
    """The item pages a list page links to (itself without ``item_links``) and the next list page."""
    links = [response.urljoin(h) for h in _hrefs(response, item_links)] if item_links else [response.url]
    following = _hrefs(response, next_page) if next_page else []
    return list(dict.fromkeys(links)), response.urljoin(following[0]) if following else None


def _hrefs(response, query: str) -> list[str]:
    found = select(response, query)
    hrefs = []
    for node in found:
        if isinstance(node.root, str):
            hrefs.append(node.root.strip())
        else:
            hrefs.append((node.attrib.get("href") or "").strip())
    return [h for h in hrefs if h and not h.startswith(("#", "javascript:", "mailto:"))]


def parse_item(response, source: str, options: HTMLOptions, max_depth: int = JSON_MAX_DEPTH) -> Page:
    """Posts on an item page: its schema.org data when it has some, else the selectors."""
    page = Page()
    if options.structured:
        items, problems = schema_items(response.body, response.url, max_depth)
        posts, more = schema_posts(items, response.url, source)
        page.problems += problems + more
        if posts:
            page.posts = posts
            return page
    if options.post is None:
        return page
    posts = []
    for index, node in enumerate(select(response, options.post)):
        try:
            posts.append(_selected_post(node, response, source, index, options))
        except ValueError as exc:
            page.problems.append(f"post {index + 1} on {response.url}: {exc}")
    if posts and options.threaded:
        root = posts[0]
        posts = [root] + [replace(p, parent_id=root.id, thread_id=root.id) for p in posts[1:]]
        posts = with_replies(posts)
    page.posts = posts
    return page


def _selected_post(node, response, source: str, index: int, options: HTMLOptions) -> Post:
    fields = options.fields
    text = extract(node, fields.text)
    if not text:
        raise ValueError(f"no text at {fields.text!r}")
    raw_date = extract(node, fields.date)
    created = parse_date(raw_date, options.date_format, options.timezone)
    if created is None:
        raise ValueError(f"no date at {fields.date!r}" + (f" (found {raw_date!r})" if raw_date else ""))
    anchor = extract(node, fields.id) if fields.id else node.attrib.get("id")
    native = f"{response.url}#{anchor or index}"
    if options.threaded:  # the page's title names the thread its first post starts
        title = extract(response, fields.title) if index == 0 else None
    else:
        title = extract(node, fields.title)
    return Post(
        id=post_id(source, native),
        source=source,
        url=f"{response.url}#{anchor}" if anchor else response.url,
        author=extract(node, fields.author),
        text=text,
        created_at=created,
        title=title,
        thread_id=post_id(source, native) if options.threaded else None,
    )


@dataclass(eq=False)
class Walk:
    """One list URL followed through its ``next_page`` links: where it is and what its current list page held."""

    listing: Listing
    start: str  # the list URL as configured
    next: str | None  # the list page to read next; None once the list ended
    pages: int = 0  # list pages read this run
    spent: bool = False  # ``max_items`` stopped it inside a list page
    failed: bool = False  # a page could not be fetched: the walk's last checkpoint stands
    posts: int = 0  # posts on the current list page's items
    fresh: int = 0  # of them, newer than the cursor


class HTMLSpider(SourceSpider):
    """Walks each list URL's pages, each list page's item pages before the next list page, one request at a time.

    Each list URL has a cursor: ``posts`` for a site with one, ``posts <url>``
    for each of several (a site's ``posts`` cursor from before carries over).
    It is told as each list page's item pages are read. A walk stopped early
    (``max_pages``, ``max_items``, a page that could not be fetched, the
    crawl's time limit) keeps a gap whose ``resume`` is the list page to go on
    from: the next run reads from there, and then moves on to new posts. A list
    page whose items hold posts but none newer than the cursor ends a walk's
    gap (the list is newest first).
    """

    kind = "html"
    options_model = HTMLOptions
    custom_settings = {
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    }
    cursor_key = "posts"

    def headers(self) -> dict[str, str]:
        return {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}

    def list_urls(self) -> list[str]:
        urls = list(self.options.start_urls)
        if self.options.search_url:
            urls += [self.options.search_url.replace("{query}", quote_plus(q)) for q in self.queries()]
        # A URL without a scheme is a path under base_url (which may have a path of its own).
        return [u if urlsplit(u).scheme else f"{self.base_url}/{u.lstrip('/')}" for u in urls]

    def walk(self, url: str, alone: bool) -> Walk:
        key = self.cursor_key if alone else f"{self.cursor_key} {url}"
        if key not in self.cursors and lower_bound(self.cursors.get(self.cursor_key)) is not None:
            self.cursors[key] = lower_bound(self.cursors[self.cursor_key])  # the site's one cursor from before
        listing = self.progress(key)
        return Walk(listing, url, listing.resume or url)

    async def start(self):
        relative = [u for u in [*self.options.start_urls, self.options.search_url or ""] if u and not urlsplit(u).scheme]
        if relative and not self.base_url:
            self.problem("config", None, f"{relative[0]!r} is relative: give an absolute URL or set base_url")
            return
        urls = list(dict.fromkeys(self.list_urls()))
        # Links are followed on the list pages' own sites only (a selector may catch an ad or a share link).
        self.hosts = {urlsplit(url).hostname for url in urls}
        self.walks: deque[Walk] = deque(self.walk(url, len(urls) == 1) for url in urls)
        self.items: deque[tuple[str, Walk]] = deque()
        self.seen: set[str] = set()
        for step in self.advance():
            yield step

    def advance(self):
        """The next page to fetch: the current list page's items, then the next list page, then the next list URL."""
        if self.items:
            link, walk = self.items.popleft()
            yield self.step(link, self.parse_item_page, walk=walk, link=link)
            return
        while self.walks:
            walk = self.walks[0]
            if walk.next is not None and not walk.spent and walk.pages < self.options.max_pages:
                yield self.step(walk.next, self.parse_list_page, walk=walk)
                return
            self.walks.popleft()
            self.end(walk)

    def end(self, walk: Walk) -> None:
        if walk.next is not None and not walk.failed:
            self.crawler.stats.inc_value("source/truncated")
        if not walk.failed:
            old = walk.posts > 0 and walk.fresh == 0  # its last list page reached the cursor
            walk.listing.finish(complete=not walk.spent and (walk.next is None or old))

    def step(self, url: str, callback, **cb_kwargs):
        return self.request(url, callback, cb_kwargs=cb_kwargs, errback=self.step_failed, dont_filter=True)

    def step_failed(self, failure):
        self.on_failure(failure)
        walk, link = failure.request.cb_kwargs["walk"], failure.request.cb_kwargs.get("link")
        # robots.txt's rules are deliberate, a page we could not fetch is not
        deliberate = failure.check(IgnoreRequest) and not failure.check(HttpError, RateLimitedError,
                                                                        RobotsUnavailableError)
        if link is None and walk.pages == 0 and walk.next != walk.start and gone_status(failure):
            self.problem("gap", failure.request.url, f"{walk.listing.key}: the list page a gap goes on from is gone; "
                                                     "reading the list from its start")
            walk.next = walk.start
        elif link is None:
            walk.next = None  # a list page that failed: nothing says where the list goes on
            walk.failed = walk.failed or not deliberate
        elif deliberate:
            walk.listing.expand(link, [])
        else:
            walk.failed = True
        yield from self.advance()

    def parse_list_page(self, response, walk: Walk):
        walk.pages += 1
        walk.posts = walk.fresh = 0
        current = response.request.url if response.request else response.url
        links, following = parse_list(response, self.options.item_links, self.options.next_page) \
            if self.is_html(response) else ([], None)
        if following and urlsplit(following).hostname not in self.hosts:
            following = None
        items = []
        for link in links:
            if link in self.seen:
                continue
            if urlsplit(link).hostname not in self.hosts:
                self.crawler.stats.inc_value("source/offsite")
                continue
            if len(self.seen) >= self.options.max_items:
                walk.spent = True  # the next run reads this list page again
                break
            self.seen.add(link)
            items.append(link)
        walk.next = current if walk.spent else following
        walk.listing.page(items, walk.listing.before, None, walk.next)
        for link in items:
            if link == response.url:
                yield from self.item_posts(response, walk, link)
            else:
                self.items.append((link, walk))
        yield from self.advance()

    def parse_item_page(self, response, walk: Walk, link: str):
        if self.is_html(response):
            yield from self.item_posts(response, walk, link)
        else:
            walk.listing.expand(link, [])
        yield from self.advance()

    def item_posts(self, response, walk: Walk, link: str):
        try:
            page = parse_item(response, self.source.label, self.options, self.crawler.settings.getint("JSON_MAX_DEPTH"))
        except Exception as exc:  # noqa: BLE001 - one page nobody can read never ends the walk over the others
            self.problem("parse", response.url, f"{type(exc).__name__}: {exc}")
            walk.listing.expand(link, [])
            return
        posts = self.page_posts(page, response)
        since = self.since(walk.listing.key)
        fresh = [post for post in posts if post.created_at > since]
        walk.posts += len(posts)
        walk.fresh += len(fresh)
        walk.listing.expand(link, [post.id for post in fresh], *self.span(fresh, whole=False))
        yield from fresh

    def is_html(self, response) -> bool:
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if ctype and "html" not in ctype and "xml" not in ctype:
            self.problem("not_html", response.url, f"expected an HTML page, got {ctype}")
            return False
        return True
