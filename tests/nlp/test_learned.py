"""The learned reader: its linear model, its features and its spaCy component."""

import json

import numpy as np
import pytest

from listener.config import Config, EntityConfig, SectorConfig
from nlp import Analyzer
from nlp.components.learned import LearnedReader, model_text
from nlp.learned.features import NgramFeatures
from nlp.learned.linear import LinearModel, ModelError
from nlp.learned.training import Row, TrainingOptions, fit, out_of_fold
from tests.factories import post

AIRLINE = Config(
    brand=EntityConfig(name="Vueling", aliases=["vueling"], handles=["@vueling"]),
    competitors=[EntityConfig(name="Ryanair", aliases=["ryanair"], handles=["@Ryanair"])],
    sector=SectorConfig(keywords=["vuelo", "maleta", "avión", "aeropuerto"]),
)
ROWS = [Row(f"r{i}", text, (), {"complaint": complaint})
        for i, (text, complaint) in enumerate([
            ("me han perdido la maleta otra vez", True), ("vuelo retrasado tres horas sin explicación", True),
            ("nadie contesta al teléfono, una vergüenza", True), ("qué bien el vuelo de hoy, gracias", False),
            ("mañana vuelo a Roma", False), ("el avión sale a las ocho", False)] * 4)]


def test_features_replace_links_handles_and_numbers_and_squeeze_repeated_letters():
    grams = NgramFeatures(char_ngrams=(0, 0))("@vueling 3 horas https://t.co/x siiiii")
    assert grams == ["w:_user_", "w:_num_", "w:horas", "w:_link_", "w:sii",
                     "w:_user_ _num_", "w:_num_ horas", "w:horas _link_", "w:_link_ sii"]


def test_a_saved_model_reads_as_the_one_that_was_fitted(tmp_path):
    model = fit(ROWS, ("complaint",), NgramFeatures(), TrainingOptions(min_count=1))
    model.save(tmp_path / "m")
    loaded = LinearModel.load(tmp_path / "m")
    texts = ["otra vez sin maleta", "", "vuelo a Roma"]
    assert np.allclose(model.probabilities(texts), loaded.probabilities(texts), atol=1e-3)
    assert loaded.probabilities(["me han perdido la maleta"])[0, 0] > loaded.probabilities(["mañana vuelo a Roma"])[0, 0]


def test_a_text_with_no_known_ngram_gets_the_bias_alone():
    model = fit(ROWS, ("complaint",), NgramFeatures(), TrainingOptions(min_count=1))
    [[probability]] = model.probabilities(["xxxx"])
    assert probability == pytest.approx(1 / (1 + np.exp(-model.bias[0])))


def test_a_broken_model_file_is_an_error_naming_it(tmp_path):
    (tmp_path / "m.json").write_text("{not json")
    (tmp_path / "m.npz").write_bytes(b"")
    with pytest.raises(ModelError, match="m: cannot read the model"):
        LinearModel.load(tmp_path / "m")


def test_cross_validation_predicts_each_row_with_a_model_that_did_not_see_it():
    probabilities = out_of_fold(ROWS, ("complaint",), NgramFeatures(), TrainingOptions(min_count=1, folds=3))
    assert probabilities.shape == (len(ROWS), 1) and not np.isnan(probabilities).any()


def test_mentions_are_read_as_their_role():
    analyzer = Analyzer(AIRLINE, reading="rules")
    [(_, (text, extra))] = analyzer.analyze_with_inputs([post("@Ryanair me ha perdido la maleta, me paso a Vueling")])
    assert text == " _competitor_  me ha perdido la maleta, me paso a  _brand_ "
    assert "r:brand" in extra and "r:competitor:handle" in extra and "r:sector" in extra


def test_model_text_keeps_text_without_mentions():
    assert model_text("hola", ()) == "hola"


def test_unknown_mode_is_an_error_naming_the_choices():
    with pytest.raises(ValueError, match="rules, learned, combined"):
        LearnedReader("magic")


def test_combined_reading_finds_a_complaint_the_lexicons_miss():
    text = post("@vueling cuarta vez que me cambiáis el vuelo esta semana")
    rules = Analyzer(AIRLINE, reading="rules").analyze(text)
    combined = Analyzer(AIRLINE).analyze(text)
    assert rules.intents == () and not rules.surface
    assert combined.intents == ("complaint",) and combined.customer_status == "customer" and combined.surface


def test_the_model_never_reads_intents_into_posts_outside_the_sector():
    analysis = Analyzer(AIRLINE).analyze(post("Qué asco de día, llueve y no funciona nada"))
    assert not analysis.sector and analysis.intents == () and not analysis.surface


def test_brand_own_posts_are_never_surfaced_by_the_model():
    analysis = Analyzer(AIRLINE).analyze(post("¿Te vienes a Roma? Vuelos desde 19 €", author="vueling"))
    assert not analysis.surface and analysis.intents == ()


def test_an_intent_naming_the_brand_is_surfaced_even_when_the_model_would_not(tmp_path):
    # A model that learned praise from posts it was told never to surface.
    texts = ["qué bien el vuelo de hoy, gracias", "el mejor vuelo en años", "me encantó el avión nuevo",
             "mañana vuelo a Roma", "el avión sale a las ocho", "vuelo a las diez desde Barajas"]
    rows = [Row(f"r{i}", text, (), {"praise": i % 6 < 3, "surface": False}) for i, text in enumerate(texts * 4)]
    fit(rows, ("praise", "surface"), NgramFeatures(), TrainingOptions()).save(tmp_path / "reading")
    analyzer = Analyzer(AIRLINE, models=str(tmp_path))
    ours, theirs = (analyzer.analyze(post(f"{name} qué bien el vuelo de hoy, gracias")) for name in ("@vueling", "@Ryanair"))
    assert ours.intents == ("praise",) and ours.surface
    assert theirs.intents == ("praise",) and not theirs.surface  # praise of a competitor is not the team's


def test_agreement_is_kappa_per_label(tmp_path):
    from nlp.agreement import agreement, kappa

    assert kappa(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == (1.0, 1.0)
    assert kappa(["a", "b", "a", "b"], ["a", "a", "b", "b"])[0] == pytest.approx(0.0)
    line = {"lang": "es", "labels": {"mentions": [], "sector": True, "intents": ["question"], "customer_status": "prospect", "surface": True}}
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps({"id": str(i), **line}) for i in range(3)))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps({"id": str(i), **line}) for i in range(3)))
    assert agreement(tmp_path / "a.jsonl", tmp_path / "b.jsonl")["question"] == (1.0, 1.0)
