"""Only public addresses: each host looked up once, checked, and connected to at what was checked.

A configured ``base_url``, a link or a redirect must not turn the crawler
against the machine it runs on or its network. An address is fetched only when
``ipaddress`` calls it global (so no loopback, private, link-local, shared
100.64.0.0/10, documentation or reserved range) and not multicast; IPv4 inside
IPv6 (mapped, 6to4, NAT64) is judged as the IPv4 address it carries.

:class:`AddressBook` is the crawl's one view of DNS: it looks each host up once
(``ADDRESS_LOOKUP``, ``socket.getaddrinfo`` in a thread), refuses it when any
address is not allowed or the lookup fails (an address that cannot be checked
is never fetched), and keeps the answer for the whole crawl. Both the
:class:`AddressGuardMiddleware` (every request, redirects included, before it
is queued) and :class:`spiders.resolver.GuardedResolver` (Twisted's resolver,
asked when a connection is opened) read it, so a name that answers a public
address first and loopback next (DNS rebinding) is still connected to at the
public one.

``allow_private: true`` on a source lifts the address check (tests, a
self-hosted forum on the LAN); ``ALLOWED_PRIVATE_NETWORKS`` lists networks
fetched for every source. ``file://`` and every other non-HTTP scheme stay
refused. Behind a proxy the proxy opens the connection: the target is still
looked up and checked here (and refused when it cannot be), but only the proxy
can keep to that address.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from twisted.internet import defer, threads
from twisted.python.failure import Failure

from spiders.base import report

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedAddressError(IgnoreRequest):
    """A host that resolves to an address the crawl may not fetch."""


class UnresolvedHostError(OSError):
    """A host whose addresses could not be looked up, so could not be checked: never fetched."""


def system_lookup(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, in its order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def carried(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), else the address itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_public(address: str) -> bool:
    ip = carried(ipaddress.ip_address(address.split("%")[0]))
    return ip.is_global and not ip.is_multicast


class AddressPolicy:
    """Which addresses a crawl may connect to: public ones, configured networks, or all (``allow_private``)."""

    def __init__(self, allow_private: bool = False, networks: list[str] = ()):
        self.allow_private = allow_private
        try:
            self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]
        except ValueError as exc:
            raise ValueError(f"ALLOWED_PRIVATE_NETWORKS: {exc}; expected networks like 192.168.1.0/24") from None

    def allows(self, address: str) -> bool:
        if self.allow_private or is_public(address):
            return True
        ip = carried(ipaddress.ip_address(address.split("%")[0]))
        return any(ip.version == net.version and ip in net for net in self.networks)


class AddressBook:
    """Per crawl: each host's addresses, looked up once, checked, and the same answer for every connection."""

    def __init__(self, lookup=system_lookup, policy: AddressPolicy | None = None, timeout: float = 60.0,
                 trusted: set[str] = frozenset()):
        self.lookup = lookup
        self.policy = policy or AddressPolicy()
        self.timeout = timeout
        self.trusted = set(trusted)  # the operator's own proxies, whatever their address
        self._known: dict[str, list[str] | Failure] = {}
        self._waiting: dict[str, list[defer.Deferred]] = {}

    @classmethod
    def from_settings(cls, settings, trusted: set[str] = frozenset()) -> AddressBook:
        return cls(load_object(settings.get("ADDRESS_LOOKUP")),
                   AddressPolicy(networks=settings.getlist("ALLOWED_PRIVATE_NETWORKS")),
                   settings.getfloat("DNS_TIMEOUT"), trusted)

    def addresses(self, host: str, port: int) -> defer.Deferred:
        """Fires with ``host``'s allowed addresses, or fails with a refusal or the lookup's failure."""
        if host in self._known:
            known = self._known[host]
            return defer.fail(known) if isinstance(known, Failure) else defer.succeed(list(known))
        answer = defer.Deferred()
        first = host not in self._waiting  # one lookup per host, however many requests wait for it
        self._waiting.setdefault(host, []).append(answer)
        if first:
            self._look_up(host, port).addBoth(lambda result: self._settle(host, result))
        return answer

    def _settle(self, host: str, result) -> None:
        self._known[host] = result
        for answer in self._waiting.pop(host):
            if isinstance(result, Failure):
                answer.errback(result)
            else:
                answer.callback(list(result))

    def _look_up(self, host: str, port: int) -> defer.Deferred:
        from twisted.internet import reactor

        try:
            ipaddress.ip_address(host.split("%")[0])
            found = defer.succeed([host])
        except ValueError:
            found = threads.deferToThread(self.lookup, host, port)
            found.addTimeout(self.timeout, reactor)
        found.addCallbacks(lambda addresses: self._checked(host, addresses),
                           lambda failure: self._unresolved(host, failure))
        return found

    def _checked(self, host: str, addresses: list[str]) -> list[str]:
        if not addresses:
            raise UnresolvedHostError(f"{host} has no addresses")
        if host not in self.trusted:
            refused = [a for a in addresses if not self.policy.allows(a)]
            if refused:
                found = f"{host} is" if refused[0] == host else f"{host} resolves to {refused[0]}, which is"
                raise RefusedAddressError(
                    f"{found} not a public address "
                    "(set allow_private: true on the source, or list its network in ALLOWED_PRIVATE_NETWORKS)")
        return list(addresses)

    def _unresolved(self, host: str, failure):
        if failure.check(RefusedAddressError, UnresolvedHostError):
            return failure
        reason = "no answer in time" if failure.check(defer.TimeoutError) else f"{failure.type.__name__}: {failure.value}"
        raise UnresolvedHostError(f"cannot look up {host} ({reason}); a host whose address cannot be checked is not fetched")


def book_of_reactor() -> AddressBook | None:
    """The crawl's address book, kept by the resolver installed on the reactor."""
    from twisted.internet import reactor

    return getattr(reactor.nameResolver, "book", None)


class AddressGuardMiddleware:
    """Refuses non-HTTP schemes and hosts whose addresses are not allowed, before anything is sent."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.book: AddressBook | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            self._refuse("refused_scheme", request.url, f"scheme {parts.scheme!r} is not http or https")
        book = self._book()
        if book is None:  # nothing would hold the connection to the checked address: fetch nothing
            self._refuse("refused_address", request.url,
                         "TWISTED_DNS_RESOLVER is not spiders.resolver.GuardedResolver, so addresses cannot be checked")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            await maybe_deferred_to_future(book.addresses(parts.hostname or "", port))
        except RefusedAddressError as exc:
            self._refuse("refused_address", request.url, str(exc))
        return None

    def _book(self) -> AddressBook | None:
        if self.book is None:
            self.book = book_of_reactor()
            source = getattr(self.crawler.spider, "source", None)
            if self.book is not None and source is not None:
                self.book.policy.allow_private = source.allow_private
        return self.book

    def _refuse(self, reason: str, url: str, detail: str):
        report(self.crawler, reason, url, detail)
        raise RefusedAddressError(detail)
