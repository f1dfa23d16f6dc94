"""One scheduler per data directory: two would crawl twice and alert twice."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from listener.errors import ListenerError


class AlreadyRunningError(ListenerError):
    hint = "Stop the other `listener run` first, or give this one another data directory."


class RunLock:
    """An exclusive lock on a file; the OS releases it if the process dies."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = None

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
