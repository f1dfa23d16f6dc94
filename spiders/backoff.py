"""Retry 429, 5xx and connection failures; how long a server asked us to wait.

Waiting is :mod:`spiders.dispatch`'s: its gate holds the host for what
``Retry-After`` says (seconds or an HTTP date), else a rate-limit reset header
(epoch seconds, seconds to go, or Mastodon's ISO time), else exponentially from
``BACKOFF_BASE_DELAY``; a window already over counts as none. This middleware
only sends the request again, at most ``RETRY_TIMES`` times, and the retry goes
through the gate like every other request.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from scrapy.exceptions import NotConfigured

from listener.records import parse_time

# X, Reddit/GitHub style, and the unprefixed IETF draft names (Bluesky).
RESET_HEADERS = (b"x-rate-limit-reset", b"x-ratelimit-reset", b"ratelimit-reset")
REMAINING_HEADERS = (b"x-rate-limit-remaining", b"x-ratelimit-remaining", b"ratelimit-remaining")
RETRY_EXCEPTIONS = ("ConnectionRefusedError", "ConnectionLost", "TimeoutError", "DownloadTimeoutError",
                    "TCPTimedOutError", "ConnectionDone", "ResponseNeverReceived", "DownloadConnectionRefusedError",
                    "ConnectError", "DownloadFailedError")


def server_delay(headers, now: float) -> float | None:
    """Seconds the server asked us to wait, from ``Retry-After`` or a reset header.

    None when it said nothing usable, including a time already past (a clock
    out of step or a stale header): the caller then backs off exponentially.
    """
    delay = _server_delay(headers, now)
    return delay if delay is not None and delay > 0 else None


def _server_delay(headers, now: float) -> float | None:
    value = _header(headers, (b"retry-after",))
    if value is not None:
        if value.replace(".", "", 1).isdigit():
            return float(value)
        try:
            return parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            pass
    value = _header(headers, RESET_HEADERS)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        try:
            return parse_time(value).timestamp() - now
        except ValueError:
            return None
    # Large numbers are epoch seconds (X, GitHub); small ones count down (Reddit).
    return number - now if number > 1e9 else number


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
    def __init__(self, crawler, *, retries: int, codes: list[int]):
        self.crawler = crawler
        self.retries = retries
        self.codes = set(codes)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("RETRY_ENABLED is off")
        return cls(crawler, retries=settings.getint("RETRY_TIMES"),
                   codes=[int(c) for c in settings.getlist("RETRY_HTTP_CODES")])

    def process_response(self, request, response):
        if response.status in self.codes:
            return self._retry(request) or response
        return response

    def process_exception(self, request, exception):
        if type(exception).__name__ in RETRY_EXCEPTIONS:
            return self._retry(request)
        return None

    def _retry(self, request):
        tries = request.meta.get("backoff_tries", 0) + 1
        if tries > self.retries:
            self.crawler.stats.inc_value("source/backoff/gave_up")
            return None
        self.crawler.stats.inc_value("source/backoff/retries")
        retry = request.replace(dont_filter=True)
        retry.meta["backoff_tries"] = tries
        retry.priority = request.priority - 1
        return retry
