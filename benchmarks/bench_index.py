"""Index speed for both backends beside the raw engine, and how it grows with the index.

    python benchmarks/bench_index.py [--sizes 100000] [--queries 200] [--batch 1000] [--no-es] [--no-sqlite]
    python benchmarks/bench_index.py --sizes 10000,100000,1000000

Posts are synthetic but shaped like real ones (several sources, entities,
intents, Spanish and Catalan text), made batch by batch from a fixed seed, so
that every run and every baseline gets the same documents and only the index
is timed. Each size and backend runs in a process of its own, so that its peak
RSS is its own. Ours and its raw baseline load the same batches in turn, in
the same process, so both see the same machine:

* SQLite: one transaction of plain ``executemany`` into the same tables,
  columns, indexes and FTS5 table (no upsert, no per-post checks);
* Elasticsearch: ``helpers.parallel_bulk`` of the same documents into a fresh
  index with our mapping and ``refresh_interval: -1`` during the load.

Then, on ours: inbox pages and faceted searches (the web's search page: text
or none, with or without a filter, six facets), p50 and p95; the index's size
on disk. The last line is
``index: sqlite=<n> docs/s (<ratio>x raw) es=<n> docs/s (<ratio>x raw) inbox_p95 ... facet_p95 ...``
for the largest size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.index.base import SearchQuery  # noqa: E402
from listener.index.sqlite import SCHEMA, SQLiteBackend  # noqa: E402
from listener.records import Analysis, IndexedPost, Mention, Post  # noqa: E402

ENTITIES = [("Cinesa", "brand"), ("Yelmo Cines", "competitor"), ("Kinépolis", "competitor"), ("Ocine", "competitor")]
SOURCES = ["twitter", "reddit", "mastodon", "rss", "forum", "appstore"]
INTENTS = ["question", "recommendation_request", "complaint", "churn", "praise"]
OPENINGS = ["¿Alguien sabe si", "No puedo creer que", "Me encanta que", "Algú sap si", "¿Qué cine me recomendáis si", "Otra vez"]
TOPICS = ["las entradas", "la película", "la sala tres", "las palomitas", "el reembolso", "la app", "la butaca", "el estreno"]
ENDINGS = ["no funciona", "está genial", "cuesta demasiado", "se canceló", "vale la pena", "no contesta nadie"]
SEARCHES = ["entradas", "pelicula", "reembolso app", "sala", "palomitas caras", "estreno"]
# The web's search page asks for these (listener.web.filters.SEARCH_FACETS).
FACETS = ("entity", "intent", "customer_status", "answer_state", "source", "language")
FILTERS = [{}, {"entity": ["Yelmo Cines"]}, {"source": ["reddit"]}, {"intent": ["complaint"]}]


def iter_corpus(n: int, seed: int = 7) -> Iterator[IndexedPost]:
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    for i in range(n):
        entity, role = rng.choice(ENTITIES)
        text = f"{rng.choice(OPENINGS)} {entity} y {rng.choice(TOPICS)} {rng.choice(ENDINGS)} #{i % 97}"
        post = Post(
            id=f"{rng.choice(SOURCES)}:{i}", source=rng.choice(SOURCES), url=f"https://example.org/{i}",
            author=f"user{rng.randrange(n // 3 + 1)}", author_name=f"User {i}", text=text,
            created_at=start + timedelta(seconds=i * 37), reply_count=rng.choice([0, 0, 1, 3]),
        )
        intents = tuple(sorted(set(rng.sample(INTENTS, rng.choice([1, 1, 2])))))
        analysis = Analysis(
            language=rng.choice(["es", "es", "es", "ca", "en", "pt"]),
            mentions=(Mention(entity, role, entity.lower(), 0, len(entity), "name", 100),),
            sector=True, intents=intents, customer_status=rng.choice(["customer", "prospect", "unknown"]),
            lead_score=rng.randrange(101), reasons=("synthetic",), surface=rng.random() < 0.4, greeting="Hola",
        )
        answer = "unanswered" if post.reply_count == 0 else "answered"
        yield IndexedPost(post=post, analysis=analysis, answer_state=answer)


def make_corpus(n: int, seed: int = 7) -> list[IndexedPost]:
    return list(iter_corpus(n, seed))


def batches(n: int, size: int) -> Iterator[list[IndexedPost]]:
    corpus = iter_corpus(n)
    while batch := [d for _, d in zip(range(size), corpus)]:
        yield batch


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_queries(backend, queries: int, seed: int = 11, cpu: dict | None = None) -> tuple[list[float], list[float]]:
    """Wall milliseconds of inbox pages and faceted searches; this process's CPU milliseconds of each into ``cpu``."""
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {"inbox": [], "search": []}
    cpu = {} if cpu is None else cpu
    for _ in range(queries):
        inbox_filters = rng.choice(FILTERS)
        query = SearchQuery(text=rng.choice(["", *SEARCHES]), filters=rng.choice(FILTERS), facets=FACETS, limit=20)
        for kind, run in (("inbox", lambda: backend.inbox(inbox_filters, limit=25)), ("search", lambda: backend.search(query))):
            wall, used = time.perf_counter(), time.process_time()
            run()
            timings[kind].append((time.perf_counter() - wall) * 1000)
            cpu.setdefault(kind, []).append((time.process_time() - used) * 1000)
    return timings["inbox"], timings["search"]


