"""Local stand-ins for the scheduler tests: a source, an analyzer, an HTTP and an SMTP receiver,
and ``listener run`` as a process of its own."""

from __future__ import annotations

import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

from elasticsearch import ApiError

from listener.config import Config, SourceConfig
from listener.records import Analysis, Mention, Post
from spiders import CrawlResult, localserver
from spiders.localserver import QuietHandler

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc)  # a Tuesday, 11:00 in Madrid
QUIET = {"sla": {"enabled": False}, "spikes": {"enabled": False}, "digest": {"enabled": False}}


def config_data(tmp_path, sources=None, **sections) -> dict:
    """A configuration as its file holds it: Cinesa, Yelmo its competitor, the data in ``tmp_path``."""
    return {
        "brand": {"name": "Cinesa", "aliases": ["cinesa"], "handles": ["@cinesa"]},
        "competitors": [{"name": "Yelmo", "aliases": ["yelmo"], "handles": ["@yelmocines"]}],
        "data_dir": str(tmp_path / "data"),
        "sources": sources if sources is not None else [{"kind": "local", "name": "local", "interval": 1}],
        **sections,
    }


def make_config(tmp_path, sources=None, **sections) -> Config:
    return Config.model_validate(config_data(tmp_path, sources, **sections))


class KeywordAnalyzer:
    """A predictable analyzer: complaints, questions and prospects from a few words."""

    def analyze(self, post: Post) -> Analysis:
        text = post.text.lower()
        mentions = []
        if "cinesa" in text:
            mentions.append(Mention("Cinesa", "brand", "cinesa", 0, 6, "name"))
        if "yelmo" in text:
            mentions.append(Mention("Yelmo", "competitor", "yelmo", 0, 5, "name"))
        intents = []
        if any(w in text for w in ("funciona", "caída", "cobrado", "desastre", "imposible")):
            intents.append("complaint")
        if "?" in text:
            intents.append("question")
        prospect = "recomend" in text or "alguien sabe" in text
        return Analysis(
            language="es", mentions=tuple(mentions), sector=True, intents=tuple(intents),
            customer_status="prospect" if prospect else "unknown",
            lead_score=80 if prospect else 20, reasons=("asks for advice",) if prospect else (),
            surface=bool(mentions) and bool(intents),
        )

    def analyze_many(self, posts, batch_size: int = 256):
        return [self.analyze(post) for post in posts]


@dataclass
class CrawlCall:
    source: str
    queries: tuple[str, ...]
    cursors: dict
    started: float
    ended: float = 0.0


class LocalSource:
    """An in-process crawler: posts newer than the cursor, one cursor per query.

    ``delay`` makes each crawl take that long; ``calls`` records every crawl.
    """

    def __init__(self, posts: list[Post] | None = None, delay: float = 0.0, errors: list[str] | None = None):
        self.posts = list(posts or [])
        self.delay = delay
        self.errors = list(errors or [])
        self.calls: list[CrawlCall] = []
        self._lock = threading.Lock()

    def publish(self, post: Post) -> None:
        with self._lock:
            self.posts.append(post)

    def __call__(self, config: Config, source: SourceConfig, cursors: dict) -> CrawlResult:
        call = CrawlCall(source.label, tuple(source.queries), dict(cursors), time.monotonic())
        self.calls.append(call)
        time.sleep(self.delay)
        keys = list(source.queries) or ["all"]
        result = CrawlResult(cursors=dict(cursors), errors=list(self.errors))
        with self._lock:
            posts = list(self.posts)
        for key in keys:
            since = float(cursors.get(key, "0"))
            fresh = [p for p in posts if p.created_at.timestamp() > since and (key == "all" or key in p.text)]
            result.posts += fresh
            if fresh:
                result.cursors[key] = str(max(p.created_at.timestamp() for p in fresh))
        call.ended = time.monotonic()
        return result


