"""Run one crawl of one source in a fresh subprocess.

Twisted's reactor cannot be restarted, so each crawl gets its own Python
process: :func:`crawl` can be called any number of times from the CLI, the
scheduler or tests. The child reads ``{config, source, cursors, settings}`` as
JSON on stdin and writes one JSON line per event to its stdout (posts as they
are scraped, cursors, errors, and the stats last); its own log goes to stderr.
:func:`recheck` runs the same way with a ``recheck`` list of posts: the spider
then fetches only those posts' threads and moves no cursor.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

from listener.config import Config, SourceConfig
from listener.deadletter import DeadLetter
from listener.errors import ConfigError
from listener.records import Post

logger = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    """What one crawl produced. Store ``posts`` first, then persist ``cursors``.

    ``rejected`` are the items the source sent that are not posts (a null
    text, a string count, no id), for the dead-letter file; the cursors pass
    them, since fetching them again would not make them any better.
    """

    posts: list[Post] = field(default_factory=list)
    cursors: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # A recheck's posts the source no longer has: post id -> how we know (HTTP 404, missing from its thread).
    deleted: dict[str, str] = field(default_factory=dict)
    rejected: list[DeadLetter] = field(default_factory=list)


def spider_class(source: SourceConfig) -> type:
    from spiders import SOURCE_KINDS

    try:
        return SOURCE_KINDS[source.kind]
    except KeyError:
        raise ConfigError(
            f"source {source.label!r}: unknown kind {source.kind!r} (kinds: {', '.join(sorted(SOURCE_KINDS))})"
        ) from None


def crawl(
    config: Config,
    source: SourceConfig,
    cursors: dict[str, str] | None = None,
    *,
    settings: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> CrawlResult:
    """Crawl ``source`` once, starting after ``cursors``; raises ConfigError for a bad source.

    ``settings`` override Scrapy settings for this crawl; past ``timeout``
    seconds the crawl is killed and what it sent so far is kept.
    """
    from spiders.base import validate_options

    validate_options(spider_class(source).options_model, source)
    return _execute(_request(config, source, cursors, settings), CrawlResult(cursors=dict(cursors or {})),
                    source, timeout)


def recheck(
    config: Config,
    source: SourceConfig,
    posts: list[Post],
    *,
    settings: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> CrawlResult:
    """Fetch each post's thread again: ``result.posts`` are the posts with their reply fields current.

    Nothing else is searched and no cursor moves. A post whose thread could not
    be fetched comes back as it was, with the failure in ``result.errors``; a
    post the source no longer has (404/410, or missing from its conversation)
    is in ``result.deleted`` instead of ``result.posts``.
    Raises ConfigError for a source whose kind cannot see replies.
    """
    from spiders.base import validate_options

    kind = spider_class(source)
    if not kind.sees_replies():
        raise ConfigError(f"source {source.label!r}: kind {source.kind} cannot fetch a post's replies, so its posts "
                          f"cannot be re-checked (kinds that can: {', '.join(_rechecked_kinds())})")
    validate_options(kind.options_model, source)
    if not posts:
        return CrawlResult()
    request = {**_request(config, source, None, settings), "recheck": [post.to_dict() for post in posts]}
    return _execute(request, CrawlResult(), source, timeout)


def supports(source: SourceConfig) -> bool:
    """Whether :func:`recheck` can fetch replies for ``source`` (False for rss, html, appstore)."""
    try:
        return spider_class(source).sees_replies()
    except ConfigError:
        return False


def cost(source: SourceConfig) -> float:
    """What one thread look-up of ``source`` costs, in free look-ups: a kind's ``lookup_cost`` (1 unless dear)."""
    try:
        return float(getattr(spider_class(source), "lookup_cost", 1.0))
    except ConfigError:
        return 1.0


recheck.supports = supports
recheck.cost = cost


def _rechecked_kinds() -> list[str]:
    from spiders import SOURCE_KINDS

    return sorted(name for name, kind in SOURCE_KINDS.items() if kind.sees_replies())


def _request(config: Config, source: SourceConfig, cursors: dict[str, str] | None,
             settings: dict[str, Any] | None) -> dict:
    return {
        "config": config.model_dump(mode="json"),
        "source": source.model_dump(mode="json"),
        "cursors": dict(cursors or {}),
        "settings": dict(settings or {}),
    }


