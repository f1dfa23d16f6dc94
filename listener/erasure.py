"""Forgetting: an author who asked to be erased, and posts past the retention period.

Erasing an author (:func:`erase_author`) reaches every store listener keeps:

1. the suppression list first, so a crawl running meanwhile already skips them;
2. the index: their posts (with feedback and workflow), and their handle in
   other people's posts, replaced with ``@[erased]`` (the rest of those posts stays);
3. the index's files: SQLite's full-text segments merged, the file vacuumed
   and its write-ahead log emptied; Elasticsearch's deleted documents expunged
   by a force merge;
4. ``state.db``: re-checks, deletion marks and alert keys of those posts, the
   handle in run errors and alert titles; then vacuumed the same way;
5. the dead-letter file: their records dropped, their handle in others' redacted;
6. a model trained in the data dir is not retrained here: the report says to run
   ``listener train`` again when one exists.

Retention (:func:`erase_older_than`) removes posts published before a cutoff
from the same stores.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from listener.config import Config
from listener.deadletter import FILENAME as DEAD_LETTER_FILE
from listener.deadletter import DeadLetterFile
from listener.index.base import BaseBackend
from listener.learning import MODEL_FOLDER
from listener.records import parse_time
from listener.state import StateStore
from listener.suppression import ERASED, Handles, SuppressionList, handle_key

logger = logging.getLogger(__name__)


@dataclass
class ErasureReport:
    handle: str
    posts: int = 0
    redacted: int = 0
    state_records: int = 0
    dead_letters: int = 0
    newly_suppressed: bool = False
    suppression_list: str = ""
    # A model trained in the data dir before the erasure may have learned from the posts.
    trained_model: str | None = None

    def summary(self) -> str:
        listed = "added to" if self.newly_suppressed else "already on"
        text = (f"Erased {self.posts} post(s) by {self.handle}; the handle was replaced in {self.redacted} other post(s), "
                f"{self.state_records} state record(s) and {self.dead_letters} dead letter(s). "
                f"{self.handle} is {listed} the suppression list ({self.suppression_list}): "
                "later ingests and crawls skip their posts.")
        if self.trained_model and self.posts:
            text += f" The model in {self.trained_model} was trained before: run `listener train` so it forgets them too."
        return text


@dataclass
class RetentionReport:
    cutoff: datetime
    posts: int = 0
    state_records: int = 0
    dead_letters: int = 0

    def summary(self) -> str:
        return (f"Erased {self.posts} post(s) published before {self.cutoff:%Y-%m-%d %H:%M} UTC, "
                f"{self.state_records} state record(s) of them and {self.dead_letters} older dead letter(s).")


def erase_author(config: Config, backend: BaseBackend, state: StateStore, handle: str) -> ErasureReport:
    """Forget ``handle`` (``@ana``, ``ana``, ``@ana@mastodon.social``, any case) everywhere; keep it out from now on."""
    if not handle_key(handle):
        raise ValueError("an empty handle")
    suppression = SuppressionList.from_config(config)
    report = ErasureReport(handle, suppression_list=str(suppression.path))
    report.newly_suppressed = bool(suppression.add(handle))
    ids = backend.posts_by(handle)
    report.posts = backend.delete(ids)
    backend.refresh()
    report.redacted = backend.redact_mentions(handle)
    backend.purge()
    handles = Handles.of(handle)
    report.state_records = state.forget_posts(ids) + state.redact(lambda text: _without(text, handles, ids))
    state.compact()
    report.dead_letters = DeadLetterFile(config.data_path(DEAD_LETTER_FILE)).rewrite(
        lambda line: _dead_letter_without(line, handles, handle_key(handle)))
    model = config.data_path(MODEL_FOLDER)
    report.trained_model = str(model) if (model / "reading.json").is_file() else None
    logger.info("erasure: %d post(s) of an author erased, %d redacted", report.posts, report.redacted)
    return report


def erase_older_than(config: Config, backend: BaseBackend, state: StateStore, cutoff: datetime) -> RetentionReport:
    """Forget every post published before ``cutoff``, and dead letters written before it."""
    report = RetentionReport(cutoff)
    ids = backend.ids_created_before(cutoff)
    if ids:
        report.posts = backend.delete(ids)
        backend.refresh()
        backend.purge()
        report.state_records = state.forget_posts(ids)
        state.compact()
    report.dead_letters = DeadLetterFile(config.data_path(DEAD_LETTER_FILE)).rewrite(
        lambda line: None if _written_before(line, cutoff) else line)
    logger.info("retention: %d post(s) published before %s erased", report.posts, cutoff.isoformat())
    return report


def _without(text: str, handles: Handles, ids: list[str]) -> str:
    """``text`` (a run error, an alert title) without the handle or the ids of the erased posts."""
    text = handles.redact(text)[0]
    for post_id in ids:
        if post_id in text:
            text = text.replace(post_id, "[erased]")
    return text


def _dead_letter_without(line: str, handles: Handles, key: str) -> str | None:
    """The dead letter without the author: dropped if theirs, their @-mentions replaced if someone else's."""
    author = _author_of(line)
    if author is None:  # not readable as a post: drop it if it names them as its author
        pattern = rf'"author"\s*:\s*"@?{re.escape(key)}"'
        if re.search(pattern, line, re.IGNORECASE):
            return None
    elif handle_key(author) == key:
        return None
    return handles.redact(line)[0]


def _author_of(line: str) -> str | None:
    try:
        entry = json.loads(line)
        record = entry.get("record") if "record" in entry else json.loads(entry["line"])
        author = record.get("author")
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    return author if isinstance(author, str) else None


def _written_before(line: str, cutoff: datetime) -> bool:
    try:
        return parse_time(json.loads(line)["at"]) < cutoff
    except (ValueError, TypeError, KeyError, RecursionError, OverflowError):
        return False


__all__ = ["ERASED", "ErasureReport", "RetentionReport", "erase_author", "erase_older_than"]
