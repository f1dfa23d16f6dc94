"""Authors who asked to be forgotten: how their handle is recognised, and the list that keeps them out.

A handle is written ``@ana``, ``ana`` or, on Mastodon, ``@ana@mastodon.social``;
all spellings of one handle share a key (:func:`handle_key`: without the first
``@``, case-folded). ``@ana`` and ``ana`` are one handle; ``@ana@mastodon.social``
is another (an account on one server, not every ``ana``).

The suppression list (``<data_dir>/suppressed-authors.txt``) keeps one line
per erased handle: the SHA-256 of its key, so that the list does not itself
name the people on it. Ingests and crawls skip posts by those authors and
replace their handle in other people's posts with ``@[erased]``
(:class:`Handles`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from listener.records import Analysis, IndexedPost, Post, Workflow

FILENAME = "suppressed-authors.txt"
ERASED = "@[erased]"
# An @-mention: a name, then a server for a Mastodon address (``@ana@mastodon.social``).
MENTION = re.compile(r"(?<![\w@])@(\w(?:[\w.-]*\w)?(?:@\w[\w-]*(?:\.\w[\w-]*)+)?)")


def handle_key(handle: str) -> str:
    """What every spelling of a handle shares: ``@Ana`` and ``ana`` are ``ana``."""
    text = unicodedata.normalize("NFC", handle.strip())
    return (text[1:] if text.startswith("@") else text).casefold()


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Handles:
    """A set of handles (by the digest of their key): whose posts they are, and where they are mentioned."""

    def __init__(self, digests: Iterable[str] = ()):
        self.digests = frozenset(digests)

    @classmethod
    def of(cls, *handles: str) -> Handles:
        return cls(digest(handle_key(h)) for h in handles)

    def __bool__(self) -> bool:
        return bool(self.digests)

    def __contains__(self, handle: str | None) -> bool:
        return bool(handle) and digest(handle_key(handle)) in self.digests

    def wrote(self, post: Post) -> bool:
        return post.author in self

    def redact(self, text: str) -> tuple[str, list[tuple[int, int, int]]]:
        """``text`` with each mention of these handles replaced, and the edits ``(start, end, new length)``."""
        if not self.digests or "@" not in text:
            return text, []
        edits: list[tuple[int, int, int]] = []
        parts, last = [], 0
        for match in MENTION.finditer(text):
            if digest(handle_key(match.group(1))) in self.digests:
                parts += [text[last:match.start()], ERASED]
                edits.append((match.start(), match.end(), len(ERASED)))
                last = match.end()
        if not edits:
            return text, []
        return "".join(parts) + text[last:], edits

    def redact_post(self, post: Post) -> tuple[Post, list[tuple[int, int, int]]]:
        """``post`` without mentions of these handles (text, title, repliers), and the edits to its text."""
        text, edits = self.redact(post.text)
        title = self.redact(post.title)[0] if post.title else post.title
        replied_by = tuple(h for h in post.replied_by if h not in self)
        if not edits and title == post.title and replied_by == post.replied_by:
            return post, []
        return replace(post, text=text, title=title, replied_by=replied_by), edits

    def redact_document(self, doc: IndexedPost) -> IndexedPost:
        """``doc`` without mentions of these handles; the analysis's offsets follow the shortened text."""
        post, edits = self.redact_post(doc.post)
        analysis = _shifted(doc.analysis, edits)
        greeting = self.redact(analysis.greeting)[0] if analysis.greeting else analysis.greeting
        if greeting != analysis.greeting:
            analysis = replace(analysis, greeting=greeting)
        workflow = self.redact_workflow(doc.workflow)
        if post is doc.post and analysis is doc.analysis and workflow is doc.workflow:
            return doc
        return replace(doc, post=post, analysis=analysis, workflow=workflow)

    def redact_workflow(self, workflow: Workflow) -> Workflow:
        notes = tuple(replace(note, text=self.redact(note.text)[0]) for note in workflow.notes)
        draft = self.redact(workflow.reply_draft)[0] if workflow.reply_draft else workflow.reply_draft
        if notes == workflow.notes and draft == workflow.reply_draft:
            return workflow
        return replace(workflow, notes=notes, reply_draft=draft)


def _shifted(analysis: Analysis, edits: list[tuple[int, int, int]]) -> Analysis:
    if not edits:
        return analysis

    def moved(offset: int) -> int:
        shift = 0
        for start, end, length in edits:
            if offset >= end:
                shift += length - (end - start)
            elif offset > start:  # inside an erased handle: to its end
                return start + shift + length
        return offset + shift

    mentions = tuple(replace(m, start=moved(m.start), end=moved(m.end)) for m in analysis.mentions)
    return replace(analysis, mentions=mentions)


class SuppressionList:
    """The data directory's list of erased handles; re-read whenever the file changes."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._seen: tuple[float, int] | None = None
        self._handles = Handles()

    @classmethod
    def from_config(cls, config) -> SuppressionList:
        return cls(config.data_path(FILENAME))

    def handles(self) -> Handles:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._seen, self._handles = None, Handles()
            return self._handles
        if self._seen != (stat.st_mtime, stat.st_size):
            lines = self.path.read_text(encoding="utf-8").split()
            self._handles = Handles(line for line in lines if re.fullmatch(r"[0-9a-f]{64}", line))
            self._seen = (stat.st_mtime, stat.st_size)
        return self._handles

    def add(self, *handles: str) -> int:
        """Keep ``handles`` out from now on; return how many were not on the list yet."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as stream:
            fcntl.flock(stream, fcntl.LOCK_EX)
            stream.seek(0)
            present = set(stream.read().split())
            new = [d for d in dict.fromkeys(digest(handle_key(h)) for h in handles) if d not in present]
            stream.write("".join(f"{d}\n" for d in new))
            stream.flush()
            os.fsync(stream.fileno())
        return len(new)

    def filter(self, posts: Iterable[Post]) -> tuple[list[Post], int]:
        """The posts to keep (others' mentions of these handles redacted) and how many were skipped."""
        handles = self.handles()
        if not handles:
            return list(posts), 0
        kept, skipped = [], 0
        for post in posts:
            if handles.wrote(post):
                skipped += 1
            else:
                kept.append(handles.redact_post(post)[0])
        return kept, skipped
