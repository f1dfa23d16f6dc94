import time
from email.utils import format_datetime
from datetime import datetime, timezone

from scrapy.http import Headers

from spiders.backoff import exhausted, server_delay
from tests.spiders.helpers import local_source, run
from tests.spiders.server import LocalServer, Reply, Turns

SEARCH = "/api/v1/search_by_date"
EMPTY = {"hits": [], "page": 0, "nbPages": 1}
NOW = 1_750_000_000.0


def test_retry_after_in_seconds():
    assert server_delay(Headers({"Retry-After": "7"}), NOW) == 7


def test_retry_after_as_http_date():
    when = datetime.fromtimestamp(NOW + 30, timezone.utc)
    assert server_delay(Headers({"Retry-After": format_datetime(when, usegmt=True)}), NOW) == 30


def test_reset_header_in_epoch_seconds():
    assert server_delay(Headers({"x-rate-limit-reset": str(int(NOW) + 90)}), NOW) == 90


def test_reset_header_counting_down_in_seconds():
    assert server_delay(Headers({"x-ratelimit-reset": "42"}), NOW) == 42


def test_reset_header_as_iso_time():
    when = datetime.fromtimestamp(NOW + 300, timezone.utc).isoformat().replace("+00:00", ".000Z")
    assert server_delay(Headers({"X-RateLimit-Reset": when}), NOW) == 300


def test_a_reset_already_past_is_no_server_delay():
    assert server_delay(Headers({"x-rate-limit-reset": str(int(NOW) - 600)}), NOW) is None
    past = datetime.fromtimestamp(NOW - 30, timezone.utc)
    assert server_delay(Headers({"Retry-After": format_datetime(past, usegmt=True)}), NOW) is None


def test_no_header_means_no_server_delay():
    assert server_delay(Headers({}), NOW) is None


def test_remaining_zero_means_exhausted():
    assert exhausted(Headers({"x-ratelimit-remaining": "0.0"}))
    assert not exhausted(Headers({"x-ratelimit-remaining": "12"}))


def test_retry_after_is_waited_before_retrying():
    with LocalServer({SEARCH: Turns(Reply(429, {"message": "slow down"}, {"Retry-After": "1"}), EMPTY)}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]))
    first, second = server.requests
    assert second.at - first.at >= 0.9
    assert result.errors == []
    assert result.stats["source/backoff/retries"] == 1


def test_server_errors_are_retried_with_growing_delays():
    with LocalServer({SEARCH: Turns(Reply(503), Reply(502), EMPTY)}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]), BACKOFF_BASE_DELAY=0.2)
    a, b, c = (r.at for r in server.requests)
    assert b - a >= 0.18 and c - b >= 0.38
    assert result.errors == []


def test_retries_are_bounded_and_the_failure_reported():
    with LocalServer({SEARCH: Reply(500)}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]), RETRY_TIMES=2)
    assert len(server.requests) == 3
    assert result.stats["source/errors/http_500"] == 1


def test_wait_longer_than_the_maximum_gives_up_at_once():
    with LocalServer({SEARCH: Reply(429, b"{}", {"Retry-After": "3600"})}) as server:
        started = time.monotonic()
        result = run(local_source("hackernews", server.url, queries=["cinesa"]))
    assert time.monotonic() - started < 20
    assert len(server.requests) == 1
    assert result.stats["source/errors/rate_limited"] == 1


def test_exhausted_quota_holds_the_next_request_until_reset():
    def pages(request):
        page = int(request.param("page"))
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"} if page == 0 else {}
        return Reply(200, {"hits": [], "page": page, "nbPages": 2}, headers)

    with LocalServer({SEARCH: pages}) as server:
        run(local_source("hackernews", server.url, queries=["cinesa"]))
    first, second = server.requests
    assert second.at - first.at >= 0.9
