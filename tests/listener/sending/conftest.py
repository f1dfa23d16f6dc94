"""The fake platforms every sending test posts to."""

import pytest

from tests.listener.sending.fakes import FakePlatforms


@pytest.fixture
def fake():
    """Local fakes of X, Reddit, Mastodon, Bluesky, Discourse and Stack Exchange on one loopback port."""
    server = FakePlatforms()
    yield server
    server.close()
