"""What a platform's reply structure says about its posts: who replied to what, when, and what is gone.

Each kind parses its own thread format (a comment tree, ``in_reply_to_id``,
Mastodon's ``/context``, a Bluesky thread, Discourse's ``reply_to_post_number``,
Stack Exchange answers) into :class:`Reply` rows: one per post in the
conversation, naming its author, the post it answers and its time. A
:class:`Conversation` of those rows tells, for any post in it, its direct
replies and whether it is still there.

In a re-check, a post whose own thread answers 404 or 410, or that is missing
from the conversation fetched for it, comes back as :class:`Gone` instead of a
post; the runner reports it in ``CrawlResult.deleted``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from scrapy.spidermiddlewares.httperror import HttpError

from listener.records import Post

GONE_STATUSES = (404, 410)


@dataclass(frozen=True, slots=True)
class Gone:
    """A post its source no longer has, and how we know."""

    post_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One post of a conversation: ``parent_id`` is the post it answers (None for the thread's first)."""

    id: str
    author: str | None
    parent_id: str | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class Conversation:
    """Every post a thread look-up returned, in the platform's order."""

    posts: tuple[Reply, ...] = ()

    @classmethod
    def of(cls, replies: Iterable[Reply]) -> Conversation:
        return cls(tuple(replies))

    def __contains__(self, post_id: str) -> bool:
        return any(reply.id == post_id for reply in self.posts)

    def replies_to(self, post_id: str) -> list[Reply]:
        """The direct replies to ``post_id``, oldest first (unknown times last)."""
        direct = [reply for reply in self.posts if reply.parent_id == post_id]
        return sorted(direct, key=lambda r: (r.created_at is None, r.created_at or datetime.min))

    def find(self, post_id: str) -> Reply | None:
        return next((reply for reply in self.posts if reply.id == post_id), None)


def gone_status(failure) -> int | None:
    """The 404 or 410 a thread request failed with, else None."""
    if failure.check(HttpError) and failure.value.response.status in GONE_STATUSES:
        return failure.value.response.status
    return None


def thread_failed_or_gone(spider, failure):
    """Errback of a post's own thread request: in a re-check 404/410 means :class:`Gone`, else the post as found."""
    post: Post = failure.request.cb_kwargs["post"]
    status = gone_status(failure)
    if spider.recheck is not None and status is not None:
        spider.crawler.stats.inc_value("source/deleted")
        yield Gone(post.id, f"HTTP {status} for {failure.request.url}")
        return
    spider.on_failure(failure)
    yield post
