"""High-value prospects alert once per post, in one message per run."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from listener.records import IndexedPost, Workflow
from scheduler.alerts import Notifier
from scheduler.prospects import ProspectWatch
from scheduler.settings import ProspectSettings
from tests.factories import analysis
from tests.scheduler.helpers import Clock, NOW, local_post
from tests.scheduler.test_notifier import Recorder


def prospect(number: int, score: int = 85, **fields) -> IndexedPost:
    return IndexedPost(post=local_post(number, "¿Me recomendáis Cinesa o Yelmo?", at=NOW),
                       analysis=analysis(customer_status="prospect", lead_score=score), **fields)


def watch(state, clock=None):
    channel = Recorder()
    return ProspectWatch(Notifier([channel], state), ProspectSettings(min_score=70), clock or Clock(NOW)), channel


def test_prospects_above_the_score_alert_in_one_message(state):
    prospects, channel = watch(state)
    prospects.check([prospect(1), prospect(2, score=90), prospect(3, score=40)])
    assert [item.post_id for item in channel.alerts[0].items] == ["local:2", "local:1"]


def test_a_prospect_is_not_alerted_twice(state):
    prospects, channel = watch(state)
    prospects.check([prospect(1)])
    prospects.check([prospect(1), prospect(2)])
    assert [item.post_id for item in channel.alerts[1].items] == ["local:2"]


def test_a_dismissed_post_is_not_alerted(state):
    prospects, channel = watch(state)
    prospects.check([prospect(1, workflow=Workflow(status="dismissed"))])
    assert channel.alerts == []


def test_an_old_post_found_by_a_backfill_is_not_alerted(state):
    prospects, channel = watch(state, Clock(NOW + timedelta(days=2)))
    prospects.check([prospect(1)])
    assert channel.alerts == []


def test_a_customer_is_not_a_prospect(state):
    prospects, channel = watch(state)
    doc = prospect(1)
    prospects.check([replace(doc, analysis=replace(doc.analysis, customer_status="customer"))])
    assert channel.alerts == []


def test_a_prospect_the_brand_already_answered_is_not_alerted(state):
    prospects, channel = watch(state)
    prospects.check([prospect(1, answer_state="answered_by_brand")])
    assert channel.alerts == []


def test_a_prospect_a_competitor_answered_is_alerted_as_such(state):
    prospects, channel = watch(state)
    prospects.check([prospect(1, answer_state="answered_by_competitor"), prospect(2, score=80)])
    notes = {item.post_id: item.note for item in channel.alerts[0].items}
    assert notes["local:1"].endswith("(COMPETITOR replied to our prospect)")
    assert "COMPETITOR" not in notes["local:2"]
