"""Unanswered surfaced posts are re-polled on the back-off schedule, without touching workflow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from listener.index.base import SearchQuery
from listener.records import IndexedPost
from listener.workflow import WorkflowChange
from scheduler.rechecks import AnswerRechecker
from tests.factories import analysis
from tests.scheduler.helpers import StaticRefresher, local_post, make_config

STEPS = ["10m", "1h", "6h", "24h"]


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, schedule={"recheck": STEPS})


def stored(backend, number=1, answer_state="unanswered", surface=True, **fields):
    doc = IndexedPost(post=local_post(number, "¿Alguien sabe si Cinesa abre hoy?", reply_count=0, **fields),
                      analysis=analysis(surface=surface), answer_state=answer_state)
    backend.upsert([doc])
    return backend.get(doc.id)


def rechecker(config, backend, state, counters, clock, refresher=None):
    return AnswerRechecker(config, backend, state, refresher or StaticRefresher(), counters, clock)


def test_a_surfaced_unanswered_post_is_planned_at_the_first_step(config, backend, state, counters, clock):
    doc = stored(backend)
    rechecker(config, backend, state, counters, clock).plan([doc])
    assert state.recheck(doc.id).due_at == clock.now + timedelta(minutes=10)


def test_a_post_that_is_not_surfaced_is_not_planned(config, backend, state, counters, clock):
    doc = stored(backend, surface=False)
    assert rechecker(config, backend, state, counters, clock).plan([doc]) == 0


def test_an_answered_post_is_not_planned(config, backend, state, counters, clock):
    doc = stored(backend, answer_state="answered_by_brand")
    assert rechecker(config, backend, state, counters, clock).plan([doc]) == 0


def test_a_source_that_cannot_fetch_threads_is_not_planned(config, backend, state, counters, clock):
    doc = stored(backend)
    assert rechecker(config, backend, state, counters, clock, StaticRefresher(supported=False)).plan([doc]) == 0


def test_planning_again_keeps_the_existing_schedule(config, backend, state, counters, clock):
    doc = stored(backend)
    checker = rechecker(config, backend, state, counters, clock)
    checker.plan([doc])
    clock.advance(minutes=5)
    checker.plan([doc])
    assert state.recheck(doc.id).due_at == clock.now + timedelta(minutes=5)


def test_nothing_is_checked_before_it_is_due(config, backend, state, counters, clock):
    refresher = StaticRefresher()
    checker = rechecker(config, backend, state, counters, clock, refresher)
    checker.plan([stored(backend)])
    clock.advance(minutes=9)
    checker.run_due()
    assert refresher.calls == []


def test_a_brand_reply_found_on_recheck_updates_the_answer_state(config, backend, state, counters, clock):
    doc = stored(backend)
    checker = rechecker(config, backend, state, counters, clock, StaticRefresher({doc.id: (1, ["cinesa"])}))
    checker.plan([doc])
    clock.advance(minutes=10)
    checker.run_due()
    assert backend.get(doc.id).answer_state == "answered_by_brand"


def test_an_answered_post_is_no_longer_rechecked(config, backend, state, counters, clock):
    doc = stored(backend)
    checker = rechecker(config, backend, state, counters, clock, StaticRefresher({doc.id: (1, ["someone"])}))
    checker.plan([doc])
    clock.advance(minutes=10)
    checker.run_due()
    assert state.recheck(doc.id) is None


def test_a_recheck_keeps_the_team_workflow(config, backend, state, counters, clock):
    doc = stored(backend)
    backend.update_workflow(doc.id, 0, WorkflowChange.claim("marta"))
    checker = rechecker(config, backend, state, counters, clock, StaticRefresher({doc.id: (2, ["yelmocines"])}))
    checker.plan([doc])
    clock.advance(minutes=10)
    checker.run_due()
    after = backend.get(doc.id)
    assert (after.answer_state, after.workflow.assignee, after.workflow.status) == ("answered_by_competitor", "marta", "claimed")


def test_a_recheck_keeps_the_analysis(config, backend, state, counters, clock):
    doc = stored(backend)
    checker = rechecker(config, backend, state, counters, clock, StaticRefresher({doc.id: (1, ["cinesa"])}))
    checker.plan([doc])
    clock.advance(minutes=10)
    checker.run_due()
    assert backend.get(doc.id).analysis == doc.analysis


def test_a_still_unanswered_post_moves_to_the_next_step(config, backend, state, counters, clock):
    doc = stored(backend)
    checker = rechecker(config, backend, state, counters, clock)
    start = clock.now
    checker.plan([doc])
    clock.advance(minutes=10)
    checker.run_due()
    assert (state.recheck(doc.id).step, state.recheck(doc.id).due_at) == (1, start + timedelta(hours=1))


def test_after_the_last_step_the_last_step_repeats_until_the_post_is_too_old(tmp_path, backend, state, counters, clock):
    config = make_config(tmp_path, schedule={"recheck": STEPS, "recheck_max_age": "3d"})
    doc = stored(backend)
    refresher = StaticRefresher()
    checker = rechecker(config, backend, state, counters, clock, refresher)
    checker.plan([doc])
    for minutes in (10, 50, 300, 1080, 1440, 1440, 1440):  # 10 min, 1 h, 6 h, 24 h, 48 h, 72 h; 96 h is too old
        clock.advance(minutes=minutes)
        checker.run_due()
    assert (len(refresher.calls), state.recheck(doc.id), counters.get("recheck/expired")) == (6, None, 1)


def test_a_post_already_too_old_is_not_planned(tmp_path, backend, state, counters, clock):
    config = make_config(tmp_path, schedule={"recheck": STEPS, "recheck_max_age": "2d"})
    doc = stored(backend, at=clock.now - timedelta(days=3))
    assert rechecker(config, backend, state, counters, clock).plan([doc]) == 0


def test_a_post_the_team_dismissed_is_no_longer_rechecked(config, backend, state, counters, clock):
    doc = stored(backend)
    refresher = StaticRefresher()
    checker = rechecker(config, backend, state, counters, clock, refresher)
    checker.plan([doc])
    backend.update_workflow(doc.id, 0, WorkflowChange(status="dismissed", actor="marta"))
    clock.advance(minutes=10)
    checker.run_due()
    assert (refresher.calls, state.recheck(doc.id)) == ([], None)


def test_a_post_deleted_at_the_source_leaves_the_inbox_and_search_in_that_recheck(config, backend, state, counters, clock):
    gone, kept = stored(backend, 1), stored(backend, 2)
    checker = rechecker(config, backend, state, counters, clock, StaticRefresher(deleted={gone.id: "HTTP 404"}))
    checker.plan([gone, kept])
    assert {d.id for d in backend.inbox()} == {gone.id, kept.id}
    clock.advance(minutes=10)
    report = checker.run_due()
    assert [d.id for d in backend.inbox()] == [kept.id]
    assert [d.id for d in backend.search(SearchQuery(text="Cinesa")).hits] == [kept.id]
    assert (report.deleted, state.deleted(gone.id)[0], state.recheck(gone.id)) == (1, "HTTP 404", None)
    assert state.recheck(kept.id).step == 1


def test_one_look_up_serves_every_due_post_of_a_thread_first(config, backend, state, counters, clock):
    alone = stored(backend, 1, thread_id="local:1")
    pair = [stored(backend, n, thread_id="local:100") for n in (2, 3)]
    refresher = StaticRefresher()
    checker = rechecker(config, backend, state, counters, clock, refresher)
    checker.plan([alone, *pair])
    clock.advance(minutes=10)
    report = checker.run_due(limit=1)
    assert (sorted(refresher.calls[0]), report.waiting) == (["local:2", "local:3"], 1)
    checker.run_due(limit=1)
    assert refresher.calls[1] == ["local:1"]


def test_a_source_with_dear_look_ups_waits_behind_the_free_ones(tmp_path, backend, state, counters, clock):
    sources = [{"kind": "local", "name": "local", "interval": 1}, {"kind": "local", "name": "paid", "interval": 1}]
    config = make_config(tmp_path, sources=sources, schedule={"recheck": STEPS, "recheck_lookups": 3})
    paid = stored(backend, 1, source="paid")
    free = [stored(backend, n) for n in (2, 3)]
    refresher = StaticRefresher(costs={"paid": 5})
    checker = rechecker(config, backend, state, counters, clock, refresher)
    checker.plan([paid, *free])
    clock.advance(minutes=10)
    checker.run_due()
    assert sorted(sum(refresher.calls, [])) == ["local:2", "local:3"]
    assert state.recheck(paid.id).step == 0  # still due: the next round takes it


def test_each_step_checks_once(config, backend, state, counters, clock):
    doc = stored(backend)
    refresher = StaticRefresher()
    checker = rechecker(config, backend, state, counters, clock, refresher)
    checker.plan([doc])
    for minutes in (10, 50, 300, 1080):
        clock.advance(minutes=minutes)
        checker.run_due()
        checker.run_due()
    assert len(refresher.calls) == 4


def test_steps_missed_while_stopped_are_checked_once(config, backend, state, counters, clock):
    doc = stored(backend)
    refresher = StaticRefresher()
    checker = rechecker(config, backend, state, counters, clock, refresher)
    start = clock.now
    checker.plan([doc])
    clock.advance(hours=7)  # the 10 min, 1 h and 6 h steps all passed
    checker.run_due()
    checker.run_due()
    assert (len(refresher.calls), state.recheck(doc.id).due_at) == (1, start + timedelta(hours=24))


def test_a_failing_refresh_keeps_the_plan(config, backend, state, counters, clock):
    doc = stored(backend)
    checker = rechecker(config, backend, state, counters, clock, StaticRefresher(fail=RuntimeError("timeout")))
    checker.plan([doc])
    clock.advance(minutes=10)
    report = checker.run_due()
    assert (report.errors, state.recheck(doc.id).step) == (["local: timeout"], 0)


def test_a_post_answered_by_a_later_crawl_is_dropped_without_fetching(config, backend, state, counters, clock):
    doc = stored(backend)
    refresher = StaticRefresher()
    checker = rechecker(config, backend, state, counters, clock, refresher)
    checker.plan([doc])
    stored(backend, answer_state="answered")
    clock.advance(minutes=10)
    checker.run_due()
    assert (refresher.calls, state.recheck(doc.id)) == ([], None)


def test_an_empty_schedule_plans_nothing(tmp_path, backend, state, counters, clock):
    config = make_config(tmp_path, schedule={"recheck": []})
    assert rechecker(config, backend, state, counters, clock).plan([stored(backend)]) == 0


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def any_backend(request, tmp_path):
    """Each index backend in turn: SQLite in a file, Elasticsearch on the test node."""
    if request.param == "sqlite":
        from listener.index.sqlite import SQLiteBackend

        backend = SQLiteBackend(tmp_path / "index.db")
    else:
        import uuid

        from elasticsearch import Elasticsearch

        from listener.index.elasticsearch import ElasticsearchBackend

        client = Elasticsearch(request.getfixturevalue("es_url"), request_timeout=30)
        backend = ElasticsearchBackend(client, alias=f"test-{uuid.uuid4().hex[:10]}")
    backend.ensure_schema()
    yield backend
    if request.param == "elasticsearch":
        backend.es.indices.delete(index=",".join(backend.indices()))
        backend.es.indices.delete_index_template(name=backend.alias)
    backend.close()


def test_a_hacker_news_story_deleted_at_the_source_leaves_the_inbox_and_search(tmp_path, any_backend, state, counters, clock):
    from scheduler.rechecks import SpidersRefresher
    from tests.spiders.helpers import fixture
    from tests.spiders.server import LocalServer, Reply

    routes = {"/api/v1/items/41000001": Reply(404, {"error": "Not Found"}),
              "/api/v1/items/41000002": {**fixture("hackernews", "item_41000007.json"), "id": 41000002, "parent_id": None,
                                         "story_id": 41000002, "author": "user2"}}
    with LocalServer(routes) as server:
        config = make_config(tmp_path, sources=[{"kind": "hackernews", "base_url": server.url, "allow_private": True}],
                             schedule={"recheck": STEPS})
        gone, kept = (stored(any_backend, n, source="hackernews", id=f"hackernews:4100000{n}") for n in (1, 2))
        checker = rechecker(config, any_backend, state, counters, clock, SpidersRefresher(timeout=60))
        checker.plan([gone, kept])
        clock.advance(minutes=10)
        report = checker.run_due()
    assert (report.deleted, report.errors) == (1, [])
    assert [d.id for d in any_backend.inbox()] == [kept.id]
    assert [d.id for d in any_backend.search(SearchQuery(text="Cinesa")).hits] == [kept.id]
    assert state.deleted(gone.id)[0].startswith("HTTP 404")
