"""The gate in front of every request: login, CSRF and security headers.

Nothing but the login page and the health check is served without a session.
Every state-changing request (POST, PUT, PATCH, DELETE) must carry the
session's CSRF token, in the ``X-CSRF-Token`` header or a ``csrf_token`` form
field, and must not come from another site. Logging in is protected too: the
form echoes a token from a cookie, and the JSON login needs a JSON body, which
another site's form cannot send.

Before anything else the users file is re-read if it changed (see
``WebContext.refresh_users``), so a user removed from it is refused at once;
and the client's address is worked out once (``state["client"]``, see
:mod:`listener.web.clients`) for the login throttle.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, quote

from listener.web.clients import Network, client_address
from listener.web.sessions import SessionStore

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC = {("GET", "/login"), ("HEAD", "/login"), ("POST", "/login"), ("GET", "/health"), ("HEAD", "/health"), ("POST", "/api/session")}
MAX_FORM_BYTES = 256 * 1024


def cookie_names(secure: bool) -> tuple[str, str]:
    """The session and login-form cookies; ``__Host-`` pins them to this host over HTTPS."""
    return ("__Host-listener", "__Host-listener-login") if secure else ("listener", "listener-login")


def set_session_cookie(response, name: str, token: str, settings) -> None:
    response.set_cookie(
        name, token, max_age=int(settings.session_hours * 3600), httponly=True,
        secure=settings.secure_cookies, samesite=settings.same_site, path="/",
    )


class SecurityMiddleware:
    def __init__(self, app, sessions: SessionStore, secure: bool, proxies: tuple[Network, ...] = (),
                 refresh_users: Callable[[], None] | None = None):
        self.app = app
        self.sessions = sessions
        self.session_cookie, self.login_cookie = cookie_names(secure)
        self.proxies = proxies
        self.refresh_users = refresh_users or (lambda: None)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.refresh_users()
        method, path = scope["method"], scope["path"]
        headers = _headers(scope)
        cookies = _cookies(headers.get("cookie", ""))
        state = scope.setdefault("state", {})
        state["nonce"] = secrets.token_urlsafe(16)
        peer = scope.get("client")
        forwarded = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"]
        state["client"] = client_address(peer[0] if peer else None, forwarded, self.proxies)
        session = self.sessions.get(cookies.get(self.session_cookie))
        state["session"] = session
        send = _with_security_headers(send, state["nonce"], private=session is not None)

        if method in UNSAFE and _cross_site(headers, scope):
            return await _plain(send, 403, "Refused: this request came from another site.")
        if session is None and (method, path) not in PUBLIC:
            return await self._login_required(scope, send, method, path)
        if method not in UNSAFE:
            return await self.app(scope, receive, send)

        if (method, path) == ("POST", "/api/session"):
            if not headers.get("content-type", "").startswith("application/json"):
                return await _json(send, 415, {"detail": "send the credentials as JSON (Content-Type: application/json)"})
            return await self.app(scope, receive, send)
        expected = cookies.get(self.login_cookie) if path == "/login" else session.csrf
        sent = headers.get("x-csrf-token")
        if sent is None and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body, receive = await _buffer(receive)
            if body is None:
                return await _plain(send, 413, "The form is too large.")
            sent = (parse_qs(body.decode("utf-8", "replace")).get("csrf_token") or [None])[0]
        if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            if path.startswith("/api/"):
                return await _json(send, 403, {"detail": "missing or wrong CSRF token: send the X-CSRF-Token header from GET /api/me"})
            return await _plain(send, 403, "The form has expired or did not come from this site. Go back, reload the page and try again.")
        return await self.app(scope, receive, send)

    async def _login_required(self, scope, send, method, path):
        if path.startswith("/api/"):
            return await _json(send, 401, {"detail": "log in first: POST /api/session"}, [(b"www-authenticate", b'Cookie realm="listener"')])
        if method in ("GET", "HEAD"):
            target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            location = "/login" if path in ("/", "/login") else f"/login?next={quote(target, safe='')}"
            return await _respond(send, 303, b"", [(b"location", location.encode("latin-1")), (b"content-type", b"text/plain")])
        return await _plain(send, 401, "Log in first.")


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(header: str) -> dict[str, str]:
    cookies = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in cookies:
            cookies[name] = value
    return cookies


def _cross_site(headers: dict[str, str], scope) -> bool:
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    host = headers.get("host", "")
    return origin.split("://", 1)[-1] != host


async def _buffer(receive):
    chunks, size = [], 0
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_FORM_BYTES:
            return None, receive
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _with_security_headers(send, nonce: str, private: bool):
    csp = (
        "default-src 'self'; img-src 'self' data:; script-src 'self'; "
        f"style-src 'self' 'nonce-{nonce}'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )
    extra = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]
    if private:
        extra.append((b"cache-control", b"no-store"))

    async def wrapped(message):
        if message["type"] == "http.response.start":
            names = {k.lower() for k, _ in message.get("headers", [])}
            message = {**message, "headers": list(message.get("headers", [])) + [h for h in extra if h[0] not in names]}
        await send(message)

    return wrapped


async def _respond(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]):
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _plain(send, status: int, text: str):
    await _respond(send, status, text.encode(), [(b"content-type", b"text/plain; charset=utf-8")])


async def _json(send, status: int, data: dict, headers: list[tuple[bytes, bytes]] = ()):
    await _respond(send, status, json.dumps(data).encode(), [(b"content-type", b"application/json"), *headers])
