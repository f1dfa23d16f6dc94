"""What a post says reaches Slack and email as text: no pings, no disguised links, no extra headers."""

from __future__ import annotations

import re

import pytest

from scheduler.alerts import Alert, AlertItem
from scheduler.channels import EmailChannel, SlackChannel
from scheduler.channels.slack import slack_payload
from tests.scheduler.helpers import HttpReceiver, SmtpReceiver

HOSTILE_TEXT = "<!channel> <!here> <!everyone> <@U024BE7LH> <#C123> <!subteam^S1> mira <http://evil.example|cinesa.es> & más"
HOSTILE = Alert(
    kind="spike",
    keys=("spike:evil",),
    title="Spike: 3 people report “<!channel> app”\r\nBcc: victim@example.org",
    summary="3 similar complaints <!here>.",
    items=(
        AlertItem(HOSTILE_TEXT, url="https://example.org/1", author="ev<!channel>il", source="x&y"),
        AlertItem("sin enlace", url="https://evil.example/a>|<!channel>", author="\u202eanA"),
        AlertItem("javascript", url="javascript:alert(1)", author="b"),
    ),
    sections=(("Esperando <b>", ("@user: <!here> ya", "otra\nlínea")),),
)
CONTROL = re.compile(r"<(?!https://example\.org/1\|open>|https://evil\.example/a%3E%7C%3C!channel%3E\|open>)")


def mrkdwn(payload: dict) -> list[str]:
    return [payload["text"]] + [b["text"]["text"] for b in payload["blocks"] if b["text"]["type"] == "mrkdwn"]


def test_slack_gets_no_mention_or_link_from_a_post():
    for text in mrkdwn(slack_payload(HOSTILE)):
        assert not CONTROL.search(text), text
        assert ">" not in CONTROL.sub("", text).replace("open>", ""), text


def test_slack_shows_the_post_text_escaped_as_slack_asks():
    section = slack_payload(HOSTILE)["blocks"][2]["text"]["text"]
    assert "&lt;!channel&gt; &lt;!here&gt;" in section
    assert "&lt;@U024BE7LH&gt;" in section
    assert "&lt;http://evil.example|cinesa.es&gt; &amp; más" in section
    assert section.startswith("*@ev&lt;!channel&gt;il* (x&amp;y): ")
    assert section.endswith(" <https://example.org/1|open>")


def test_slack_links_only_web_addresses_and_encodes_what_would_end_the_link():
    blocks = slack_payload(HOSTILE)["blocks"]
    assert blocks[3]["text"]["text"].endswith("<https://evil.example/a%3E%7C%3C!channel%3E|open>")
    assert "javascript" not in blocks[4]["text"]["text"].split(": ", 1)[0] and "<javascript" not in blocks[4]["text"]["text"]


def test_slack_sections_are_verbatim_and_links_do_not_unfurl():
    payload = slack_payload(HOSTILE)
    assert all(b["text"].get("verbatim") for b in payload["blocks"] if b["text"]["type"] == "mrkdwn")
    assert payload["unfurl_links"] is False and payload["unfurl_media"] is False


def test_slack_header_is_one_line_of_plain_text():
    header = slack_payload(HOSTILE)["blocks"][0]["text"]
    assert header["type"] == "plain_text" and "\n" not in header["text"] and "\r" not in header["text"]


def test_a_long_escaped_text_is_never_cut_inside_an_entity():
    alert = Alert(kind="spike", keys=("k",), title="t", items=(AlertItem("&" * 1000 + "<" * 1000),))
    for text in mrkdwn(slack_payload(alert)):
        assert len(text) <= 3000
        assert re.sub(r"&(amp|lt|gt);", "", text.removesuffix("…")).count("&") == 0


def test_slack_receives_the_escaped_payload():
    with HttpReceiver() as receiver:
        SlackChannel(receiver.url).deliver(HOSTILE)
    assert not any("<!channel>" in text for text in mrkdwn(receiver.received[0].json()))


def test_an_author_name_with_a_right_to_left_override_is_isolated():
    line = HOSTILE.items[1].line()
    assert line.startswith("@\u2068\u202eanA\u2069: ")
    assert "\u2068\u202eanA\u2069" in slack_payload(HOSTILE)["blocks"][3]["text"]["text"]


def test_isolation_cannot_be_closed_early_by_the_text():
    item = AlertItem("x\u2069\u202eevil", author="a")
    assert item.line().count("\u2069") == 1 and item.line().endswith("\u2069")


@pytest.fixture
def email():
    with SmtpReceiver() as server:
        EmailChannel("127.0.0.1", server.port, "listener@example.org", ["team@example.org"]).deliver(HOSTILE)
    return server.messages[0]


def test_email_subject_from_a_post_is_one_line_and_adds_no_header(email):
    sender, recipients, message = email
    assert recipients == ["team@example.org"]
    assert message["Bcc"] is None and "victim" not in " ".join(f"{k}: {v}" for k, v in message.items() if k != "Subject")
    # (Python's folding of a long non-ASCII subject may drop a space between encoded words.)
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert message["Subject"].replace(" ", "") == "[listener] Spike: 3 people report “<!channel> app” Bcc: victim@example.org".replace(" ", "")


def test_email_is_plain_text_with_each_post_on_its_own_line(email):
    message = email[2]
    assert message.get_content_type() == "text/plain" and not message.is_multipart()
    body = message.get_content()
    assert "- otra línea" in body
    assert "- @b: javascript javascript:alert(1)" in body


def test_a_line_break_in_a_post_does_not_start_a_new_line_of_the_alert():
    item = AlertItem("hola\r\n\r\nFrom: boss@example.org", author="a\nb")
    assert "\n" not in item.line() and "\r" not in item.line()


def test_a_handle_stored_with_its_at_sign_is_written_with_one():
    alert = Alert(kind="prospect", keys=("k",), title="t", items=(AlertItem("hola", author="@pablo_rs"),))
    assert alert.items[0].line().startswith("@pablo_rs: ")
    assert "*@pablo_rs*" in slack_payload(alert)["blocks"][1]["text"]["text"]
