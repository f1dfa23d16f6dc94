"""Scheduled runs against real Scrapy crawls: a poison item, a burst, a backfill longer than the time limit, a one-off crawl.

Each test runs ``SourceRunner`` with the real crawler (a Scrapy subprocess)
against a local search API, into a real SQLite index and state file.
"""

from __future__ import annotations

import json
import time

from click.testing import CliRunner

from listener.cli import main
from listener.deadletter import FILENAME
from listener.index.base import SearchQuery
from listener.pipeline import Pipeline
from scheduler.crawling import CrawlJob, SourceRunner, spiders_crawler
from spiders.progress import Gap
from tests.scheduler.feeds import AlgoliaFeed, hackernews_source
from tests.scheduler.helpers import KeywordAnalyzer, make_config
from tests.spiders.helpers import FAST
from tests.spiders.server import LocalServer

YEAR_3000 = 32503680000


def runner(config, backend, state, counters, timeout: float = 60) -> SourceRunner:
    pipeline = Pipeline(config, backend, KeywordAnalyzer())
    return SourceRunner(config, backend, state, pipeline, spiders_crawler(timeout, FAST), counters)


def indexed(backend) -> set[str]:
    return {doc.id for doc in backend.scan(SearchQuery())}


def dead_letters(config) -> list[dict]:
    path = config.data_path(FILENAME)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def hn_config(tmp_path, feed: AlgoliaFeed, **options):
    return make_config(tmp_path, sources=[{**hackernews_source(feed), "backfill": "30d", **options}])


def test_a_hit_without_an_object_id_is_dead_lettered_and_the_others_indexed(tmp_path, backend, state, counters):
    with AlgoliaFeed(age=3600) as feed:
        good = [f"hn:{feed.publish(f'Cinesa no funciona {n}', f'user{n}')}" for n in range(3)]
        feed.publish_hit({"objectID": None, "created_at_i": int(time.time()) - 60, "author": "x",
                          "story_text": "Cinesa sin id", "_tags": ["story"]})
        config = hn_config(tmp_path, feed)
        first = runner(config, backend, state, counters).run(CrawlJob("hn"))
        second = runner(config, backend, state, counters).run(CrawlJob("hn"))
    assert sorted(doc.id for doc in first.docs) == sorted(good)
    assert [(d["record"]["id"], d["origin"]) for d in dead_letters(config)] == [("hn:None", "hn")]
    assert "no native id" in dead_letters(config)[0]["reason"]
    assert any("hn:None" in error for error in state.runs("hn")[1].errors)  # the first run says what it left out
    assert first.cursors_saved and second.fetched == 0  # the cursor moved past it


