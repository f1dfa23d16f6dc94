from datetime import datetime, timezone

import pytest

from listener.config import Config
from listener.errors import ConfigError
from listener.threads import reply_state
from spiders.appstore import AppStoreSpider, parse_reviews
from spiders.progress import Gap
from tests.spiders.bursts import KILLED, Burst, appstore_routes, burst_runs, ids
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply

APP = "1147581063"


def _page(name: str = "reviews_page1.json", number: int = 1):
    return parse_reviews(fixture("appstore", name), "appstore", APP, "es", number)


def test_review_becomes_a_post_with_its_rating_in_the_title():
    post = _page().posts[0]
    assert post.id == "appstore:11873021554"
    assert post.title == "No deja pagar con la tarjeta (1/5)"
    assert post.author == "palomitero_88"
    assert post.text.startswith("Desde la última actualización la app se cierra")
    assert post.created_at == datetime(2026, 11, 20, 8, 12, 45, tzinfo=timezone.utc)
    assert post.url == f"https://apps.apple.com/es/app/id{APP}?see-all=reviews#11873021554"


def test_developer_answers_are_not_in_the_feed_so_the_reply_state_is_unknown():
    assert {p.reply_count for p in _page().posts} == {None}
    assert {reply_state(p, Config()).reason for p in _page().posts} == {"no_thread_source"}


def test_next_page_is_given_until_the_last_link():
    assert _page().next == 2
    assert _page("reviews_page2.json", 2).next is None


def test_page_with_one_review_holds_an_object_not_a_list():
    assert [p.title for p in _page("reviews_page2.json", 2).posts] == ["Faltan cines (2/5)"]


def test_feed_without_entries_has_no_posts_and_no_next():
    page = _page("reviews_empty.json")
    assert page.posts == [] and page.next is None and page.problems == []


def test_app_description_entry_is_not_a_review():
    payload = fixture("appstore", "reviews_page1.json")
    payload["feed"]["entry"].insert(0, {"im:name": {"label": "Cinesa"}, "id": {"label": "https://apps.apple.com/es/app/id1147581063"}})
    assert len(parse_reviews(payload, "appstore", APP, "es").posts) == 3


def test_review_without_a_date_is_skipped_and_reported():
    payload = fixture("appstore", "reviews_page1.json")
    del payload["feed"]["entry"][1]["updated"]
    page = parse_reviews(payload, "appstore", APP, "es")
    assert len(page.posts) == 2 and "11871994306" in page.problems[0]


@pytest.mark.parametrize("options, message", [
    ({"apps": ["cinesa"]}, "numeric App Store ids"),
    ({"apps": [APP], "countries": ["spain"]}, "two-letter country codes"),
    ({}, "option 'apps'"),
])
def test_bad_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        AppStoreSpider(Config(), local_source("appstore", "http://127.0.0.1:1", **options))


def test_app_ids_may_be_written_as_in_store_urls():
    spider = AppStoreSpider(Config(), local_source("appstore", "http://127.0.0.1:1", apps=["id1147581063", 284882215]))
    assert spider.options.apps == ["1147581063", "284882215"]


# -- crawls --------------------------------------------------------------------

def reviews(app: str, country: str = "es", page: int = 1) -> str:
    return f"/{country}/rss/customerreviews/page={page}/id={app}/sortby=mostrecent/json"


ROUTES = {
    reviews(APP, page=1): fixture("appstore", "reviews_page1.json"),
    reviews(APP, page=2): fixture("appstore", "reviews_page2.json"),
    reviews(APP, "mx"): fixture("appstore", "reviews_empty.json"),
}


@pytest.fixture(scope="module")
def crawled():
    with LocalServer(ROUTES) as server:
        result = run(local_source("appstore", server.url, apps=[APP], countries=["es", "mx"]))
    return server, result


def test_crawl_reads_pages_per_app_and_country(crawled):
    server, result = crawled
    assert len(result.posts) == 4
    assert sorted(server.paths()) == [reviews(APP, page=1), reviews(APP, page=2), reviews(APP, "mx")]
    assert set(result.cursors) == {f"{APP}/es"}


def test_crawl_reports_the_newest_review_time_as_the_cursor(crawled):
    _, result = crawled
    assert float(result.cursors[f"{APP}/es"]) == datetime(2026, 11, 20, 8, 12, 45, tzinfo=timezone.utc).timestamp()


def test_rerun_from_the_cursor_stops_at_the_first_page(crawled):
    with LocalServer(ROUTES) as server:
        second = run(local_source("appstore", server.url, apps=[APP], countries=["es", "mx"]), crawled[1].cursors)
    assert second.posts == []
    assert reviews(APP, page=2) not in server.paths()


def test_html_page_with_status_200_is_counted_and_other_apps_continue():
    routes = {**ROUTES, reviews("999"): Reply(200, "<html><body>Service Unavailable</body></html>")}
    with LocalServer(routes) as server:
        result = run(local_source("appstore", server.url, apps=["999", APP]))
    assert len(result.posts) == 4
    assert result.stats["source/errors/not_json"] == 1


# -- bursts ---------------------------------------------------------------------

def test_a_burst_beyond_max_pages_is_fetched_by_the_next_run_and_then_only_new_reviews():
    burst = Burst(55)
    with LocalServer(appstore_routes(burst, APP)) as server:
        source = local_source("appstore", server.url, apps=[APP], max_pages=3)
        first, second, third, new = burst_runs(burst, lambda cursors: run(source, cursors))
    assert len(first.posts) == 30 and Gap.parse(first.cursors[f"{APP}/es"]).resume == "4"
    assert server.paths()[3] == reviews(APP, page=4)  # run 2 goes on where run 1 stopped
    assert len(ids(first, second)) == len(set(ids(first, second))) == 55
    assert second.cursors[f"{APP}/es"] == str(burst.time(55))
    assert sorted(ids(third)) == sorted(f"appstore:r{n}" for n in new)


def test_reviews_that_arrive_between_the_runs_of_a_gap_come_once_in_the_run_after():
    burst = Burst(55)
    with LocalServer(appstore_routes(burst, APP)) as server:
        source = local_source("appstore", server.url, apps=[APP], max_pages=3)
        first = run(source)
        new = burst.add(3)  # page 4 now starts with reviews run 1 read
        second = run(source, first.cursors)
        third = run(source, second.cursors)
    assert "appstore:r27" not in ids(second) and "appstore:r1" in ids(second)
    assert set(ids(first, second, third)) == {f"appstore:r{n}" for n in burst.numbers}
    assert sorted(ids(third)) == sorted(f"appstore:r{n}" for n in new)


def test_a_crawl_killed_mid_listing_keeps_the_cursor_of_the_pages_it_delivered():
    burst = Burst(55)
    burst.stalled = 3
    with LocalServer(appstore_routes(burst, APP)) as server:
        source = local_source("appstore", server.url, apps=[APP], max_pages=10)
        killed = run(source, **KILLED)
        burst.stalled = None
        rest = run(source, killed.cursors)
    assert any("killed after" in error for error in killed.errors)
    assert len(killed.posts) == 20 and Gap.parse(killed.cursors[f"{APP}/es"]).resume == "3"
    assert len(ids(killed, rest)) == len(set(ids(killed, rest))) == 55
    assert rest.cursors[f"{APP}/es"] == str(burst.time(55))
