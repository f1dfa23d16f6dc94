from datetime import datetime, timezone

import pytest
from scrapy.http import HtmlResponse

from listener.config import Config, EntityConfig
from listener.errors import ConfigError
from spiders.html import HTMLOptions, HTMLSpider, parse_item, parse_list
from spiders.progress import Gap
from tests.spiders.bursts import HTML_FORUM, KILLED, Burst, burst_runs, html_routes, ids
from tests.spiders.helpers import fixture_bytes, local_source, run
from tests.spiders.server import LocalServer, Reply

FORUM = {
    "start_urls": ["/f/cines"],
    "item_links": "a.thread-title",
    "next_page": "a[rel=next]",
    "post": "article.post",
    "fields": {"text": ".post-body", "author": ".username::text", "date": "time::attr(datetime)",
               "title": "h1.thread-title::text"},
}
OPTIONS = HTMLOptions(**FORUM)
THREAD = "https://foro.example/t/101-cinesa-la-maquinista-sonido"


def _page(name: str, url: str = THREAD) -> HtmlResponse:
    return HtmlResponse(url, body=fixture_bytes("html", name), encoding="utf-8")


def _posts(name: str, url: str = THREAD, options: HTMLOptions = OPTIONS):
    return parse_item(_page(name, url), "foro", options).posts


def test_list_page_gives_absolute_item_links_and_the_next_page():
    links, following = parse_list(_page("forum_list.html", "https://foro.example/f/cines"),
                                  OPTIONS.item_links, OPTIONS.next_page)
    assert links[:2] == ["https://foro.example/t/101-cinesa-la-maquinista-sonido",
                         "https://foro.example/t/102-tarjeta-unlimited"]
    assert following == "https://foro.example/f/cines?page=2"


def test_last_list_page_has_no_next():
    _, following = parse_list(_page("forum_list_2.html"), OPTIONS.item_links, OPTIONS.next_page)
    assert following is None


def test_selected_post_has_author_utc_date_and_its_anchor():
    first = _posts("thread_101.html")[0]
    assert first.id == f"foro:{THREAD}#post-5501"
    assert first.url == f"{THREAD}#post-5501"
    assert first.author == "cinefilo_bcn"
    assert first.created_at == datetime(2026, 11, 20, 8, 14, tzinfo=timezone.utc)
    assert first.text.startswith("Ayer en la sala 7 de Cinesa La Maquinista el sonido se cortó tres veces.\n¿Alguien más?")


def test_page_title_goes_to_the_first_post_only():
    posts = _posts("thread_101.html")
    assert posts[0].title == "Cinesa La Maquinista: el sonido de la sala 7"
    assert posts[1].title is None


def test_later_posts_on_a_thread_page_reply_to_the_first():
    first, answer, other = _posts("thread_101.html")
    assert answer.parent_id == other.parent_id == first.id
    assert answer.thread_id == first.thread_id == first.id
    assert first.reply_count == 2 and first.replied_by == ("cinesa_oficial", "marc")
    assert first.first_reply_at == datetime(2026, 11, 20, 9, 2, tzinfo=timezone.utc)


def test_unthreaded_pages_keep_posts_independent():
    options = HTMLOptions(**{**FORUM, "threaded": False})
    posts = _posts("thread_101.html", options=options)
    assert {p.parent_id for p in posts} == {None} and {p.reply_count for p in posts} == {None}


def test_post_without_a_date_is_skipped_and_reported():
    body = fixture_bytes("html", "thread_101.html").replace(b'<time datetime="2026-11-20T10:02:00+01:00">', b"<time>")
    page = parse_item(HtmlResponse(THREAD, body=body, encoding="utf-8"), "foro", OPTIONS)
    assert [p.author for p in page.posts] == ["cinefilo_bcn", "marc"]
    assert page.problems == [f"post 2 on {THREAD}: no date at 'time::attr(datetime)'"]


def test_xpath_selectors_work_like_css_ones():
    fields = {"text": ".//div[@class='post-body']", "author": ".//a[@class='username']/text()",
              "date": ".//time/@datetime"}
    options = HTMLOptions(**{**FORUM, "post": "//article[@class='post']", "fields": fields})
    assert [p.author for p in _posts("thread_101.html", options=options)] == ["cinefilo_bcn", "cinesa_oficial", "marc"]


