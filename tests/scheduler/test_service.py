"""The scheduler in-process, with short intervals and a local source."""

from __future__ import annotations

import threading
import time

import pytest

from scheduler.jobstore import next_run_times
from scheduler.lock import AlreadyRunningError
from scheduler.service import ListenerService, Ticks
from tests.scheduler.helpers import KeywordAnalyzer, LocalSource, StaticRefresher, local_post, make_config, wait_until

QUIET = {"sla": {"enabled": False}, "spikes": {"enabled": False}, "digest": {"enabled": False}}


def service(config, source, **options) -> ListenerService:
    return ListenerService(config, crawler=source, refresher=StaticRefresher(), analyzer=KeywordAnalyzer(),
                           channels=[], ticks=Ticks(heartbeat=0.2), **options)


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, sources=[{"kind": "local", "name": "local", "interval": 0.5}], alerts=QUIET)


def test_a_new_source_is_crawled_at_start(config):
    source = LocalSource([local_post(1, "Cinesa no funciona")])
    listener = service(config, source)
    listener.start()
    try:
        wait_until(lambda: source.calls, timeout=3)
    finally:
        listener.stop()
    assert listener.counters.get("crawl/indexed") == 1


def test_runs_of_a_source_never_overlap(config):
    source = LocalSource(delay=0.8)  # longer than the 0.5 s interval
    listener = service(config, source)
    listener.start()
    try:
        wait_until(lambda: len(source.calls) >= 3, timeout=6)
    finally:
        listener.stop()
    calls = [c for c in source.calls if c.ended]
    assert all(later.started >= earlier.ended for earlier, later in zip(calls, calls[1:]))


def test_a_stopped_scheduler_catches_up_once(tmp_path):
    config = make_config(tmp_path, sources=[{"kind": "local", "name": "local", "interval": 1.5}], alerts=QUIET)
    source = LocalSource()
    first = service(config, source)
    first.start()
    wait_until(lambda: source.calls, timeout=3)
    started = source.calls[0].started
    first.stop()
    time.sleep(max(0.0, started + 5.0 - time.monotonic()))  # runs due at 1.5, 3.0 and 4.5 s are missed
    second = service(config, source)
    second.start()
    time.sleep(max(0.0, started + 5.7 - time.monotonic()))  # the next regular run is at 6.0 s
    second.stop()
    assert len(source.calls) == 2


def test_jobs_are_kept_in_the_state_file_across_restarts(config):
    listener = service(config, LocalSource())
    listener.start()
    listener.stop()
    assert set(next_run_times(config.data_path("state.db"))) == {"crawl:local", "recheck", "housekeeping"}


def test_a_source_removed_from_the_configuration_loses_its_job(tmp_path, config):
    listener = service(config, LocalSource())
    listener.start()
    listener.stop()
    without = make_config(tmp_path, sources=[], alerts=QUIET)
    listener = service(without, LocalSource())
    listener.start()
    listener.stop()
    assert "crawl:local" not in next_run_times(config.data_path("state.db"))


def test_a_changed_interval_reschedules_the_source(tmp_path, config):
    listener = service(config, LocalSource())
    listener.start()
    listener.stop()
    slower = make_config(tmp_path, sources=[{"kind": "local", "name": "local", "interval": 3600}], alerts=QUIET)
    listener = service(slower, LocalSource())
    listener.start()
    try:
        interval = listener.scheduler.get_job("crawl:local").trigger.interval.total_seconds()
    finally:
        listener.stop()
    assert interval == 3600


def test_a_second_scheduler_on_the_same_data_is_refused(config):
    first = service(config, LocalSource())
    first.start()
    try:
        with pytest.raises(AlreadyRunningError, match="already running"):
            service(config, LocalSource()).start()
    finally:
        first.stop()


def test_stopping_lets_a_running_crawl_finish_and_save_its_cursors(config):
    source = LocalSource([local_post(1, "Cinesa no funciona")], delay=0.8)
    listener = service(config, source)
    listener.start()
    wait_until(lambda: source.calls, timeout=3)
    listener.stop()
    from listener.state import StateStore

    with StateStore(config.data_path("state.db")) as state:
        assert "all" in state.load_cursors("local")


def test_run_forever_stops_when_asked(config):
    stop = threading.Event()
    listener = service(config, LocalSource())
    thread = threading.Thread(target=listener.run_forever, args=(stop,))
    thread.start()
    wait_until(lambda: listener.scheduler is not None and listener.scheduler.running, timeout=3)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


def test_run_once_crawls_every_source_and_returns(config):
    source = LocalSource([local_post(1, "Cinesa no funciona")])
    service(config, source).run_once()
    assert len(source.calls) == 1


def test_a_crawl_that_outlasts_its_interval_is_followed_at_once_by_one_more(tmp_path):
    config = make_config(tmp_path, sources=[{"kind": "local", "name": "local", "interval": 1.0}], alerts=QUIET)
    source = LocalSource(delay=1.3)  # the turn at 1.0 s is skipped; the next regular one is at 2.0 s
    listener = service(config, source)
    listener.start()
    try:
        wait_until(lambda: len(source.calls) >= 2, timeout=5)
    finally:
        listener.stop()
    first, second = source.calls[:2]
    assert second.started - first.ended < 0.4
