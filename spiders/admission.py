"""A source's item becomes a post only if it is one: the checks ``listener ingest`` makes.

A parser builds posts from whatever the API sent: a tweet with ``text: null``,
a string ``reply_count`` or a hit without ``objectID`` (id ``hn:None``) would
otherwise reach the index and fail there, batch after batch. :func:`checked`
reads each post as :func:`listener.jsonl.check_post` reads a JSON Lines line
(text in NFC, lone surrogates replaced) and also refuses an id without a
native part. A refused item is sent with :data:`post_rejected`, which the
runner passes on for the dead-letter file; the cursor goes past it.
"""

from __future__ import annotations

import contextlib
import json

from listener.jsonl import Rejection, check_post
from listener.records import Post, format_time

# Sent with (origin=str, reason=str, record=dict) for every item that is not a post.
post_rejected = object()
NO_ID = ("", "None", "null")


def checked(post: Post, origin: str) -> Post | Rejection:
    """``post`` as ``listener ingest`` would read it, or why it is not a post (``raw``: the record as JSON)."""
    record = plain_record(post)
    found, _notices = check_post(record, origin, 0)
    reason = found.reason if isinstance(found, Rejection) else None
    if reason is None and found.id.rpartition(":")[2] in NO_ID:
        reason = f"field 'id': {post.id!r} has no native id"
    return found if reason is None else Rejection(origin, 0, reason, json.dumps(record, ensure_ascii=False))


def plain_record(post: Post) -> dict:
    """``post`` as plain JSON data, whatever its fields hold."""
    try:
        return json.loads(json.dumps(post.to_dict(), ensure_ascii=False))
    except (TypeError, ValueError, AttributeError, OverflowError):
        pass
    record = {}
    for name in Post.__dataclass_fields__:
        value = getattr(post, name, None)
        with contextlib.suppress(TypeError, ValueError, AttributeError, OverflowError):
            value = format_time(value) if hasattr(value, "tzinfo") else value
        try:
            record[name] = json.loads(json.dumps(value, ensure_ascii=False))
        except (TypeError, ValueError):
            record[name] = repr(value)
    return record
