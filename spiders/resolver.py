"""Twisted's resolver for every crawl: connections go only to addresses the crawl's AddressBook checked.

Installed through ``TWISTED_DNS_RESOLVER``, it is what Scrapy's HTTP client
asks when it opens a connection. It answers from the crawl's
:class:`spiders.addresses.AddressBook`, so a host is looked up once, checked,
and connected to at exactly the address that was checked; a host refused there
(or that could not be looked up) gets no address, and the connection fails.
The proxies configured in the environment (``http_proxy``, ``https_proxy``),
which Scrapy connects to instead of the target, are the operator's and are
looked up without the check.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit
from urllib.request import getproxies

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution
from zope.interface import implementer

from spiders.addresses import AddressBook

logger = logging.getLogger(__name__)


def proxy_hosts() -> set[str]:
    """Host names of the proxies in the environment, as Scrapy's HttpProxyMiddleware reads them."""
    hosts = set()
    for scheme, url in getproxies().items():
        if scheme != "no":
            hosts.add(urlsplit(url if "://" in url else f"http://{url}").hostname or "")
    return hosts - {""}


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:
        """A lookup in progress is shared by the crawl's requests; it is never cancelled for one."""


@implementer(IHostnameResolver)
class GuardedResolver:
    def __init__(self, reactor, book: AddressBook):
        self.reactor = reactor
        self.book = book

    @classmethod
    def from_crawler(cls, crawler, reactor):
        return cls(reactor, AddressBook.from_settings(crawler.settings, trusted=proxy_hosts()))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(self, resolutionReceiver, hostName: str, portNumber: int = 0, addressTypes=None,
                        transportSemantics: str = "TCP"):
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver(addresses: list[str]) -> None:
            for address in addresses:
                ip = ipaddress.ip_address(address.split("%")[0])
                kind = IPv6Address if ip.version == 6 else IPv4Address
                if addressTypes is None or kind in addressTypes:
                    resolutionReceiver.addressResolved(kind("TCP", address, portNumber))

        def refused(failure) -> None:
            logger.debug("no address for %s: %s", hostName, failure.value)

        answer = self.book.addresses(hostName, portNumber)
        answer.addCallbacks(deliver, refused)
        answer.addBoth(lambda _: resolutionReceiver.resolutionComplete())
        return resolution
