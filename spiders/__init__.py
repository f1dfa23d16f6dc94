"""Sources: one Scrapy spider per kind of public source, run one crawl at a time.

``SOURCE_KINDS`` maps a kind name (the ``kind`` of a source in the
configuration) to its spider class; :func:`crawl` runs one source once in a
fresh process and returns a :class:`CrawlResult`; :func:`recheck` fetches the
threads of given posts again (``recheck.supports(source)`` says whether the
source's kind can).
"""

from __future__ import annotations

import importlib

from spiders.base import SourceSpider
from spiders.runner import CrawlResult, crawl, recheck

__all__ = ["SOURCE_KINDS", "CrawlResult", "SourceSpider", "crawl", "recheck"]

# One module per kind, named after it.
_KIND_MODULES = (
    "twitter", "reddit", "hackernews", "stackexchange", "mastodon",
    "bluesky", "rss", "discourse", "html", "appstore",
)


def _load_kinds() -> dict[str, type[SourceSpider]]:
    kinds: dict[str, type[SourceSpider]] = {}
    for name in _KIND_MODULES:
        module = importlib.import_module(f"spiders.{name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, SourceSpider) and value.kind == name:
                kinds[name] = value
    return kinds


SOURCE_KINDS: dict[str, type[SourceSpider]] = _load_kinds()
