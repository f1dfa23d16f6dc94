"""robots.txt as a site owner writes it: Crawl-delay spaces our requests, an error keeps us out."""

from spiders.settings import PROJECT_URL
from tests.spiders.helpers import fixture_bytes, local_source, run
from tests.spiders.server import LocalServer, Reply

SITE = {
    "start_urls": ["/f/cines?page=2"],
    "item_links": "a.thread-title",
    "post": "article.post",
    "fields": {"text": ".post-body", "author": ".username::text", "date": "time::attr(datetime)"},
}
PAGES = {
    "/f/cines?page=2": fixture_bytes("html", "forum_list_2.html").decode(),
    "/t/095-palomitas": fixture_bytes("html", "thread_095.html").decode(),
}
QUICK = {"AUTOTHROTTLE_START_DELAY": 0.01}


def _robots(text: str, status: int = 200) -> Reply:
    return Reply(status, text.encode(), {"Content-Type": "text/plain"})


def _crawl(robots: Reply, **values):
    with LocalServer({"/robots.txt": robots, **PAGES}) as server:
        result = run(local_source("html", server.url, **SITE, **values), **QUICK)
    return server, result


def test_crawl_delay_for_our_product_token_spaces_every_request():
    robots = _robots("User-agent: listener\nCrawl-delay: 0.5\n\nUser-agent: *\nDisallow: /\n")
    server, result = _crawl(robots)
    assert server.paths() == ["/robots.txt", "/f/cines", "/t/095-palomitas"]
    times = [r.at for r in server.requests]
    assert all(later - earlier >= 0.5 for earlier, later in zip(times, times[1:]))
    assert result.stats["source/robots/crawl_delay"] == 0.5
    assert len(result.posts) == 2


def test_request_rate_spaces_requests_too():
    server, _ = _crawl(_robots("User-agent: *\nRequest-rate: 2/1\n"))
    times = [r.at for r in server.requests]
    assert len(times) == 3
    assert all(later - earlier >= 0.5 for earlier, later in zip(times, times[1:]))


def test_robots_txt_answering_5xx_keeps_the_whole_host_out_for_the_run():
    server, result = _crawl(_robots("<h1>down</h1>", 503))
    assert set(server.paths()) == {"/robots.txt"}  # asked again by the retries, nothing else
    assert result.posts == [] and result.cursors == {}
    assert result.stats["source/errors/robots_unavailable"] == 1
    assert "RFC 9309" in result.errors[0]


def test_robots_txt_answering_429_keeps_the_host_out_too():
    server, result = _crawl(_robots("slow down", 429), )
    assert set(server.paths()) == {"/robots.txt"}
    assert result.stats["source/errors/robots_unavailable"] == 1


def test_missing_robots_txt_allows_everything():
    server, result = _crawl(_robots("not found", 404))
    assert server.paths() == ["/robots.txt", "/f/cines", "/t/095-palomitas"]
    assert len(result.posts) == 2 and result.errors == []


def test_robots_txt_is_asked_with_the_user_agent_and_contact():
    server, _ = _crawl(_robots("User-agent: *\nAllow: /\n"), contact="ops@acme.test")
    agents = {r.path: r.headers["User-Agent"] for r in server.requests}
    assert agents["/robots.txt"] == f"listener/0.1 (+{PROJECT_URL}; ops@acme.test)"
    assert set(agents.values()) == {agents["/robots.txt"]}
