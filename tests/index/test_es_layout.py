"""Rollover, reindex and adoption of older layouts, against a real Elasticsearch node."""

import threading
import uuid

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan

from listener.index.base import SearchQuery, inbox_query
from listener.index.elasticsearch import ElasticsearchBackend, crawl_fields, workflow_fields
from listener.index.es_schema import MAPPINGS, index_body
from listener.records import Feedback, Workflow
from listener.workflow import WorkflowChange
from tests.factories import T0, doc
from tests.index.test_elasticsearch import drop

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def client(es_url):
    client = Elasticsearch(es_url, request_timeout=60)
    yield client
    client.close()


@pytest.fixture
def alias(client):
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    drop(client, name)


def open_backend(client, alias, **options):
    backend = ElasticsearchBackend(client, alias=alias, **options)
    backend.ensure_schema()
    return backend


def aliased(client, name):
    return sorted(client.indices.get_alias(name=name).body)


def copies(client, alias, post_id):
    """Where the post has a document, over every index of the alias (kept ones too)."""
    client.indices.refresh(index=f"{alias}-0*")
    hits = client.search(index=f"{alias}-0*", query={"ids": {"values": [post_id]}}, source=False)["hits"]["hits"]
    return sorted(hit["_index"] for hit in hits)


def add(backend, *docs):
    result = backend.upsert(docs)
    assert not result.failed, result.failed
    backend.refresh()
    return docs


def test_a_rollover_starts_a_new_write_index_and_reads_see_both(client, alias):
    backend = open_backend(client, alias, rollover={"max_docs": 2, "min_docs": 1})
    add(backend, doc("uno"), doc("dos"))
    assert backend.rollover() == f"{alias}-000002"
    add(backend, doc("tres"))
    assert backend.rollover() is None  # one post in the new index: not due
    assert aliased(client, alias) == [f"{alias}-000001", f"{alias}-000002"]
    assert aliased(client, f"{alias}-write") == [f"{alias}-000002"]
    assert backend.count() == 3
    assert backend.search(SearchQuery(text="tres")).total == 1


def test_a_recrawl_after_rollover_updates_the_post_where_it_lives_and_keeps_the_teams_work(client, alias):
    backend = open_backend(client, alias, rollover={"max_docs": 1})
    old, other = doc("la película se cortó"), doc("otra")
    add(backend, old, other)
    claimed = backend.claim(old.id, "ana", 0)
    backend.add_feedback(old.id, Feedback({"complaint": True}, by="ana", at=T0))
    assert backend.rollover() == f"{alias}-000002"

    recrawl = doc("la película se cortó (editado)", post_fields={"id": old.id})
    add(backend, recrawl, doc("nueva"))
    backend.update_workflow(other.id, 0, WorkflowChange.claim("pau"))  # a workflow write to the older index
    backend.refresh()

    assert copies(client, alias, old.id) == [f"{alias}-000001"]
    assert backend.count() == 3
    got = backend.get(old.id)
    assert got.post.text == "la película se cortó (editado)"
    assert (got.workflow.assignee, got.workflow.version) == ("ana", claimed.version)
    assert [f.labels for f in got.feedback] == [{"complaint": True}]
    assert backend.get(other.id).workflow.assignee == "pau"
    assert backend.search(SearchQuery(text="editado")).total == 1


def test_erasure_reaches_every_backing_index_and_those_kept_after_a_reindex(client, alias):
    backend = open_backend(client, alias, rollover={"max_docs": 1})
    first, second = doc("de @ana", post_fields={"author": "@ana"}), doc("otra vez", post_fields={"author": "ana"})
    add(backend, first)
    backend.rollover()
    mention = doc("hablando con @ana del cine", post_fields={"author": "@pau"})
    add(backend, second, mention)
    backend.reindex()  # keeps the old indices, out of the aliases

    assert backend.delete_by_author("@ana") == 2
    assert backend.redact_mentions("@ana") == 1
    backend.purge(patience=120)

    assert copies(client, alias, first.id) == copies(client, alias, second.id) == []
    assert backend.count() == 1
    texts = [hit["_source"]["text"] for hit in scan(client, index=f"{alias}-0*", query={"query": {"match_all": {}}})]
    assert texts == ["hablando con @[erased] del cine"] * 2  # the live copy and the kept one
    stats = client.indices.stats(index=f"{alias}-0*")["indices"]
    assert all(data["primaries"]["docs"]["deleted"] == 0 for data in stats.values())


