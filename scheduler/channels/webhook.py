"""A generic JSON webhook: the alert as one JSON object (see ``Alert.to_dict``)."""

from __future__ import annotations

from scheduler.alerts import Alert, Channel
from scheduler.channels.http import post_json
from scheduler.settings import WebhookChannelConfig


class WebhookChannel(Channel):
    kind = "webhook"

    def __init__(self, url: str, label: str = "webhook", events=("spike", "sla", "prospect", "digest"), timeout: float = 10.0):
        super().__init__(label, events)
        self.url = url
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: WebhookChannelConfig) -> WebhookChannel:
        return cls(settings.url(), settings.label, settings.events, settings.timeout)

    def deliver(self, alert: Alert) -> None:
        post_json(self.url, alert.to_dict(), self.timeout)
