"""Channels deliver to a local HTTP receiver and a local SMTP server."""

from __future__ import annotations

import logging

import pytest

from scheduler.alerts import Alert, AlertItem, ChannelError
from scheduler.channels import EmailChannel, SlackChannel, WebhookChannel
from scheduler.channels import http
from tests.scheduler.helpers import HttpReceiver, SmtpReceiver

ALERT = Alert(
    kind="spike",
    keys=("spike:abc",),
    title="Spike: 4 people report “app no funciona”",
    summary="4 similar complaints.",
    items=(AlertItem("La app no funciona", url="https://example.org/1", author="ana", source="hn"),),
)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(http.time, "sleep", lambda seconds: None)


def test_slack_gets_text_and_blocks():
    with HttpReceiver() as receiver:
        SlackChannel(receiver.url).deliver(ALERT)
    payload = receiver.received[0].json()
    assert payload["text"].startswith("Spike: 4 people") and payload["blocks"][0]["type"] == "header"


def test_slack_blocks_link_each_example():
    with HttpReceiver() as receiver:
        SlackChannel(receiver.url).deliver(ALERT)
    assert "<https://example.org/1|open>" in receiver.received[0].json()["blocks"][2]["text"]["text"]


def test_the_generic_webhook_gets_the_alert_as_json():
    with HttpReceiver() as receiver:
        WebhookChannel(receiver.url).deliver(ALERT)
    payload = receiver.received[0].json()
    assert (payload["kind"], payload["key"], payload["items"][0]["author"]) == ("spike", "spike:abc", "ana")


def test_a_server_error_is_retried():
    with HttpReceiver(statuses=[503]) as receiver:
        WebhookChannel(receiver.url).deliver(ALERT)
    assert len(receiver.received) == 2


def test_a_client_error_is_not_retried_and_raises():
    with HttpReceiver(statuses=[404]) as receiver:
        with pytest.raises(ChannelError, match="HTTP 404"):
            WebhookChannel(receiver.url).deliver(ALERT)
    assert len(receiver.received) == 1


def test_errors_name_the_host_but_not_the_secret_path():
    with HttpReceiver(statuses=[500, 500, 500]) as receiver:
        with pytest.raises(ChannelError) as failure:
            WebhookChannel(receiver.url).deliver(ALERT)
    assert "127.0.0.1" in str(failure.value) and "secret-token" not in str(failure.value)


def test_an_unreachable_webhook_raises_a_channel_error():
    with HttpReceiver() as receiver:
        url = receiver.url
    with pytest.raises(ChannelError):
        WebhookChannel(url, timeout=1).deliver(ALERT)


def test_email_reaches_the_smtp_server_with_subject_and_recipients():
    with SmtpReceiver() as server:
        EmailChannel("127.0.0.1", server.port, "listener@example.org", ["team@example.org", "boss@example.org"]).deliver(ALERT)
    sender, recipients, message = server.messages[0]
    assert (sender, recipients, message["Subject"]) == (
        "listener@example.org", ["team@example.org", "boss@example.org"], "[listener] Spike: 4 people report “app no funciona”"
    )


def test_email_body_lists_the_examples():
    with SmtpReceiver() as server:
        EmailChannel("127.0.0.1", server.port, "listener@example.org", ["team@example.org"]).deliver(ALERT)
    body = server.messages[0][2].get_content()
    assert "@ana (hn): La app no funciona https://example.org/1" in body


def test_an_unreachable_smtp_server_raises_a_channel_error():
    with SmtpReceiver() as server:
        port = server.port
    with pytest.raises(ChannelError, match=f"SMTP 127.0.0.1:{port}"):
        EmailChannel("127.0.0.1", port, "listener@example.org", ["team@example.org"], timeout=1).deliver(ALERT)
