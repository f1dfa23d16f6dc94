"""The web app: the team inbox, analysts' pages and the JSON API over one index backend."""

from __future__ import annotations

import logging
import math
import threading
import time
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException

from listener.errors import BackendError, ConflictError, ListenerError, NotFoundError, TransitionError
from listener.feedback import LabelError
from listener.index.base import BaseBackend, QueryError, SearchQuery
from listener.sending import NotSendableError, Outbox, Sender
from listener import redaction
from listener.web import api, i18n, pages, settings_page, views
from listener.web.config_file import ConfigFile
from listener.web.filters import FilterError
from listener.web.i18n import N_, gettext
from listener.web.replies import ReplyDrafter
from listener.web.security import SecurityMiddleware, cookie_names
from listener.web.clients import parse_networks
from listener.web.sessions import SessionStore
from listener.web.settings import WebSettings, web_settings
from listener.web.throttle import LoginThrottle
from listener.web.users import User, Users
from listener.web.work import Work

logger = logging.getLogger(__name__)

STATUS_CODES = {
    NotFoundError: 404, ConflictError: 409, NotSendableError: 422, TransitionError: 422, LabelError: 422, QueryError: 400, FilterError: 400, BackendError: 503,
}
OPTIONS_TTL = 300.0
USERS_CHECK_SECONDS = 5.0  # how often the users file is looked at; a removed user is out within this


