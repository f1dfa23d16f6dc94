"""The ``alerts`` section of the configuration: where alerts go and when they fire.

``listener.config`` keeps this section as an unchecked mapping; it is validated
here when the scheduler loads, with the same kind of message: file, line, key,
what was expected and what was found. Secrets (webhook URLs, SMTP passwords)
are named by environment variable, never written in the file.

    alerts:
      channels:
        - {kind: slack, url_env: LISTENER_SLACK_WEBHOOK_URL}
        - {kind: webhook, url_env: LISTENER_WEBHOOK_URL, events: [spike]}
        - {kind: email, host: smtp.example.org, port: 587, starttls: true,
           sender: listener@example.org, to: [team@example.org],
           username_env: LISTENER_SMTP_USERNAME, password_env: LISTENER_SMTP_PASSWORD}
      spikes: {min_authors: 3, window: 60m, similarity: 60}
      sla: {lookback: 7d}
      prospects: {min_score: 70}
      digest: {at: "09:00"}
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from listener.config import Config, check_clock, line_of, parse_duration, secret
from listener.errors import ConfigError

EVENTS = ("spike", "sla", "prospect", "digest")
Event = Literal["spike", "sla", "prospect", "digest"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> float:
    return parse_duration(value)


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: str | None) -> str | None:
    """The name of the variable holding a secret; a URL or password here would put the secret in the file."""
    if value is not None and not ENV_NAME.match(value):
        raise ValueError("expected the name of an environment variable such as LISTENER_SLACK_WEBHOOK_URL; the value "
                         "found is not one (not repeated here, as it may be the secret itself)")
    return value


class _UrlChannel(_Section):
    name: str | None = None
    url_env: str
    events: list[Event] = list(EVENTS)
    timeout: float = Field(10.0, gt=0)

    _env = field_validator("url_env")(classmethod(lambda cls, value: _env_name(value)))

    def url(self) -> str:
        value = secret(self.url_env)
        if value is None:
            raise ConfigError(
                f"alerts channel {self.label!r}: environment variable {self.url_env} is not set",
                hint=f"Export {self.url_env} with the webhook URL, or remove the channel.",
            )
        return value

    @property
    def label(self) -> str:
        return self.name or self.kind  # type: ignore[attr-defined]


class SlackChannelConfig(_UrlChannel):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's /slack)."""

    kind: Literal["slack"]
    url_env: str = "LISTENER_SLACK_WEBHOOK_URL"


class WebhookChannelConfig(_UrlChannel):
    """A generic JSON webhook: the alert as one JSON object, POSTed."""

    kind: Literal["webhook"]
    url_env: str = "LISTENER_WEBHOOK_URL"


class EmailChannelConfig(_Section):
    kind: Literal["email"]
    name: str | None = None
    host: str = "localhost"
    port: int = Field(25, gt=0, lt=65536)
    sender: str
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    ssl: bool = False
    username_env: str | None = None
    password_env: str | None = None
    events: list[Event] = list(EVENTS)
    timeout: float = Field(10.0, gt=0)

    _env = field_validator("username_env", "password_env")(classmethod(lambda cls, value: _env_name(value)))

    @property
    def label(self) -> str:
        return self.name or self.kind

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> EmailChannelConfig:
        if self.ssl and self.starttls:
            raise ValueError("ssl and starttls exclude each other: ssl for port 465, starttls for 587")
        return self


ChannelConfig = Annotated[
    Union[SlackChannelConfig, WebhookChannelConfig, EmailChannelConfig], Field(discriminator="kind")
]
CHANNEL_MODELS = {"slack": SlackChannelConfig, "webhook": WebhookChannelConfig, "email": EmailChannelConfig}
CHANNEL_KINDS = tuple(CHANNEL_MODELS)


