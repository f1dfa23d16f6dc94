"""``listener run``, ``status`` and ``report``, invoked on the command objects."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import click
import pytest
from click.testing import CliRunner

from listener.clitools import ListenerGroup
from listener.index.sqlite import SQLiteBackend
from listener.records import IndexedPost
from listener.state import StateStore
from scheduler import commands
from tests.factories import analysis
from tests.scheduler.helpers import local_post


@pytest.fixture
def cli():
    group = ListenerGroup(commands={"run": commands.run, "status": commands.status, "report": commands.report})
    runner = CliRunner()
    return lambda *args: runner.invoke(group, list(args), catch_exceptions=False)


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "listener.yaml"
    path.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        "sources:\n  - {kind: hackernews, name: hn, interval: 5m}\n  - {kind: rss, name: news, interval: 30m, feeds: ['https://example.org/a.rss']}\n",
        encoding="utf-8",
    )
    return path


def test_status_shows_each_source_with_its_last_run(cli, config_path, tmp_path):
    with StateStore(tmp_path / "data" / "state.db") as state:
        state.finish_run(state.start_run("hn"), posts=12, errors=["hn: HTTP 503"])
    result = cli("status", "--config", str(config_path))
    hn = next(line for line in result.output.splitlines() if line.startswith("hn "))
    assert hn.split()[4:6] == ["12", "1"]
    assert "last error 0s ago: the server failed on its side; it is retried on the next run (HTTP 503)" in result.output


@pytest.mark.parametrize("recorded, words", [
    ("hn: http_401: HTTP 401: {\"error\": \"Unauthorized\"} (https://hn.algolia.com/api/v1/search_by_date?query=cinesa)",
     "hn.algolia.com refused our credentials; check the source's token or key in the environment (HTTP 401)"),
    ("hn: http_429: HTTP 429 (https://hn.algolia.com/api/v1/search_by_date)", "hn.algolia.com is rate-limiting us"),
    ("hn: download: ConnectionRefusedError: Connection was refused by other side: 111: Connection refused. (http://127.0.0.1:9/api)",
     "127.0.0.1:9 refused the connection (is the server up, and the address right?)"),
    ("hn: download: DNSLookupError: DNS lookup failed: no results for hostname lookup: hn.invalid. (https://hn.invalid/api)",
     "hn.invalid could not be found (the host name does not resolve)"),
    ("hn: parse: JSONDecodeError: Expecting value: line 1 column 1 (char 0) (https://hn.algolia.com/api)",
     "an answer from hn.algolia.com could not be read (JSONDecodeError"),
])
def test_status_says_the_last_error_in_words(cli, config_path, tmp_path, recorded, words):
    with StateStore(tmp_path / "data" / "state.db") as state:
        state.finish_run(state.start_run("hn"), posts=0, errors=[recorded])
    result = cli("status", "--config", str(config_path))
    assert words in result.output
    assert "http_" not in result.output and "Traceback" not in result.output


def test_status_keeps_the_last_error_after_a_good_run(cli, config_path, tmp_path):
    with StateStore(tmp_path / "data" / "state.db") as state:
        state.finish_run(state.start_run("hn", at=datetime.now(timezone.utc) - timedelta(hours=2)), posts=0,
                         errors=["hn: http_403: HTTP 403 (https://hn.algolia.com/api)"], at=datetime.now(timezone.utc) - timedelta(hours=2))
        state.finish_run(state.start_run("hn"), posts=4)
    result = cli("status", "--config", str(config_path))
    assert "last error 2h" in result.output and "hn.algolia.com refused access" in result.output
    row = json.loads(cli("status", "--config", str(config_path), "--json").output.splitlines()[0])
    assert row["errors"] == [] and row["last_error"].startswith("hn.algolia.com refused access") and row["last_error_at"]


def test_status_says_never_for_a_source_that_has_not_run(cli, config_path):
    result = cli("status", "--config", str(config_path))
    news = next(line for line in result.output.splitlines() if line.startswith("news "))
    assert news.split()[1] == "never"


def test_status_as_json_gives_the_lag(cli, config_path, tmp_path):
    with StateStore(tmp_path / "data" / "state.db") as state:
        state.finish_run(state.start_run("hn", at=datetime.now(timezone.utc) - timedelta(minutes=3)), posts=1)
    rows = [json.loads(line) for line in cli("status", "--config", str(config_path), "--json").output.splitlines()]
    assert 170 < rows[0]["lag_seconds"] < 200


def test_run_without_sources_is_a_one_sentence_error(cli, tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    result = cli("run", "--config", str(empty))
    assert (result.exit_code, result.output.splitlines()[0]) == (
        2, "Error: no sources are configured, so there is nothing to listen to")


def test_run_with_a_bad_alerts_section_names_the_key(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"data_dir: {tmp_path / 'data'}\nsources: [{{kind: hackernews}}]\nalerts:\n  sla: {{late: 1}}\n",
                   encoding="utf-8")
    result = cli("run", "--config", str(bad))
    assert result.exit_code == 2 and "line 4: unknown key 'alerts.sla.late'" in result.output


def test_offhours_lists_weekend_posts(cli, config_path, tmp_path):
    saturday = datetime.now(timezone.utc) - timedelta(days=(datetime.now(timezone.utc).weekday() - 5) % 7 or 7)
    saturday = saturday.replace(hour=11, minute=0, second=0, microsecond=0)
    with SQLiteBackend(tmp_path / "data" / "listener.db") as backend:
        backend.ensure_schema()
        backend.upsert([IndexedPost(post=local_post(1, "¿Cinesa abre?", at=saturday), analysis=analysis(),
                                    answer_state="unanswered")])
    result = cli("report", "offhours", "--config", str(config_path), "--since", "8d")
    assert result.output.startswith("1 surfaced post(s) arrived outside service hours") and "https://example.org/1" in result.output


def test_offhours_rejects_a_since_that_is_neither_duration_nor_date(cli, config_path):
    result = CliRunner().invoke(click.Group(commands={"report": commands.report}),
                                ["report", "offhours", "--config", str(config_path), "--since", "last week"])
    assert result.exit_code == 2 and "expected a duration like 7d" in result.output


def test_report_sla_lists_overdue_posts(cli, config_path, tmp_path):
    old = datetime.now(timezone.utc) - timedelta(days=3)
    with SQLiteBackend(tmp_path / "data" / "listener.db") as backend:
        backend.ensure_schema()
        backend.upsert([IndexedPost(post=local_post(1, "¿Cinesa abre?", at=old), analysis=analysis(),
                                    answer_state="unanswered")])
    result = cli("report", "sla", "--config", str(config_path))
    assert result.output.startswith("1 post(s) past the 60-minute response time.")


def test_run_once_exits_1_naming_the_source_that_is_down_and_indexes_the_others(tmp_path):
    import socket

    import yaml

    from listener.cli import main
    from listener.index.base import SearchQuery
    from tests.scheduler.feeds import AlgoliaFeed, hackernews_source

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with AlgoliaFeed(age=3600) as feed:
        posts = [f"hn:{feed.publish(f'Cinesa no funciona {n}', f'user{n}')}" for n in range(2)]
        up = hackernews_source(feed)
        down = {**up, "name": "hn-down", "base_url": f"http://127.0.0.1:{closed}"}
        path = tmp_path / "listener.yaml"
        path.write_text(yaml.safe_dump({
            "brand": {"name": "Cinesa", "aliases": ["cinesa"]},
            "data_dir": str(tmp_path / "data"),
            "sources": [up, down],
        }), encoding="utf-8")
        result = CliRunner().invoke(main, ["run", "--once", "--config", str(path)])
    assert result.exit_code == 1, result.output
    assert f"crawl hn-down failed: 127.0.0.1:{closed} refused the connection" in result.stderr
    assert "crawl hn " not in result.stderr
    with SQLiteBackend(tmp_path / "data" / "listener.db") as backend:
        assert sorted(doc.id for doc in backend.scan(SearchQuery())) == sorted(posts)


def test_status_shows_the_run_that_holds_the_lock(cli, config_path, tmp_path):
    import os
    import socket

    from scheduler.lock import RunLock

    assert "Leader: none (no `listener run` is running)" in cli("status", "--config", str(config_path)).output
    lock = RunLock(tmp_path / "data" / "scheduler.lock")
    lock.acquire()
    try:
        output = cli("status", "--config", str(config_path)).output
    finally:
        lock.release()
    assert f"Leader: {socket.gethostname()} (pid {os.getpid()}) since " in output