def test_local_dates_are_read_in_the_configured_time_zone():
    body = b'<div class="r"><p>Muy bien</p><span class="d">20/11/2026 10:30</span></div>'
    options = HTMLOptions(start_urls=["/"], post="div.r", threaded=False, date_format="%d/%m/%Y %H:%M",
                          timezone="Europe/Madrid", fields={"text": "p", "date": ".d::text"})
    post = parse_item(HtmlResponse("https://x.example/", body=body), "x", options).posts[0]
    assert post.created_at == datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def test_structured_data_is_preferred_to_selectors():
    posts = _posts("discussion_jsonld.html", "https://comunidad.example/hilo/8842")
    assert posts[0].id == "foro:https://comunidad.example/hilo/8842"
    assert posts[0].title == "¿Qué cine tiene mejor pantalla en Madrid?"
    assert posts[0].text.startswith("Dudo entre el iSense de Cinesa Príncipe Pío")


def test_discussion_comments_become_replies_in_the_thread():
    first, diego, irene, other = _posts("discussion_jsonld.html", "https://comunidad.example/hilo/8842")
    assert first.replied_by == ("Diego", "yelmo_fan") and first.reply_count == 3
    assert irene.parent_id == diego.id and irene.thread_id == first.id
    assert diego.replied_by == ("Irene",)


def test_qa_page_microdata_gives_the_question_and_its_answers():
    question, accepted, suggested = _posts("question_microdata.html", "https://preguntas.example/preguntas/5531")
    assert question.title == "¿Se pueden cambiar entradas de Cinesa para otra sesión?"
    assert question.author == "quique" and question.reply_count == 2
    assert question.replied_by == ("CinesaAyuda", "lola")
    assert accepted.url == "https://preguntas.example/preguntas/5531#respuesta-77"
    assert accepted.text == "Sí, desde la app hasta 2 horas antes de la sesión, en Mis entradas."


def test_reviews_inside_a_graph_carry_their_rating_in_the_title():
    first, second = _posts("reviews_jsonld.html", "https://opiniones.example/cinesa-diagonal-mar")
    assert first.title == "Buena sala, precios altos (4/5)"
    assert first.created_at == datetime(2026, 11, 18, tzinfo=timezone.utc)
    assert second.title == "Rating 1/5" and second.author == "Carmen"


def test_reviews_without_ids_get_one_each():
    body = b"""<script type="application/ld+json">[
      {"@type": "Review", "url": "https://r.example/cine", "reviewBody": "Bien", "datePublished": "2026-11-18"},
      {"@type": "Review", "url": "https://r.example/cine", "reviewBody": "Mal", "datePublished": "2026-11-19"}]</script>"""
    page = parse_item(HtmlResponse("https://r.example/cine", body=body), "r", OPTIONS)
    assert [p.id for p in page.posts] == ["r:https://r.example/cine", "r:https://r.example/cine#1"]


def test_review_reply_state_stays_unknown():
    posts = _posts("reviews_jsonld.html", "https://opiniones.example/cinesa-diagonal-mar")
    assert {p.reply_count for p in posts} == {None}


def test_broken_json_ld_is_reported_and_selectors_take_over():
    body = b'<script type="application/ld+json">{"@type": "Review",</script>' + fixture_bytes("html", "thread_102.html")
    page = parse_item(HtmlResponse(THREAD, body=body, encoding="utf-8"), "foro", OPTIONS)
    assert [p.author for p in page.posts] == ["ana_p"]
    assert page.problems[0].startswith("JSON-LD block is not valid JSON")


@pytest.mark.parametrize("options, message", [
    ({"start_urls": ["/"], "post": "article"}, "post and fields go together"),
    ({"item_links": "a"}, "give start_urls or search_url"),
    ({"start_urls": ["/"], "search_url": "/buscar"}, "needs a {query} placeholder"),
    ({"start_urls": ["/"], "timezone": "Madrid"}, "IANA time zone"),
    ({"start_urls": ["/"], "post": "p", "fields": {"text": "p", "date": "t", "body": "x"}}, "unknown option 'fields.body'"),
])
def test_incomplete_site_description_is_a_config_error(options, message):
    with pytest.raises(ConfigError, match=message):
        HTMLSpider(Config(), local_source("html", "http://127.0.0.1:1", **options))


