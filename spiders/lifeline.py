"""A crawl process dies with the process that asked for it.

Killed with SIGKILL, a parent cannot stop its children, so a crawl would go on
fetching with nobody to read it. On Linux the kernel sends the child SIGKILL
when its parent goes (``prctl(PR_SET_PDEATHSIG)``); everywhere a thread also
watches the parent and the process that asked for the crawl, and ends the
child within a second of either going.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def die_with_parent(parent: int, owner: int | None = None) -> None:
    """End this process when ``parent`` (its parent at start) or ``owner`` is gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if _gone(parent, owner):  # it went before the kernel was asked to tell
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=_watch, args=(parent, owner), name="lifeline", daemon=True).start()


def _watch(parent: int, owner: int | None) -> None:
    event = threading.Event()
    while not event.wait(WATCH_SECONDS):
        if _gone(parent, owner):
            os.kill(os.getpid(), signal.SIGKILL)


def _gone(parent: int, owner: int | None) -> bool:
    return os.getppid() != parent or (owner is not None and not alive(owner))


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            return stream.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