def ingest(backend, corpus: list[IndexedPost], batch: int = 1000) -> float:
    t = time.perf_counter()
    for i in range(0, len(corpus), batch):
        result = backend.upsert(corpus[i : i + batch])
        assert not result.failed, result.failed[:3]
    backend.refresh()
    return len(corpus) / (time.perf_counter() - t)


class Clock:
    """Seconds spent inside ``with clock:`` blocks, summed."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.seconds += time.perf_counter() - self._start


# -- SQLite -----------------------------------------------------------------

class RawSQLite:
    """The engine alone: our tables, columns, indexes and FTS5, filled by plain executemany in one transaction."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")
        self.rowid = 0

    def load(self, batch: list[IndexedPost]) -> None:
        posts, docs, terms, texts = [], [], [], []
        for d in batch:
            self.rowid += 1
            p, a = d.post, d.analysis
            posts.append((self.rowid, p.id, p.source, p.author, p.created_at.timestamp(), None, a.language,
                          a.customer_status, a.lead_score, int(a.surface), d.answer_state))
            docs.append((self.rowid, json.dumps(p.to_dict(), ensure_ascii=False), json.dumps(a.to_dict(), ensure_ascii=False)))
            terms += [("entity", m.entity, self.rowid) for m in a.mentions]
            terms += [("role", m.role, self.rowid) for m in a.mentions]
            terms += [("intent", i, self.rowid) for i in a.intents]
            texts.append((self.rowid, p.title or "", p.text, p.author_name or ""))
        self.db.executemany(
            "INSERT INTO posts (rowid, id, source, author, created_at, first_reply_at, language, customer_status,"
            " lead_score, surface, answer_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", posts)
        self.db.executemany("INSERT INTO docs (rowid, post, analysis) VALUES (?, ?, ?)", docs)
        self.db.executemany("INSERT INTO post_terms (field, value, post_rowid) VALUES (?, ?, ?)", terms)
        self.db.executemany("INSERT INTO posts_fts (rowid, title, text, author_name) VALUES (?, ?, ?, ?)", texts)

    def finish(self) -> None:
        self.db.execute("COMMIT")
        self.db.close()


def disk_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.parent.glob(path.name + "*"))


