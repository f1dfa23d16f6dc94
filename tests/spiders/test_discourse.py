from datetime import date, datetime, timezone

import pytest

from listener.config import Config, EntityConfig
from listener.records import parse_time
from listener.threads import answer_state
from spiders.discourse import Brand, parse_latest, parse_search, parse_topic
from spiders.progress import Gap
from tests.spiders.bursts import KILLED, Burst, burst_runs, discourse_routes, ids
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply

BASE = "https://comunidad.example"
CONFIG = Config(brand=EntityConfig(name="Cinesa", handles=["@cinesa"]))


NOBODY = Brand()


def _topic(name: str = "topic_1187.json", brand: Brand = NOBODY):
    return {p.id: p for p in parse_topic(fixture("discourse", name), "forum", BASE, brand).posts}


def test_search_result_becomes_a_post_with_its_blurb_and_topic_url():
    post = parse_search(fixture("discourse", "search_page1.json"), "forum", BASE).posts[0]
    assert post.id == "forum:1187/1"
    assert post.url == f"{BASE}/t/error-al-canjear-puntos-de-la-tarjeta/1187/1"
    assert post.author == "sofia_m" and post.author_name == "Sofía M."
    assert post.text.startswith("No puedo canjear los puntos de la tarjeta Cinesa")
    assert post.title == "Error al canjear puntos de la tarjeta"
    assert post.created_at == datetime(2026, 11, 20, 8, 20, 31, 114000, tzinfo=timezone.utc)


def test_search_result_deep_in_a_topic_points_at_the_first_post():
    post = parse_search(fixture("discourse", "search_page1.json"), "forum", BASE).posts[1]
    assert post.id == "forum:1180/3"
    assert post.parent_id == post.thread_id == "forum:1180/1"
    assert post.title is None


def test_search_has_a_next_page_while_discourse_says_there_are_more():
    assert parse_search(fixture("discourse", "search_page1.json"), "forum", BASE).next is True
    assert parse_search(fixture("discourse", "search_page2.json"), "forum", BASE).next is False


def test_search_error_body_is_a_problem():
    page = parse_search({"errors": ["You’ve performed this action too many times."]}, "forum", BASE)
    assert page.posts == [] and page.problems == ["response has no 'posts' list"]


def test_first_post_is_answered_by_the_posts_that_reply_to_the_topic():
    first = _topic()["forum:1187/1"]
    assert first.reply_ids == ("forum:1187/2", "forum:1187/3")  # post 4 answers post 2
    assert first.replied_by == ("cinesa_soporte", "pablo")
    assert first.first_reply_at == parse_time("2026-11-20T08:51:10.000Z")


def test_the_customers_last_post_after_the_brands_answer_waits_for_one():
    posts = _topic(brand=Brand("@cinesa", accounts=frozenset({"cinesa_soporte"})))
    assert answer_state(posts["forum:1187/1"], CONFIG) == "answered_by_brand"
    assert answer_state(posts["forum:1187/4"], CONFIG) == "unanswered"  # "Hecho, gracias." to the brand's reply


def test_the_brands_forum_account_from_the_configuration_answers():
    config = Config(brand=EntityConfig(name="Cinesa", accounts={"discourse": ["cinesa_soporte"]}),
                    sources=[{"kind": "discourse", "name": "forum"}])
    assert answer_state(_topic()["forum:1187/1"], config) == "answered_by_brand"


def test_later_post_is_answered_by_the_posts_that_reply_to_its_number():
    posts = _topic()
    assert posts["forum:1187/2"].replied_by == ("sofia_m",)
    assert posts["forum:1187/4"].parent_id == "forum:1187/2"
    assert posts["forum:1187/3"].reply_count == 0 and posts["forum:1187/3"].replied_by == ()


def test_staff_reply_counts_as_the_brand_when_staff_speak_for_it():
    first = _topic(brand=Brand("@cinesa", staff=True))["forum:1187/1"]
    assert "@cinesa" in first.replied_by
    assert answer_state(first, CONFIG) == "answered_by_brand"


def test_staff_reply_is_only_a_username_by_default():
    first = _topic(brand=Brand("@cinesa"))["forum:1187/1"]
    assert "@cinesa" not in first.replied_by
    assert answer_state(first, CONFIG) == "answered"


def test_named_brand_account_counts_as_the_brand():
    first = _topic(brand=Brand("@cinesa", accounts=frozenset({"cinesa_soporte"})))["forum:1187/1"]
    assert first.replied_by[-1] == "@cinesa"


def test_quoted_text_is_left_out_of_a_reply():
    assert _topic()["forum:1187/4"].text == "Hecho, gracias."


def test_cooked_html_becomes_paragraphs_of_text():
    text = _topic()["forum:1187/1"].text
    assert text == "No puedo canjear los puntos de la tarjeta Cinesa en la app, me da error 500 al pagar.\n¿Le pasa a alguien más?"


