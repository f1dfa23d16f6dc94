"""Entry points of the stored jobs.

APScheduler keeps jobs in the state file as ``module:function`` plus arguments,
so a job must name a function, not a live object. These functions hand the
call to the running :class:`~scheduler.service.ListenerService` (one per
process, set by its ``start``).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

_service = None


def bind(service) -> None:
    global _service
    if _service is not None and _service is not service:
        raise RuntimeError("a ListenerService is already running in this process")
    _service = service


def unbind(service) -> None:
    global _service
    if _service is service:
        _service = None


def _current():
    if _service is None:
        raise RuntimeError("no ListenerService is running in this process")
    return _service


def crawl(source: str, query: str | None = None) -> None:
    _current().crawl(source, query)


def recheck() -> None:
    _current().recheck()


def sla() -> None:
    _current().check_sla()


def spikes() -> None:
    _current().check_spikes()


def digest() -> None:
    _current().send_digest()


def housekeeping() -> None:
    _current().housekeeping()


def config() -> None:
    _current().check_config()


def retention() -> None:
    _current().apply_retention()
