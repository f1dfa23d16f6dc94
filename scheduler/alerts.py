"""Alerts: what the team should hear about, sent once to every channel that wants it.

An :class:`Alert` carries one or more dedup keys (a spike, each overdue post,
each prospect). :class:`Notifier` records the keys in the state store *before*
sending, so a restart never sends an alert twice; if every channel fails the
keys are released and the next check tries again. A crash between recording
and sending loses that alert rather than repeating it: the team is better
served by one missed ping than by a stream of repeats after every restart.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from listener.records import IndexedPost, format_time
from listener.state import StateStore
from scheduler.stats import Counters

logger = logging.getLogger(__name__)

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ISOLATES = re.compile("[\u2066-\u2069]")


def isolate(text: str) -> str:
    """Text a person wrote, as a bidi isolate if it has direction controls (U+202E and friends), so that it
    cannot reorder the rest of the line; its own isolate marks are dropped so it cannot end ours early."""
    if not BIDI_CONTROLS.search(text):
        return text
    return "\u2068" + ISOLATES.sub("", text) + "\u2069"


def one_line(text: str, limit: int = 200) -> str:
    """``text`` fit for a header or a title: no line breaks or other control characters, bidi isolated."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    text = isolate(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One example post in an alert."""

    text: str
    url: str | None = None
    author: str | None = None
    source: str | None = None
    created_at: datetime | None = None
    post_id: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, doc: IndexedPost, note: str | None = None, limit: int = 280) -> AlertItem:
        post = doc.post
        text = " ".join((f"{post.title}: {post.text}" if post.title else post.text).split())
        return cls(
            text=text if len(text) <= limit else text[: limit - 1] + "…",
            url=post.url,
            author=post.author,
            source=post.source,
            created_at=post.created_at,
            post_id=post.id,
            note=note,
        )

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "url": self.url,
            "author": self.author,
            "source": self.source,
            "created_at": format_time(self.created_at) if self.created_at else None,
            "post_id": self.post_id,
            "note": self.note,
        }

    def line(self) -> str:
        """One line of plain text; what came from the post is bidi isolated and kept on the line."""
        # X and Mastodon store handles with their "@", other sources without.
        who = f"@{one_line(self.author.lstrip('@'))}" if self.author else "someone"
        where = f" ({one_line(self.source)})" if self.source else ""
        note = f" [{self.note}]" if self.note else ""
        link = f" {self.url}" if self.url and not any(c.isspace() or ord(c) < 32 for c in self.url) else ""
        return f"{who}{where}{note}: {one_line(self.text, 10_000)}{link}"


@dataclass(frozen=True, slots=True)
class Alert:
    """``kind`` is one of spike, sla, prospect, digest; ``keys`` say what it covers."""

    kind: str
    keys: tuple[str, ...]
    title: str
    summary: str = ""
    items: tuple[AlertItem, ...] = ()
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    data: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.keys[0]

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "key": self.key,
            "title": self.title,
            "summary": self.summary,
            "items": [item.to_dict() for item in self.items],
            "sections": [{"title": title, "lines": list(lines)} for title, lines in self.sections],
            "data": self.data,
        }

    def plain_text(self) -> str:
        """The alert as plain text (email bodies, chat fallbacks)."""
        parts = [one_line(self.title, 1000)]
        if self.summary:
            parts.append(isolate(self.summary))
        if self.items:
            parts.append("\n".join(f"- {item.line()}" for item in self.items))
        for title, lines in self.sections:
            parts.append(f"{title}\n" + ("\n".join(f"- {one_line(line, 10_000)}" for line in lines) if lines else "- none"))
        return "\n\n".join(parts)


class ChannelError(Exception):
    """A channel could not deliver an alert; the message says where and why."""


class Channel(ABC):
    """Where alerts go. Subclasses implement :meth:`deliver`."""

    kind = "channel"

    def __init__(self, label: str, events: Iterable[str]):
        self.label = label
        self.events = frozenset(events)

    def wants(self, alert: Alert) -> bool:
        return alert.kind in self.events

    @abstractmethod
    def deliver(self, alert: Alert) -> None:
        """Send ``alert``, or raise a delivery error saying where and why."""


class Notifier:
    """Sends each alert once, across restarts, to the channels that want its kind."""

    def __init__(self, channels: Sequence[Channel], state: StateStore, counters: Counters | None = None):
        self.channels = list(channels)
        self.state = state
        self.counters = counters if counters is not None else Counters()

    def send(self, alert: Alert) -> bool:
        """Deliver ``alert`` unless its first key was sent before; True if some channel took it.

        The first key names the alert (with its title, for the digest); the
        others name what it covers (``<kind>/post``), so later checks skip them.
        """
        if not self.state.claim_alert(alert.key, alert.kind, alert.title):
            self.counters.inc("alerts/duplicates_skipped")
            logger.debug("alert %s already sent", alert.key)
            return False
        for key in alert.keys[1:]:
            self.state.claim_alert(key, f"{alert.kind}/post")
        targets = [channel for channel in self.channels if channel.wants(alert)]
        if not targets:
            self.counters.inc(f"alerts/unrouted/{alert.kind}")
            logger.info("alert (no channel for %s): %s", alert.kind, alert.title)
            return False
        delivered = 0
        for channel in targets:
            try:
                channel.deliver(alert)
            except ChannelError as exc:
                self.counters.inc(f"alerts/failed/{channel.kind}")
                logger.warning("alert %s not delivered to %s: %s", alert.key, channel.label, exc)
            else:
                delivered += 1
                self.counters.inc(f"alerts/sent/{channel.kind}")
        if not delivered:
            for key in alert.keys:
                self.state.release_alert(key)
            logger.warning("alert %s reached no channel; it will be tried again", alert.key)
            return False
        self.counters.inc(f"alerts/{alert.kind}")
        logger.info("alert %s sent to %d channel(s): %s", alert.key, delivered, alert.title,
                    extra={"event": "alert", "kind": alert.kind, "key": alert.key, "channels": delivered})
        return True
