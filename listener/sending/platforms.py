"""Which platform adapter answers a post, and whether its credentials are set.

A post's ``source`` is the label of a configured source (its ``name``, else its
``kind``); the adapter is chosen by that source's kind and talks to its
``base_url`` (the crawl's API; a local server in tests). A source of a kind
without a reply API (RSS, Hacker News, app stores, web pages), or whose
credentials are not in the environment, is answered by hand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from listener.config import SourceConfig
from listener.records import Post
from listener.sending.base import Adapter
from listener.sending.bluesky import BlueskyAdapter
from listener.sending.discourse import DiscourseAdapter
from listener.sending.mastodon import MastodonAdapter
from listener.sending.reddit import RedditAdapter
from listener.sending.stackexchange import StackExchangeAdapter
from listener.sending.twitter import TwitterAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    "twitter": TwitterAdapter, "x": TwitterAdapter, "reddit": RedditAdapter, "mastodon": MastodonAdapter,
    "bluesky": BlueskyAdapter, "discourse": DiscourseAdapter, "stackexchange": StackExchangeAdapter,
}


@dataclass(frozen=True, slots=True)
class Route:
    """How a post can be answered: ``adapter`` when it can be sent from here, else ``reason`` why not."""

    adapter: Adapter | None
    reason: str = ""

    @property
    def sendable(self) -> bool:
        return self.adapter is not None


class Sender:
    """Finds the adapter for a post among the configured sources."""

    def __init__(self, sources: Sequence[SourceConfig] = (), environ: Mapping[str, str] | None = None):
        self.sources = {source.label: source for source in sources}
        self.environ = os.environ if environ is None else environ

    def route(self, post: Post) -> Route:
        source = self.sources.get(post.source)
        if source is None and post.source in ADAPTERS:
            source = SourceConfig(kind=post.source)  # a source named by its kind, with the kind's defaults
        if source is None:
            return Route(None, f"{post.source} is not a configured source")
        adapter_class = ADAPTERS.get(source.kind)
        if adapter_class is None:
            return Route(None, f"{source.kind} has no API to reply through")
        adapter = adapter_class(source, self.environ)
        if not adapter.base_url:
            return Route(None, f"the {source.label} source has no base_url")
        missing = adapter.missing()
        if missing:
            return Route(None, f"to send from here, set {', '.join(missing)}")
        return Route(adapter)
