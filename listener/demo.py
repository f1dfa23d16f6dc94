"""``listener demo``: the whole pipeline on a bundled corpus, on the embedded index."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from listener.config import parse_config
from listener.index.base import SearchQuery
from listener.index.sqlite import SQLiteBackend
from listener.jsonl import Rejection, read_posts
from listener.pipeline import Pipeline
from listener.present import inbox_table
from listener.records import Post

DEMO = resources.files("listener").joinpath("data/demo")


def demo_config(data_dir: Path):
    text = DEMO.joinpath("config.yaml").read_text(encoding="utf-8")
    config = parse_config(text, "listener/data/demo/config.yaml")
    return config.model_copy(update={"data_dir": str(data_dir)})


def demo_posts(now: datetime | None = None) -> Iterator[Post | Rejection]:
    """The bundled posts, moved in time so that the newest is two minutes old."""
    with DEMO.joinpath("posts.jsonl").open("rb") as stream:
        items = [item for _, item in read_posts(stream, "demo/posts.jsonl")]
    newest = max(p.created_at for p in items if isinstance(p, Post))
    shift = (now or datetime.now(timezone.utc)) - timedelta(minutes=2) - newest
    for item in items:
        yield replace(item, created_at=item.created_at + shift) if isinstance(item, Post) else item


def run_demo(data_dir: Path, limit: int = 12, echo: Callable[[str], None] = print) -> None:
    config = demo_config(data_dir)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    with SQLiteBackend(config.data_path(config.index.path)) as backend:
        backend.ensure_schema()
        echo(f"Brand: {config.brand.name}; competitors: {', '.join(c.name for c in config.competitors)}")
        report = Pipeline(config, backend).ingest(demo_posts())
        echo(f"Ingested the demo corpus: {report.summary()} (index: {backend.path})")
        overview = backend.search(SearchQuery(facets=("entity", "intent", "customer_status", "answer_state"), limit=0))
        for name, buckets in overview.facets.items():
            echo(f"  {name}: " + ", ".join(f"{value} {n}" for value, n in buckets))
        surfaced = backend.count(SearchQuery(surface=True))
        echo(f"\nInbox: {surfaced} of {report.indexed} posts need an answer. Top {limit}:\n")
        echo(inbox_table(backend.inbox(limit=limit), config, total=surfaced))
    echo(f"\nExplore the demo index: LISTENER_DATA_DIR={data_dir} listener search entradas --facet entity")
