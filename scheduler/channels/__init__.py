"""Alert channels, chosen by ``kind`` in ``alerts.channels``."""

from __future__ import annotations

from scheduler.alerts import Channel
from scheduler.channels.email import EmailChannel
from scheduler.channels.slack import SlackChannel
from scheduler.channels.webhook import WebhookChannel
from scheduler.settings import AlertsConfig

__all__ = ["EmailChannel", "SlackChannel", "WebhookChannel", "build_channels"]

CHANNELS: dict[str, type[Channel]] = {"slack": SlackChannel, "webhook": WebhookChannel, "email": EmailChannel}


def build_channels(settings: AlertsConfig) -> list[Channel]:
    """One channel per configured entry; a missing secret raises ConfigError now, not at the first alert."""
    return [CHANNELS[entry.kind].from_settings(entry) for entry in settings.channels]
