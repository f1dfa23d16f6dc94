"""``listener reply`` as a user runs it, against the fake X API."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from listener.cli import main

TEXT = "Hola, sí: abrimos el lunes de 16:00 a 23:00."
POST = "twitter:1860000000000000042"


@pytest.fixture
def config(tmp_path, fake):
    path = tmp_path / "listener.yaml"
    path.write_text(f"""\
brand: {{name: Cinesa, aliases: [cinesa], handles: ["@cinesa"]}}
sources: [{{kind: twitter, base_url: "{fake.url}", allow_private: true}}]
data_dir: {tmp_path / "data"}
""")
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "1860000000000000042", "source": "twitter", "text": "¿Cinesa abre el lunes?",
                                 "created_at": "2026-11-20T10:00:00Z", "author": "ana"}, ensure_ascii=False))
    result = CliRunner().invoke(main, ["ingest", "--config", str(path), str(posts)])
    assert result.exit_code == 0, result.output
    return str(path)


def test_without_credentials_it_says_which_variable_to_set(config, monkeypatch):
    monkeypatch.delenv("LISTENER_TWITTER_USER_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["reply", POST, "--config", config])
    assert result.exit_code == 0, result.output
    assert f"{POST}: not sent from here: to send from here, set LISTENER_TWITTER_USER_TOKEN" in result.output


def test_send_posts_once_per_key_and_prints_the_link(config, fake, monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_USER_TOKEN", "x-user-token")
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["reply", POST, "--config", config, "--text", TEXT, "--send", "--by", "ana", "--key", "k1"])
        assert result.exit_code == 0, result.output
        assert "sent as 1861000000000000001, https://x.com/i/web/status/1861000000000000001" in result.output
    assert len(fake.sent("/2/tweets")) == 1
    shown = runner.invoke(main, ["reply", POST, "--config", config])
    assert "already answered by ana" in shown.output and TEXT in shown.output


def test_a_rate_limited_send_exits_1_with_when_to_retry_and_the_key(config, fake, monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_USER_TOKEN", "x-user-token")
    fake.fail("/2/tweets", 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}, {"x-rate-limit-reset": "1795000000"})
    result = CliRunner().invoke(main, ["reply", POST, "--config", config, "--text", TEXT, "--send", "--key", "k1"])
    assert result.exit_code == 1
    assert "Not sent: X is rate limiting the account" in result.output and "retry after 2026-11-18 11:06 UTC" in result.output
    assert "--key k1" in result.output and "Traceback" not in result.output
