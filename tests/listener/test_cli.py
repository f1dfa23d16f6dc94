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


def test_analyze_in_two_processes_prints_what_one_prints_with_line_numbers_of_the_whole_file(runner, config, tmp_path):
    texts = ["¿Alguien sabe si Cinesa abre hoy?", "Yelmo es caro", "hola", "Cinesa no me devuelve el dinero"]
    lines = [post_line(str(n), texts[n % len(texts)]) for n in range(700)]
    lines[600] = "{broken"
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(lines))
    one, two = (runner.invoke(main, ["analyze", "--config", str(config), "--workers", w, str(posts)]) for w in ("1", "2"))
    assert one.exit_code == two.exit_code == 2
    assert two.stdout == one.stdout and two.stderr == one.stderr
    assert len(two.stdout.splitlines()) == 699
    assert f"{posts}, line 601: malformed JSON" in two.stderr


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


def dead_letters(tmp_path) -> list[dict]:
    path = tmp_path / "data" / "dead-letter.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_ingest_writes_every_rejected_line_to_the_dead_letter_file(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join([post_line("1", "Cinesa uno"), "{broken", post_line("2", "Cinesa dos", created_at="0000-00-00")]))
    result = runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    assert result.exit_code == 1
    letters = dead_letters(tmp_path)
    assert [(d["origin"], d["line"]) for d in letters] == [(f"{posts}:2", "{broken"), (f"{posts}:3", post_line("2", "Cinesa dos", created_at="0000-00-00"))]
    assert letters[0]["reason"].startswith("malformed JSON") and letters[1]["reason"].startswith("field 'created_at'")
    assert all(d["at"].endswith("Z") for d in letters)
    assert "2 record(s) written to" in result.stderr and "--replay-dead-letter" in result.stderr


def test_replaying_the_dead_letter_file_indexes_what_was_fixed_and_keeps_the_rest(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join([post_line("1", "Cinesa uno", created_at="0000-00-00"), "{broken"]))
    runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    path = tmp_path / "data" / "dead-letter.jsonl"
    letters = dead_letters(tmp_path)
    letters[0]["line"] = post_line("1", "Cinesa uno arreglado")
    path.write_text("".join(json.dumps(d) + "\n" for d in letters))
    result = runner.invoke(main, ["ingest", "--config", str(config), "--replay-dead-letter"])
    assert result.exit_code == 1
    assert "read 2, indexed 1, rejected 1" in result.stdout and "1 record(s) still in" in result.stdout
    assert [(d["origin"], d["line"]) for d in dead_letters(tmp_path)] == [(f"{posts}:2", "{broken")]
    found = json.loads(runner.invoke(main, ["search", "--config", str(config), "arreglado", "--json"]).stdout)
    assert found["total"] == 1


def test_replaying_a_dead_letter_file_by_path_empties_it_when_all_succeed(runner, config, tmp_path):
    path = tmp_path / "elsewhere.jsonl"
    record = {"id": "test:9", "source": "test", "text": "Cinesa nueve", "created_at": "2026-11-20T10:00:00Z"}
    path.write_text(json.dumps({"record": record, "origin": "test", "reason": "not indexed (timed out)", "at": "2026-11-20T10:00:00Z"}) + "\n")
    result = runner.invoke(main, ["ingest", "--config", str(config), "--replay-dead-letter", str(path)])
    assert result.exit_code == 0, result.output
    assert "read 1, indexed 1, rejected 0" in result.stdout
    assert path.read_text() == ""


def test_ingest_warns_of_an_unknown_field_and_still_indexes_the_line(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(post_line("1", "Cinesa y sus entradas", colour="red"))
    result = runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    assert result.exit_code == 0, result.output
    assert "read 1, indexed 1, rejected 0, 1 warning(s)" in result.stdout
    assert f"warning: {posts}, line 1: unknown field 'colour'" in result.stderr
    assert dead_letters(tmp_path) == []


def test_ingest_survives_hostile_lines_without_a_traceback(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    deep = post_line("2", "x")[:-1] + ', "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [post_line("1", "Cinesa uno", created_at="10000-01-01T00:00:00Z"), deep,
             json.dumps(json.loads(post_line("3", "Cinesa \ud800 tres"))), post_line("4", "Cinesa cuatro")]
    posts.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())  # line 3 holds the JSON escape \ud800
    result = runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "read 4, indexed 2, rejected 2, 1 warning(s)" in result.stdout
    assert f"{posts}, line 1: field 'created_at'" in result.stderr
    assert f"{posts}, line 2: field 'extra': value nested more than" in result.stderr
    assert "Traceback" not in result.output


def test_an_nfc_search_finds_nfd_text_after_ingest(runner, config, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(post_line("1", "La cancio\u0301n de Cinesa"))
    runner.invoke(main, ["ingest", "--config", str(config), str(posts)])
    found = json.loads(runner.invoke(main, ["search", "--config", str(config), "canci\u00f3n", "--json"]).stdout)
    assert found["total"] == 1
