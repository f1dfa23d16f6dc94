"""Four real ``listener ingest`` processes into one SQLite index while readers search it.

Readers (``listener search``, ``listener inbox``) run one after another for as
long as the ingests do. Half-way through, this test takes the write lock itself
and holds it for longer than SQLite's old five-second busy timeout, the fault
that lost posts and failed readers before. Every post must be indexed exactly
once and every reader must succeed.

``LISTENER_CONCURRENT_POSTS`` sets the posts per ingest (default 1,500; the
issue's figure is 15,000, about five minutes on two cores).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WRITERS = 4
POSTS = int(os.environ.get("LISTENER_CONCURRENT_POSTS", "1500"))
HOLD = 6.0  # seconds the test holds the write lock: more than the 5 s that used to fail
TEXTS = (
    "¿Alguien sabe si Cinesa abre hoy?",
    "Las entradas de Yelmo son carísimas",
    "Me encanta ir al cine los domingos",
    "Cinesa no contesta, ¿qué hago con mi reserva?",
    "¿Recomendáis algún cine en Madrid?",
)
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def write_posts(path: Path, writer: int, n: int) -> list[str]:
    ids = [f"test:{writer}-{i}" for i in range(n)]
    with path.open("w", encoding="utf-8") as out:
        for i, post_id in enumerate(ids):
            line = {
                "id": post_id,
                "source": "test",
                "text": f"{TEXTS[i % len(TEXTS)]} ({writer}-{i})",
                "created_at": (T0 + timedelta(seconds=i)).isoformat(),
                "author": f"user{writer}_{i % 300}",
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return ids


def listener(*args: str, cwd: Path, env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from listener.cli import main; main()", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def count(index: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{index}?mode=ro", uri=True, timeout=30)
    except sqlite3.OperationalError:  # not created yet
        return 0
    try:
        return db.execute("SELECT count(*) FROM posts").fetchone()[0]
    except sqlite3.OperationalError:  # no layout yet
        return 0
    finally:
        db.close()


def hold_write_lock(index: Path, seconds: float, held: threading.Event) -> None:
    db = sqlite3.connect(index, timeout=60, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    db.execute("COMMIT")
    db.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("concurrent")
    data = tmp / "data"
    index = data / "listener.db"
    env = {k: v for k, v in os.environ.items() if k != "LISTENER_CONFIG"} | {"LISTENER_DATA_DIR": str(data)}
    expected = []
    for writer in range(WRITERS):
        expected += write_posts(tmp / f"posts{writer}.jsonl", writer, POSTS)

    started = time.monotonic()
    ingests = [listener("ingest", "--batch-size", "50", f"posts{w}.jsonl", cwd=tmp, env=env) for w in range(WRITERS)]
    held, lock_thread = threading.Event(), None
    readers = []  # (command, exit status, stdout, stderr, started while the lock was held)
    while any(p.poll() is None for p in ingests):
        if lock_thread is None and count(index) >= WRITERS * POSTS // 4:
            lock_thread = threading.Thread(target=hold_write_lock, args=(index, HOLD, held), daemon=True)
            lock_thread.start()
            held.wait(60)
        for command in (["search", "cine", "--json", "-n", "3"], ["inbox", "--json", "-n", "3"]):
            locked = lock_thread is not None and lock_thread.is_alive()
            reader = listener(*command, cwd=tmp, env=env)
            out, err = reader.communicate(timeout=120)
            readers.append((command[0], reader.returncode, out, err, locked))
    ingested = [(p.returncode, *p.communicate()) for p in ingests]
    elapsed = time.monotonic() - started
    if lock_thread is not None:
        lock_thread.join()
    assert index.exists(), f"no index; the ingests said: {ingested}"
    db = sqlite3.connect(index)
    ids = [r[0] for r in db.execute("SELECT id FROM posts")]
    rows = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("docs", "posts_fts")}
    db.close()
    print(f"{len(ids)} of {len(expected)} posts indexed by {WRITERS} ingests in {elapsed:.0f} s, {len(readers)} reads")
    return {"expected": expected, "ids": ids, "rows": rows, "ingests": ingested, "readers": readers,
            "lock_taken": lock_thread is not None}


def test_every_post_of_four_concurrent_ingests_is_indexed_exactly_once(run):
    assert len(run["ids"]) == len(set(run["ids"]))
    assert sorted(run["ids"]) == sorted(run["expected"])
    assert run["rows"] == {"docs": len(run["expected"]), "posts_fts": len(run["expected"])}


def test_every_ingest_reports_all_its_posts_indexed(run):
    assert [(status, out.strip()) for status, out, _ in run["ingests"]] == [
        (0, f"read {POSTS}, indexed {POSTS}, rejected 0")
    ] * WRITERS


def test_the_write_lock_was_held_past_the_old_busy_timeout_mid_ingest(run):
    assert run["lock_taken"]
    assert any(locked for *_, locked in run["readers"]), "no reader ran while the lock was held"


def test_no_reader_failed_while_the_ingests_wrote(run):
    failed = [(command, status, err[-500:]) for command, status, _, err, _ in run["readers"] if status != 0]
    assert run["readers"] and failed == []


def test_readers_never_see_the_index_shrink(run):
    totals = [json.loads(out)["total"] for command, status, out, _, _ in run["readers"] if command == "search" and status == 0]
    assert totals == sorted(totals)
