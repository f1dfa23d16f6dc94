"""``listener feedback``: the team's feedback from a JSON Lines file into the index."""

import json

import pytest
from click.testing import CliRunner

from listener.cli import main
from listener.config import load_config
from listener.index import open_backend
from tests.factories import doc

CONFIG = """\
brand: {name: Cinesa, aliases: [cinesa]}
competitors:
  - {name: Yelmo Cines, aliases: [yelmo]}
sector: {keywords: [cine, entradas]}
data_dir: DATA
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "listener.yaml"
    path.write_text(CONFIG.replace("DATA", str(tmp_path / "data")))
    return path


@pytest.fixture
def posts(config):
    docs = [doc("¿Cinesa abre hoy?"), doc("Yelmo no me devuelve el dinero")]
    with open_backend(load_config(config)) as backend:
        assert not backend.upsert(docs).failed
    return [d.id for d in docs]


def feedback_line(post_id: str, **labels) -> str:
    return json.dumps({"id": post_id, "labels": labels, "by": "ana", "at": "2026-11-20T10:00:00Z"})


def run(config, *args, input=None):
    return CliRunner().invoke(main, ["feedback", "--config", str(config), *args], input=input)


def stored_feedback(config, post_id):
    with open_backend(load_config(config)) as backend:
        return [(f.by, dict(f.labels)) for f in backend.get(post_id).feedback]


def test_every_line_is_stored_with_its_post(config, posts, tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text("\n".join([feedback_line(posts[0], complaint=False, customer_status="prospect"),
                               feedback_line(posts[1], mentions=["Yelmo Cines"], complaint=True)]))
    result = run(config, str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "stored 2, already stored 0, rejected 0, unknown posts 0"
    assert stored_feedback(config, posts[1]) == [("ana", {"mentions": ("Yelmo Cines",), "complaint": True})]


def test_bad_lines_are_named_by_file_line_and_field_and_the_good_ones_stored(config, posts, tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text("\n".join([
        feedback_line(posts[0], colour=True),
        "{broken",
        feedback_line(posts[0], mentions=["Cinsea"]),
        feedback_line(posts[1], praise="yes"),
        feedback_line(posts[1], praise=False),
    ]))
    result = run(config, str(path))
    assert result.exit_code == 1
    assert "stored 1, already stored 0, rejected 4" in result.stdout
    assert f"{path}, line 1: field 'labels.colour': unknown label" in result.stderr
    assert f"{path}, line 2: malformed JSON" in result.stderr
    assert f"{path}, line 3: field 'labels.mentions': 'Cinsea' is not a configured entity" in result.stderr
    assert f"{path}, line 4: field 'labels.praise': expected true or false, found 'yes'" in result.stderr
    assert "Traceback" not in result.output
    assert stored_feedback(config, posts[1]) == [("ana", {"praise": False})]


def test_feedback_on_posts_the_index_does_not_have_names_them_and_fails(config, posts):
    lines = "\n".join([feedback_line("twitter:999", surface=False), feedback_line(posts[0], surface=True)])
    result = run(config, "-", input=lines)
    assert result.exit_code == 1
    assert "stored 1, already stored 0, rejected 0, unknown posts 1" in result.stdout
    assert "unknown post: twitter:999 (line 1)" in result.stderr


def test_loading_the_same_file_again_stores_nothing_twice(config, posts):
    line = feedback_line(posts[0], sector=True)
    run(config, "-", input=line)
    result = run(config, "-", input=line)
    assert result.exit_code == 0
    assert "stored 0, already stored 1" in result.stdout
    assert len(stored_feedback(config, posts[0])) == 1


def test_a_missing_file_is_one_sentence(config, posts, tmp_path):
    result = run(config, str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "nope.jsonl: no such file" in result.output and "Traceback" not in result.output


def test_ingesting_the_post_again_keeps_its_feedback(config, tmp_path):
    post = json.dumps({"id": "1", "source": "test", "text": "Cinesa no me devuelve el dinero", "created_at": "2026-11-20T09:00:00Z"})
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", "--config", str(config), "-"], input=post).exit_code == 0
    assert run(config, "-", input=feedback_line("test:1", churn=False)).exit_code == 0
    assert runner.invoke(main, ["ingest", "--config", str(config), "-"], input=post).exit_code == 0
    assert stored_feedback(config, "test:1") == [("ana", {"churn": False})]
    searched = json.loads(runner.invoke(main, ["search", "--config", str(config), "dinero", "--json"]).stdout)
    assert searched["hits"][0]["feedback"] == [{"labels": {"churn": False}, "by": "ana", "at": "2026-11-20T10:00:00Z"}]