class WebContext:
    """What every request handler shares: configuration, index, users, sessions, templates."""

    def __init__(self, config, backend: BaseBackend, settings: WebSettings, users: Users, now=None,
                 config_file: ConfigFile | None = None):
        self.config = config
        self.config_file = config_file
        self.config_lock = threading.Lock()  # one settings change at a time: read, check, write, apply
        self.backend = backend
        self.settings = settings
        self.users = users
        self.sessions = SessionStore(settings.session_hours * 3600)
        self.throttle = LoginThrottle()
        self.drafter = ReplyDrafter(settings, config.brand.name)
        self.work = Work(backend, users, config.schedule, self.entity_names, Outbox(backend, Sender(config.sources), now=self.now))
        self.session_cookie, self.login_cookie = cookie_names(settings.secure_cookies)
        self.zone = config.ui_timezone
        self._now = now
        self._sources: tuple[float, list[str]] = (0.0, [])
        self.users_check_seconds = USERS_CHECK_SECONDS
        self._users_checked = time.monotonic()
        self._users_lock = threading.Lock()

    def refresh_users(self) -> None:
        """Re-read the users file if it changed (at most every ``users_check_seconds``); end the sessions
        of whoever was removed from it or changed in it."""
        now = time.monotonic()
        if now - self._users_checked < self.users_check_seconds:
            return
        with self._users_lock:
            self._users_checked = now
            gone = self.users.refresh()
        if gone:
            ended = self.sessions.revoke(gone)
            logger.info("web: %d session(s) ended for users removed or changed: %s", ended, ", ".join(sorted(gone)))

    def apply_config(self, config, settings: WebSettings) -> None:
        """Serve from now on with ``config`` (already checked): its entities, sources, schedule and reply templates."""
        redaction.watch_config(config)
        self.drafter = ReplyDrafter(settings, config.brand.name)
        self.config, self.settings, self.zone = config, settings, config.schedule.timezone
        self.work.schedule, self.work.entities = config.schedule, self.entity_names
        self._sources = (0.0, [])
        logger.info("web: configuration applied from %s", config.origin)

    def reload_users_soon(self) -> None:
        """Look at the users file on the next request, whatever the interval (SIGHUP). Safe in a signal handler."""
        self._users_checked = float("-inf")

    def log_in(self, name: str, password: str, client: str) -> tuple[User | None, int]:
        """The user these credentials name, or None; and, when ``client`` must wait first, how many seconds."""
        wait = self.throttle.attempt(name, client)  # counted as a failure until the password proves right
        if wait > 0:
            logger.info("web: login for %r from %s refused for %.0f s after repeated failures", name[:64], client, wait)
            return None, max(1, math.ceil(wait))
        user = self.users.authenticate(name, password)
        if user is None:
            return None, 0
        self.throttle.succeeded(name, client)
        return user, 0

    def now(self) -> datetime:
        return self._now() if self._now else datetime.now(timezone.utc)

    @property
    def entity_names(self) -> list[str]:
        """The brand and competitors, brand first."""
        return [entity.name for entity, _ in self.config.entities]

    @property
    def languages(self) -> list[str]:
        """The configured languages, and ``other``."""
        return [*self.config.languages, "other"]

    def local(self, value: datetime | None, style: str = "datetime") -> str:
        """``value`` in the app's time zone, day-first: a style of :data:`i18n.PATTERNS` (or a strftime format)."""
        if "%" in style:
            return views.local_time(value, self.zone, style)
        return i18n.format_time(value, self.zone, style)

    def source_names(self) -> list[str]:
        """Sources seen in the index, for the filter menus (cached for a few minutes)."""
        fetched, names = self._sources
        if time.monotonic() - fetched > OPTIONS_TTL:
            facets = self.backend.search(SearchQuery(facets=("source",), limit=0)).facets
            names = sorted(value for value, _ in facets.get("source", []))
            self._sources = (time.monotonic(), names)
        return names

    def render(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        session = request.state.session
        language = i18n.current_language()
        context.update(
            config=self.config,
            language=language,
            local=self.local,
            day=i18n.day_text,
            request=request,
            session=session,
            user=session.user if session else None,
            role=session.role if session else None,
            csrf=session.csrf if session else "",
            nonce=request.state.nonce,
            flashes=session.take_flashes() if session else [],
            now=self.now(),
        )
        return HTMLResponse(template_environment(language).get_template(name).render(context), status_code=status)


@lru_cache(maxsize=len(i18n.LANGUAGES))
def template_environment(language: str = i18n.DEFAULT_LANGUAGE) -> Environment:
    """One compiled set of templates per language and process; what differs per app is passed in the context."""
    environment = Environment(
        loader=PackageLoader("listener.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(i18n.translations(language), newstyle=True)
    environment.filters.update(isolate=views.isolate, bdi=views.bdi)
    environment.globals.update(
        age=views.age, duration=views.duration, handle=views.handle, safe_url=views.safe_url, answer_text=views.ANSWER_TEXT, answer_label=views.answer_label, label_text=views.label_text,
        term=views.term, reasons_text=views.reasons_text, send_reason_text=views.send_reason_text, percent=views.percent, day_field=views.day_field, js_messages=i18n.js_messages,
    )
    return environment


def users_path(config, settings: WebSettings) -> Path | None:
    if not settings.users_file:
        return None
    path = Path(settings.users_file).expanduser()
    return path if path.is_absolute() else config.data_path(settings.users_file)


def create_app(config, backend: BaseBackend, settings: WebSettings | None = None, users: Users | None = None, now=None,
               config_file: str | Path | None = None) -> FastAPI:
    """The ASGI app. ``settings`` default to the config's ``web:`` section, ``users`` to its users file and variable.
    With ``config_file`` (the file ``config`` was read from), admins can change it from the settings page."""
    settings = settings or web_settings(config)
    if users is None:
        users = Users.load(users_path(config, settings), settings.users_env)
    web = WebContext(config, backend, settings, users, now=now, config_file=ConfigFile(config_file) if config_file else None)
    app = FastAPI(
        title="listener",
        summary="The team inbox and analysts' view over the listener index.",
        description=api.DESCRIPTION,
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.web = web
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(settings_page.router)
    app.mount("/static", StaticFiles(packages=[("listener.web", "static")]), name="static")
    app.add_middleware(
        SecurityMiddleware, sessions=web.sessions, secure=settings.secure_cookies,
        proxies=parse_networks(settings.trusted_proxies), refresh_users=web.refresh_users,
    )
    app.add_middleware(i18n.LanguageMiddleware, configured=config.ui.language)  # outermost: every answer in the same language
    app.add_exception_handler(ListenerError, _listener_error)
    app.add_exception_handler(FilterError, _listener_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    roles = ", ".join(f"{n} {r}" for r, n in _count_roles(users).items()) or "none"
    logger.info(
        "web: %s index, users: %s, secure cookies %s, SameSite=%s, trusted proxies: %s",
        backend.name, roles, "on" if settings.secure_cookies else "OFF", settings.same_site,
        ", ".join(settings.trusted_proxies) or "none (X-Forwarded-For ignored)",
    )
    return app


def _count_roles(users: Users) -> dict[str, int]:
    counts: dict[str, int] = {}
    for user in users:
        counts[user.role] = counts.get(user.role, 0) + 1
    return counts


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/health"


def _error(request: Request, status: int, message: str, hint: str | None = None):
    if _wants_json(request):
        return JSONResponse({"detail": message, "hint": hint}, status_code=status)
    web: WebContext = request.app.state.web
    return web.render(request, "error.html", status=status, message=message, hint=hint, code=status)


async def _listener_error(request: Request, exc: Exception):
    status = next((code for cls, code in STATUS_CODES.items() if isinstance(exc, cls)), 400)
    if isinstance(exc, BackendError):
        logger.error("web: index failure on %s: %s", request.url.path, exc)
    return _error(request, status, str(exc), getattr(exc, "hint", None))


async def _http_error(request: Request, exc: HTTPException):
    messages = {404: N_("Nothing here."), 403: N_("Your role does not allow this."), 405: N_("Method not allowed.")}
    default = gettext(messages.get(exc.status_code, N_("Error")))
    return _error(request, exc.status_code, exc.detail if isinstance(exc.detail, str) and exc.detail else default)


async def _validation_error(request: Request, exc: RequestValidationError):
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in exc.errors())
    return _error(request, 422, problems)
