"""POSTing JSON to a webhook, with a short retry for the failures worth retrying."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request

from scheduler.alerts import ChannelError

logger = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}


def post_json(url: str, payload: dict, timeout: float, attempts: int = 3, backoff: float = 1.0) -> None:
    """POST ``payload``; retry connection errors and 429/5xx, honouring a short Retry-After."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "listener-alerts"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return
        except urllib.error.HTTPError as exc:
            retry = exc.code in RETRY_STATUSES
            reason = f"HTTP {exc.code}"
            wait = _retry_after(exc.headers.get("Retry-After"), backoff * attempt)
        except (urllib.error.URLError, OSError) as exc:
            retry = True
            reason = str(getattr(exc, "reason", exc))
            wait = backoff * attempt
        if not retry or attempt == attempts:
            raise ChannelError(f"{_host(url)} answered {reason} after {attempt} attempt(s)")
        logger.debug("webhook %s: %s, retrying in %.1fs", _host(url), reason, wait)
        time.sleep(wait)


def _retry_after(value: str | None, default: float) -> float:
    try:
        return min(float(value), 30.0) if value else default
    except ValueError:
        return default


def _host(url: str) -> str:
    """The host only: webhook paths carry secrets and must not reach the logs."""
    return urllib.parse.urlsplit(url).netloc or "webhook"
