"""The one place that wires NLP and an index backend together.

Posts come in (from a JSON Lines file or a crawl), are analysed in batches,
get their thread state, and are written to the index. Whatever cannot be read,
analysed or written is reported with its reason, and kept in the dead-letter
file when one is given; the rest goes on.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain, islice

from listener.config import Config
from listener.index.base import BaseBackend
from listener.deadletter import DeadLetter, DeadLetterFile
from listener.jsonl import Notice, Rejection, check_post, load_line, normalize_post, read_posts
from listener.records import Analysis, IndexedPost, Post
from listener.suppression import SuppressionList
from listener.threads import answer_state

logger = logging.getLogger(__name__)


@dataclass
class IngestReport:
    read: int = 0
    indexed: int = 0
    rejected: list[str] = field(default_factory=list)
    # The rejections the index made (the rest: unreadable input, failed analysis).
    failed_writes: list[str] = field(default_factory=list)
    # What was said about lines that were still read (unknown fields, replaced characters).
    notices: list[str] = field(default_factory=list)
    dead_letters: int = 0
    # Posts by authors on the suppression list, skipped.
    suppressed: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        text = f"read {self.read}, indexed {self.indexed}, rejected {len(self.rejected)}"
        text += f", skipped {self.suppressed} by erased authors" if self.suppressed else ""
        return text + (f", {len(self.notices)} warning(s)" if self.notices else "")


Item = Post | Rejection | Notice | tuple[str, Post]


@dataclass
class AnalyzedLines:
    """What ``listener analyze`` prints for a run of input lines."""

    lines: list[str] = field(default_factory=list)  # one JSON line per post, in input order
    messages: list[str] = field(default_factory=list)  # warnings and rejections, in input order
    rejected: int = 0  # lines that could not be read


# Input lines per unit of work: a worker process gets this many at a time.
CHUNK_LINES = 256


def default_workers() -> int:
    """One analysing process per core this process may use, at most four."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores))


def analysis_line(post: Post, analysis: Analysis) -> str:
    return json.dumps({"id": post.id, "analysis": analysis.to_dict()}, ensure_ascii=False)


class DeadLetterList(list):
    """Dead letters kept in memory (what a replay writes back)."""

    def add(self, letters: list[DeadLetter]) -> None:
        self.extend(letters)


def load_analyzer(config: Config):
    """The analyzer of ``config``, reading with the data directory's trained model when there is one."""
    from listener.learning import models_folder
    from nlp import Analyzer

    folder = models_folder(config)
    return Analyzer(config, models=str(folder) if folder else None)


