"""Posts per second fetched and normalised by a real crawl from a local server.

A ``ThreadingHTTPServer`` on a free loopback port holds 10,000 posts as a
Hacker News (Algolia) search answering 100 hits a page; ``spiders.crawl`` runs
the real spider, middlewares and subprocess runner through all 100 pages and
returns the posts. The time includes the crawl process's start.

    python benchmarks/bench_crawl.py [--posts 10000] [--page-size 100]

The baseline, in the same run, fetches the same pages with ``urllib`` one
after another and only decodes the JSON: no Scrapy, no normalisation.
The last line is ``crawl: <n> posts/s``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.config import Config, SourceConfig  # noqa: E402
from spiders import crawl, localserver  # noqa: E402
from spiders.localserver import QuietHandler  # noqa: E402

START = 1_740_000_000


def make_hits(count: int) -> list[dict]:
    """``count`` story and comment hits, newest first, in the Algolia format."""
    hits = []
    for i in range(count):
        stamp = START + count - i
        native = 50_000_000 + count - i
        if i % 3:
            hits.append({"_tags": ["comment", f"author_user{i % 97}", "story_50000000"], "author": f"user{i % 97}",
                         "comment_text": f"Comment {i} about <i>Cinesa</i> &amp; the estreno <p>second paragraph",
                         "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)), "created_at_i": stamp,
                         "objectID": str(native), "parent_id": 50_000_000, "story_id": 50_000_000,
                         "story_title": "Cinema chains in Spain", "updated_at": "2025-03-01T00:00:00Z"})
        else:
            hits.append({"_tags": ["story", f"author_user{i % 97}", f"story_{native}"], "author": f"user{i % 97}",
                         "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)), "created_at_i": stamp,
                         "num_comments": 0, "objectID": str(native), "points": 3, "story_id": native,
                         "title": f"Story {i}: Cinesa news", "url": f"https://example.com/{i}",
                         "updated_at": "2025-03-01T00:00:00Z"})
    return hits


def serve(hits: list[dict], page_size: int) -> ThreadingHTTPServer:
    pages = [json.dumps({"hits": hits[n:n + page_size], "page": n // page_size,
                         "nbPages": (len(hits) + page_size - 1) // page_size, "hitsPerPage": page_size,
                         "nbHits": len(hits)}).encode() for n in range(0, len(hits), page_size)]

    class Handler(QuietHandler):
        def do_GET(self):
            page = int(parse_qs(urlsplit(self.path).query).get("page", ["0"])[0])
            body = pages[page] if page < len(pages) else b'{"hits": [], "page": 0, "nbPages": 0}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return localserver.start(Handler)


def baseline(url: str, pages: int) -> tuple[int, float]:
    """Hits fetched and decoded with the standard library, page by page."""
    from urllib.request import urlopen

    started = time.perf_counter()
    hits = 0
    for page in range(pages):
        with urlopen(f"{url}/api/v1/search_by_date?query=cinesa&page={page}") as response:
            hits += len(json.loads(response.read())["hits"])
    return hits, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    server = serve(make_hits(args.posts), args.page_size)
    host, port = server.server_address[:2]
    pages = (args.posts + args.page_size - 1) // args.page_size
    source = SourceConfig(kind="hackernews", name="bench", base_url=f"http://{host}:{port}", allow_private=True,
                          queries=["cinesa"], backfill="36500d", threads=False, hits_per_page=args.page_size,
                          max_pages=pages)
    started = time.perf_counter()
    result = crawl(Config(), source, {}, settings={"DOWNLOAD_DELAY": 0, "LOG_LEVEL": "WARNING"}, timeout=600)
    elapsed = time.perf_counter() - started
    base_hits, base_elapsed = baseline(f"http://{host}:{port}", pages)
    localserver.stop(server)
    if result.errors or len(result.posts) != args.posts:
        sys.exit(f"crawl incomplete: {len(result.posts)} of {args.posts} posts, errors: {result.errors[:3]}")
    print(f"{args.posts} posts in {pages} pages, {elapsed:.2f}s including the crawl process start")
    print(f"baseline: urllib + json.loads, {base_hits / base_elapsed:.0f} hits/s ({base_elapsed:.2f}s)")
    print(f"crawl: {args.posts / elapsed:.0f} posts/s")


if __name__ == "__main__":
    main()
