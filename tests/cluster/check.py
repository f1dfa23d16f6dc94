"""The cluster test: listener on three Elasticsearch nodes while one of them crashes.

    python -m tests.cluster.check [--posts 100000] [--nodes 3] [--no-contract]

1. Starts ``--nodes`` real nodes on loopback as one cluster (tests/es_cluster.py).
2. Runs the backend contract suite (tests/index/test_elasticsearch.py, tests/index/test_es_layout.py)
   against it, and the scheduler's cluster tests: two scrapyd workers sharing sources
   (tests/scheduler/test_workers.py), two ``listener run`` processes with the lease in the
   cluster, the leader killed with SIGKILL (tests/scheduler/test_leader.py), and both together:
   two ``listener run`` processes crawling three sources on two scrapyd workers, the leader
   killed with SIGKILL mid-cycle, the other taking over within two lease intervals and every
   source still crawled once per interval, every post indexed once
   (tests/scheduler/test_failover_on_workers.py).
3. Ingests ``--posts`` posts through the Elasticsearch backend, with one replica,
   while a team writes notes on posts already in: one data node is killed
   with SIGKILL a third of the way in and started again at two thirds, and the
   first tenth is ingested again (a re-crawl) once it is back.
4. Checks the exact count, that no post is there twice, and that every note the
   cluster acknowledged is still on its post.

The last line is
``cluster: nodes=3 posts=100000 indexed=100000 duplicates=0 lost_workflow=0 failover_s=N``
where failover_s is how long, after the kill, the cluster took to accept writes again.
It exits 1 when a figure is wrong or the contract suite fails.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from elasticsearch import Elasticsearch, helpers

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_index import make_corpus  # noqa: E402
from listener.index.elasticsearch import ElasticsearchBackend  # noqa: E402
from listener.workflow import WorkflowChange  # noqa: E402
from tests.es_cluster import Cluster, start_cluster  # noqa: E402

ALIAS = "cluster-check-posts"
BATCH = 1_000
VICTIM = 2  # the node that crashes; the client knows every node


SUITES = ["tests/index/test_elasticsearch.py", "tests/index/test_es_layout.py",
          "tests/scheduler/test_workers.py", "tests/scheduler/test_leader.py",
          "tests/scheduler/test_failover_on_workers.py"]


def run_contract_suite(cluster: Cluster) -> bool:
    env = os.environ | {"LISTENER_ES_URL": cluster.urls[0], "LISTENER_REQUIRE_ES": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES]
    print("contract and scheduler suites against the cluster:", " ".join(command[2:]), flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    print("  " + (result.stdout.strip().splitlines() or ["(no output)"])[-1], flush=True)
    return result.returncode == 0


class NoteWriter(threading.Thread):
    """A team member adding notes to posts already indexed; remembers what the cluster acknowledged."""

    def __init__(self, backend: ElasticsearchBackend, ingested: list[str], seed: int = 3):
        super().__init__(daemon=True)
        self.backend = backend
        self.ingested = ingested
        self.rng = random.Random(seed)
        self.acknowledged: dict[str, list[str]] = {}
        self.refused = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            if not self.ingested:
                time.sleep(0.05)
                continue
            post_id = self.rng.choice(self.ingested)
            note = f"note {number}"
            number += 1
            try:
                current = self.backend.get(post_id)
                if current is None:
                    continue
                self.backend.update_workflow(post_id, current.workflow.version, WorkflowChange(actor="agent", note=note))
            except Exception:  # a refused or failed write is not acknowledged; the agent tries again
                self.refused += 1
                continue
            self.acknowledged.setdefault(post_id, []).append(note)
            time.sleep(0.01)


def ingest_through_a_crash(cluster: Cluster, posts: int) -> dict[str, float | int]:
    client = Elasticsearch(cluster.urls, request_timeout=30, retry_on_timeout=True, max_retries=10)
    backend = ElasticsearchBackend(client, alias=ALIAS)
    backend.ensure_schema()
    client.cluster.health(wait_for_status="green", timeout="60s")
    corpus = make_corpus(posts)
    ingested: list[str] = []
    writer = NoteWriter(backend, ingested)
    writer.start()
    failed: list[tuple[str, str]] = []
    killed_at = failover = None
    started = time.monotonic()
    for offset in range(0, posts, BATCH):
        batch = corpus[offset:offset + BATCH]
        if killed_at is None and offset >= posts // 3:
            cluster.kill(VICTIM)
            killed_at = time.monotonic()
            print(f"  killed node-{VICTIM} at {offset:,} posts", flush=True)
        if killed_at is not None and cluster.nodes[VICTIM] is None and offset >= 2 * posts // 3:
            cluster.launch(VICTIM)
            print(f"  started node-{VICTIM} again at {offset:,} posts", flush=True)
        result = backend.upsert(batch)
        if killed_at is not None and failover is None and result.indexed:
            failover = time.monotonic() - killed_at
        failed += result.failed
        ingested.extend(result.indexed)
    cluster.wait_for("green")
    print("  re-crawl of the first tenth", flush=True)
    failed += backend.upsert(corpus[: posts // 10]).failed
    writer.stopping.set()
    writer.join()
    backend.refresh()
    seconds = time.monotonic() - started

    ids = Counter(hit["_id"] for hit in helpers.scan(client, index=ALIAS, query={"query": {"match_all": {}}},
                                                       _source=False, size=5_000))
    lost = 0
    for post_id, notes in writer.acknowledged.items():
        stored = backend.get(post_id)
        kept = {note.text for note in stored.workflow.notes} if stored else set()
        lost += sum(note not in kept for note in notes)
    if failed:
        print(f"  {len(failed)} posts refused, e.g. {failed[0]}", flush=True)
    print(f"  {posts:,} posts in {seconds:.0f} s, {sum(map(len, writer.acknowledged.values()))} notes acknowledged, "
          f"{writer.refused} refused during the crash", flush=True)
    client.indices.delete(index=list(client.indices.get_alias(name=ALIAS)))
    client.indices.delete_index_template(name=ALIAS)
    return {"indexed": len(ids), "duplicates": sum(ids.values()) - len(ids), "lost_workflow": lost,
            "failover_s": round(failover or 0.0, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--no-contract", action="store_true", help="skip the backend contract suite")
    args = parser.parse_args(argv)

    started = time.monotonic()
    cluster = start_cluster(args.nodes)
    print(f"{args.nodes} nodes up in {time.monotonic() - started:.0f} s: {', '.join(cluster.urls)}", flush=True)
    try:
        contract_ok = True if args.no_contract else run_contract_suite(cluster)
        figures = ingest_through_a_crash(cluster, args.posts)
    finally:
        cluster.stop()
    print(f"cluster: nodes={args.nodes} posts={args.posts} indexed={figures['indexed']} "
          f"duplicates={figures['duplicates']} lost_workflow={figures['lost_workflow']} failover_s={figures['failover_s']}")
    good = contract_ok and figures["indexed"] == args.posts and not figures["duplicates"] and not figures["lost_workflow"]
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
