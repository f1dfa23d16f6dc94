"""Shared SQLite access: read-only opens, immediate transactions, busy locks waited out."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import pytest

from listener import sqlitedb


def busy() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY
    return error


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def flaky(failures: int, error=busy):
    calls = []

    def operation():
        calls.append(1)
        if len(calls) <= failures:
            raise error()
        return "done"

    return operation, calls


def holding_the_write_lock(path, seconds: float) -> threading.Thread:
    """Another connection takes the write lock now and keeps it for ``seconds``."""
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
    taken.wait(5)
    return thread


def test_a_busy_operation_is_retried_until_it_succeeds():
    operation, calls = flaky(3)
    clock = FakeClock()
    assert sqlitedb.retry_busy(operation, 60, "test", sleep=clock.sleep, clock=clock) == "done"
    assert len(calls) == 4


def test_pauses_between_retries_grow_and_are_capped():
    operation, _ = flaky(12)
    clock = FakeClock()
    sqlitedb.retry_busy(operation, 600, "test", sleep=clock.sleep, clock=clock)
    ceilings = [min(sqlitedb.FIRST_PAUSE * 2**n, sqlitedb.MAX_PAUSE) for n in range(12)]
    assert all(ceiling / 2 <= pause <= ceiling for pause, ceiling in zip(clock.pauses, ceilings))
    assert max(clock.pauses) <= sqlitedb.MAX_PAUSE


def test_a_busy_operation_gives_up_after_its_patience():
    operation, calls = flaky(10_000)
    clock = FakeClock()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        sqlitedb.retry_busy(operation, 5, "test", sleep=clock.sleep, clock=clock)
    assert clock.now <= 5 and len(calls) > 5


def test_an_error_that_is_not_a_busy_lock_is_not_retried():
    operation, calls = flaky(1, error=lambda: sqlite3.OperationalError("no such table: posts"))
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        sqlitedb.retry_busy(operation, 60, "test", sleep=pytest.fail)
    assert len(calls) == 1


def test_each_retry_is_logged_with_what_was_busy(caplog):
    operation, _ = flaky(1)
    clock = FakeClock()
    with caplog.at_level(logging.INFO, logger="listener.sqlitedb"):
        sqlitedb.retry_busy(operation, 60, "writing 3 posts", sleep=clock.sleep, clock=clock)
    assert "writing 3 posts: database busy (database is locked), attempt 1" in caplog.text


def test_a_write_waits_for_a_lock_held_longer_than_one_attempt(tmp_path):
    path = str(tmp_path / "x.db")
    db = sqlitedb.connect(path)
    db.execute("CREATE TABLE t (x)")
    holder = holding_the_write_lock(path, sqlitedb.ATTEMPT_TIMEOUT * 2.5)
    sqlitedb.write_transaction(db, lambda c: c.execute("INSERT INTO t VALUES (1)"), 30, "test")
    holder.join()
    assert db.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_busy_write_is_rolled_back_before_it_is_tried_again(tmp_path):
    path = str(tmp_path / "x.db")
    db = sqlitedb.connect(path)
    db.execute("CREATE TABLE t (x)")
    attempts = []

    def work(c):
        c.execute("INSERT INTO t VALUES (?)", (len(attempts),))
        attempts.append(1)
        if len(attempts) == 1:
            raise busy()

    sqlitedb.write_transaction(db, work, 30, "test")
    assert db.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_read_only_connection_cannot_write(tmp_path):
    path = str(tmp_path / "x.db")
    sqlitedb.connect(path).execute("CREATE TABLE t (x)")
    reader = sqlitedb.connect(path, read_only=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("INSERT INTO t VALUES (1)")


def test_a_read_only_connection_reads_while_another_holds_the_write_lock(tmp_path):
    path = str(tmp_path / "x.db")
    writer = sqlitedb.connect(path)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("INSERT INTO t VALUES (1)")
    holder = holding_the_write_lock(path, 2)
    reader = sqlitedb.connect(path, read_only=True, patience=0.1)
    assert reader.execute("SELECT x FROM t").fetchall() == [(1,)]
    holder.join()


def test_a_writer_connection_switches_the_file_to_wal(tmp_path):
    path = str(tmp_path / "x.db")
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    assert sqlitedb.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)
