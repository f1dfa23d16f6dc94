"""Running the app: in the foreground (``listener serve``) or in a background thread."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from listener.errors import ListenerError
from listener.web.app import create_app, users_path
from listener.web.settings import web_settings
from listener.web.users import ROLES, Users, add_user

logger = logging.getLogger(__name__)
DEMO_USERS = (("ana", "agent"), ("luis", "agent"), ("marta", "analyst"), ("admin", "admin"))


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP,
    # and with Nagle on, a response written in two parts waits for the client's delayed ACK (40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenerError(f"cannot listen on {host}:{port} ({exc.strerror})", hint="Choose another port with --port, or 0 for any free one.")
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def _server(app) -> uvicorn.Server:
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app decides whom to believe (web.trusted_proxies).
    config = uvicorn.Config(app, log_level="warning", lifespan="off", server_header=False, access_log=False, proxy_headers=False)
    return uvicorn.Server(config)


def serve(config, backend, host: str | None = None, port: int | None = None, users: Users | None = None,
          echo: Callable[[str], None] = print, config_file: str | Path | None = None) -> None:
    """Serve the web app until interrupted. ``host`` and ``port`` override the config's ``web:`` section;
    ``config_file``, the file ``config`` was read from, is what the settings page changes."""
    settings = web_settings(config)
    if users is None:
        users = Users.load(users_path(config, settings), settings.users_env)
    if not len(users):
        where = users_path(config, settings) or f"${settings.users_env}"
        raise ListenerError(
            f"no one can log in: there are no users in {where} or ${settings.users_env}",
            hint="Add one with `listener user add NAME --role admin` (roles: " + ", ".join(ROLES) + ").",
        )
    app = create_app(config, backend, settings=settings, users=users, config_file=config_file)
    sock = bind(host or settings.host, settings.port if port is None else port)
    url = url_of(sock)
    if settings.secure_cookies and not sock.getsockname()[0].startswith(("127.", "::1")):
        logger.warning("web: the session cookie is Secure; serve behind HTTPS or browsers will not keep the login")
    echo(f"Serving listener at {url}/ ({backend.name} index, {len(users)} users). Press Ctrl+C to stop.")
    with reload_users_on_hangup(app):
        _server(app).run(sockets=[sock])


@contextmanager
def reload_users_on_hangup(app) -> Iterator[None]:
    """While serving, SIGHUP makes the next request re-read the users file (and end removed users' sessions)."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: app.state.web.reload_users_soon())
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


@contextmanager
def running(app) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a background thread; yields its URL."""
    sock = bind("127.0.0.1", 0)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the web server stopped while starting")
            thread.join(0.01)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def create_demo_users(path: Path) -> list[tuple[str, str, str]]:
    """Write one user per role with a fresh random password; returns ``(name, role, password)``."""
    import secrets

    created = []
    for name, role in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        add_user(path, name, role, password)
        created.append((name, role, password))
    return created
