"""What a site owner sees of rate limits: no request inside a window the server announced.

Each crawl here sends one request at a time per host, so every request but the
one being answered is already queued in the downloader when the window is
announced: they must wait too.
"""

import gzip
import json
import time
from datetime import datetime, timezone
from email.utils import format_datetime

from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply, Turns

SEARCH = "/api/v1/search_by_date"
EMPTY = {"hits": [], "page": 0, "nbPages": 1}
ONE_AT_A_TIME = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1}


def _hn(server, queries=("cinesa", "yelmo", "kinepolis"), **settings):
    return run(local_source("hackernews", server.url, queries=list(queries)), **{**ONE_AT_A_TIME, **settings})


def test_queued_requests_wait_out_retry_after_seconds():
    with LocalServer({SEARCH: Turns(Reply(429, {"message": "slow down"}, {"Retry-After": "1"}), EMPTY)}) as server:
        result = _hn(server)
    refused, *later = server.requests
    assert len(later) >= 3  # the retry and the other queries' requests, all queued
    assert min(r.at for r in later) - refused.at >= 1.0
    assert result.errors == []


def test_queued_requests_wait_out_retry_after_as_an_http_date():
    window = {}

    def refuse(request):
        window["end"] = int(time.time()) + 2  # an HTTP date has whole seconds
        when = datetime.fromtimestamp(window["end"], timezone.utc)
        return Reply(503, b"{}", {"Retry-After": format_datetime(when, usegmt=True)})

    with LocalServer({SEARCH: Turns(refuse, EMPTY)}) as server:
        _hn(server)
    later = server.requests[1:]
    assert len(later) >= 3
    assert min(r.wall for r in later) >= window["end"]


def test_reset_in_the_past_backs_off_exponentially():
    def stale(request):
        return Reply(429, b"{}", {"x-rate-limit-reset": str(int(time.time()) - 600)})

    with LocalServer({SEARCH: Turns(stale, stale, stale, EMPTY)}) as server:
        result = _hn(server, queries=["cinesa"], BACKOFF_BASE_DELAY=0.1)
    a, b, c, d = (r.at for r in server.requests[:4])
    assert b - a >= 0.1 and c - b >= 0.2 and d - c >= 0.4
    assert result.errors == []


def test_no_quota_left_holds_queued_requests_until_the_reset():
    spent = Reply(200, EMPTY, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"})
    with LocalServer({SEARCH: Turns(spent, EMPTY)}) as server:
        result = _hn(server)
    spent_at, *later = server.requests
    assert len(later) >= 2
    assert min(r.at for r in later) - spent_at.at >= 1.0
    assert result.errors == []


def test_a_dropped_connection_holds_queued_requests_and_backs_off_exponentially():
    dropped = Reply(hang_up=True)
    with LocalServer({SEARCH: Turns(dropped, dropped, EMPTY)}) as server:
        result = _hn(server, BACKOFF_BASE_DELAY=0.2)
    first, second, *rest = (r.at for r in server.requests)
    assert second - first >= 0.2
    # Requests released in the same wave as the second arrive with it; the next wave waits 0.4 s.
    next_wave = [t for t in rest if t - second > 0.1]
    assert next_wave and min(next_wave) - second >= 0.4
    assert len(server.requests) >= 5 and result.errors == []


def _questions(request, **extra):
    payload = fixture("stackexchange", "search_advanced.json")
    payload.update(has_more=False, **extra)
    return payload


def test_stack_exchange_backoff_field_holds_queued_requests_even_compressed():
    def search(request):
        extra = {"backoff": 1} if request.param("site") == "stackoverflow" else {}
        body = gzip.compress(json.dumps(_questions(request, **extra)).encode())
        return Reply(200, body, {"Content-Encoding": "gzip"})

    with LocalServer({"/2.3/search/advanced": search}) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa"], threads=False,
                                  sites=["stackoverflow", "superuser"]), **ONE_AT_A_TIME)
    first, second = server.requests
    assert first.param("site") == "stackoverflow"
    assert second.at - first.at >= 1.0
    assert result.stats["source/backoff/api"] == 1
    assert len(result.posts) == 4


def test_stack_exchange_throttle_violation_holds_the_host_for_the_seconds_it_names():
    throttled = {"error_id": 502, "error_name": "throttle_violation",
                 "error_message": "too many requests from this IP, more requests available in 1 seconds"}
    with LocalServer({"/2.3/search/advanced": Turns(Reply(400, throttled), _questions)}) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa", "yelmo"], threads=False),
                     **ONE_AT_A_TIME)
    first, second = server.requests
    assert second.at - first.at >= 1.0
    assert "throttle_violation" in result.errors[0]


def test_a_throttle_violation_longer_than_the_maximum_sends_nothing_more():
    throttled = fixture("stackexchange", "throttled.json")  # 82 seconds
    with LocalServer({"/2.3/search/advanced": Turns(Reply(400, throttled), _questions)}) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa", "yelmo", "odeon"],
                                  threads=False), BACKOFF_MAX_DELAY=5, **ONE_AT_A_TIME)
    assert len(server.requests) == 1
    assert result.stats["source/errors/rate_limited"] == 2
    assert result.cursors == {}


def test_a_page_left_for_a_long_window_keeps_the_site_cursor_where_it_was():
    from tests.spiders.test_html import FORUM, ROUTES

    limited = "/t/102-tarjeta-unlimited"
    with LocalServer({**ROUTES, limited: Reply(429, "<h1>Too many requests</h1>", {"Retry-After": "3600"})}) as server:
        result = run(local_source("html", server.url, **FORUM), AUTOTHROTTLE_START_DELAY=0.01)
    assert server.paths().count(limited) == 1  # neither it nor anything after it inside the hour
    assert "/t/095-palomitas" not in server.paths()
    assert result.stats["source/errors/rate_limited"] == 2
    assert result.posts  # the thread read before it is kept...
    assert "posts" not in result.cursors  # ...but the next run looks again at the one left out
