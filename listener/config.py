"""Brand configuration: a YAML file a person edits, validated on load.

Every section has defaults, so an empty file is a valid configuration. Unknown
keys are rejected, and an error names the file, line, key, what was expected
and what was found. Secrets never live here: the file names environment
variables, and :func:`secret` reads them.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from listener.errors import ConfigError

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(value: str | int | float) -> float:
    """``"90s"``, ``"5m"``, ``"1h"``, ``"2d"`` or a number of seconds -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = DURATION.match(str(value))
    if not match:
        raise ValueError(f"expected a duration like 30s, 5m, 1h or 2d, found {value!r}")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)]


def parse_age(value: str) -> float:
    """An age that erases what is older: a duration with its unit (``30d``), never a bare number."""
    match = DURATION.match(str(value)) if isinstance(value, str) else None
    if not match or not match.group(2):
        raise ValueError(f"expected an age with its unit like 30d or 12h, found {value!r}")
    return parse_duration(value)


def check_clock(value: str) -> str:
    """A time of day written ``HH:MM``."""
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(value)):
        raise ValueError(f"expected a time like 09:00, found {value!r}")
    return value


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The platforms whose accounts an entity can name, and what an account looks like there.
ACCOUNT_FORMS = {
    "twitter": (re.compile(r"^@?\w{1,15}$"), "an X handle like @Cinesa"),
    "reddit": (re.compile(r"^(/?u/)?[\w-]{3,20}$"), "a Reddit username like u/cinesa_es"),
    "hackernews": (re.compile(r"^[\w-]{2,15}$"), "a Hacker News username like cinesa"),
    "mastodon": (re.compile(r"^@?[\w.]+@[\w-]+(\.[\w-]+)+$"), "a full Mastodon address like @cinesa@mastodon.social"),
    "bluesky": (re.compile(r"^@?([a-z0-9-]+\.)+[a-z0-9-]+$|^did:[a-z]+:[\w.:%-]+$", re.I),
                "a Bluesky handle like cinesa.bsky.social or a did:plc: identifier"),
    "discourse": (re.compile(r"^@?[\w.-]{1,60}$"), "a forum username like cinesa_soporte"),
    "stackexchange": (re.compile(r"^\S(.*\S)?$"), "a Stack Exchange display name like Cinesa Support"),
}


def account_key(value: str) -> str:
    """An account as compared: case-folded, without ``@`` or ``u/``; a Mastodon address keeps its server."""
    value = value.strip().lower()
    for prefix in ("/u/", "u/", "@"):
        value = value.removeprefix(prefix)
    return value


class EntityConfig(Section):
    """The brand or a competitor, and every way people refer to it.

    ``handles`` are its accounts everywhere; ``accounts`` names them per
    platform (``reddit: [u/cinesa_es]``, ``mastodon: ["@cinesa@mastodon.social"]``)
    and, for a platform it lists, replaces ``handles`` when deciding who answered.
    """

    name: str
    aliases: list[str] = []
    handles: list[str] = []
    hashtags: list[str] = []
    accounts: dict[str, list[str]] = {}
    # Aliases that are also common words or places ("orange", "Santander"):
    # they count only with a sector word or another reference near them.
    ambiguous: list[str] = []
    context: list[str] = []
    exclude: list[str] = []

    @field_validator("name")
    @classmethod
    def _name_is_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected the name people know it by, found an empty one")
        return value

    @field_validator("handles")
    @classmethod
    def _handles_start_with_at(cls, values: list[str]) -> list[str]:
        return [v if v.startswith("@") else f"@{v}" for v in values]

    @field_validator("hashtags")
    @classmethod
    def _hashtags_start_with_hash(cls, values: list[str]) -> list[str]:
        return [v if v.startswith("#") else f"#{v}" for v in values]

    @field_validator("accounts")
    @classmethod
    def _accounts_fit_their_platform(cls, accounts: dict[str, list[str]]) -> dict[str, list[str]]:
        for platform, names in accounts.items():
            if platform not in ACCOUNT_FORMS:
                raise ValueError(f"unknown platform {platform!r} (platforms: {', '.join(ACCOUNT_FORMS)})")
            form, example = ACCOUNT_FORMS[platform]
            for name in names:
                if not form.match(name.strip()):
                    raise ValueError(f"{platform} account {name!r} is not {example}")
        return accounts

    def accounts_on(self, platform: str | None) -> list[str]:
        """The accounts that speak for this entity on ``platform``: its own list there, else ``handles``."""
        return self.accounts.get(platform, self.handles) if platform else self.handles

    def speaks_as(self, author: str | None, platform: str | None) -> bool:
        """Whether ``author`` is one of this entity's accounts on ``platform``.

        An account given with a server (``@cinesa@mastodon.social``) must match
        it whole; one without (``@cinesa``) matches that name on any server.
        """
        if not author:
            return False
        who = account_key(author)
        for account in self.accounts_on(platform):
            key = account_key(account)
            if who == key or ("@" not in key and who.split("@")[0] == key):
                return True
        return False