def run_sqlite(size: int, batch: int, queries: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        raw, raw_clock, ours_clock = RawSQLite(Path(tmp) / "raw.db"), Clock(), Clock()
        path = Path(tmp) / "ours.db"
        with SQLiteBackend(path) as backend:
            backend.ensure_schema()
            for docs in batches(size, batch):
                with raw_clock:
                    raw.load(docs)
                with ours_clock:
                    result = backend.upsert(docs)
                assert not result.failed, result.failed[:3]
            with raw_clock:
                raw.finish()
            with ours_clock:
                backend.refresh()
            cpu: dict[str, list[float]] = {}
            inbox, search = time_queries(backend, queries, cpu=cpu)
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # SQLite answers in this process: its CPU time is the latency on an idle machine.
        return figures(size, size / ours_clock.seconds, size / raw_clock.seconds, inbox, search, disk_size(path),
                       cpu_inbox_p95=percentile(cpu["inbox"], 0.95), cpu_facet_p95=percentile(cpu["search"], 0.95))


# -- Elasticsearch ------------------------------------------------------------

def run_es(size: int, batch: int, queries: int, url: str) -> dict:
    from elasticsearch import Elasticsearch
    from elasticsearch.helpers import parallel_bulk

    from listener.index.elasticsearch import ElasticsearchBackend, crawl_fields, doc_id, workflow_fields
    from listener.index.es_schema import index_body
    from listener.records import Workflow

    client = Elasticsearch(url, request_timeout=300)
    prefix = f"bench-index-{os.getpid()}"
    raw_index = f"{prefix}-raw"
    backend = ElasticsearchBackend(client, alias=f"{prefix}-ours")
    try:
        body = index_body(backend._flavour())
        body["settings"]["refresh_interval"] = "-1"
        client.indices.create(index=raw_index, **body)
        backend.ensure_schema()
        raw_clock, ours_clock = Clock(), Clock()
        for docs in batches(size, batch):
            with raw_clock:
                actions = (
                    {"_index": raw_index, "_id": doc_id(d.id), "_source": {**crawl_fields(d), **workflow_fields(Workflow())}}
                    for d in docs
                )
                for ok, info in parallel_bulk(client, actions, thread_count=2, chunk_size=500):
                    assert ok, info
            with ours_clock:
                result = backend.upsert(docs)
            assert not result.failed, result.failed[:3]
        with raw_clock:
            client.indices.put_settings(index=raw_index, settings={"refresh_interval": None})
            client.indices.refresh(index=raw_index)
        with ours_clock:
            backend.refresh()
        inbox, search = time_queries(backend, queries)
        client.indices.flush(index=backend.alias)
        stats = client.indices.stats(index=backend.alias, metric="store")
        on_disk = stats["_all"]["primaries"]["store"]["size_in_bytes"]
        return figures(size, size / ours_clock.seconds, size / raw_clock.seconds, inbox, search, on_disk)
    finally:
        # Only what this run made: its indices, found by their prefix and deleted by name.
        made = list(client.indices.get(index=f"{prefix}-*", expand_wildcards="all"))
        if made:
            client.indices.delete(index=",".join(made))
        client.close()


# -- report -----------------------------------------------------------------

def figures(size: int, rate: float, raw: float, inbox: list[float], search: list[float], on_disk: int, **more) -> dict:
    return {**more, "load": os.getloadavg()[0],
        "size": size, "rate": rate, "raw": raw, "on_disk": on_disk,
        "inbox_p50": statistics.median(inbox), "inbox_p95": percentile(inbox, 0.95),
        "facet_p50": statistics.median(search), "facet_p95": percentile(search, 0.95),
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def report(name: str, f: dict) -> None:
    print(
        f"{name:>13} {f['size']:>9,}: ingest {f['rate']:>7,.0f} docs/s, raw {f['raw']:>7,.0f} docs/s, ratio {f['rate'] / f['raw']:.2f}"
        f" | inbox p50 {f['inbox_p50']:5.1f} p95 {f['inbox_p95']:5.1f} ms"
        f" | faceted search p50 {f['facet_p50']:5.1f} p95 {f['facet_p95']:5.1f} ms"
        f" | {f['on_disk'] / 2**20:7.1f} MiB on disk | peak RSS {f['rss']:.0f} MiB | load {f['load']:.1f}",
        flush=True,
    )
    if "cpu_inbox_p95" in f:
        print(f"{'':>24}  CPU time of the same queries: inbox p95 {f['cpu_inbox_p95']:5.1f} ms, faceted search p95 {f['cpu_facet_p95']:5.1f} ms",
              flush=True)


def run_child(backend: str, size: int, args, url: str | None) -> dict:
    """One size of one backend in a process of its own, so that its peak RSS is its own."""
    command = [sys.executable, __file__, "--one", backend, "--sizes", str(size), "--batch", str(args.batch),
               "--queries", str(args.queries)]
    if url:
        command += ["--es-url", url]
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="Comma-separated numbers of posts (default 100000).")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000, help="Posts per upsert (default 1000).")
    parser.add_argument("--no-es", action="store_true", help="Skip Elasticsearch.")
    parser.add_argument("--no-sqlite", action="store_true", help="Skip SQLite.")
    parser.add_argument("--one", choices=["sqlite", "es"], help=argparse.SUPPRESS)
    parser.add_argument("--es-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]

    if args.one:
        run = run_sqlite(sizes[0], args.batch, args.queries) if args.one == "sqlite" else \
            run_es(sizes[0], args.batch, args.queries, args.es_url)
        print(json.dumps(run))
        return 0

    backends = [name for name, skip in (("sqlite", args.no_sqlite), ("es", args.no_es)) if not skip]
    node = None
    if "es" in backends:
        from tests.es_node import start_node

        node = start_node(heap="1g")  # or the node at LISTENER_ES_URL
    print(f"sizes: {', '.join(f'{s:,}' for s in sizes)} posts, batches of {args.batch:,}, {args.queries} queries of each kind", flush=True)
    results: dict[str, dict] = {}
    try:
        for size in sizes:
            for name in backends:
                results[name] = run_child(name, size, args, node.url if node else None)
                report({"sqlite": "sqlite", "es": "elasticsearch"}[name], results[name])
    finally:
        if node is not None:
            node.stop()

    def summary(name: str) -> str:
        f = results.get(name)
        if f is None:
            return f"{name}=skipped"
        return f"{name}={f['rate']:.0f} docs/s ({f['rate'] / f['raw']:.2f}x raw) inbox_p95={f['inbox_p95']:.1f} facet_p95={f['facet_p95']:.1f}"

    print(f"index at {sizes[-1]:,}: {summary('sqlite')} {summary('es')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