def test_deleted_user_is_kept_as_an_authorless_post():
    post = _topic("topic_1180.json")["forum:1180/2"]
    assert post.author is None and post.author_name is None


def test_latest_lists_topics_with_their_bump_time_and_the_next_page():
    listing = parse_latest(fixture("discourse", "latest.json"))
    assert listing.topics[0] == (7, datetime(2025, 1, 10, 10, 0, tzinfo=timezone.utc), True)
    assert [t[0] for t in listing.topics] == [7, 1187, 1180]
    assert listing.next == 1


def test_latest_last_page_has_no_next():
    assert parse_latest(fixture("discourse", "latest_page1.json")).next is None


# -- crawls --------------------------------------------------------------------

def _search(request):
    """Answer like Discourse: ``after:`` keeps posts from that day on, ``page`` starts at 1."""
    name = "search_page2.json" if request.param("page") == "2" else "search_page1.json"
    payload = fixture("discourse", name)
    after = date.fromisoformat(request.param("q").split("after:")[1].split()[0])
    payload["posts"] = [p for p in payload["posts"] if parse_time(p["created_at"]).date() >= after]
    return payload


def _latest(request):
    return fixture("discourse", "latest_page1.json" if request.param("page") == "1" else "latest.json")


ROUTES = {
    "/search.json": _search,
    "/latest.json": _latest,
    "/t/1187.json": fixture("discourse", "topic_1187.json"),
    "/t/1180.json": fixture("discourse", "topic_1180.json"),
}


THIS_YEAR = {"latest": str(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())}


@pytest.fixture(scope="module")
def searched():
    with LocalServer(ROUTES) as server:
        result = run(local_source("discourse", server.url, queries=["cinesa"]))
    return server, result


@pytest.fixture(scope="module")
def listed():
    """``latest`` from an afternoon cursor: topic 1180 has one new post, 1187 four, the pinned one none."""
    cursor = datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc).timestamp()
    with LocalServer(ROUTES) as server:
        result = run(local_source("discourse", server.url, mode="latest"), {"latest": str(cursor)})
    return server, result


def test_search_crawl_follows_pages_and_reads_each_topic_once(searched):
    server, result = searched
    assert sorted(p.id for p in result.posts) == ["discourse:1180/1", "discourse:1180/3", "discourse:1187/1"]
    assert [r.param("page") for r in server.requests if r.path == "/search.json"] == ["1", "2"]
    assert sorted(r.path for r in server.requests if r.path.startswith("/t/")) == ["/t/1180.json", "/t/1187.json"]


def test_search_crawl_replaces_blurbs_with_full_text_and_repliers(searched):
    _, result = searched
    post = next(p for p in result.posts if p.id == "discourse:1180/3")
    assert post.text.endswith("La uso cada semana.")
    first = next(p for p in result.posts if p.id == "discourse:1187/1")
    assert first.replied_by == ("cinesa_soporte", "pablo")


def test_search_rerun_from_the_cursor_fetches_nothing_old(searched):
    assert float(searched[1].cursors["cinesa"]) == parse_time("2026-11-20T08:20:31.114Z").timestamp()
    with LocalServer(ROUTES) as server:
        second = run(local_source("discourse", server.url, queries=["cinesa"]), searched[1].cursors)
    assert second.posts == []
    assert server.requests[0].param("q") == "cinesa after:2026-11-19 order:latest"


def test_posts_earlier_on_the_cursor_day_are_left_out():
    cursor = datetime(2026, 11, 19, 15, 0, tzinfo=timezone.utc).timestamp()
    with LocalServer(ROUTES) as server:
        result = run(local_source("discourse", server.url, queries=["cinesa"]), {"cinesa": str(cursor)})
    assert server.requests[0].param("q") == "cinesa after:2026-11-18 order:latest"
    assert sorted(p.id for p in result.posts) == ["discourse:1180/3", "discourse:1187/1"]


def test_a_post_found_by_two_queries_is_emitted_once_with_its_topic():
    with LocalServer(ROUTES) as server:
        result = run(local_source("discourse", server.url, queries=["cinesa", "tarjeta"]))
    ids = [p.id for p in result.posts]
    assert len(ids) == len(set(ids)) == 3
    assert all(p.reply_count is not None for p in result.posts)
    assert sorted(r.path for r in server.requests if r.path.startswith("/t/")) == ["/t/1180.json", "/t/1187.json"]


def test_failed_topic_keeps_the_search_blurb():
    routes = {**ROUTES, "/t/1187.json": Reply(404, {"errors": ["not found"], "error_type": "not_found"})}
    with LocalServer(routes) as server:
        result = run(local_source("discourse", server.url, queries=["cinesa"]))
    post = next(p for p in result.posts if p.id == "discourse:1187/1")
    assert post.text.endswith("me da error 500 al pagar…") and post.reply_count is None
    assert post.reply_check == "lookup_failed"
    assert result.stats["source/errors/http_404"] == 1


