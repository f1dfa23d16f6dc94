"""Shared fixtures. The Elasticsearch node starts once per session, on first use."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def es_url():
    """URL of a real Elasticsearch node: ``$LISTENER_ES_URL`` or one started here.

    Without a node the test is skipped with the reason, except under
    ``LISTENER_REQUIRE_ES=1`` (as in CI), where it fails.
    """
    from tests.es_node import NodeUnavailable, start_node

    try:
        node = start_node()
    except NodeUnavailable as exc:
        if os.environ.get("LISTENER_REQUIRE_ES") == "1":
            pytest.fail(f"Elasticsearch is required (LISTENER_REQUIRE_ES=1) but unavailable: {exc}", pytrace=False)
        pytest.skip(f"no Elasticsearch node: {exc}")
    yield node.url
    node.stop()
