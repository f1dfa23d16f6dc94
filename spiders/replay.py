"""A local HTTP server that replays recorded API responses, for the demo and tests.

Each kind has a folder under ``spiders/data/replay/<kind>/`` and is served
under ``<url>/<kind>``, so a source points at it with ``base_url``:

- ``exchanges.json``: a list of recorded exchanges, tried in order; the first
  whose ``path`` (``*`` matches one path segment) and ``query`` match answers::

      {"path": "/api/v1/search_by_date",
       "query": {"numericFilters": "created_at_i>1740910500"},   # exact; null = absent
       "status": 200, "headers": {}, "body": "empty.json"}

  ``body`` names a file in the folder; its extension gives the Content-Type.
  Record the follow-up requests too (next pages, a re-run's cursor parameter)
  so that paging and incremental runs replay as they did.
- ``source.json``: the source entry the demo uses (without ``base_url``).

Adding a kind is adding a folder. ``python -m spiders.replay`` serves the
recordings until interrupted and prints the URL and the demo sources.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from spiders import localserver
from spiders.localserver import QuietHandler

DATA = Path(__file__).parent / "data" / "replay"
TYPES = {".json": "application/json", ".xml": "application/xml", ".rss": "application/rss+xml",
         ".atom": "application/atom+xml", ".html": "text/html; charset=utf-8", ".txt": "text/plain"}


def load_exchanges(root: Path = DATA) -> dict[str, list[dict]]:
    """Every kind's recorded exchanges, by kind."""
    return {folder.name: json.loads((folder / "exchanges.json").read_text(encoding="utf-8"))
            for folder in sorted(root.iterdir()) if (folder / "exchanges.json").is_file()}


def demo_sources(url: str, root: Path = DATA) -> list[dict[str, Any]]:
    """Source entries (as in a configuration file) that read the replay server at ``url``."""
    sources = []
    for folder in sorted(root.iterdir()):
        entry = folder / "source.json"
        if entry.is_file():
            source = json.loads(entry.read_text(encoding="utf-8"))
            sources.append({**source, "base_url": f"{url.rstrip('/')}/{folder.name}", "allow_private": True})
    return sources


def _path_matches(pattern: str, path: str) -> bool:
    want, got = pattern.strip("/").split("/"), path.strip("/").split("/")
    return len(want) == len(got) and all(w in ("*", g) for w, g in zip(want, got))


def _query_matches(expected: dict[str, str | None], query: dict[str, list[str]]) -> bool:
    for name, value in expected.items():
        actual = query.get(name, [None])[0]
        if actual != value:
            return False
    return True


def find_exchange(exchanges: list[dict], path: str, query: dict[str, list[str]]) -> dict | None:
    for exchange in exchanges:
        if _path_matches(exchange["path"], path) and _query_matches(exchange.get("query", {}), query):
            return exchange
    return None


class ReplayServer:
    """``with ReplayServer() as replay: ... replay.url ...`` serves the recordings on a free port."""

    def __init__(self, root: str | Path = DATA, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root)
        self.address = (host, port)
        self.exchanges = load_exchanges(self.root)
        self.requests: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ReplayServer:
        replay = self

        class Handler(QuietHandler):
            def do_GET(self):
                replay._answer(self)

            do_POST = do_GET

        self._httpd = localserver.start(Handler, *self.address)
        return self

    def __exit__(self, *exc) -> None:
        localserver.stop(self._httpd)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        parts = urlsplit(handler.path)
        self.requests.append(handler.path)
        kind, _, rest = parts.path.lstrip("/").partition("/")
        exchange = find_exchange(self.exchanges.get(kind, []), "/" + rest, parse_qs(parts.query))
        if exchange is None:
            status, headers = 404, {"Content-Type": "application/json"}
            body = json.dumps({"error": f"no recorded response for {handler.path}"}).encode()
        else:
            file = self.root / kind / exchange["body"]
            status = exchange.get("status", 200)
            headers = {"Content-Type": TYPES.get(file.suffix, "application/octet-stream"), **exchange.get("headers", {})}
            body = file.read_bytes()
        handler.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)


def main() -> None:
    import time

    with ReplayServer() as replay:
        print(f"replaying {', '.join(replay.exchanges)} at {replay.url}")
        print(json.dumps(demo_sources(replay.url), indent=2))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
