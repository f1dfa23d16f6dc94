"""People who may log in, with scrypt-hashed passwords and a role.

Users come from a file and from an environment variable, one per line::

    ana:agent:scrypt$16384$8$1$<salt>$<hash>

``listener user add NAME --role ROLE`` writes such a line and ``listener user
remove NAME`` takes it out. Lines starting with ``#`` are comments.

The file is read again when it changes (:meth:`Users.refresh`, called by the
web app at most every few seconds): a user taken out of it, or whose role or
password changed, can no longer log in and their sessions end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from listener.errors import ConfigError

logger = logging.getLogger(__name__)

ROLES = ("agent", "analyst", "admin")
NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, n: int = SCRYPT_N) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# Checked against when the user does not exist, so that a wrong name takes as long as a wrong password.
_DUMMY = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    password_hash: str

    def line(self) -> str:
        return f"{self.name}:{self.role}:{self.password_hash}"

    def can(self, *roles: str) -> bool:
        return self.role in roles


def parse_user(line: str, where: str) -> User:
    name, role, password_hash = (line.split(":", 2) + ["", ""])[:3]
    if not NAME.match(name):
        raise ConfigError(f"{where}: user name {name!r} must be 1-64 letters, digits or _.@-")
    if role not in ROLES:
        raise ConfigError(f"{where}: user {name}: unknown role {role!r} (valid: {', '.join(ROLES)})")
    if not password_hash.startswith("scrypt$") or password_hash.count("$") != 5:
        raise ConfigError(f"{where}: user {name}: the password must be an scrypt hash", hint="Write users with `listener user add`.")
    return User(name, role, password_hash)


def parse_users(text: str, origin: str) -> list[User]:
    users = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            users.append(parse_user(line, f"{origin}, line {number}"))
    return users


class Users:
    """The users of one web app, by name; loaded from a file and a variable, re-read when the file changes."""

    def __init__(self, users: list[User] = (), path: Path | None = None, env: str | None = None, stamp: tuple | None = None):
        self._by_name: dict[str, User] = {}
        for user in users:
            self._by_name[user.name] = user
        self.path, self.env = path, env
        self._stamp = stamp if stamp is not None else _stamp(path)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | None, env: str | None) -> Users:
        stamp = _stamp(path)  # before reading: a write while reading is seen by the next refresh
        return cls(_read(path, env), path, env, stamp)

    def refresh(self) -> set[str]:
        """Re-read the users file if it changed; returns the names that were removed or changed.

        A file that no longer parses keeps the users read before (logged as an
        error), so a half-written file neither locks everyone out nor lets anyone in.
        """
        if self.path is None:
            return set()
        with self._lock:
            stamp = _stamp(self.path)
            if stamp == self._stamp:
                return set()
            try:
                users = _read(self.path, self.env)
            except (ConfigError, OSError, UnicodeDecodeError) as exc:
                logger.error("web: users file not reloaded, keeping the users read before: %s", exc)
                return set()
            self._stamp = stamp
            before, after = self._by_name, {user.name: user for user in users}
            self._by_name = after
        gone = {name for name, user in before.items() if after.get(name) != user}
        logger.info("web: users file reloaded: %d users, %d removed or changed", len(after), len(gone))
        return gone

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self):
        return iter(list(self._by_name.values()))

    def get(self, name: str) -> User | None:
        return self._by_name.get(name)

    def names(self, *roles: str) -> list[str]:
        return sorted(u.name for u in self if not roles or u.role in roles)

    def authenticate(self, name: str, password: str) -> User | None:
        user = self._by_name.get(name)
        ok = verify_password(password, user.password_hash if user else _DUMMY)
        return user if user and ok and self._by_name.get(name) == user else None


def _read(path: Path | None, env: str | None) -> list[User]:
    users: list[User] = []
    if path is not None and path.exists():
        users += parse_users(path.read_text(encoding="utf-8"), str(path))
    if env and os.environ.get(env):
        users += parse_users(os.environ[env], f"${env}")
    return users


def _stamp(path: Path | None) -> tuple | None:
    """What changes when the file is written, replaced or removed."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return ("missing",)
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)


def add_user(path: Path, name: str, role: str, password: str) -> User:
    """Add ``name`` to the users file, or replace its role and password."""
    user = parse_user(f"{name}:{role}:{hash_password(password)}", str(path))
    _write_lines(path, [*_lines_without(path, name), user.line()])
    return user


def remove_user(path: Path, name: str) -> bool:
    """Take ``name`` out of the users file; False if it was not there. A running app logs them out."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = _lines_without(path, name)
    if len(kept) == len(lines):
        return False
    _write_lines(path, kept)
    return True


def _lines_without(path: Path, name: str) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [line for line in lines if line.split(":", 1)[0].strip() != name]


def _write_lines(path: Path, lines: list[str]) -> None:
    """Written beside and renamed over, so a running app re-reading the file never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
