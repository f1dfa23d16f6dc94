"""Train the learned reader from labelled real posts and the team's feedback.

Rows come from ``nlp/data/labelled/*.jsonl`` (ids and labels of real public
posts; texts from their sources, see :mod:`nlp.corpus`) and from feedback
stored in the index. Each row is read by the rules first, with the
configuration it was labelled against, so that the model learns from the same
inputs it will see at run time. Two models are written: ``reading`` (n-grams and
the rules' findings, used by default) and ``reading-text`` (n-grams alone).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from listener.config import Config, load_config
from listener.jsonl import parse_post
from listener.records import INTENTS
from nlp.components.learned import model_path
from nlp.corpus import HELDOUT, SOURCES, labelled_files, labelled_ids, read_labelled, texts_of
from nlp.learned.features import NgramFeatures
from nlp.learned.training import Row, TrainingOptions, best_threshold, fit, out_of_fold, scores

logger = logging.getLogger(__name__)

LABELS = ("sector", *INTENTS, "customer", "prospect", "surface")
FEATURES = NgramFeatures(word_ngrams=(1, 2), char_ngrams=(3, 6))
# Labels whose mistakes cost more one way: a "prospect" the team writes to as a stranger must be one.
MIN_PRECISION = {"prospect": 0.85}
# A feedback row counts this many times a labelled row: the team's word on its own brand weighs more.
FEEDBACK_WEIGHT = 3.0
# Weak labels: a US-airline tweet its annotators called negative (at least this sure) is a complaint,
# and a weak row counts half a hand-labelled one. Chosen by cross-validation, see DATA.md.
WEAK_CONFIDENCE = 0.65
WEAK_WEIGHT = 0.5


class TrainingError(ValueError):
    """Training cannot run: the message says what is missing."""


@dataclass
class Example:
    """A post with (some of) its labels, before the rules have read it."""

    id: str
    text: str
    labels: dict[str, bool]
    config: str | None = None           # the configuration file it was labelled against
    author: str | None = None
    lang: str | None = None
    weight: float = 1.0
    source: str = "labelled"


def binary_labels(labels: dict) -> dict[str, bool]:
    """LABELS.md labels (``intents``, ``customer_status``...) as the model's yes/no labels; absent ones stay unknown."""
    out: dict[str, bool] = {}
    if "sector" in labels:
        out["sector"] = bool(labels["sector"])
    if "intents" in labels:
        out.update({intent: intent in labels["intents"] for intent in INTENTS})
    for intent in INTENTS:
        if isinstance(labels.get(intent), bool):
            out[intent] = labels[intent]
    if labels.get("customer_status") in ("customer", "prospect", "unknown"):
        out["customer"] = labels["customer_status"] == "customer"
        out["prospect"] = labels["customer_status"] == "prospect"
    if "surface" in labels:
        out["surface"] = bool(labels["surface"])
    return out


def labelled_examples(files: Iterable[Path] | None = None) -> list[Example]:
    examples = []
    for path in files if files is not None else labelled_files():
        for data in read_labelled(path):
            examples.append(Example(data["id"], data["text"], binary_labels(data["labels"]), data.get("config"),
                                    data.get("author"), data.get("lang")))
    return examples


def weak_examples(exclude: set[str]) -> list[Example]:
    """The US-airline tweets not in ``exclude``, each with one label: complaint when its sentiment is negative.

    Only tweets whose sentiment the annotators were sure of (``WEAK_CONFIDENCE``)
    count; none when the source's file is not here.
    """
    tweets = texts_of("us-airline", with_columns=("airline_sentiment", "airline_sentiment_confidence"))
    if tweets is None:
        return []
    examples = []
    for native, (text, author, columns) in tweets.items():
        post_id = f"us-airline:{native}"
        if post_id in exclude or float(columns["airline_sentiment_confidence"] or 0) < WEAK_CONFIDENCE:
            continue
        examples.append(Example(post_id, text, {"complaint": columns["airline_sentiment"] == "negative"},
                                "config/us-airline.yaml", author, "en", WEAK_WEIGHT, "weak"))
    return examples


def training_examples(files: Iterable[Path] | None = None) -> list[Example]:
    """The labelled posts of ``files``; by default the bundled ones plus the weak labels of the posts nobody labelled."""
    examples = labelled_examples(files)
    if files is None:
        kept_apart = labelled_ids([*labelled_files(), *([HELDOUT] if HELDOUT.is_file() else [])])
        examples += weak_examples(kept_apart)
    return examples


def _resolve(config: str | None, default: Config, cache: dict) -> Config:
    if not config:
        return default
    if config not in cache:
        candidates = [Path(config), *(parent / config for parent in Path(__file__).resolve().parents)]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise TrainingError(f"configuration {config!r} of the labelled posts not found")
        cache[config] = load_config(found)
    return cache[config]


