"""Refuse requests to private, loopback and link-local addresses, and non-HTTP schemes.

A configured ``base_url`` (or a redirect) must not turn the crawler against the
machine it runs on or its network. ``allow_private: true`` on a source lifts
the address check (tests and self-hosted instances on a LAN); ``file://`` and
every other non-HTTP scheme stay refused. The check resolves the host itself,
so a name that resolves to a private address is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from spiders.base import report


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
                or ip.is_multicast or ip.is_unspecified)


class AddressGuardMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.resolved: dict[str, list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            self._refuse("refused_scheme", request.url, f"scheme {parts.scheme!r} is not http or https")
        source = getattr(self.crawler.spider, "source", None)
        if source is not None and source.allow_private:
            return None
        host = parts.hostname or ""
        addresses = await self._resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
        private = [a for a in addresses if not is_public(a)]
        if private:
            self._refuse("refused_address", request.url,
                         f"{host} resolves to {private[0]}, a private, loopback or link-local address "
                         "(set allow_private: true on the source to allow it)")
        return None

    async def _resolve(self, host: str, port: int) -> list[str]:
        if host not in self.resolved:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError:
                return []  # the download reports the DNS failure
            self.resolved[host] = sorted({info[4][0] for info in infos})
        return self.resolved[host]

    def _refuse(self, reason: str, url: str, detail: str):
        report(self.crawler, reason, url, detail)
        raise IgnoreRequest(detail)
