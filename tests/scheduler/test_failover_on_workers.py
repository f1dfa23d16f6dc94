"""Two scrapyd workers and two ``listener run`` processes, the leader killed mid-cycle.

Both runs share one Elasticsearch index and one data directory and crawl three
sources on two real scrapyd daemons. The first leads; it is killed with SIGKILL
while its crawls are under way (a search waiting at its source). The second
takes the lead over within two lease intervals and crawls every source again
on both workers: every post is indexed once, no source is crawled again within
an interval of the dead leader's last crawl of it, and each crawl either run
started asked its source once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch, helpers

from listener.config import Config
from scheduler.lease import ElasticsearchLease
from tests.scheduler.feeds import AlgoliaFeed, hackernews_source
from tests.scheduler.helpers import QUIET, config_data, leader_pid, log_lines, start_run, stop_runs, wait_until
from tests.scheduler.scrapyd import Scrapyd

pytestmark = [pytest.mark.elasticsearch, pytest.mark.slow]

LEASE = 2.0  # seconds between the leader's renewals; it expires after two
INTERVAL = 2.0  # each source's: no longer than the lease's, so a new leader cannot crawl within it
DELAY = 1.0  # each search waits this long at its source, so that a crawl is caught under way
SLACK = 6.0  # for a loaded machine
SOURCES = ("hn-a", "hn-b", "hn-c")


def run_config(tmp_path: Path, es_url: str, alias: str, feeds: dict[str, AlgoliaFeed], workers) -> dict:
    sources = [{**hackernews_source(feed, interval=INTERVAL), "name": name} for name, feed in feeds.items()]
    return config_data(tmp_path, sources, index={"backend": "elasticsearch", "url": es_url, "index": alias},
                       schedule={"recheck": [], "lease": {"interval": LEASE},
                                 "workers": {"scrapyd": [worker.url for worker in workers], "poll": 0.1}},
                       alerts=QUIET)


def publish(feeds: dict[str, AlgoliaFeed], when: str) -> list[str]:
    return [f"{name}:{feed.publish(f'Cinesa no funciona ({when})', 'ana')}" for name, feed in feeds.items()]


def searching(feeds: dict[str, AlgoliaFeed]) -> str | None:
    """A source whose feed holds a crawl's search, if any."""
    return next((name for name, feed in feeds.items() if feed.arrived > len(feed.requests)), None)


def job_ids(worker: Scrapyd) -> set[str]:
    jobs = worker.jobs()
    return {job["id"] for state in ("pending", "running", "finished") for job in jobs[state]}


def crawl_starts(log: Path, source: str) -> list[float]:
    """When the run logging to ``log`` started crawling ``source``."""
    return [datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            for line in log_lines(log, f'Running job "crawl {source} ')]


def copies(es_url: str, alias: str) -> Counter:
    """How many times each post is in the index, over all its backing indices."""
    with Elasticsearch(es_url) as client:
        client.indices.refresh(index=alias)
        return Counter(hit["_id"] for hit in helpers.scan(client, index=alias, query={"query": {"match_all": {}}},
                                                           _source=False))


def test_the_second_run_crawls_on_the_workers_when_the_leader_is_killed_mid_cycle(tmp_path, es_url, alias, workers):
    with ExitStack() as stack:
        feeds = {name: stack.enter_context(AlgoliaFeed(delay=DELAY)) for name in SOURCES}
        published = publish(feeds, "before the runs")
        config = run_config(tmp_path, es_url, alias, feeds, workers)
        config_path = tmp_path / "listener.yaml"
        config_path.write_text(json.dumps(config))
        lease = ElasticsearchLease.from_config(Config.model_validate(config))
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        jobs = {worker.url: job_ids(worker) for worker in workers}
        first = start_run(config_path, first_log)
        second = None
        try:
            wait_until(lambda: leader_pid(lease) == first.pid, timeout=60, interval=0.1)
            second = start_run(config_path, second_log)
            wait_until(lambda: log_lines(second_log, "waiting to lead"), timeout=60, interval=0.1)
            for name in SOURCES:
                wait_until(lambda name=name: log_lines(first_log, f"crawl {name}: 1 fetched"), timeout=60, interval=0.1)
            assert all(job_ids(worker) - jobs[worker.url] for worker in workers)  # the leader crawls on both
            assert not log_lines(second_log, "crawl hn")  # the other crawls nothing

            caught = wait_until(lambda: searching(feeds), timeout=60, interval=0.05)
            first.kill()
            killed = time.monotonic()
            first.wait()
            published += publish(feeds, "after the kill")
            wait_until(lambda: leader_pid(lease) == second.pid, timeout=60, interval=0.05)
            takeover = time.monotonic() - killed
            print(f"takeover_s={takeover:.1f}")
            assert takeover <= 2 * LEASE + SLACK
            assert len(crawl_starts(first_log, caught)) > len(log_lines(first_log, f"crawl {caught}: "))  # mid-cycle

            jobs = {worker.url: job_ids(worker) for worker in workers}
            for name in SOURCES:
                wait_until(lambda name=name: log_lines(second_log, f"crawl {name}: "), timeout=60, interval=0.1)
            wait_until(lambda: set(published) <= set(copies(es_url, alias)), timeout=60, interval=0.2)
            assert all(job_ids(worker) - jobs[worker.url] for worker in workers)  # the new leader crawls on both
        finally:
            stop_runs(first, second)
        for name, feed in feeds.items():
            dead, new = crawl_starts(first_log, name), crawl_starts(second_log, name)
            assert new[0] - dead[-1] >= INTERVAL, name  # not crawled twice in one interval by the two leaders
            assert len(feed.requests) == len(dead) + len(new), name  # no crawl run twice, none by anyone else
    assert copies(es_url, alias) == Counter(published)  # every post once