class Pipeline:
    def __init__(self, config: Config, backend: BaseBackend | None = None, analyzer=None):
        self.config = config
        self.backend = backend
        self.analyzer = analyzer if analyzer is not None else load_analyzer(config)
        self.suppression = SuppressionList.from_config(config)

    def analyze(self, posts: Iterable[Post], batch_size: int = 256) -> Iterator[tuple[Post, Analysis | Rejection]]:
        """Yield each post with its analysis, in input order."""
        iterator = iter(posts)
        while batch := list(islice(iterator, batch_size)):
            try:
                analyses = list(self.analyzer.analyze_many(batch, batch_size=batch_size))
            except Exception:  # one bad post must not lose the batch: retry one by one
                analyses = [self._analyze_one(post) for post in batch]
            yield from zip(batch, analyses)

    def analyze_lines(self, lines: Iterable[bytes], origin: str, workers: int = 1) -> Iterator[AnalyzedLines]:
        """Read and analyse JSON Lines (``origin`` names them in messages), a chunk of lines at a time, in order.

        With ``workers`` > 1, that many forked processes read and analyse the
        chunks while this one reads the lines and hands the results on: each
        starts with this process's analyzer, so the output is the same.
        """
        chunks = _chunks(lines, CHUNK_LINES)
        opening = list(islice(chunks, 2))
        chunks = chain(opening, chunks)
        if workers <= 1 or len(opening) < 2:  # one chunk is not worth a process
            for start, chunk in chunks:
                yield self._analyze_chunk(start, chunk, origin)
            return
        yield from _in_workers(self, origin, chunks, workers)

    def _analyze_chunk(self, start: int, lines: list[bytes], origin: str) -> AnalyzedLines:
        """The output of ``lines``, the first of them line ``start`` of the input."""
        result = AnalyzedLines()
        # Line numbers count from the chunk's first line; a blank line before a later chunk keeps the
        # byte-order mark removed only from line 1 of the input.
        shift = 0 if start == 1 else start - 2
        posts = []
        for _, item in read_posts(lines if start == 1 else [b"\n", *lines], origin):
            if isinstance(item, (Notice, Rejection)) and shift:
                item = replace(item, line=item.line + shift)
            if isinstance(item, Notice):
                result.messages.append(f"warning: {item}")
            elif isinstance(item, Rejection):
                result.rejected += 1
                result.messages.append(str(item))
            else:
                posts.append(item)
        for post, analysis in self.analyze(posts):
            if isinstance(analysis, Rejection):
                result.messages.append(f"{post.id}: {analysis.reason}")
            else:
                result.lines.append(analysis_line(post, analysis))
        return result

    def _analyze_one(self, post: Post) -> Analysis | Rejection:
        try:
            return self.analyzer.analyze(post)
        except Exception as exc:
            logger.exception("analysis failed for %s", post.id)
            return Rejection(post.id, 0, f"analysis failed: {exc}")

    def indexed(self, post: Post, analysis: Analysis) -> IndexedPost:
        return IndexedPost(post=post, analysis=analysis, answer_state=answer_state(post, self.config))

    def ingest(
        self,
        items: Iterable[Item],
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
        dead_letter: DeadLetterFile | DeadLetterList | None = None,
    ) -> IngestReport:
        """Analyse and index posts; rejections and notices in ``items`` are counted and reported.

        An item ``(origin, post)`` names where the post was read (``file:line``),
        for the reports and the dead-letter file; a bare post's origin is its source.
        Progress counts posts and rejections, not notices.
        """
        if self.backend is None:
            raise ValueError("ingest needs an index backend")
        report = IngestReport()
        handles = self.suppression.handles()
        iterator = iter(items)
        while chunk := list(islice(iterator, batch_size)):
            posts, origins, letters = [], {}, []
            for item in chunk:
                if isinstance(item, Notice):
                    report.notices.append(str(item))
                    continue
                report.read += 1
                if isinstance(item, Rejection):
                    report.rejected.append(str(item))
                    letters.append(DeadLetter(f"{item.origin}:{item.line}", item.reason, line=item.raw or ""))
                    continue
                origin, post = item if isinstance(item, tuple) else (None, item)
                post = normalize_post(post)
                if handles.wrote(post):  # erased: never stored again
                    report.suppressed += 1
                    continue
                post = handles.redact_post(post)[0]
                origins[post.id] = origin
                posts.append(post)
            documents = []
            for post, analysis in self.analyze(posts):
                if isinstance(analysis, Rejection):
                    report.rejected.append(f"{_named(post.id, origins[post.id])}: {analysis.reason}")
                    letters.append(DeadLetter(origins[post.id] or post.source, analysis.reason, record=post.to_dict()))
                else:
                    documents.append(self.indexed(post, analysis))
            result = self.backend.upsert(documents)
            report.indexed += len(result.indexed)
            by_id = {d.id: d.post for d in documents}
            for post_id, reason in result.failed:
                failure = f"{_named(post_id, origins.get(post_id))}: not indexed ({reason})"
                report.failed_writes.append(failure)
                report.rejected.append(failure)
                if post_id in by_id:
                    letters.append(DeadLetter(origins.get(post_id) or by_id[post_id].source, f"not indexed ({reason})",
                                              record=by_id[post_id].to_dict()))
            if dead_letter is not None and letters:
                dead_letter.add(letters)
                report.dead_letters += len(letters)
            if progress:
                progress(sum(1 for item in chunk if not isinstance(item, Notice)))
        self.backend.refresh()
        logger.info("ingest: %s", report.summary())
        return report

    def replay(self, dead_letter: DeadLetterFile, batch_size: int = 500) -> IngestReport:
        """Ingest the dead-letter file again; only what fails again stays in it."""
        entries, size = dead_letter.read()
        again = DeadLetterList()
        report = self.ingest(_replayed(entries, str(dead_letter.path)), batch_size, dead_letter=again)
        dead_letter.replace(again, size)
        return report


