import time
from datetime import datetime, timezone

import pytest

from listener.config import Config, EntityConfig, SectorConfig
from listener.records import parse_time
from listener.threads import reply_state, thread_facts
from spiders.bluesky import BlueskySpider, parse_search, parse_thread
from spiders.progress import Gap
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
THREAD = "/xrpc/app.bsky.feed.getPostThread"
SESSION = "/xrpc/com.atproto.server.createSession"
LUCIA = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbqzk2xq4c2a"
MARTA = "at://did:plc:x2nfsbgq6mexr5tcufqxmkdg/app.bsky.feed.post/3lbqvc3b2ft2o"


def test_post_view_becomes_a_post_with_its_web_url():
    post = parse_search(fixture("bluesky", "search_page1.json"), "bsky").posts[0]
    assert post.id == f"bsky:{LUCIA}"
    assert post.url == "https://bsky.app/profile/lucia-cine.bsky.social/post/3lbqzk2xq4c2a"
    assert post.author == "lucia-cine.bsky.social" and post.author_name == "Lucía ✨"
    assert post.created_at == datetime(2026, 11, 20, 8, 41, 7, 512000, tzinfo=timezone.utc)
    assert post.lang == "es" and post.reply_count == 2
    assert post.thread_id == post.id and post.parent_id is None


def test_reply_record_names_its_parent_and_thread_root():
    reply = parse_search(fixture("bluesky", "search_page1.json"), "bsky").posts[2]
    root = "bsky:at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbqwpw7hak2s"
    assert reply.parent_id == root and reply.thread_id == root


def test_invalid_handle_falls_back_to_the_did():
    post = parse_search(fixture("bluesky", "search_page1.json"), "bsky").posts[2]
    assert post.author == "did:plc:7vs3mbmtpw4oqbnyzbx3bkyd"
    assert post.url == "https://bsky.app/profile/did:plc:7vs3mbmtpw4oqbnyzbx3bkyd/post/3lbqxwhrlxs2k"


def test_empty_display_name_is_none():
    post = parse_search(fixture("bluesky", "search_page1.json"), "bsky").posts[1]
    assert post.author_name is None


def test_cursor_is_the_next_page_until_the_last_page():
    assert parse_search(fixture("bluesky", "search_page1.json"), "bsky").next == "3"
    assert parse_search(fixture("bluesky", "search_page2.json"), "bsky").next is None


def test_post_without_record_is_skipped_and_reported():
    payload = fixture("bluesky", "search_page1.json")
    del payload["posts"][0]["record"]
    page = parse_search(payload, "bsky")
    assert len(page.posts) == 2
    assert LUCIA in page.problems[0]


def test_post_without_author_is_kept_and_reported():
    payload = fixture("bluesky", "search_page1.json")
    payload["posts"][0]["author"] = None
    page = parse_search(payload, "bsky")
    assert page.posts[0].author is None
    assert page.posts[0].url.startswith("https://bsky.app/profile/did:plc:ewvi7nxzyoun6zhxrhs64oiz/")
    assert page.problems == [f"post {LUCIA} has no author"]


def test_error_body_is_reported_as_a_problem():
    page = parse_search({"error": "BadQueryString", "message": "q is required"}, "bsky")
    assert page.posts == [] and page.problems == ["response has no 'posts' list"]


def test_thread_gives_every_reply_its_parent_and_a_blocked_reply_leaves_it_incomplete():
    thread = parse_thread(fixture("bluesky", "thread.json"), "b")
    authors = [(p.author, p.parent_id == thread.posts[0].id) for p in thread.posts]
    assert authors == [("lucia-cine.bsky.social", False), ("cinesa.bsky.social", True),
                       ("lucia-cine.bsky.social", False), ("jordi.bsky.social", True)]
    assert not thread.complete and thread.root == thread.posts[0].id