def test_a_tweet_with_null_text_or_a_string_count_does_not_freeze_the_source(tmp_path, backend, state, counters,
                                                                            monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    tweets = [
        {"id": "101", "author_id": "1", "created_at": "2026-03-02T10:00:00.000Z", "text": "Cinesa va bien"},
        {"id": "102", "author_id": "1", "created_at": "2026-03-02T10:01:00.000Z", "text": None},
        {"id": "103", "author_id": "1", "created_at": "2026-03-02T10:02:00.000Z", "text": "Cinesa 3D",
         "public_metrics": {"reply_count": "3"}},
        {"id": "104", "author_id": "1", "created_at": "2026-03-02T10:03:00.000Z", "text": "Cinesa otra vez"},
    ]
    payload = {"data": tweets[::-1], "includes": {"users": [{"id": "1", "username": "pepa", "name": "Pepa"}]},
               "meta": {"newest_id": "104", "oldest_id": "101", "result_count": 4}}
    with LocalServer({"/2/tweets/search/recent": payload}) as server:
        config = make_config(tmp_path, sources=[{"kind": "twitter", "name": "x", "base_url": server.url,
                                                 "allow_private": True, "queries": ["cinesa"], "threads": False}])
        outcome = runner(config, backend, state, counters).run(CrawlJob("x"))
    assert sorted(doc.id for doc in outcome.docs) == ["x:101", "x:104"]
    reasons = {d["record"]["id"]: d["reason"] for d in dead_letters(config)}
    assert "'text'" in reasons["x:102"] and "'reply_count'" in reasons["x:103"]
    assert state.load_cursors("x") == {"cinesa": "104"}


def test_a_post_dated_in_the_year_3000_does_not_move_the_cursor_past_now(tmp_path, backend, state, counters):
    with AlgoliaFeed(age=3600) as feed:
        feed.publish("Cinesa hoy", "user1")
        feed.publish_hit({"objectID": "666", "created_at_i": YEAR_3000, "author": "clock", "story_text": "Cinesa futuro",
                          "num_comments": 0, "_tags": ["story"]})
        config = hn_config(tmp_path, feed)
        run = runner(config, backend, state, counters)
        started = time.time()
        run.run(CrawlJob("hn"))
        saved = int(state.load_cursors("hn")["cinesa"])
        feed.age = 0
        time.sleep(1.1)  # cursors count whole seconds
        later = f"hn:{feed.publish('Cinesa mañana', 'user2')}"
        second = run.run(CrawlJob("hn"))
    assert backend.get("hn:666") is not None  # the post itself is kept as it is
    assert started - 60 < saved <= time.time()
    assert later in [doc.id for doc in second.docs]


def test_a_cursor_already_in_the_future_is_read_as_now(tmp_path, backend, state, counters):
    with AlgoliaFeed(age=0) as feed:
        config = hn_config(tmp_path, feed)
        state.save_cursors("hn", {"cinesa": str(YEAR_3000)})
        runner(config, backend, state, counters).run(CrawlJob("hn"))
    assert feed.requests[0][1] <= time.time()


def test_a_burst_larger_than_max_pages_is_fetched_over_the_next_runs(tmp_path, backend, state, counters):
    with AlgoliaFeed(age=3600) as feed:
        burst = [f"hn:{feed.publish(f'Cinesa no funciona {n}', f'user{n}')}" for n in range(55)]
        config = hn_config(tmp_path, feed, hits_per_page=10, max_pages=3)
        run = runner(config, backend, state, counters)
        fetched = [run.run(CrawlJob("hn")).fetched]
        later = [f"hn:{feed.publish(f'Cinesa otra vez {n}', f'late{n}')}" for n in range(2)]
        fetched += [run.run(CrawlJob("hn")).fetched for _ in range(3)]
    assert fetched[0] == 30 and fetched[-1] == 0
    assert indexed(backend) == set(burst + later)


def test_a_backfill_longer_than_the_crawl_time_limit_completes_over_runs(tmp_path, backend, state, counters):
    """Each page takes 0.25 s and threads are fetched too; a run is killed after 4 s, with its cursor told as it went."""
    with AlgoliaFeed(age=7200, delay=0.25) as feed:
        posts = [f"hn:{feed.publish(f'Cinesa no funciona {n}', f'user{n}', num_comments=1)}" for n in range(120)]
        config = hn_config(tmp_path, feed, hits_per_page=10, max_pages=100, threads=True, max_threads=1000)
        run = runner(config, backend, state, counters, timeout=4)
        outcomes = [run.run(CrawlJob("hn"))]
        checkpoint = state.load_cursors("hn").get("cinesa")
        while len(outcomes) < 20 and outcomes[-1].errors:  # a loaded machine needs more runs, never fewer posts
            outcomes.append(run.run(CrawlJob("hn")))
    assert any("killed after 4s" in error for error in outcomes[0].errors)
    assert Gap.parse(checkpoint) is not None and 0 < outcomes[0].indexed < len(posts)
    assert indexed(backend) == set(posts)
    assert outcomes[-1].errors == [] and len(outcomes) > 1


def test_a_one_off_crawl_to_a_file_does_not_move_the_cursors_of_run(tmp_path, backend, state, counters):
    with AlgoliaFeed(age=3600) as feed:
        posts = [f"hn:{feed.publish(f'Cinesa no funciona {n}', f'user{n}')}" for n in range(3)]
        config = hn_config(tmp_path, feed)
        path = tmp_path / "listener.yaml"
        path.write_text(json.dumps(config.model_dump(mode="json", exclude_defaults=True)), encoding="utf-8")
        crawl = ["crawl", "--config", str(path), "--source", "hn", "-o", str(tmp_path / "posts.jsonl")]
        first = CliRunner().invoke(main, crawl)
        again = CliRunner().invoke(main, crawl)
        elsewhere = CliRunner().invoke(main, [*crawl[:-1], str(tmp_path / "other.jsonl")])
        outcome = runner(config, backend, state, counters).run(CrawlJob("hn"))
    assert [first.exit_code, again.exit_code, elsewhere.exit_code] == [0, 0, 0]
    assert "3 new post(s)" in first.output and "0 new post(s)" in again.output and "3 new post(s)" in elsewhere.output
    assert sorted(doc.id for doc in outcome.docs) == sorted(posts)
