"""Read posts from JSON Lines, one post per line, without trusting the input.

A bad line becomes a :class:`Rejection` naming the file, line and field; the
lines around it are still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from listener.records import Post, utc

MAX_LINE_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class Rejection:
    origin: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}, line {self.line}: {self.reason}"


class PostInput(BaseModel):
    """The JSON shape of a post. Unknown fields are ignored (eval files carry labels)."""

    model_config = ConfigDict(extra="ignore", strict=False)

    id: str
    source: str
    text: str
    created_at: datetime
    url: str = ""
    author: str | None = None
    author_name: str | None = None
    title: str | None = None
    lang: str | None = None
    parent_id: str | None = None
    thread_id: str | None = None
    reply_count: int | None = None
    replied_by: list[str] = []
    first_reply_at: datetime | None = None

    @field_validator("id", "source")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("created_at", "first_reply_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return utc(value) if value is not None else None

    def to_post(self) -> Post:
        return Post(
            id=self.id if self.id.startswith(f"{self.source}:") else f"{self.source}:{self.id}",
            source=self.source,
            url=self.url,
            author=self.author,
            author_name=self.author_name,
            text=self.text,
            title=self.title,
            lang=self.lang,
            created_at=self.created_at,
            parent_id=self.parent_id,
            thread_id=self.thread_id,
            reply_count=self.reply_count,
            replied_by=tuple(self.replied_by),
            first_reply_at=self.first_reply_at,
        )


def read_lines(stream: BinaryIO | Iterable[bytes], origin: str) -> Iterator[tuple[int, dict | Rejection]]:
    """Yield ``(line number, JSON object or Rejection)``; blank lines are skipped."""
    for number, raw in enumerate(stream, start=1):
        if len(raw) > MAX_LINE_BYTES:
            yield number, Rejection(origin, number, f"line is {len(raw):,} bytes, over the {MAX_LINE_BYTES:,}-byte limit")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, Rejection(origin, number, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
            continue
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, Rejection(origin, number, f"malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            yield number, Rejection(origin, number, f"expected a JSON object, found {type(data).__name__}")
            continue
        yield number, data


def parse_post(data: dict, origin: str, line: int) -> Post | Rejection:
    try:
        post = PostInput.model_validate(data).to_post()
    except ValidationError as exc:
        return Rejection(origin, line, describe_errors(exc))
    bad = _lone_surrogate_field(post)
    if bad:
        return Rejection(origin, line, f"field {bad!r} holds a lone surrogate, which is not valid Unicode text")
    return post


def read_posts(stream: BinaryIO | Iterable[bytes], origin: str) -> Iterator[tuple[int, Post | Rejection]]:
    """Yield ``(line number, Post or Rejection)`` for every non-blank line."""
    for number, item in read_lines(stream, origin):
        yield number, item if isinstance(item, Rejection) else parse_post(item, origin, number)


def describe_errors(exc: ValidationError) -> str:
    """Every problem pydantic found, as one sentence naming each field."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(post)"
        if error["type"] == "missing":
            parts.append(f"missing field {field!r}")
        else:
            parts.append(f"field {field!r}: {error['msg'].removeprefix('Value error, ')}, found {error.get('input')!r:.60}")
    return "; ".join(parts)


def _lone_surrogate_field(post: Post) -> str | None:
    for name in ("text", "title", "author", "author_name", "url", "id"):
        value = getattr(post, name)
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return name
    return None
