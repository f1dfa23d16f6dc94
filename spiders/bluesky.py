"""Bluesky: ``app.bsky.feed.searchPosts`` for mentions, ``getPostThread`` for who replied.

A post's thread is read from its root (``record.reply.root``) once, for every
post of that thread found; each reply's ``record.reply.parent`` says what it
answers. A post the AppView no longer finds (400 ``NotFound``) is gone in a
re-check.

Without credentials the public AppView answers. With ``LISTENER_BLUESKY_HANDLE``
and ``LISTENER_BLUESKY_APP_PASSWORD`` set, the spider first opens a session
(``com.atproto.server.createSession``) on the account's PDS and sends its access
token with every request; the PDS proxies ``app.bsky.*`` calls to the AppView.
Searches are sorted by ``latest`` and start at ``since`` = the query's cursor
(and end at ``until`` where an earlier run stopped early, see :mod:`spiders.progress`).

Options: ``lang`` (only posts in that language), ``limit`` (posts per page,
100), ``max_pages`` (5), ``threads`` (read ``getPostThread`` for posts with
replies, default true), ``max_threads`` (50) and ``thread_depth`` (6). Queries
use Lucene-like syntax (phrases in quotes); handles in the configuration
belong to other networks and are left out. A Bluesky account answers as its
handle (``cinesa.bsky.social``), so give that handle in the brand's
``accounts.bluesky`` to have its replies count as the brand's.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from listener.config import secret
from listener.records import Post, format_time, parse_time, post_id
from spiders.base import Page, SourceSpider, Terms
from spiders.conversations import Conversation, ConversationLookups
from spiders.progress import Listing

PUBLIC_APPVIEW = "https://public.api.bsky.app"
DEFAULT_PDS = "https://bsky.social"
HANDLE_ENV = "LISTENER_BLUESKY_HANDLE"
PASSWORD_ENV = "LISTENER_BLUESKY_APP_PASSWORD"
THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"


class BlueskyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: str | None = None
    limit: int = Field(100, ge=1, le=100)
    max_pages: int = Field(5, ge=1)
    threads: bool = True
    max_threads: int = Field(50, ge=0)
    thread_depth: int = Field(6, ge=1, le=1000)


def post_url(handle_or_did: str, uri: str) -> str:
    return f"https://bsky.app/profile/{handle_or_did}/post/{uri.rsplit('/', 1)[-1]}"


def parse_post(view: dict, source: str) -> tuple[Post, str | None]:
    """A ``postView`` as a post, and a problem to report (or None) when the author is missing."""
    uri = view["uri"]
    record = view["record"]
    author = view.get("author") if isinstance(view.get("author"), dict) else None
    did = uri.removeprefix("at://").split("/", 1)[0]
    handle = author.get("handle") if author else None
    if handle == "handle.invalid":
        handle = None
    name = (author.get("displayName") or None) if author else None
    created = record.get("createdAt") or view["indexedAt"]
    reply = record.get("reply") or {}
    parent = (reply.get("parent") or {}).get("uri")
    root = (reply.get("root") or {}).get("uri")
    langs = record.get("langs") or []
    post = Post(
        id=post_id(source, uri),
        source=source,
        url=post_url(handle or did, uri),
        author=handle or (author.get("did") if author else None),
        author_name=name,
        text=record.get("text") or "",
        created_at=parse_time(created),
        lang=langs[0] if langs else None,
        parent_id=post_id(source, parent) if parent else None,
        thread_id=post_id(source, root or uri),
        reply_count=view.get("replyCount"),
    )
    return post, None if author else f"post {uri} has no author"


def parse_search(payload: Any, source: str) -> Page:
    """Posts from a ``searchPosts`` response; ``next`` is the page cursor or None."""
    page = Page()
    if not isinstance(payload, dict) or not isinstance(payload.get("posts"), list):
        page.problems.append("response has no 'posts' list")
        return page
    for view in payload["posts"]:
        try:
            post, problem = parse_post(view, source)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            uri = view.get("uri") if isinstance(view, dict) else view
            page.problems.append(f"post {uri!r}: {exc!r}")
            continue
        page.posts.append(post)
        if problem:
            page.problems.append(problem)
    if payload["posts"] and isinstance(payload.get("cursor"), str):
        page.next = payload["cursor"]
    return page


def parse_thread(payload: Any, source: str) -> Conversation:
    """A ``getPostThread`` response: the post and every reply below it, each with its parent and time.

    A deleted reply (``notFoundPost``) is left out; a blocked one, or replies
    cut off by the depth asked for, make the conversation incomplete.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("thread"), dict):
        raise ValueError("response has no 'thread' object")
    thread = payload["thread"]
    if thread.get("$type") != THREAD_VIEW:
        raise ValueError(f"thread is {thread.get('$type')!r}, not a post")
    top, _ = parse_post(thread["post"], source)
    conversation = Conversation(root=top.thread_id)
    stack = [thread]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("$type") != THREAD_VIEW:
            if node.get("notFound") and node.get("uri"):
                conversation.deleted.add(post_id(source, node["uri"]))
            else:
                conversation.complete = False  # blocked: a reply we cannot see
            continue
        view = node.get("post") or {}
        try:
            post, _ = parse_post(view, source)
        except (KeyError, TypeError, ValueError, AttributeError):
            conversation.complete = False
            continue
        conversation.posts.append(post)
        replies = node.get("replies")
        if replies is None and view.get("replyCount"):
            conversation.complete = False  # deeper than the depth asked for
        stack.extend(reversed(replies or []))
    return conversation


