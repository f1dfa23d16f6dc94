"""Slack-compatible incoming webhooks: ``text`` for every client, ``blocks`` for Slack.

Everything that came from a post (text, author, source, the words of a spike)
is escaped as Slack asks, ``&`` ``<`` ``>`` as ``&amp;`` ``&lt;`` ``&gt;``, so
``<!channel>``, ``<!here>``, ``<@U123>`` or ``<http://x|disguised>`` in a post
reach Slack as text, never as a ping or a link. Sections are ``verbatim``, so
Slack does not turn bare names and addresses into links or mentions either, and
the only link is the post's own address, percent-encoded where Slack's link
syntax would read it (``<`` ``>`` ``|``) and only if it is http(s).
"""

from __future__ import annotations

import re

from scheduler.alerts import Alert, Channel, isolate, one_line
from scheduler.channels.http import post_json
from scheduler.settings import SlackChannelConfig

# Slack rejects section blocks longer than this.
BLOCK_LIMIT = 3000
LINK_UNSAFE = {"<": "%3C", ">": "%3E", "|": "%7C", " ": "%20", '"': "%22", "&": "&amp;"}
PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


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


def escape(text: str) -> str:
    """Text Slack shows as it is: its three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """``<url|label>`` for an http(s) address, with nothing in it that ends the link early; else nothing."""
    if not url or not url.lower().startswith(("https://", "http://")) or any(ord(c) < 32 for c in url):
        return ""
    return "<" + "".join(LINK_UNSAFE.get(c, c) for c in url) + "|" + escape(label) + ">"


def slack_payload(alert: Alert) -> dict:
    # plain_text is never parsed for mentions or links, so the header needs no escaping.
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": one_line(alert.title, 150), "emoji": False}}]
    if alert.summary:
        blocks.append(_section(escape(isolate(alert.summary))))
    for item in alert.items:
        who = f"*@{escape(one_line(item.author.lstrip('@')))}*" if item.author else "*someone*"
        source = f" ({escape(one_line(item.source))})" if item.source else ""
        note = f" _{escape(item.note)}_" if item.note else ""
        url = link(item.url, "open")
        blocks.append(_section(f"{who}{source}{note}: {escape(one_line(item.text, 10_000))}{' ' + url if url else ''}"))
    for title, lines in alert.sections:
        body = "\n".join(f"• {escape(one_line(line, 10_000))}" for line in lines) or "• none"
        blocks.append(_section(f"*{escape(title)}*\n{body}"))
    return {
        "text": _cut(escape(alert.plain_text())),
        "blocks": blocks[:50],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _cut(text: str, limit: int = BLOCK_LIMIT) -> str:
    """At most ``limit`` characters, never ending inside an entity."""
    if len(text) <= limit:
        return text
    return PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text), "verbatim": True}}
