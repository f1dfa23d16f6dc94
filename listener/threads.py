"""Whether a post has been answered, and by whom, from its thread context."""

from __future__ import annotations

from listener.config import Config
from listener.records import Post


def _handle(value: str) -> str:
    return value.lower().lstrip("@").split("@")[0]


def answer_state(post: Post, config: Config) -> str:
    """``answered_by_brand`` beats ``answered_by_competitor`` beats ``answered``.

    Sources that cannot see replies leave ``reply_count`` unset and no
    ``replied_by``: the state is then ``unknown``, never a guess.
    """
    repliers = {_handle(h) for h in post.replied_by}
    if repliers & {_handle(h) for h in config.brand.handles}:
        return "answered_by_brand"
    competitor_handles = {_handle(h) for c in config.competitors for h in c.handles}
    if repliers & competitor_handles:
        return "answered_by_competitor"
    if repliers or (post.reply_count or 0) > 0:
        return "answered"
    if post.reply_count == 0:
        return "unanswered"
    return "unknown"
