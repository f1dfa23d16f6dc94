"""Unanswered surfaced posts are re-polled on the back-off schedule, without touching workflow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from listener.records import IndexedPost
from listener.workflow import WorkflowChange
from scheduler.rechecks import AnswerRechecker
from tests.factories import analysis
from tests.scheduler.helpers import StaticRefresher, local_post, make_config

STEPS = ["10m", "1h", "6h", "24h"]


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, schedule={"recheck": STEPS})


def stored(backend, number=1, answer_state="unanswered", surface=True):
    doc = IndexedPost(post=local_post(number, "¿Alguien sabe si Cinesa abre hoy?", reply_count=0),
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


def test_rechecks_stop_after_the_last_step(config, backend, state, counters, clock):
    doc = stored(backend)
    checker = rechecker(config, backend, state, counters, clock)
    checker.plan([doc])
    for minutes in (10, 50, 300, 1080):
        clock.advance(minutes=minutes)
        checker.run_due()
    assert state.recheck(doc.id) is None


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
