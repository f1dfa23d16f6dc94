"""``listener crawl`` and ``listener sources`` against the local replay server."""

import json

import pytest
import yaml
from click.testing import CliRunner

from listener.cli import main
from spiders.replay import ReplayServer, demo_sources


@pytest.fixture
def replay():
    with ReplayServer() as server:
        yield server


@pytest.fixture
def config(tmp_path, replay):
    hackernews = [s for s in demo_sources(replay.url) if s["kind"] == "hackernews"]
    data = {"brand": {"name": "Cinesa", "aliases": ["cinesa"]}, "sources": hackernews, "data_dir": str(tmp_path / "data")}
    path = tmp_path / "listener.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, hackernews[0]["name"]


def test_sources_lists_every_kind_with_a_summary():
    result = CliRunner().invoke(main, ["sources"])
    kinds = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"twitter", "reddit", "hackernews", "stackexchange", "mastodon", "bluesky", "rss", "discourse", "html", "appstore"} <= set(kinds)


def test_crawl_writes_posts_and_a_rerun_fetches_nothing_old(config, tmp_path):
    path, name = config
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    runner = CliRunner()
    result = runner.invoke(main, ["crawl", "--config", str(path), "--source", name, "--once", "--output", str(first)])
    assert result.exit_code == 0, result.output
    written = first.read_text()
    posts = [json.loads(line) for line in written.splitlines()]
    assert len(posts) >= 3 and all(p["id"].startswith(f"{name}:") for p in posts)
    result = runner.invoke(main, ["crawl", "--config", str(path), "--source", name, "--once", "--output", str(first)])
    assert result.exit_code == 0, result.output
    assert first.read_text() == written
    assert f"{name}: 0 new post(s)" in result.stderr
    # Another output keeps its own cursors: it gets every post again.
    result = runner.invoke(main, ["crawl", "--config", str(path), "--source", name, "--once", "--output", str(second)])
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(line)["id"] for line in second.read_text().splitlines()) == sorted(p["id"] for p in posts)


def test_crawl_of_an_unknown_source_names_the_configured_ones(config):
    path, name = config
    result = CliRunner().invoke(main, ["crawl", "--config", str(path), "--source", "nope"])
    assert result.exit_code == 2
    assert f"no source named 'nope'" in result.output and name in result.output