def test_relative_list_page_without_base_url_is_reported_and_nothing_is_fetched():
    result = run(local_source("html", "", **FORUM))
    assert result.posts == []
    assert result.errors == ["html: config: '/f/cines' is relative: give an absolute URL or set base_url"]


def test_list_pages_are_paths_under_a_base_url_with_a_path():
    spider = HTMLSpider(Config(), local_source("html", "http://127.0.0.1:1/foro/", **FORUM))
    assert spider.list_urls() == ["http://127.0.0.1:1/foro/f/cines"]


# -- crawls --------------------------------------------------------------------

def _html(name: str) -> str:
    return fixture_bytes("html", name).decode()


ROUTES = {
    "/robots.txt": Reply(body=fixture_bytes("html", "robots.txt"), headers={"Content-Type": "text/plain"}),
    "/f/cines": _html("forum_list.html"),
    "/f/cines?page=2": _html("forum_list_2.html"),
    "/t/101-cinesa-la-maquinista-sonido": _html("thread_101.html"),
    "/t/102-tarjeta-unlimited": _html("thread_102.html"),
    "/t/095-palomitas": _html("thread_095.html"),
    "/privado/103-moderacion": _html("thread_102.html"),
}
QUICK = {"AUTOTHROTTLE_START_DELAY": 0.01}


@pytest.fixture(scope="module")
def crawled():
    with LocalServer(ROUTES) as server:
        result = run(local_source("html", server.url, **FORUM), **QUICK)
    return server, result


def test_crawl_follows_list_pages_and_item_links(crawled):
    server, result = crawled
    assert len(result.posts) == 6
    assert {p.author for p in result.posts} >= {"cinefilo_bcn", "ana_p", "ruben"}
    assert "/t/095-palomitas" in server.paths()
    assert result.errors == []


def test_crawl_obeys_robots_txt(crawled):
    server, result = crawled
    assert server.paths()[0] == "/robots.txt"
    assert "/privado/103-moderacion" not in server.paths()
    assert result.stats["robotstxt/forbidden"] == 1


def test_crawl_reports_the_newest_post_time_as_the_site_cursor(crawled):
    _, result = crawled
    assert float(result.cursors["posts"]) == datetime(2026, 11, 20, 9, 40, tzinfo=timezone.utc).timestamp()


def test_rerun_from_the_cursor_fetches_nothing_old(crawled):
    with LocalServer(ROUTES) as server:
        second = run(local_source("html", server.url, **FORUM), crawled[1].cursors, **QUICK)
    assert second.posts == []


def test_failed_item_page_is_counted_the_rest_continues_and_the_cursor_waits():
    routes = {**ROUTES, "/t/102-tarjeta-unlimited": Reply(404, "<h1>No existe</h1>")}
    with LocalServer(routes) as server:
        result = run(local_source("html", server.url, **FORUM), **QUICK)
    assert len(result.posts) == 5
    assert result.stats["source/errors/http_404"] == 1
    assert "posts" not in result.cursors


def test_a_json_answer_where_a_page_was_expected_is_counted():
    routes = {**ROUTES, "/t/095-palomitas": {"error": "maintenance"}}
    with LocalServer(routes) as server:
        result = run(local_source("html", server.url, **FORUM), **QUICK)
    assert result.stats["source/errors/not_html"] == 1
    assert len(result.posts) == 4


def test_search_url_lists_pages_for_each_query():
    config = Config(brand=EntityConfig(name="Cinesa", aliases=["Cinesa Diagonal"]))
    options = {**FORUM, "start_urls": [], "search_url": "/buscar?q={query}", "next_page": None}
    routes = {**ROUTES, "/buscar": _html("forum_list_2.html")}
    with LocalServer(routes) as server:
        result = run(local_source("html", server.url, **options), config=config, **QUICK)
    assert [r.param("q") for r in server.requests if r.path == "/buscar"] == ["Cinesa", "Cinesa Diagonal"]
    assert len(result.posts) == 2


