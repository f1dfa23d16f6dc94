"""Failed logins, counted so that a guesser is slowed and nobody else is locked out.

Three counts over a sliding ``window``, each of failed attempts only:

- one client and one account (``per_pair``): a client guessing one password is
  stopped for that account, and only that client;
- one client and any accounts (``per_client``): a client trying one password on
  many names is stopped for all of them;
- one account from any clients (``per_account``): many clients guessing one
  account stop it for clients that have not logged in to it before, while the
  clients it was used from keep logging in (OWASP's device-based lockout, by
  address). Twenty wrong passwords from one client therefore never lock the
  account for everyone.

Clients are the addresses :func:`listener.web.clients.client_address` gives,
so a made-up ``X-Forwarded-For`` does not start a fresh count.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class Limits:
    per_pair: int = 10
    per_client: int = 30
    per_account: int = 100
    window: float = 300.0
    remember: float = 30 * 86400.0  # how long a client that logged in to an account counts as known


class LoginThrottle:
    def __init__(self, limits: Limits = Limits(), clock=time.monotonic, max_keys: int = 100_000):
        self.limits, self._clock, self._max_keys = limits, clock, max_keys
        self._failures: dict[tuple, deque[float]] = {}
        self._known: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def retry_after(self, name: str, client: str) -> float:
        """Seconds until ``client`` may try ``name`` again; 0 when it may now."""
        name, now = name[:MAX_NAME], self._clock()
        with self._lock:
            return self._longest_wait(name, client, now)

    def blocked(self, name: str, client: str) -> bool:
        return self.retry_after(name, client) > 0

    def attempt(self, name: str, client: str) -> float:
        """Before checking a password: 0 and the attempt counted as failed, or the seconds to wait.

        Counting first, in one step with the check, means parallel guesses cannot all slip in before any
        of them is counted; :meth:`succeeded` takes the count back.
        """
        name, now = name[:MAX_NAME], self._clock()
        with self._lock:
            wait = self._longest_wait(name, client, now)
            if wait == 0:
                self._record(name, client, now)
        return wait

    def failed(self, name: str, client: str) -> None:
        name = name[:MAX_NAME]
        with self._lock:
            self._record(name, client, self._clock())

    def succeeded(self, name: str, client: str) -> None:
        """After :meth:`attempt`, the password was right: the pair starts afresh, the attempt is taken back
        from the other counts (failures before it stay), and the client is known for the account."""
        name = name[:MAX_NAME]
        now = self._clock()
        with self._lock:
            self._failures.pop(("pair", name, client), None)
            for key in (("client", client), ("account", name)):
                if self._failures.get(key):
                    self._failures[key].pop()
            if len(self._known) >= self._max_keys:
                self._known = {k: t for k, t in self._known.items() if now - t < self.limits.remember}
            self._known[(name, client)] = now

    def _longest_wait(self, name: str, client: str, now: float) -> float:
        limits = self.limits
        waits = [
            self._wait(("pair", name, client), limits.per_pair, now),
            self._wait(("client", client), limits.per_client, now),
        ]
        if not self._is_known(name, client, now):  # the clients an account was used from keep their way in
            waits.append(self._wait(("account", name), limits.per_account, now))
        return max(waits)

    def _record(self, name: str, client: str, now: float) -> None:
        if len(self._failures) + 3 > self._max_keys:
            self._sweep(now)
        for key in (("pair", name, client), ("client", client), ("account", name)):
            self._failures.setdefault(key, deque()).append(now)

    def _is_known(self, name: str, client: str, now: float) -> bool:
        seen = self._known.get((name, client))
        return seen is not None and now - seen < self.limits.remember

    def _wait(self, key: tuple, limit: int, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and times[0] <= now - self.limits.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0.0
        if len(times) < limit:
            return 0.0
        # Blocked until enough of the recent failures have aged out of the window.
        return times[len(times) - limit] + self.limits.window - now

    def _sweep(self, now: float) -> None:
        cutoff = now - self.limits.window
        self._failures = {k: t for k, t in self._failures.items() if t and t[-1] > cutoff}
        if len(self._failures) + 3 > self._max_keys:  # still full: forget the oldest half
            keep = sorted(self._failures.items(), key=lambda item: item[1][-1])[len(self._failures) // 2 :]
            self._failures = dict(keep)
