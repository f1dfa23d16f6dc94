import pytest

from listener.config import SourceConfig, load_config
from spiders.replay import DATA, ReplayServer, demo_sources, find_exchange
from tests.spiders.helpers import run

FOLDERS = sorted(p.name for p in DATA.iterdir() if (p / "source.json").is_file())
# The demo corpus's folders are crawled and checked post by post in test_demo_recordings.
KINDS = [folder for folder in FOLDERS if not folder.endswith("-demo")]
CONFIG = load_config("config/demo.yaml")


def _source(replay, folder):
    return SourceConfig(**next(s for s in demo_sources(replay.url) if s["base_url"].endswith(f"/{folder}")))


def test_exchanges_match_path_segments_and_exact_query_values():
    exchanges = [{"path": "/a/*/b", "query": {"page": "1", "since": None}, "body": "one"}, {"path": "/a/*/b", "body": "any"}]
    assert find_exchange(exchanges, "/a/7/b", {"page": ["1"]})["body"] == "one"
    assert find_exchange(exchanges, "/a/7/b", {"page": ["1"], "since": ["9"]})["body"] == "any"
    assert find_exchange(exchanges, "/a/7/c", {}) is None


def test_demo_sources_point_at_the_server_under_their_folder():
    sources = demo_sources("http://127.0.0.1:8123")
    assert {s["kind"] for s in sources} >= {"hackernews", "reddit", "stackexchange", "mastodon"}
    assert sorted(s["base_url"].rsplit("/", 1)[1] for s in sources) == FOLDERS
    assert all(s["base_url"].startswith("http://127.0.0.1:8123/") and s["allow_private"] for s in sources)


@pytest.mark.parametrize("kind", KINDS)
def test_replayed_source_yields_posts_without_errors(kind):
    with ReplayServer() as replay:
        result = run(_source(replay, kind), config=CONFIG)
    assert result.posts
    assert result.errors == []
    assert result.cursors


@pytest.mark.parametrize("kind", KINDS)
def test_replayed_rerun_from_the_cursors_fetches_nothing_old(kind):
    with ReplayServer() as replay:
        first = run(_source(replay, kind), config=CONFIG)
        second = run(_source(replay, kind), cursors=first.cursors, config=CONFIG)
    assert second.posts == []
    assert second.errors == []
