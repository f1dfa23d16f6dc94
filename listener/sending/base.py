"""What every platform adapter shares: one HTTP call, the failures a send can meet, and the result.

A send fails with a :class:`SendFailure` whose ``error`` says what a person can do
about it: ``rate_limited`` (wait until ``retry_at``), ``auth`` (fix the named
environment variables), ``gone`` (the post was deleted), ``rejected`` (the
platform refused the text or the thread), ``unavailable`` (the platform failed;
try again), ``unreachable`` (nothing reached it) or ``unknown`` (the request left
but no answer came: it may have been posted, so look before sending again).
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import Message
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

from listener.config import SourceConfig
from listener.errors import ListenerError
from listener.records import Post

ERRORS = ("rate_limited", "auth", "gone", "rejected", "unavailable", "unreachable", "unknown")
# A send that failed with one of these may be tried again under the same idempotency key: nothing was posted.
RETRYABLE = ("rate_limited", "auth", "gone", "rejected", "unavailable", "unreachable")
TIMEOUT = 20.0
USER_AGENT = "listener/0.1 (replies from the team inbox)"


class SendFailure(ListenerError):
    """A reply the platform did not take; ``error`` is one of :data:`ERRORS`."""

    def __init__(self, error: str, message: str, retry_at: datetime | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.error, self.retry_at = error, retry_at


@dataclass(frozen=True, slots=True)
class Sent:
    """The reply as the platform published it."""

    reply_id: str
    reply_url: str


@dataclass(frozen=True, slots=True)
class Answer:
    """A platform's HTTP response."""

    status: int
    headers: Message
    body: bytes

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def call(method: str, url: str, *, json_body=None, form: Mapping | None = None, headers: Mapping[str, str] | None = None,
         timeout: float = TIMEOUT) -> Answer:
    """One request; an HTTP error status is an :class:`Answer`, a network failure a :class:`SendFailure`."""
    data, sent_headers = None, {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    if json_body is not None:
        data, sent_headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    elif form is not None:
        data, sent_headers["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=sent_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers, exc.read())
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise _no_answer(url) from exc
        raise SendFailure("unreachable", f"could not reach {_host(url)}: {exc.reason}; nothing was sent") from exc
    except (TimeoutError, OSError) as exc:
        raise _no_answer(url) from exc


def _no_answer(url: str) -> SendFailure:
    return SendFailure("unknown", f"{_host(url)} did not answer in time; the reply may have been posted",
                       hint="Open the original to see whether it was; mark it answered with the link, or send again.")


def _host(url: str) -> str:
    return url.split("/")[2] if "//" in url else url


def retry_time(answer: Answer, now: datetime | None = None) -> datetime | None:
    """When a rate limit lifts: ``Retry-After`` (seconds or a date), else the platform's reset header
    (``x-rate-limit-reset`` epoch seconds on X, ``ratelimit-reset`` on Bluesky, an ISO time on Mastodon,
    seconds from now on Reddit)."""
    now = now or datetime.now(timezone.utc)
    for name in ("retry-after", "x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"):
        value = (answer.headers.get(name) or "").strip() if answer.headers else ""
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                try:
                    moment = parsedate_to_datetime(value)
                except (TypeError, ValueError):
                    continue
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        if number > 1e9:  # an epoch time
            return datetime.fromtimestamp(number, timezone.utc)
        return now + timedelta(seconds=number)
    return None


def platform_message(answer: Answer) -> str:
    """The platform's own words on a failure, whatever shape its error body has."""
    payload = answer.json()
    if isinstance(payload, dict):
        for key in ("detail", "error_message", "message", "error_description", "error"):
            if isinstance(payload.get(key), str) and payload[key]:
                return payload[key]
        errors = payload.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            return first.get("message") or first.get("detail") or str(first) if isinstance(first, dict) else str(first)
    text = answer.body[:200].decode("utf-8", "replace").strip()
    return text or f"HTTP {answer.status}"


class Adapter(ABC):
    """Sends a reply to one platform. Subclasses set ``kind``, ``platform``, the base URL and
    the environment variables they need, and implement :meth:`send`."""

    kind = ""
    platform = ""
    default_base_url: str | None = None
    max_length: int | None = None

    def __init__(self, source: SourceConfig, environ: Mapping[str, str] | None = None):
        self.source = source
        self.environ = os.environ if environ is None else environ
        self.base_url = (source.base_url or self.default_base_url or "").rstrip("/")

    @abstractmethod
    def variables(self) -> list[str]:
        """The environment variables holding this platform's credentials."""

    def env(self, name: str) -> str | None:
        return self.environ.get(name) or None

    def missing(self) -> list[str]:
        return [name for name in self.variables() if not self.env(name)]

    @abstractmethod
    def send(self, post: Post, text: str, key: str) -> Sent:
        """Post ``text`` as a reply to ``post``, once per ``key``; raises :class:`SendFailure`."""

    def failure(self, answer: Answer, variables: list[str] | None = None) -> SendFailure:
        """The :class:`SendFailure` for a response that is not a success."""
        said, status = platform_message(answer), answer.status
        if status == 429:
            return SendFailure("rate_limited", f"{self.platform} is rate limiting the account ({said})", retry_time(answer))
        if status in (401, 403):
            names = ", ".join(variables or self.variables())
            return SendFailure("auth", f"{self.platform} refused the credentials ({status}: {said})",
                               hint=f"Check {names}: a token that expired, was revoked or may not post.")
        if status in (404, 410):
            return SendFailure("gone", f"the post is no longer on {self.platform} ({status}: {said}); nothing was sent")
        if status >= 500:
            return SendFailure("unavailable", f"{self.platform} failed ({status}: {said}); nothing was sent, try again")
        return SendFailure("rejected", f"{self.platform} refused the reply ({status}: {said})")

    def native_id(self, post: Post) -> str:
        return post.id.split(":", 1)[1] if ":" in post.id else post.id
