"""A run fetches, indexes, and only then advances the cursors."""

from __future__ import annotations

from listener.index.base import WriteResult
from listener.pipeline import Pipeline
from scheduler.crawling import CrawlJob, SourceRunner, crawl_jobs
from tests.scheduler.helpers import KeywordAnalyzer, LocalSource, local_post, make_config

COMPLAINT = "La app de Cinesa no funciona"


def runner(config, backend, state, counters, source, hooks=()):
    pipeline = Pipeline(config, backend, KeywordAnalyzer())
    return SourceRunner(config, backend, state, pipeline, source, counters, on_indexed=hooks)


class FailingWrites:
    """A backend whose writes all fail, as a broken index would report them."""

    def __init__(self, backend):
        self._backend = backend

    def upsert(self, items):
        return WriteResult(failed=[(item.id, "disk full") for item in items])

    def __getattr__(self, name):
        return getattr(self._backend, name)


def test_a_run_indexes_the_posts(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    source = LocalSource([local_post(1, COMPLAINT), local_post(2, "Hola Cinesa")])
    runner(config, backend, state, counters, source).run(CrawlJob("local"))
    assert backend.count() == 2


def test_a_post_found_deleted_at_its_source_is_not_indexed_again(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    state.mark_deleted("local:1", "local", "HTTP 404")
    source = LocalSource([local_post(1, COMPLAINT), local_post(2, "Hola Cinesa")])
    runner(config, backend, state, counters, source).run(CrawlJob("local"))
    assert (backend.get("local:1"), backend.count(), counters.get("crawl/deleted_skipped")) == (None, 1, 1)


def test_a_run_saves_the_new_cursors(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    source = LocalSource([local_post(1, COMPLAINT)])
    runner(config, backend, state, counters, source).run(CrawlJob("local"))
    assert state.load_cursors("local") == {"all": str(local_post(1, "").created_at.timestamp())}


def test_the_next_run_starts_from_the_saved_cursor(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    source = LocalSource([local_post(1, COMPLAINT)])
    run = runner(config, backend, state, counters, source)
    run.run(CrawlJob("local"))
    source.publish(local_post(2, COMPLAINT))
    assert run.run(CrawlJob("local")).fetched == 1


def test_cursors_stay_put_when_the_index_fails_to_write(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    source = LocalSource([local_post(1, COMPLAINT)])
    outcome = runner(config, FailingWrites(backend), state, counters, source).run(CrawlJob("local"))
    assert (state.load_cursors("local"), outcome.cursors_saved) == ({}, False)


def test_a_write_failure_is_recorded_in_the_run(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    source = LocalSource([local_post(1, COMPLAINT)])
    runner(config, FailingWrites(backend), state, counters, source).run(CrawlJob("local"))
    assert "not indexed; cursors kept" in state.last_run("local").errors[0]


def test_source_errors_are_recorded_and_the_posts_still_indexed(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    source = LocalSource([local_post(1, COMPLAINT)], errors=["local: HTTP 503 (http://x)"])
    runner(config, backend, state, counters, source).run(CrawlJob("local"))
    assert (state.last_run("local").errors, backend.count()) == (("local: HTTP 503 (http://x)",), 1)


def test_a_crawler_that_raises_is_a_failed_run_not_a_crash(tmp_path, backend, state, counters):
    config = make_config(tmp_path)

    def broken(*_):
        raise RuntimeError("subprocess vanished")

    runner(config, backend, state, counters, broken).run(CrawlJob("local"))
    assert state.last_run("local").errors == ("local: RuntimeError: subprocess vanished",)


def test_a_run_records_how_many_posts_it_fetched(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    source = LocalSource([local_post(1, COMPLAINT), local_post(2, COMPLAINT)])
    runner(config, backend, state, counters, source).run(CrawlJob("local"))
    assert state.last_run("local").posts == 2


def test_hooks_see_the_indexed_posts_with_their_analysis(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    seen = []
    source = LocalSource([local_post(1, COMPLAINT)])
    runner(config, backend, state, counters, source, hooks=[seen.extend]).run(CrawlJob("local"))
    assert [(d.id, d.analysis.intents) for d in seen] == [("local:1", ("complaint",))]


def test_a_source_with_several_queries_gets_one_job_per_query(tmp_path):
    config = make_config(tmp_path, sources=[{"kind": "local", "name": "local", "queries": ["cinesa", "yelmo"]}])
    assert [job.name for job, _ in crawl_jobs(config)] == ["local/cinesa", "local/yelmo"]


def test_a_query_job_crawls_only_its_query(tmp_path, backend, state, counters):
    config = make_config(tmp_path, sources=[{"kind": "local", "name": "local", "queries": ["cinesa", "yelmo"]}])
    source = LocalSource([local_post(1, "cinesa no funciona"), local_post(2, "yelmo no funciona")])
    runner(config, backend, state, counters, source).run(CrawlJob("local", "yelmo"))
    assert source.calls[0].queries == ("yelmo",)


def test_a_query_job_does_not_undo_a_cursor_another_job_saved_meanwhile(tmp_path, backend, state, counters):
    config = make_config(tmp_path, sources=[{"kind": "local", "name": "local", "queries": ["cinesa", "yelmo"]}])
    source = LocalSource([local_post(1, "yelmo no funciona")])
    state.save_cursors("local", {"cinesa": "1"})

    def crawl_while_the_other_job_saves(config, source_config, cursors):
        state.save_cursors("local", {"cinesa": "999999999999"})  # the cinesa job finishes meanwhile
        return source(config, source_config, cursors)

    runner(config, backend, state, counters, crawl_while_the_other_job_saves).run(CrawlJob("local", "yelmo"))
    assert state.load_cursors("local")["cinesa"] == "999999999999"


class PickyAnalyzer(KeywordAnalyzer):
    """Fails on one post, as a bug in an NLP component would."""

    def analyze(self, post):
        if "💥" in post.text:
            raise ValueError("component crashed")
        return super().analyze(post)

    def analyze_many(self, posts, batch_size: int = 256):
        return [self.analyze(post) for post in posts]


def test_a_post_the_analysis_rejects_does_not_hold_the_cursors_back(tmp_path, backend, state, counters):
    config = make_config(tmp_path)
    source = LocalSource([local_post(1, COMPLAINT), local_post(2, "💥 Cinesa")])
    pipeline = Pipeline(config, backend, PickyAnalyzer())
    SourceRunner(config, backend, state, pipeline, source, counters).run(CrawlJob("local"))
    assert state.load_cursors("local") != {}
