"""The web app over a seeded index, on SQLite always and Elasticsearch when a node is available."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from listener.web import create_app
from tests.web.corpus import NOW, config, corpus
from tests.web.helpers import USERS, log_in


@pytest.fixture(scope="session")
def es_backend(es_url):
    from elasticsearch import Elasticsearch

    from listener.index.elasticsearch import ElasticsearchBackend

    client = Elasticsearch(es_url, request_timeout=30)
    backend = ElasticsearchBackend(client, alias=f"web-{uuid.uuid4().hex[:8]}")
    backend.ensure_schema()
    yield backend
    client.indices.delete(index=",".join(backend.indices()))
    client.indices.delete_index_template(name=backend.alias)
    client.close()


def reset_es(backend, docs) -> None:
    """Put the shared test index back to the corpus, workflow, feedback and all, unless no test changed it."""
    from elasticsearch.helpers import bulk

    from listener.index.elasticsearch import crawl_fields, workflow_fields
    from listener.records import Workflow

    changed = {"bool": {"should": [
        {"range": {"version": {"gt": 0}}}, {"exists": {"field": "feedback_labels"}}, {"bool": {"must_not": {"ids": {"values": [d.id for d in docs]}}}},
    ]}}
    if backend.es.count(index=backend.alias, query=changed)["count"] == 0 and backend.count() == len(docs):
        return
    stale = [h["_id"] for h in backend.es.search(index=backend.alias, size=1000, source=False)["hits"]["hits"]]
    actions = [{"_op_type": "delete", "_index": backend.alias, "_id": i} for i in stale]
    actions += [{"_op_type": "index", "_index": backend.alias, "_id": d.id, "_source": {**crawl_fields(d), **workflow_fields(Workflow())}} for d in docs]
    bulk(backend.es, actions, refresh=True)


def seeded(request, kind: str, tmp_path):
    docs = corpus()
    if kind == "sqlite":
        from listener.index.sqlite import SQLiteBackend

        backend = SQLiteBackend(tmp_path / "index.db")
        backend.ensure_schema()
        backend.upsert(docs)
        yield backend
        backend.close()
    else:
        backend = request.getfixturevalue("es_backend")
        reset_es(backend, docs)
        yield backend


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def backend(request, tmp_path):
    yield from seeded(request, request.param, tmp_path)


@pytest.fixture
def sqlite_backend(request, tmp_path):
    yield from seeded(request, "sqlite", tmp_path)


@pytest.fixture
def app(backend):
    return create_app(config(), backend, users=USERS, now=lambda: NOW)


@pytest.fixture
def anonymous(app):
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def agent(app):
    return log_in(app, "ana")


@pytest.fixture
def other_agent(app):
    return log_in(app, "luis")


@pytest.fixture
def analyst(app):
    return log_in(app, "marta")


@pytest.fixture
def admin(app):
    return log_in(app, "root")


CHROMIUM = os.environ.get("LISTENER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, one for every browser test. Missing, the tests are skipped with the
    reason; under ``LISTENER_REQUIRE_BROWSER=1`` (as in CI) they fail instead."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LISTENER_CHROMIUM)"
        if os.environ.get("LISTENER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"a browser is required (LISTENER_REQUIRE_BROWSER=1): {reason}", pytrace=False)
        pytest.skip(reason)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
