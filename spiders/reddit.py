"""Reddit: site-wide and per-subreddit search, subreddit ``new`` listings, thread comments.

With ``LISTENER_REDDIT_CLIENT_ID`` and ``LISTENER_REDDIT_CLIENT_SECRET`` set,
the spider gets an application-only OAuth token and reads ``oauth.reddit.com``;
otherwise it reads the public ``.json`` listings. Listings are newest first:
paging (``after``) stops at the first post older than the cursor. A listing
cut short (``max_pages``, a failed page, the crawl's time limit) keeps a gap
whose ``resume`` is the ``after`` of the last page read: the next run goes on
from there (see :mod:`spiders.progress`); if Reddit no longer knows that post,
the run reports it and reads from the top, leaving out what it fetched. A post with
comments gets one more request, ``/comments/<id>`` (up to 500 comments), whose
comment tree (``parent_id`` of each comment) says who replied to what
(:mod:`spiders.conversations`); a submission shown as ``[deleted]`` or
``[removed]`` there is gone.
Reddit asks for a descriptive User-Agent: its format carries the project URL
and the source's ``contact``; ``user_agent`` replaces it.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import scrapy
from pydantic import BaseModel, ConfigDict, Field

from listener.records import Post, post_id
from spiders.base import Page, SourceSpider, Terms
from spiders.conversations import Conversation, ConversationLookups
from spiders.progress import Listing
from spiders.settings import PROJECT_URL

PUBLIC_URL = "https://www.reddit.com"
OAUTH_URL = "https://oauth.reddit.com"
DELETED = ("[deleted]", "[removed]")


class RedditOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subreddits: list[str] = []
    search: bool = True
    new: bool = True
    threads: bool = True
    max_threads: int = Field(25, ge=0)
    limit: int = Field(100, ge=1, le=100)
    max_pages: int = Field(5, ge=1)
    client_id_env: str = "LISTENER_REDDIT_CLIENT_ID"
    client_secret_env: str = "LISTENER_REDDIT_CLIENT_SECRET"


def parse_listing(payload: Any, source: str) -> Page:
    """Posts (``t3``) from a listing; ``next`` is the ``after`` fullname."""
    page = Page()
    data = payload.get("data") if isinstance(payload, dict) and payload.get("kind") == "Listing" else None
    if not isinstance(data, dict) or not isinstance(data.get("children"), list):
        page.problems.append("response is not a Listing")
        return page
    for child in data["children"]:
        if not isinstance(child, dict) or child.get("kind") != "t3":
            continue
        try:
            page.posts.append(parse_link(child["data"], source))
        except (KeyError, TypeError, ValueError) as exc:
            page.problems.append(f"post {(child.get('data') or {}).get('name')}: {exc!r}")
    page.next = data.get("after")
    return page


def parse_link(data: dict, source: str) -> Post:
    fullname = data.get("name") or f"t3_{data['id']}"
    author = data.get("author")
    text = data.get("selftext") or ""
    if not text and not data.get("is_self", True):
        text = data.get("url") or ""
    text = text or data.get("title") or ""  # a question asked in the title alone
    return Post(
        id=post_id(source, fullname),
        source=source,
        url=PUBLIC_URL + data["permalink"],
        author=None if author in DELETED else author,
        text=text,
        created_at=datetime.fromtimestamp(float(data["created_utc"]), timezone.utc),
        title=data.get("title"),
        thread_id=post_id(source, fullname),
        reply_count=data.get("num_comments"),
    )


def parse_conversation(payload: Any, source: str) -> Conversation:
    """``/comments/<id>``: the submission and its comments at every depth, each with author, parent and time.

    A removed or deleted submission or comment is left out (its replies kept);
    a ``more`` stub means part of the thread was not sent.
    """
    if not isinstance(payload, list) or len(payload) < 2 or not all(isinstance(p, dict) for p in payload[:2]):
        raise ValueError("expected [post listing, comment listing]")
    links = [c for c in payload[0].get("data", {}).get("children") or [] if isinstance(c, dict) and c.get("kind") == "t3"]
    if not links:
        raise ValueError("no submission in the first listing")
    link = links[0]["data"]
    root = post_id(source, link.get("name") or f"t3_{link['id']}")
    conversation = Conversation(root=root)
    if _deleted(link, "selftext"):
        conversation.deleted.add(root)
    else:
        conversation.posts.append(parse_link(link, source))
    stack = list(reversed(payload[1].get("data", {}).get("children") or []))
    while stack:
        child = stack.pop()
        if not isinstance(child, dict):
            continue
        data = child.get("data") or {}
        if child.get("kind") == "more":
            conversation.complete = conversation.complete and not (data.get("count") or data.get("children"))
            continue
        if child.get("kind") != "t1" or not data.get("name"):
            continue
        nested = data.get("replies")
        if isinstance(nested, dict):
            stack.extend(reversed(nested.get("data", {}).get("children") or []))
        comment = post_id(source, data["name"])
        if _deleted(data, "body"):
            conversation.deleted.add(comment)
        elif isinstance(data.get("created_utc"), (int, float)):
            conversation.posts.append(Post(
                id=comment, source=source, url=PUBLIC_URL + (data.get("permalink") or link["permalink"]),
                author=None if data.get("author") in DELETED else data.get("author"), text=data.get("body") or "",
                created_at=datetime.fromtimestamp(float(data["created_utc"]), timezone.utc),
                parent_id=post_id(source, data["parent_id"]) if data.get("parent_id") else root, thread_id=root,
            ))
    return conversation


def _deleted(data: dict, text_field: str) -> bool:
    """Reddit keeps a deleted post's place: its author and text become ``[deleted]`` or ``[removed]``."""
    return data.get("author") in DELETED and (data.get(text_field) in DELETED or data.get("removed_by_category"))


