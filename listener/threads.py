"""Whether a post was answered, by whom, and what is still waiting: the conversation model.

Every source kind tells the same facts about a post (fields of
:class:`~listener.records.Post`):

- ``thread_id`` and ``parent_id``: the conversation it belongs to and the post it replies to;
- ``reply_ids`` and ``replied_by``: its direct replies and their authors (first seen first),
  ``first_reply_at`` the time of the first answer;
- ``later_repliers``: for the author's last post in the thread, who addressed the author
  after it (a brand answering an earlier tweet after the customer's last one);
- ``reply_check``: ``"checked"`` when the replies were looked up, else why not
  (:data:`~listener.records.UNKNOWN_REASONS`); ``None`` when the source only gave a count.

A spider that has a whole conversation calls :func:`thread_facts` for each
post it found in it; one that could not look calls :func:`unchecked`. From the
facts and the configured handles, :func:`reply_state` derives the state, by
these rules, first match wins (the brand's and competitors' accounts are
those configured for the post's platform, see ``EntityConfig.accounts``):

1. a direct reply by the brand: ``answered`` by ``brand``; else by a competitor: by ``competitor``;
2. the brand (else a competitor) addressed the author after the author's last post: the same;
3. a direct reply by anyone else: ``answered`` by ``other``;
4. the replies were looked up: ``unanswered`` (answered by ``nobody``);
5. the look-up did not happen: ``unknown`` with its reason;
6. no look-up said anything: the source's count decides (0: ``unanswered``,
   more: ``answered`` by ``other``), no count: ``unknown`` (``not_checked``).

The author's own replies never answer a post. The state is stored as one word,
``IndexedPost.answer_state`` (:data:`~listener.records.ANSWER_STATES`), whose
two halves are ``reply_state`` and ``answered_by``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from listener.config import Config
from listener.records import ANSWER_STATE_PARTS, UNKNOWN_REASONS, Post

__all__ = ["ReplyState", "answer_state", "handle_key", "reply_state", "thread_facts", "unchecked"]


def handle_key(value: str) -> str:
    """A handle as compared: ``@Cinesa``, ``cinesa`` and ``@cinesa@mastodon.social`` are all ``cinesa``."""
    return value.lower().lstrip("@").split("@")[0]


@dataclass(frozen=True, slots=True)
class ReplyState:
    state: str  # answered, unanswered, unknown
    answered_by: str = "nobody"  # brand, competitor, other, nobody
    reason: str | None = None  # why unknown (UNKNOWN_REASONS)

    @property
    def answer_state(self) -> str:
        """The one word the index stores."""
        for word, parts in ANSWER_STATE_PARTS.items():
            if parts == (self.state, self.answered_by):
                return word
        return "unknown"


def reply_state(post: Post, config: Config) -> ReplyState:
    """The reply state of ``post`` by the rules above, against the brand's and competitors' handles."""
    own = handle_key(post.author) if post.author else None
    platform = config.platform_of(post.source)  # whose accounts count: the brand's on this platform
    repliers = [h for h in post.replied_by if handle_key(h) != own]
    later = [h for h in post.later_repliers if handle_key(h) != own]
    for who in (repliers, later):
        if any(config.brand.speaks_as(h, platform) for h in who):
            return ReplyState("answered", "brand")
    for who in (repliers, later):
        if any(c.speaks_as(h, platform) for c in config.competitors for h in who):
            return ReplyState("answered", "competitor")
    if repliers:
        return ReplyState("answered", "other")
    if post.reply_check == "checked":
        return ReplyState("unanswered")
    if post.reply_check in UNKNOWN_REASONS:
        return ReplyState("unknown", reason=post.reply_check)
    if post.reply_count == 0:
        return ReplyState("unanswered")
    if post.reply_count:
        return ReplyState("answered", "other")
    return ReplyState("unknown", reason="not_checked")


def answer_state(post: Post, config: Config) -> str:
    """:func:`reply_state` as the one word the index stores."""
    return reply_state(post, config).answer_state


def thread_facts(post: Post, thread: Iterable[Post], *, complete: bool = True,
                 addressed: Mapping[str, str] | None = None) -> Post:
    """``post`` with its replies as ``thread`` (the whole conversation, any order) shows them.

    ``addressed`` maps a post id to the author it was written to, where the
    source says so without a parent in the thread (X's ``in_reply_to_user_id``).
    ``complete=False`` (part of the conversation was left out): what was found
    still answers the post, but no reply means ``unknown`` (``budget_exhausted``).
    """
    posts = {p.id: p for p in thread if p.id != post.id}
    own = handle_key(post.author) if post.author else None

    def by_other(p: Post) -> bool:
        return p.author is not None and handle_key(p.author) != own

    replies = sorted((p for p in posts.values() if p.parent_id == post.id), key=lambda p: p.created_at)
    answers = [p for p in replies if by_other(p)]
    later: list[Post] = []
    if own is not None and not any(p.author and handle_key(p.author) == own and p.created_at > post.created_at
                                   for p in posts.values()):
        for p in sorted(posts.values(), key=lambda p: p.created_at):
            if p.created_at > post.created_at and by_other(p) and _addressed_to(p, own, posts, addressed):
                later.append(p)
    times = [p.created_at for p in answers + later]
    return replace(
        post,
        reply_ids=tuple(p.id for p in replies),
        replied_by=tuple(dict.fromkeys(p.author for p in answers)),
        later_repliers=tuple(dict.fromkeys(p.author for p in later)),
        reply_count=max(len(replies), post.reply_count or 0),
        first_reply_at=min(times) if times else None,
        reply_check="checked" if complete else "budget_exhausted",
    )


def _addressed_to(reply: Post, own: str, posts: Mapping[str, Post], addressed: Mapping[str, str] | None) -> bool:
    """Whether ``reply`` speaks to ``own``: it replies to their post, or the source says so; unknown counts."""
    parent = posts.get(reply.parent_id) if reply.parent_id else None
    if parent is not None and parent.author:
        return handle_key(parent.author) == own
    to = (addressed or {}).get(reply.id)
    return to is None or handle_key(to) == own


def unchecked(post: Post, reason: str) -> Post:
    """``post`` marked as not looked up, for ``reason`` (one of UNKNOWN_REASONS); replies it already shows stay."""
    if reason not in UNKNOWN_REASONS:
        raise ValueError(f"unknown reason {reason!r} (valid: {', '.join(UNKNOWN_REASONS)})")
    return replace(post, reply_check=reason)

