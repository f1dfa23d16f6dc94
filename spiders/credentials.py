"""Credentials stay with the origin they were meant for: a redirect elsewhere goes without them.

A kind sends its key or token in a header (``Authorization``, Discourse's
``Api-Key`` and ``Api-Username``, ...). Scrapy drops ``Authorization`` and
``Cookie`` when a redirect leaves the origin; :class:`CredentialsMiddleware`
drops every header in ``CREDENTIAL_HEADERS`` from a redirected request whose
scheme, host or port differs from the previous hop's, so a ``302`` to another
host never carries the key there (``source/credentials_dropped``). Once
dropped, they stay dropped for the rest of the chain, even back on the origin.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or _PORTS.get(parts.scheme)


class CredentialsMiddleware:
    def __init__(self, crawler, headers: list[str]):
        self.crawler = crawler
        self.headers = headers

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getlist("CREDENTIAL_HEADERS"))

    def process_request(self, request):
        hops = request.meta.get("redirect_urls")
        if not hops or origin(hops[-1]) == origin(request.url):
            return None
        dropped = [name for name in self.headers if request.headers.pop(name, None) is not None]
        if dropped:
            self.crawler.stats.inc_value("source/credentials_dropped")
            logger.info("not sending %s to %s: redirected there from %s", ", ".join(dropped), request.url, hops[-1])
        return None
