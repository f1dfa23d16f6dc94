"""``listener erase`` as a user runs it: nothing of the author left in any file, and nothing of them comes back."""

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.cli import main
from listener.config import load_config
from listener.index import open_backend
from listener.state import open_state
from spiders.replay import ReplayServer, demo_sources

SECRET = "Zqxvorpal"  # a word only the erased author wrote
HANDLE = "ZqxAna"

CONFIG = """\
brand: {name: Cinesa, aliases: [cinesa], handles: ["@cinesa"]}
data_dir: DATA
"""


def line(native, text, author, days_ago=1, **extra):
    created = (datetime.now(timezone.utc) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"id": native, "source": "test", "text": text, "created_at": created, "author": author, **extra},
                      ensure_ascii=False)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "listener.yaml"
    path.write_text(CONFIG.replace("DATA", str(tmp_path / "data")))
    return path


@pytest.fixture
def posts(tmp_path) -> Path:
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join([
        line("1", f"{SECRET}: ¿Cinesa me devuelve el dinero de las entradas?", f"@{HANDLE}"),
        line("2", f"Hola @{HANDLE.lower()}, en Cinesa te devuelven el dinero en taquilla", "maria"),
        line("3", "¿Cinesa abre hoy?", "luis", replied_by=[HANDLE.upper(), "maria"]),
        # Rejected (no created_at), so it waits in the dead-letter file.
        json.dumps({"id": "4", "source": "test", "text": f"{SECRET} otra vez", "author": HANDLE}),
    ]) + "\n")
    return path


def ingest(runner, config, posts):
    return runner.invoke(main, ["ingest", "--config", str(config), str(posts)])


