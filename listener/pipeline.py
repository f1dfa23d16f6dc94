"""The one place that wires NLP and an index backend together.

Posts come in (from a JSON Lines file or a crawl), are analysed in batches,
get their thread state, and are written to the index. Whatever cannot be read,
analysed or written is reported with its reason; the rest goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from listener.config import Config
from listener.index.base import BaseBackend
from listener.jsonl import Rejection
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

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return f"read {self.read}, indexed {self.indexed}, rejected {len(self.rejected)}"


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
        items: Iterable[Post | Rejection],
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Analyse and index posts; rejections in ``items`` are counted and reported."""
        if self.backend is None:
            raise ValueError("ingest needs an index backend")
        report = IngestReport()
        iterator = iter(items)
        while chunk := list(islice(iterator, batch_size)):
            posts = []
            for item in chunk:
                report.read += 1
                if isinstance(item, Rejection):
                    report.rejected.append(str(item))
                else:
                    posts.append(item)
            documents = []
            for post, analysis in self.analyze(posts):
                if isinstance(analysis, Rejection):
                    report.rejected.append(f"{post.id}: {analysis.reason}")
                else:
                    documents.append(self.indexed(post, analysis))
            result = self.backend.upsert(documents)
            report.indexed += len(result.indexed)
            failed = [f"{post_id}: not indexed ({reason})" for post_id, reason in result.failed]
            report.failed_writes += failed
            report.rejected += failed
            if progress:
                progress(len(chunk))
        self.backend.refresh()
        logger.info("ingest: %s", report.summary())
        return report
