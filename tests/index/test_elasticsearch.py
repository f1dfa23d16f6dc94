import uuid

import pytest

from elasticsearch import NotFoundError

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
    """Remove the alias's indices (numbered, versioned or plain) and its index template."""
    names = list(client.indices.get(index=f"{alias}-0*,{alias}-v*,{alias}", expand_wildcards="all",
                                    ignore_unavailable=True, allow_no_indices=True).body)
    if names:
        client.indices.delete(index=",".join(names))
    try:
        client.indices.delete_index_template(name=alias)
    except NotFoundError:
        pass


@pytest.fixture
def backend(client, alias):
    backend = ElasticsearchBackend(client, alias=alias)
    backend.ensure_schema()
    yield backend
    drop(client, alias)


class TestElasticsearchBackend(BackendContract):
    """The whole contract suite, against a real Elasticsearch node."""


def test_the_first_index_lives_behind_a_read_and_a_write_alias(backend, client, alias):
    assert list(client.indices.get_alias(name=alias).body) == [f"{alias}-000001"]
    assert list(client.indices.get_alias(name=f"{alias}-write").body) == [f"{alias}-000001"]
    mapping = client.indices.get_mapping(index=f"{alias}-000001")[f"{alias}-000001"]["mappings"]
    assert mapping["_meta"] == {"schema_version": SCHEMA_VERSION}


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
        assert list(client.indices.get_alias(name=alias).body) == [f"{alias}-000001"]
        assert list(client.indices.get_alias(name=f"{alias}-write").body) == [f"{alias}-000001"]
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