def test_links_to_other_sites_are_not_followed():
    listing = _html("forum_list_2.html").replace("/t/095-palomitas", "https://tracker.example/t/095-palomitas")
    with LocalServer({**ROUTES, "/f/cines?page=2": listing}) as server:
        result = run(local_source("html", server.url, **FORUM), **QUICK)
    assert result.stats["source/offsite"] == 1
    assert len(result.posts) == 4 and result.errors == []


def test_max_items_caps_the_item_pages_fetched():
    with LocalServer(ROUTES) as server:
        result = run(local_source("html", server.url, **FORUM, max_items=1), **QUICK)
    assert [p for p in server.paths() if p.startswith("/t/")] == ["/t/101-cinesa-la-maquinista-sonido"]
    assert result.stats["source/truncated"] >= 1


# -- bursts ---------------------------------------------------------------------

def test_a_burst_beyond_max_pages_is_fetched_by_the_next_run_and_then_only_new_posts():
    burst = Burst(55)
    with LocalServer(html_routes(burst)) as server:
        source = local_source("html", server.url, **HTML_FORUM, max_pages=3)
        first, second, third, new = burst_runs(burst, lambda cursors: run(source, cursors, **QUICK))
    assert len(first.posts) == 30 and Gap.parse(first.cursors["posts"]).resume == f"{server.url}/f/burst?page=4"
    lists = [r.param("page") for r in server.requests if r.path == "/f/burst"]
    assert lists[:4] == [None, "2", "3", "4"]  # run 2 goes on where run 1 stopped
    assert len(ids(first, second)) == len(set(ids(first, second))) == 55
    assert float(second.cursors["posts"]) == burst.time(55)
    assert sorted(p.author for p in third.posts) == sorted(f"user{n}" for n in new)


def test_a_crawl_killed_mid_listing_keeps_the_cursor_of_the_pages_it_delivered():
    burst = Burst(55)
    burst.stalled = 3
    with LocalServer(html_routes(burst)) as server:
        source = local_source("html", server.url, **HTML_FORUM, max_pages=10)
        killed = run(source, **QUICK, **KILLED)
        burst.stalled = None
        rest = run(source, killed.cursors, **QUICK)
    assert any("killed after" in error for error in killed.errors)
    assert len(killed.posts) == 20 and Gap.parse(killed.cursors["posts"]).resume == f"{server.url}/f/burst?page=3"
    assert len(ids(killed, rest)) == len(set(ids(killed, rest))) == 55
    assert float(rest.cursors["posts"]) == burst.time(55)


def test_each_list_url_of_a_site_keeps_its_own_cursor_and_an_old_site_cursor_carries_over():
    burst = Burst(12)
    options = {**HTML_FORUM, "start_urls": ["/f/burst", "/f/burst?page=2"], "max_pages": 1}
    with LocalServer(html_routes(burst)) as server:
        result = run(local_source("html", server.url, **options), {"posts": str(burst.time(1))}, **QUICK)
    assert Gap.parse(result.cursors[f"posts {server.url}/f/burst"]).resume == f"{server.url}/f/burst?page=2"
    assert float(result.cursors[f"posts {server.url}/f/burst?page=2"]) == burst.time(2)
    assert sorted(p.author for p in result.posts) == sorted(f"user{n}" for n in range(2, 13))  # 1 was fetched


def test_a_gap_whose_list_page_is_gone_is_read_from_the_list_start_and_said():
    burst = Burst(15)
    with LocalServer(html_routes(burst)) as server:
        gap = Gap(str(burst.time(0)), str(burst.time(5)), str(burst.time(15)), f"{server.url}/f/archived?page=2")
        result = run(local_source("html", server.url, **HTML_FORUM), {"posts": gap.value()}, **QUICK)
    assert any("the list page a gap goes on from is gone" in error for error in result.errors)
    assert {p.author for p in result.posts} == {f"user{n}" for n in range(1, 16)}
    assert float(result.cursors["posts"]) == burst.time(15)
