"""Mastodon: hashtag timelines (no token) and status search (token) on configured instances.

``/api/v1/timelines/tag/:hashtag`` is public; ``/api/v2/search?type=statuses``
needs a token from ``LISTENER_MASTODON_TOKEN``. Both are read newest first,
paging with ``max_id`` until the cursor (the newest status id seen last time)
or the back-fill window; hashtag timelines also send ``since_id``. Where an
earlier run stopped early, the first page starts at ``max_id`` = the oldest
status it fetched (see :mod:`spiders.progress`). A status
with replies gets ``/api/v1/statuses/:id/context`` (its thread's root's, once
known), whose ``in_reply_to_id`` links say who replied to what; one look-up
serves every status of that thread (:mod:`spiders.conversations`). A status
whose context answers 404 or 410 in a re-check is gone.
Rate-limit resets arrive as ISO times in ``X-RateLimit-Reset``; the backoff
middleware reads them.
"""

from __future__ import annotations

import os
from datetime import datetime
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from listener.records import Post, parse_time, post_id
from spiders.base import Page, SourceSpider, Terms, html_text
from spiders.conversations import Conversation, ConversationLookups
from spiders.progress import Listing


class MastodonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instances: list[str] = []
    hashtags: list[str] = []
    search: bool = True
    local: bool = False
    threads: bool = True
    max_threads: int = Field(25, ge=0)
    limit: int = Field(40, ge=1, le=40)
    max_pages: int = Field(5, ge=1)
    token_env: str = "LISTENER_MASTODON_TOKEN"


def handle(account: dict) -> str | None:
    """``@user@server``: a local account's server comes from its profile URL."""
    acct = account.get("acct")
    if not acct or "@" in acct:
        return f"@{acct}" if acct else None
    server = urlsplit(account.get("url") or "").hostname
    return f"@{acct}@{server}" if server else f"@{acct}"


def _native(prefix: str, status_id: Any) -> str:
    return f"{prefix}:{status_id}" if prefix else str(status_id)


def status_text(status: dict) -> str:
    """The status's text; a picture or link posted alone gives its description, else its address."""
    text = html_text(status["content"])
    if text:
        return text
    described = [m.get("description") for m in status.get("media_attachments") or [] if isinstance(m, dict)]
    card = status.get("card") if isinstance(status.get("card"), dict) else {}
    return ("\n".join(d for d in described if d) or status.get("spoiler_text") or card.get("title")
            or status.get("url") or status.get("uri") or "")


def parse_status(status: dict, source: str, prefix: str = "") -> Post:
    """``prefix`` (an extra instance's host) keeps ids apart: status ids are per instance."""
    native = _native(prefix, status["id"])
    parent = status.get("in_reply_to_id")
    return Post(
        id=post_id(source, native),
        source=source,
        url=status.get("url") or status.get("uri") or "",
        author=handle(status.get("account") or {}),
        author_name=(status.get("account") or {}).get("display_name") or None,
        title=status.get("spoiler_text") or None,
        text=status_text(status),
        created_at=parse_time(status["created_at"]),
        lang=status.get("language"),
        parent_id=post_id(source, _native(prefix, parent)) if parent else None,
        thread_id=None if parent else post_id(source, native),
        reply_count=status.get("replies_count"),
    )


def parse_statuses(payload: Any, source: str, prefix: str = "") -> Page:
    """Statuses from a timeline (a list) or a v2 search (``statuses``); boosts are left out.

    ``next`` is the ``max_id`` for the next (older) page, or None when the page was empty.
    """
    page = Page()
    statuses = payload.get("statuses") if isinstance(payload, dict) else payload
    if not isinstance(statuses, list):
        page.problems.append("response has no list of statuses")
        return page
    for status in statuses:
        try:
            if status.get("reblog"):
                continue
            page.posts.append(parse_status(status, source, prefix))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            page.problems.append(f"status {status.get('id') if isinstance(status, dict) else status!r}: {exc!r}")
    ids = [s["id"] for s in statuses if isinstance(s, dict) and "id" in s]
    page.next = min(ids, key=_order) if ids else None
    return page


def parse_context(payload: Any, source: str, key: str, ours: list[Post], prefix: str = "") -> Conversation:
    """``/statuses/<key>/context``: its ancestors and descendants, plus our posts among them (``key`` itself).

    The thread's root is the first ancestor (else ``key``). A reply whose parent
    is not in the context is still known to answer someone: ``in_reply_to_account_id``,
    named from the accounts and mentions the context shows, goes into ``addressed``.
    """
    if not isinstance(payload, dict):
        raise ValueError("context is not an object")
    ancestors = [s for s in payload.get("ancestors") or [] if isinstance(s, dict)]
    statuses = ancestors + [s for s in payload.get("descendants") or [] if isinstance(s, dict)]
    root = post_id(source, _native(prefix, ancestors[0]["id"])) if ancestors and "id" in ancestors[0] else key
    accounts: dict[str, str] = {}
    for status in statuses:
        for account in [status.get("account") or {}, *(status.get("mentions") or [])]:
            if isinstance(account, dict) and account.get("id") and handle(account):
                accounts[str(account["id"])] = handle(account)
    conversation = Conversation(root=root)
    for status in statuses:
        try:
            conversation.posts.append(replace(parse_status(status, source, prefix), thread_id=root))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a status without content or time cannot take part
        to = accounts.get(str(status.get("in_reply_to_account_id")))
        if to:
            conversation.addressed[conversation.posts[-1].id] = to
    known = {p.id for p in conversation.posts}
    conversation.posts += [replace(p, thread_id=root) for p in ours if p.id == key and p.id not in known]
    return conversation