def _execute(request: dict, result: CrawlResult, source: SourceConfig, timeout: float | None) -> CrawlResult:
    """Run ``request`` in a child (forked from the zygote when there is one) and collect into ``result``."""
    zygote = _warm_zygote()
    if zygote is not None:
        returncode = _crawl_forked(zygote, request, result, timeout)
    else:
        returncode = _crawl_spawned(request, result, timeout)
    if returncode != 0:
        why = f"killed after {timeout:g}s" if timeout and (returncode or 0) < 0 else f"exited with code {returncode}"
        result.errors.append(f"{source.label}: crawler process {why}")
    return result


def _crawl_spawned(request: dict, result: CrawlResult, timeout: float | None) -> int:
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from spiders.runner import _child; sys.exit(_child())"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": _pythonpath(), "LISTENER_CRAWL_PARENT": str(os.getpid())},
    )
    process.stdin.write(json.dumps(request).encode())
    process.stdin.close()
    timer = threading.Timer(timeout, process.kill) if timeout else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        collect(process.stdout, result)
        process.wait()
    finally:
        if timer:
            timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode


def _crawl_forked(zygote: _Zygote, request: dict, result: CrawlResult, timeout: float | None) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(zygote.path)
        stream = connection.makefile("rw", encoding="utf-8")
        stream.write(json.dumps({**request, "environ": dict(os.environ), "cwd": os.getcwd(), "owner": os.getpid()}) + "\n")
        stream.flush()
        pid = json.loads(stream.readline() or '{"pid": null}')["pid"]
        if pid is None:
            return -1
        timer = threading.Timer(timeout, _kill, (pid,)) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            code = collect(stream, result)
        finally:
            if timer:
                timer.cancel()
        # No exit event: the child died (killed over its time limit, or crashed).
        return -signal.SIGKILL if code is None else code


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class _Zygote:
    """A ``spiders.zygote`` process of this process, and the socket it listens on."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="listener-crawl-")
        self.path = os.path.join(self.folder, "zygote")
        self.owner = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spiders.zygote", self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": _pythonpath()},
        )
        if self.process.stdout.readline().strip() != b"ready":
            self.close()
            raise OSError("the crawl zygote did not start")

    @property
    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def close(self) -> None:
        if self.owner == os.getpid():
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
            if self.process.poll() is None:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


_zygote: _Zygote | None = None
_zygote_lock = threading.Lock()


def _warm_zygote() -> _Zygote | None:
    """This process's zygote, started on first use; None where forking is not available."""
    global _zygote
    if not hasattr(os, "fork") or os.environ.get("LISTENER_CRAWL_FORK") == "0":
        return None
    with _zygote_lock:
        if _zygote is None or not _zygote.alive:
            try:
                _zygote = _Zygote()
            except OSError as exc:
                logger.warning("crawls start cold (%s)", exc)
                return None
            atexit.register(_zygote.close)
        return _zygote


def collect(lines, result: CrawlResult) -> int | None:
    """Apply a crawl's events to ``result``; return its exit code if it reported one."""
    code = None
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:  # the child was killed half-way through writing it
            continue
        if "post" in event:
            result.posts.append(Post.from_dict(event["post"]))
        elif "cursor" in event:
            key, value = event["cursor"]
            result.cursors[key] = value
        elif "error" in event:
            result.errors.append(event["error"])
        elif "deleted" in event:
            post_id, reason = event["deleted"]
            result.deleted[post_id] = reason
        elif "rejected" in event:
            rejected = event["rejected"]
            result.rejected.append(DeadLetter(rejected["origin"], rejected["reason"], record=rejected["record"]))
        elif "stats" in event:
            result.stats = event["stats"]
        elif "exit" in event:
            code = event["exit"]
    return code


def _pythonpath() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    current = os.environ.get("PYTHONPATH")
    return root + (os.pathsep + current if current else "")


def with_contact(agent: str, contact: str) -> str:
    """``agent`` with ``contact`` added inside its closing brackets: ``listener/0.1 (+URL; ops@acme.test)``."""
    if agent.endswith(")"):
        return f"{agent[:-1]}; {contact})"
    return f"{agent} ({contact})"


