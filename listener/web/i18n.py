"""The web app in Spanish, Catalan or English: gettext catalogs, the language of a request, dates.

The catalogs are ``locale/<language>/LC_MESSAGES/messages.po`` in this package, read
and compiled in memory the first time a language is used, so a fresh checkout
needs no build step. The language is ``ui.language`` in the configuration or,
when that is not set, the best match of the browser's ``Accept-Language``; Spanish
when nothing matches. Dates are day-first and 24-hour (``20/11/2026 12:30``) in
the configured time zone, in every language.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from importlib import resources

from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("es", "ca", "en")
DEFAULT_LANGUAGE = "es"
SOURCE_LANGUAGE = "en"  # the language of the msgids; it has no catalog
# Babel date patterns (https://babel.pocoo.org/en/latest/dates.html#pattern-syntax), by name.
PATTERNS = {
    "datetime": "dd/MM/yyyy HH:mm",
    "date": "dd/MM/yyyy",
    "day": "EEE dd/MM/yyyy",
    "weekday": "EEE dd/MM HH:mm",
    "time": "HH:mm",
    "bucket": "dd/MM",
}
DAY_FORMAT = "%d/%m/%Y"  # what a date field shows and accepts

# A request's language (set by LanguageMiddleware); outside a request, text stays as written.
_language: ContextVar[str] = ContextVar("listener_web_language", default=SOURCE_LANGUAGE)


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language`` (English, the msgids' language, translates to itself)."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    po = resources.files("listener.web").joinpath("locale", language, "LC_MESSAGES", "messages.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as by ``pybabel compile``
    compiled.seek(0)
    return Translations(compiled)


def negotiate(accept_language: str | None, configured: str | None = None) -> str:
    """``configured`` if set, else the best of :data:`LANGUAGES` for an ``Accept-Language`` header, else Spanish."""
    if configured:
        return configured
    preferred = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            preferred.append((-quality, position, tag.strip().lower()))
    tags = [tag for _, _, tag in sorted(preferred)]
    return negotiate_locale(tags, LANGUAGES, sep="-") or DEFAULT_LANGUAGE


def current_language() -> str:
    return _language.get()


def use_language(language: str):
    """Make ``language`` the one of this request (a context variable); returns the token to reset it."""
    return _language.set(language)


def gettext(message: str) -> str:
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Marks text to translate where it is shown, not where it is written (``pybabel extract -k N_``)."""
    return message


# What static/app.js shows, by its English text; the page carries them translated (``#messages``).
JS_MESSAGES = (N_("Copied"),)


def js_messages() -> dict[str, str]:
    return {message: gettext(message) for message in JS_MESSAGES}


def format_time(value: datetime | date | None, zone: str, style: str = "datetime") -> str:
    """``value`` in ``zone`` as one of :data:`PATTERNS` (``datetime``, ``date``, ``day``...), in the current language."""
    if value is None:
        return ""
    pattern = PATTERNS[style]
    if not isinstance(value, datetime):
        return format_date(value, pattern, locale=_language.get())
    return format_datetime(value, pattern, tzinfo=zone, locale=_language.get())


def day_text(value: date | None) -> str:
    """A day as a date field shows it: ``20/11/2026``."""
    return value.strftime(DAY_FORMAT) if value else ""


def parse_day(text: str) -> date:
    """``20/11/2026`` (also ``20-11-2026``, ``20.11.2026``) or ISO ``2026-11-20``; ``ValueError`` otherwise."""
    text = text.strip()
    if len(text) == 10 and text[4] == "-":
        return date.fromisoformat(text)
    for separator in "/-.":
        parts = text.split(separator)
        if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
    raise ValueError(text)


class LanguageMiddleware:
    """Sets the language of each request before anything renders or raises (ASGI)."""

    def __init__(self, app, configured: str | None = None):
        self.app, self.configured = app, configured

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"accept-language"), None)
        token = use_language(negotiate(header, self.configured))

        async def send_varying(message):
            if message["type"] == "http.response.start" and not self.configured:
                message["headers"] = [*message.get("headers", []), (b"vary", b"Accept-Language")]
            await send(message)

        try:
            await self.app(scope, receive, send_varying)
        finally:
            _language.reset(token)
