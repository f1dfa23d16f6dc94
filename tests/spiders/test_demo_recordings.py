"""The ``*-demo`` recordings give back the demo corpus through the real spiders."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from listener.demo import DEMO, PLACEHOLDER_TOKENS, demo_config
from listener.records import parse_time
from spiders import crawl
from spiders.replay import DATA, ReplayServer, demo_sources
from tests.spiders.helpers import FAST

# The demo source that reads each of the corpus's sources.
LABELS = {"twitter-demo": "twitter", "reddit-demo": "reddit", "mastodon-demo": "mastodon", "discourse-demo": "forum",
          "rss-demo": "rss", "appstore-demo": "appstore", "bluesky-demo": "bluesky"}
BLUESKY_POST = re.compile(r"at://did:plc:[a-z2-7]+/app\.bsky\.feed\.post/")


def corpus() -> list[dict]:
    lines = DEMO.joinpath("posts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def native(post: dict) -> str:
    """The native id the corpus post gets from its API: its number in that API's shape."""
    source, number = post["id"].split(":", 1)
    return {"reddit": f"t3_{number}", "forum": f"{number}/1", "rss": post["url"]}.get(source, number)


def seen(post) -> tuple[str, dict]:
    label, native_id = post.id.split(":", 1)
    return f"{LABELS[label]}:{BLUESKY_POST.sub('', native_id)}", {
        "text": post.text,
        "author": post.author.lstrip("@"),
        "created_at": post.created_at,
        "reply_count": post.reply_count,
        "replied_by": {h.lstrip("@") for h in post.replied_by},
    }


def expected(post: dict) -> tuple[str, dict]:
    source = post["id"].split(":", 1)[0]
    return f"{source}:{native(post)}", {
        "text": post["text"],
        "author": post["author"],
        "created_at": parse_time(post["created_at"]),
        "reply_count": post.get("reply_count"),
        "replied_by": set(post.get("replied_by") or ()),
    }


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """Each demo source crawled once, then once more from the cursors it left."""
    with pytest.MonkeyPatch.context() as patch, ReplayServer() as replay:
        for name, value in PLACEHOLDER_TOKENS.items():
            patch.setenv(name, value)
        sources = [s for s in demo_sources(replay.url) if s["name"] in LABELS]
        config = demo_config(tmp_path_factory.mktemp("demo"), sources)
        with ThreadPoolExecutor(max_workers=len(config.sources)) as pool:
            first = list(pool.map(lambda s: crawl(config, s, {}, settings=FAST, timeout=60), config.sources))
            again = list(pool.map(lambda s, r: crawl(config, s, r.cursors, settings=FAST, timeout=60),
                                  config.sources, first))
    return {s.label: (one, two) for s, one, two in zip(config.sources, first, again)}


def test_every_kind_of_the_corpus_has_a_demo_source(crawls):
    assert set(crawls) == set(LABELS)


def test_demo_sources_crawl_without_errors(crawls):
    assert {label: first.errors for label, (first, _) in crawls.items()} == {label: [] for label in crawls}


def test_demo_sources_bring_back_the_corpus_with_its_threads(crawls):
    posts = [post for first, _ in crawls.values() for post in first.posts]
    assert len(posts) == len(corpus())
    assert dict(seen(p) for p in posts) == dict(expected(p) for p in corpus())


def test_rerun_from_the_cursors_brings_no_post(crawls):
    assert all(first.cursors for first, _ in crawls.values())
    assert {label: (again.posts, again.errors) for label, (_, again) in crawls.items()} == {
        label: ([], []) for label in crawls}


def test_recordings_are_what_the_script_writes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_demo_recordings", DATA / "make_demo_recordings.py")
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, script)  # its dataclasses look their module up
    spec.loader.exec_module(script)
    for folder in script.folders(script.load_corpus()):
        written = folder.write(tmp_path)
        committed = DATA / folder.name
        assert sorted(p.name for p in written.iterdir()) == sorted(p.name for p in committed.iterdir())
        for path in written.iterdir():
            assert path.read_bytes() == (committed / path.name).read_bytes(), f"{folder.name}/{path.name} is stale"
