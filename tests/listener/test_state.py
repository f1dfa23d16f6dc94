"""The state store: cursors, runs, sent alerts and re-checks survive reopening."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone

import pytest

from listener.config import Config
from listener.state import StateError, StateStore, open_state

T0 = datetime(2026, 3, 6, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "state.db"


@pytest.fixture
def store(path):
    with StateStore(path) as store:
        yield store


def test_cursors_of_a_source_are_read_back_by_query_key(store):
    store.save_cursors("hn", {"cinesa": "100", "yelmo": "200"})
    assert store.load_cursors("hn") == {"cinesa": "100", "yelmo": "200"}


def test_saving_a_cursor_replaces_its_old_value_and_keeps_other_queries(store):
    store.save_cursors("hn", {"cinesa": "100", "yelmo": "200"})
    store.save_cursors("hn", {"cinesa": "150"})
    assert store.load_cursors("hn") == {"cinesa": "150", "yelmo": "200"}


def test_cursors_of_one_source_are_not_seen_by_another(store):
    store.save_cursors("hn", {"cinesa": "100"})
    assert store.load_cursors("reddit") == {}


def test_cursors_survive_reopening_the_file(path):
    with StateStore(path) as first:
        first.save_cursors("hn", {"cinesa": "100"})
    with StateStore(path) as second:
        assert second.load_cursors("hn") == {"cinesa": "100"}


def test_open_state_uses_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("LISTENER_DATA_DIR", str(tmp_path / "data"))
    with open_state(Config()) as store:
        store.save_cursors("hn", {"q": "1"})
    assert (tmp_path / "data" / "state.db").exists()


def test_a_finished_run_records_posts_errors_and_next_run(store):
    run = store.start_run("hn", at=T0)
    store.finish_run(run, posts=7, errors=["hn: HTTP 503"], next_run_at=T0 + timedelta(minutes=5), at=T0 + timedelta(seconds=3))
    last = store.last_run("hn")
    assert (last.started_at, last.finished_at, last.posts, last.errors, last.next_run_at) == (
        T0, T0 + timedelta(seconds=3), 7, ("hn: HTTP 503",), T0 + timedelta(minutes=5)
    )


def test_a_started_run_is_running_until_finished(store):
    store.start_run("hn")
    assert store.last_run("hn").running


def test_last_run_is_the_newest(store):
    store.finish_run(store.start_run("hn"), posts=1)
    store.finish_run(store.start_run("hn"), posts=2)
    assert store.last_run("hn").posts == 2


def test_sources_lists_every_source_with_runs_or_cursors(store):
    store.start_run("hn")
    store.save_cursors("rss", {"feed": "x"})
    assert store.sources() == ["hn", "rss"]


def test_prune_runs_keeps_the_newest_per_source(store):
    for n in range(5):
        store.finish_run(store.start_run("hn"), posts=n)
    store.prune_runs(keep=2)
    assert [r.posts for r in store.runs("hn")] == [4, 3]


def test_an_alert_key_can_be_claimed_once(store):
    assert store.claim_alert("spike:abc", "spike") is True
    assert store.claim_alert("spike:abc", "spike") is False


def test_a_claimed_alert_key_survives_reopening(path):
    with StateStore(path) as first:
        first.claim_alert("sla:hn:1")
    with StateStore(path) as second:
        assert second.alert_sent("sla:hn:1")


def test_a_released_alert_key_can_be_claimed_again(store):
    store.claim_alert("k")
    store.release_alert("k")
    assert store.claim_alert("k") is True


def test_due_rechecks_are_those_due_now_oldest_first(store):
    store.schedule_recheck("hn:2", "hn", 0, T0 - timedelta(minutes=1))
    store.schedule_recheck("hn:1", "hn", 0, T0 - timedelta(minutes=5))
    store.schedule_recheck("hn:3", "hn", 0, T0 + timedelta(minutes=5))
    assert [r.post_id for r in store.due_rechecks(T0)] == ["hn:1", "hn:2"]


def test_scheduling_a_recheck_keeps_an_existing_plan(store):
    store.schedule_recheck("hn:1", "hn", 2, T0)
    assert store.schedule_recheck("hn:1", "hn", 0, T0 + timedelta(hours=1)) is False
    assert store.recheck("hn:1").step == 2


def test_rescheduling_with_replace_moves_the_recheck(store):
    store.schedule_recheck("hn:1", "hn", 0, T0)
    store.schedule_recheck("hn:1", "hn", 1, T0 + timedelta(hours=1), replace=True)
    assert store.recheck("hn:1").due_at == T0 + timedelta(hours=1)


def test_a_dropped_recheck_is_no_longer_due(store):
    store.schedule_recheck("hn:1", "hn", 0, T0)
    store.drop_recheck("hn:1")
    assert store.due_rechecks(T0 + timedelta(days=1)) == []


def test_a_recheck_keeps_the_thread_it_shares_a_look_up_with(store):
    store.schedule_recheck("hn:7", "hn", 0, T0, thread_id="hn:1")
    store.schedule_recheck("hn:7", "hn", 1, T0 + timedelta(hours=1), replace=True)
    assert store.recheck("hn:7").thread_id == "hn:1"


def test_a_post_marked_deleted_is_no_longer_rechecked_nor_planned_again(store):
    store.schedule_recheck("hn:1", "hn", 0, T0)
    store.mark_deleted("hn:1", "hn", "HTTP 404", at=T0)
    assert store.schedule_recheck("hn:1", "hn", 0, T0) is False
    assert (store.due_rechecks(T0 + timedelta(days=1)), store.deleted("hn:1")) == ([], ("HTTP 404", T0))


def test_a_file_that_is_not_sqlite_raises_a_state_error(tmp_path):
    bad = tmp_path / "state.db"
    bad.write_bytes(b"not a database at all, just text" * 100)
    with pytest.raises(StateError, match="cannot open the listener state"):
        StateStore(bad)


def _claim_many(path: str, results) -> None:
    with StateStore(path) as store:
        results.put(sum(store.claim_alert(f"key{n}") for n in range(100)))


def test_several_processes_claim_each_alert_key_exactly_once(path):
    StateStore(path).close()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_claim_many, args=(str(path), results)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sum(results.get(timeout=5) for _ in workers) == 100


def test_alerts_since_lists_the_titles_of_one_kind(store):
    store.claim_alert("spike:1", "spike", title="app caída")
    store.claim_alert("sla:1", "sla", title="late")
    assert [(key, title) for key, _, title in store.alerts_since("spike", T0 - timedelta(days=3650))] == [("spike:1", "app caída")]


def test_pruned_alert_keys_can_be_claimed_again(store):
    store.claim_alert("k")
    store.prune_alerts(datetime.now(timezone.utc) + timedelta(seconds=1))
    assert store.claim_alert("k") is True


def _hold_write_lock(path, seconds: float):
    import sqlite3
    import threading
    import time

    taken = threading.Event()

    def hold():
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        db.execute("COMMIT")
        db.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert taken.wait(5)
    return thread


def test_opening_and_reading_a_current_state_file_writes_nothing(path):
    with StateStore(path) as first:
        first.save_cursors("hn", {"cinesa": "100"})
    holder = _hold_write_lock(path, 3)
    with StateStore(path, busy_timeout=0.5) as reader:  # a write would fail after 0.5 s
        assert reader.load_cursors("hn") == {"cinesa": "100"}
        assert reader.pending_rechecks() == 0
    holder.join()


def test_a_read_only_state_refuses_writes(path):
    StateStore(path).close()
    with StateStore(path, read_only=True) as reader:
        assert reader.sources() == []
        with pytest.raises(StateError, match="opened read-only"):
            reader.save_cursors("hn", {"cinesa": "1"})


def test_a_read_only_open_of_a_missing_state_creates_nothing(tmp_path):
    with pytest.raises(StateError, match="no current listener state"):
        StateStore(tmp_path / "none" / "state.db", read_only=True)
    assert not (tmp_path / "none").exists()


def test_a_state_file_from_before_alert_titles_is_brought_up_to_date(path):
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sent_alerts (key TEXT PRIMARY KEY, kind TEXT NOT NULL, sent_at REAL NOT NULL)")
        db.execute("INSERT INTO sent_alerts VALUES ('old', 'spike', 0)")
    with StateStore(path) as store:
        assert store.alert_sent("old")
        store.claim_alert("new", "spike", title="con título")
        assert [title for _, _, title in store.alerts_since("spike", T0 - timedelta(days=365 * 60))] == [None, "con título"]


def test_a_state_file_from_before_recheck_threads_keeps_its_plans(path):
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE rechecks (post_id TEXT PRIMARY KEY, source TEXT NOT NULL, step INTEGER NOT NULL, "
                   "due_at REAL NOT NULL)")
        db.execute("INSERT INTO rechecks VALUES ('hn:1', 'hn', 2, ?)", (T0.timestamp(),))
        db.execute("PRAGMA user_version = 1")
    with StateStore(path) as store:
        assert store.recheck("hn:1") == type(store.recheck("hn:1"))("hn:1", "hn", 2, T0, None)
        store.schedule_recheck("hn:2", "hn", 0, T0, thread_id="hn:1")
        assert store.recheck("hn:2").thread_id == "hn:1"


def test_a_state_write_waits_out_a_lock_held_past_sqlites_own_busy_timeout(path):
    from listener import sqlitedb

    StateStore(path).close()
    holder = _hold_write_lock(path, sqlitedb.ATTEMPT_TIMEOUT * 2.5)
    with StateStore(path, busy_timeout=30) as store:
        assert store.claim_alert("k") is True
    holder.join()


def test_a_state_write_that_stays_locked_fails_with_a_state_error(path):
    StateStore(path).close()
    holder = _hold_write_lock(path, 3)
    with StateStore(path, busy_timeout=0.5) as store:
        with pytest.raises(StateError, match="cannot write the listener state .* locked"):
            store.claim_alert("k")
    holder.join()
