"""Conversations as each platform shows them: one look-up per thread, the model's facts for every post in it.

A kind whose API returns a whole conversation (a Reddit comment tree, a Hacker
News item tree, Mastodon's ``/context``, a Bluesky thread) mixes
:class:`ConversationLookups` into its spider and says three things: which
thread a post belongs to (``conversation_key``), how to ask for it
(``conversation_url``) and how to read the answer (``parse_conversation``,
a pure function of the payload giving a :class:`Conversation` of posts with
author, parent and time). The mixin asks for each thread once per run, however
many posts of it were found, and gives every post of it
:func:`listener.threads.thread_facts`; a post it could not look up is
:func:`listener.threads.unchecked` with the reason (threads off, the
``max_threads`` budget spent, the look-up failed).

In a re-check, a post whose own look-up answers 404 or 410, or that is missing
from the conversation fetched for it, comes back as :class:`Gone` instead of a
post; the runner reports it in ``CrawlResult.deleted``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from scrapy.spidermiddlewares.httperror import HttpError

from listener.records import Post
from listener.threads import thread_facts, unchecked

GONE_STATUSES = (404, 410)


@dataclass(frozen=True, slots=True)
class Gone:
    """A post its source no longer has, and how we know."""

    post_id: str
    reason: str


@dataclass(slots=True)
class Conversation:
    """What one thread look-up showed.

    ``posts``: every post in it that is still there (with author, parent and
    time); ``deleted``: ids the platform shows as deleted; ``complete``: False
    when the platform left part of the thread out (Reddit's "more comments");
    ``addressed``: post id -> the author it was written to, where the platform
    says so without a parent in ``posts``; ``root``: the thread's first post id.
    """

    posts: list[Post] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    complete: bool = True
    addressed: dict[str, str] = field(default_factory=dict)
    root: str | None = None

    def facts(self, post: Post, in_recheck: bool) -> Post | Gone:
        """``post`` with the model's facts from this conversation, or :class:`Gone` in a re-check."""
        found = next((p for p in self.posts if p.id == post.id), None)
        if found is None:
            if in_recheck and (post.id in self.deleted or self.complete):
                why = "deleted in its conversation" if post.id in self.deleted else "missing from its conversation"
                return Gone(post.id, why)
            return unchecked(post, "lookup_failed")
        post = replace(post, thread_id=self.root or found.thread_id or post.thread_id,
                       parent_id=post.parent_id or found.parent_id)
        return thread_facts(post, self.posts, complete=self.complete, addressed=self.addressed)


def gone_status(failure) -> int | None:
    """The 404 or 410 a request failed with, else None."""
    if failure.check(HttpError) and failure.value.response.status in GONE_STATUSES:
        return failure.value.response.status
    return None


class ConversationLookups:
    """Mixin (before :class:`~spiders.base.SourceSpider`) for kinds that fetch a thread in one look-up."""

    def conversation_key(self, post: Post) -> str:
        """The id of the post whose look-up shows ``post``'s thread: its thread's first post, else itself."""
        return post.thread_id or post.id

    def conversation_url(self, key: str) -> str:
        raise NotImplementedError

    def parse_conversation(self, payload, key: str, posts: list[Post]) -> Conversation:
        """Read a look-up's payload (``posts`` are ours in that thread); ValueError when it is not one."""
        raise NotImplementedError

    def conversation_seen(self, response) -> None:
        """Called with each look-up's response before it is read (a kind reads its rate-limit headers here)."""

    def is_gone(self, response) -> bool:
        """Whether a response the errback sees says the looked-up post is gone (404/410; kinds add their own)."""
        return False

    # -- the shared flow ------------------------------------------------------

    def _lookups(self) -> dict:
        if "_conversations" not in self.__dict__:
            self.__dict__["_conversations"] = {"pending": {}, "done": {}}
        return self.__dict__["_conversations"]

    def with_thread(self, post: Post):
        """In a crawl: ``post`` with its conversation's facts, or marked why its replies were not looked up."""
        if not self.wants_thread(post):
            yield post  # the listing says nobody replied
        elif not getattr(self.options, "threads", False):
            yield unchecked(post, "not_checked")
        else:
            key = self.conversation_key(post)
            lookups = self._lookups()
            if key not in lookups["done"] and key not in lookups["pending"]:
                if self.threads_left <= 0:
                    yield unchecked(post, "budget_exhausted")
                    return
                self.threads_left -= 1
            yield from self._ask(post, key)

    def thread_requests(self, posts: list[Post]):
        """In a re-check: every post's thread, one look-up per thread, whatever the options."""
        for post in posts:
            yield from self._ask(post, self.conversation_key(post))

    def _ask(self, post: Post, key: str):
        lookups = self._lookups()
        if key in lookups["done"]:
            yield self._facts(post, lookups["done"][key])
        elif key in lookups["pending"]:
            lookups["pending"][key].append(post)  # the look-up already asked serves it too
        else:
            lookups["pending"][key] = [post]
            yield self.request(self.conversation_url(key), self._conversation_arrived, cb_kwargs={"key": key},
                               errback=self._conversation_failed, dont_filter=True)

    def _facts(self, post: Post, conversation: Conversation | None) -> Post | Gone:
        if conversation is None:
            return unchecked(post, "lookup_failed")
        found = conversation.facts(post, self.recheck is not None)
        if isinstance(found, Gone):
            self.crawler.stats.inc_value("source/deleted")
        return found

    def _conversation_arrived(self, response, key: str):
        posts = self._lookups()["pending"].pop(key, [])
        self.conversation_seen(response)
        payload = self.load_json(response)
        conversation = None
        if payload is not None:
            try:
                conversation = self.parse_conversation(payload, key, posts)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                self.problem("bad_item", response.url, f"not a conversation: {exc!r}")
        self._lookups()["done"][key] = conversation
        self.crawler.stats.inc_value("source/conversations")
        for post in posts:
            yield self._facts(post, conversation)

    def _conversation_failed(self, failure):
        key = failure.request.cb_kwargs["key"]
        posts = self._lookups()["pending"].pop(key, [])
        self._lookups()["done"][key] = None
        response = getattr(failure.value, "response", None)
        gone = self.recheck is not None and (gone_status(failure) is not None
                                             or (response is not None and self.is_gone(response)))
        if not gone:
            self.on_failure(failure)
        for post in posts:
            if gone and post.id == key:
                self.crawler.stats.inc_value("source/deleted")
                yield Gone(post.id, f"HTTP {response.status} for {failure.request.url}")
            elif gone:  # the thread's first post is gone, not necessarily this one: ask for its own
                yield from self._ask(replace(post, thread_id=None), post.id)
            else:
                yield unchecked(post, "lookup_failed")
