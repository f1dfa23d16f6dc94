"""What one response may cost: sizes as sent and unpacked, JSON depth, and one report per bad page."""

import gzip

import pytest

from spiders.limits import Problems, TooDeepError, loads, nesting, skipped
from tests.spiders.helpers import fixture, fixture_bytes, local_source, run
from tests.spiders.server import LocalServer, Reply
from tests.spiders.test_html import FORUM, QUICK, ROUTES

SEARCH = "/api/v1/search_by_date"


def _by_query(**replies):
    """HN search answering each query its own reply, the real fixture for the others."""
    def route(request):
        return replies.get(request.param("query")) or fixture("hackernews", "search_by_date.json")
    return route


def test_json_deeper_than_the_limit_is_refused_before_it_is_parsed():
    assert loads("[" * 3 + "]" * 3, max_depth=3) == [[[]]]
    with pytest.raises(TooDeepError, match="JSON_MAX_DEPTH=3"):
        loads("[" * 4 + "]" * 4, max_depth=3)
    with pytest.raises(TooDeepError):
        loads("[" * 100_000 + "]" * 100_000)


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert nesting(r'{"a": ["[[[[", "\"]]]"], "b": {}}') == 2


def test_a_page_keeps_a_few_reasons_but_counts_every_skipped_item():
    problems = Problems()
    for number in range(1_000_000):
        problems.append(f"hit {number % 7}: no date")
    assert problems.total == 1_000_000 and len(problems) == Problems.kept
    assert skipped(problems).startswith("1000000 items skipped: hit 0: no date; hit 1: no date")


def test_a_page_of_unreadable_items_is_reported_once_and_other_queries_are_kept():
    junk = Reply(200, b'{"hits": [' + b",".join([b"0"] * 200_000) + b'], "page": 0, "nbPages": 1}')
    with LocalServer({SEARCH: _by_query(junk=junk)}) as server:
        result = run(local_source("hackernews", server.url, queries=["junk", "cinesa"], threads=False))
    assert len(result.posts) == 3
    assert result.stats["source/errors/bad_item"] == 1
    [error] = result.errors
    assert "200000 items skipped" in error and "query=junk" in error


def test_a_gzip_bomb_is_reported_as_too_large_and_other_queries_are_kept():
    bomb = gzip.compress(b"[" + b"0," * 25_000_000 + b"0]")  # 50 MB of JSON in about 50 KB
    reply = Reply(200, bomb, headers={"Content-Encoding": "gzip"})
    with LocalServer({SEARCH: _by_query(bomb=reply)}) as server:
        result = run(local_source("hackernews", server.url, queries=["bomb", "cinesa"], threads=False))
    assert len(result.posts) == 3
    assert result.stats["source/errors/too_large"] == 1
    [error] = result.errors
    assert "query=bomb" in error and "DOWNLOAD_MAXSIZE" in error and f"{len(bomb)} compressed bytes" in error


def test_decompressed_size_limit_follows_download_maxsize():
    packed = gzip.compress(fixture_bytes("hackernews", "search_by_date.json"))
    reply = Reply(200, packed, headers={"Content-Encoding": "gzip"})
    with LocalServer({SEARCH: reply}) as server:
        small = run(local_source("hackernews", server.url, queries=["cinesa"], threads=False),
                    DOWNLOAD_MAXSIZE=len(packed) + 10)
        roomy = run(local_source("hackernews", server.url, queries=["cinesa"], threads=False))
    assert small.posts == [] and small.stats["source/errors/too_large"] == 1
    assert len(roomy.posts) == 3 and roomy.errors == []


def test_api_json_nested_too_deep_is_reported_and_other_queries_are_kept():
    deep = Reply(200, b'{"hits": ' + b"[" * 10_000 + b"]" * 10_000 + b"}")
    with LocalServer({SEARCH: _by_query(deep=deep)}) as server:
        result = run(local_source("hackernews", server.url, queries=["deep", "cinesa"], threads=False))
    assert len(result.posts) == 3
    assert result.stats["source/errors/bad_json"] == 1
    assert "JSON_MAX_DEPTH" in result.errors[0] and "query=deep" in result.errors[0]
    assert list(result.cursors) == ["cinesa"]


def test_a_json_ld_block_nested_ten_thousand_deep_is_reported_and_the_crawl_goes_on():
    deep = "<script type='application/ld+json'>" + "[" * 10_000 + "]" * 10_000 + "</script>"
    page = fixture_bytes("html", "thread_102.html").decode().replace("</head>", deep + "</head>")
    with LocalServer({**ROUTES, "/t/102-tarjeta-unlimited": page}) as server:
        result = run(local_source("html", server.url, **FORUM), **QUICK)
    assert len(result.posts) == 6  # every page, that one read with the selectors
    [error] = result.errors
    assert "/t/102-tarjeta-unlimited" in error and "JSON_MAX_DEPTH" in error
