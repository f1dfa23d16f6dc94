"""Conversations served as X API v2 recent search does, for the X crawl tests and the conversation replay.

A :class:`Tweet` is one tweet of a conversation: who wrote it, when, and which
tweet it replies to. :class:`XApi` serves them as ``GET /2/tweets/search/recent``
in the API's real shapes (those of ``fixtures/twitter/*.json``, themselves
recorded shapes): a plain query returns the tweets marked ``found``, newest
first; ``conversation_id:<id>`` returns that conversation's tweets but its
first one, as X does, ``page_size`` to a page with ``next_token``. Ids are
snowflakes made from the tweets' times. ``bare=True`` drops fields the API
leaves out when not asked for them (``created_at``, ``public_metrics``);
``gone_users`` are missing from ``includes`` (suspended accounts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tests.spiders.server import Recorded, Reply

SEARCH = "/2/tweets/search/recent"
EPOCH_MS = 1288834974657
START = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def snowflake(at: datetime, sequence: int) -> str:
    return str(((int(at.timestamp() * 1000) - EPOCH_MS) << 22) | (sequence & 0x3FFFFF))


@dataclass
class Tweet:
    key: str  # a name for the test: "ask", "brand_answer"
    author: str  # username, without @
    minutes: float  # after the conversation's start
    replies_to: str | None = None  # key of the tweet it answers
    text: str = ""
    found: bool = False  # the recent search returns it
    bare: bool = False


@dataclass
class Conversation:
    tweets: list[Tweet]
    start: datetime = START
    expected: dict[str, str] = field(default_factory=dict)  # tweet key -> answer_state


class XApi:
    """Route handler for :class:`~tests.spiders.server.LocalServer` at ``/2/tweets/search/recent``."""

    def __init__(self, conversations: list[Conversation], page_size: int = 100, gone_users: tuple[str, ...] = (),
                 failing: tuple[str, ...] = ()):
        self.page_size = page_size
        self.gone_users = set(gone_users)
        self.failing = set(failing)  # tweet keys whose conversation look-up answers 503
        self.ids: dict[tuple[int, str], str] = {}
        self.tweets: list[tuple[int, Tweet, str, datetime]] = []  # (conversation number, tweet, id, time)
        self.lookups: dict[str, int] = {}
        sequence = 0
        for number, conversation in enumerate(conversations):
            for tweet in conversation.tweets:
                sequence += 1
                at = conversation.start + timedelta(minutes=tweet.minutes)
                native = snowflake(at, sequence)
                self.ids[(number, tweet.key)] = native
                self.tweets.append((number, tweet, native, at))
        self.conversations = conversations

    def id_of(self, number: int, key: str) -> str:
        return self.ids[(number, key)]

    def root_of(self, number: int) -> str:
        return self.ids[(number, self.conversations[number].tweets[0].key)]

    def users(self) -> dict[str, str]:
        names = sorted({t.author for _, t, _, _ in self.tweets})
        return {name: str(7_000_000 + i) for i, name in enumerate(names)}

    def payload(self, rows: list[tuple[int, Tweet, str, datetime]], next_token: str | None) -> dict:
        users = self.users()
        data = []
        for number, tweet, native, at in rows:
            parent = self.ids[(number, tweet.replies_to)] if tweet.replies_to else None
            parent_author = next(t.author for t in self.conversations[number].tweets if t.key == tweet.replies_to) \
                if tweet.replies_to else None
            replies = sum(1 for n, t, _, _ in self.tweets if n == number and t.replies_to == tweet.key)
            body = {
                "author_id": users[tweet.author],
                "conversation_id": self.root_of(number),
                "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "edit_history_tweet_ids": [native],
                "id": native,
                "lang": "es",
                "public_metrics": {"retweet_count": 0, "reply_count": replies, "like_count": 0, "quote_count": 0,
                                   "bookmark_count": 0, "impression_count": 40},
                "text": tweet.text or f"tweet {tweet.key} by {tweet.author}",
            }
            if parent:
                body["in_reply_to_user_id"] = users[parent_author]
                body["referenced_tweets"] = [{"type": "replied_to", "id": parent}]
            if tweet.bare:
                for name in ("created_at", "public_metrics"):
                    body.pop(name)
            data.append(body)
        shown = {t.author for _, t, _, _ in rows}
        shown |= {t.author for n, t, _, _ in self.tweets for m, r, _, _ in rows if n == m and r.replies_to == t.key}
        payload: dict = {"data": data} if data else {}
        if data:
            payload["includes"] = {"users": [{"id": users[name], "name": name.title(), "username": name}
                                             for name in sorted(shown - self.gone_users)]}
        meta: dict = {"result_count": len(data)}
        if data:
            meta["newest_id"], meta["oldest_id"] = data[0]["id"], data[-1]["id"]
        if next_token:
            meta["next_token"] = next_token
        payload["meta"] = meta
        return payload

    def __call__(self, request: Recorded) -> Reply:
        query = request.param("query") or ""
        if query.startswith("conversation_id:"):
            root = query.split(":", 1)[1]
            if not request.param("next_token"):  # a look-up's further pages are part of it
                self.lookups[root] = self.lookups.get(root, 0) + 1
            rows = [row for row in self.tweets if self.root_of(row[0]) == root and row[2] != root]
            if any(t.key in self.failing for n, t, _, _ in self.tweets if self.root_of(n) == root):
                return Reply(503, {"title": "Service Unavailable", "detail": "try later"})
        else:
            rows = [row for row in self.tweets if row[1].found]
        rows.sort(key=lambda row: row[3], reverse=True)
        offset = int(request.param("next_token") or 0)
        page = rows[offset:offset + self.page_size]
        more = str(offset + self.page_size) if offset + self.page_size < len(rows) else None
        return Reply(body=self.payload(page, more))
