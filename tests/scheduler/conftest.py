from __future__ import annotations

import pytest

from listener.index.sqlite import SQLiteBackend
from listener.state import StateStore
from scheduler.alerts import Notifier
from scheduler.stats import Counters
from tests.scheduler.helpers import Clock


@pytest.fixture
def backend(tmp_path):
    with SQLiteBackend(tmp_path / "index.db") as backend:
        backend.ensure_schema()
        yield backend


@pytest.fixture
def state(tmp_path):
    with StateStore(tmp_path / "state.db") as store:
        yield store


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def counters():
    return Counters()


@pytest.fixture
def notifier(state, counters):
    return Notifier([], state, counters)
