"""The daily digest: prospects, waiting posts, breaches, spikes and share of voice; once a day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from listener.pipeline import Pipeline
from scheduler.alerts import Notifier
from scheduler.digest import DigestJob, build_digest, share_of_voice
from scheduler.settings import AlertsConfig
from tests.scheduler.helpers import Clock, KeywordAnalyzer, NOW, local_post, make_config
from tests.scheduler.test_notifier import Recorder


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path)


@pytest.fixture
def day(config, backend):
    posts = [
        local_post(1, "¿Alguien sabe si Cinesa tiene descuentos? Me recomendáis algo?", at=NOW - timedelta(hours=3)),
        local_post(2, "Cinesa no funciona la web, qué desastre", at=NOW - timedelta(hours=2)),
        local_post(3, "Yelmo no funciona tampoco", at=NOW - timedelta(hours=1)),
        local_post(4, "Cinesa mola", at=NOW - timedelta(hours=1)),
        local_post(5, "Cinesa ayer", at=NOW - timedelta(days=3)),
    ]
    Pipeline(config, backend, KeywordAnalyzer()).ingest(posts)


def test_share_of_voice_counts_the_brand_and_each_competitor_in_the_period(config, backend, day):
    voice = share_of_voice(backend, config, NOW - timedelta(days=1), NOW)
    assert voice == [("Cinesa", 3, 0.75), ("Yelmo", 1, 0.25)]


def test_the_digest_counts_new_prospects_and_posts_waiting(config, backend, state, day):
    digest = build_digest(config, backend, state, AlertsConfig(), NOW)
    assert (digest.data["prospects"], digest.data["waiting"]) == (1, 3)


def test_the_digest_lists_the_spikes_of_the_day(config, backend, state, day):
    state.claim_alert("spike:1", "spike", title="Spike: 4 people report “web no funciona”")
    digest = build_digest(config, backend, state, AlertsConfig(), NOW + timedelta(seconds=1))
    assert dict(digest.sections)["Spikes: 1"] == ("Spike: 4 people report “web no funciona”",)


def test_the_digest_counts_overdue_posts(config, backend, state, day):
    digest = build_digest(config, backend, state, AlertsConfig(), NOW + timedelta(hours=5))
    assert digest.data["overdue"] == 3


def test_the_digest_is_sent_once_per_day(config, backend, state, day):
    channel = Recorder()
    clock = Clock(NOW)
    job = DigestJob(config, backend, Notifier([channel], state), AlertsConfig(), clock)
    job.send()
    clock.advance(hours=1)
    job.send()
    clock.advance(days=1)
    job.send()
    assert [alert.key for alert in channel.alerts] == ["digest:2026-03-03", "digest:2026-03-04"]


def test_the_digest_counts_the_prospects_a_competitor_answered_and_not_what_the_brand_answered(config, backend, state):
    rival = local_post(6, "¿Alguien sabe si Cinesa abre? Me recomendáis?", at=NOW - timedelta(hours=2),
                       replied_by=("@yelmocines",), reply_check="checked")
    ours = local_post(7, "¿Alguien sabe si Cinesa abre mañana?", at=NOW - timedelta(hours=2),
                      replied_by=("@cinesa",), reply_check="checked")
    Pipeline(config, backend, KeywordAnalyzer()).ingest([rival, ours])
    digest = build_digest(config, backend, state, AlertsConfig(), NOW)
    assert (digest.data["prospects_answered_by_competitor"], digest.data["waiting"]) == (1, 1)