def test_the_brands_bluesky_account_answers_the_post():
    thread = parse_thread(fixture("bluesky", "thread.json"), "b")
    facts = thread_facts(thread.posts[0], thread.posts, complete=thread.complete)
    brand = EntityConfig(name="Cinesa", handles=["@cinesa"], accounts={"bluesky": ["cinesa.bsky.social"]})
    assert reply_state(facts, Config(brand=brand, sources=[{"kind": "bluesky", "name": "b"}])).answered_by == "brand"
    assert facts.first_reply_at == datetime(2026, 11, 20, 8, 58, tzinfo=timezone.utc)


def test_thread_that_is_not_a_post_is_an_error():
    with pytest.raises(ValueError, match="thread"):
        parse_thread(fixture("bluesky", "thread_not_found.json"), "b")


def test_queries_quote_phrases_and_leave_out_other_networks_handles():
    config = Config(brand=EntityConfig(name="Cinesa", aliases=["Cinesa Diagonal"], handles=["@cinesa"],
                                       hashtags=["#cinesa"]), sector=SectorConfig(keywords=["cine"]))
    spider = BlueskySpider(config, local_source("bluesky", "http://127.0.0.1:1"))
    assert spider.queries() == ["Cinesa", '"Cinesa Diagonal"', "#cinesa", "cine"]


# -- crawls --------------------------------------------------------------------

def _search(request):
    """Answer like the AppView: newest first, ``since`` inclusive, a cursor for page two."""
    payload = fixture("bluesky", "search_page2.json" if request.param("cursor") == "3" else "search_page1.json")
    since = parse_time(request.param("since"))
    until = parse_time(request.param("until")) if request.param("until") else None
    payload["posts"] = [p for p in payload["posts"] if parse_time(p["record"]["createdAt"]) >= since
                        and (until is None or parse_time(p["record"]["createdAt"]) < until)]
    if not payload["posts"]:
        payload.pop("cursor", None)
    return payload


def _thread(request):
    if request.param("uri") == LUCIA:
        return fixture("bluesky", "thread.json")
    return Reply(400, fixture("bluesky", "thread_not_found.json"))


ROUTES = {SEARCH: _search, THREAD: _thread, SESSION: fixture("bluesky", "session.json")}


@pytest.fixture(scope="module")
def crawled():
    """One crawl of query ``cinesa`` with threads, shared by the tests that only read it."""
    with LocalServer(ROUTES) as server:
        result = run(local_source("bluesky", server.url, queries=["cinesa"]))
    return server, result


def test_crawl_follows_the_cursor_to_the_last_page(crawled):
    server, result = crawled
    assert len(result.posts) == 4
    searches = [r for r in server.requests if r.path == SEARCH]
    assert [r.param("cursor") for r in searches] == [None, "3"]
    assert searches[0].param("sort") == "latest" and searches[0].param("q") == "cinesa"


def test_crawl_reads_the_thread_to_learn_who_replied(crawled):
    server, result = crawled
    post = next(p for p in result.posts if p.id == f"bluesky:{LUCIA}")
    assert post.replied_by == ("jordi.bsky.social", "cinesa.bsky.social")  # oldest reply first
    assert post.reply_count == 2  # direct replies
    assert post.first_reply_at == datetime(2026, 11, 20, 8, 58, tzinfo=timezone.utc)
    asked = [r.param("uri") for r in server.requests if r.path == THREAD]
    assert sorted(asked) == sorted([LUCIA, MARTA])  # only posts with replies


def test_failed_thread_still_emits_the_post(crawled):
    _, result = crawled
    post = next(p for p in result.posts if p.id == f"bluesky:{MARTA}")
    assert (post.reply_count, post.replied_by, post.reply_check) == (1, (), "lookup_failed")
    assert result.stats.get("source/errors/http_400") == 1


def test_crawl_reports_the_newest_post_time_as_the_cursor(crawled):
    _, result = crawled
    assert float(result.cursors["cinesa"]) == parse_time("2026-11-20T08:41:07.512Z").timestamp()


def test_rerun_from_the_cursor_fetches_nothing_old(crawled):
    with LocalServer(ROUTES) as server:
        second = run(local_source("bluesky", server.url, queries=["cinesa"]), crawled[1].cursors)
    assert second.posts == []
    assert server.requests[-1].param("since") == "2026-11-20T08:41:07.512000Z"


