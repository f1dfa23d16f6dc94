"""The ``listener`` command as a user runs it."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.cli import main

CONFIG = """\
brand: {name: Cinesa, aliases: [cinesa], handles: ["@cinesa"], hashtags: ["#Cinesa"]}
competitors:
  - {name: Yelmo Cines, aliases: [yelmo cines, yelmo], handles: ["@yelmocines"]}
sector: {keywords: [cine, entradas]}
data_dir: DATA
"""


def post_line(native: str, text: str, **extra) -> str:
    data = {"id": native, "source": "test", "text": text, "created_at": "2026-11-20T10:00:00Z", "author": "ana", **extra}
    return json.dumps(data, ensure_ascii=False)


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "listener.yaml"
    path.write_text(CONFIG.replace("DATA", str(tmp_path / "data")))
    return path


@pytest.fixture
def runner():
    return CliRunner()


def test_init_writes_a_valid_example(runner, tmp_path):
    target = tmp_path / "mine.yaml"
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert "brand:" in target.read_text()


def test_init_refuses_to_overwrite(runner, tmp_path):
    target = tmp_path / "mine.yaml"
    target.write_text("keep me")
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert target.read_text() == "keep me"


def test_analyze_prints_one_line_per_post_in_order(runner, config):
    lines = [post_line("1", "¿Alguien sabe si Cinesa abre hoy?"), post_line("2", "Yelmo es caro"), post_line("3", "hola")]
    result = runner.invoke(main, ["analyze", "--config", str(config), "-"], input="\n".join(lines))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["test:1", "test:2", "test:3"]
    analysis = out[0]["analysis"]
    assert set(analysis) == {"language", "mentions", "sector", "intents", "customer_status", "lead_score", "reasons", "surface", "greeting"}
    assert analysis["mentions"][0]["entity"] == "Cinesa"


def test_ingest_indexes_good_lines_and_reports_bad_ones(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join([post_line("1", "Cinesa no me devuelve el dinero"), "{broken", post_line("2", "¿Qué cine me recomendáis?")]))
    result = runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    assert result.exit_code == 1
    assert "read 3, indexed 2, rejected 1" in result.stdout
    assert f"{posts}, line 2: malformed JSON" in result.stderr
    searched = runner.invoke(main, ["search", "--config", str(config), "dinero", "--json"])
    assert json.loads(searched.stdout)["total"] == 1


def test_ingest_reads_standard_input(runner, config):
    result = runner.invoke(main, ["ingest", "--config", str(config), "-"], input=post_line("1", "Cinesa y sus entradas"))
    assert result.exit_code == 0, result.output
    assert "read 1, indexed 1, rejected 0" in result.stdout


def test_ingest_twice_is_idempotent(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(post_line("1", "Cinesa y sus entradas"))
    for _ in range(2):
        assert runner.invoke(main, ["ingest", "--config", str(config), str(posts)]).exit_code == 0
    result = runner.invoke(main, ["search", "--config", str(config), "--json"])
    assert json.loads(result.stdout)["total"] == 1


def test_search_shows_facet_counts(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join([post_line("1", "Cinesa caro"), post_line("2", "Yelmo caro"), post_line("3", "Cinesa barato")]))
    runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    result = runner.invoke(main, ["search", "--config", str(config), "caro", "--facet", "entity"])
    assert result.exit_code == 0, result.output
    assert "2 post(s)" in result.stdout
    assert "entity: Cinesa (1), Yelmo Cines (1)" in result.stdout


def test_search_with_unknown_facet_is_one_clear_sentence(runner, config):
    result = runner.invoke(main, ["search", "--config", str(config), "x", "--facet", "colour"])
    assert result.exit_code == 2
    assert "unknown field 'colour'" in result.output
    assert "Traceback" not in result.output


def test_bad_config_is_one_sentence_not_a_traceback(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("brand: {name: X}\nsurprise: 1\n")
    result = runner.invoke(main, ["inbox", "--config", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}, line 2: unknown key 'surprise'" in result.output
    assert "Traceback" not in result.output


def test_inbox_lists_what_to_answer(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(post_line("1", "¿Alguien sabe si Cinesa abre hoy?", url="https://x.com/ana/status/1"))
    runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    result = runner.invoke(main, ["inbox", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Alguien sabe si Cinesa abre hoy" in result.stdout
    assert "https://x.com/ana/status/1" in result.stdout


def test_erase_removes_an_authors_posts(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join([post_line("1", "Cinesa uno"), post_line("2", "Cinesa dos", author="luis")]))
    runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    result = runner.invoke(main, ["erase", "--config", str(config), "--author", "ana"])
    assert "Erased 1 post(s) by ana" in result.stdout
    remaining = json.loads(runner.invoke(main, ["search", "--config", str(config), "--json"]).stdout)
    assert [h["post"]["author"] for h in remaining["hits"]] == ["luis"]


def test_demo_crawls_the_replayed_sources_and_shows_the_inbox(runner, tmp_path):
    result = runner.invoke(main, ["demo", "--data-dir", str(tmp_path / "demo"), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "hackernews-replay" in result.stdout and "error(s)" not in result.stdout
    assert "Inbox:" in result.stdout and "score" in result.stdout
    assert (tmp_path / "demo" / "listener.db").exists()
