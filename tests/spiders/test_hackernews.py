from datetime import datetime, timezone

from listener.config import Config, EntityConfig, SectorConfig
from listener.threads import reply_state, thread_facts
from spiders.hackernews import parse_search, parse_tree
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply

SEARCH = "/api/v1/search_by_date"


def test_comment_hit_becomes_a_reply_in_its_story():
    posts = parse_search(fixture("hackernews", "search_by_date.json"), "hn").posts
    comment = posts[0]
    assert comment.id == "hn:41000007"
    assert comment.parent_id == "hn:41000001" and comment.thread_id == "hn:41000001"
    assert comment.text == "Has anyone tried the Cinesa subscription? \n\nWorth it & cheap?"
    assert comment.created_at == datetime(2025, 3, 2, 10, 15, tzinfo=timezone.utc)


def test_story_hit_keeps_title_text_and_comment_count():
    story = parse_search(fixture("hackernews", "search_by_date.json"), "hn").posts[1]
    assert story.title.startswith("Ask HN: Cinema subscriptions")
    assert story.text == "Which cinema subscription is best in Spain? Cinesa or Yelmo?"
    assert story.reply_count == 3
    assert story.url == "https://news.ycombinator.com/item?id=41000001"


def test_link_story_without_text_uses_its_url():
    story = parse_search(fixture("hackernews", "search_by_date.json"), "hn").posts[2]
    assert story.text == "https://example.com/cinesa-imax"


def test_next_page_is_given_until_the_last_page():
    payload = fixture("hackernews", "search_by_date.json")
    assert parse_search(payload, "hn").next is None
    assert parse_search({**payload, "nbPages": 3, "page": 1}, "hn").next == 2


def test_hit_without_time_is_skipped_and_reported():
    payload = fixture("hackernews", "search_by_date.json")
    del payload["hits"][0]["created_at_i"]
    page = parse_search(payload, "hn")
    assert [p.id for p in page.posts] == ["hn:41000001", "hn:41000000"]
    assert "41000007" in page.problems[0]


def test_deleted_author_is_kept_as_none():
    payload = fixture("hackernews", "search_by_date.json")
    payload["hits"][0]["author"] = None
    assert parse_search(payload, "hn").posts[0].author is None


def test_item_tree_gives_every_post_with_its_parent_and_time():
    tree = parse_tree(fixture("hackernews", "item_41000001.json"), "hn")
    assert [(p.id, p.author, p.parent_id) for p in tree.posts] == [
        ("hn:41000001", "filmfan", None), ("hn:41000005", "cinesa", "hn:41000001"),
        ("hn:41000006", "filmfan", "hn:41000005"), ("hn:41000007", "moviebuff", "hn:41000001")]
    assert tree.root == "hn:41000001" and tree.posts[1].created_at == datetime(2025, 3, 2, 9, 40, tzinfo=timezone.utc)


def test_a_deleted_comment_leaves_the_tree_and_its_replies_stay():
    payload = fixture("hackernews", "item_41000001.json")
    payload["children"][0].update(author=None, text=None)
    tree = parse_tree(payload, "hn")
    assert "hn:41000005" in tree.deleted and "hn:41000006" in {p.id for p in tree.posts}


def test_the_story_is_answered_by_the_brand_and_the_comment_by_nobody():
    tree = parse_tree(fixture("hackernews", "item_41000001.json"), "hn")
    story, comment = tree.posts[0], tree.posts[3]
    assert reply_state(thread_facts(story, tree.posts), Config()).answered_by == "brand"
    assert reply_state(thread_facts(comment, tree.posts), Config()).state == "unanswered"


def _filtered_search(request):
    """Answer like Algolia: only hits newer than ``created_at_i>N``."""
    payload = fixture("hackernews", "search_by_date.json")
    since = int(request.param("numericFilters").split(">")[1])
    payload["hits"] = [h for h in payload["hits"] if h["created_at_i"] > since]
    return payload


