"""A recheck fetches stored posts' threads again, and nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from listener.config import Config, SourceConfig
from listener.errors import ConfigError
from listener.records import Post
from listener.threads import answer_state
from spiders import recheck
from tests.spiders.helpers import FAST, fixture, local_source
from tests.spiders.server import LocalServer, Reply

CONFIG = Config()
HN_ITEM = "/api/v1/items/41000001"
SE_ANSWERS = "/2.3/questions/79470100/answers"
CONTEXT = "/api/v1/statuses/113900000000000030/context"


def stored(post_id: str, author: str, created_at: datetime = datetime(2025, 3, 2, 9, 0, tzinfo=timezone.utc)) -> Post:
    """A post as the index keeps it after a crawl that saw no reply."""
    source = post_id.split(":", 1)[0]
    return Post(id=post_id, source=source, url="https://example.org/post", author=author, text="¿Cinesa abre hoy?",
                created_at=created_at, reply_count=0)


def run_recheck(source: SourceConfig, posts: list[Post]):
    return recheck(CONFIG, source, posts, settings=FAST, timeout=60)


def test_hackernews_post_comes_back_answered_by_the_brand():
    with LocalServer({HN_ITEM: fixture("hackernews", "item_41000001.json")}) as server:
        result = run_recheck(local_source("hackernews", server.url), [stored("hackernews:41000001", "lucia")])
    [post] = result.posts
    assert "cinesa" in post.replied_by
    assert answer_state(post, CONFIG) == "answered_by_brand"


def test_reddit_post_comes_back_answered_by_the_brand():
    comments = fixture("reddit", "comments_1j1abce.json")
    with LocalServer({"/comments/1j1abce.json": comments}) as server:
        result = run_recheck(local_source("reddit", server.url), [stored("reddit:t3_1j1abce", "tapas_lover")])
    [post] = result.posts
    assert answer_state(post, CONFIG) == "answered_by_brand" and post.reply_ids == ("reddit:t1_mfa0001",)


def test_a_removed_reddit_submission_is_gone():
    comments = fixture("reddit", "comments_1j1abce.json")
    comments[0]["data"]["children"][0]["data"].update(author="[deleted]", selftext="[removed]")
    with LocalServer({"/comments/1j1abce.json": comments}) as server:
        result = run_recheck(local_source("reddit", server.url), [stored("reddit:t3_1j1abce", "tapas_lover")])
    assert (result.posts, result.deleted) == ([], {"reddit:t3_1j1abce": "deleted in its conversation"})


def test_mastodon_post_comes_back_answered_by_the_brand():
    with LocalServer({CONTEXT: fixture("mastodon", "context.json")}) as server:
        result = run_recheck(local_source("mastodon", server.url), [stored("mastodon:113900000000000030", "@laia")])
    [post] = result.posts
    assert "@cinesa@mastodon.cinesa.example" in post.replied_by
    assert answer_state(post, CONFIG) == "answered_by_brand"


def test_one_mastodon_look_up_serves_every_post_of_a_thread():
    root = replace(stored("mastodon:113900000000000030", "@laia@mastodon.social"), thread_id="mastodon:113900000000000030")
    reply = replace(stored("mastodon:113900000000000050", "@laia@mastodon.social"), thread_id=root.id,
                    parent_id="mastodon:113900000000000040", created_at=datetime(2025, 3, 2, 10, 50, tzinfo=timezone.utc))
    with LocalServer({CONTEXT: fixture("mastodon", "context.json")}) as server:
        result = run_recheck(local_source("mastodon", server.url), [root, reply])
    assert server.paths() == [CONTEXT]
    assert {p.id: answer_state(p, CONFIG) for p in result.posts} == {root.id: "answered_by_brand", reply.id: "unanswered"}


def test_a_mastodon_reply_whose_threads_first_post_is_gone_is_looked_up_on_its_own():
    own = "/api/v1/statuses/113900000000000050/context"
    routes = {CONTEXT: Reply(404, {"error": "Record not found"}), own: {"ancestors": [], "descendants": []}}
    reply = replace(stored("mastodon:113900000000000050", "@laia@mastodon.social"),
                    thread_id="mastodon:113900000000000030")
    with LocalServer(routes) as server:
        result = run_recheck(local_source("mastodon", server.url), [reply])
    assert server.paths() == [CONTEXT, own] and result.deleted == {} and result.errors == []
    assert result.posts[0].reply_check == "checked"


def test_mastodon_asks_the_instance_named_in_the_post_id():
    with LocalServer({CONTEXT: fixture("mastodon", "context.json")}) as server:
        host = server.url.removeprefix("http://")
        source = local_source("mastodon", "https://mastodon.example", instances=[server.url])
        result = run_recheck(source, [stored(f"mastodon:{host}:113900000000000030", "@laia")])
    assert server.paths() == [CONTEXT]
    assert answer_state(result.posts[0], CONFIG) == "answered_by_brand"


def test_stackexchange_question_comes_back_answered_by_the_brand():
    with LocalServer({SE_ANSWERS: fixture("stackexchange", "answers.json")}) as server:
        result = run_recheck(local_source("stackexchange", server.url),
                             [stored("stackexchange:stackoverflow:79470100", "dev_ana")])
    [post] = result.posts
    assert answer_state(post, CONFIG) == "answered_by_brand"
    assert server.requests[0].param("site") == "stackoverflow"


def test_stackexchange_asks_for_a_sites_questions_in_one_request():
    both = "/2.3/questions/79470100;79470199/answers"
    with LocalServer({both: fixture("stackexchange", "answers.json")}) as server:
        result = run_recheck(local_source("stackexchange", server.url),
                             [stored("stackexchange:stackoverflow:79470100", "dev_ana"),
                              stored("stackexchange:stackoverflow:79470199", "pere")])
    assert server.paths() == [both]
    assert {p.id: p.reply_count for p in result.posts} == {
        "stackexchange:stackoverflow:79470100": 2, "stackexchange:stackoverflow:79470199": 0}


def test_bluesky_post_comes_back_answered_by_the_brand():
    uri = fixture("bluesky", "thread.json")["thread"]["post"]["uri"]
    routes = {"/xrpc/app.bsky.feed.getPostThread": fixture("bluesky", "thread.json")}
    with LocalServer(routes) as server:
        result = run_recheck(local_source("bluesky", server.url), [stored(f"bluesky:{uri}", "lucia-cine.bsky.social")])
    assert "cinesa.bsky.social" in result.posts[0].replied_by


def test_a_bluesky_post_the_appview_no_longer_finds_is_gone():
    uri = fixture("bluesky", "thread.json")["thread"]["post"]["uri"]
    routes = {"/xrpc/app.bsky.feed.getPostThread": Reply(400, fixture("bluesky", "thread_not_found.json"))}
    with LocalServer(routes) as server:
        result = run_recheck(local_source("bluesky", server.url), [stored(f"bluesky:{uri}", "lucia-cine.bsky.social")])
    assert (result.posts, list(result.deleted), result.errors) == ([], [f"bluesky:{uri}"], [])


def test_twitter_searches_the_conversation_even_with_threads_off(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "token")
    with LocalServer({"/2/tweets/search/recent": fixture("twitter", "conversation.json")}) as server:
        an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)  # inside recent search's seven days
        result = run_recheck(local_source("twitter", server.url),
                             [stored("twitter:1897312345678901234", "@pepa_cine", an_hour_ago)])
    assert server.requests[0].param("query") == "conversation_id:1897312345678901234"
    assert answer_state(result.posts[0], CONFIG) == "answered_by_brand"


def test_discourse_reads_the_posts_topic_again():
    with LocalServer({"/t/1180.json": fixture("discourse", "topic_1180.json")}) as server:
        result = run_recheck(local_source("discourse", server.url), [stored("discourse:1180/1", "nuria")])
    [post] = result.posts
    assert post.replied_by == ("pablo",) and post.reply_count > 0


def test_discourse_posts_of_a_deleted_topic_or_missing_from_their_topic_are_gone():
    routes = {"/t/1180.json": fixture("discourse", "topic_1180.json"), "/t/1190.json": Reply(404, {"errors": []})}
    with LocalServer(routes) as server:
        result = run_recheck(local_source("discourse", server.url),
                             [stored("discourse:1180/1", "nuria"), stored("discourse:1180/9", "pau"),
                              stored("discourse:1190/1", "marc")])
    assert [p.id for p in result.posts] == ["discourse:1180/1"]
    assert sorted(result.deleted) == ["discourse:1180/9", "discourse:1190/1"] and result.errors == []


def test_recheck_asks_only_for_threads_whatever_the_thread_options():
    with LocalServer({HN_ITEM: fixture("hackernews", "item_41000001.json")}) as server:
        result = run_recheck(local_source("hackernews", server.url, threads=False, max_threads=0),
                             [stored("hackernews:41000001", "lucia")])
    assert server.paths() == [HN_ITEM]
    assert (result.posts[0].reply_count, result.posts[0].reply_check) == (2, "checked")  # direct replies


def test_recheck_leaves_cursors_untouched():
    with LocalServer({HN_ITEM: fixture("hackernews", "item_41000001.json")}) as server:
        result = run_recheck(local_source("hackernews", server.url, queries=["cinesa"]),
                             [stored("hackernews:41000001", "lucia")])
    assert result.cursors == {}
    assert not any(path.startswith("/api/v1/search") for path in server.paths())


def test_failed_thread_request_returns_the_post_not_looked_up_and_reports_it():
    post = stored("hackernews:41000001", "lucia")
    with LocalServer({HN_ITEM: Reply(403, {"error": "forbidden"})}) as server:
        result = run_recheck(local_source("hackernews", server.url), [post])
    assert result.posts == [replace(post, reply_check="lookup_failed")] and result.deleted == {}
    assert answer_state(result.posts[0], CONFIG) == "unknown"
    assert result.stats["source/errors/http_403"] == 1
    assert len(result.errors) == 1 and HN_ITEM in result.errors[0]


@pytest.mark.parametrize("status", [404, 410])
def test_a_post_whose_thread_is_gone_comes_back_deleted_not_failed(status):
    with LocalServer({HN_ITEM: Reply(status, {"error": "Not Found"})}) as server:
        result = run_recheck(local_source("hackernews", server.url), [stored("hackernews:41000001", "lucia")])
    assert (result.posts, list(result.deleted), result.errors) == ([], ["hackernews:41000001"], [])
    assert f"HTTP {status}" in result.deleted["hackernews:41000001"]


@pytest.mark.parametrize("kind", ["rss", "html", "appstore"])
def test_kinds_that_cannot_see_replies_are_not_supported(kind):
    assert recheck.supports(SourceConfig(kind=kind, base_url="https://example.org")) is False


@pytest.mark.parametrize("kind", ["hackernews", "reddit", "mastodon", "bluesky", "twitter", "stackexchange", "discourse"])
def test_kinds_that_see_replies_are_supported(kind):
    assert recheck.supports(SourceConfig(kind=kind, base_url="https://example.org")) is True


def test_rechecking_a_kind_without_replies_is_a_config_error():
    with pytest.raises(ConfigError, match="cannot be re-checked"):
        recheck(CONFIG, SourceConfig(kind="rss", base_url="https://example.org"), [stored("rss:1", "x")])
