"""A real scheduler process with real Scrapy crawls: SIGKILL, restart, SIGTERM.

One scenario runs once for the module: the first process is killed with
SIGKILL after its first stored crawl and its first SLA alert, more posts are
published while it is down, a second process takes over and is stopped with
SIGTERM. Posts are published two hours old with a one-minute SLA round the
clock, so every SLA check of both processes sees every post overdue: only the
sent-alert keys keep the second process from alerting again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from listener.index.sqlite import SQLiteBackend
from listener.index.base import SearchQuery
from listener.state import StateStore
from tests.scheduler.feeds import AlgoliaFeed, hackernews_source
from tests.scheduler.helpers import HttpReceiver, wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@dataclass
class Scenario:
    published: list[str]
    indexed: list[str]
    alerted: dict[str, list[str]]
    first_cursor: int
    resumed_from: int
    exit_code: int
    log: str


def start(config_path: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.scheduler.service_main", str(config_path)],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def indexed_ids(data: Path) -> list[str]:
    with SQLiteBackend(data / "listener.db") as backend:
        backend.ensure_schema()
        return [doc.id for doc in backend.search(SearchQuery(limit=1000)).hits]


def saved_cursor(data: Path) -> int | None:
    with StateStore(data / "state.db") as state:
        value = state.load_cursors("hn").get("cinesa")
    return int(value) if value else None


def publish(feed: AlgoliaFeed, numbers) -> list[str]:
    return [f"hn:{feed.publish(f'¿Alguien sabe si Cinesa abre el día {n}?', f'user{n}')}" for n in numbers]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    tmp = tmp_path_factory.mktemp("process")
    data = tmp / "data"
    with AlgoliaFeed(age=7200) as feed, HttpReceiver() as hook:
        config = {
            "brand": {"name": "Cinesa", "aliases": ["cinesa"], "handles": ["@cinesa"]},
            "data_dir": str(data),
            "sources": [hackernews_source(feed, interval=1)],
            "schedule": {"sla_minutes": 1, "service_hours": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                                             "start": "00:00", "end": "00:00"}},
            "alerts": {"channels": [{"kind": "webhook", "url_env": "TEST_HOOK_URL"}],
                       "spikes": {"enabled": False}, "digest": {"enabled": False}},
        }
        config_path = tmp / "listener.yaml"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        env = {**os.environ, "TEST_HOOK_URL": hook.url, "PYTHONPATH": str(ROOT)}

        published = publish(feed, range(5))
        first = start(config_path, env)
        try:
            wait_until(lambda: (data / "state.db").exists() and saved_cursor(data) and kinds(hook) >= {"sla", "prospect"},
                       timeout=30, interval=0.1)
            first_cursor = saved_cursor(data)
            published += publish(feed, range(5, 10))
            time.sleep(0.8)  # the next crawl is likely under way
        finally:
            first.kill()
            first.communicate()
        published += publish(feed, range(10, 15))
        restarted_at = time.time()
        second = start(config_path, env)
        try:
            wait_until(lambda: len(indexed_ids(data)) >= len(published), timeout=30, interval=0.2)
            wait_until(lambda: len(alerted(hook)["sla"]) >= len(published), timeout=10)
            time.sleep(1.5)  # more SLA checks, which must not alert again
        finally:
            second.send_signal(signal.SIGTERM)
            _, log = second.communicate(timeout=60)
        resumed_from = next(since for at, since in feed.requests if at >= restarted_at)
        return Scenario(published, indexed_ids(data), alerted(hook), first_cursor, resumed_from, second.returncode, log)


def kinds(hook: HttpReceiver) -> set[str]:
    return {r.json()["kind"] for r in hook.received}


def alerted(hook: HttpReceiver) -> dict[str, list[str]]:
    """Post ids per alert kind, once per alert that named them."""
    found: dict[str, list[str]] = {"sla": [], "prospect": []}
    for received in list(hook.received):
        alert = received.json()
        found.setdefault(alert["kind"], []).extend(alert["data"].get("post_ids", []))
    return found


def test_a_killed_scheduler_resumes_without_gaps(scenario):
    assert sorted(scenario.indexed) == sorted(scenario.published)


def test_a_killed_scheduler_resumes_from_its_saved_cursor(scenario):
    assert scenario.resumed_from >= scenario.first_cursor


def test_every_overdue_post_is_alerted_once_across_the_kill(scenario):
    assert sorted(scenario.alerted["sla"]) == sorted(scenario.published)


def test_no_prospect_is_alerted_twice_across_the_kill(scenario):
    assert max(Counter(scenario.alerted["prospect"]).values()) == 1


def test_sigterm_stops_the_scheduler_cleanly(scenario):
    assert (scenario.exit_code, "stopped; counters" in scenario.log) == (0, True)
