"""Spikes alert once, naming the problem with examples; a spike that grows stays one alert."""

from __future__ import annotations

from datetime import timedelta

from listener.pipeline import Pipeline
from scheduler.alerts import Notifier
from scheduler.settings import SpikeSettings
from scheduler.spike_alerts import SpikeWatch
from tests.scheduler.helpers import Clock, KeywordAnalyzer, NOW, local_post, make_config
from tests.scheduler.test_notifier import Recorder

OUTAGE = [
    "La app de Cinesa no funciona, no puedo comprar entradas",
    "No me funciona la app de @cinesa para comprar entradas!!",
    "¿A alguien más no le funciona la app de Cinesa? No me deja comprar las entradas",
    "cinesa la app caída otra vez, imposible comprar entradas",
    "Llevo media hora intentando comprar entradas en la app de Cinesa y nada, no funciona",
]


def ingest(tmp_path, backend, posts):
    Pipeline(make_config(tmp_path), backend, KeywordAnalyzer()).ingest(posts)


def watch(tmp_path, backend, state, clock, **settings):
    channel = Recorder()
    spikes = SpikeWatch(make_config(tmp_path), backend, Notifier([channel], state),
                        SpikeSettings(**{"min_authors": 3, "window": 1800, **settings}), clock)
    return spikes, channel


def outage(start: int, count: int, minutes_apart: int = 2):
    return [local_post(start + i, OUTAGE[i % len(OUTAGE)], at=NOW + timedelta(minutes=(start + i) * minutes_apart))
            for i in range(count)]


def test_three_authors_with_the_same_problem_make_one_alert(tmp_path, backend, state):
    ingest(tmp_path, backend, outage(0, 3))
    spikes, channel = watch(tmp_path, backend, state, Clock(NOW + timedelta(minutes=10)))
    spikes.check()
    assert len(channel.alerts) == 1


def test_the_alert_names_the_problem_and_gives_examples(tmp_path, backend, state):
    ingest(tmp_path, backend, outage(0, 4))
    spikes, channel = watch(tmp_path, backend, state, Clock(NOW + timedelta(minutes=10)), examples=2)
    spikes.check()
    alert = channel.alerts[0]
    assert ("app" in alert.data["problem"], alert.data["authors"], len(alert.items)) == (True, 4, 2)


def test_two_authors_are_not_yet_a_spike(tmp_path, backend, state):
    ingest(tmp_path, backend, outage(0, 2))
    spikes, channel = watch(tmp_path, backend, state, Clock(NOW + timedelta(minutes=10)))
    spikes.check()
    assert channel.alerts == []


def test_a_growing_spike_does_not_alert_again(tmp_path, backend, state):
    clock = Clock(NOW + timedelta(minutes=10))
    ingest(tmp_path, backend, outage(0, 3))
    spikes, channel = watch(tmp_path, backend, state, clock)
    spikes.check()
    ingest(tmp_path, backend, outage(3, 2))
    clock.advance(minutes=5)
    spikes.check()
    assert len(channel.alerts) == 1


def test_complaints_spread_wider_than_the_window_are_not_a_spike(tmp_path, backend, state):
    ingest(tmp_path, backend, outage(0, 3, minutes_apart=20))
    spikes, channel = watch(tmp_path, backend, state, Clock(NOW + timedelta(minutes=61)))
    spikes.check()
    assert channel.alerts == []


def test_a_spike_is_not_repeated_after_a_restart(tmp_path, backend, state):
    ingest(tmp_path, backend, outage(0, 3))
    clock = Clock(NOW + timedelta(minutes=10))
    first, channel = watch(tmp_path, backend, state, clock)
    first.check()
    second, _ = watch(tmp_path, backend, state, clock)
    second.notifier.channels = [channel]
    second.check()
    assert len(channel.alerts) == 1
