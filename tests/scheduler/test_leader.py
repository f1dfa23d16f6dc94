"""One leading ``listener run`` across machines: the lease in a real Elasticsearch node.

The process test runs two real ``listener run`` processes on one index and one
data directory (as two machines on shared storage would), with a two-second
lease: the first leads, the second waits and crawls nothing; killed with
SIGKILL, the first leaves the lease unrenewed and the second takes over and
crawls on from the saved cursor.
"""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from listener.config import Config
from scheduler import commands
from scheduler.lease import ElasticsearchLease, lease_index
from scheduler.lock import AlreadyRunningError
from tests.scheduler.feeds import AlgoliaFeed, hackernews_source
from tests.scheduler.helpers import QUIET, leader_pid, log_lines, start_run, stop_runs, wait_until

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def leases(es_url, alias):
    made = []

    def lease(interval: float = 2.0) -> ElasticsearchLease:
        made.append(ElasticsearchLease(Elasticsearch(es_url), lease_index(alias), interval))
        return made[-1]

    yield lease
    for lease_ in made:
        lease_.release()


def renewals(lease: ElasticsearchLease) -> int:
    return lease.client.get(index=lease.index, id="leader")["_seq_no"]


def test_a_second_run_cannot_lead_while_the_first_does(leases):
    first, second = leases(), leases()
    first.acquire()
    with pytest.raises(AlreadyRunningError, match=rf"already running on .* \(pid {os.getpid()}, since "):
        second.acquire()


def test_a_waiting_run_does_not_lead_while_the_leader_renews_and_takes_over_once_it_stops(leases):
    first, second = leases(), leases()
    first.acquire()
    stop, led = threading.Event(), threading.Event()
    waiter = threading.Thread(target=lambda: second.wait(stop) and led.set(), daemon=True)
    waiter.start()
    try:
        start = renewals(first)
        wait_until(lambda: renewals(first) >= start + 4, timeout=60)  # two TTLs of renewals
        assert not led.is_set()
        first._stop.set()  # the leader dies: no more renewals, no release
        assert led.wait(60)
        assert second.held
        assert second.leader()["token"] == second.me["token"]
    finally:
        stop.set()
        waiter.join()


def test_a_leader_whose_lease_was_taken_over_knows_it_lost(leases):
    first, second = leases(), leases()
    first.acquire()
    first._stop.set()  # stalled: its renewals stop
    first._renewer.join()
    assert second.wait(threading.Event())
    first._stop.clear()
    lost = []
    first.on_lost = lost.append
    first._renewer = threading.Thread(target=first._keep, daemon=True)
    first._renewer.start()  # it wakes up and tries to renew
    assert first.lost.wait(60)
    assert lost == ["another listener run has taken the lead over"]
    assert second.leader()["token"] == second.me["token"]


def test_a_leader_that_could_not_renew_leads_again_when_nobody_took_over(leases):
    lease = leases()
    lease.acquire()
    lease._stop.set()
    lease._renewer.join()
    lease.lost.set()  # as after renewals that failed for one and a half intervals
    assert lease.wait(threading.Event())
    assert lease.held and lease.leader()["token"] == lease.me["token"]


def test_a_released_lease_is_taken_at_once(leases):
    first, second = leases(interval=60), leases(interval=60)
    first.acquire()
    first.release()
    second.acquire()  # no waiting out a 120 s TTL
    assert second.leader()["pid"] == os.getpid()


def test_status_shows_the_leader(tmp_path, es_url, alias, leases):
    lease = leases()
    lease.acquire()
    path = tmp_path / "listener.yaml"
    path.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "sources": [],
                                "index": {"backend": "elasticsearch", "url": es_url, "index": alias}}))
    result = CliRunner().invoke(commands.status, ["--config", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Leader: {lease.me['host']} (pid {os.getpid()}) since " in result.output


# -- two real `listener run` processes ----------------------------------------------


@pytest.mark.slow
def test_a_second_run_takes_over_when_the_leader_is_killed(tmp_path, es_url, alias):
    with AlgoliaFeed() as feed:
        config = {"brand": {"name": "Cinesa", "aliases": ["cinesa"], "handles": ["@cinesa"]},
                  "data_dir": str(tmp_path / "data"), "sources": [hackernews_source(feed, interval=1), {**hackernews_source(feed, interval=1), "name": "hn2"}],
                  "index": {"backend": "elasticsearch", "url": es_url, "index": alias},
                  "schedule": {"recheck": [], "lease": {"interval": 2}},
                  "alerts": QUIET}
        config_path = tmp_path / "listener.yaml"
        config_path.write_text(json.dumps(config))
        lease = ElasticsearchLease.from_config(Config.model_validate(config))
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        first = start_run(config_path, first_log)
        second = None
        try:
            wait_until(lambda: leader_pid(lease) == first.pid, timeout=60, interval=0.1)
            feed.publish("Cinesa no funciona", "ana")
            second = start_run(config_path, second_log)
            wait_until(lambda: log_lines(second_log, "waiting to lead"), timeout=60, interval=0.1)
            seen = len(log_lines(first_log, "crawl hn"))
            wait_until(lambda: len(log_lines(first_log, "crawl hn")) >= seen + 6, timeout=60, interval=0.1)
            assert not log_lines(second_log, "crawl hn")  # while the leader lives, the other crawls nothing
            first.send_signal(signal.SIGKILL)
            first.wait()
            feed.publish("¿Cinesa abre hoy?", "bea")
            asked = len(feed.requests)
            wait_until(lambda: log_lines(second_log, "took the lead over"), timeout=60, interval=0.1)
            for source in ("hn", "hn2"):  # every source, crawled on by the new leader
                wait_until(lambda source=source: log_lines(second_log, f"crawl {source}: 1 fetched"), timeout=60, interval=0.1)
            assert leader_pid(lease) == second.pid
            # It crawls on from the cursor the first one saved: only the new post is fetched.
            assert [since for _, since in feed.requests[asked:]][0] >= feed.hits[0]["created_at_i"]
        finally:
            stop_runs(first, second)
        assert second.returncode == 0
        assert lease.leader() is None  # a run that stops gracefully gives the lease up
