"""The one place that wires NLP and an index backend together.

Posts come in (from a JSON Lines file or a crawl), are analysed in batches,
get their thread state, and are written to the index. Whatever cannot be read,
analysed or written is reported with its reason, and kept in the dead-letter
file when one is given; the rest goes on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from listener.config import Config
from listener.index.base import BaseBackend
from listener.deadletter import DeadLetter, DeadLetterFile
from listener.jsonl import Notice, Rejection, check_post, load_line, normalize_post
from listener.records import Analysis, IndexedPost, Post
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

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        text = f"read {self.read}, indexed {self.indexed}, rejected {len(self.rejected)}"
        return text + (f", {len(self.notices)} warning(s)" if self.notices else "")


Item = Post | Rejection | Notice | tuple[str, Post]


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

    def analyze(self, posts: Iterable[Post], batch_size: int = 256) -> Iterator[tuple[Post, Analysis | Rejection]]:
        """Yield each post with its analysis, in input order."""
        iterator = iter(posts)
        while batch := list(islice(iterator, batch_size)):
            try:
                analyses = list(self.analyzer.analyze_many(batch, batch_size=batch_size))
            except Exception:  # one bad post must not lose the batch: retry one by one
                analyses = [self._analyze_one(post) for post in batch]
            yield from zip(batch, analyses)

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
