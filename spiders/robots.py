"""robots.txt as RFC 9309 reads it, with the site's ``Crawl-delay``.

Replaces Scrapy's ``RobotsTxtMiddleware`` (on with ``ROBOTSTXT_OBEY``, as the
HTML kinds set it). Per host, robots.txt is fetched once per run, before any
other request, through the same gate and retries as every request:

- 2xx: its rules for our product token (``ROBOTSTXT_USER_AGENT``, ``listener``)
  decide; its ``Crawl-delay`` (or ``Request-rate``) spaces our requests to the
  host (:meth:`spiders.dispatch.HostSchedule.pace`);
- 4xx other than 429 (no robots.txt): everything is allowed;
- 429, 5xx or no answer at all (unreachable, refused): nothing on the host is
  fetched this run (``source/errors/robots_unavailable``, reported once per
  host); the next run asks again.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from protego import Protego
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK

from spiders.base import report
from spiders.dispatch import HostSchedule, host_of


class RobotsUnavailableError(IgnoreRequest):
    """A request not sent because its host's robots.txt could not be read this run."""


class RobotsMiddleware:
    def __init__(self, crawler, agent: str):
        self.crawler = crawler
        self.agent = agent
        self.rules: dict[str, asyncio.Future] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured  # API kinds leave it off: no warning on every crawl
        return cls(crawler, crawler.settings.get("ROBOTSTXT_USER_AGENT") or "listener")

    async def process_request(self, request):
        if request.meta.get("dont_obey_robotstxt"):
            return None
        rules = await self._rules(request.url)
        if rules is None:
            raise RobotsUnavailableError("robots.txt unavailable")
        if not rules.can_fetch(request.url, self.agent):
            self.crawler.stats.inc_value("robotstxt/forbidden")
            raise IgnoreRequest("Forbidden by robots.txt")
        return None

    async def _rules(self, url: str) -> Protego | None:
        host = host_of(url)
        if host not in self.rules:
            pending = self.rules[host] = asyncio.get_running_loop().create_future()
            try:
                pending.set_result(await self._fetch(f"{urlsplit(url).scheme}://{host}/robots.txt", host))
            finally:
                if not pending.done():  # cancelled while fetching: the others waiting are kept out
                    pending.set_result(None)
        return await asyncio.shield(self.rules[host])

    async def _fetch(self, robots_url: str, host: str) -> Protego | None:
        request = Request(robots_url, priority=1000, meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
        self.crawler.stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest:
            return None  # the gate or the address guard has reported why
        except Exception as exc:
            return self._unavailable(robots_url, f"{type(exc).__name__}: {exc}")
        self.crawler.stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        if response.status == 429 or response.status >= 500:
            return self._unavailable(robots_url, f"HTTP {response.status}")
        if response.status >= 400:
            return Protego.parse("")
        rules = Protego.parse(response.body.decode("utf-8", "replace"))
        self._pace(host, rules)
        return rules

    def _pace(self, host: str, rules: Protego) -> None:
        delay = rules.crawl_delay(self.agent)
        rate = rules.request_rate(self.agent)
        if rate and rate.requests:
            delay = max(delay or 0.0, rate.seconds / rate.requests)
        if delay:
            HostSchedule.of(self.crawler).pace(host, float(delay))
            self.crawler.stats.set_value("source/robots/crawl_delay", float(delay))

    def _unavailable(self, url: str, why: str) -> None:
        report(self.crawler, "robots_unavailable", url,
               f"robots.txt answered {why}: nothing on this host is fetched this run (RFC 9309)")
        return None
