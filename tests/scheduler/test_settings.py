"""The alerts section is validated when the scheduler loads, with file, line and key."""

from __future__ import annotations

import pytest

from listener.config import load_config
from listener.errors import ConfigError
from scheduler.channels import build_channels
from scheduler.settings import alerts_config


def config_file(tmp_path, text: str):
    path = tmp_path / "listener.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_an_empty_section_gives_the_defaults(tmp_path):
    settings = alerts_config(config_file(tmp_path, "brand: {name: Cinesa}\n"))
    assert (settings.channels, settings.spikes.min_authors, settings.sla.enabled) == ([], 3, True)


def test_durations_are_read_like_the_rest_of_the_configuration(tmp_path):
    settings = alerts_config(config_file(tmp_path, "alerts:\n  spikes: {window: 20m}\n"))
    assert settings.spikes.window == 1200


def test_an_unknown_key_names_file_line_and_valid_keys(tmp_path):
    config = config_file(tmp_path, "alerts:\n  channels:\n    - kind: slack\n      colour: red\n")
    with pytest.raises(ConfigError, match=r"listener.yaml, line 4: unknown key 'alerts.channels\[0\].colour' \(valid keys: events, kind, name, timeout, url_env\)"):
        alerts_config(config)


def test_an_unknown_channel_kind_lists_the_kinds(tmp_path):
    config = config_file(tmp_path, "alerts:\n  channels:\n    - kind: pager\n")
    with pytest.raises(ConfigError, match="expected one of slack, webhook, email, found 'pager'"):
        alerts_config(config)


def test_a_bad_value_says_what_was_found(tmp_path):
    config = config_file(tmp_path, "alerts:\n  spikes:\n    min_authors: 1\n")
    with pytest.raises(ConfigError, match=r"line 3: alerts.spikes.min_authors: .*2, found 1"):
        alerts_config(config)


def test_a_secret_written_where_its_variable_belongs_is_refused_without_repeating_it(tmp_path):
    config = config_file(tmp_path, "alerts:\n  channels:\n    - {kind: slack, url_env: 'https://hooks.slack.com/services/T0/B0/s3cr3t'}\n"
                                   "    - {kind: email, sender: a@example.org, to: [b@example.org], password_env: hunter2!}\n")
    with pytest.raises(ConfigError) as error:
        alerts_config(config)
    assert [key for key, _ in error.value.problems] == ["alerts.channels[0].url_env", "alerts.channels[1].password_env"]
    assert "line 3: alerts.channels[0].url_env: expected the name of an environment variable" in str(error.value)
    assert "s3cr3t" not in str(error.value) and "hunter2" not in str(error.value)


def test_ssl_and_starttls_together_are_rejected(tmp_path):
    config = config_file(tmp_path, "alerts:\n  channels:\n    - {kind: email, sender: a@b.c, to: [t@b.c], ssl: true, starttls: true}\n")
    with pytest.raises(ConfigError, match="ssl and starttls exclude each other"):
        alerts_config(config)


def test_a_webhook_whose_variable_is_unset_fails_at_start(tmp_path, monkeypatch):
    monkeypatch.delenv("HOOK_URL", raising=False)
    settings = alerts_config(config_file(tmp_path, "alerts:\n  channels:\n    - {kind: webhook, url_env: HOOK_URL}\n"))
    with pytest.raises(ConfigError, match="environment variable HOOK_URL is not set"):
        build_channels(settings)


def test_channels_take_their_url_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_URL", "http://127.0.0.1:9/hook")
    settings = alerts_config(config_file(tmp_path, "alerts:\n  channels:\n    - {kind: slack, url_env: HOOK_URL}\n"))
    assert build_channels(settings)[0].url == "http://127.0.0.1:9/hook"
