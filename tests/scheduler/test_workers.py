"""Crawls on real scrapyd daemons (on loopback), through the whole pipeline into SQLite."""

from __future__ import annotations

import os
import time

import pytest

from listener.index.base import SearchQuery
from listener.index.sqlite import SQLiteBackend
from listener.state import StateStore
from scheduler.service import ListenerService
from scheduler.workers import ScrapydCrawler
from tests.scheduler.feeds import AlgoliaFeed, hackernews_source
from tests.scheduler.helpers import QUIET, KeywordAnalyzer, make_config
from tests.scheduler.scrapyd import free_port
from tests.scheduler.service_main import FAST

pytestmark = pytest.mark.slow


def run_once(config):
    listener = ListenerService(config, crawler=ScrapydCrawler.from_config(config, settings=FAST),
                               analyzer=KeywordAnalyzer(), channels=[])
    return listener.run_once()


def on_workers(tmp_path, sources, workers, **options):
    return make_config(tmp_path, sources=sources, alerts=QUIET,
                       schedule={"recheck": [], "workers": {"scrapyd": workers, "poll": 0.1, **options}})


def indexed(config) -> list[str]:
    with SQLiteBackend(config.data_path("listener.db")) as backend:
        return sorted(doc.id for doc in backend.search(SearchQuery(limit=100)).hits)


def cursors(config, source: str) -> dict:
    with StateStore(config.data_path("state.db")) as state:
        return state.load_cursors(source)


def test_a_crawl_on_scrapyd_is_indexed_and_its_cursor_saved(tmp_path, workers):
    # A minute old: three posts a second apart from now would end in the future, where cursors are capped.
    with AlgoliaFeed(age=60) as feed:
        ids = [f"hn:{feed.publish(f'¿Alguien sabe si Cinesa abre el día {n}?', f'user{n}')}" for n in range(3)]
        config = on_workers(tmp_path, [hackernews_source(feed)], [workers[0].url])
        assert run_once(config) == []
        assert indexed(config) == sorted(ids)
        assert cursors(config, "hn")["cinesa"] == str(max(hit["created_at_i"] for hit in feed.hits))
        # The next run starts from the saved cursor: nothing new, nothing fetched again.
        run_once(config)
        assert feed.requests[-1][1] == int(cursors(config, "hn")["cinesa"])


def test_two_workers_share_two_sources(tmp_path, workers):
    one, two = workers
    before = {worker.url: len(worker.jobs()["finished"]) for worker in workers}
    with AlgoliaFeed() as cinesa, AlgoliaFeed() as yelmo:
        cinesa.publish("Cinesa no funciona", "ana")
        yelmo.publish("¿Yelmo abre hoy?", "bea")
        sources = [{**hackernews_source(cinesa), "name": "hn-cinesa"},
                   {**hackernews_source(yelmo), "name": "hn-yelmo", "queries": ["yelmo"]}]
        config = on_workers(tmp_path, sources, [one.url, two.url])
        assert run_once(config) == []
        assert indexed(config) == ["hn-cinesa:1000", "hn-yelmo:1000"]
    ran = {worker.url: len(worker.jobs()["finished"]) - before[worker.url] for worker in workers}
    assert ran == {one.url: 1, two.url: 1}


def test_an_unreachable_worker_is_passed_over(tmp_path, workers):
    with AlgoliaFeed() as feed:
        feed.publish("Cinesa no funciona", "ana")
        config = on_workers(tmp_path, [hackernews_source(feed)], [f"http://127.0.0.1:{free_port()}", workers[1].url])
        assert run_once(config) == []
        assert indexed(config) == ["hn:1000"]


def test_a_source_fails_with_the_reason_when_no_worker_answers(tmp_path):
    with AlgoliaFeed() as feed:
        feed.publish("Cinesa no funciona", "ana")
        dead = f"http://127.0.0.1:{free_port()}"
        config = on_workers(tmp_path, [hackernews_source(feed)], [dead])
        [failed] = run_once(config)
    assert failed.job.name == "hn"
    assert "no crawl worker took the crawl of hn" in failed.errors[0] and dead in failed.errors[0]
    assert cursors(config, "hn") == {}


def test_a_crawl_past_its_timeout_is_cancelled_and_its_cursor_kept(tmp_path, workers):
    with AlgoliaFeed(delay=5) as feed:
        feed.publish("Cinesa no funciona", "ana")
        config = on_workers(tmp_path, [hackernews_source(feed)], [workers[0].url], timeout=0.5)
        [failed] = run_once(config)
    assert any("cancelled after 0.5s" in error for error in failed.errors)
    assert cursors(config, "hn") == {}
    assert workers[0].jobs()["running"] == []  # the crawl was stopped, not left running


def test_a_worker_address_without_its_scheme_is_refused_naming_it():
    from listener.config import parse_config
    from listener.errors import ConfigError

    with pytest.raises(ConfigError, match=r"schedule\.workers\.scrapyd.*http://crawler1:6800.*'crawler1:6800'"):
        parse_config("schedule:\n  workers:\n    scrapyd: [crawler1:6800]\n", "listener.yaml")


def test_housekeeping_removes_the_events_files_a_stopped_run_left_and_keeps_those_of_crawls_under_way(tmp_path):
    config = on_workers(tmp_path, [], ["http://127.0.0.1:1"], timeout=60)
    crawler = ScrapydCrawler.from_config(config, settings=FAST)
    crawler.events_dir.mkdir(parents=True)
    left, current = crawler.events_dir / "left.jsonl", crawler.events_dir / "current.jsonl"
    for events in (left, current):
        events.write_text('{"post": {"text": "Cinesa no funciona"}}\n')
    an_hour_ago = time.time() - 3600
    os.utime(left, (an_hour_ago, an_hour_ago))
    ListenerService(config, crawler=crawler, analyzer=KeywordAnalyzer(), channels=[]).run_once()  # housekeeping included
    assert not left.exists()
    assert current.exists()
