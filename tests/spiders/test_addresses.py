import pytest

from spiders.addresses import is_public
from tests.spiders.helpers import local_source, run
from tests.spiders.server import LocalServer, Reply

EMPTY = {"hits": [], "page": 0, "nbPages": 1}


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.5.5", "169.254.169.254",
                                     "::1", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "fd00::1"])
def test_private_loopback_and_link_local_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(address):
    assert is_public(address)


def test_loopback_url_is_refused_unless_allowed():
    with LocalServer({"/api/v1/search_by_date": EMPTY}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"], allow_private=False))
    assert server.requests == []
    assert result.stats["source/errors/refused_address"] == 1
    assert "allow_private" in result.errors[0]


def test_name_resolving_to_loopback_is_refused():
    with LocalServer({"/api/v1/search_by_date": EMPTY}) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        result = run(local_source("hackernews", url, queries=["cinesa"], allow_private=False))
    assert server.requests == []
    assert result.stats["source/errors/refused_address"] == 1


def test_loopback_url_is_fetched_when_allowed():
    with LocalServer({"/api/v1/search_by_date": EMPTY}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"], allow_private=True))
    assert len(server.requests) == 1
    assert result.errors == []


def test_file_scheme_is_refused_even_when_private_is_allowed():
    result = run(local_source("hackernews", "file:///etc", queries=["passwd"], allow_private=True))
    assert result.stats["source/errors/refused_scheme"] == 1


@pytest.mark.parametrize("address", ["100.64.0.1", "100.127.255.254", "224.0.0.1", "192.0.2.10", "198.18.0.1",
                                     "2002:7f00:1::1", "64:ff9b::a00:1", "255.255.255.255"])
def test_shared_multicast_test_and_wrapped_private_addresses_are_not_public(address):
    assert not is_public(address)


def _lookup(name: str) -> dict:
    return {"ADDRESS_LOOKUP": f"tests.spiders.dns.{name}"}


def test_name_in_shared_address_space_is_refused_after_resolution():
    with LocalServer({"/api/v1/search_by_date": EMPTY}) as server:
        url = server.url.replace("127.0.0.1", "cgnat.example")
        result = run(local_source("hackernews", url, queries=["cinesa"], allow_private=False),
                     **_lookup("shared_address_space"))
    assert result.stats["source/errors/refused_address"] == 1
    assert "100.64.12.7" in result.errors[0]


def test_dns_rebinding_connects_to_the_address_that_was_checked():
    with LocalServer({"/api/v1/search_by_date": EMPTY}, host="127.0.0.2") as site:
        port = site.url.rsplit(":", 1)[1]
        with LocalServer({"/api/v1/search_by_date": EMPTY}, port=int(port)) as internal:
            result = run(local_source("hackernews", f"http://rebind.example:{port}", queries=["cinesa"],
                                      allow_private=False),
                         ALLOWED_PRIVATE_NETWORKS=["127.0.0.2/32"], **_lookup("rebinding"))
    assert internal.requests == []
    assert len(site.requests) == 1
    assert result.errors == []


def test_redirect_to_a_private_address_is_refused():
    with LocalServer({"/api/v1/search_by_date": EMPTY}) as internal:
        moved = Reply(302, b"", headers={"Location": f"{internal.url}/api/v1/search_by_date"})
        with LocalServer({"/api/v1/search_by_date": moved}, host="127.0.0.2") as site:
            result = run(local_source("hackernews", site.url, queries=["cinesa"], allow_private=False),
                         ALLOWED_PRIVATE_NETWORKS=["127.0.0.2/32"])
    assert len(site.requests) == 1 and internal.requests == []
    assert result.stats["source/errors/refused_address"] == 1


def test_a_host_that_cannot_be_looked_up_is_not_fetched_through_a_proxy(monkeypatch):
    with LocalServer({"/api/v1/search_by_date": EMPTY}) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        result = run(local_source("hackernews", "http://hn.example", queries=["cinesa"], allow_private=False),
                     **_lookup("unreachable"))
    assert proxy.requests == []
    assert "cannot look up hn.example" in result.errors[0]
