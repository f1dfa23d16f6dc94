"""A warm process that forks one child per crawl.

Starting Python and importing Scrapy and Twisted takes one to three seconds;
the zygote pays that once, then forks a child for every crawl. A child has
never run a reactor (the zygote only imports), so Twisted's one-run-per-process
rule still holds, and each crawl stays isolated in its own process.

The parent talks to the zygote over a Unix socket: it sends one JSON line
(the crawl request plus its environment and working directory) and reads the
child's events back, ending with ``{"exit": code}``. The zygote exits when its
parent closes its stdin, so no zygote outlives the process that started it,
and a crawl dies with the zygote and with the process that asked for it
(:mod:`spiders.lifeline`), even when that one is killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys

PRELOAD = ("scrapy", "scrapy.crawler", "scrapy.settings", "scrapy.http", "scrapy.core.engine", "scrapy.core.scraper",
           "spiders")
# Scrapy loads its components by name at every crawl: imported here, once, instead of in each child.
COMPONENT_SETTINGS = ("EXTENSIONS_BASE", "DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE")


def preload() -> None:
    from scrapy.settings import Settings
    from scrapy.utils.misc import load_object

    for module in PRELOAD:
        __import__(module)
    settings = Settings()
    for name in COMPONENT_SETTINGS:
        for path in settings.getdict(name):
            try:
                load_object(path)
            except Exception:  # noqa: BLE001 - a component that cannot load here fails in the crawl, with its reason
                pass


def serve(path: str) -> None:
    """The zygote's main loop (``python -m spiders.zygote PATH``)."""
    preload()
    if "twisted.internet.reactor" in sys.modules:  # a shared, installed reactor would leak into every child
        raise SystemExit("spiders.zygote: a reactor was installed while preloading; refusing to fork crawls")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    zygote = os.getpid()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    print("ready", flush=True)
    os.dup2(2, 1)  # from here on, stray output goes to stderr, not into the parent's pipe
    while True:
        readable, _, _ = select.select([server, sys.stdin], [], [])
        if sys.stdin in readable and not sys.stdin.buffer.read1(1):
            break  # the parent has gone
        if server in readable:
            connection, _ = server.accept()
            if os.fork() == 0:
                server.close()
                os._exit(_child(connection, zygote))
            connection.close()
    server.close()
    os.unlink(path)


def _child(connection: socket.socket, zygote: int) -> int:
    from spiders.lifeline import die_with_parent
    from spiders.runner import run_request

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    stream = connection.makefile("rw", encoding="utf-8")
    request = json.loads(stream.readline())
    die_with_parent(zygote, request.pop("owner", None))
    os.environ.clear()
    os.environ.update(request.pop("environ"))
    os.chdir(request.pop("cwd"))

    def emit(**event) -> None:
        stream.write(json.dumps(event, default=str) + "\n")
        stream.flush()  # the parent reads events as they come: posts, then the exit code

    emit(pid=os.getpid())
    code = run_request(request, emit)
    emit(exit=code)
    return code


if __name__ == "__main__":
    serve(sys.argv[1])
