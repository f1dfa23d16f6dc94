"""One scheduler per data directory: two would crawl twice and alert twice.

With SQLite (one machine) a file lock keeps ``listener run`` single; with
Elasticsearch a lease in the index does, across machines (:mod:`scheduler.lease`).
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from listener.errors import ListenerError


class AlreadyRunningError(ListenerError):
    hint = "Stop the other `listener run` first, or give this one another data directory."


class RunLock:
    """An exclusive lock on a file; the OS releases it if the process dies."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = None
        self.lost = threading.Event()  # never set: the OS holds the lock until the process ends
        self.on_lost: Callable[[str], None] = lambda reason: None

    @property
    def held(self) -> bool:
        return self._file is not None

    def wait(self, stop: threading.Event) -> bool:
        """Lock now (True), or raise AlreadyRunningError: on one machine there is nothing to wait for."""
        self.acquire()
        return True

    def leader(self) -> dict | None:
        """The process holding the lock: ``host``, ``pid`` and ``since``, or None."""
        try:
            handle = open(self.path)
        except FileNotFoundError:
            return None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                since = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, timezone.utc)
                return {"host": socket.gethostname(), "pid": handle.read().strip() or "?",
                        "since": since.isoformat(timespec="seconds")}
            fcntl.flock(handle, fcntl.LOCK_UN)
        return None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise AlreadyRunningError(f"listener is already running on {self.path.parent} (pid {owner})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