def rows_of(examples: Sequence[Example], default: Config) -> list[Row]:
    """Each example read by the rules with its own configuration: the model's text and rule features."""
    from nlp.analyzer import Analyzer

    by_config: dict[int, tuple[Config, list[int]]] = {}
    cache: dict = {}
    for position, example in enumerate(examples):
        config = _resolve(example.config, default, cache)
        by_config.setdefault(id(config), (config, []))[1].append(position)
    rows: list[Row | None] = [None] * len(examples)
    for config, positions in by_config.values():
        analyzer = Analyzer(config, reading="rules")
        posts = [_post(examples[p]) for p in positions]
        for position, (_, (text, extra)) in zip(positions, analyzer.analyze_with_inputs(posts)):
            example = examples[position]
            rows[position] = Row(example.id, text, extra, example.labels, example.weight)
    return rows  # type: ignore[return-value]


def _post(example: Example):
    return parse_post({"id": example.id, "source": example.id.partition(":")[0] or "labelled", "text": example.text,
                       "created_at": "2020-01-01T00:00:00Z", "author": example.author}, "<training>", 0)


@dataclass
class TrainingResult:
    rows: int
    sources: dict[str, int]
    cross_validated: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # model -> label -> scores
    paths: dict[str, Path] = field(default_factory=dict)


def train(examples: Sequence[Example], default: Config, folder: Path, options: TrainingOptions = TrainingOptions()) -> TrainingResult:
    """Fit both models on every example, with thresholds and scores from k-fold cross-validation."""
    if not examples:
        raise TrainingError("no labelled posts to train on (is the training data folder here? see DATA.md)")
    rows = rows_of(examples, default)
    sources: dict[str, int] = {}
    for example in examples:
        sources[example.source] = sources.get(example.source, 0) + 1
    result = TrainingResult(len(rows), sources)
    # Thresholds and scores come from the posts people labelled, not from weak labels.
    scored = np.asarray([example.source != "weak" for example in examples])
    for mode, use_rules in (("combined", True), ("learned", False)):
        model_rows = rows if use_rules else [Row(r.id, r.text, (), r.labels, r.weight) for r in rows]
        probabilities = out_of_fold(model_rows, LABELS, FEATURES, options, scored=scored)
        thresholds, cv = {}, {}
        for column, label in enumerate(LABELS):
            known = np.asarray([label in r.labels for r in model_rows]) & scored
            if not known.any():
                continue
            y = np.asarray([bool(r.labels.get(label)) for r in model_rows])[known]
            p = probabilities[known, column]
            thresholds[label] = best_threshold(y, p, MIN_PRECISION.get(label))
            cv[label] = scores(y, p >= thresholds[label])
        about = {"rows": len(rows), "sources": sources, "cross_validated": cv, "rule_features": use_rules}
        model = fit(model_rows, LABELS, FEATURES, options, thresholds, about)
        path = model_path(mode, folder)
        model.save(path)
        result.cross_validated[mode] = cv
        result.paths[mode] = path
        logger.info("train: %s model, %d rows, %d terms -> %s", mode, len(rows), len(model.vocabulary), path)
    return result


def train_language(folder: Path, options: TrainingOptions = TrainingOptions(c=20.0, class_weight=None)) -> TrainingResult:
    """The language model from TweetLID's training tweets (es, ca, en, pt, gl, eu), cross-validated."""
    from nlp import language

    tweets = texts_of("tweetlid", with_columns=("lang",))
    if tweets is None:
        raise TrainingError(f"the TweetLID training tweets ({SOURCES['tweetlid'].path}) are not in any training data folder")
    clues = language.LanguageClues()
    rows = []
    for native, (text, _, columns) in tweets.items():
        if columns["lang"] in language.TAUGHT:
            cleaned = language.clean(text)
            rows.append(Row(f"tweetlid:{native}", cleaned, tuple(clues(cleaned)[0]),
                            {lang: columns["lang"] == lang for lang in language.TAUGHT}))
    probabilities = out_of_fold(rows, language.TAUGHT, language.FEATURES, options)
    truth = np.asarray([[r.labels[lang] for lang in language.TAUGHT] for r in rows])
    best = probabilities.argmax(axis=1)
    cv = {lang: scores(truth[:, k], best == k) for k, lang in enumerate(language.TAUGHT)}
    about = {"rows": len(rows), "sources": {"tweetlid": len(rows)}, "cross_validated": cv}
    model = fit(rows, language.TAUGHT, language.FEATURES, options, about=about)
    path = Path(folder) / "language"
    model.save(path)
    return TrainingResult(len(rows), {"tweetlid": len(rows)}, {"language": cv}, {"language": path})


def main(argv: list[str]) -> None:
    """``python -m nlp.train FOLDER``: rebuild the bundled models (language and both readers) into FOLDER."""
    import sys

    if len(argv) != 1:
        sys.exit("usage: python -m nlp.train FOLDER")
    folder = Path(argv[0])
    for result in (train_language(folder), train(training_examples(), Config(), folder)):
        for model, cv in result.cross_validated.items():
            print(f"{model}: {result.rows} posts")
            for label, score in cv.items():
                print(f"  {label:<24} P {score['p']:.3f}  R {score['r']:.3f}  F1 {score['f1']:.3f}  n {score['n']}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
