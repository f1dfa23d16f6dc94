"""The demo shows a fresh day, whenever it is run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from listener.cli import main
from listener.demo import recent
from listener.index.base import SearchQuery
from listener.index.sqlite import SQLiteBackend
from tests.factories import post

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
RECORDED = datetime(2025, 3, 1, 18, 0, tzinfo=timezone.utc)


def test_a_sources_newest_post_is_made_minutes_old_and_the_others_keep_their_distance():
    posts = [post(id="x:1", created_at=RECORDED - timedelta(hours=5), first_reply_at=RECORDED - timedelta(hours=4)),
             post(id="x:2", created_at=RECORDED)]
    moved = recent(posts, NOW, timedelta(minutes=5))
    assert moved[1].created_at == NOW - timedelta(minutes=5)
    assert moved[0].created_at == NOW - timedelta(hours=5, minutes=5)
    assert moved[0].first_reply_at - moved[0].created_at == timedelta(hours=1)


def test_the_demo_inbox_is_of_today(tmp_path):
    started = datetime.now(timezone.utc)
    result = CliRunner().invoke(main, ["demo", "--data-dir", str(tmp_path / "demo"), "--no-serve"])
    assert result.exit_code == 0, result.output
    with SQLiteBackend(tmp_path / "demo" / "listener.db") as backend:
        hits = backend.search(SearchQuery(limit=1000)).hits
    newest = {}
    for hit in hits:
        newest[hit.post.source] = max(newest.get(hit.post.source, hit.post.created_at), hit.post.created_at)
        assert hit.post.created_at <= datetime.now(timezone.utc)
        assert hit.post.first_reply_at is None or hit.post.first_reply_at >= hit.post.created_at
    assert len(newest) >= 9
    assert all(started - at < timedelta(hours=1) for at in newest.values()), newest
    top = next(line for line in result.stdout.split("Top", 1)[1].splitlines() if " old " in line)  # the inbox's first row
    assert "d old" not in top
