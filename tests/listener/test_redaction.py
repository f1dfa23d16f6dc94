"""No secret in a log line or an error message: a real crawl with a key, and each form a secret takes."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from listener import redaction
from listener.redaction import redact
from tests.spiders.helpers import fixture
from tests.spiders.server import LocalServer, Reply

KEY = "Sx9k(Qz)Te5tKeyValue"  # characters that a URL percent-encodes


@pytest.fixture
def stackexchange(tmp_path):
    # Stack Exchange refuses the search: the error names the request's URL, key and all.
    refused = Reply(400, fixture("stackexchange", "throttled.json"))
    with LocalServer({"/2.3/search/advanced": refused}) as server:
        source = {"kind": "stackexchange", "name": "se", "base_url": server.url, "allow_private": True,
                  "queries": ["cinesa"]}
        config = tmp_path / "listener.yaml"
        config.write_text(json.dumps({"brand": {"name": "Cinesa", "aliases": ["cinesa"]}, "sources": [source],
                                      "data_dir": str(tmp_path / "data")}))
        yield config, server


def test_a_real_crawl_with_a_key_reports_its_failed_request_but_never_the_key(stackexchange, tmp_path):
    config, server = stackexchange
    env = {**os.environ, "LISTENER_STACKEXCHANGE_KEY": KEY, "LISTENER_CRAWL_FORK": "0"}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("listener")), "-vv", "crawl", "--config", str(config), "--source", "se"],
        env=env, capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2],
    )
    assert server.requests[0].param("key") == KEY  # the crawl did send the key
    logs = result.stdout + result.stderr
    assert "throttle_violation" in logs and "key=[redacted]" in logs, logs[-2000:]
    for form in (KEY, "Sx9k%28Qz%29Te5tKeyValue"):
        assert form not in logs


def test_every_configured_credential_variable_is_a_secret(monkeypatch):
    from listener.config import Config

    monkeypatch.setenv("ACME_FORUM_ACCESS", "forum-credential-1")
    config = Config.model_validate({"sources": [{"kind": "discourse", "base_url": "https://f.example",
                                                 "api_key_env": "ACME_FORUM_ACCESS"}]})
    redaction.watch_config(config)
    assert redact("forum said forum-credential-1 is wrong") == "forum said [redacted] is wrong"


def test_a_credential_named_so_in_the_environment_is_a_secret(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "AAAAbearer")
    assert redact("401 for token AAAAbearer") == "401 for token [redacted]"


@pytest.mark.parametrize("text, expected", [
    ("GET https://api.example/search?site=so&key=abc123&order=asc", "GET https://api.example/search?site=so&key=[redacted]&order=asc"),
    ("https://x.example/?access_token=t0k3n", "https://x.example/?access_token=[redacted]"),
    ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer [redacted]"),
    ("{b'Api-Key': [b'discourse-key-1'], b'Accept': [b'*/*']}", "{b'Api-Key': [b'[redacted]'], b'Accept': [b'*/*']}"),
    ("cannot reach http://elastic:hunter22@127.0.0.1:9200", "cannot reach http://elastic:[redacted]@127.0.0.1:9200"),
])
def test_keys_in_urls_headers_and_addresses_are_redacted(text, expected):
    assert redact(text) == expected


def test_an_installed_process_redacts_messages_arguments_and_tracebacks(monkeypatch, caplog):
    monkeypatch.setenv("LISTENER_STACKEXCHANGE_KEY", KEY)
    redaction.install()
    logger = logging.getLogger("spiders.test")
    try:
        raise RuntimeError(f"refused {KEY}")
    except RuntimeError:
        with caplog.at_level(logging.INFO):
            logger.exception("request to %s failed", f"https://api.example/?key={KEY}")
    (record,) = caplog.records
    text = logging.Formatter().format(record)
    assert KEY not in text and "refused [redacted]" in text and "?key=[redacted]" in text


def test_ordinary_words_are_left_alone():
    assert redact("la clave del éxito es key lime pie") == "la clave del éxito es key lime pie"


def test_a_secret_that_is_also_part_of_a_name_leaves_the_name_alone(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "replay")
    assert redact("hackernews-replay: token replay refused") == "hackernews-replay: token [redacted] refused"
