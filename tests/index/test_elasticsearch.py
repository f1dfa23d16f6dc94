import uuid

import pytest

from listener.index.base import SearchQuery
from listener.index.elasticsearch import ElasticsearchBackend, crawl_fields, workflow_fields
from listener.index.es_schema import SCHEMA_VERSION
from listener.records import Feedback, Workflow
from tests.factories import T0, doc
from tests.index.contract import BackendContract

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def client(es_url):
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=30)
    yield client
    client.close()


@pytest.fixture
def alias():
    return f"test-{uuid.uuid4().hex[:10]}"


def drop(client, alias):
    names = list(client.indices.get(index=f"{alias}-v*", expand_wildcards="all").body)
    if names:
        client.indices.delete(index=",".join(names))


@pytest.fixture
def backend(client, alias):
    backend = ElasticsearchBackend(client, alias=alias)
    backend.ensure_schema()
    yield backend
    drop(client, alias)


class TestElasticsearchBackend(BackendContract):
    """The whole contract suite, against a real Elasticsearch node."""


def test_index_lives_behind_an_alias_on_a_versioned_index(backend, client, alias):
    assert list(client.indices.get_alias(name=alias).body) == [f"{alias}-v{SCHEMA_VERSION}"]


def test_ensure_schema_twice_changes_nothing(backend, client, alias):
    backend.upsert([doc("se queda")])
    backend.ensure_schema()
    backend.refresh()
    assert backend.count() == 1


def test_an_older_schema_is_migrated_and_the_alias_swapped(client, alias):
    old = f"{alias}-v0"
    client.indices.create(index=old, mappings={"dynamic": True})
    client.indices.put_alias(index=old, name=alias)
    legacy = ElasticsearchBackend(client, alias=alias)
    item = doc("publicación antigua")
    client.index(index=old, id=item.id, document={**crawl_fields(item), **workflow_fields(Workflow())}, refresh=True)
    try:
        legacy.ensure_schema()
        assert list(client.indices.get_alias(name=alias).body) == [f"{alias}-v{SCHEMA_VERSION}"]
        assert legacy.get(item.id).post.text == "publicación antigua"
        assert legacy.search(SearchQuery(text="publicacion")).total == 1
    finally:
        drop(client, alias)


def test_an_index_from_before_feedback_is_migrated_with_the_teams_work_and_takes_feedback(client, alias):
    old = f"{alias}-v1"
    client.indices.create(index=old, mappings={"dynamic": True})
    client.indices.put_alias(index=old, name=alias)
    item = doc("reclamación antigua")
    claimed = Workflow(status="claimed", assignee="ana", version=1)
    client.index(index=old, id=item.id, document={**crawl_fields(item), **workflow_fields(claimed)}, refresh=True)
    upgraded = ElasticsearchBackend(client, alias=alias)
    try:
        upgraded.ensure_schema()
        assert upgraded.get(item.id).workflow.assignee == "ana"
        upgraded.add_feedback(item.id, Feedback({"complaint": True}, by="ana", at=T0))
        upgraded.refresh()
        assert [(h.workflow.status, len(h.feedback)) for h in upgraded.iter_feedback()] == [("claimed", 1)]
    finally:
        drop(client, alias)


def test_a_post_the_mapping_rejects_is_reported_and_the_rest_written(backend):
    good = doc("bien")
    bad = doc("mal", lead_score=10**12)  # beyond the integer field's range
    result = backend.upsert([good, bad])
    assert result.indexed == [good.id]
    assert [post_id for post_id, _ in result.failed] == [bad.id]
    assert "lead_score" in result.failed[0][1]