class BulkSpy:
    """The client's ``bulk``, recording each request's operations; ``refuse`` turns items into 429s once."""

    def __init__(self, client, refuse: set[int] = frozenset()):
        self.client, self.bulk, self.requests, self.refuse = client, client.bulk, [], set(refuse)

    def __call__(self, operations, **kwargs):
        self.requests.append(list(operations))
        response = self.bulk(operations=operations, **kwargs)
        if self.refuse:
            items = []
            for i, item in enumerate(response.body["items"]):
                if len(self.requests) == 1 and i in self.refuse:
                    ((op, outcome),) = item.items()
                    item = {op: {**outcome, "status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}}
                items.append(item)
            response.body["items"] = items
        return response


def spy(backend, monkeypatch, refuse=frozenset()):
    recorder = BulkSpy(backend.es, refuse)
    monkeypatch.setattr(backend.es, "bulk", recorder)
    return recorder


def test_bulks_are_bounded_by_bytes(client, alias, monkeypatch):
    backend = ElasticsearchBackend(client, alias=alias, bulk_bytes=100_000)
    backend.ensure_schema()
    try:
        recorder = spy(backend, monkeypatch)
        docs = [doc("grande " + "x" * 5_000) for _ in range(10)]  # each ~20 KB as sent (text, record, upsert)
        result = backend.upsert(docs)
        assert sorted(result.indexed) == sorted(d.id for d in docs)
        assert 2 <= len(recorder.requests) <= 5
        assert all(sum(len(line) for line in request) <= 100_000 for request in recorder.requests)
    finally:
        drop(client, alias)


def test_bulks_are_bounded_by_count(backend, monkeypatch):
    recorder = spy(backend, monkeypatch)
    result = backend.upsert([doc(f"post {i}") for i in range(1_201)])
    assert len(result.indexed) == 1_201
    assert [len(request) for request in recorder.requests] == [500, 500, 201]


def test_only_retryable_refusals_are_retried(client, alias, monkeypatch):
    backend = ElasticsearchBackend(client, alias=alias, backoff=0)
    backend.ensure_schema()
    try:
        recorder = spy(backend, monkeypatch, refuse={0})
        busy, good, bad = doc("ocupado"), doc("bien"), doc("mal", lead_score=10**12)
        result = backend.upsert([busy, good, bad])
        assert sorted(result.indexed) == sorted([busy.id, good.id])
        assert [post_id for post_id, _ in result.failed] == [bad.id]
        # Only the refused post is sent again (once more as an update: the node did in fact write it).
        assert [len(request) for request in recorder.requests[:2]] == [3, 1]
        assert all(len(request) == 1 and b"ocupado" in request[0] for request in recorder.requests[1:])
        assert backend.get(busy.id).post.text == "ocupado"
    finally:
        drop(client, alias)


def test_retryable_refusals_give_up_and_are_reported(client, alias, monkeypatch):
    backend = ElasticsearchBackend(client, alias=alias, backoff=0)
    backend.ensure_schema()
    try:
        monkeypatch.setattr(backend.es, "bulk", lambda operations, **kw: _busy(operations))
        result = backend.upsert([doc("ocupado")])
        assert result.indexed == []
        assert "gave up after 4 attempts" in result.failed[0][1]
    finally:
        drop(client, alias)


def _busy(operations):
    from elasticsearch import ApiError
    from elastic_transport import ApiResponseMeta, HttpHeaders

    meta = ApiResponseMeta(status=429, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=None)
    raise ApiError("too many requests", meta=meta, body={"error": {"type": "circuit_breaking_exception", "reason": "data too large"}})


def test_a_bulk_refused_as_a_whole_is_split_until_the_culprit_stands_alone(backend, monkeypatch):
    from elasticsearch import ApiError
    from elastic_transport import ApiResponseMeta, HttpHeaders

    real = backend.es.bulk
    culprit = doc("culpable")

    def bulk(operations, **kwargs):
        if any(b"culpable" in line for line in operations):
            meta = ApiResponseMeta(status=400, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=None)
            raise ApiError("bad request", meta=meta, body={"error": {"type": "action_request_validation_exception", "reason": "bad"}})
        return real(operations=operations, **kwargs)

    monkeypatch.setattr(backend.es, "bulk", bulk)
    others = [doc(f"inocente {i}") for i in range(9)]
    result = backend.upsert([*others[:4], culprit, *others[4:]])
    assert sorted(result.indexed) == sorted(d.id for d in others)
    assert result.failed == [(culprit.id, "action_request_validation_exception: bad")]


def test_nfd_text_ingested_through_the_pipeline_is_found_by_an_nfc_search(backend, tmp_path):
    from listener.pipeline import Pipeline
    from tests.factories import post
    from tests.scheduler.helpers import KeywordAnalyzer, make_config

    nfd = post("La cancio\u0301n de la peli\u0301cula")
    report = Pipeline(make_config(tmp_path), backend, KeywordAnalyzer()).ingest([nfd])
    assert report.indexed == 1
    assert backend.search(SearchQuery(text="canci\u00f3n")).total == 1


def test_an_id_too_long_even_to_be_a_keyword_fails_alone(backend):
    immense = doc("inmenso", post_fields={"id": "test:" + "x" * 40_000})
    others = [doc(f"vecino {i}") for i in range(5)]
    result = backend.upsert([*others[:2], immense, *others[2:]])
    assert sorted(result.indexed) == sorted(d.id for d in others)
    assert [post_id for post_id, _ in result.failed] == [immense.id]
    assert "immense term" in result.failed[0][1]


def test_a_cluster_listed_by_its_nodes_is_used_while_one_of_them_is_down(es_url, alias, tmp_path, client):
    from listener.config import load_config
    from tests.es_cluster import free_port

    config_file = tmp_path / "listener.yaml"
    config_file.write_text(f"index:\n  backend: elasticsearch\n  index: {alias}\n"
                           f"  url: [http://127.0.0.1:{free_port()}, {es_url}]\n")
    backend = ElasticsearchBackend.from_config(load_config(config_file))  # the dead node first
    backend.ensure_schema()
    try:
        posts = [doc("Cinesa abre hoy"), doc("Cinesa cierra hoy")]
        assert backend.upsert(posts).indexed == [p.id for p in posts]
        backend.refresh()
        assert backend.count() == 2 and backend.get(posts[1].id).post.text == "Cinesa cierra hoy"
    finally:
        drop(client, alias)