class SpikeSettings(_Section):
    """Many people reporting the same problem: ``min_authors`` within ``window``."""

    enabled: bool = True
    min_authors: int = Field(3, ge=2)
    window: float = 3600.0
    similarity: int = Field(60, ge=1, le=100)
    scorer: Literal["token_set_ratio", "token_sort_ratio", "jaccard"] = "token_set_ratio"
    intents: list[str] = ["complaint", "churn"]
    examples: int = Field(3, ge=1)

    _durations = field_validator("window", mode="before")(classmethod(lambda cls, v: _duration(v)))


class SlaSettings(_Section):
    """Alert once per post whose response time has passed; look back ``lookback``."""

    enabled: bool = True
    lookback: float = 7 * 86400.0

    _durations = field_validator("lookback", mode="before")(classmethod(lambda cls, v: _duration(v)))


class ProspectSettings(_Section):
    """Alert on surfaced posts by prospects with a lead score of at least ``min_score``."""

    enabled: bool = True
    min_score: int = Field(70, ge=0, le=100)
    max_age: float = 86400.0

    _durations = field_validator("max_age", mode="before")(classmethod(lambda cls, v: _duration(v)))


class DigestSettings(_Section):
    """A daily summary at ``at`` (local time of ``schedule.timezone``)."""

    enabled: bool = True
    at: str = "09:00"

    _clock = field_validator("at")(classmethod(lambda cls, value: check_clock(value)))


class AlertsConfig(_Section):
    channels: list[ChannelConfig] = []
    spikes: SpikeSettings = SpikeSettings()
    sla: SlaSettings = SlaSettings()
    prospects: ProspectSettings = ProspectSettings()
    digest: DigestSettings = DigestSettings()


def alerts_config(config: Config) -> AlertsConfig:
    """The validated ``alerts`` section of ``config``, or a ConfigError naming file, line and key."""
    try:
        return AlertsConfig.model_validate(config.alerts)
    except ValidationError as exc:
        problems = _describe(exc, config.origin)
        raise ConfigError("; ".join(text for _, _, text in problems), problems=[(key, reason) for key, reason, _ in problems]) from None


def _describe(exc: ValidationError, origin: str | None) -> list[tuple[str, str, str]]:
    """Each mistake as ``(key, what is wrong, the whole message with file and line)``."""
    root = _yaml_root(origin)
    where_file = origin or "the configuration"
    problems = []
    for error in exc.errors():
        loc = ["alerts", *_without_tags(error["loc"])]
        key = _format_loc(loc)
        line = line_of(root, loc, root_line=False)
        where = f"{where_file}, line {line}" if line else where_file
        if error["type"] == "extra_forbidden":
            model = _model_for(list(error["loc"][:-1]))
            valid = f" (valid keys: {', '.join(sorted(model.model_fields))})" if model else ""
            problems.append((key, f"unknown key {key!r}{valid}", f"{where}: unknown key {key!r}{valid}"))
            continue
        if error["type"] == "missing":
            reason = "missing required key"
        elif error["type"] == "union_tag_invalid" or error["type"] == "union_tag_not_found":
            found = error.get("input", {}).get("kind") if isinstance(error.get("input"), dict) else None
            key, reason = f"{key}.kind", f"expected one of {', '.join(CHANNEL_KINDS)}, found {found!r}"
        else:
            reason = error["msg"].removeprefix("Value error, ")
            reason += "" if "found" in reason else f", found {error.get('input')!r}"
        problems.append((key, reason, f"{where}: {key}: {reason}"))
    return problems


def _without_tags(loc: tuple) -> list:
    """Drop the discriminator tag pydantic puts after a channel's index."""
    parts: list = []
    for part in loc:
        if part in CHANNEL_KINDS and parts and isinstance(parts[-1], int):
            continue
        parts.append(part)
    return parts


def _format_loc(loc: list) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _model_for(loc: list) -> type[BaseModel] | None:
    """The model holding the key at ``loc`` (a raw pydantic location, channel tags included)."""
    model: Any = AlertsConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if part in CHANNEL_MODELS:
            model = CHANNEL_MODELS[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = field.annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _yaml_root(origin: str | None) -> yaml.Node | None:
    if not origin:
        return None
    try:
        with open(origin, encoding="utf-8") as stream:
            return yaml.compose(stream, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
