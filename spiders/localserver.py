"""A small HTTP server on a background thread: the demo's replay, and the local servers of tests and benchmarks."""

from __future__ import annotations

import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that writes no access log."""

    def log_message(self, format: str, *args) -> None:
        """Requests are not logged: these servers answer thousands of them."""


def start(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0,
          poll_interval: float = 0.5) -> ThreadingHTTPServer:
    """Serve ``handler`` on ``host:port`` (a free port by default) from a daemon thread."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(poll_interval,), daemon=True).start()
    return server


def stop(server: socketserver.BaseServer) -> None:
    """Stop serving and close the socket."""
    server.shutdown()
    server.server_close()