def _chunks(lines: Iterable[bytes], size: int) -> Iterator[tuple[int, list[bytes]]]:
    """``(number of its first line, lines)`` for each run of ``size`` lines."""
    iterator, start = iter(lines), 1
    while chunk := list(islice(iterator, size)):
        yield start, chunk
        start += len(chunk)


def _in_workers(pipeline: Pipeline, origin: str, chunks: Iterator[tuple[int, list[bytes]]], count: int) -> Iterator[AnalyzedLines]:
    """``pipeline._analyze_chunk`` of each chunk, by ``count`` forked processes, in input order.

    Each process has one chunk at a time: it is sent the next one as soon as
    its result is received, so neither side can block the other on a full pipe.
    """
    context = multiprocessing.get_context("fork")
    connections, processes = [], []
    try:
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=_work, args=(pipeline, origin, theirs), daemon=True)
            process.start()
            theirs.close()
            connections.append(ours)
            processes.append(process)
        idle, busy = deque(connections), deque()
        for chunk in chunks:
            if idle:
                connection = idle.popleft()
                connection.send(chunk)
                busy.append(connection)
                continue
            connection = busy.popleft()
            result = _received(connection)
            connection.send(chunk)
            busy.append(connection)
            yield result
        while busy:
            yield _received(busy.popleft())
    finally:
        for connection in connections:
            try:
                connection.send(None)
            except OSError:
                pass
            connection.close()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


def _received(connection) -> AnalyzedLines:
    try:
        return connection.recv()
    except EOFError:
        raise RuntimeError("an analysing process stopped unexpectedly (out of memory?)") from None


def _work(pipeline: Pipeline, origin: str, connection) -> None:
    """A worker process: analyse the chunks it is sent until it is sent None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    try:
        while (chunk := connection.recv()) is not None:
            connection.send(pipeline._analyze_chunk(*chunk, origin))
    except (EOFError, BrokenPipeError):  # the parent stopped reading (its output was closed)
        pass


def _named(post_id: str, origin: str | None) -> str:
    return f"{origin}: {post_id}" if origin else post_id


def _replayed(entries: list[tuple[int, dict | str]], path: str) -> Iterator[Item]:
    """The items a dead-letter file's entries describe, each keeping its first origin."""
    for number, entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("origin"), str) or not (
                isinstance(entry.get("line"), str) or isinstance(entry.get("record"), dict)):
            text = entry if isinstance(entry, str) else json.dumps(entry, ensure_ascii=False)
            yield Rejection(path, number, "not a dead-letter entry (line or record, origin, reason)", text)
            continue
        origin = entry["origin"]
        file, _, line = origin.rpartition(":")
        file, line = (file, int(line)) if line.isdigit() else (origin, 0)
        if "record" in entry:
            data, raw = entry["record"], None
        else:
            raw = entry["line"]
            data = load_line(raw, file, line)
            if isinstance(data, Rejection):
                yield data
                continue
        item, notices = check_post(data, file, line, raw=raw if raw is not None else json.dumps(data, ensure_ascii=False))
        yield from notices
        if isinstance(item, Rejection) and raw is None:
            # Keep the record as it was, not as a line.
            item = Rejection(item.origin, item.line, item.reason, json.dumps(data, ensure_ascii=False))
        yield item if isinstance(item, Rejection) else (origin, item)