def local_post(number: int, text: str, author: str | None = None, at: datetime | None = None, **fields) -> Post:
    return Post(
        id=fields.pop("id", f"local:{number}"), source=fields.pop("source", "local"), url=f"https://example.org/{number}",
        author=author or f"user{number}", text=text, created_at=at or NOW + timedelta(seconds=number), **fields,
    )


class StaticRefresher:
    """A thread refresher answering from a dict of post id -> (reply_count, repliers).

    ``deleted`` maps post ids the source no longer has to why; ``costs`` a source's label to its look-up cost.
    """

    def __init__(self, threads: dict | None = None, supported: bool = True, fail: Exception | None = None,
                 deleted: dict | None = None, costs: dict | None = None):
        self.threads = dict(threads or {})
        self.supported = supported
        self.fail = fail
        self.deleted = dict(deleted or {})
        self.costs = dict(costs or {})
        self.calls: list[list[str]] = []

    def supports(self, source) -> bool:
        return self.supported

    def cost(self, source) -> float:
        return self.costs.get(source.label, 1.0)

    def refresh(self, config, source, posts):
        from dataclasses import replace

        from scheduler.rechecks import RefreshResult

        self.calls.append([p.id for p in posts])
        if self.fail:
            raise self.fail
        result = RefreshResult(deleted={p.id: self.deleted[p.id] for p in posts if p.id in self.deleted})
        for post in posts:
            if post.id in self.deleted:
                continue
            count, repliers = self.threads.get(post.id, (0, ()))
            result.posts.append(replace(post, reply_count=count, replied_by=tuple(repliers),
                                        first_reply_at=post.created_at + timedelta(minutes=5) if count else None))
        return result


class Clock:
    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@dataclass
class Received:
    path: str
    body: bytes
    headers: dict
    at: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.body)


class HttpReceiver:
    """Records POSTed bodies; ``statuses`` are answered in turn (then 200)."""

    def __init__(self, statuses: list[int] | None = None):
        self.received: list[Received] = []
        self.statuses = list(statuses or [])

    def __enter__(self) -> HttpReceiver:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(Received(self.path, body, dict(self.headers.items())))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = localserver.start(Handler, poll_interval=0.05)
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/secret-token"

    def __exit__(self, *exc) -> None:
        localserver.stop(self.server)


@dataclass
class SmtpReceiver:
    """A minimal SMTP server (HELO/EHLO, MAIL, RCPT, DATA, QUIT) that keeps what it receives."""

    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)

    def __enter__(self) -> SmtpReceiver:
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self):
                self.reply("220 localhost test SMTP")
                sender, recipients = "", []
                while line := self.rfile.readline():
                    command = line.decode().strip()
                    verb = command[:4].upper()
                    if verb in ("HELO", "EHLO"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip(" <>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b""):
                            lines.append(data[1:] if data.startswith(b"..") else data)
                        receiver.messages.append((sender, recipients, message_from_bytes(b"".join(lines), policy=policy.default)))
                        self.reply("250 OK queued")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def __exit__(self, *exc) -> None:
        localserver.stop(self.server)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


# -- ``listener run`` processes ------------------------------------------------------


def start_run(config_path: Path, log: Path) -> subprocess.Popen:
    """``listener run`` (:mod:`tests.scheduler.service_main`) on ``config_path``, logging to ``log``."""
    return subprocess.Popen([sys.executable, "-m", "tests.scheduler.service_main", str(config_path)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=open(log, "w"))


def stop_runs(*processes: subprocess.Popen | None) -> None:
    """SIGTERM to those still running, and wait for them to finish their jobs."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


def leader_pid(lease) -> int | None:
    """The pid of the run holding ``lease`` (an ElasticsearchLease), or None."""
    try:
        return (lease.leader() or {}).get("pid")
    except ApiError:  # the lease index is being created
        return None


def log_lines(log: Path, marker: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if marker in line]
