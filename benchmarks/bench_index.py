"""Index speed for both backends: ingest rate, inbox and search latency.

    python benchmarks/bench_index.py [--posts 100000] [--queries 200] [--no-es]

Posts are synthetic but shaped like real ones (several sources, entities,
intents, Spanish and Catalan text). Analyses are made up front so that only
the index is timed. Baselines in the same run: SQLite rows without full text
or facet terms (``executemany``), and Elasticsearch one request per document.
The last line is ``index: sqlite=<n> docs/s es=<n> docs/s inbox_p95 sqlite=<ms> es=<ms>``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.index.base import SearchQuery  # noqa: E402
from listener.index.sqlite import SQLiteBackend  # noqa: E402
from listener.records import Analysis, IndexedPost, Mention, Post  # noqa: E402

ENTITIES = [("Cinesa", "brand"), ("Yelmo Cines", "competitor"), ("Kinépolis", "competitor"), ("Ocine", "competitor")]
SOURCES = ["twitter", "reddit", "mastodon", "rss", "forum", "appstore"]
INTENTS = ["question", "recommendation_request", "complaint", "churn", "praise"]
OPENINGS = ["¿Alguien sabe si", "No puedo creer que", "Me encanta que", "Algú sap si", "¿Qué cine me recomendáis si", "Otra vez"]
TOPICS = ["las entradas", "la película", "la sala tres", "las palomitas", "el reembolso", "la app", "la butaca", "el estreno"]
ENDINGS = ["no funciona", "está genial", "cuesta demasiado", "se canceló", "vale la pena", "no contesta nadie"]
SEARCHES = ["entradas", "pelicula", "reembolso app", "sala", "palomitas caras", "estreno"]


def make_corpus(n: int, seed: int = 7) -> list[IndexedPost]:
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    corpus = []
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
        corpus.append(IndexedPost(post=post, analysis=analysis, answer_state=answer))
    return corpus


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_queries(backend, queries: int, seed: int = 11) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    inbox, search = [], []
    for _ in range(queries):
        filters = rng.choice([{}, {"entity": ["Yelmo Cines"]}, {"source": ["reddit"]}, {"intent": ["complaint"]}])
        t = time.perf_counter()
        backend.inbox(filters, limit=25)
        inbox.append((time.perf_counter() - t) * 1000)
        query = SearchQuery(text=rng.choice(SEARCHES), facets=("entity", "intent", "source"), limit=20)
        t = time.perf_counter()
        backend.search(query)
        search.append((time.perf_counter() - t) * 1000)
    return inbox, search


def ingest(backend, corpus: list[IndexedPost], batch: int = 1000) -> float:
    t = time.perf_counter()
    for i in range(0, len(corpus), batch):
        result = backend.upsert(corpus[i : i + batch])
        assert not result.failed, result.failed[:3]
    backend.refresh()
    return len(corpus) / (time.perf_counter() - t)


def sqlite_baseline(corpus: list[IndexedPost], path: Path) -> float:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE posts (id TEXT PRIMARY KEY, doc TEXT)")
    t = time.perf_counter()
    with db:
        db.executemany("INSERT INTO posts VALUES (?, ?)", ((d.id, json.dumps(d.to_dict())) for d in corpus))
    rate = len(corpus) / (time.perf_counter() - t)
    db.close()
    return rate


def es_baseline(client, corpus: list[IndexedPost]) -> float:
    sample = corpus[:2000]
    t = time.perf_counter()
    for d in sample:
        client.index(index="bench-baseline", id=d.id, document={"text": d.post.text, "created_at": d.post.created_at.isoformat()})
    rate = len(sample) / (time.perf_counter() - t)
    client.indices.delete(index="bench-baseline")
    return rate


def report(name: str, rate: float, inbox: list[float], search: list[float]) -> None:
    print(
        f"{name:>13}: ingest {rate:,.0f} docs/s | inbox p50 {statistics.median(inbox):.1f} ms p95 {percentile(inbox, 0.95):.1f} ms"
        f" | faceted search p50 {statistics.median(search):.1f} ms p95 {percentile(search, 0.95):.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-es", action="store_true", help="Skip Elasticsearch.")
    args = parser.parse_args()

    corpus = make_corpus(args.posts)
    print(f"corpus: {len(corpus):,} posts")
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"     baseline: sqlite executemany without full text {sqlite_baseline(corpus, Path(tmp) / 'base.db'):,.0f} docs/s")
        with SQLiteBackend(Path(tmp) / "bench.db") as backend:
            backend.ensure_schema()
            rate = ingest(backend, corpus)
            inbox, search = time_queries(backend, args.queries)
            report("sqlite", rate, inbox, search)
            figures["sqlite"] = (rate, percentile(inbox, 0.95))
    print(f"    peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (benchmark process)")

    if not args.no_es:
        from elasticsearch import Elasticsearch

        from listener.index.elasticsearch import ElasticsearchBackend
        from tests.es_node import start_node

        node = start_node(heap="1g")
        try:
            client = Elasticsearch(node.url, request_timeout=120)
            print(f"     baseline: elasticsearch one request per doc {es_baseline(client, corpus):,.0f} docs/s")
            backend = ElasticsearchBackend(client, alias="bench-posts")
            backend.ensure_schema()
            rate = ingest(backend, corpus)
            inbox, search = time_queries(backend, args.queries)
            report("elasticsearch", rate, inbox, search)
            figures["es"] = (rate, percentile(inbox, 0.95))
        finally:
            node.stop()

    sqlite_rate, sqlite_p95 = figures["sqlite"]
    es_rate, es_p95 = figures.get("es", (float("nan"), float("nan")))
    print(f"index: sqlite={sqlite_rate:.0f} docs/s es={es_rate:.0f} docs/s inbox_p95 sqlite={sqlite_p95:.1f} es={es_p95:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