def test_latest_crawl_emits_the_new_posts_of_bumped_topics(listed):
    server, result = listed
    assert sorted(p.id for p in result.posts) == [
        "discourse:1180/3", "discourse:1187/1", "discourse:1187/2", "discourse:1187/3", "discourse:1187/4",
    ]
    assert "/t/7.json" not in server.paths()  # the pinned rules topic is old
    assert float(result.cursors["latest"]) == parse_time("2026-11-20T09:12:40.500Z").timestamp()


def test_latest_crawl_follows_more_topics_while_topics_are_new(listed):
    server, _ = listed
    assert [r.param("page") for r in server.requests if r.path == "/latest.json"] == [None, "1"]


def test_latest_rerun_from_the_cursor_fetches_nothing_old(listed):
    with LocalServer(ROUTES) as server:
        second = run(local_source("discourse", server.url, mode="latest"), listed[1].cursors)
    assert second.posts == []
    assert not any(p.startswith("/t/") for p in server.paths())


def test_latest_cursor_is_held_back_when_a_topic_could_not_be_read():
    routes = {**ROUTES, "/t/1180.json": Reply(body=b'{"post_stream": {"posts": [{"id": 90')}
    with LocalServer(routes) as server:
        result = run(local_source("discourse", server.url, mode="latest"), THIS_YEAR)
    assert {p.id.split("/")[0] for p in result.posts} == {"discourse:1187"}
    assert result.stats["source/errors/bad_json"] == 1
    assert result.cursors == THIS_YEAR


def test_api_key_is_sent_from_the_named_environment_variables(monkeypatch):
    monkeypatch.setenv("FORUM_KEY", "k-123")
    monkeypatch.setenv("FORUM_USER", "listener")
    with LocalServer(ROUTES) as server:
        run(local_source("discourse", server.url, queries=["cinesa"], api_key_env="FORUM_KEY",
                         api_username_env="FORUM_USER"))
    assert server.requests[0].headers["Api-Key"] == "k-123"
    assert server.requests[0].headers["Api-Username"] == "listener"


# -- bursts ---------------------------------------------------------------------

@pytest.mark.parametrize("mode, key, asked", [("search", "cinesa", "search.json"), ("latest", "latest", "latest.json")])
def test_a_burst_beyond_max_pages_is_fetched_by_the_next_run_and_then_only_new_posts(mode, key, asked):
    burst = Burst(55)
    with LocalServer(discourse_routes(burst)) as server:
        source = local_source("discourse", server.url, mode=mode, queries=["cinesa"], max_pages=3, max_topics=100)
        first, second, third, new = burst_runs(burst, lambda cursors: run(source, cursors))
    resume = Gap.parse(first.cursors[key]).resume
    assert len(first.posts) == 30 and resume == ("4" if mode == "search" else "3")
    pages = [r.param("page") for r in server.requests if r.path == f"/{asked}"]
    assert pages[3] == resume  # run 2 goes on where run 1 stopped
    assert len(ids(first, second)) == len(set(ids(first, second))) == 55
    assert float(second.cursors[key]) == burst.time(55)
    assert sorted(ids(third)) == sorted(f"discourse:{n}/1" for n in new)


def test_latest_stopped_by_max_topics_reads_the_rest_of_its_page_in_the_next_run():
    burst = Burst(25)
    with LocalServer(discourse_routes(burst)) as server:
        source = local_source("discourse", server.url, mode="latest", max_topics=14)
        first, second, third, new = burst_runs(burst, lambda cursors: run(source, cursors))
    assert len(first.posts) == 14 and Gap.parse(first.cursors["latest"]).resume == "1"  # page 1 again: half read
    assert set(ids(first, second)) == {f"discourse:{n}/1" for n in range(1, 26)}
    assert "discourse:13/1" not in ids(second)  # read by run 1 (the oldest it read, 12, may come twice)
    assert sorted(ids(third)) == sorted(f"discourse:{n}/1" for n in new)


@pytest.mark.parametrize("mode, key", [("search", "cinesa"), ("latest", "latest")])
def test_a_crawl_killed_mid_listing_keeps_the_cursor_of_the_pages_it_delivered(mode, key):
    burst = Burst(55)
    burst.stalled = 3
    with LocalServer(discourse_routes(burst)) as server:
        source = local_source("discourse", server.url, mode=mode, queries=["cinesa"], max_pages=10, max_topics=100)
        killed = run(source, **KILLED)
        burst.stalled = None
        rest = run(source, killed.cursors)
    assert any("killed after" in error for error in killed.errors)
    assert len(killed.posts) == 20 and Gap.parse(killed.cursors[key]).resume == ("3" if mode == "search" else "2")
    assert len(ids(killed, rest)) == len(set(ids(killed, rest))) == 55
    assert float(rest.cursors[key]) == burst.time(55)
