"""Freshness: how long a new post takes from publication to the inbox under ``listener run``.

    python benchmarks/bench_freshness.py [--interval 10] [--duration 120] [--every 3]
    python benchmarks/bench_freshness.py --soak [--duration 1800]

A local Hacker News search API publishes a question about the brand every
``--every`` seconds. The scheduler of ``listener run`` (ListenerService: job
store, Scrapy crawl subprocesses, the real analyzer, the SQLite index) crawls it
every ``--interval`` seconds, while a second connection polls the inbox the way
the web inbox reads it. Each post's freshness is the time from publication to
its first appearance there. Target: p95 <= interval + 5 s.

``--soak`` runs 30 minutes with a 10-second interval (change with
``--duration``/``--interval``) and also samples this process's resident memory
(the crawls run in child processes, so growth here is the scheduler's own);
it reports growth after the first minute and any failed runs.

The last line is ``freshness: p50=<s> p95=<s> interval=<s>``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.config import Config  # noqa: E402
from listener.index.sqlite import SQLiteBackend  # noqa: E402
from listener.state import StateStore  # noqa: E402
from scheduler.crawling import spiders_crawler  # noqa: E402
from scheduler.service import ListenerService, Ticks  # noqa: E402
from tests.scheduler.feeds import AlgoliaFeed, hackernews_source  # noqa: E402

QUESTIONS = [
    "¿Alguien sabe si Cinesa tiene descuento para estudiantes? Es mi primera vez",
    "¿Me recomendáis Cinesa o Yelmo para ver el estreno del viernes?",
    "¿Alguien sabe si en Cinesa se puede cambiar la entrada de sesión?",
    "¿Qué tal la sala IMAX de Cinesa? Estoy pensando en comprar entradas",
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


class InboxWatcher(threading.Thread):
    """Polls the inbox through its own connection and notes when each post first shows."""

    def __init__(self, path: Path, poll: float = 0.2):
        super().__init__(daemon=True)
        self.path = path
        self.poll = poll
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        with SQLiteBackend(self.path) as backend:
            backend.ensure_schema()
            while not self.stop.wait(self.poll):
                offset = 0
                while page := backend.inbox(limit=500, offset=offset):
                    now = time.time()
                    for doc in page:
                        self.seen.setdefault(doc.id, now)
                    offset += len(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=float, default=None, help="crawl interval, s (default 10)")
    parser.add_argument("--duration", type=float, default=None, help="how long to publish, s (default 120; soak 1800)")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between published posts")
    parser.add_argument("--soak", action="store_true", help="a long run that also reports memory and failed runs")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    interval = args.interval or 10.0
    duration = args.duration or (1800.0 if args.soak else 120.0)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory() as tmp, AlgoliaFeed() as feed:
        config = Config.model_validate({
            "brand": {"name": "Cinesa", "aliases": ["cinesa"], "handles": ["@cinesa"]},
            "competitors": [{"name": "Yelmo", "aliases": ["yelmo"]}],
            "data_dir": tmp,
            "sources": [hackernews_source(feed, interval=interval)],
            "alerts": {"digest": {"enabled": False}},
        })
        started = time.time()
        service = ListenerService(config, crawler=spiders_crawler(settings={"LOG_LEVEL": "WARNING"}),
                                  ticks=Ticks(heartbeat=60))
        service.start()  # loads the analyzer, then crawls at once
        load_seconds = time.time() - started
        watcher = InboxWatcher(config.data_path(config.index.path))
        watcher.start()
        print(f"scheduler up in {load_seconds:.1f}s (analyzer loaded); publishing every {args.every:g}s "
              f"for {duration:g}s, crawling every {interval:g}s", flush=True)

        rss: list[tuple[float, float]] = []
        ids: list[str] = []
        number = 0
        begin = time.time()
        next_sample = begin
        while time.time() - begin < duration:
            ids.append(f"hn:{feed.publish(QUESTIONS[number % len(QUESTIONS)] + f' (#{number})', f'user{number}')}")
            number += 1
            if time.time() >= next_sample:
                rss.append((time.time() - begin, rss_mb()))
                next_sample += 30
            time.sleep(args.every)
        deadline = time.time() + interval + 60
        while time.time() < deadline and len(watcher.seen) < len(ids):
            time.sleep(0.2)
        rss.append((time.time() - begin, rss_mb()))
        watcher.stop.set()
        service.stop()

        with StateStore(config.data_path("state.db")) as state:
            runs = state.runs("hn", limit=100_000)
        failed = [run for run in runs if run.errors]
        ages = [watcher.seen[i] - feed.published[i.split(":", 1)[1]] for i in ids if i in watcher.seen]
        missing = len(ids) - len(ages)
        run_seconds = [(r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at]
        print(f"posts: {len(ids)} published, {len(ages)} seen in the inbox, {missing} never seen")
        print(f"runs: {len(runs)}, {len(failed)} with errors; run time p50={statistics.median(run_seconds):.1f}s "
              f"max={max(run_seconds):.1f}s; catch-up runs after an overrun: "
              f"{service.counters.get('scheduler/catch_up_after_overrun')}" if run_seconds else "runs: none finished")
        if args.soak or duration >= 600:
            warm = next((mb for at, mb in rss if at >= 60), rss[0][1])
            print(f"soak: minutes={duration / 60:.0f} interval={interval:g}s rss_start={warm:.0f}MB "
                  f"rss_end={rss[-1][1]:.0f}MB rss_max={max(mb for _, mb in rss):.0f}MB "
                  f"growth={rss[-1][1] - warm:+.0f}MB failed_runs={len(failed)}")
        if not ages:
            print(f"freshness: p50=nan p95=nan interval={interval:g}")
            sys.exit(1)
        print(f"freshness: p50={statistics.median(ages):.1f} p95={percentile(ages, 0.95):.1f} interval={interval:g}")


if __name__ == "__main__":
    main()
