"""Name lookups for the address tests, named by ``ADDRESS_LOOKUP``: they stand in for DNS only.

They run inside the crawl's own process, so what they remember lasts one crawl.
"""

from __future__ import annotations

import socket

_asked: dict[str, int] = {}


def rebinding(host: str, port: int) -> list[str]:
    """A name that answers 127.0.0.2 (the tests' allowed "public" site) once, then loopback (DNS rebinding)."""
    _asked[host] = _asked.get(host, 0) + 1
    return ["127.0.0.2"] if _asked[host] == 1 else ["127.0.0.1"]


def shared_address_space(host: str, port: int) -> list[str]:
    """A name in carrier-grade NAT space (100.64.0.0/10): not private, not public either."""
    return ["100.64.12.7"]


def unreachable(host: str, port: int) -> list[str]:
    """No DNS at all, as on a host that only reaches the world through a proxy."""
    raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
