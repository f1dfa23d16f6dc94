"""One leading ``listener run`` across machines: a lease held in Elasticsearch.

The leader holds one document, ``leader`` in the index ``listener-lease-<index.index>``
(a name no pattern for the posts' own indices matches).
It is created with ``op_type=create``, which only one process can do, and
renewed every ``schedule.lease.interval`` with ``if_seq_no``/``if_primary_term``,
which fails once another process has taken it over. The other runs wait: one
that sees the document unchanged for two intervals (the TTL, timed on its own
clock, so the machines' clocks need not agree) takes it over with the same
conditional write, so only one of several waiting runs can. A leader that has
not renewed for one and a half intervals stops scheduling before anyone may
take over; a leader that stops gracefully deletes the document, and a waiting
run takes over at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError

from scheduler.lock import AlreadyRunningError, RunLock

logger = logging.getLogger(__name__)

DOC_ID = "leader"


def run_lease(config) -> RunLock | ElasticsearchLease:
    """What keeps ``listener run`` single: the lease in Elasticsearch, or with SQLite a file lock."""
    if config.index.backend == "elasticsearch":
        return ElasticsearchLease.from_config(config)
    return RunLock(config.data_path("scheduler.lock"))


def lease_index(alias: str) -> str:
    return f"listener-lease-{alias}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ElasticsearchLease:
    """The leader lease; ``lost`` is set (and ``on_lost`` called) when this process stops leading."""

    def __init__(self, client: Elasticsearch, index: str, interval: float = 10.0, *,
                 clock: Callable[[], float] = time.monotonic):
        self.index = index
        self.interval = interval
        self.ttl = 2 * interval
        self.client = client.options(request_timeout=30, max_retries=0)
        # A renewal that hangs must give up before the lease could be taken over.
        self._renewals = client.options(request_timeout=interval / 2, max_retries=0)
        self.clock = clock
        self.me = {"host": socket.gethostname(), "pid": os.getpid(), "token": uuid.uuid4().hex}
        self.lost = threading.Event()
        self.on_lost: Callable[[str], None] = lambda reason: None
        self._held: tuple[int, int] | None = None  # (seq_no, primary_term) of our last write
        self._renewed_at = 0.0
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()
        self._index_ready = False

    @classmethod
    def from_config(cls, config) -> ElasticsearchLease:
        from listener.index.elasticsearch import ElasticsearchBackend

        client = ElasticsearchBackend.from_config(config).es
        return cls(client, lease_index(config.index.index), config.schedule.lease.interval)

    @property
    def held(self) -> bool:
        return self._held is not None and not self.lost.is_set()

    # -- taking the lease -----------------------------------------------------

    def acquire(self) -> None:
        """Lead now or raise AlreadyRunningError naming the leader."""
        self._ensure_index()
        if not self._create():
            leader = self.leader()
            where = f"{leader['host']} (pid {leader['pid']}, since {leader['since']})" if leader else "another machine"
            raise AlreadyRunningError(f"listener is already running on {where}")

    def wait(self, stop: threading.Event) -> bool:
        """Block until this process leads (True) or ``stop`` is set (False)."""
        observed: tuple[int, int] | None = None
        seen_at = 0.0
        waiting_for = None
        while not stop.is_set():
            try:
                self._ensure_index()
                if self._create():
                    return True
                found = self._read()
                if found is None:  # given up just now: try again at once
                    continue
                leader, version = found
                if leader.get("token") == self.me["token"] and self._take_over(version):
                    logger.info("leading again: the lease was still ours", extra={"event": "lease_regained"})
                    return True
                if version != observed:
                    observed, seen_at = version, self.clock()
                    if waiting_for != leader["token"]:
                        waiting_for = leader["token"]
                        logger.info("waiting to lead: %s (pid %s) leads since %s", leader["host"], leader["pid"],
                                    leader["since"], extra={"event": "lease_waiting"})
                elif self.clock() - seen_at >= self.ttl and self._take_over(version):
                    logger.warning("took the lead over from %s (pid %s): its lease was not renewed for %gs",
                                   leader["host"], leader["pid"], self.ttl, extra={"event": "lease_taken_over"})
                    return True
            except (TransportError, ApiError) as exc:
                observed = None  # whatever the leader did meanwhile is unknown
                logger.warning("the leader lease cannot be read: %s", exc)
            stop.wait(self.interval / 4)
        return False

    def _ensure_index(self) -> None:
        if self._index_ready:
            return
        try:
            self.client.indices.create(index=self.index, settings={"number_of_shards": 1,
                                                                   "auto_expand_replicas": "0-1"})
        except ApiError as exc:
            if getattr(exc, "error", "") != "resource_already_exists_exception":
                raise
        self._index_ready = True

    def _document(self, since: str | None = None) -> dict:
        return {**self.me, "since": since or _now(), "renewed": _now(), "interval": self.interval}

    def _create(self) -> bool:
        sent, document = self.clock(), self._document()
        try:
            answer = self.client.index(index=self.index, id=DOC_ID, document=document, op_type="create")
        except ConflictError:
            return False
        self._lead(answer, sent, document["since"])
        return True

    def _take_over(self, version: tuple[int, int]) -> bool:
        sent, document = self.clock(), self._document()
        try:
            answer = self.client.index(index=self.index, id=DOC_ID, document=document,
                                       if_seq_no=version[0], if_primary_term=version[1])
        except ConflictError:  # another waiting run was first, or the leader renewed after all
            return False
        self._lead(answer, sent, document["since"])
        return True

    def _read(self) -> tuple[dict, tuple[int, int]] | None:
        try:
            found = self.client.get(index=self.index, id=DOC_ID)
        except NotFoundError:
            return None
        return found["_source"], (found["_seq_no"], found["_primary_term"])

    def leader(self) -> dict | None:
        """Who leads: ``host``, ``pid``, ``since`` and ``renewed`` (their clock), or None."""
        found = self._read()  # None too when there is no lease index yet
        return found[0] if found else None

    # -- holding it -----------------------------------------------------------

    def _lead(self, answer, sent: float, since: str) -> None:
        self._held = (answer["_seq_no"], answer["_primary_term"])
        self._renewed_at = sent
        self._since = since
        self.lost.clear()
        self._stop.clear()
        self._renewer = threading.Thread(target=self._keep, name="lease", daemon=True)
        self._renewer.start()

    def _keep(self) -> None:
        pause = self.interval
        while not self._stop.wait(pause):
            sent = self.clock()
            try:
                answer = self._renewals.index(index=self.index, id=DOC_ID, document=self._document(self._since),
                                              if_seq_no=self._held[0], if_primary_term=self._held[1])
            except ConflictError:
                return self._lose("another listener run has taken the lead over")
            except (TransportError, ApiError) as exc:
                if self.clock() - self._renewed_at >= 1.5 * self.interval:
                    return self._lose(f"the lease could not be renewed for {1.5 * self.interval:g}s ({exc})")
                logger.warning("the leader lease could not be renewed: %s; trying again", exc)
                pause = self.interval / 4
                continue
            self._held = (answer["_seq_no"], answer["_primary_term"])
            self._renewed_at, pause = sent, self.interval

    def _lose(self, reason: str) -> None:
        logger.error("no longer leading: %s", reason, extra={"event": "lease_lost"})
        self.lost.set()
        self.on_lost(reason)

    def release(self) -> None:
        """Stop renewing and give the lease up, so that a waiting run takes over at once."""
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join()
        self._renewer = None
        if self._held is not None and not self.lost.is_set():
            try:
                self.client.delete(index=self.index, id=DOC_ID, if_seq_no=self._held[0],
                                   if_primary_term=self._held[1])
            except (ConflictError, NotFoundError):
                pass
            except (TransportError, ApiError) as exc:
                logger.warning("the leader lease could not be given up (it expires by itself): %s", exc)
        self._held = None
