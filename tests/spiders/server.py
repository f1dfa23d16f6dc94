"""A local HTTP server for crawl tests: port 0, a daemon thread, every request recorded.

Routes map a path (with or without its query string) to what to answer: a
``Reply``, ``Turns(...)`` served one per request (the last one repeats), a
callable taking the recorded request, or bytes, str or JSON-able data (lists
too) for a 200. With ``root``, other paths are files under it.

    with LocalServer({"/api": {"hits": []}}) as server:
        crawl(..., base_url=server.url)
        assert server.requests[0].query["page"] == ["0"]
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from spiders import localserver
from spiders.localserver import QuietHandler


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang_up: bool = False  # close the connection without answering

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/html; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


class Turns:
    """Answers served in turn, one per request to the route; the last one repeats."""

    def __init__(self, *replies: Any):
        self.replies = replies


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float = 0.0  # time.monotonic() when it arrived
    wall: float = 0.0  # time.time() when it arrived (to compare with HTTP dates and epoch resets)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class LocalServer:
    def __init__(self, routes: dict[str, Any] | None = None, root: str | Path | None = None,
                 host: str = "127.0.0.1", port: int = 0):
        self.routes = dict(routes or {})
        self.host, self.port = host, port
        self.root = Path(root) if root else None
        self.requests: list[Recorded] = []
        self._turns: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def __enter__(self) -> LocalServer:
        server = self

        class Handler(QuietHandler):
            def do_GET(self):
                server._handle(self)

            do_POST = do_GET

        self._httpd = localserver.start(Handler, self.host, self.port)
        return self

    def __exit__(self, *exc) -> None:
        localserver.stop(self._httpd)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        request = Recorded(handler.command, parts.path, parse_qs(parts.query), dict(handler.headers.items()),
                           time.monotonic(), time.time())
        with self._lock:
            self.requests.append(request)
            reply = self._reply(request, handler.path)
        if reply.hang_up:
            handler.close_connection = True
            return
        body, ctype = reply.encoded()
        handler.send_response(reply.status)
        headers = {"Content-Type": ctype, "Content-Length": str(len(body)), **reply.headers}
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _reply(self, request: Recorded, raw_path: str) -> Reply:
        route = self.routes.get(raw_path, self.routes.get(request.path))
        if route is None and self.root is not None:
            file = (self.root / request.path.lstrip("/")).resolve()
            if file.is_file() and self.root.resolve() in file.parents:
                return Reply(body=file.read_bytes())
        if route is None:
            return Reply(404, {"error": "not found"})
        if isinstance(route, Turns):
            turn = self._turns.get(request.path, 0)
            self._turns[request.path] = turn + 1
            route = route.replies[min(turn, len(route.replies) - 1)]
        if callable(route):
            route = route(request)
        return route if isinstance(route, Reply) else Reply(body=route)