def _search_all(request):
    """Both recorded pages as one newest-first listing, ``since``/``until`` applied, two posts a page."""
    posts = fixture("bluesky", "search_page1.json")["posts"] + fixture("bluesky", "search_page2.json")["posts"]
    since = parse_time(request.param("since"))
    until = parse_time(request.param("until")) if request.param("until") else None
    posts = sorted((p for p in posts if parse_time(p["record"]["createdAt"]) >= since
                    and (until is None or parse_time(p["record"]["createdAt"]) < until)),
                   key=lambda p: p["record"]["createdAt"], reverse=True)
    start = int(request.param("cursor") or 0)
    page = {"posts": posts[start:start + 2]}
    if start + 2 < len(posts):
        page["cursor"] = str(start + 2)
    return page


def test_a_search_cut_short_by_max_pages_is_read_to_its_end_by_the_next_runs():
    with LocalServer({**ROUTES, SEARCH: _search_all}) as server:
        source = local_source("bluesky", server.url, queries=["cinesa"], max_pages=1, threads=False)
        everything = run(local_source("bluesky", server.url, queries=["cinesa"], threads=False))
        runs = [run(source)]
        while len(runs) < 5 and Gap.parse(runs[-1].cursors.get("cinesa")):
            runs.append(run(source, cursors=runs[-1].cursors))
    assert len(everything.posts) > 2 and len(runs) > 1 and any(r.param("until") for r in server.requests)
    assert {p.id for r in runs for p in r.posts} == {p.id for p in everything.posts}
    assert runs[-1].cursors == everything.cursors


def test_app_password_opens_a_session_and_sends_its_token(monkeypatch):
    monkeypatch.setenv("LISTENER_BLUESKY_HANDLE", "listener-bot.bsky.social")
    monkeypatch.setenv("LISTENER_BLUESKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop")
    with LocalServer(ROUTES) as server:
        run(local_source("bluesky", server.url, queries=["cinesa"], threads=False))
    assert server.requests[0].method == "POST" and server.requests[0].path == SESSION
    search = next(r for r in server.requests if r.path == SEARCH)
    assert search.headers["Authorization"].startswith("Bearer eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.")


def test_refused_session_stops_the_crawl_with_an_error(monkeypatch):
    monkeypatch.setenv("LISTENER_BLUESKY_HANDLE", "listener-bot.bsky.social")
    monkeypatch.setenv("LISTENER_BLUESKY_APP_PASSWORD", "wrong")
    routes = {**ROUTES, SESSION: Reply(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})}
    with LocalServer(routes) as server:
        result = run(local_source("bluesky", server.url, queries=["cinesa"]))
    assert result.posts == [] and server.paths() == [SESSION]
    assert any("HTTP 401" in e for e in result.errors)


def test_spent_rate_limit_holds_the_host_until_its_reset():
    def search(request):
        payload = _search(request)
        if request.param("cursor") is None:
            headers = {"RateLimit-Limit": "3000", "RateLimit-Remaining": "0",
                       "RateLimit-Reset": str(int(time.time()) + 2), "RateLimit-Policy": "3000;w=300"}
            return Reply(body=payload, headers=headers)
        return payload

    with LocalServer({**ROUTES, SEARCH: search}) as server:
        result = run(local_source("bluesky", server.url, queries=["cinesa"], threads=False))
    assert len(result.posts) == 4
    assert result.stats["source/backoff/waits"] == 1


def test_truncated_search_page_is_counted_and_the_other_queries_continue():
    def search(request):
        if request.param("q") == "yelmo":
            return Reply(body=b'{"posts": [{"uri": "at://')
        return _search(request)

    with LocalServer({**ROUTES, SEARCH: search}) as server:
        result = run(local_source("bluesky", server.url, queries=["yelmo", "cinesa"], threads=False))
    assert len(result.posts) == 4
    assert result.stats["source/errors/bad_json"] == 1
    assert "yelmo" not in result.cursors