def test_reindex_moves_both_aliases_at_once_and_keeps_every_post_and_the_teams_work(client, alias):
    backend = open_backend(client, alias, rollover={"max_docs": 1})
    first, second = doc("primera"), doc("segunda")
    add(backend, first)
    backend.claim(first.id, "ana", 0)
    backend.rollover()
    add(backend, second)

    report = backend.reindex()

    assert report.sources == [f"{alias}-000001", f"{alias}-000002"]
    assert report.targets == [f"{alias}-000003", f"{alias}-000004"]
    assert report.posts == 2 and not report.deleted
    assert aliased(client, alias) == report.targets
    assert aliased(client, f"{alias}-write") == [f"{alias}-000004"]
    blocks = client.indices.get_settings(index=",".join(report.sources), name="index.blocks.write")
    assert all(data["settings"]["index"]["blocks"]["write"] == "true" for data in blocks.values())
    assert backend.get(first.id).workflow.assignee == "ana"
    assert copies(client, alias, first.id) == [f"{alias}-000001", f"{alias}-000003"]
    # The team's optimistic concurrency still holds on the new indices.
    backend.update_workflow(first.id, 1, WorkflowChange("ana", note="llamada"))
    with pytest.raises(Exception, match="changed"):
        backend.update_workflow(first.id, 1, WorkflowChange("pau", note="otra"))

    again = backend.reindex(delete_old=True)
    assert again.deleted
    assert not client.indices.exists(index=",".join(report.targets))
    assert backend.count() == 2
    assert len(backend.get(first.id).workflow.notes) == 1


def test_writes_made_while_a_reindex_copies_reach_the_new_indices(client, alias):
    backend = open_backend(client, alias)
    kept, edited = doc("se queda"), doc("se edita")
    add(backend, kept, edited)
    writer = ElasticsearchBackend(client, alias=alias)  # another process, same cluster
    newcomer = doc("llega durante la copia")

    def meanwhile(step):
        if step == "copied":
            writer.upsert([doc("se edita (versión 2)", post_fields={"id": edited.id}), newcomer])
            writer.claim(kept.id, "ana", 0)

    backend.reindex(progress=meanwhile)
    backend.refresh()

    assert backend.count() == 3
    assert backend.get(edited.id).post.text == "se edita (versión 2)"
    assert backend.get(kept.id).workflow.assignee == "ana"
    assert backend.get(newcomer.id) is not None
    assert copies(client, alias, newcomer.id) == [f"{alias}-000001", f"{alias}-000002"]  # the old one is kept


def test_inbox_queries_and_claims_during_a_reindex_never_fail_and_always_see_every_post(client, alias):
    backend = open_backend(client, alias)
    posts = add(backend, *[doc(f"queja {i}", intents=("complaint",), lead_score=50 + i) for i in range(60)])
    expected = backend.count(inbox_query())
    assert expected == 60
    unclaimed = [d.id for d in posts]
    seen, errors, claimed = [], [], []
    steps = threading.Semaphore(0)
    queried = threading.Event()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                seen.append(backend.search(inbox_query(limit=100)).total)
                backend.inbox(limit=5)
                if unclaimed:
                    backend.claim(unclaimed[-1], "ana", 0)
                    claimed.append(unclaimed.pop())
            except Exception as exc:  # noqa: BLE001 - every failure is what this test counts
                errors.append(exc)
            if steps.acquire(blocking=False):
                queried.set()

    def after_each_step(step):
        # The reader answers at least one whole query after each step before the reindex goes on.
        queried.clear()
        steps.release()
        assert queried.wait(60), f"the inbox reader stalled after {step}"

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        backend.reindex(delete_old=True, progress=after_each_step)
    finally:
        stop.set()
        thread.join()

    assert errors == []
    assert len(seen) >= 5 and set(seen) == {expected}
    assert backend.count(inbox_query()) == expected
    backend.refresh()
    assert sorted(d.id for d in backend.scan(SearchQuery(filters={"assignee": ("ana",)}))) == sorted(claimed)


