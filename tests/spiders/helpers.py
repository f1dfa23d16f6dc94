"""Shared by the crawl tests: fixtures by kind, a source pointing at a local server, fast settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from listener.config import Config, SourceConfig
from spiders import CrawlResult, crawl

FIXTURES = Path(__file__).parent / "fixtures"

# No politeness delays in tests; retries wait milliseconds.
FAST = {
    "DOWNLOAD_DELAY": 0,
    "BACKOFF_BASE_DELAY": 0.05,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "INFO",
}


def fixture_bytes(kind: str, name: str) -> bytes:
    return (FIXTURES / kind / name).read_bytes()


def fixture(kind: str, name: str) -> Any:
    return json.loads(fixture_bytes(kind, name))


def local_source(kind: str, url: str, **values: Any) -> SourceConfig:
    """A source of ``kind`` at a local server: loopback allowed, a ten-year back-fill."""
    values.setdefault("allow_private", True)
    values.setdefault("backfill", "3650d")
    return SourceConfig(kind=kind, base_url=url, **values)


def run(source: SourceConfig, cursors: dict[str, str] | None = None, config: Config | None = None,
        timeout: float = 60, **settings: Any) -> CrawlResult:
    return crawl(config or Config(), source, cursors or {}, settings={**FAST, **settings}, timeout=timeout)
