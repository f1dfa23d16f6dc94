import pytest

from spiders.addresses import is_public
from tests.spiders.helpers import local_source, run
from tests.spiders.server import LocalServer

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
