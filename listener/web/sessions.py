"""Server-side login sessions, kept in memory: a restart logs everybody out.

The cookie holds only a random token. Each session has its own CSRF token,
which every state-changing request must send back.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Session:
    token: str
    user: str
    role: str
    csrf: str
    expires: float
    flashes: list[tuple[str, str]] = field(default_factory=list)

    def flash(self, message: str, kind: str = "info") -> None:
        # A form sent twice (a double click) says what happened once.
        if (kind, message) not in self.flashes:
            self.flashes.append((kind, message))

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        return taken


class SessionStore:
    def __init__(self, lifetime_seconds: float, clock=time.monotonic):
        self.lifetime = lifetime_seconds
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: str, role: str) -> Session:
        session = Session(
            token=secrets.token_urlsafe(32),
            user=user,
            role=role,
            csrf=secrets.token_urlsafe(32),
            expires=self._clock() + self.lifetime,
        )
        with self._lock:
            self._drop_expired()
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires <= self._clock():
                del self._sessions[token]
                return None
            return session

    def end(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def revoke(self, users) -> int:
        """End every session of these user names; returns how many ended."""
        users = set(users)
        with self._lock:
            ended = [t for t, s in self._sessions.items() if s.user in users]
            for token in ended:
                del self._sessions[token]
        return len(ended)

    def _drop_expired(self) -> None:
        now = self._clock()
        for token in [t for t, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[token]

