"""Read posts from JSON Lines, one post per line, without trusting the input.

A bad line becomes a :class:`Rejection` naming the file, line and field; the
lines around it are still read. What is read but worth a word (an unknown
field, a lone surrogate replaced) becomes a :class:`Notice` beside the post.

Times are ISO 8601 strings or unix timestamps in seconds (JSON numbers); a
time outside years 1–9999 is a rejection, never an overflow. Text is NFC
normalised, so that one spelling of "é" finds the other on every backend.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from listener.records import REPLY_CHECKS, Post, utc

MAX_LINE_BYTES = 512 * 1024
# Deeper values are not posts; the stdlib parser would need the C stack for them.
MAX_DEPTH = 64
BOM = "\ufeff"
SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Rejection:
    origin: str
    line: int
    reason: str
    # The line as read, for the dead-letter file (``None`` when there was no line).
    raw: str | None = None

    def __str__(self) -> str:
        return f"{self.origin}, line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Notice:
    """Something worth saying about a line that was still read."""

    origin: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.origin}, line {self.line}: {self.message}"


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("must be an ISO 8601 time or a unix timestamp")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ValueError("unix timestamp (seconds) out of range") from None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time or a unix timestamp")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 time, or out of range (years 1 to 9999)") from None
    try:
        return utc(parsed)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None


class PostInput(BaseModel):
    """The JSON shape of a post. Fields outside it are reported by :func:`parse_post`."""

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
    reply_count: StrictInt | None = Field(default=None, ge=0)
    replied_by: list[str] = Field(default_factory=list)
    first_reply_at: datetime | None = None
    reply_ids: list[str] = Field(default_factory=list)
    later_repliers: list[str] = Field(default_factory=list)
    reply_check: Literal[REPLY_CHECKS] | None = None

    @field_validator("id", "source")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("created_at", "first_reply_at", mode="before")
    @classmethod
    def _aware(cls, value: Any) -> datetime | None:
        return _time(value)

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
            reply_ids=tuple(self.reply_ids),
            later_repliers=tuple(self.later_repliers),
            reply_check=self.reply_check,
        )


FIELDS = tuple(PostInput.model_fields)
NFC_FIELDS = ("text", "title", "author_name")


def read_lines(stream: BinaryIO | Iterable[bytes], origin: str) -> Iterator[tuple[int, dict | Rejection]]:
    """Yield ``(line number, JSON object or Rejection)``; blank lines are skipped."""
    for number, text in _texts(stream, origin):
        yield number, text if isinstance(text, Rejection) else load_line(text, origin, number)


def _texts(stream: BinaryIO | Iterable[bytes], origin: str) -> Iterator[tuple[int, str | Rejection]]:
    for number, raw in enumerate(stream, start=1):
        if len(raw) > MAX_LINE_BYTES:
            yield number, Rejection(origin, number, f"line is {len(raw):,} bytes, over the {MAX_LINE_BYTES:,}-byte limit",
                                    raw.decode("utf-8", "replace"))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, Rejection(origin, number, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
                                    raw.decode("utf-8", "replace"))
            continue
        if number == 1:
            text = text.removeprefix(BOM)
        if text.strip():
            yield number, text.rstrip("\r\n")


def load_line(text: str, origin: str, number: int) -> dict | Rejection:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Rejection(origin, number, f"malformed JSON ({exc.msg} at column {exc.colno})", text)
    except RecursionError:
        data = None
    if data is None or _depth_over(data):
        field = _deep_field(text)
        where = f"field {field!r}: " if field else ""
        return Rejection(origin, number, f"{where}value nested more than {MAX_DEPTH} levels deep", text)
    if not isinstance(data, dict):
        return Rejection(origin, number, f"expected a JSON object, found {type(data).__name__}", text)
    return data


def _depth_over(data: object, limit: int = MAX_DEPTH) -> bool:
    """Whether ``data`` nests deeper than ``limit``, found without recursion."""
    level = [data]
    for _ in range(limit + 1):
        level = [child for value in level if isinstance(value, (dict, list))
                 for child in (value.values() if isinstance(value, dict) else value)]
        if not level:
            return False
    return any(isinstance(value, (dict, list)) for value in level)


def _deep_field(text: str) -> str | None:
    """The top-level key whose value nests too deep, read from the text itself."""
    depth, key, in_string, escaped, start = 0, None, False, False, 0
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if depth == 1 and text[i + 1:].lstrip().startswith(":"):
                    try:
                        key = json.loads(text[start:i + 1])
                    except ValueError:
                        key = text[start + 1:i]
            continue
        if char == '"':
            in_string, start = True, i
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH + 1:
                return key
        elif char in "]}":
            depth -= 1
    return None


def parse_post(data: dict, origin: str, line: int) -> Post | Rejection:
    """The post ``data`` describes, or why it is not one (notices are dropped; see :func:`check_post`)."""
    return check_post(data, origin, line)[0]


def check_post(data: dict, origin: str, line: int, raw: str | None = None) -> tuple[Post | Rejection, list[Notice]]:
    """The post ``data`` describes (or why not) and what is worth saying about it."""
    unknown = [_unknown(name) for name in data if name not in FIELDS]
    data, replaced = _replace_surrogates(data)
    try:
        post = PostInput.model_validate(data).to_post()
    except ValidationError as exc:
        return Rejection(origin, line, "; ".join([describe_errors(exc), *unknown]), raw), []
    notices = [Notice(origin, line, f"{problem}; the field is ignored, the post kept") for problem in unknown]
    notices += [Notice(origin, line, f"field {name!r}: lone surrogate replaced with U+FFFD") for name in replaced]
    return normalize_post(post), notices


def normalize_post(post: Post) -> Post:
    """``post`` with its text in Unicode NFC."""
    changes = {}
    for name in NFC_FIELDS:
        value = getattr(post, name)
        if value and not unicodedata.is_normalized("NFC", value):
            changes[name] = unicodedata.normalize("NFC", value)
    if not changes:
        return post
    return replace(post, **changes)


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(name, FIELDS, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {name!r}{hint}"


def _replace_surrogates(data: dict) -> tuple[dict, list[str]]:
    """``data`` with lone surrogates in its known fields replaced by U+FFFD, and those fields."""
    fixed, replaced = data, []
    for name, value in data.items():
        if isinstance(value, str):
            if not SURROGATES.search(value) or name not in FIELDS:
                continue
            value = SURROGATES.sub("\ufffd", value)
        elif isinstance(value, list) and name in FIELDS and any(isinstance(v, str) and SURROGATES.search(v) for v in value):
            value = [SURROGATES.sub("\ufffd", v) if isinstance(v, str) else v for v in value]
        else:
            continue
        if fixed is data:
            fixed = dict(data)
        fixed[name] = value
        replaced.append(name)
    return fixed, replaced


def read_posts(stream: BinaryIO | Iterable[bytes], origin: str) -> Iterator[tuple[int, Post | Rejection | Notice]]:
    """Yield ``(line number, Post or Rejection)`` for every non-blank line, after its notices."""
    for number, text in _texts(stream, origin):
        data = text if isinstance(text, Rejection) else load_line(text, origin, number)
        if isinstance(data, Rejection):
            yield number, data
            continue
        post, notices = check_post(data, origin, number, raw=text)
        for notice in notices:
            yield number, notice
        yield number, post


def describe_errors(exc: ValidationError) -> str:
    """Every problem pydantic found, as one sentence naming each field."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(post)"
        if error["type"] == "missing":
            parts.append(f"missing field {field!r}")
        else:
            parts.append(f"field {field!r}: {error['msg'].removeprefix('Value error, ')}, found {_shown(error.get('input'))}")
    return "; ".join(parts)


def _shown(value: object) -> str:
    try:
        return f"{value!r:.60}"
    except RecursionError:
        return f"a deeply nested {type(value).__name__}"
