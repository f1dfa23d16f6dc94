"""The last gate before a request leaves: no request to a host inside a window it announced.

Scrapy's downloader queues requests per host *after* the downloader
middlewares, so a wait decided there misses requests already queued, and the
next queued request goes out as soon as a response frees its slot, before any
middleware has read that response. :class:`GatedDownloadHandler` therefore
wraps the HTTP download handler itself:

- before sending, it waits until the host's :class:`HostSchedule` lets it go:
  past every announced window and at least ``Crawl-delay`` after the host's
  previous request was sent and answered; a wait over ``BACKOFF_MAX_DELAY`` is not sat out, the
  request fails as ``source/errors/rate_limited``;
- on a response, before the next request can be dispatched, it reads what the
  server announced: ``Retry-After`` and reset headers on 429 and 5xx, a reset
  when no quota is left, and whatever the spider finds in the body
  (:meth:`SourceSpider.announced_wait`, e.g. Stack Exchange's ``backoff``).
  A "slow down" with no usable window (none, or one already over) backs off
  exponentially from ``BACKOFF_BASE_DELAY``, doubling per consecutive one;
- on a connection failure it backs off the same way.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import IgnoreRequest

from spiders.backoff import RETRY_EXCEPTIONS, exhausted, server_delay
from spiders.base import report


class RateLimitedError(IgnoreRequest):
    """A request not sent because its host asked for a longer wait than ``BACKOFF_MAX_DELAY``."""


def host_of(url: str) -> str:
    return urlsplit(url).netloc


class HostSchedule:
    """Per crawl and host: the end of the announced window, the pace, and consecutive slow-downs."""

    def __init__(self, base_delay: float, max_delay: float):
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.not_before: dict[str, float] = {}
        self.interval: dict[str, float] = {}
        self.last_sent: dict[str, float] = {}
        self.strikes: dict[str, int] = {}

    _of: WeakKeyDictionary = WeakKeyDictionary()

    @classmethod
    def of(cls, crawler) -> HostSchedule:
        """The crawl's schedule, shared by the gate, the middlewares and the spider."""
        if crawler not in cls._of:
            settings = crawler.settings
            cls._of[crawler] = cls(settings.getfloat("BACKOFF_BASE_DELAY"), settings.getfloat("BACKOFF_MAX_DELAY"))
        return cls._of[crawler]

    def hold(self, host: str, until: float) -> None:
        """Send nothing to ``host`` before ``until`` (epoch seconds)."""
        self.not_before[host] = max(self.not_before.get(host, 0.0), until)

    def pace(self, host: str, seconds: float) -> None:
        """At least ``seconds`` between two requests to ``host`` (robots.txt ``Crawl-delay``)."""
        self.interval[host] = max(self.interval.get(host, 0.0), seconds)

    def slow_down(self, host: str, delay: float | None, now: float) -> float:
        """Hold ``host`` for the announced ``delay``, or exponentially when there is none; the seconds held."""
        strikes = self.strikes.get(host, 0) + 1
        self.strikes[host] = strikes
        if not delay or delay <= 0:
            delay = self.base_delay * 2 ** (strikes - 1)
        self.hold(host, now + delay)
        return delay

    def calm(self, host: str) -> None:
        self.strikes.pop(host, None)

    def wait(self, host: str, now: float) -> float:
        """Seconds before ``host`` may get its next request."""
        pace = self.last_sent.get(host, float("-inf")) + self.interval.get(host, 0.0)
        return max(self.not_before.get(host, 0.0), pace) - now


class GatedDownloadHandler:
    """Scrapy's HTTP/1.1 download handler behind the host's :class:`HostSchedule`."""

    lazy = False

    def __init__(self, crawler):
        self.crawler = crawler
        self.inner = HTTP11DownloadHandler.from_crawler(crawler)
        self.codes = {int(c) for c in crawler.settings.getlist("RETRY_HTTP_CODES")}
        self.schedule = HostSchedule.of(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def download_request(self, request):
        host = host_of(request.url)
        await self._admit(host, request)
        try:
            response = await self.inner.download_request(request)
        except Exception as exc:
            if type(exc).__name__ in RETRY_EXCEPTIONS:
                self.schedule.slow_down(host, None, time.time())
            raise
        finally:
            # The pace counts from the end of the previous exchange, as the host saw it.
            self.schedule.last_sent[host] = time.time()
        self._read_announcements(host, response)
        return response

    async def _admit(self, host: str, request) -> None:
        waited = 0.0
        while (wait := self.schedule.wait(host, time.time())) > 0:
            if wait > self.schedule.max_delay:
                report(self.crawler, "rate_limited", request.url,
                       f"host asked for {wait:.0f}s, more than BACKOFF_MAX_DELAY")
                raise RateLimitedError("rate limited")
            waited += wait
            await asyncio.sleep(wait)
        self.schedule.last_sent[host] = time.time()
        if waited:
            self.crawler.stats.inc_value("source/backoff/waits")
            self.crawler.stats.inc_value("source/backoff/seconds", round(waited, 3))

    def _read_announcements(self, host: str, response) -> None:
        now = time.time()
        announced = getattr(self.crawler.spider, "announced_wait", None)
        in_body = announced(response) if announced else None
        if response.status in self.codes or exhausted(response.headers) or in_body is not None:
            delays = [d for d in (server_delay(response.headers, now), in_body) if d]
            self.schedule.slow_down(host, max(delays, default=None), now)
        else:
            self.schedule.calm(host)

    async def close(self) -> None:
        await self.inner.close()
