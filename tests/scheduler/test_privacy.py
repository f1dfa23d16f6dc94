"""Under ``listener run``: erased authors stay out, and the retention period is applied daily."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from listener.index import open_backend
from listener.state import open_state
from listener.suppression import SuppressionList
from scheduler.service import ListenerService, Ticks
from tests.scheduler.helpers import KeywordAnalyzer, LocalSource, StaticRefresher, local_post, make_config

QUIET = {"sla": {"enabled": False}, "spikes": {"enabled": False}, "digest": {"enabled": False}}


def service(config, source) -> ListenerService:
    return ListenerService(config, crawler=source, refresher=StaticRefresher(), analyzer=KeywordAnalyzer(),
                           channels=[], ticks=Ticks(heartbeat=0.2))


def test_a_run_skips_an_erased_author_counts_them_and_still_moves_the_cursor(tmp_path):
    config = make_config(tmp_path, alerts=QUIET)
    SuppressionList.from_config(config).add("@Pepe")
    source = LocalSource([local_post(1, "Cinesa no funciona", author="pepe"),
                          local_post(2, "Cinesa no funciona, como dice @PEPE", author="maria")])
    listener = service(config, source)
    listener.run_once()
    assert listener.counters.get("crawl/suppressed") == 1
    with open_backend(config) as backend, open_state(config) as state:
        assert backend.posts_by("pepe") == []
        assert backend.get("local:2").post.text == "Cinesa no funciona, como dice @[erased]"
        assert state.load_cursors("local")  # the skipped post does not hold the source back
        assert state.last_run("local").errors == ()


def test_retention_is_a_daily_job_only_when_configured(tmp_path):
    assert "retention" not in {job["id"] for job in service(make_config(tmp_path, alerts=QUIET), LocalSource()).desired_jobs()}
    config = make_config(tmp_path, alerts=QUIET, index={"retention": "30d"})
    (job,) = [job for job in service(config, LocalSource()).desired_jobs() if job["id"] == "retention"]
    assert job["func"] == "scheduler.jobs:retention" and job["trigger"].interval == timedelta(days=1)


def test_retention_erases_posts_published_longer_ago(tmp_path):
    config = make_config(tmp_path, alerts=QUIET, index={"retention": "30d"})
    now = datetime.now(timezone.utc)
    source = LocalSource([local_post(1, "Cinesa no funciona", at=now - timedelta(days=31)),
                          local_post(2, "Cinesa no funciona", at=now - timedelta(days=1))])
    listener = service(config, source)
    listener.run_once()  # crawls, then applies the retention period as the daily job does
    assert listener.counters.get("retention/erased") == 1
    with open_backend(config) as backend:
        assert backend.get("local:1") is None and backend.get("local:2") is not None
