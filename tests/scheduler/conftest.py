from __future__ import annotations

import uuid

import pytest
from elasticsearch import Elasticsearch

from listener.index.sqlite import SQLiteBackend
from listener.state import StateStore
from scheduler.alerts import Notifier
from scheduler.lease import lease_index
from scheduler.stats import Counters
from tests.scheduler.helpers import Clock
from tests.scheduler.scrapyd import Scrapyd


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


@pytest.fixture
def alias(es_url):
    """A fresh Elasticsearch index name; its indices and its lease index are deleted afterwards."""
    name = f"test-leader-{uuid.uuid4().hex[:8]}"
    yield name
    with Elasticsearch(es_url) as client:
        for index in client.indices.get(index=f"{name}*,{lease_index(name)}*", expand_wildcards="all"):
            client.indices.delete(index=index)


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """Two scrapyd daemons, for the tests of one module."""
    folder = tmp_path_factory.mktemp("scrapyd")
    with Scrapyd(folder / "one") as one, Scrapyd(folder / "two") as two:
        yield one, two
