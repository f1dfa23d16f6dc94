"""Discourse forums: ``/search.json`` or ``/latest.json``, and ``/t/<id>.json`` for replies.

``mode: search`` (the default) asks ``/search.json?q=<query> after:<date>
order:latest`` page by page; ``mode: latest`` walks ``/latest.json`` while
topics were bumped after the cursor. Either way each topic is then read once
from ``/t/<id>.json``: its posts give the full text, who replied to whom, and
whether staff or the brand's own accounts answered. A post's native id is
``<topic id>/<post number>``, so a reply names its parent and thread without
another request. Anonymous by default; ``api_key_env``/``api_username_env``
name the environment variables holding an API key for private forums.

Options: ``mode`` (``search`` or ``latest``), ``max_pages`` (5), ``max_topics``
(topics read per run, 50), ``brand_accounts`` (usernames on this forum that
speak for the brand) and ``staff_is_brand`` (on the brand's own forum, staff
answers are the brand's); a reply by either is reported under the brand's
first handle too, so that the index sees "answered by the brand". Only the
first chunk of a long topic (20 posts) is read.

Both modes page by place (``page``). A listing stopped early (``max_pages``,
``max_topics`` in ``latest`` mode, a failed page or topic, the crawl's time
limit) keeps a gap whose ``resume`` is the page to go on from: the next run
reads from there, leaving out what it fetched already, and then moves on to
new posts (see :mod:`spiders.progress`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from listener.config import secret
from listener.records import Post, parse_time, post_id
from listener.threads import thread_facts, unchecked
from spiders.base import Page, SourceSpider, Terms, html_text
from spiders.conversations import Gone, gone_status
from spiders.progress import Listing
from spiders.structured import block_text

_QUOTES = re.compile(r'<aside class="quote[^"]*".*?</aside>', re.DOTALL)


class DiscourseOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["search", "latest"] = "search"
    max_pages: int = Field(5, ge=1)
    max_topics: int = Field(50, ge=0)
    brand_accounts: list[str] = []
    staff_is_brand: bool = False
    api_key_env: str | None = None
    api_username_env: str | None = None


@dataclass(frozen=True, slots=True)
class Brand:
    """Who speaks for the brand on this forum, and the handle to report them under."""

    handle: str | None = None
    accounts: frozenset[str] = frozenset()
    staff: bool = False

    def speaks(self, post: dict) -> bool:
        return bool(self.handle) and (
            (post.get("username") or "").lower() in self.accounts or (self.staff and bool(post.get("staff")))
        )


@dataclass(slots=True)
class TopicList:
    """Topics on one ``/latest.json`` page: ``(id, bumped_at, pinned)``; ``next`` page number or None."""

    topics: list[tuple[int, datetime, bool]] = field(default_factory=list)
    next: int | None = None
    problems: list[str] = field(default_factory=list)


def native(topic_id: int | str, number: int | str) -> str:
    return f"{topic_id}/{number}"


def topic_url(base_url: str, slug: str | None, topic_id: int, number: int) -> str:
    return f"{base_url}/t/{slug or 'topic'}/{topic_id}/{number}"


def parse_search(payload: Any, source: str, base_url: str) -> Page:
    """Matching posts from ``/search.json`` (text is the search blurb); ``next`` is True when more pages exist."""
    page = Page()
    if not isinstance(payload, dict) or not isinstance(payload.get("posts"), list):
        page.problems.append("response has no 'posts' list")
        return page
    topics = {t.get("id"): t for t in payload.get("topics") or [] if isinstance(t, dict)}
    for item in payload["posts"]:
        try:
            topic = topics.get(item["topic_id"]) or {}
            number = int(item["post_number"])
            page.posts.append(Post(
                id=post_id(source, native(item["topic_id"], number)),
                source=source,
                url=topic_url(base_url, topic.get("slug"), item["topic_id"], number),
                author=item.get("username") or None,
                author_name=item.get("name") or None,
                text=html_text(item.get("blurb")),
                created_at=parse_time(item["created_at"]),
                title=topic.get("title") if number == 1 else None,
                parent_id=post_id(source, native(item["topic_id"], 1)) if number > 1 else None,
                thread_id=post_id(source, native(item["topic_id"], 1)),
            ))
        except (KeyError, TypeError, ValueError) as exc:
            page.problems.append(f"post {item.get('id') if isinstance(item, dict) else item!r}: {exc!r}")
    more = (payload.get("grouped_search_result") or {}).get("more_full_page_results")
    page.next = bool(more) and bool(payload["posts"])
    return page


def parse_latest(payload: Any) -> TopicList:
    listing = TopicList()
    topic_list = payload.get("topic_list") if isinstance(payload, dict) else None
    if not isinstance(topic_list, dict) or not isinstance(topic_list.get("topics"), list):
        listing.problems.append("response has no 'topic_list.topics' list")
        return listing
    for topic in topic_list["topics"]:
        try:
            bumped = topic.get("bumped_at") or topic.get("last_posted_at") or topic["created_at"]
            listing.topics.append((int(topic["id"]), parse_time(bumped), bool(topic.get("pinned"))))
        except (KeyError, TypeError, ValueError) as exc:
            listing.problems.append(f"topic {topic.get('id') if isinstance(topic, dict) else topic!r}: {exc!r}")
    more = topic_list.get("more_topics_url")
    match = re.search(r"[?&]page=(\d+)", more or "")
    listing.next = int(match.group(1)) if match and listing.topics else None
    return listing


def parse_topic(payload: Any, source: str, base_url: str, brand: Brand = Brand()) -> Page:
    """The loaded posts of ``/t/<id>.json``, each with the conversation model's facts from the others.

    A post answers the one its ``reply_to_post_number`` names, else the first
    post. Staff or brand accounts that answer are reported under the brand's
    handle as well as their own username. A topic longer than the posts loaded
    leaves a post without replies unknown rather than unanswered.
    """
    page = Page()
    stream = payload.get("post_stream") if isinstance(payload, dict) else None
    if not isinstance(stream, dict) or not isinstance(stream.get("posts"), list):
        page.problems.append("response has no 'post_stream.posts' list")
        return page
    topic_id = payload.get("id")
    raw = [p for p in stream["posts"] if isinstance(p, dict) and isinstance(p.get("post_number"), int)]
    speakers = set()
    for item in raw:
        try:
            post = _topic_post(item, payload, source, base_url)
        except (KeyError, TypeError, ValueError) as exc:
            page.problems.append(f"topic {topic_id} post {item.get('post_number')}: {exc!r}")
            continue
        page.posts.append(post)
        if brand.speaks(item):
            speakers.add(post.id)
    complete = topic_complete(payload)
    page.posts = [_with_brand(thread_facts(post, page.posts, complete=complete), page.posts, speakers, brand)
                  for post in page.posts]
    if not page.posts and stream["posts"]:
        page.problems.append(f"topic {topic_id}: no readable post")
    return page


def topic_complete(payload: dict) -> bool:
    """Whether ``/t/<id>.json`` loaded every post of the topic (it sends the first 20 of a long one)."""
    stream = payload.get("post_stream") or {}
    loaded = [p for p in stream.get("posts") or [] if isinstance(p, dict)]
    return len(loaded) >= int(payload.get("posts_count") or len(stream.get("stream") or loaded) or 0)


def _topic_post(item: dict, topic: dict, source: str, base_url: str) -> Post:
    topic_id = item.get("topic_id") or topic["id"]
    number = item["post_number"]
    declared = int(topic.get("posts_count") or 0) - 1 if number == 1 else int(item.get("reply_count") or 0)
    parent = item.get("reply_to_post_number") or (1 if number > 1 else None)
    return Post(
        id=post_id(source, native(topic_id, number)),
        source=source,
        url=topic_url(base_url, topic.get("slug") or item.get("topic_slug"), topic_id, number),
        author=item.get("username") or None,
        author_name=item.get("name") or None,
        text=block_text(_QUOTES.sub("", item.get("cooked") or "")),
        created_at=parse_time(item["created_at"]),
        title=topic.get("title") if number == 1 else None,
        parent_id=post_id(source, native(topic_id, parent)) if parent else None,
        thread_id=post_id(source, native(topic_id, 1)),
        reply_count=max(declared, 0),
    )


def _with_brand(post: Post, topic: list[Post], speakers: set[str], brand: Brand) -> Post:
    """``post`` with the brand's handle among its repliers when a staff or brand account answered it."""
    if not brand.handle or post.id in speakers:
        return post
    answering = {p.id for p in topic if p.id in post.reply_ids or p.author in post.later_repliers}
    if answering & speakers:
        return replace(post, replied_by=(*post.replied_by, brand.handle))
    return post