class RedditSpider(ConversationLookups, SourceSpider):
    kind = "reddit"
    options_model = RedditOptions
    # Reddit's format: <platform>:<app id>:<version> (<who>); a source's user_agent replaces it.
    custom_settings = {"USER_AGENT": f"python:listener:v0.1 (+{PROJECT_URL})"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.token: str | None = None

    def build_queries(self, terms: Terms) -> list[str]:
        words = [*terms.names, *terms.keywords]
        return [f'"{w}"' if " " in w else w for w in words]

    def headers(self) -> dict[str, str]:
        headers = super().headers()
        if self.token:
            headers["Authorization"] = f"bearer {self.token}"
        return headers

    def api(self, path: str, params: dict) -> str:
        base = (self.source.base_url or (OAUTH_URL if self.token else PUBLIC_URL)).rstrip("/")
        query = {k: v for k, v in {**params, "raw_json": 1}.items() if v is not None}
        return f"{base}{path}{'' if self.token else '.json'}?{urlencode(query)}"

    async def start(self):
        client_id = os.environ.get(self.options.client_id_env)
        secret = os.environ.get(self.options.client_secret_env)
        if client_id and secret:
            auth = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            token_url = (self.source.base_url or PUBLIC_URL).rstrip("/") + "/api/v1/access_token"
            yield scrapy.FormRequest(token_url, formdata={"grant_type": "client_credentials"},
                                     headers={"Authorization": f"Basic {auth}"},
                                     callback=self.parse_token, errback=self.on_failure, dont_filter=True)
            return
        for request in self.opening():
            yield request

    def parse_token(self, response):
        payload = self.load_json(response)
        self.token = payload.get("access_token") if isinstance(payload, dict) else None
        if not self.token:
            self.problem("auth", response.url, "no access_token in the token response")
            return
        yield from self.opening()

    def searches(self):
        queries = self.queries()
        if self.options.search:
            for query in queries:
                yield self.listing(f"search:{query}", "/search", {"q": query, "sort": "new", "type": "link"})
        for name in self.options.subreddits:
            sub = name.removeprefix("r/").strip("/")
            for query in queries if self.options.search else ():
                yield self.listing(f"r/{sub} search:{query}", f"/r/{sub}/search",
                                   {"q": query, "sort": "new", "restrict_sr": 1, "type": "link"})
            if self.options.new:
                yield self.listing(f"r/{sub}/new", f"/r/{sub}/new", {})

    def listing(self, key: str, path: str, params: dict, after: str | None = None,
                progress: Listing | None = None, pages: int = 1):
        progress = progress or self.progress(key)
        if pages == 1:
            after = progress.resume  # where an earlier run stopped
        url = self.api(path, {**params, "limit": self.options.limit, "after": after})
        # A page's threads go before the next page, so the cursor can follow the pages as they are done.
        return self.request(url, self.parse_page, priority=-pages, cb_kwargs={
            "path": path, "params": params, "after": after, "progress": progress, "pages": pages})

    def parse_page(self, response, path: str, params: dict, after: str | None, progress: Listing, pages: int):
        payload = self.load_json(response)
        if payload is None:
            return
        page = parse_listing(payload, self.source.label)
        if after and after == progress.resume and pages == 1 and not page.posts and not page.next:
            self.problem("gap", response.url, f"{progress.key}: the listing no longer goes on after {after}; "
                                              "reading it from the top")
            yield self.listing(progress.key, path, params, None, progress, pages + 1)
            return
        since = self.since(progress.key)
        reached_old = False
        fresh = []
        for post in page.posts:
            if post.created_at <= since:
                reached_old = True
            elif progress.before is None or self.cursor_time(post) <= float(progress.before):
                fresh.append(post)  # newer ones were fetched by the run that left the gap
        page.posts = fresh
        oldest, newest = self.span(page.posts)
        posts = self.page_posts(page, response)
        progress.page([post.id for post in posts], oldest or progress.before, newest, page.next)
        for post in posts:
            yield from self.with_thread(post)
        if page.next and not reached_old and pages < self.options.max_pages:
            yield self.listing(progress.key, path, params, page.next, progress, pages + 1)
            return
        if page.next and not reached_old:
            self.crawler.stats.inc_value("source/truncated")
        progress.finish(complete=not (page.next and not reached_old))

    def conversation_url(self, key: str) -> str:
        return self.api(f"/comments/{key.split(':', 1)[1].removeprefix('t3_')}", {"limit": 500})

    def parse_conversation(self, payload, key: str, posts: list[Post]) -> Conversation:
        return parse_conversation(payload, self.source.label)
