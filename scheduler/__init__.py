"""Continuous listening: scheduled crawls, answer re-checks, SLA clocks, spikes and alerts.

Commands (registered in ``listener.cli.LAZY_COMMANDS``) live in
:mod:`scheduler.commands`; the library surface is below, imported on first use
so that ``listener status`` does not load the scheduler machinery.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "ListenerService": "scheduler.service",
    "Ticks": "scheduler.service",
    "AlertsConfig": "scheduler.settings",
    "alerts_config": "scheduler.settings",
    "Alert": "scheduler.alerts",
    "Notifier": "scheduler.alerts",
    "SpikeDetector": "scheduler.spikes",
    "ThreadRefresher": "scheduler.rechecks",
    "RefreshResult": "scheduler.rechecks",
    "job_statuses": "scheduler.status",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scheduler' has no attribute {name!r}")