class SectorConfig(Section):
    keywords: list[str] = []
    exclude: list[str] = []


class SourceConfig(BaseModel):
    """One source to gather from. ``kind`` picks the spider or poller; keys
    beyond the common ones are that kind's options, checked by the kind."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str
    name: str | None = None
    base_url: str | None = None
    interval: float = 300.0
    queries: list[str] = []
    backfill: float = 86400.0
    allow_private: bool = False
    user_agent: str | None = None
    # How a site owner reaches whoever runs this crawl (an email or a URL), put in the User-Agent.
    contact: str | None = None

    _durations = field_validator("interval", "backfill", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )

    @field_validator("contact")
    @classmethod
    def _contact_fits_a_header(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or re.search(r"[\x00-\x1f\x7f();]", value)):
            raise ValueError("expected an email address or URL such as mailto:ops@example.com, "
                             "without brackets, semicolons or line breaks")
        return value.strip() if value else value

    @property
    def label(self) -> str:
        return self.name or self.kind

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ServiceHours(Section):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = list(WEEKDAYS[:5])
    start: str = "09:00"
    end: str = "18:00"

    _clock = field_validator("start", "end")(classmethod(lambda cls, value: check_clock(value)))


class WorkersConfig(Section):
    """Where crawls run: scrapyd daemons, or (none listed) subprocesses of ``listener run``."""

    scrapyd: list[str] = []
    # The scrapyd project that runs ``spiders.settings`` (``[settings] listener = spiders.settings``).
    project: str = "listener"
    # Where a crawl writes what it found, at the same path on every worker and the scheduler
    # (shared storage); relative to data_dir unless absolute.
    events_dir: str = "crawls"
    # Seconds between two looks at a worker's jobs, and before a crawl is cancelled.
    poll: float = Field(1.0, gt=0)
    timeout: float = Field(600.0, gt=0)

    _durations = field_validator("poll", "timeout", mode="before")(classmethod(lambda cls, v: parse_duration(v)))

    @field_validator("scrapyd")
    @classmethod
    def _urls(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(r"^https?://[^/\s]+", value):
                raise ValueError(f"expected a scrapyd address like http://crawler1:6800, found {value!r}")
        return [value.rstrip("/") for value in values]


class LeaseConfig(Section):
    """With Elasticsearch, one ``listener run`` leads; the others wait and take over."""

    # Seconds between the leader's renewals; a lease not renewed for two of them has expired.
    interval: float = Field(10.0, gt=0)

    _interval = field_validator("interval", mode="before")(classmethod(lambda cls, v: parse_duration(v)))


class ScheduleConfig(Section):
    timezone: str = "Europe/Madrid"
    service_hours: ServiceHours = ServiceHours()
    holidays: list[date] = []
    sla_minutes: int = Field(60, gt=0)
    # Ages (since first stored) at which an open post's thread is fetched again; the last repeats.
    recheck: list[float] = [600, 3600, 21600, 86400]
    # A post older than this (since it was published) is no longer re-checked.
    recheck_max_age: float = Field(7 * 86400.0, gt=0)
    # Thread look-ups per re-check round; the cheapest go first, the rest wait for the next round.
    recheck_lookups: int = Field(200, ge=1)
    workers: WorkersConfig = WorkersConfig()
    lease: LeaseConfig = LeaseConfig()

    _max_age = field_validator("recheck_max_age", mode="before")(classmethod(lambda cls, v: parse_duration(v)))

    @field_validator("recheck", mode="before")
    @classmethod
    def _recheck_durations(cls, values: Any) -> Any:
        if not isinstance(values, list):
            return values
        return [parse_duration(v) for v in values]

    @field_validator("recheck")
    @classmethod
    def _recheck_grows(cls, values: list[float]) -> list[float]:
        if any(v <= 0 for v in values) or values != sorted(set(values)):
            raise ValueError(f"expected growing ages like [10m, 1h, 6h, 24h], found {values!r}")
        return values

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone like Europe/Madrid, found {value!r}")
        return value


SIZE = re.compile(r"^\s*\d+(?:\.\d+)?\s*(b|kb|mb|gb|tb)\s*$", re.IGNORECASE)


class RolloverConfig(Section):
    """When Elasticsearch's write index is closed and a new one started (any condition met)."""

    max_age: str | None = "30d"
    max_docs: int | None = Field(default=None, ge=1)
    max_primary_shard_size: str | None = "50gb"

    @field_validator("max_age")
    @classmethod
    def _age(cls, value: str | None) -> str | None:
        if value is not None:
            parse_age(value)
        return value

    @field_validator("max_primary_shard_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and not SIZE.match(value):
            raise ValueError(f"expected a size like 50gb or 500mb, found {value!r}")
        return value

    @property
    def conditions(self) -> dict:
        """Elasticsearch's rollover conditions; ``min_docs`` keeps an empty index from rolling over."""
        conditions = {"max_age": self.max_age, "max_docs": self.max_docs,
                      "max_primary_shard_size": self.max_primary_shard_size.replace(" ", "").lower() if self.max_primary_shard_size else None}
        conditions = {name: value for name, value in conditions.items() if value is not None}
        return {**conditions, "min_docs": 1} if conditions else {}


UI_LANGUAGES = ("es", "ca", "en")


class UiConfig(Section):
    """How the web app speaks: ``language`` (else the browser's choice) and the ``timezone`` of its dates."""

    language: str | None = None
    timezone: str | None = None  # the schedule's when not set

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in UI_LANGUAGES:
            raise ValueError(f"expected one of {', '.join(UI_LANGUAGES)} (or leave it out to follow the browser), found {value!r}")
        return value

    _zone = field_validator("timezone")(classmethod(lambda cls, value: value if value is None else ScheduleConfig._known_timezone(value)))


class IndexConfig(Section):
    backend: str = "sqlite"
    # SQLite: the database file, relative to data_dir unless absolute.
    path: str = "listener.db"
    # SQLite: a text search ranks and counts at most this many of its newest matches (unset: 10,000; 0: every match).
    search_window: int | None = Field(default=None, ge=0)
    # Elasticsearch: where the node is (or a list of a cluster's nodes) and which alias to use.
    url: str | list[str] = "http://127.0.0.1:9200"
    index: str = "listener-posts"
    username_env: str = "LISTENER_ES_USERNAME"
    password_env: str = "LISTENER_ES_PASSWORD"
    api_key_env: str = "LISTENER_ES_API_KEY"
    # Elasticsearch: primary shards and replicas of each new index (replicas unset: 0 or 1, as nodes allow).
    shards: int = Field(default=1, ge=1, le=1024)
    replicas: int | None = Field(default=None, ge=0, le=32)
    rollover: RolloverConfig = RolloverConfig()
    # An age like 400d: posts published longer ago are erased daily by ``listener run`` (none: kept).
    retention: str | None = None

    @field_validator("url")
    @classmethod
    def _at_least_one_node(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("expected a node's address or a list of them, found an empty list")
        return value

    @field_validator("retention", mode="before")
    @classmethod
    def _retention_is_an_age(cls, value: Any) -> Any:
        if value is not None:
            parse_age(value)
        return value

    @property
    def retention_seconds(self) -> float | None:
        return None if self.retention is None else parse_age(self.retention)


class Config(Section):
    brand: EntityConfig = EntityConfig(name="Cinesa", aliases=["cinesa"], handles=["@cinesa"])
    competitors: list[EntityConfig] = []
    sector: SectorConfig = SectorConfig()
    languages: list[Literal["es", "ca", "en", "pt"]] = ["es", "ca", "en", "pt"]
    sources: list[SourceConfig] = []
    schedule: ScheduleConfig = ScheduleConfig()
    index: IndexConfig = IndexConfig()
    ui: UiConfig = UiConfig()
    data_dir: str = "data"
    # Extra sections owned by higher layers (alerts, web) are validated there.
    alerts: dict[str, Any] = {}
    web: dict[str, Any] = {}

    # Where the file was read from, for messages and relative paths.
    origin: str | None = Field(default=None, exclude=True)

    @property
    def entities(self) -> list[tuple[EntityConfig, str]]:
        """The brand and competitors with their roles, brand first."""
        return [(self.brand, "brand")] + [(c, "competitor") for c in self.competitors]

    @property
    def ui_timezone(self) -> str:
        """The time zone dates are shown in: ``ui.timezone``, else the schedule's."""
        return self.ui.timezone or self.schedule.timezone

    def data_path(self, *parts: str) -> Path:
        """A path under the data directory (``$LISTENER_DATA_DIR`` overrides ``data_dir``)."""
        base = Path(os.environ.get("LISTENER_DATA_DIR") or self.data_dir).expanduser()
        return base.joinpath(*parts)

    def platform_of(self, source: str) -> str | None:
        """The kind of the configured source labelled ``source`` (a post's ``source``), or None."""
        return next((s.kind for s in self.sources if s.label == source), None)

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.label == name:
                return source
        names = ", ".join(s.label for s in self.sources) or "none configured"
        raise ConfigError(f"no source named {name!r} in {self.origin or 'the configuration'} (sources: {names})")


def secret(variable: str) -> str | None:
    """Read a secret from the environment; empty means unset."""
    return os.environ.get(variable) or None


def load_config(path: str | os.PathLike | None) -> Config:
    """Load and validate a configuration file; ``None`` gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file", hint="Create one with `listener init`.")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc})")
    return parse_config(text, str(path))


def parse_config(text: str, origin: str = "<config>") -> Config:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{origin}{where}: not valid YAML ({problem})")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}, line 1: expected a mapping of sections, found {type(data).__name__}")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = _describe(exc, root, origin)
        raise ConfigError("; ".join(text for _, _, text in problems), problems=[(key, reason) for key, reason, _ in problems]) from None
    return config.model_copy(update={"origin": origin})


def _describe(exc: ValidationError, root: yaml.Node | None, origin: str) -> list[tuple[str, str, str]]:
    """Each mistake as ``(key, what is wrong, the whole message with file and line)``."""
    problems = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if not _is_union_tag(part)]
        line = line_of(root, loc)
        key = _format_loc(loc)
        where = f"{origin}, line {line}" if line else origin
        found = error.get("input")
        if error["type"] == "extra_forbidden":
            reason = f"unknown key {key!r}"
            parent = _model_for(loc[:-1])
            if parent is not None:
                reason += f" (valid keys: {', '.join(sorted(parent.model_fields))})"
            text = f"{where}: {reason}"
        elif error["type"] == "missing":
            reason = "missing required key"
            text = f"{where}: {key}: {reason}"
        else:
            reason = error["msg"].removeprefix("Value error, ")
            if "found" not in reason:
                reason += f", found {found!r}"
            text = f"{where}: {key}: {reason}"
        problems.append((key, reason, text))
    return problems


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in ("function-after", "function-before"))


def _format_loc(loc: list) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _model_for(loc: list) -> type[BaseModel] | None:
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)
        model = inner[0] if inner else annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def line_of(node: yaml.Node | None, loc: list, *, root_line: bool = True) -> int | None:
    """The 1-based line of the deepest node along ``loc`` that exists in the file
    (the document's first line when none does, unless ``root_line`` is false)."""
    line = node.start_mark.line + 1 if node is not None and root_line else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    line = key.start_mark.line + 1
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
