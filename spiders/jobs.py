"""Crawls run by scrapyd: ``scrapy crawl KIND -a request=JSON -s LISTENER_EVENTS=PATH``.

Scrapyd starts ``scrapy crawl`` with string arguments only, so a scrapyd job
carries the crawl request (``{config, source, cursors}``, as
:func:`spiders.crawl` sends its subprocess) as one ``request`` argument.
:class:`KindLoader` finds a spider by its kind's name, and :class:`EventFile`
writes the crawl's events to ``LISTENER_EVENTS`` as JSON lines, the same
events a local crawl writes to its pipe, for the scheduler to read back.
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from listener.config import Config, SourceConfig


def request_argument(config: Config, source: SourceConfig, cursors: dict[str, str]) -> str:
    """The ``request`` spider argument of a scrapyd job."""
    return json.dumps({"config": config.model_dump(mode="json"), "source": source.model_dump(mode="json"),
                       "cursors": dict(cursors)})


def from_request(request: str) -> dict:
    """A spider's keyword arguments from a ``request`` argument."""
    data = json.loads(request)
    return {"config": Config.model_validate(data["config"]), "source": SourceConfig.model_validate(data["source"]),
            "cursors": dict(data.get("cursors") or {})}


class KindLoader:
    """Spiders by kind (``scrapy list`` names them, ``scrapy crawl rss`` runs one)."""

    def __init__(self, settings=None):
        from spiders import SOURCE_KINDS

        self.kinds = SOURCE_KINDS

    @classmethod
    def from_settings(cls, settings) -> KindLoader:
        return cls(settings)

    def load(self, spider_name: str) -> type:
        try:
            return self.kinds[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self.kinds)

    def find_by_request(self, request) -> list[str]:
        return []


class EventFile:
    """Writes a crawl's events to the file named by ``LISTENER_EVENTS``, one JSON line each, as they come."""

    def __init__(self, path: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stream = open(self.path, "w", encoding="utf-8", buffering=1)

    @classmethod
    def from_crawler(cls, crawler) -> EventFile:
        from spiders.runner import connect_events, redacting

        path = crawler.settings.get("LISTENER_EVENTS")
        if not path:
            raise NotConfigured
        source = crawler.spider.source
        extension = cls(path)
        connect_events(crawler, source, redacting(source.model_dump(mode="json"), extension.write))
        crawler.signals.connect(extension.close, signal=signals.engine_stopped)
        return extension

    def write(self, **event) -> None:
        self._stream.write(json.dumps(event, default=str) + "\n")

    def close(self) -> None:
        self._stream.close()
