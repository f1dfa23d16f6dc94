"""Who is asking: the client address a request came from.

``X-Forwarded-For`` is believed only when the peer is one of the configured
proxies (``web.trusted_proxies``). Then the client is the rightmost address in
the header that is not itself a trusted proxy: everything left of it was
written by the client and may be made up. Without trusted proxies the header is
ignored, so nobody resets a throttle by sending a new one with each request.

IPv6 clients are counted by their /64, which one machine usually holds whole.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``127.0.0.1``, ``10.0.0.0/8`` or ``::1`` into networks; a bad one raises ValueError naming it."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(networks)


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address, proxies: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: list[str], proxies: tuple[Network, ...]) -> str:
    """The address to count a request against: the peer, or what trusted proxies say it forwarded."""
    address = _address(peer or "")
    if address is None:
        return peer or "unknown"
    if _trusted(address, proxies):
        hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            forwarded = _address(hop)
            if forwarded is None:
                break  # a garbled hop: stop at the last proxy we trust
            address = forwarded
            if not _trusted(forwarded, proxies):
                break
    return client_key(address)


def client_key(address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
