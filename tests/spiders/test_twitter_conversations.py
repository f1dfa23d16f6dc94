"""X conversations end to end: recent search and conversation look-ups from a local server in the API's shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from listener.config import Config, EntityConfig
from listener.threads import reply_state
from spiders import recheck
from tests.spiders.helpers import FAST, local_source, run
from tests.spiders.server import LocalServer
from tests.spiders.xapi import SEARCH, Conversation, Tweet, XApi

CONFIG = Config(brand=EntityConfig(name="Cinesa", handles=["@Cinesa"]),
                competitors=[EntityConfig(name="Yelmo", handles=["@yelmocines"])])


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")


def crawl(api: XApi, settings: dict | None = None, **options):
    with LocalServer({SEARCH: api}) as server:
        result = run(local_source("twitter", server.url, queries=["cinesa"], **options), config=CONFIG, **(settings or {}))
    states = {}
    for post in result.posts:
        state = reply_state(post, CONFIG)
        states[_key(api, post.id)] = state.answer_state if state.state != "unknown" else f"unknown:{state.reason}"
    return states, result, server


def _key(api: XApi, post_id: str) -> str:
    native = post_id.split(":", 1)[1]
    return next(f"{n}.{k}" for (n, k), i in api.ids.items() if i == native)


def test_replies_to_replies_answer_the_tweet_they_reply_to():
    api = XApi([Conversation([
        Tweet("ask", "ana", 0, found=True, text="¿La Cinesa Card vale para 3D?"),
        Tweet("answer", "cinesa", 10, "ask"),
        Tweet("again", "ana", 20, "answer", found=True, text="¿Y para IMAX, @cinesa?"),
        Tweet("answer2", "cinesa", 30, "again"),
        Tweet("thanks", "ana", 40, "answer2"),
    ])])
    states, _, _ = crawl(api)
    assert states == {"0.ask": "answered_by_brand", "0.again": "answered_by_brand"}


def test_a_brand_answer_to_an_earlier_tweet_leaves_the_later_one_waiting():
    api = XApi([Conversation([
        Tweet("ask", "ana", 0, found=True),
        Tweet("answer", "cinesa", 10, "ask"),
        Tweet("follow_up", "ana", 20, "ask", found=True, text="@cinesa ¿y lo del reembolso?"),
    ])])
    states, _, _ = crawl(api)
    assert states == {"0.ask": "answered_by_brand", "0.follow_up": "unanswered"}


def test_the_brand_writing_after_the_customers_last_tweet_answers_it():
    api = XApi([Conversation([
        Tweet("ask", "ana", 0, found=True),
        Tweet("nudge", "ana", 20, "ask", found=True, text="@cinesa ¿hola?"),
        Tweet("answer", "cinesa", 30, "ask"),
    ])])
    states, result, _ = crawl(api)
    assert states == {"0.ask": "answered_by_brand", "0.nudge": "answered_by_brand"}
    nudge = next(p for p in result.posts if _key(api, p.id) == "0.nudge")
    assert nudge.later_repliers == ("@cinesa",) and nudge.first_reply_at is not None


def test_a_competitor_answering_and_other_people_replying_are_told_apart():
    api = XApi([
        Conversation([Tweet("ask", "ana", 0, found=True), Tweet("offer", "yelmocines", 5, "ask")]),
        Conversation([Tweet("ask", "pau", 0, found=True), Tweet("chat", "marc", 5, "ask")]),
    ])
    states, _, _ = crawl(api)
    assert states == {"0.ask": "answered_by_competitor", "1.ask": "answered"}


def test_missing_fields_and_suspended_authors_still_give_dated_posts_in_the_right_state():
    api = XApi([Conversation([
        Tweet("ask", "ana", 0, found=True, bare=True),
        Tweet("spam", "gone", 3, "ask"),
        Tweet("answer", "cinesa", 10, "ask", bare=True),
        Tweet("follow_up", "ana", 20, "answer", found=True, bare=True),
    ])], gone_users=("gone",))
    states, result, _ = crawl(api)
    assert states == {"0.ask": "answered_by_brand", "0.follow_up": "unanswered"}
    assert all(p.created_at.year == 2026 for p in result.posts)
    assert result.errors == []


def test_one_look_up_per_conversation_serves_every_tweet_of_it_across_pages():
    tweets = [Tweet("root", "ana", 0, found=True)]
    tweets += [Tweet(f"r{i}", f"fan{i}", 1 + i, "root", found=i % 2 == 0) for i in range(7)]
    api = XApi([Conversation(tweets), Conversation([Tweet("ask", "pau", 0, found=True), Tweet("a", "cinesa", 4, "ask")])],
               page_size=3)
    states, _, server = crawl(api)
    assert len(states) == 6
    assert api.lookups == {api.root_of(0): 1, api.root_of(1): 1}
    assert sum(1 for r in server.requests if r.param("query").startswith("conversation_id:")) == 4  # 7 replies: 3 pages, and 1


def test_a_first_tweet_nobody_replied_to_needs_no_look_up():
    api = XApi([Conversation([Tweet("alone", "ana", 0, found=True)])])
    states, _, _ = crawl(api)
    assert states == {"0.alone": "unanswered"} and api.lookups == {}


def test_what_the_budget_leaves_out_is_unknown_never_unanswered():
    api = XApi([Conversation([Tweet("ask", "ana", 0, found=True), Tweet("x", "pau", 5, "ask")]),
                Conversation([Tweet("ask", "marc", 10, found=True), Tweet("y", "pau", 15, "ask")])])
    states, result, _ = crawl(api, max_threads=1)
    assert sorted(states.values()) == ["answered", "unknown:budget_exhausted"]
    assert result.stats["source/threads/budget_exhausted"] == 1


def test_a_failed_look_up_is_unknown_and_reported():
    api = XApi([Conversation([Tweet("ask", "ana", 0, found=True), Tweet("x", "pau", 5, "ask")])], failing=("ask",))
    states, result, _ = crawl(api, settings={"RETRY_TIMES": 0})
    assert states == {"0.ask": "unknown:lookup_failed"}
    assert any("503" in error for error in result.errors)


def test_with_threads_off_a_tweet_that_needs_a_look_up_is_not_checked():
    api = XApi([Conversation([Tweet("ask", "ana", 0, found=True), Tweet("x", "cinesa", 5, "ask")]),
                Conversation([Tweet("alone", "pau", 0, found=True)])])
    states, _, _ = crawl(api, threads=False)
    assert states == {"0.ask": "unknown:not_checked", "1.alone": "unanswered"}
    assert api.lookups == {}


def test_a_recheck_looks_each_conversation_up_once_whatever_the_budget():
    api = XApi([Conversation([Tweet("ask", "ana", 0, found=True), Tweet("answer", "cinesa", 10, "ask"),
                              Tweet("follow_up", "ana", 20, "answer", found=True)],
                             start=datetime.now(timezone.utc) - timedelta(hours=2))])
    first, result, _ = crawl(api)
    with LocalServer({SEARCH: api}) as server:
        again = recheck(CONFIG, local_source("twitter", server.url, queries=["cinesa"], max_threads=0), result.posts,
                        settings=FAST)
    assert len(again.posts) == 2 and api.lookups == {api.root_of(0): 2}
    assert {reply_state(p, CONFIG).answer_state for p in again.posts} == {"answered_by_brand", "unanswered"}


def test_a_recheck_of_a_post_older_than_recent_search_reaches_keeps_it_as_stored():
    api = XApi([Conversation([Tweet("ask", "ana", 0, found=True), Tweet("answer", "cinesa", 10, "ask")])])
    _, result, _ = crawl(api)
    old = [replace(p, created_at=datetime.now(timezone.utc) - timedelta(days=8)) for p in result.posts]
    with LocalServer({SEARCH: api}) as server:
        again = recheck(CONFIG, local_source("twitter", server.url, queries=["cinesa"]), old, settings=FAST)
    assert again.posts == old and server.requests == []
