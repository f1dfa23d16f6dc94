"""Secrets never reach a log line or an error message.

:func:`redact` replaces, in any text:

* the value of every credential in the environment: a variable a configuration
  names in an ``*_env`` key (:func:`watch_config`), or one whose name says it
  holds one (``…_KEY``, ``…_TOKEN``, ``…_SECRET``, ``…_PASSWORD``), also
  percent-encoded, as it appears in a URL;
* the value of a query parameter such as ``key=``, ``api_key=``,
  ``access_token=``, ``client_secret=``;
* an ``Authorization``, ``Proxy-Authorization`` or ``Api-Key`` header's value;
* the password in a URL (``https://user:password@host``).

:func:`install` puts it in front of every log record of the process (a log
record factory, so every logger and handler is covered, Scrapy's included);
the CLI, ``listener run`` and each crawl process install it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

MARK = "[redacted]"
# Shorter values would redact ordinary words ("1", "yes").
MIN_SECRET_LENGTH = 6
CREDENTIAL_NAME = re.compile(r"(?:^|_)(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|APP_PASSWORD|CREDENTIALS?)$", re.I)
SENSITIVE = r"[\w.-]*?(?:key|token|secret|password|passwd|pwd|signature|sig|auth)[\w.-]*?"
PATTERNS = (
    # ?key=…, &access_token=…
    (re.compile(rf"(?i)([?&;]{SENSITIVE}=)[^&#\s'\"<>]+"), rf"\g<1>{MARK}"),
    # Authorization: Bearer …, 'Api-Key': [b'…'], Api-Key=…
    (re.compile(r"(?i)(\b(?:proxy-)?authorization|\bx?-?api[-_]?key)(['\"]?\s*[:=]\s*\[?\s*(?:b?['\"])?)"
                r"((?:bearer|basic|token|bot|digest)\s+)?[^\s'\",\]}]+"), rf"\1\2\3{MARK}"),
    # "password": "…", client_secret='…'
    (re.compile(r"(?i)(\b[\w-]*(?:password|secret|token|api[_-]?key)['\"]?\s*[:=]\s*['\"])[^'\"]+"), rf"\1{MARK}"),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@/\s]+@"), rf"\1{MARK}@"),
)

_watched: set[str] = set()
_lock = threading.Lock()


def watch_config(config) -> None:
    """Treat every environment variable ``config`` names in an ``*_env`` key as a secret."""
    names = {value for key, value in config.index.model_dump().items() if key.endswith("_env") and value}
    for source in config.sources:
        names |= {value for key, value in source.options.items() if key.endswith("_env") and isinstance(value, str)}
    watch(names)


def watch(names: Iterable[str]) -> None:
    with _lock:
        _watched.update(names)


def secret_values() -> tuple[str, ...]:
    """The environment's credentials, longest first (so that one inside another is still found)."""
    values = {
        value for name, value in os.environ.items()
        if len(value) >= MIN_SECRET_LENGTH and (name in _watched or CREDENTIAL_NAME.search(name))
    }
    return tuple(sorted(values, key=len, reverse=True))


@lru_cache(maxsize=8)
def _secrets_pattern(values: tuple[str, ...]) -> re.Pattern | None:
    forms = {form for value in values for form in (value, quote(value, safe=""), quote_plus(value))}
    if not forms:
        return None
    # Whole values only: a secret that is also part of a longer name (``demo-replay``) leaves that name alone.
    alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def redact(text: str) -> str:
    """``text`` with every secret it holds replaced by ``[redacted]``."""
    if not text:
        return text
    pattern = _secrets_pattern(secret_values())
    if pattern is not None:
        text = pattern.sub(MARK, text)
    for expression, replacement in PATTERNS:
        text = expression.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message (and traceback) now, redacted; later handlers see only that."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: the handler reports it as logging always does
        return record
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Redact every log record this process creates from now on (once per process)."""
    with _lock:
        factory = logging.getLogRecordFactory()
        if getattr(factory, "redacts", False):
            return

        def redacting(*args, **kwargs) -> logging.LogRecord:
            return redact_record(factory(*args, **kwargs))

        redacting.redacts = True
        logging.setLogRecordFactory(redacting)
