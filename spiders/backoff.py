"""Retry 429, 5xx and connection failures, waiting as long as the server asks.

The wait comes from ``Retry-After`` (seconds or an HTTP date), then from a
rate-limit reset header (epoch seconds, seconds to go, or Mastodon's ISO time),
else doubles from ``BACKOFF_BASE_DELAY``. While a host is waited for, every
request to it sleeps on the reactor (never a busy loop). A wait longer than
``BACKOFF_MAX_DELAY`` is not sat out: the host's requests fail as
``source/errors/rate_limited`` and the next run picks up from the cursors.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

from listener.records import parse_time
from spiders.base import report

# X, Reddit/GitHub style, and the unprefixed IETF draft names (Bluesky).
RESET_HEADERS = (b"x-rate-limit-reset", b"x-ratelimit-reset", b"ratelimit-reset")
REMAINING_HEADERS = (b"x-rate-limit-remaining", b"x-ratelimit-remaining", b"ratelimit-remaining")
RETRY_EXCEPTIONS = ("ConnectionRefusedError", "ConnectionLost", "TimeoutError", "DownloadTimeoutError",
                    "TCPTimedOutError", "ConnectionDone", "ResponseNeverReceived", "DownloadConnectionRefusedError",
                    "ConnectError", "DownloadFailedError")


def server_delay(headers, now: float) -> float | None:
    """Seconds the server asked us to wait, from ``Retry-After`` or a reset header."""
    value = _header(headers, (b"retry-after",))
    if value is not None:
        if value.replace(".", "", 1).isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    value = _header(headers, RESET_HEADERS)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        try:
            return max(0.0, parse_time(value).timestamp() - now)
        except ValueError:
            return None
    # Large numbers are epoch seconds (X, GitHub); small ones count down (Reddit).
    return max(0.0, number - now) if number > 1e9 else number


def exhausted(headers) -> bool:
    value = _header(headers, REMAINING_HEADERS)
    try:
        return value is not None and float(value) <= 0
    except ValueError:
        return False


def _header(headers, names) -> str | None:
    for name in names:
        value = headers.get(name)
        if value:
            return value.decode("latin-1").strip()
    return None


class BackoffMiddleware:
    def __init__(self, crawler, *, retries: int, base_delay: float, max_delay: float, codes: list[int]):
        self.crawler = crawler
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.codes = set(codes)
        self.not_before: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("RETRY_ENABLED is off")
        return cls(
            crawler,
            retries=settings.getint("RETRY_TIMES"),
            base_delay=settings.getfloat("BACKOFF_BASE_DELAY"),
            max_delay=settings.getfloat("BACKOFF_MAX_DELAY"),
            codes=[int(c) for c in settings.getlist("RETRY_HTTP_CODES")],
        )

    def hold(self, url: str, until: float) -> None:
        host = urlsplit(url).netloc
        self.not_before[host] = max(self.not_before.get(host, 0.0), until)

    async def process_request(self, request):
        host = urlsplit(request.url).netloc
        wait = self.not_before.get(host, 0.0) - time.time()
        if wait > self.max_delay:
            report(self.crawler, "rate_limited", request.url, f"host asked for {wait:.0f}s, more than BACKOFF_MAX_DELAY")
            raise IgnoreRequest("rate limited")
        if wait > 0:
            self.crawler.stats.inc_value("source/backoff/waits")
            self.crawler.stats.inc_value("source/backoff/seconds", round(wait, 3))
            await asyncio.sleep(wait)
        return None

    def process_response(self, request, response):
        now = time.time()
        if response.status in self.codes:
            delay = server_delay(response.headers, now)
            return self._retry(request, f"HTTP {response.status}", delay, now) or response
        if exhausted(response.headers):
            delay = server_delay(response.headers, now)
            if delay:
                self.hold(request.url, now + delay)
        return response

    def process_exception(self, request, exception):
        if type(exception).__name__ in RETRY_EXCEPTIONS:
            return self._retry(request, type(exception).__name__, None, time.time())
        return None

    def _retry(self, request, why: str, delay: float | None, now: float):
        tries = request.meta.get("backoff_tries", 0) + 1
        if tries > self.retries:
            self.crawler.stats.inc_value("source/backoff/gave_up")
            return None
        if delay is None:
            delay = self.base_delay * 2 ** (tries - 1)
        self.hold(request.url, now + delay)
        self.crawler.stats.inc_value("source/backoff/retries")
        retry = request.replace(dont_filter=True)
        retry.meta["backoff_tries"] = tries
        retry.priority = request.priority - 1
        return retry
