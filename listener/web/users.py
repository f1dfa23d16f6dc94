"""People who may log in, with scrypt-hashed passwords and a role.

Users come from a file and from an environment variable, one per line::

    ana:agent:scrypt$16384$8$1$<salt>$<hash>

``listener user add NAME --role ROLE`` writes such a line. Lines starting
with ``#`` are comments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from listener.errors import ConfigError

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
    """The users of one web app, by name."""

    def __init__(self, users: list[User] = ()):
        self._by_name: dict[str, User] = {}
        for user in users:
            self._by_name[user.name] = user

    @classmethod
    def load(cls, path: Path | None, env: str | None) -> Users:
        users: list[User] = []
        if path is not None and path.exists():
            users += parse_users(path.read_text(encoding="utf-8"), str(path))
        if env and os.environ.get(env):
            users += parse_users(os.environ[env], f"${env}")
        return cls(users)

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self):
        return iter(self._by_name.values())

    def get(self, name: str) -> User | None:
        return self._by_name.get(name)

    def names(self, *roles: str) -> list[str]:
        return sorted(u.name for u in self if not roles or u.role in roles)

    def authenticate(self, name: str, password: str) -> User | None:
        user = self._by_name.get(name)
        ok = verify_password(password, user.password_hash if user else _DUMMY)
        return user if user and ok else None


def add_user(path: Path, name: str, role: str, password: str) -> User:
    """Add ``name`` to the users file, or replace its role and password."""
    user = parse_user(f"{name}:{role}:{hash_password(password)}", str(path))
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = [line for line in lines if line.split(":", 1)[0].strip() != name]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*kept, user.line()]) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return user
