"""Response clocks counted in service hours.

A post that should be answered gets a due time: ``sla_minutes`` of service time
after it arrived, where service time is the configured days and hours in the
configured time zone, minus holidays. A post arriving on Friday at 17:30 with a
60-minute target and 09:00-18:00 Monday to Friday service is due on Monday at
09:30 local time. Hours are local wall-clock times, so a service day on a DST
change is an hour shorter or longer in real time, as it is for the team.

An ``end`` at or before ``start`` (``22:00``-``06:00``, or ``00:00``-``00:00``
for round the clock) means the shift runs past midnight; a holiday cancels the
shift that starts on it. Everything here is a pure function of its arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from listener.config import WEEKDAYS, ScheduleConfig
from listener.records import utc

# How far ahead to look for service time before deciding there is none.
HORIZON_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class SlaStatus:
    """Where a post stands against its response target.

    ``remaining`` is wall-clock time from ``now`` (or from the answer) to
    ``due_at``, negative once overdue. ``off_hours`` says the post arrived when
    nobody was on duty.
    """

    due_at: datetime
    remaining: timedelta
    overdue: bool
    off_hours: bool


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _shift(day: date, schedule: ScheduleConfig, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The service shift starting on ``day`` (local), in UTC, or None on a day off."""
    if WEEKDAYS[day.weekday()] not in schedule.service_hours.days or day in schedule.holidays:
        return None
    start, end = _clock(schedule.service_hours.start), _clock(schedule.service_hours.end)
    end_day = day if end > start else day + timedelta(days=1)
    opens = utc(datetime.combine(day, start, tzinfo=zone))
    closes = utc(datetime.combine(end_day, end, tzinfo=zone))
    return (opens, closes) if closes > opens else None


def service_shifts(since: datetime, schedule: ScheduleConfig) -> Iterator[tuple[datetime, datetime]]:
    """Service periods (UTC) from ``since`` on, the first one clipped to start at ``since``.

    Endless while there is service time; raises ValueError after three years
    without any (no service days, or every day a holiday).
    """
    since = utc(since)
    zone = ZoneInfo(schedule.timezone)
    day = since.astimezone(zone).date() - timedelta(days=1)  # a shift from yesterday may still be open
    last = day + timedelta(days=HORIZON_DAYS)
    while day <= last:
        shift = _shift(day, schedule, zone)
        day += timedelta(days=1)
        if shift is None or shift[1] <= since:
            continue
        last = day + timedelta(days=HORIZON_DAYS)
        yield max(shift[0], since), shift[1]
    raise ValueError(
        f"the schedule has no service time in the {HORIZON_DAYS} days after {day - timedelta(days=HORIZON_DAYS):%Y-%m-%d} "
        f"(days: {', '.join(schedule.service_hours.days) or 'none'}; {len(schedule.holidays)} holidays)"
    )


def in_service(moment: datetime, schedule: ScheduleConfig) -> bool:
    """Whether someone is on duty at ``moment``."""
    moment = utc(moment)
    zone = ZoneInfo(schedule.timezone)
    local = moment.astimezone(zone).date()
    for day in (local - timedelta(days=1), local):
        shift = _shift(day, schedule, zone)
        if shift and shift[0] <= moment < shift[1]:
            return True
    return False


def due_at(created_at: datetime, schedule: ScheduleConfig) -> datetime:
    """When a post created at ``created_at`` should be answered by (UTC)."""
    left = timedelta(minutes=schedule.sla_minutes)
    for opens, closes in service_shifts(created_at, schedule):
        if left <= closes - opens:
            return opens + left
        left -= closes - opens
    raise AssertionError("unreachable: service_shifts never ends without raising")  # pragma: no cover


def service_time(start: datetime, end: datetime, schedule: ScheduleConfig) -> timedelta:
    """Service time between two moments (zero if ``end`` is not after ``start``)."""
    start, end = utc(start), utc(end)
    total = timedelta(0)
    if end <= start:
        return total
    for opens, closes in service_shifts(start, schedule):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total


def sla_status(
    created_at: datetime,
    schedule: ScheduleConfig,
    now: datetime,
    answered_at: datetime | None = None,
) -> SlaStatus:
    """The post's due time and, at ``now`` (or when it was answered), whether it is late."""
    due = due_at(created_at, schedule)
    clock_stops = utc(answered_at) if answered_at is not None else utc(now)
    remaining = due - clock_stops
    return SlaStatus(
        due_at=due,
        remaining=remaining,
        overdue=remaining < timedelta(0),
        off_hours=not in_service(created_at, schedule),
    )
