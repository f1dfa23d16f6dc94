"""``listener train``: the learned reader trained on labelled real posts plus the team's feedback."""

import json
from itertools import islice

import pytest
from click.testing import CliRunner

from listener.cli import main
from listener.config import load_config
from listener.index import open_backend
from listener.learning import models_folder
from listener.pipeline import load_analyzer
from nlp.corpus import available, labelled_files
from tests.factories import doc

CONFIG = """\
brand: {name: Vueling, aliases: [vueling], handles: ["@vueling"]}
competitors:
  - {name: Ryanair, aliases: [ryanair], handles: ["@Ryanair"]}
sector: {keywords: [vuelo, maleta, avión]}
data_dir: DATA
"""
# Posts the team will mark: a complaint the reader is unlikely to know, worded as the team's customers write.
MARKED = ["@vueling el bocadillo de tortilla llegó frío otra vez", "@vueling el bocadillo de tortilla estaba frío",
          "@vueling otro bocadillo de tortilla frío en el vuelo de hoy"]

pytestmark = pytest.mark.skipif(not available("es-airline"), reason="the Spanish airline tweets (shared/data) are not here")


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """A small labelled file: 120 real posts of the bundled set, so that training takes seconds."""
    source = next(p for p in labelled_files() if p.name.startswith("train-es-1"))
    path = tmp_path_factory.mktemp("labelled") / "small.jsonl"
    path.write_text("".join(islice(source.open(encoding="utf-8"), 120)), encoding="utf-8")
    return path


def make_config(folder):
    path = folder / "listener.yaml"
    path.write_text(CONFIG.replace("DATA", str(folder / "data")))
    return path


def index_and_mark(config_path):
    docs = [doc(text) for text in MARKED]
    with open_backend(load_config(config_path)) as backend:
        assert not backend.upsert(docs).failed
    lines = [json.dumps({"id": d.id, "labels": {"complaint": True, "surface": True, "customer_status": "customer"},
                         "by": "ana"}) for d in docs]
    result = CliRunner().invoke(main, ["feedback", "--config", str(config_path), "-"], input="\n".join(lines))
    assert result.exit_code == 0, result.output


def train(config_path, labelled, *args):
    return CliRunner().invoke(main, ["train", "--config", str(config_path), "--labelled", str(labelled), *args])


def complaint_probability(config_path, text):
    analyzer = load_analyzer(load_config(config_path))
    [(analysis, _)] = analyzer.analyze_with_inputs([doc(text).post])
    reader = analyzer.pipelines["es"].get_pipe("listener_learned")
    inputs = reader.inputs(analyzer.pipelines["es"](text))
    return reader.model.predict([inputs[0]], [inputs[1]])[0]["complaint"], analysis


def test_train_prints_cross_validated_scores_and_writes_the_model_into_the_data_dir(tmp_path, labelled):
    config_path = make_config(tmp_path)
    index_and_mark(config_path)
    result = train(config_path, labelled)
    assert result.exit_code == 0, result.output
    assert "trained on 123 posts: 3 feedback, 120 labelled" in result.output
    assert "F1 change" in result.output and "complaint" in result.output
    folder = models_folder(load_config(config_path))
    assert folder == tmp_path / "data" / "model"
    assert load_analyzer(load_config(config_path)).models == str(folder)


def test_status_says_which_model_reads_posts(tmp_path, labelled):
    config_path = make_config(tmp_path)
    status = CliRunner().invoke(main, ["status", "--config", str(config_path)])
    assert "Reading with: bundled model" in status.output
    assert train(config_path, labelled, "--no-feedback").exit_code == 0
    status = CliRunner().invoke(main, ["status", "--config", str(config_path)])
    assert f"Reading with: trained model in {tmp_path / 'data' / 'model'} (120 posts: 120 labelled)" in status.output


def test_the_same_inputs_give_the_same_model(tmp_path, labelled):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    for config_path in (make_config(tmp_path / "a"), make_config(tmp_path / "b")):
        assert train(config_path, labelled, "--no-feedback").exit_code == 0
    for name in ("reading.json", "reading.npz", "reading-text.json", "reading-text.npz"):
        assert (tmp_path / "a" / "data" / "model" / name).read_bytes() == (tmp_path / "b" / "data" / "model" / name).read_bytes()


def test_feedback_teaches_the_reader_what_the_team_marked(tmp_path, labelled):
    config_path = make_config(tmp_path)
    assert train(config_path, labelled, "--no-feedback").exit_code == 0
    text = "@vueling el bocadillo de tortilla sigue frío"
    before, _ = complaint_probability(config_path, text)
    index_and_mark(config_path)
    assert train(config_path, labelled).exit_code == 0
    after, analysis = complaint_probability(config_path, text)
    assert after > before + 0.2
    assert "complaint" in analysis.intents


def test_training_without_labelled_posts_is_a_clear_error(tmp_path):
    config_path = make_config(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = train(config_path, empty, "--no-feedback")
    assert result.exit_code == 2
    assert "no labelled posts to train on" in result.output
