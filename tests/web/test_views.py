from dataclasses import replace
from datetime import datetime, timedelta, timezone

from listener.records import Workflow
from listener.web.views import duration, safe_url, sla_view
from tests.web.corpus import NOW, config, item


def test_an_open_post_in_service_hours_shows_time_left_then_lateness():
    schedule = config().schedule
    fresh = item(1, "¿Cinesa abre?", 100)  # 10:40 UTC, 11:40 in Madrid; due 12:40
    assert sla_view(fresh, schedule, NOW).text == "due in 40m"
    assert sla_view(fresh, schedule, NOW + timedelta(minutes=30)).kind == "soon"
    assert sla_view(fresh, schedule, NOW + timedelta(minutes=39, seconds=30)).text == "due now"
    late = sla_view(fresh, schedule, NOW + timedelta(hours=2))
    assert (late.text, late.kind, late.overdue) == ("late 1h 20m", "late", True)


def test_a_post_that_arrives_off_hours_is_due_after_opening():
    saturday = datetime(2026, 11, 21, 20, 0, tzinfo=timezone.utc)
    post = item(1, "¿Cinesa abre el domingo?", 0)
    post = replace(post, post=replace(post.post, created_at=saturday))
    clock = sla_view(post, config().schedule, saturday + timedelta(hours=1))
    assert clock.off_hours and clock.text.endswith("(arrived off hours)")
    assert clock.due_at == datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # Monday 10:00 in Madrid


def test_a_closed_post_has_no_running_clock():
    answered = item(1, "¿Cinesa abre?", 0).with_workflow(Workflow(status="answered"))
    assert sla_view(answered, config().schedule, NOW).kind == "done"


def test_durations_read_short():
    assert [duration(timedelta(seconds=s)) for s in (40, 600, 3600, 5400, 90000, -5400)] == ["40s", "10m", "1h", "1h 30m", "1d 1h", "1h 30m"]


def test_only_web_addresses_become_links():
    assert safe_url("https://x.com/a") == "https://x.com/a"
    assert safe_url("JavaScript:alert(1)") == "" and safe_url(None) == ""