def test_a_plain_index_from_before_the_aliases_is_adopted_without_losing_posts(client, alias):
    client.indices.create(index=alias, **index_body("plugin"))
    claimed = doc("película antigua")
    client.index(index=alias, id=claimed.id, refresh=True,
                 document={**crawl_fields(claimed), **workflow_fields(Workflow(status="claimed", assignee="ana", version=1))})

    backend = open_backend(client, alias)

    assert aliased(client, alias) == [f"{alias}-000001"]
    assert aliased(client, f"{alias}-write") == [f"{alias}-000001"]
    assert backend.get(claimed.id).workflow.assignee == "ana"
    assert backend.search(SearchQuery(text="pelicula")).total == 1
    add(backend, doc("nueva"))
    assert backend.count() == 2


def test_a_versioned_index_behind_the_alias_is_adopted_in_place(client, alias):
    legacy = f"{alias}-v2"
    mappings = {key: value for key, value in MAPPINGS.items() if key != "_meta"}
    client.indices.create(index=legacy, settings=index_body("plugin")["settings"], mappings=mappings, aliases={alias: {}})
    old = doc("de antes")
    client.index(index=legacy, id=old.id, document={**crawl_fields(old), **workflow_fields(Workflow())}, refresh=True)

    backend = open_backend(client, alias, rollover={"max_docs": 1})
    assert aliased(client, f"{alias}-write") == [legacy]
    assert backend.rollover() == f"{alias}-000001"
    add(backend, doc("de antes, otra vez", post_fields={"id": old.id}))

    assert copies(client, alias, old.id) == []  # still only in the adopted index
    assert client.count(index=legacy)["count"] == 1
    assert backend.get(old.id).post.text == "de antes, otra vez"
    assert backend.count() == 1


def test_new_indices_take_shards_and_replicas_from_the_configuration(client, alias):
    backend = open_backend(client, alias, shards=2, replicas=0, rollover={"max_docs": 1})
    add(backend, doc("uno"))
    new = backend.rollover()
    settings = client.indices.get_settings(index=new)[new]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("2", "0")
    add(backend, doc("dos"), doc("uno, de nuevo", post_fields={"id": backend.search(SearchQuery(text="uno")).hits[0].id}))
    assert backend.count() == 2


def test_listener_rollover_and_reindex_from_the_command_line(client, alias, tmp_path):
    from click.testing import CliRunner

    from listener.cli import main

    config = tmp_path / "listener.yaml"
    url = client.transport.node_pool.get().base_url
    config.write_text(f"index: {{backend: elasticsearch, url: '{url}', index: {alias}, replicas: 0, rollover: {{max_docs: 1}}}}\n"
                      f"data_dir: {tmp_path / 'data'}\n")
    add(open_backend(client, alias), doc("uno"))
    runner = CliRunner()

    rolled = runner.invoke(main, ["rollover", "--config", str(config)])
    assert rolled.exit_code == 0, rolled.output
    assert f"New posts now go to {alias}-000002." in rolled.output
    assert "No rollover due" in runner.invoke(main, ["rollover", "--config", str(config)]).output

    rebuilt = runner.invoke(main, ["reindex", "--config", str(config), "--delete-old"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"Reindexed 1 post(s) from {alias}-000001, {alias}-000002 into {alias}-000003, {alias}-000004" in rebuilt.output
    assert aliased(client, alias) == [f"{alias}-000003", f"{alias}-000004"]
