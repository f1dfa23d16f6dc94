"""A ``listener run`` killed with SIGKILL mid-crawl leaves no crawl process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spiders.lifeline import alive
from tests.scheduler.feeds import AlgoliaFeed, hackernews_source
from tests.scheduler.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.parametrize("fork", ["1", "0"], ids=["forked-from-the-zygote", "spawned"])
def test_crawls_die_with_a_run_killed_by_sigkill(tmp_path, fork):
    with AlgoliaFeed(age=3600, delay=60) as feed:
        feed.publish("Cinesa no funciona", "user1")
        config = {"brand": {"name": "Cinesa"}, "data_dir": str(tmp_path / "data"),
                  "sources": [hackernews_source(feed, interval=1)]}
        path = tmp_path / "listener.yaml"
        path.write_text(json.dumps(config), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LISTENER_CRAWL_FORK": fork}
        run = subprocess.Popen([sys.executable, "-m", "tests.scheduler.service_main", str(path)],
                               cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: feed.arrived, timeout=30, interval=0.1)  # a crawl is waiting on the source
            below = descendants(run.pid)
        finally:
            run.kill()
            run.wait()
        assert below  # the crawl, and the zygote when there is one
        wait_until(lambda: not any(alive(pid) for pid in below), timeout=5, interval=0.1)
