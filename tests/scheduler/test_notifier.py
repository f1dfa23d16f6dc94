"""Each alert is sent once, across restarts; a total delivery failure is retried later."""

from __future__ import annotations

from listener.state import StateStore
from scheduler.alerts import Alert, Channel, ChannelError, Notifier
from scheduler.stats import Counters

ALERT = Alert(kind="spike", keys=("spike:1", "spike-post:a", "spike-post:b"), title="Spike")


class Recorder(Channel):
    kind = "recorder"

    def __init__(self, events=("spike", "sla", "prospect", "digest"), fail: bool = False):
        super().__init__("recorder", events)
        self.fail = fail
        self.alerts: list[Alert] = []

    def deliver(self, alert: Alert) -> None:
        if self.fail:
            raise ChannelError("down")
        self.alerts.append(alert)


def test_an_alert_is_delivered_once(state):
    channel = Recorder()
    notifier = Notifier([channel], state)
    notifier.send(ALERT)
    notifier.send(ALERT)
    assert len(channel.alerts) == 1


def test_an_alert_is_not_repeated_after_a_restart(tmp_path):
    channel = Recorder()
    with StateStore(tmp_path / "state.db") as first:
        Notifier([channel], first).send(ALERT)
    with StateStore(tmp_path / "state.db") as second:
        Notifier([channel], second).send(ALERT)
    assert len(channel.alerts) == 1


def test_the_posts_an_alert_covers_are_recorded(state):
    Notifier([Recorder()], state).send(ALERT)
    assert state.alert_sent("spike-post:b")


def test_an_alert_no_channel_took_is_sent_again_later(state):
    channel = Recorder(fail=True)
    notifier = Notifier([channel], state)
    notifier.send(ALERT)
    channel.fail = False
    notifier.send(ALERT)
    assert len(channel.alerts) == 1


def test_one_working_channel_is_enough_to_count_as_sent(state):
    working, broken = Recorder(), Recorder(fail=True)
    notifier = Notifier([broken, working], state)
    notifier.send(ALERT)
    notifier.send(ALERT)
    assert len(working.alerts) == 1


def test_a_channel_gets_only_the_events_it_asked_for(state):
    digest_only = Recorder(events=("digest",))
    Notifier([digest_only], state).send(ALERT)
    assert digest_only.alerts == []


def test_sent_alerts_are_counted_per_channel_kind(state):
    counters = Counters()
    Notifier([Recorder()], state, counters).send(ALERT)
    assert counters.get("alerts/sent/recorder") == 1
