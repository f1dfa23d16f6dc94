"""Due times counted in service hours: weekends, nights, holidays, DST, overnight shifts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from listener.config import ScheduleConfig, ServiceHours
from listener.sla import due_at, in_service, service_time, sla_status

MADRID = ZoneInfo("Europe/Madrid")
OFFICE = ScheduleConfig()  # Europe/Madrid, 09:00-18:00 Monday to Friday, 60 minutes


def local(*args) -> datetime:
    return datetime(*args, tzinfo=MADRID)


def schedule(**values) -> ScheduleConfig:
    hours = values.pop("hours", None)
    if hours is not None:
        values["service_hours"] = ServiceHours(**hours)
    return ScheduleConfig(**values)


def test_a_post_in_service_hours_is_due_sla_minutes_later():
    assert due_at(local(2026, 3, 3, 10, 0), OFFICE) == local(2026, 3, 3, 11, 0)


def test_friday_late_afternoon_carries_over_to_monday_morning():
    assert due_at(local(2026, 3, 6, 17, 30), OFFICE) == local(2026, 3, 9, 9, 30)


def test_a_post_at_night_is_due_an_sla_after_opening():
    assert due_at(local(2026, 3, 3, 23, 15), OFFICE) == local(2026, 3, 4, 10, 0)


def test_a_weekend_post_is_due_on_monday():
    assert due_at(local(2026, 3, 7, 12, 0), OFFICE) == local(2026, 3, 9, 10, 0)


def test_a_post_at_closing_time_counts_from_the_next_opening():
    assert due_at(local(2026, 3, 3, 18, 0), OFFICE) == local(2026, 3, 4, 10, 0)


def test_a_holiday_is_skipped():
    with_holiday = schedule(holidays=[date(2026, 1, 6)])
    assert due_at(local(2026, 1, 5, 17, 30), with_holiday) == local(2026, 1, 7, 9, 30)


def test_a_target_longer_than_a_day_spans_several_service_days():
    long_target = schedule(sla_minutes=9 * 60 + 30)  # one full day and 30 minutes
    assert due_at(local(2026, 3, 3, 9, 0), long_target) == local(2026, 3, 4, 9, 30)


def test_due_time_is_returned_in_utc():
    assert due_at(local(2026, 3, 3, 10, 0), OFFICE).utcoffset() == timedelta(0)


def test_a_naive_time_is_taken_as_utc():
    assert due_at(datetime(2026, 3, 3, 9, 0), OFFICE) == local(2026, 3, 3, 11, 0)


def test_local_opening_time_holds_across_the_spring_dst_change():
    # Friday 17:30 CET (UTC+1) -> Monday 09:30 CEST (UTC+2), after the change on Sunday 29 March.
    assert due_at(local(2026, 3, 27, 17, 30), OFFICE) == datetime(2026, 3, 30, 7, 30, tzinfo=timezone.utc)


def test_service_time_on_the_spring_dst_night_is_real_time():
    always = schedule(hours={"days": ["sun"], "start": "00:00", "end": "06:00"})
    # 01:30 CET is 00:30 UTC; one real hour later it is 03:30 CEST.
    assert due_at(local(2026, 3, 29, 1, 30), always) == local(2026, 3, 29, 3, 30)


def test_a_shift_on_the_autumn_dst_night_lasts_an_hour_longer():
    night = schedule(hours={"days": ["sun"], "start": "00:00", "end": "06:00"})
    assert service_time(local(2026, 10, 24, 12, 0), local(2026, 10, 26, 0, 0), night) == timedelta(hours=7)


def test_an_overnight_shift_runs_past_midnight():
    nights = schedule(hours={"days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00", "end": "06:00"})
    assert due_at(local(2026, 3, 4, 5, 30), nights) == local(2026, 3, 4, 22, 30)


def test_start_equal_to_end_means_round_the_clock():
    always = schedule(hours={"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"})
    assert due_at(local(2026, 3, 7, 3, 0), always) == local(2026, 3, 7, 4, 0)


def test_another_time_zone_is_respected():
    new_york = schedule(timezone="America/New_York")
    created = datetime(2026, 3, 3, 13, 0, tzinfo=timezone.utc)  # 08:00 in New York
    assert due_at(created, new_york) == datetime(2026, 3, 3, 15, 0, tzinfo=timezone.utc)  # 10:00 there


def test_a_schedule_without_service_days_is_an_error():
    never = schedule(hours={"days": []})
    with pytest.raises(ValueError, match="no service time"):
        due_at(local(2026, 3, 3, 10, 0), never)


def test_in_service_is_true_during_hours_and_false_at_night():
    assert (in_service(local(2026, 3, 3, 9, 0), OFFICE), in_service(local(2026, 3, 3, 18, 0), OFFICE)) == (True, False)


def test_service_time_counts_only_open_hours():
    assert service_time(local(2026, 3, 6, 17, 0), local(2026, 3, 9, 10, 0), OFFICE) == timedelta(hours=2)


def test_status_before_the_due_time_is_not_overdue():
    status = sla_status(local(2026, 3, 3, 10, 0), OFFICE, now=local(2026, 3, 3, 10, 45))
    assert (status.overdue, status.remaining) == (False, timedelta(minutes=15))


def test_status_after_the_due_time_is_overdue_with_negative_remaining():
    status = sla_status(local(2026, 3, 3, 10, 0), OFFICE, now=local(2026, 3, 3, 11, 20))
    assert (status.overdue, status.remaining) == (True, timedelta(minutes=-20))


def test_an_answer_in_time_stops_the_clock():
    status = sla_status(local(2026, 3, 3, 10, 0), OFFICE, now=local(2026, 3, 5, 0, 0), answered_at=local(2026, 3, 3, 10, 30))
    assert status.overdue is False


def test_a_late_answer_stays_overdue():
    status = sla_status(local(2026, 3, 3, 10, 0), OFFICE, now=local(2026, 3, 5, 0, 0), answered_at=local(2026, 3, 3, 12, 0))
    assert status.overdue is True


def test_a_post_arriving_at_the_weekend_is_off_hours():
    assert sla_status(local(2026, 3, 7, 12, 0), OFFICE, now=local(2026, 3, 7, 12, 5)).off_hours is True


def test_a_post_arriving_in_service_hours_is_not_off_hours():
    assert sla_status(local(2026, 3, 3, 12, 0), OFFICE, now=local(2026, 3, 3, 12, 5)).off_hours is False


def test_a_post_arriving_on_a_holiday_is_off_hours():
    with_holiday = schedule(holidays=[date(2026, 1, 6)])
    assert sla_status(local(2026, 1, 6, 11, 0), with_holiday, now=local(2026, 1, 6, 11, 5)).off_hours is True
