"""A local Hacker News search API (Algolia's ``search_by_date``) that publishes posts on demand.

Real crawls (``spiders.crawl``, a Scrapy subprocess) run against it. Each post
gets a ``created_at_i`` later than every earlier one, so cursors are exact;
``published`` keeps the wall-clock time each post appeared, for freshness.
``numericFilters`` on ``created_at_i`` take ``>``, ``>=``, ``<`` and ``<=``,
comma-separated, as Algolia's do; ``/api/v1/items/<id>`` answers each post's
(empty) reply tree; ``delay`` slows every answer down.
"""

from __future__ import annotations

import json
import operator
import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

from spiders import localserver
from spiders.localserver import QuietHandler

FILTER = re.compile(r"created_at_i(<=|>=|<|>)(-?\d+)")
OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class AlgoliaFeed:
    def __init__(self, age: int = 0, delay: float = 0.0) -> None:
        self.age = age  # posts claim to be this many seconds old when published
        self.delay = delay
        self.arrived = 0  # requests received, counted before any delay
        self.hits: list[dict] = []
        self.published: dict[str, float] = {}  # post id -> time.time() when published
        self.requests: list[tuple[float, int]] = []  # (time.time(), the cursor asked from)
        self._lock = threading.Lock()
        self._last = 0

    def publish(self, text: str, author: str, **fields) -> str:
        """Add a story; returns its post id as listener stores it (``<source>:<objectID>``)."""
        with self._lock:
            self._last = max(int(time.time()) - self.age, self._last + 1)
            object_id = str(1000 + len(self.hits))
            self.hits.append({
                "objectID": object_id, "created_at_i": self._last, "author": author,
                "title": text[:60], "story_text": text, "num_comments": 0, "_tags": ["story"], **fields,
            })
            self.published[object_id] = time.time()
        return object_id

    def publish_hit(self, hit: dict) -> None:
        """Add a hit as given (in any shape, as a broken API might send it)."""
        with self._lock:
            self.hits.append(hit)

    def _search(self, query: dict) -> dict:
        text = (query.get("query") or [""])[0].lower()
        tests = [(OPERATORS[op], int(value)) for op, value in FILTER.findall((query.get("numericFilters") or [""])[0])]
        since = max([value for test, value in tests if test in (operator.gt, operator.ge)], default=0)
        per_page = int((query.get("hitsPerPage") or ["100"])[0])
        page = int((query.get("page") or ["0"])[0])
        with self._lock:
            self.requests.append((time.time(), since))
            found = sorted((h for h in self.hits if all(test(h["created_at_i"], value) for test, value in tests)
                            and text in (h.get("story_text") or h.get("comment_text") or "").lower()),
                           key=lambda h: h["created_at_i"], reverse=True)
        pages = max(1, -(-len(found) // per_page))
        return {"hits": found[page * per_page:(page + 1) * per_page], "page": page, "nbPages": pages,
                "hitsPerPage": per_page, "nbHits": len(found)}

    def __enter__(self) -> AlgoliaFeed:
        feed = self

        class Handler(QuietHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                feed.arrived += 1
                time.sleep(feed.delay)
                if parts.path.startswith("/api/v1/items/"):
                    native = parts.path.rsplit("/", 1)[1]
                    body = json.dumps({"id": native, "author": "someone", "children": []}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if parts.path != "/api/v1/search_by_date":
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps(feed._search(parse_qs(parts.query))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = localserver.start(Handler, poll_interval=0.05)
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc) -> None:
        localserver.stop(self.server)


def hackernews_source(feed: AlgoliaFeed, interval: float = 1.0) -> dict:
    """A hackernews source pointing at ``feed``: one query, no thread fetches, loopback allowed."""
    return {"kind": "hackernews", "name": "hn", "base_url": feed.url, "allow_private": True, "interval": interval,
            "queries": ["cinesa"], "threads": False, "hits_per_page": 100, "backfill": "1d"}