def status_id(moment: datetime) -> str:
    """The smallest Mastodon status id made at ``moment`` (milliseconds since 1970 above 16 bits)."""
    return str(round(moment.timestamp() * 1000) << 16)


def _order(status_id: str) -> tuple[int, int | str]:
    return (0, int(status_id)) if str(status_id).isdigit() else (1, str(status_id))


class MastodonSpider(ConversationLookups, SourceSpider):
    kind = "mastodon"
    default_base_url = "https://mastodon.social"
    options_model = MastodonOptions

    def build_queries(self, terms: Terms) -> list[str]:
        return [*terms.names, *terms.handles, *terms.keywords]

    def hashtags(self) -> list[str]:
        if self.options.hashtags:
            tags = self.options.hashtags
        else:
            terms = Terms.from_config(self.config)
            tags = [*terms.hashtags, *(n.replace(" ", "") for n in terms.names)]
        return list(dict.fromkeys(t.lstrip("#").lower() for t in tags if t.strip("# ")))

    def headers(self) -> dict[str, str]:
        headers = super().headers()
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def start(self):
        self.token = os.environ.get(self.options.token_env)
        for request in self.opening():
            yield request

    def searches(self):
        if self.options.search and not self.token:
            self.logger.info("%s: status search needs %s; reading hashtag timelines only",
                             self.source.label, self.options.token_env)
        for instance in self.instances():
            prefix = f"{self.host(instance)} " if self.host(instance) else ""
            for tag in self.hashtags():
                yield self.listing(instance, f"{prefix}#{tag}", f"/api/v1/timelines/tag/{quote(tag)}",
                                   {"local": "true" if self.options.local else None})
            if self.options.search and self.token:
                for query in self.queries():
                    yield self.listing(instance, f"{prefix}search:{query}", "/api/v2/search",
                                       {"q": query, "type": "statuses", "resolve": "false"})

    def instances(self) -> list[str]:
        return [i.rstrip("/") for i in self.options.instances] or [self.base_url]

    def instance(self, prefix: str) -> str:
        """The instance whose status ids carry ``prefix``; a host no longer configured is asked over HTTPS."""
        for instance in self.instances():
            if self.host(instance) == prefix:
                return instance
        return f"https://{prefix}" if prefix else self.base_url

    def host(self, instance: str) -> str:
        """The id prefix of ``instance``: none for the source's own base URL."""
        return "" if instance == self.base_url else urlsplit(instance).netloc

    def listing(self, instance: str, key: str, path: str, params: dict, max_id: str | None = None,
                progress: Listing | None = None, pages: int = 1):
        progress = progress or self.progress(key, order=_order, ceiling=status_id(self.started))
        if pages == 1:
            max_id = progress.before  # where an earlier run stopped: read what is older
        query = {**params, "limit": self.options.limit, "max_id": max_id}
        if path.startswith("/api/v1/timelines/"):
            query["since_id"] = progress.after
        url = instance + path + "?" + "&".join(f"{k}={quote(str(v))}" for k, v in query.items() if v is not None)
        # A page's threads go before the next page, so the cursor can follow the pages as they are done.
        return self.request(url, self.parse_page, priority=-pages, cb_kwargs={
            "instance": instance, "key": key, "path": path, "params": params, "max_id": max_id, "progress": progress,
            "pages": pages})

    def parse_page(self, response, instance: str, key: str, path: str, params: dict, max_id: str | None,
                   progress: Listing, pages: int):
        payload = self.load_json(response)
        if payload is None:
            return
        prefix = self.host(instance)
        page = parse_statuses(payload, self.source.label, prefix)
        cursor, since = progress.after, self.since(key)
        fresh, reached_old = [], False
        for post in page.posts:
            native = post.id.rsplit(":", 1)[1]
            if (cursor and _order(native) <= _order(cursor)) or (
                    isinstance(post.created_at, datetime) and post.created_at <= since):
                reached_old = True
            else:
                fresh.append(native)
        page.posts = [post for post in page.posts if post.id.rsplit(":", 1)[1] in fresh]
        posts = self.page_posts(page, response)
        progress.page([post.id for post in posts], min(fresh, key=_order, default=None),
                      max(fresh, key=_order, default=None))
        for post in posts:
            yield from self.with_thread(post)
        if page.next == max_id:
            page.next = None  # no progress: the server ignored max_id
        if page.next and not reached_old and pages < self.options.max_pages:
            yield self.listing(instance, key, path, params, page.next, progress, pages + 1)
            return
        if page.next and not reached_old:
            self.crawler.stats.inc_value("source/truncated")
        progress.finish(complete=not (page.next and not reached_old))

    def conversation_url(self, key: str) -> str:
        # A key is a post id, ``<source>:[<host>:]<status id>``: the host names the instance it was read on.
        prefix, _, native = key.split(":", 1)[1].rpartition(":")
        return f"{self.instance(prefix)}/api/v1/statuses/{native}/context"

    def parse_conversation(self, payload, key: str, posts: list[Post]) -> Conversation:
        prefix = key.split(":", 1)[1].rpartition(":")[0]
        return parse_context(payload, self.source.label, key, posts, prefix)