class BlueskySpider(ConversationLookups, SourceSpider):
    kind = "bluesky"
    default_base_url = PUBLIC_APPVIEW
    options_model = BlueskyOptions

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.credentials = (secret(HANDLE_ENV), secret(PASSWORD_ENV))
        if all(self.credentials) and not self.source.base_url:
            self.base_url = DEFAULT_PDS
        self.token: str | None = None

    def build_queries(self, terms: Terms) -> list[str]:
        # Lucene-like syntax: phrases in quotes; handles of other networks mean nothing here.
        words = [*terms.names, *terms.hashtags, *terms.keywords]
        return [f'"{w}"' if " " in w else w for w in words]

    async def start(self):
        handle, password = self.credentials
        if handle and password:
            yield self.request(
                self.url("/xrpc/com.atproto.server.createSession"), self.parse_session, method="POST",
                body=json.dumps({"identifier": handle, "password": password}),
                headers={"Accept": "application/json", "Content-Type": "application/json"},
            )
            return
        for request in self.opening():
            yield request

    def parse_session(self, response):
        payload = self.load_json(response)
        token = payload.get("accessJwt") if isinstance(payload, dict) else None
        if not token:
            self.problem("auth", response.url, "the session response has no accessJwt")
            return
        self.token = token
        yield from self.opening()

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def searches(self):
        for query in self.queries():
            yield self.search(self.progress(query), None, 0)

    def search(self, listing: Listing, cursor: str | None, number: int):
        until = None
        if listing.before:  # ``until`` is exclusive: the oldest post already fetched comes again, once
            until = format_time(datetime.fromtimestamp(float(listing.before) + 0.001, timezone.utc))
        params = {
            "q": listing.key, "sort": "latest", "since": format_time(self.since(listing.key)), "until": until,
            "limit": self.options.limit, "lang": self.options.lang, "cursor": cursor,
        }
        # A page's threads go before the next page, so the cursor can follow the pages as they are done.
        return self.request(self.url("/xrpc/app.bsky.feed.searchPosts", params), self.parse_page,
                            cb_kwargs={"listing": listing, "number": number}, priority=-number)

    def respect_quota(self, response) -> None:
        """Bluesky's rate-limit headers have no ``x-`` prefix: keep the host quiet when none is left."""
        remaining, reset = response.headers.get(b"ratelimit-remaining"), response.headers.get(b"ratelimit-reset")
        try:
            left, until = int(remaining), float(reset)
        except (TypeError, ValueError):
            return
        if left <= 0:
            self.hold(response.url, max(0.0, until - time.time()))

    def parse_page(self, response, listing: Listing, number: int):
        self.respect_quota(response)
        payload = self.load_json(response)
        if payload is None:
            return
        page = parse_search(payload, self.source.label)
        since = self.since(listing.key)
        # ``since`` is inclusive and filters on the index time, not createdAt
        page.posts = [post for post in page.posts if not isinstance(post.created_at, datetime) or post.created_at > since]
        stamps = [self.cursor_time(post) for post in page.posts if isinstance(post.created_at, datetime)]
        posts = self.page_posts(page, response)
        span = (str(min(stamps)), str(max(stamps))) if stamps else (None, None)
        listing.page([post.id for post in posts], *span)
        for post in posts:
            yield from self.with_thread(post)
        if page.next is not None and number + 1 < self.options.max_pages:
            yield self.search(listing, page.next, number + 1)
            return
        if page.next is not None:
            self.crawler.stats.inc_value("source/truncated")
        listing.finish(complete=page.next is None)

    def conversation_url(self, key: str) -> str:
        params = {"uri": key.split(":", 1)[1], "depth": self.options.thread_depth, "parentHeight": 0}
        return self.url("/xrpc/app.bsky.feed.getPostThread", params)

    def conversation_seen(self, response) -> None:
        self.respect_quota(response)

    def parse_conversation(self, payload, key: str, posts: list[Post]) -> Conversation:
        return parse_thread(payload, self.source.label)

    def is_gone(self, response) -> bool:
        # The AppView answers a deleted post with 400 and error "NotFound".
        return response.status == 400 and b'"NotFound"' in response.body[:200]
