"""X (Twitter) API v2 recent search, with authors and conversations.

``GET /2/tweets/search/recent`` with the bearer token from the environment;
pages follow ``meta.next_token``; a re-run asks only for ids after the cursor
(``since_id`` = the newest id seen), and before ``until_id`` where an earlier
run stopped early (see :mod:`spiders.progress`). A tweet without ``created_at`` is dated
by its id (a snowflake carries its time).

Conversations (``threads``, on by default): every conversation a run finds is
looked up once, ``conversation_id:<id>`` (its pages too), and that one look-up
serves every tweet of it found in the run; a root tweet with no replies needs
none. Each tweet's state then follows :mod:`listener.threads`: replies to it
(``referenced_tweets`` ``replied_to``) and, for its author's last tweet, who
wrote to the author after it (the parent's author, else ``in_reply_to_user_id``).
``max_threads`` is the run's budget of look-up requests; the tweets it leaves
out are ``unknown`` (``budget_exhausted``), a failed look-up ``lookup_failed``,
and with ``threads: false`` every tweet that would need one ``not_checked``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from listener.records import Post, parse_time, post_id
from listener.threads import thread_facts, unchecked
from spiders.base import Page, SourceSpider, Terms
from spiders.progress import Listing

SEARCH = "/2/tweets/search/recent"
TWEET_FIELDS = "created_at,conversation_id,in_reply_to_user_id,public_metrics,lang,referenced_tweets"
EXPANSIONS = "author_id,in_reply_to_user_id"
# A snowflake id holds milliseconds since X's epoch in its upper bits.
SNOWFLAKE_EPOCH_MS = 1288834974657
# Ids under this are X's sequential ids of before November 2010, which carry no time.
SNOWFLAKE_MIN = 1 << 40
# Recent search reaches back seven days; start_time must be inside that window.
WINDOW = timedelta(days=7) - timedelta(minutes=1)


class TwitterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_env: str = "LISTENER_TWITTER_BEARER_TOKEN"
    max_results: int = Field(100, ge=10, le=100)
    max_pages: int = Field(10, ge=1)
    max_query_length: int = Field(512, ge=64)
    exclude_retweets: bool = True
    threads: bool = True
    max_threads: int = Field(50, ge=0)  # conversation look-up requests per run


def parse_search(payload: Any, source: str) -> Page:
    """Posts from a recent-search response; ``next`` is ``meta.next_token``."""
    page = Page()
    if not isinstance(payload, dict):
        page.problems.append("response is not an object")
        return page
    users = {u.get("id"): u for u in (payload.get("includes") or {}).get("users") or [] if isinstance(u, dict)}
    for tweet in payload.get("data") or []:
        try:
            page.posts.append(parse_tweet(tweet, users, source))
        except (KeyError, TypeError, ValueError) as exc:
            page.problems.append(f"tweet {tweet.get('id') if isinstance(tweet, dict) else tweet!r}: {exc!r}")
    for error in payload.get("errors") or []:
        if isinstance(error, dict):
            page.problems.append(f"{error.get('title', 'error')}: {error.get('detail', '')}".strip())
    page.next = (payload.get("meta") or {}).get("next_token")
    return page


def snowflake_id(moment: datetime) -> str:
    """The smallest X id made at ``moment``: an id cursor later than it is from the future."""
    return str(max(round(moment.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS, 0) << 22)


def snowflake_time(native: str) -> datetime:
    """The time an X id was made; ``ValueError`` for an id that is not a snowflake."""
    number = int(native)
    if number < SNOWFLAKE_MIN:
        raise ValueError(f"no created_at, and id {native} is too small to be a snowflake that carries a time")
    return datetime.fromtimestamp(((number >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, timezone.utc)


def addressees(payload: Any, source: str) -> dict[str, str]:
    """Post id -> ``@handle`` of the user each reply was written to (``in_reply_to_user_id``), where known."""
    if not isinstance(payload, dict):
        return {}
    users = {u.get("id"): u for u in (payload.get("includes") or {}).get("users") or [] if isinstance(u, dict)}
    out = {}
    for tweet in payload.get("data") or []:
        if isinstance(tweet, dict) and tweet.get("id") is not None:
            username = (users.get(tweet.get("in_reply_to_user_id")) or {}).get("username")
            if username:
                out[post_id(source, tweet["id"])] = f"@{username}"
    return out


def parse_tweet(tweet: dict, users: dict, source: str) -> Post:
    native = str(tweet["id"])
    user = users.get(tweet.get("author_id")) or {}
    username = user.get("username")
    parent = next((r["id"] for r in tweet.get("referenced_tweets") or [] if isinstance(r, dict) and r.get("type") == "replied_to"), None)
    conversation = tweet.get("conversation_id")
    metrics = tweet.get("public_metrics") or {}
    return Post(
        id=post_id(source, native),
        source=source,
        url=f"https://x.com/{username or 'i/web'}/status/{native}",
        author=f"@{username}" if username else None,
        author_name=user.get("name"),
        text=tweet["text"],
        created_at=parse_time(tweet["created_at"]) if tweet.get("created_at") else snowflake_time(native),
        lang=tweet.get("lang"),
        parent_id=post_id(source, parent) if parent else None,
        thread_id=post_id(source, conversation) if conversation else None,
        reply_count=metrics.get("reply_count"),
    )


def newest_id(payload: Any) -> str | None:
    meta = payload.get("meta") if isinstance(payload, dict) else None
    return (meta or {}).get("newest_id")


def id_span(payload: Any, posts: list[Post]) -> tuple[str | None, str | None]:
    """The oldest and newest tweet id of a page: ``meta``'s, else the posts' own."""
    meta = (payload.get("meta") if isinstance(payload, dict) else None) or {}
    ids = [int(native) for native in (p.id.split(":", 1)[1] for p in posts) if native.isdigit()]
    oldest = meta.get("oldest_id") or (str(min(ids)) if ids else None)
    return (str(oldest) if oldest else None), newest_id(payload) or (str(max(ids)) if ids else None)


class TwitterSpider(SourceSpider):
    kind = "twitter"
    default_base_url = "https://api.x.com"
    options_model = TwitterOptions

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The run's conversation look-ups by thread id: one each, shared by every tweet of it found.
        self.lookups: dict[str, Lookup] = {}

    def build_queries(self, terms: Terms) -> list[str]:
        words = [_quote(t) for t in (*terms.names, *terms.handles, *terms.hashtags, *terms.keywords)]
        words = list(dict.fromkeys(words))
        suffix = self._suffix()
        budget = self.options.max_query_length - len(suffix) - 3
        groups: list[list[str]] = [[]]
        for word in words:
            if groups[-1] and len(" OR ".join(groups[-1] + [word])) > budget:
                groups.append([])
            groups[-1].append(word)
        return [f"({' OR '.join(g)}){suffix}" for g in groups if g]

    def _suffix(self) -> str:
        langs = list(self.config.languages)
        suffix = ""
        if len(langs) == 1:
            suffix += f" lang:{langs[0]}"
        elif langs:
            suffix += " (" + " OR ".join(f"lang:{lang}" for lang in langs) + ")"
        if self.options.exclude_retweets:
            suffix += " -is:retweet"
        return suffix

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Authorization": f"Bearer {self.token}"}

    async def start(self):
        self.token = os.environ.get(self.options.token_env)
        if not self.token:
            self.problem("no_credentials", None, f"set {self.options.token_env} to a bearer token")
            return
        for request in self.opening():
            yield request

    def searches(self):
        for query in self.queries():
            yield self.search(self.progress(query, ceiling=snowflake_id(self.started)), None, pages=1)

    def search(self, listing: Listing, token: str | None, pages: int):
        query = listing.key
        params = {
            "query": query,
            "max_results": self.options.max_results,
            "expansions": EXPANSIONS,
            "tweet.fields": TWEET_FIELDS,
            "user.fields": "username,name",
            "next_token": token,
        }
        if listing.after:
            params["since_id"] = listing.after
        else:
            params["start_time"] = max(self.since(query), self.started - WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
        if listing.before:
            params["until_id"] = listing.before
        # A page's conversations go before the next page, so the cursor can follow the pages as they are done.
        return self.request(self.url(SEARCH, params), self.parse_page,
                            cb_kwargs={"listing": listing, "pages": pages}, priority=-pages)

    def parse_page(self, response, listing: Listing, pages: int):
        payload = self.load_json(response)
        if payload is None:
            return
        page = parse_search(payload, self.source.label)
        oldest, newest = id_span(payload, page.posts)
        posts = self.page_posts(page, response)
        listing.page([post.id for post in posts], oldest, newest)
        for post in posts:
            yield from self.in_conversation(post)
        if page.next and pages < self.options.max_pages:
            yield self.search(listing, page.next, pages + 1)
            return
        if page.next:
            self.crawler.stats.inc_value("source/truncated")
        listing.finish(complete=not page.next)

    # -- conversations ---------------------------------------------------

    def thread_requests(self, posts: list[Post]):
        """A recheck: each post's conversation looked up afresh, once for all its posts, whatever the budget.

        Recent search sees seven days back: an older post's replies may be out of its reach, so it comes
        back as stored rather than with fewer replies than it had.
        """
        for post in posts:
            if post.created_at < self.started - WINDOW:
                self.crawler.stats.inc_value("source/threads/out_of_reach")
                yield post
                continue
            yield from self.in_conversation(post, budgeted=False)

    def in_conversation(self, post: Post, budgeted: bool = True):
        """``post`` with its thread facts, or the look-up of its conversation (which yields it once answered)."""
        key = post.thread_id or (post.id if post.parent_id is None else None)
        if key is None:
            yield unchecked(post, "no_thread_source")
            return
        if key == post.id and post.reply_count == 0 and budgeted:
            yield thread_facts(post, [post])  # a conversation's first tweet with no replies: nobody wrote in it
            return
        lookup = self.lookups.get(key)
        if lookup is None:
            if budgeted and not self.options.threads:
                yield unchecked(post, "not_checked")
                return
            if budgeted and self.threads_left <= 0:
                self.crawler.stats.inc_value("source/threads/budget_exhausted")
                yield unchecked(post, "budget_exhausted")
                return
            lookup = self.lookups[key] = Lookup(budgeted=budgeted)
            lookup.waiting.append(post)
            yield self.conversation_request(key, None, lookup)
            return
        lookup.found[post.id] = post
        if lookup.done:
            yield lookup.facts(post)
        else:
            lookup.waiting.append(post)

    def conversation_request(self, key: str, token: str | None, lookup: Lookup):
        if lookup.budgeted:
            self.threads_left -= 1
        self.crawler.stats.inc_value("source/threads/requests")
        params = {"query": f"conversation_id:{key.split(':', 1)[1]}", "max_results": 100, "expansions": EXPANSIONS,
                  "tweet.fields": TWEET_FIELDS, "user.fields": "username,name", "next_token": token}
        return self.request(self.url(SEARCH, params), self.parse_conversation, cb_kwargs={"key": key, "lookup": lookup},
                            errback=self.conversation_failed)

    def parse_conversation(self, response, key: str, lookup: Lookup):
        payload = self.load_json(response)
        if payload is None:
            yield from lookup.finish("lookup_failed")
            return
        page = parse_search(payload, self.source.label)
        for post in page.posts:
            lookup.thread.setdefault(post.id, post)
        lookup.addressed.update(addressees(payload, self.source.label))
        if page.next:
            if not lookup.budgeted or self.threads_left > 0:
                yield self.conversation_request(key, page.next, lookup)
                return
            self.crawler.stats.inc_value("source/threads/budget_exhausted")
            lookup.complete = False
        yield from lookup.finish()

    def conversation_failed(self, failure):
        self.on_failure(failure)
        yield from failure.request.cb_kwargs["lookup"].finish("lookup_failed")


@dataclass
class Lookup:
    """One conversation's look-up: what it found, and the tweets of the run waiting for it."""

    budgeted: bool = True
    waiting: list[Post] = field(default_factory=list)
    found: dict[str, Post] = field(default_factory=dict)  # the run's tweets of this conversation
    thread: dict[str, Post] = field(default_factory=dict)  # what the look-up returned
    addressed: dict[str, str] = field(default_factory=dict)
    complete: bool = True
    failed: bool = False
    done: bool = False

    def facts(self, post: Post) -> Post:
        if self.failed:
            return unchecked(post, "lookup_failed")
        posts = {**self.thread, **{p.id: p for p in self.waiting}, **self.found}
        return thread_facts(post, posts.values(), complete=self.complete, addressed=self.addressed)

    def finish(self, failure: str | None = None):
        self.done, self.failed = True, failure is not None
        for post in self.waiting:
            self.found.setdefault(post.id, post)
        waiting, self.waiting = self.waiting, []
        for post in waiting:
            yield self.facts(post)


def _quote(term: str) -> str:
    return f'"{term}"' if " " in term else term
