"""The job store keeps APScheduler jobs in the state file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.jobstore import SQLiteJobStore, next_run_times


def scheduler_on(path) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(jobstores={"default": SQLiteJobStore(path)}, timezone=timezone.utc)
    scheduler.start(paused=True)
    return scheduler


def test_a_job_and_its_next_run_time_survive_a_restart(tmp_path):
    when = datetime(2030, 1, 1, tzinfo=timezone.utc)
    first = scheduler_on(tmp_path / "state.db")
    first.add_job("scheduler.jobs:recheck", "interval", seconds=60, id="recheck", next_run_time=when)
    first.shutdown()
    second = scheduler_on(tmp_path / "state.db")
    try:
        assert second.get_job("recheck").next_run_time == when
    finally:
        second.shutdown()


def test_next_run_times_are_read_without_a_scheduler(tmp_path):
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
    scheduler = scheduler_on(tmp_path / "state.db")
    scheduler.add_job("scheduler.jobs:sla", "interval", seconds=60, id="sla", next_run_time=when)
    scheduler.shutdown()
    assert next_run_times(tmp_path / "state.db") == {"sla": when}


def test_a_shut_down_store_has_no_due_jobs(tmp_path):
    scheduler = scheduler_on(tmp_path / "state.db")
    store = scheduler._lookup_jobstore("default")
    scheduler.shutdown()
    assert store.get_due_jobs(datetime.now(timezone.utc)) == []
