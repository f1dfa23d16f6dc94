"""Web latency at scale: the inbox page and a faceted search page, on both backends.

    python benchmarks/bench_web.py [--posts 100000] [--requests 200] [--no-es]

The corpus is bench_index's synthetic one, with a few hundred posts claimed so
the inbox has mixed statuses. Requests go over HTTP, one keep-alive
connection, to the app served by uvicorn as ``listener serve`` does, logged in;
each sample is one full page (query, SLA clocks, template). The inbox rotates
through its default view and common filters; the search page asks for six
facets. The baseline, in the same run, is each page's backend query alone, so
the difference is the web layer (HTTP, session, SLA clocks, template).
The last line is ``web: inbox_p95 sqlite=<ms> es=<ms> search_p95 sqlite=<ms> es=<ms>``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.datastructures import QueryParams

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_index import ENTITIES, SEARCHES, ingest, make_corpus, percentile  # noqa: E402

from listener.config import Config, EntityConfig  # noqa: E402
from listener.index.base import SearchQuery  # noqa: E402
from listener.index.sqlite import SQLiteBackend  # noqa: E402
from listener.web import create_app, running  # noqa: E402
from listener.web.filters import INBOX_SORTS, SEARCH_FACETS, read_selection  # noqa: E402
from listener.web.users import User, Users, hash_password  # noqa: E402

INBOX_PAGES = ["/inbox", "/inbox?entity=Yelmo+Cines", "/inbox?source=reddit", "/inbox?intent=complaint",
               "/inbox?sort=due", "/inbox?page=3", "/inbox?language=ca&customer_status=prospect"]
PASSWORD = "benchmark password"


def bench_config() -> Config:
    (brand, _), *competitors = ENTITIES
    return Config(brand=EntityConfig(name=brand), competitors=[EntityConfig(name=name) for name, _ in competitors])


def claim_some(backend, corpus, n: int = 500) -> None:
    surfaced = [d for d in corpus if d.analysis.surface][:n]
    for i, doc in enumerate(surfaced):
        backend.claim(doc.id, "ana" if i % 2 else "luis", 0)
    backend.refresh()


class Client:
    """One logged-in keep-alive HTTP connection."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        body = json.dumps({"username": "ana", "password": PASSWORD})
        self.conn.request("POST", "/api/session", body, {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        self.cookie = response.getheader("set-cookie").split(";", 1)[0]

    def get_ms(self, path: str) -> float:
        t = time.perf_counter()
        self.conn.request("GET", path, headers={"Cookie": self.cookie})
        response = self.conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - t) * 1000
        assert response.status == 200, (path, response.status)
        return elapsed


def measure(backend, requests: int, seed: int = 5) -> dict[str, list[float]]:
    users = Users([User("ana", "agent", hash_password(PASSWORD)), User("luis", "agent", hash_password(PASSWORD))])
    app = create_app(bench_config(), backend, users=users)
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {"inbox": [], "search": [], "inbox_backend": [], "search_backend": []}
    with running(app) as url:
        client = Client(url)
        for path in INBOX_PAGES + [f"/search?q={quote(q)}" for q in SEARCHES]:
            client.get_ms(path)  # warm up: templates, caches, connection
        for _ in range(requests):
            timings["inbox"].append(client.get_ms(rng.choice(INBOX_PAGES)))
            timings["search"].append(client.get_ms(f"/search?q={quote(rng.choice(SEARCHES))}"))
    # The same queries the pages make, straight to the backend.
    web = app.state.web
    size = web.settings.page_size
    inbox_queries = []
    for path in INBOX_PAGES:
        selection = read_selection(QueryParams(urlsplit(path).query), "ana", INBOX_SORTS, "priority", inbox=True)
        inbox_queries.append(selection.query(web.zone, limit=size, surface=True, sort=INBOX_SORTS[selection.sort]))
    for _ in range(requests):
        t = time.perf_counter()
        backend.search(rng.choice(inbox_queries))
        timings["inbox_backend"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        backend.search(SearchQuery(text=rng.choice(SEARCHES), facets=SEARCH_FACETS, limit=size))
        timings["search_backend"].append((time.perf_counter() - t) * 1000)
    return timings


def report(name: str, timings: dict[str, list[float]]) -> None:
    def figures(key):
        return f"p50 {statistics.median(timings[key]):6.1f} ms  p95 {percentile(timings[key], 0.95):6.1f} ms"

    print(f"{name:>13}: inbox page   {figures('inbox')}   (backend call alone: {figures('inbox_backend')})")
    print(f"{'':>13}  search page  {figures('search')}   (backend call alone: {figures('search_backend')})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-es", action="store_true", help="Skip Elasticsearch.")
    args = parser.parse_args()

    corpus = make_corpus(args.posts)
    print(f"corpus: {len(corpus):,} posts, {sum(d.analysis.surface for d in corpus):,} surfaced; {args.requests} requests per page kind")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with SQLiteBackend(Path(tmp) / "bench.db") as backend:
            backend.ensure_schema()
            ingest(backend, corpus)
            claim_some(backend, corpus)
            results["sqlite"] = measure(backend, args.requests)
            report("sqlite", results["sqlite"])

    if not args.no_es:
        from elasticsearch import Elasticsearch

        from listener.index.elasticsearch import ElasticsearchBackend
        from tests.es_node import start_node

        node = start_node(heap="1g")
        try:
            backend = ElasticsearchBackend(Elasticsearch(node.url, request_timeout=120), alias="bench-web")
            backend.ensure_schema()
            ingest(backend, corpus)
            claim_some(backend, corpus)
            results["es"] = measure(backend, args.requests)
            report("elasticsearch", results["es"])
        finally:
            node.stop()

    def p95(kind: str, page: str) -> str:
        return f"{percentile(results[kind][page], 0.95):.1f}" if kind in results else "nan"

    print(f"web: inbox_p95 sqlite={p95('sqlite', 'inbox')} es={p95('es', 'inbox')} search_p95 sqlite={p95('sqlite', 'search')} es={p95('es', 'search')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
