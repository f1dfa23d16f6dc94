"""X (Twitter) API v2 recent search, with authors, conversations and reply counts.

``GET /2/tweets/search/recent`` with the bearer token from the environment;
pages follow ``meta.next_token``; a re-run asks only for ids after the cursor
(``since_id`` = the newest id seen). With ``threads: true`` a post that has
replies gets one more search, ``conversation_id:<id>``, to learn who replied.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from listener.records import Post, parse_time, post_id
from spiders.base import Cursor, Page, SourceSpider, Terms, Thread

SEARCH = "/2/tweets/search/recent"
TWEET_FIELDS = "created_at,conversation_id,in_reply_to_user_id,public_metrics,lang,referenced_tweets"
# Recent search reaches back seven days; start_time must be inside that window.
WINDOW = timedelta(days=7) - timedelta(minutes=1)


class TwitterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_env: str = "LISTENER_TWITTER_BEARER_TOKEN"
    max_results: int = Field(100, ge=10, le=100)
    max_pages: int = Field(10, ge=1)
    max_query_length: int = Field(512, ge=64)
    exclude_retweets: bool = True
    threads: bool = False
    max_threads: int = Field(25, ge=0)


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


def parse_tweet(tweet: dict, users: dict, source: str) -> Post:
    native = str(tweet["id"])
    user = users.get(tweet.get("author_id")) or {}
    username = user.get("username")
    parent = next((r["id"] for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"), None)
    conversation = tweet.get("conversation_id")
    metrics = tweet.get("public_metrics") or {}
    return Post(
        id=post_id(source, native),
        source=source,
        url=f"https://x.com/{username or 'i/web'}/status/{native}",
        author=f"@{username}" if username else None,
        author_name=user.get("name"),
        text=tweet["text"],
        created_at=parse_time(tweet["created_at"]),
        lang=tweet.get("lang"),
        parent_id=post_id(source, parent) if parent else None,
        thread_id=post_id(source, conversation) if conversation else None,
        reply_count=metrics.get("reply_count"),
    )


def newest_id(payload: Any) -> str | None:
    meta = payload.get("meta") if isinstance(payload, dict) else None
    return (meta or {}).get("newest_id")


def conversation(page: Page, poster: str | None) -> Thread:
    """The replies found by a ``conversation_id:`` search (the conversation's root left out)."""
    return Thread.of([(p.author, p.created_at) for p in page.posts if p.parent_id], poster)


class TwitterSpider(SourceSpider):
    kind = "twitter"
    default_base_url = "https://api.x.com"
    options_model = TwitterOptions

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
            yield self.search(query, None, newest=None, pages=1)

    def search(self, query: str, token: str | None, newest: str | None, pages: int):
        params = {
            "query": query,
            "max_results": self.options.max_results,
            "expansions": "author_id",
            "tweet.fields": TWEET_FIELDS,
            "user.fields": "username,name",
            "next_token": token,
        }
        since_id = self.cursors.get(query)
        if since_id:
            params["since_id"] = since_id
        else:
            params["start_time"] = max(self.since(query), self.started - WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.request(self.url(SEARCH, params), self.parse_page,
                            cb_kwargs={"query": query, "newest": newest, "pages": pages})

    def parse_page(self, response, query: str, newest: str | None, pages: int):
        payload = self.load_json(response)
        if payload is None:
            return
        page = parse_search(payload, self.source.label)
        newest = newest or newest_id(payload)
        for post in self.page_posts(page, response):
            yield from self.with_thread(post)
        if page.next and pages < self.options.max_pages:
            yield self.search(query, page.next, newest, pages + 1)
            return
        if page.next:
            self.crawler.stats.inc_value("source/truncated")
        if newest:
            yield Cursor(query, newest)

    def thread_request(self, post: Post):
        params = {"query": f"conversation_id:{post.id.split(':', 1)[1]}", "max_results": 100,
                  "expansions": "author_id", "tweet.fields": TWEET_FIELDS, "user.fields": "username,name"}
        return self.request(self.url(SEARCH, params), self.parse_thread, cb_kwargs={"post": post},
                            errback=self.thread_failed)

    def parse_thread(self, response, post: Post):
        payload = self.load_json(response)
        if payload is not None:
            post = conversation(parse_search(payload, self.source.label), post.author).apply(post)
        yield post


def _quote(term: str) -> str:
    return f'"{term}"' if " " in term else term