ROUTES = {
    SEARCH: _filtered_search,
    "/api/v1/items/41000001": fixture("hackernews", "item_41000001.json"),
    "/api/v1/items/41000007": fixture("hackernews", "item_41000007.json"),
}


def test_crawl_fetches_threads_to_learn_who_replied():
    with LocalServer(ROUTES) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]))
    story = next(p for p in result.posts if p.id == "hackernews:41000001")
    assert story.replied_by == ("cinesa", "moviebuff")
    assert result.errors == []


def test_story_without_comments_needs_no_thread_request():
    with LocalServer(ROUTES) as server:
        run(local_source("hackernews", server.url, queries=["cinesa"]))
    assert "/api/v1/items/41000000" not in server.paths()


def test_crawl_reports_newest_time_as_the_cursor():
    with LocalServer(ROUTES) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]))
    assert result.cursors == {"cinesa": "1740910500"}


def test_rerun_from_the_cursor_fetches_nothing_old():
    with LocalServer(ROUTES) as server:
        first = run(local_source("hackernews", server.url, queries=["cinesa"]))
        second = run(local_source("hackernews", server.url, queries=["cinesa"]), cursors=first.cursors)
    assert len(first.posts) == 3
    assert second.posts == []
    assert server.requests[-1].param("numericFilters") == "created_at_i>1740910500"


def test_first_run_back_fills_the_configured_window():
    with LocalServer(ROUTES) as server:
        run(local_source("hackernews", server.url, queries=["cinesa"], backfill="1h"))
    since = int(server.requests[0].param("numericFilters").split(">")[1])
    assert abs(since - (datetime.now(timezone.utc).timestamp() - 3600)) < 120


def test_pages_are_followed_until_nb_pages():
    def paged(request):
        payload = fixture("hackernews", "search_by_date.json")
        number = int(request.param("page"))
        payload.update(page=number, nbPages=2, hits=payload["hits"][number:number + 1])
        return payload

    with LocalServer({SEARCH: paged}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"], threads=False))
    assert [r.param("page") for r in server.requests] == ["0", "1"]
    assert len(result.posts) == 2


def test_queries_come_from_names_and_sector_keywords_when_none_are_given():
    config = Config(
        competitors=[EntityConfig(name="Yelmo", aliases=["Yelmo Cines"], handles=["@yelmocines"])],
        sector=SectorConfig(keywords=["cine"]),
    )
    with LocalServer({SEARCH: {"hits": [], "page": 0, "nbPages": 0}}) as server:
        run(local_source("hackernews", server.url), config=config)
    assert sorted(r.param("query") for r in server.requests) == ["Cinesa", "Yelmo", "Yelmo Cines", "cine"]


def test_failed_thread_still_emits_the_story_as_not_looked_up():
    routes = {**ROUTES, "/api/v1/items/41000001": Reply(404, {"error": "not found"})}
    with LocalServer(routes) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]))
    story = next(p for p in result.posts if p.id == "hackernews:41000001")
    assert (story.reply_count, story.replied_by, story.reply_check) == (3, (), "lookup_failed")
    assert result.stats["source/errors/http_404"] == 1


def test_one_look_up_serves_the_story_and_the_comment_found_in_it():
    with LocalServer(ROUTES) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]))
    assert server.paths().count("/api/v1/items/41000001") == 1 and "/api/v1/items/41000007" not in server.paths()
    states = {p.id: reply_state(p, Config()) for p in result.posts}
    assert (states["hackernews:41000001"].answered_by, states["hackernews:41000007"].state) == ("brand", "unanswered")


def test_threads_off_leaves_posts_with_comments_not_looked_up():
    with LocalServer(ROUTES) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"], threads=False))
    story = next(p for p in result.posts if p.id == "hackernews:41000001")
    assert reply_state(story, Config()).reason == "not_checked"
