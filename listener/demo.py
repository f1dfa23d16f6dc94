"""``listener demo``: the whole pipeline on the embedded index, from real crawls.

A local replay server answers with recorded API responses in the sources' real
formats; the spiders crawl it, NLP analyses what they bring, SQLite indexes it,
and the inbox is printed.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from listener.config import Config, SourceConfig, parse_config
from listener.index.base import SearchQuery
from listener.index.sqlite import SQLiteBackend
from listener.pipeline import Pipeline
from listener.present import inbox_table
from listener.records import Post
from listener.state import open_state

DEMO = resources.files("listener").joinpath("data/demo")
# The replay server needs no credentials, but the X spider refuses to start without one.
PLACEHOLDER_TOKENS = {"LISTENER_TWITTER_BEARER_TOKEN": "replay"}
QUIET = {"LOG_LEVEL": "WARNING"}


def demo_config(data_dir: Path, sources: list[dict] | None = None) -> Config:
    text = DEMO.joinpath("config.yaml").read_text(encoding="utf-8")
    config = parse_config(text, "listener/data/demo/config.yaml")
    update = {"data_dir": str(data_dir)}
    if sources is not None:
        update["sources"] = [SourceConfig.model_validate(s) for s in sources]
    return config.model_copy(update=update)


def recent(posts: list[Post], now: datetime | None = None, age: timedelta = timedelta(minutes=2)) -> list[Post]:
    """One source's recorded posts moved in time by one offset, so that its newest post is
    ``age`` old and every other post, and every reply time, keeps its distance to it."""
    if not posts:
        return []
    shift = (now or datetime.now(timezone.utc)) - age - max(p.created_at for p in posts)
    return [
        replace(p, created_at=p.created_at + shift, first_reply_at=p.first_reply_at + shift if p.first_reply_at else None)
        for p in posts
    ]


def run_demo(data_dir: Path, limit: int = 12, echo: Callable[[str], None] = print) -> Config:
    from spiders import crawl
    from spiders.replay import ReplayServer, demo_sources

    for name, value in PLACEHOLDER_TOKENS.items():
        os.environ.setdefault(name, value)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    with ReplayServer() as replay:
        config = demo_config(data_dir, demo_sources(replay.url))
        echo(f"Brand: {config.brand.name}; competitors: {', '.join(c.name for c in config.competitors)}")
        echo(f"Crawling {len(config.sources)} sources from a local replay of their APIs at {replay.url}")
        with SQLiteBackend(config.data_path(config.index.path)) as backend, open_state(config) as state:
            backend.ensure_schema()
            pipeline = Pipeline(config, backend)

            def gather(source: SourceConfig):
                started = time.monotonic()
                result = crawl(config, source, state.load_cursors(source.label), settings=QUIET)
                return source, result, time.monotonic() - started

            with ThreadPoolExecutor(max_workers=2) as pool:
                crawls = list(pool.map(gather, config.sources))
            now, indexed = datetime.now(timezone.utc), 0
            # The recordings were made on different days: each source's newest post is made a few minutes
            # old, the most recently recorded source's newest the youngest.
            newest_first = sorted(range(len(crawls)), key=lambda i: max((p.created_at for p in crawls[i][1].posts), default=now), reverse=True)
            ages = {i: timedelta(minutes=2 + 3 * rank) for rank, i in enumerate(newest_first)}
            for number, (source, result, seconds) in enumerate(crawls):
                report = pipeline.ingest(recent(result.posts, now, ages[number]))
                state.save_cursors(source.label, result.cursors)
                indexed += report.indexed
                problems = f", {len(result.errors)} error(s): {result.errors[0]}" if result.errors else ""
                echo(f"  {source.label:<22} {len(result.posts):>3} posts in {seconds:4.1f} s{problems}")
            _show(backend, config, indexed, limit, echo)
    echo(f"\nExplore the demo index: LISTENER_DATA_DIR={data_dir} .venv/bin/listener search entradas --facet entity")
    return config


def _show(backend, config: Config, indexed: int, limit: int, echo) -> None:
    overview = backend.search(SearchQuery(facets=("entity", "intent", "customer_status", "answer_state"), limit=0))
    echo(f"\nIndexed {indexed} posts (index: {backend.path})")
    for name, buckets in overview.facets.items():
        echo(f"  {name}: " + ", ".join(f"{value} {n}" for value, n in buckets))
    surfaced = backend.count(SearchQuery(surface=True, filters={"status": ["new", "claimed"]}))
    echo(f"\nInbox: {surfaced} of {indexed} posts need an answer. Top {limit}:\n")
    echo(inbox_table(backend.inbox(limit=limit), config, total=surfaced))
