"""Learning from the team: the labelled posts that ship with listener plus the feedback in the index.

``listener train`` trains the learned reader into the data directory
(``<data_dir>/model``); from then on ``analyze``, ``ingest``, ``run`` and
``serve`` read with it (:func:`models_folder`), and ``listener status`` says so
(:func:`model_in_use`). The bundled model serves until then. Like
:mod:`listener.pipeline`, this module knows both NLP and the index.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from listener.config import Config
from listener.feedback import effective_labels
from listener.index.base import BaseBackend

MODEL_FOLDER = "model"


def models_folder(config: Config) -> Path | None:
    """The data directory's trained models, or None when the bundled ones serve."""
    folder = config.data_path(MODEL_FOLDER)
    return folder if (folder / "reading.json").is_file() and (folder / "reading.npz").is_file() else None


def model_in_use(config: Config) -> str:
    """One line on which model reads posts: the data directory's (when and from what) or the bundled one."""
    folder = models_folder(config)
    if folder is None:
        return "bundled model (nlp/data/models), trained on labelled real posts"
    about = json.loads((folder / "reading.json").read_text(encoding="utf-8")).get("about", {})
    sources = ", ".join(f"{n} {name}" for name, n in sorted(about.get("sources", {}).items()))
    return f"trained model in {folder} ({about.get('rows', '?')} posts: {sources})"


def feedback_examples(backend: BaseBackend):
    """Every post with feedback as a training example of the labels the team gave."""
    from nlp.train import FEEDBACK_WEIGHT, Example, binary_labels

    examples = []
    for item in backend.iter_feedback():
        labels = binary_labels(effective_labels(item.feedback))
        if labels:
            examples.append(Example(item.post.id, item.post.text, labels, None, item.post.author, item.analysis.language,
                                    weight=FEEDBACK_WEIGHT, source="feedback"))
    return examples


@dataclass
class TrainingSummary:
    result: object                       # nlp.train.TrainingResult
    previous: dict[str, dict]            # label -> cross-validated scores of the model used before


def train(config: Config, backend: BaseBackend | None, labelled: list[Path] | None = None) -> TrainingSummary:
    """Train on labelled posts (default: the bundled ones) plus the index's feedback; write into the data directory."""
    from nlp.components.learned import model_path
    from nlp.learned.linear import LinearModel
    from nlp.train import train as train_models, training_examples

    before = models_folder(config)
    previous = LinearModel.load(model_path("combined", before)).about.get("cross_validated", {})
    examples = training_examples(labelled)
    if backend is not None:
        examples += feedback_examples(backend)
    folder = config.data_path(MODEL_FOLDER)
    # Written beside the folder in use, then swapped in: a reader never sees half a model.
    staging = folder.with_name(f"{MODEL_FOLDER}.new")
    shutil.rmtree(staging, ignore_errors=True)
    result = train_models(examples, config, staging)
    if folder.exists():
        kept = folder.with_name(f"{MODEL_FOLDER}.previous")
        shutil.rmtree(kept, ignore_errors=True)
        folder.rename(kept)
    staging.rename(folder)
    result.paths = {mode: folder / path.name for mode, path in result.paths.items()}
    return TrainingSummary(result, previous)
