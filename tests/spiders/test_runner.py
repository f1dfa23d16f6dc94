import pytest

from listener.config import Config, SourceConfig
from listener.errors import ConfigError
from spiders import SOURCE_KINDS, crawl
from tests.spiders.helpers import local_source, run
from tests.spiders.server import LocalServer, Reply

SEARCH = "/api/v1/search_by_date"
EMPTY = {"hits": [], "page": 0, "nbPages": 1}


def test_kinds_are_registered_by_name():
    assert SOURCE_KINDS["hackernews"].kind == "hackernews"


def test_unknown_kind_is_a_config_error_listing_the_kinds():
    with pytest.raises(ConfigError, match="unknown kind 'myspace'.*hackernews"):
        crawl(Config(), SourceConfig(kind="myspace"), {})


def test_unknown_option_fails_before_any_request():
    with LocalServer({SEARCH: EMPTY}) as server:
        with pytest.raises(ConfigError, match="unknown option 'pages'"):
            run(local_source("hackernews", server.url, pages=3))
    assert server.requests == []


def test_crawls_can_run_one_after_another_in_one_process():
    with LocalServer({SEARCH: EMPTY}) as server:
        first = run(local_source("hackernews", server.url, queries=["a"]))
        second = run(local_source("hackernews", server.url, queries=["b"]))
    assert first.errors == [] and second.errors == []
    assert second.stats["finish_reason"] == "finished"


def test_given_cursors_come_back_when_nothing_new_was_seen():
    with LocalServer({SEARCH: EMPTY}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]), cursors={"cinesa": "1740910500"})
    assert result.cursors == {"cinesa": "1740910500"}


def test_crawl_over_its_time_limit_is_killed_and_reported():
    with LocalServer({SEARCH: Reply(503)}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]), timeout=3, BACKOFF_BASE_DELAY=30,
                     BACKOFF_MAX_DELAY=60)
    assert any("killed after 3s" in e for e in result.errors)