def data_files(config: Path) -> dict[str, bytes]:
    folder = load_config(config).data_path()
    return {path.name: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_erasure_leaves_no_byte_of_the_author_in_any_file_of_the_data_dir(runner, config, posts):
    ingest(runner, config, posts)
    listener = load_config(config)
    with open_state(listener) as state:  # what listener run keeps of a post: a re-check and alert keys
        state.schedule_recheck("test:1", "test", 0, datetime.now(timezone.utc))
        state.claim_alert("sla:test:1", "sla/post")
        state.claim_alert("prospect-batch:abc", "prospect", f"1 new prospect worth answering: @{HANDLE}")
    assert any(SECRET.encode() in content for content in data_files(config).values())

    result = runner.invoke(main, ["erase", "--config", str(config), "--author", HANDLE.lower()])

    assert result.exit_code == 0, result.output
    assert f"Erased 1 post(s) by {HANDLE.lower()}; the handle was replaced in 2 other post(s)" in result.output
    for name, content in data_files(config).items():
        assert SECRET.encode() not in content, name
        assert HANDLE.lower().encode() not in content.lower(), name


def test_others_posts_keep_their_text_with_the_handle_replaced(runner, config, posts):
    ingest(runner, config, posts)
    runner.invoke(main, ["erase", "--config", str(config), "--author", f"@{HANDLE}"])
    with open_backend(load_config(config)) as backend:
        assert backend.get("test:1") is None
        assert backend.get("test:2").post.text == "Hola @[erased], en Cinesa te devuelven el dinero en taquilla"
        assert backend.get("test:3").post.replied_by == ("maria",)


def test_a_later_ingest_skips_the_author_and_says_how_many(runner, config, posts):
    ingest(runner, config, posts)
    runner.invoke(main, ["erase", "--config", str(config), "--author", f"@{HANDLE.upper()}"])
    result = ingest(runner, config, posts)
    assert "skipped 1 by erased authors" in result.output
    with open_backend(load_config(config)) as backend:
        assert backend.posts_by(HANDLE) == []
        assert "@[erased]" in backend.get("test:2").post.text  # the re-read mention is redacted too


def test_the_suppression_list_does_not_name_the_people_on_it(runner, config, posts):
    ingest(runner, config, posts)
    result = runner.invoke(main, ["erase", "--config", str(config), "--author", HANDLE])
    path = load_config(config).data_path("suppressed-authors.txt")
    assert str(path) in result.output
    assert HANDLE.lower() not in path.read_text().lower() and len(path.read_text().split()) == 1


def test_a_model_trained_before_the_erasure_is_named_to_be_trained_again(runner, config, posts):
    ingest(runner, config, posts)
    model = load_config(config).data_path("model")
    model.mkdir(parents=True)
    (model / "reading.json").write_text("{}")
    result = runner.invoke(main, ["erase", "--config", str(config), "--author", HANDLE])
    assert f"The model in {model} was trained before: run `listener train`" in result.output


def test_erase_older_than_forgets_posts_past_the_age(runner, config, tmp_path):
    posts = tmp_path / "ages.jsonl"
    posts.write_text(line("old", "Cinesa hace años", "ana", days_ago=40) + "\n" + line("new", "Cinesa hoy", "ana") + "\n")
    ingest(runner, config, posts)
    result = runner.invoke(main, ["erase", "--config", str(config), "--older-than", "30d"])
    assert result.exit_code == 0, result.output
    assert "Erased 1 post(s) published before" in result.output
    with open_backend(load_config(config)) as backend:
        assert backend.get("test:old") is None and backend.get("test:new") is not None


def test_an_age_without_a_unit_is_refused_rather_than_read_as_seconds(runner, config):
    result = runner.invoke(main, ["erase", "--config", str(config), "--older-than", "30"])
    assert result.exit_code == 2
    assert "30d" in result.output


def test_erase_needs_an_author_or_an_age(runner, config):
    result = runner.invoke(main, ["erase", "--config", str(config)])
    assert result.exit_code == 2 and "--author" in result.output


# -- crawls after erasure ------------------------------------------------------


@pytest.fixture
def hackernews(tmp_path):
    with ReplayServer() as server:
        sources = [s for s in demo_sources(server.url) if s["kind"] == "hackernews"]
        path = tmp_path / "crawl.yaml"
        path.write_text(json.dumps({"brand": {"name": "Cinesa", "aliases": ["cinesa"]}, "sources": sources,
                                    "data_dir": str(tmp_path / "data")}))
        yield path, sources[0]["name"]


def test_a_crawl_after_erasure_skips_the_author_and_says_how_many(runner, hackernews, tmp_path):
    path, name = hackernews
    first = tmp_path / "first.jsonl"
    runner.invoke(main, ["crawl", "--config", str(path), "--source", name, "--output", str(first)])
    crawled = [json.loads(text) for text in first.read_text().splitlines()]
    author = crawled[0]["author"]
    theirs = sum(1 for post in crawled if post["author"] == author)
    load_config(path).data_path("state.db").unlink()  # cursors gone: the next crawl fetches the same posts

    runner.invoke(main, ["erase", "--config", str(path), "--author", f"@{author.upper()}"])
    second = tmp_path / "second.jsonl"
    result = runner.invoke(main, ["crawl", "--config", str(path), "--source", name, "--output", str(second)])

    again = [json.loads(text) for text in second.read_text().splitlines()]
    assert len(again) == len(crawled) - theirs and all(post["author"] != author for post in again)
    assert f"{name}: {len(again)} new post(s), {theirs} by erased authors skipped" in result.stderr
    assert not any(re.search(rf"(?<![\w@])@{re.escape(author)}\b", post["text"], re.I) for post in again)


# -- Elasticsearch -------------------------------------------------------------


@pytest.mark.elasticsearch
def test_on_elasticsearch_the_authors_text_is_gone_from_the_index_files(runner, es_url, tmp_path, posts):
    import uuid

    from elasticsearch import Elasticsearch

    alias = f"test-erase-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "es.yaml"
    config.write_text(CONFIG.replace("DATA", str(tmp_path / "data")) + f"index: {{backend: elasticsearch, url: '{es_url}', index: {alias}}}\n")
    client = Elasticsearch(es_url, request_timeout=60)
    try:
        ingest(runner, config, posts)
        client.indices.flush(index=alias)  # the author's text is in a segment on disk
        (index,) = client.indices.get_alias(name=alias).body
        shard_files = _shard_files(client, index)
        if shard_files is not None:
            assert any(SECRET.encode() in content for content in shard_files.values())

        result = runner.invoke(main, ["erase", "--config", str(config), "--author", f"@{HANDLE.lower()}"])

        assert result.exit_code == 0, result.output
        assert f"Erased 1 post(s) by @{HANDLE.lower()}; the handle was replaced in 2 other post(s)" in result.output
        stats = client.indices.stats(index=index)["_all"]["primaries"]["docs"]
        assert stats == {**stats, "count": 2, "deleted": 0}  # no deleted or replaced copy kept in a segment
        assert client.search(index=alias, query={"match": {"text": SECRET}})["hits"]["total"]["value"] == 0
        for name, content in (_shard_files(client, index) or {}).items():
            assert SECRET.encode() not in content and HANDLE.lower().encode() not in content.lower(), name
    finally:
        names = list(client.indices.get(index=f"{alias}-0*", expand_wildcards="all").body)
        if names:
            client.indices.delete(index=",".join(names))
        client.indices.delete_index_template(name=alias)
        client.close()


def _shard_files(client, index: str) -> dict[str, bytes] | None:
    """The index's files on the node's disk, when the node runs on this machine (else None)."""
    uuid = client.indices.get_settings(index=index)[index]["settings"]["index"]["uuid"]
    nodes = client.nodes.info(metric="settings")["nodes"].values()
    folders = [Path(node["settings"]["path"]["data"]) / "indices" / uuid for node in nodes]
    if not any(folder.is_dir() for folder in folders):
        return None
    return {str(p): p.read_bytes() for folder in folders for p in folder.rglob("*") if p.is_file()}
