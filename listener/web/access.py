"""Who may do what. Agents work posts, analysts read and export, admins do both and change the settings."""

from __future__ import annotations

from fastapi import HTTPException, Request

from listener.web.sessions import Session

AGENTS = ("agent", "admin")
ANALYSTS = ("analyst", "admin")
ADMINS = ("admin",)
ROLE_NAMES = {AGENTS: "agents and admins", ANALYSTS: "analysts and admins", ADMINS: "admins"}


def session_of(request: Request) -> Session:
    """The logged-in session; the security middleware has already refused anonymous requests."""
    session = request.state.session
    if session is None:
        raise HTTPException(401, "Log in first.")
    return session


def require(roles: tuple[str, ...]):
    """A dependency that refuses (403) a session whose role is not in ``roles``."""

    def check(request: Request) -> Session:
        session = session_of(request)
        if session.role not in roles:
            raise HTTPException(403, f"Only {ROLE_NAMES.get(roles, ', '.join(roles))} can do this; you are logged in as {session.role}.")
        return session

    return check
