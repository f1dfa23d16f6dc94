from datetime import datetime, timezone

import pytest

from listener.config import Config, EntityConfig
from listener.errors import ConfigError
from listener.threads import reply_state
from spiders.rss import NotAFeedError, RSSSpider, parse_feed, unwrap
from tests.spiders.helpers import fixture_bytes, local_source, run
from tests.spiders.server import LocalServer, Reply

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
ATOM = {"Content-Type": "application/atom+xml"}


def _posts(name: str):
    return parse_feed(fixture_bytes("rss", name), "news").posts


def test_rss_item_becomes_a_post_with_guid_link_author_and_utc_date():
    post = _posts("news.rss")[0]
    assert post.id == "news:https://carteleradiaria.example/?p=48211"
    assert post.url == "https://carteleradiaria.example/2026/11/cinesa-renueva-salas-barcelona/"
    assert post.author == "Marta Soler"
    assert post.created_at == datetime(2026, 11, 20, 8, 15, tzinfo=timezone.utc)
    assert post.title == "Cinesa renueva sus salas de Barcelona con butacas reclinables"


def test_a_feed_shows_no_replies_so_its_posts_reply_state_is_unknown_for_that_reason():
    assert {reply_state(p, Config()).reason for p in _posts("news.rss")} == {"no_thread_source"}


def test_full_content_is_preferred_to_the_summary_and_scripts_are_dropped():
    text = _posts("news.rss")[0].text
    assert text.startswith("La cadena Cinesa completa la reforma de tres cines en Barcelona.\n")
    assert "Diagonal Mar" in text and "track()" not in text


def test_channel_language_becomes_the_post_language():
    assert {p.lang for p in _posts("news.rss")} == {"es"}


def test_alert_links_are_unwrapped_to_the_article():
    post = _posts("alerts.atom")[0]
    assert post.url == "https://www.elperiodico.example/es/ocio/20261120/cinesa-app-palomitas-123.html"


def test_alert_title_loses_its_highlighting_and_empty_author_is_none():
    post = _posts("alerts.atom")[0]
    assert post.title == "Cinesa estrena su nueva app con compra de palomitas"
    assert post.author is None


def test_atom_entry_without_author_has_the_feed_author():
    assert _posts("blog.atom")[0].author == "Sam Rivera"


def test_list_items_in_content_stay_on_their_own_lines():
    assert _posts("blog.atom")[0].text == "We tried iSense at Cinesa and 4DX at Yelmo.\nSound\nSeats"


def test_entry_without_a_date_is_skipped_and_reported():
    page = parse_feed(fixture_bytes("rss", "blog.atom"), "blog")
    assert [p.title for p in page.posts] == ["Premium screens in Spain, ranked"]
    assert page.problems == ["entry https://booth.example/notes has no date"]


def test_html_error_page_is_not_a_feed():
    with pytest.raises(NotAFeedError):
        parse_feed(fixture_bytes("rss", "error_page.html"), "news")


def test_plain_links_are_left_alone():
    assert unwrap("https://example.org/url-shortener?url=x") == "https://example.org/url-shortener?url=x"


def test_feed_paths_go_under_a_base_url_with_a_path():
    spider = RSSSpider(Config(), local_source("rss", "http://127.0.0.1:1/replay/rss", feeds=["/feed/", "https://x.example/a.xml"]))
    assert spider.feeds() == {"/feed/": "http://127.0.0.1:1/replay/rss/feed/", "https://x.example/a.xml": "https://x.example/a.xml"}


def test_unknown_option_is_rejected_naming_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown option 'feed'.*valid options: feeds"):
        RSSSpider(Config(), local_source("rss", "http://127.0.0.1:1", feed="/x"))


# -- crawls --------------------------------------------------------------------

ROUTES = {
    "/feed/": Reply(body=fixture_bytes("rss", "news.rss"), headers=RSS),
    "/alerts/cinesa": Reply(body=fixture_bytes("rss", "alerts.atom"), headers=ATOM),
}


@pytest.fixture(scope="module")
def crawled():
    with LocalServer(ROUTES) as server:
        return run(local_source("rss", server.url, feeds=["/feed/", "/alerts/cinesa"]))


def test_crawl_reads_every_feed_with_a_cursor_each(crawled):
    result = crawled
    assert len(result.posts) == 5
    assert float(result.cursors["/feed/"]) == datetime(2026, 11, 20, 8, 15, tzinfo=timezone.utc).timestamp()
    assert float(result.cursors["/alerts/cinesa"]) == datetime(2026, 11, 20, 8, 47, 23, tzinfo=timezone.utc).timestamp()


def test_rerun_from_the_cursors_fetches_nothing_old(crawled):
    with LocalServer(ROUTES) as server:
        second = run(local_source("rss", server.url, feeds=["/feed/", "/alerts/cinesa"]), crawled.cursors)
    assert second.posts == [] and second.errors == []


def test_first_run_back_fills_only_the_configured_window():
    cursors = {"/feed/": str(datetime(2026, 11, 19, 0, 0, tzinfo=timezone.utc).timestamp())}
    with LocalServer(ROUTES) as server:
        result = run(local_source("rss", server.url, feeds=["/feed/"]), cursors)
    assert [p.title for p in result.posts] == [
        "Cinesa renueva sus salas de Barcelona con butacas reclinables",
        "Yelmo y Kinépolis suben el precio de la entrada",
    ]


def test_query_placeholder_makes_one_feed_per_query():
    config = Config(brand=EntityConfig(name="Cinesa", aliases=["Cinesa Diagonal"]))
    with LocalServer({"/search": Reply(body=fixture_bytes("rss", "alerts.atom"), headers=ATOM)}) as server:
        result = run(local_source("rss", server.url, feeds=["/search?q={query}"]), config=config)
    assert sorted(r.param("q") for r in server.requests) == ["Cinesa", "Cinesa Diagonal"]  # fetched concurrently
    assert set(result.cursors) == {"/search?q=Cinesa", "/search?q=Cinesa+Diagonal"}


def test_relative_feed_without_base_url_is_reported_and_nothing_is_fetched():
    result = run(local_source("rss", "", feeds=["/feed.xml"]))
    assert result.posts == []
    assert result.errors == ["rss: config: feed '/feed.xml' is relative: give an absolute URL or set base_url"]


def test_html_page_with_status_200_is_counted_and_the_other_feeds_continue():
    routes = {**ROUTES, "/broken": fixture_bytes("rss", "error_page.html").decode()}
    with LocalServer(routes) as server:
        result = run(local_source("rss", server.url, feeds=["/broken", "/feed/"]))
    assert len(result.posts) == 3
    assert result.stats["source/errors/not_feed"] == 1
    assert any("/broken" in e and "not an RSS or Atom feed" in e for e in result.errors)
