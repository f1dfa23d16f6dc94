"""The ``web:`` section of the brand configuration, validated here.

Every setting has a default, so the section may be left out. Unknown keys are
refused with the list of valid ones, and each error names the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from listener.errors import ConfigError
from listener.web.clients import parse_networks
from listener.web.replies import PLACEHOLDER, SECTORS, TemplateError, check_answers, check_templates, sector_templates

LINK_PLACEHOLDERS = ("url", "native_id", "author")


def _check_placeholders(text: str, allowed: tuple[str, ...], what: str) -> str:
    for name in PLACEHOLDER.findall(text):
        if name not in allowed:
            raise ValueError(f"{what} uses {{{name}}}; the placeholders are {', '.join('{' + a + '}' for a in allowed)}")
    return text


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 for every interface).")
    port: int = Field(8000, ge=0, le=65535, description="Port to listen on; 0 picks a free one.")
    users_file: str | None = Field(
        "users.txt", description="Users file (`name:role:hash` lines), relative to the data directory unless absolute."
    )
    users_env: str = Field("LISTENER_WEB_USERS", description="Environment variable with more users, same format, one per line.")
    secure_cookies: bool = Field(True, description="Mark the session cookie Secure; turn off only for plain-HTTP use on localhost.")
    same_site: Literal["lax", "strict"] = Field("lax", description="The session cookie's SameSite policy.")
    trusted_proxies: list[str] = Field(
        [], description="Addresses or networks of reverse proxies whose X-Forwarded-For is believed (e.g. 127.0.0.1, 10.0.0.0/8); "
        "from anyone else the header is ignored.",
    )
    session_hours: float = Field(12, gt=0, le=24 * 30, description="How long a login lasts.")
    page_size: int = Field(25, ge=1, le=500, description="Posts per page in the inbox and search.")
    gap_days: int = Field(30, ge=1, le=3650, description="Default window of the competitor page, in days.")
    gap_min_n: int = Field(
        10, ge=1, le=100_000, description="The competitor page shows a rate, share or median only when it rests on at least "
        "this many posts; under it, only the count (n=3).",
    )
    reply_templates: str | None = Field(
        None, description=f"The sector's reply templates: a built-in set ({', '.join(SECTORS)}) or a file, relative to this "
        "configuration file unless absolute."
    )
    replies: dict[str, dict[str, str]] = Field(
        {}, description="Reply templates by reading and language, over the sector's; {greeting} and {brand} are filled in."
    )
    answers: list = Field(
        [], description="The team's answers to frequent questions: a list of {when: [words], es: text, ca: ..., en: ...}; "
        "a question holding one of the words gets the answer as its draft."
    )
    reply_links: dict[str, str] = Field(
        {}, description="Where to reply, by source: a URL with {url}, {native_id} or {author}; the default is the post's URL."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value

    @field_validator("replies")
    @classmethod
    def _known_readings_and_placeholders(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        try:
            return check_templates(value, "")
        except TemplateError as exc:
            raise ValueError(str(exc).removeprefix(": ")) from None

    @field_validator("reply_links")
    @classmethod
    def _link_placeholders(cls, value: dict[str, str]) -> dict[str, str]:
        for source, template in value.items():
            _check_placeholders(template, LINK_PLACEHOLDERS, f"the link for {source}")
            if not template.startswith(("https://", "http://", "{url}")):
                raise ValueError(f"the link for {source} must start with https://, http:// or {{url}}, found {template!r}")
        return value


def web_settings(config) -> WebSettings:
    """Validate ``config.web``; a mistake raises :class:`ConfigError` naming the key."""
    origin = config.origin or "the configuration"
    try:
        settings = WebSettings.model_validate(config.web or {})
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        raise ConfigError("; ".join(f"{origin}: {reason if reason.startswith('unknown key') else f'{key}: {reason}'}"
                                    for key, reason in problems), problems=problems) from None
    if settings.reply_templates and settings.reply_templates not in SECTORS:
        path = Path(settings.reply_templates).expanduser()
        if not path.is_absolute() and config.origin:
            path = Path(config.origin).parent / path
        settings = settings.model_copy(update={"reply_templates": str(path)})
    if settings.reply_templates:
        sector_templates(settings.reply_templates, origin)  # a mistake in a template is reported now, naming its file
    check_answers(settings.answers, f"{origin}: web.answers")
    return settings


def _describe(error: dict) -> tuple[str, str]:
    """``(key, what is wrong)`` for one mistake in the section."""
    key = ".".join(["web", *(str(part) for part in error["loc"])])
    if error["type"] == "extra_forbidden":
        return key, f"unknown key {key!r} (valid keys: {', '.join(sorted(WebSettings.model_fields))})"
    reason = error["msg"].removeprefix("Value error, ")
    found = "" if "found" in reason or isinstance(error.get("input"), (dict, list)) else f", found {error.get('input')!r}"
    return key, f"{reason}{found}"
