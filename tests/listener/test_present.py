from datetime import datetime, timedelta, timezone

from listener.config import parse_config
from listener.present import age, handle, sla_clock

CONFIG = parse_config("schedule: {timezone: Europe/Madrid, sla_minutes: 60}")
# Wednesday 2026-11-18, 10:00 in Madrid (09:00 UTC): inside service hours.
WEDNESDAY_10 = datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc)


def test_age_uses_the_largest_unit():
    assert age(WEDNESDAY_10 - timedelta(minutes=5), WEDNESDAY_10) == "5m"
    assert age(WEDNESDAY_10 - timedelta(hours=3), WEDNESDAY_10) == "3h"
    assert age(WEDNESDAY_10 - timedelta(days=2), WEDNESDAY_10) == "2d"


def test_sla_clock_counts_down_in_service_hours():
    assert sla_clock(WEDNESDAY_10 - timedelta(minutes=20), CONFIG, WEDNESDAY_10) == "40m left"


def test_sla_clock_says_how_late_a_post_is():
    assert sla_clock(WEDNESDAY_10, CONFIG, WEDNESDAY_10 + timedelta(minutes=90)) == "LATE 30m"


def test_the_clock_starts_when_service_opens():
    before_opening = WEDNESDAY_10 - timedelta(minutes=90)  # 08:30 in Madrid
    assert sla_clock(before_opening, CONFIG, WEDNESDAY_10) == "0s left"


def test_a_post_from_friday_night_is_due_on_monday_morning():
    friday_night = datetime(2026, 11, 20, 22, 0, tzinfo=timezone.utc)  # 23:00 in Madrid
    assert sla_clock(friday_night, CONFIG, friday_night + timedelta(minutes=5)) == "due Mon 10:00"


def test_a_handle_has_one_at_sign_whether_or_not_the_source_stored_it():
    assert handle("@pablo_rs") == handle("pablo_rs") == "@pablo_rs"
    assert handle("@joana@masto.pt") == "@joana@masto.pt"
    assert handle(None) == "(deleted author)"


def test_an_unknown_reply_state_says_why_and_a_rival_answering_our_prospect_says_so():
    from listener.present import answer_label
    from listener.records import IndexedPost
    from listener.threads import unchecked
    from tests.factories import analysis, post

    failed = IndexedPost(post=unchecked(post(), "lookup_failed"), analysis=analysis(), answer_state="unknown")
    assert answer_label(failed) == "reply unknown: thread look-up failed"
    rival = IndexedPost(post=post(), analysis=analysis(customer_status="prospect"), answer_state="answered_by_competitor")
    assert answer_label(rival) == "COMPETITOR replied to our prospect"
    assert answer_label(IndexedPost(post=post(), analysis=analysis(), answer_state="unanswered")) == "no reply"