def _child() -> int:
    """The spawned subprocess: run the crawl and write events to the original stdout."""
    from spiders.lifeline import die_with_parent

    die_with_parent(int(os.environ.get("LISTENER_CRAWL_PARENT") or os.getppid()))
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints go to stderr, never into the event stream
    sys.stdout = sys.stderr
    request = json.load(sys.stdin)
    return run_request(request, lambda **event: out.write(json.dumps(event, default=str) + "\n"))


def run_request(request: dict, emit) -> int:
    """Run one crawl request in this process, reporting through ``emit``; 0 when it ran."""
    label = request["source"].get("name") or request["source"]["kind"]
    finished = []
    redacted = redacting(request["source"], emit)

    def watched(**event) -> None:
        if "stats" in event:
            finished.append(True)
        redacted(**event)

    try:
        _run(request, watched)
    except Exception as exc:  # the parent reports it; the traceback goes to the log
        logger.exception("crawl failed")
        emit(error=f"{label}: crawl failed: {exc}")
        return 1
    if not finished:  # Scrapy logs a spider that fails to start and returns normally
        emit(error=f"{label}: the spider did not start (see the log above)")
        return 1
    return 0


def redacting(source: dict, emit):
    """``emit`` with no credential in the errors (the source's own ``*_env`` included), nor in the log."""
    from listener import redaction

    redaction.watch(value for key, value in source.items() if key.endswith("_env") and isinstance(value, str))
    redaction.install()

    def redacted(**event) -> None:
        if "error" in event:
            event["error"] = redaction.redact(str(event["error"]))
        emit(**event)

    return redacted


def _run(request: dict, emit) -> None:
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from spiders import settings as default_settings

    config = Config.model_validate(request["config"])
    source = SourceConfig.model_validate(request["source"])
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    settings.update(request["settings"], priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_class(source))
    crawler.settings.update(agent_settings(source, crawler.settings["USER_AGENT"]), priority="cmdline")
    recheck = request.get("recheck")
    posts = None if recheck is None else [Post.from_dict(post) for post in recheck]
    connect_events(crawler, source, emit, recheck=posts is not None)
    process.crawl(crawler, config=config, source=source, cursors=request["cursors"], recheck=posts)
    process.start()


def agent_settings(source: SourceConfig, agent: str) -> dict[str, str]:
    """The USER_AGENT of ``source`` over ``agent`` (the kind's own): its ``user_agent``, or ``contact`` added."""
    if source.user_agent:
        return {"USER_AGENT": source.user_agent}
    if source.contact:  # the kind's own format (Reddit's) keeps its shape
        return {"USER_AGENT": with_contact(agent, source.contact)}
    return {}


def connect_events(crawler, source: SourceConfig, emit, *, recheck: bool = False) -> None:
    """Report what ``crawler`` finds through ``emit``: posts, cursors (none in a recheck), deleted
    posts, rejected items and errors as they come, the stats last."""
    from scrapy import signals

    from spiders.admission import checked, post_rejected
    from spiders.base import Cursor, source_error
    from spiders.conversations import Gone
    from spiders.progress import cursor_reached

    def scraped(item, **_):
        if isinstance(item, Gone):
            emit(deleted=[item.post_id, item.reason])
        elif isinstance(item, Post):  # checked again: a thread's answer may have changed it
            post = checked(item, source.label)
            if isinstance(post, Post):
                emit(post=post.to_dict())
            else:
                emit(error=f"{source.label}: bad_item: {item.id}: not kept ({post.reason})")
                rejected(source.label, post.reason, json.loads(post.raw))
        elif isinstance(item, Cursor):
            moved(item)

    def rejected(origin, reason, record, **_):
        emit(rejected={"origin": origin, "reason": reason, "record": record})

    def moved(cursor, **_):
        if not recheck:
            emit(cursor=[cursor.key, cursor.value])

    def closed(spider, reason, **_):
        stats = dict(crawler.stats.get_stats())
        stats["finish_reason"] = reason
        emit(stats=json.loads(json.dumps(stats, default=str)))

    crawler.signals.connect(scraped, signal=signals.item_scraped, weak=False)
    crawler.signals.connect(moved, signal=cursor_reached, weak=False)
    crawler.signals.connect(rejected, signal=post_rejected, weak=False)
    crawler.signals.connect(lambda message, **_: emit(error=message), signal=source_error, weak=False)
    crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