class DiscourseSpider(SourceSpider):
    kind = "discourse"
    options_model = DiscourseOptions

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        handles = self.config.brand.handles
        self.brand = Brand(
            handle=handles[0] if handles else None,
            accounts=frozenset(a.lower().lstrip("@") for a in self.options.brand_accounts),
            staff=self.options.staff_is_brand,
        )

    def build_queries(self, terms: Terms) -> list[str]:
        words = [*terms.names, *terms.hashtags, *terms.keywords]
        return [f'"{w}"' if " " in w else w.lstrip("#") for w in words]

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        key = secret(self.options.api_key_env) if self.options.api_key_env else None
        if key:
            headers["Api-Key"] = key
            if self.options.api_username_env and secret(self.options.api_username_env):
                headers["Api-Username"] = secret(self.options.api_username_env)
        return headers

    async def start(self):
        self.topics_left = self.options.max_topics
        self.topics_asked: set[int] = set()
        self.read: dict[int, dict[str, Post]] = {}
        self.waiting: dict[int, list[Post]] = {}
        self.emitted: set[str] = set()
        for request in self.opening():
            yield request

    def searches(self):
        if self.options.mode == "latest":
            self.pending: set[int] = set()
            self.listed: bool | None = None  # whether the topic list was read to its end (or the cursor), once it was
            self.latest_incomplete = False
            self.latest_listing = self.progress("latest")
            yield self.latest(self.latest_listing, int(self.latest_listing.resume or 0), 1)
            return
        for query in self.queries():
            listing = self.progress(query)
            yield self.search(listing, int(listing.resume or 1), 1)

    def thread_requests(self, posts: list[Post]):
        """Each topic of the given posts read afresh, once, whatever ``max_topics`` says."""
        by_topic: dict[int, list[Post]] = {}
        for post in posts:
            by_topic.setdefault(int(post.id.split(":", 1)[1].split("/")[0]), []).append(post)
        for topic_id, wanted in by_topic.items():
            self.waiting[topic_id] = wanted
            yield self.request(self.url(f"/t/{topic_id}.json"), self.parse_topic_page, meta={"topic": topic_id},
                               cb_kwargs={"wanted": wanted, "since": self.started}, errback=self.topic_failed)

    # -- search ----------------------------------------------------------------

    def search(self, listing: Listing, number: int, pages: int):
        # ``after:`` takes a day in the forum's time zone: ask from the day before, keep what is newer.
        since = self.since(listing.key)
        q = f"{listing.key} after:{(since - timedelta(days=1)).date().isoformat()} order:latest"
        # A page's topics go before the next page, so the cursor can follow the pages as they are done.
        return self.request(self.url("/search.json", {"q": q, "page": number}), self.parse_search_page,
                            priority=-pages, cb_kwargs={"listing": listing, "number": number, "pages": pages})

    def parse_search_page(self, response, listing: Listing, number: int, pages: int):
        payload = self.load_json(response)
        if payload is None:
            return
        page = parse_search(payload, self.source.label, self.base_url)
        since = self.since(listing.key)
        older = False
        fresh = []
        for post in page.posts:
            if post.created_at <= since:
                older = True  # newest first: the rest is older still
            elif listing.before is None or self.cursor_time(post) <= float(listing.before):
                fresh.append(post)  # newer ones were fetched by the run that left the gap
        page.posts = fresh
        oldest, newest = self.span(page.posts, whole=False)
        posts = self.page_posts(page, response)
        listing.page([post.id for post in posts if post.id not in self.emitted], oldest or listing.before, newest,
                     str(number + 1) if page.next else None)
        topics: dict[str, list[Post]] = {}
        for post in posts:
            topics.setdefault(post.thread_id, []).append(post)
        for found in topics.values():
            yield from self.with_topic(found, since)
        if page.next and not older and pages < self.options.max_pages:
            yield self.search(listing, number + 1, pages + 1)
            return
        if page.next and not older:
            self.crawler.stats.inc_value("source/truncated")
        listing.finish(complete=not (page.next and not older))

    def with_topic(self, posts: list[Post], since: datetime):
        """Posts found by a search, with full text and replies once their topic is read.

        A topic is read once per run: posts of a topic already read take its
        version; posts of a topic still being read wait for it.
        """
        topic_id = int(posts[0].thread_id.rsplit(":", 1)[1].split("/")[0])
        if topic_id in self.read:
            yield from self.once(self.read[topic_id].get(p.id, p) for p in posts)
        elif topic_id in self.waiting:
            self.waiting[topic_id].extend(posts)
        elif self.topics_left <= 0:
            yield from self.once(unchecked(p, "budget_exhausted") for p in posts)  # past max_topics the blurbs will do
        else:
            self.topics_left -= 1
            self.waiting[topic_id] = list(posts)
            yield self.request(self.url(f"/t/{topic_id}.json"), self.parse_topic_page, meta={"topic": topic_id},
                               cb_kwargs={"wanted": self.waiting[topic_id], "since": since}, errback=self.topic_failed)

    def once(self, posts):
        for post in posts:
            if post.id not in self.emitted:
                self.emitted.add(post.id)
                yield post

    def parse_topic_page(self, response, wanted: list[Post] | None, since: datetime):
        payload = self.load_json(response)
        page = parse_topic(payload, self.source.label, self.base_url, self.brand) if payload is not None else Page()
        found = {post.id: post for post in self.page_posts(page, response)}
        topic_id = response.meta.get("topic")
        if wanted is not None:
            self.read[topic_id] = found
            self.waiting.pop(topic_id, None)
            complete = payload is not None and topic_complete(payload)
            for post in wanted:
                if post.id in found:
                    yield from self.once([found[post.id]])
                elif self.recheck is not None and complete:
                    self.crawler.stats.inc_value("source/deleted")
                    yield Gone(post.id, "missing from its topic")
                else:  # past the first chunk of a long topic: the blurb, replies not looked up
                    yield from self.once([unchecked(post, "lookup_failed" if payload is None else "not_checked")])
            return
        if payload is None:
            self.latest_incomplete = True  # the topic stays owed: the cursor stays behind its page
        else:
            posts = list(self.once(p for p in found.values() if p.created_at > since))
            self.latest_listing.expand(f"topic {topic_id}", [post.id for post in posts])
            yield from posts
        self.topic_done(topic_id)

    def topic_failed(self, failure):
        wanted = failure.request.cb_kwargs["wanted"]
        topic_id = failure.request.meta.get("topic")
        status = gone_status(failure)
        if wanted is not None and self.recheck is not None and status is not None:
            self.crawler.stats.inc_value("source/deleted", len(wanted))
            for post in wanted:  # a deleted topic takes every post in it
                yield Gone(post.id, f"HTTP {status} for {failure.request.url}")
            return
        self.on_failure(failure)
        if wanted is not None:
            self.read[topic_id] = {}
            self.waiting.pop(topic_id, None)
            yield from self.once(unchecked(p, "lookup_failed") for p in wanted)
            return
        self.latest_incomplete = True
        self.topic_done(topic_id)

    # -- latest ----------------------------------------------------------------

    def latest(self, listing: Listing, number: int, pages: int):
        # A page's topics go before the next page, so the cursor can follow the pages as they are done.
        return self.request(self.url("/latest.json", {"page": number or None}), self.parse_latest_page,
                            priority=-pages, cb_kwargs={"listing": listing, "number": number, "pages": pages})

    def parse_latest_page(self, response, listing: Listing, number: int, pages: int):
        payload = self.load_json(response)
        if payload is None:
            return  # the last checkpoint stands: the next run starts there
        topics = parse_latest(payload)
        for problem in topics.problems:
            self.problem("bad_item", response.url, problem)
        since = self.since(listing.key)
        older = spent = False
        asked: dict[int, float] = {}
        for topic_id, bumped, pinned in topics.topics:
            stamp = min(bumped.timestamp(), self.started.timestamp())
            if bumped <= since:
                older = older or not pinned  # pinned topics stay on top whatever their age
                continue
            if topic_id in self.topics_asked or (listing.before is not None and stamp > float(listing.before)):
                continue  # read already, in this run or by the one that left the gap
            if self.topics_left <= 0:
                spent = True  # past max_topics: the next run reads this page again
                break
            self.topics_asked.add(topic_id)
            self.topics_left -= 1
            asked[topic_id] = stamp
        oldest = str(min(asked.values())) if asked else listing.before
        newest = str(max(asked.values())) if asked else None
        resume = str(number) if spent else (str(topics.next) if topics.next is not None else None)
        listing.page([f"topic {topic_id}" for topic_id in asked], oldest, newest, resume)
        for topic_id in asked:
            self.pending.add(topic_id)
            yield self.request(self.url(f"/t/{topic_id}.json"), self.parse_topic_page,
                               cb_kwargs={"wanted": None, "since": since}, errback=self.topic_failed,
                               meta={"topic": topic_id})
        if topics.next is not None and not older and not spent and pages < self.options.max_pages:
            yield self.latest(listing, topics.next, pages + 1)
            return
        complete = (topics.next is None or older) and not spent
        if not complete:
            self.crawler.stats.inc_value("source/truncated")
        self.listed = complete
        self.topic_done(None)

    def topic_done(self, topic_id: int | None) -> None:
        """The ``latest`` listing ends once every listed topic is read; one that failed keeps its checkpoint."""
        self.pending.discard(topic_id)
        if self.listed is not None and not self.pending and not self.latest_incomplete:
            self.latest_listing.finish(complete=self.listed)
