"""The dead-letter file: every record that was read but not indexed, to fix and replay.

One JSON object per line, as Logstash's dead-letter queue keeps them: the
original ``line`` (for input that could not be read) or ``record`` (a post
that could not be analysed or written), its ``origin`` (``file:line``, or the
source), the ``reason`` and the time (``at``). ``listener ingest
--replay-dead-letter`` reads it again and keeps only what fails again.

Appends and the final rewrite of a replay hold an exclusive lock on the file,
so an ingest running beside a replay loses nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from listener.records import format_time

FILENAME = "dead-letter.jsonl"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    origin: str
    reason: str
    line: str | None = None
    record: dict | None = None
    at: str = ""

    def to_dict(self) -> dict:
        data = {"line": self.line} if self.record is None else {"record": self.record}
        return {**data, "origin": self.origin, "reason": self.reason, "at": self.at or format_time(datetime.now(timezone.utc))}


class DeadLetterFile:
    """Appends dead letters to ``path`` (created with its folder on the first one)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.written = 0

    def add(self, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        text = "".join(json.dumps(letter.to_dict(), ensure_ascii=False) + "\n" for letter in letters)
        with self._lock(), open(self.path, "ab") as stream:
            stream.write(text.encode("utf-8", "replace"))
            stream.flush()
            os.fsync(stream.fileno())
        self.written += len(letters)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        # A lock file beside it, since a replay replaces the file itself.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def read(self) -> tuple[list[tuple[int, dict | str]], int]:
        """Every entry ``(line number, object, or the text of a line that is not one)`` and the bytes read."""
        with open(self.path, "rb") as stream:
            data = stream.read()
        entries = []
        for number, raw in enumerate(data.splitlines(), start=1):
            text = raw.decode("utf-8", "replace")
            if not text.strip():
                continue
            try:
                entry = json.loads(text)
            except (ValueError, RecursionError):
                entry = text
            entries.append((number, entry if isinstance(entry, dict) else text))
        return entries, len(data)

    def replace(self, letters: list[DeadLetter], read_bytes: int) -> None:
        """Keep only ``letters`` and whatever was appended after the first ``read_bytes`` were read."""
        text = "".join(json.dumps(letter.to_dict(), ensure_ascii=False) + "\n" for letter in letters)
        with self._lock():
            with open(self.path, "rb") as stream:
                stream.seek(read_bytes)
                appended = stream.read()
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "wb") as stream:
                stream.write(text.encode("utf-8", "replace") + appended)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp, self.path)

    def rewrite(self, change) -> int:
        """Pass every line through ``change`` (its text -> new text, or None to drop it); return how many changed.

        Holds the lock, so nothing appended meanwhile is lost; the file is replaced whole.
        """
        if not self.path.exists():
            return 0
        with self._lock():
            lines = self.path.read_bytes().decode("utf-8", "replace").splitlines()
            kept, changed = [], 0
            for line in lines:
                new = change(line) if line.strip() else line
                changed += new != line
                if new is not None:
                    kept.append(new)
            if not changed:
                return 0
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "wb") as stream:
                stream.write("".join(f"{line}\n" for line in kept).encode("utf-8", "replace"))
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp, self.path)
        return changed
