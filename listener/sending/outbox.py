"""Sending a reply, recorded on the post's workflow so that nothing is posted twice or lost.

A send names the version of the post the person saw and an idempotency key (one
per form shown, so a double click sends the same key twice). Before anything
leaves, the attempt is stored under its key as ``sending``, with the text as the
post's draft; the version check lets only one of two simultaneous sends store
it. A key that already sent returns that reply instead of posting again. The
outcome is then recorded: ``sent`` with the reply's id and link (and the post
marked answered, which stops its SLA clock), or ``failed`` with the reason, the
draft kept. A reply sent by hand is recorded the same way with its link.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from listener.errors import ConflictError, ListenerError, NotFoundError
from listener.records import ReplySend
from listener.sending.base import RETRYABLE, TIMEOUT, SendFailure
from listener.sending.platforms import Sender
from listener.workflow import UNSET, WorkflowChange

logger = logging.getLogger(__name__)

MAX_TEXT = 10000
STALE = timedelta(minutes=2)  # a send still "sending" after this never recorded its outcome (the process stopped)
RECORD_ATTEMPTS = 5
WAIT_SECONDS = 3 * TIMEOUT  # the longest send: three calls (Bluesky logs in, reads the post, posts)


class NotSendableError(ListenerError):
    """This post cannot be answered through its platform's API from here (no API, or no credentials)."""

    hint = "Copy the reply, open the original to post it, then mark it answered with the reply's link."


class SendInProgressError(ConflictError):
    """The same send is already under way, or its outcome is unknown."""

    hint = "Reload the post in a moment to see how the send went."


class SendFailedError(ListenerError):
    """The platform did not take the reply; ``record`` is the failed attempt as stored."""

    def __init__(self, record: ReplySend, hint: str | None = None):
        super().__init__(record.message or "the reply was not sent", hint)
        self.record = record


class LinkError(ListenerError):
    """A reply link that is not a web address."""


def new_key() -> str:
    return secrets.token_urlsafe(16)


def check_link(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise LinkError(f"the reply's link must be a web address such as https://x.com/cinesa/status/123, not {url!r}")
    return url


class Outbox:
    def __init__(self, backend, sender: Sender, now=None):
        self.backend, self.sender = backend, sender
        self._now = now or (lambda: datetime.now(timezone.utc))

    def send(self, actor: str, post_id: str, version: int, text: str, key: str) -> ReplySend:
        """Post ``text`` as the brand's reply; the stored attempt, or :class:`SendFailedError` carrying it."""
        hit = self._get(post_id)
        text = (text or "").strip()
        earlier = next((s for s in hit.workflow.sends if s.key == key), None)
        if earlier is not None:
            if earlier.state == "sent":
                return earlier  # the same click again: already sent, nothing posted twice
            if earlier.state == "sending" and self._now() - earlier.at < STALE:
                return self._outcome(post_id, key)  # a double click: the first click's outcome is this one's
            if earlier.state == "sending" or earlier.error not in RETRYABLE:
                raise SendInProgressError(
                    "the earlier try of this send may have been posted: look at the original first",
                    hint="Mark it answered with the reply's link, or reload the page to send it again.")
        if not text:
            raise ListenerError("the reply is empty")
        if len(text) > MAX_TEXT:
            raise ListenerError(f"the reply is {len(text)} characters long; the limit is {MAX_TEXT}")
        route = self.sender.route(hit.post)
        if not route.sendable:
            raise NotSendableError(f"{hit.post.source} replies are not sent from here: {route.reason}")
        adapter = route.adapter
        if adapter.max_length and len(text) > adapter.max_length:
            raise ListenerError(f"the reply is {len(text)} characters long; {adapter.platform} takes {adapter.max_length}",
                                hint="Shorten the draft and send again.")
        attempt = ReplySend(key=key, by=actor, at=self._now(), state="sending")
        try:
            self.backend.update_workflow(post_id, version, WorkflowChange(actor=actor, send=attempt, reply_draft=text))
        except ConflictError:
            latest = self._get(post_id)
            if any(s.key == key for s in latest.workflow.sends):
                return self._outcome(post_id, key)  # the same send, stored first by a simultaneous request
            raise
        try:
            sent = adapter.send(hit.post, text, key)
        except SendFailure as exc:
            failed = ReplySend(key=key, by=actor, at=self._now(), state="failed", error=exc.error, message=str(exc), retry_at=exc.retry_at)
            logger.warning("send: %s reply to %s failed (%s): %s", adapter.platform, post_id, exc.error, exc)
            self._record(post_id, actor, failed)
            raise SendFailedError(failed, exc.hint) from exc
        except Exception as exc:  # a bug or a surprise from the platform: the reply may or may not be out
            logger.exception("send: %s reply to %s ended unexpectedly", adapter.platform, post_id)
            failed = ReplySend(key=key, by=actor, at=self._now(), state="failed", error="unknown",
                               message=f"the send to {adapter.platform} ended unexpectedly ({type(exc).__name__}); it may have been posted")
            self._record(post_id, actor, failed)
            raise SendFailedError(failed, "Look at the original before sending again.") from exc
        done = ReplySend(key=key, by=actor, at=self._now(), state="sent", reply_id=sent.reply_id, reply_url=sent.reply_url)
        logger.info("send: %s reply to %s sent as %s", adapter.platform, post_id, sent.reply_id)
        self._record(post_id, actor, done, answered=True)
        return done

    def _outcome(self, post_id: str, key: str) -> ReplySend:
        """Wait for the send under ``key`` that another request is making, and share its outcome."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            record = next((s for s in self._get(post_id).workflow.sends if s.key == key), None)
            if record is not None and record.state == "sent":
                return record
            if record is not None and record.state == "failed":
                raise SendFailedError(record)
            if time.monotonic() > deadline:
                raise SendInProgressError("this reply is still being sent; it is not sent twice")
            time.sleep(0.2)

    def mark_answered(self, actor: str, post_id: str, version: int, url: str) -> ReplySend:
        """Record a reply sent by hand, by its link, and mark the post answered."""
        link = check_link(url)
        hit = self._get(post_id)
        done = ReplySend(key=new_key(), by=actor, at=self._now(), state="sent", via="link", reply_url=link)
        self.backend.update_workflow(post_id, version, self._change(hit.workflow, actor, done, answered=True))
        return done

    def _record(self, post_id: str, actor: str, attempt: ReplySend, answered: bool = False) -> None:
        """Store the outcome on the latest version, whoever changed the post meanwhile."""
        for _ in range(RECORD_ATTEMPTS):
            hit = self._get(post_id)
            try:
                self.backend.update_workflow(post_id, hit.workflow.version, self._change(hit.workflow, actor, attempt, answered))
                return
            except ConflictError:
                continue
        logger.error("send: could not record the outcome of %s on %s after %d tries", attempt.key, post_id, RECORD_ATTEMPTS)

    @staticmethod
    def _change(workflow, actor: str, attempt: ReplySend, answered: bool) -> WorkflowChange:
        opened = workflow.status in ("new", "claimed")
        return WorkflowChange(
            actor=actor, send=attempt,
            status="answered" if answered and opened else UNSET,
            assignee=actor if answered and opened and workflow.assignee is None else UNSET,
        )

    def _get(self, post_id: str):
        hit = self.backend.get(post_id)
        if hit is None:
            raise NotFoundError(f"no post with id {post_id!r}")
        return hit
