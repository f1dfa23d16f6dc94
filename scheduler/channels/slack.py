"""Slack-compatible incoming webhooks: ``text`` for every client, ``blocks`` for Slack."""

from __future__ import annotations

from scheduler.alerts import Alert, Channel
from scheduler.channels.http import post_json
from scheduler.settings import SlackChannelConfig

# Slack rejects section blocks longer than this.
BLOCK_LIMIT = 3000


class SlackChannel(Channel):
    kind = "slack"

    def __init__(self, url: str, label: str = "slack", events=("spike", "sla", "prospect", "digest"), timeout: float = 10.0):
        super().__init__(label, events)
        self.url = url
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: SlackChannelConfig) -> SlackChannel:
        return cls(settings.url(), settings.label, settings.events, settings.timeout)

    def deliver(self, alert: Alert) -> None:
        post_json(self.url, slack_payload(alert), self.timeout)


def slack_payload(alert: Alert) -> dict:
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}}]
    if alert.summary:
        blocks.append(_section(alert.summary))
    for item in alert.items:
        who = f"*@{item.author}*" if item.author else "*someone*"
        link = f" <{item.url}|open>" if item.url else ""
        note = f" _{item.note}_" if item.note else ""
        blocks.append(_section(f"{who} ({item.source}){note}: {item.text}{link}"))
    for title, lines in alert.sections:
        body = "\n".join(f"• {line}" for line in lines) or "• none"
        blocks.append(_section(f"*{title}*\n{body}"))
    return {"text": alert.plain_text()[:BLOCK_LIMIT], "blocks": blocks[:50]}


def _section(text: str) -> dict:
    if len(text) > BLOCK_LIMIT:
        text = text[: BLOCK_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
