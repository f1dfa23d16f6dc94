"""Posts past their response time alert once; the off-hours report lists night and weekend arrivals."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from listener.records import IndexedPost
from scheduler.alerts import Notifier
from scheduler.settings import SlaSettings
from scheduler.sla_alerts import SlaWatch, off_hours
from tests.factories import analysis
from tests.scheduler.helpers import Clock, local_post, make_config
from tests.scheduler.test_notifier import Recorder

TUESDAY_10 = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)  # 10:00 in Madrid
SATURDAY_12 = datetime(2026, 3, 7, 11, 0, tzinfo=timezone.utc)


def store(backend, number, at, answer_state="unanswered", **post_fields):
    doc = IndexedPost(post=local_post(number, "¿Alguien sabe si Cinesa abre hoy?", at=at, **post_fields),
                      analysis=analysis(), answer_state=answer_state)
    backend.upsert([doc])
    return doc


def watch(tmp_path, backend, state, clock):
    channel = Recorder()
    return SlaWatch(make_config(tmp_path), backend, Notifier([channel], state), SlaSettings(), clock), channel


def test_a_post_past_its_due_time_alerts(tmp_path, backend, state):
    store(backend, 1, TUESDAY_10)
    sla, channel = watch(tmp_path, backend, state, Clock(TUESDAY_10 + timedelta(minutes=61)))
    sla.check()
    assert [item.post_id for item in channel.alerts[0].items] == ["local:1"]


def test_a_post_within_its_time_does_not_alert(tmp_path, backend, state):
    store(backend, 1, TUESDAY_10)
    sla, channel = watch(tmp_path, backend, state, Clock(TUESDAY_10 + timedelta(minutes=59)))
    sla.check()
    assert channel.alerts == []


def test_an_overdue_post_alerts_only_once(tmp_path, backend, state):
    store(backend, 1, TUESDAY_10)
    clock = Clock(TUESDAY_10 + timedelta(minutes=61))
    sla, channel = watch(tmp_path, backend, state, clock)
    sla.check()
    clock.advance(minutes=30)
    sla.check()
    assert len(channel.alerts) == 1


def test_a_later_breach_alerts_with_only_the_new_post(tmp_path, backend, state):
    store(backend, 1, TUESDAY_10)
    clock = Clock(TUESDAY_10 + timedelta(minutes=61))
    sla, channel = watch(tmp_path, backend, state, clock)
    sla.check()
    store(backend, 2, TUESDAY_10 + timedelta(minutes=30))
    clock.advance(minutes=30)
    sla.check()
    assert [item.post_id for item in channel.alerts[1].items] == ["local:2"]


def test_a_post_the_brand_answered_does_not_alert(tmp_path, backend, state):
    store(backend, 1, TUESDAY_10, answer_state="answered_by_brand")
    sla, channel = watch(tmp_path, backend, state, Clock(TUESDAY_10 + timedelta(hours=3)))
    sla.check()
    assert channel.alerts == []


def test_a_weekend_post_is_not_late_before_monday(tmp_path, backend, state):
    store(backend, 1, SATURDAY_12)
    sla, channel = watch(tmp_path, backend, state, Clock(SATURDAY_12 + timedelta(hours=30)))
    sla.check()
    assert channel.alerts == []


def test_the_off_hours_report_lists_only_posts_that_arrived_off_duty(tmp_path, backend):
    store(backend, 1, TUESDAY_10)
    store(backend, 2, SATURDAY_12)
    rows = off_hours(backend, make_config(tmp_path), TUESDAY_10 - timedelta(days=1), SATURDAY_12 + timedelta(days=1),
                     now=SATURDAY_12 + timedelta(days=3))
    assert [row.doc.id for row in rows] == ["local:2"]


def test_a_weekend_post_answered_by_monday_morning_is_on_time(tmp_path, backend):
    monday_0930 = datetime(2026, 3, 9, 8, 30, tzinfo=timezone.utc)
    store(backend, 1, SATURDAY_12, answer_state="answered_by_brand", first_reply_at=monday_0930, reply_count=1,
          replied_by=("cinesa",))
    rows = off_hours(backend, make_config(tmp_path), SATURDAY_12 - timedelta(hours=1), SATURDAY_12 + timedelta(hours=1),
                     now=monday_0930 + timedelta(days=1))
    assert rows[0].status.overdue is False
