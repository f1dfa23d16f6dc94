"""Two ways of learning to read posts, trained on the same labelled rows and scored on the held-out set.

    python benchmarks/compare_readers.py [--epochs 10]

- ``linear``: listener's reader (:mod:`nlp.learned`), logistic regression over word
  1-2 grams and character 3-6 grams plus the rules' findings, thresholds from
  cross-validation;
- ``textcat``: spaCy's own ``textcat_multilabel`` (``TextCatBOW.v3``, word 1-2
  grams) on the same text with the rules' findings as extra tokens, threshold 0.5.

Both read the same inputs (mentions replaced by their role). It prints F1 per
label on ``tests/data/heldout/heldout.jsonl`` (all posts and Spanish ones),
training time and posts/s, and ends with one line per approach.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.config import Config  # noqa: E402
from nlp.corpus import HELDOUT  # noqa: E402
from nlp.learned.training import fit, scores  # noqa: E402
from nlp.train import FEATURES, LABELS, labelled_examples, rows_of, training_examples  # noqa: E402

INTENT_LABELS = [label for label in LABELS if label != "sector"]


def textcat_text(row) -> str:
    return row.text + " " + " ".join(f.replace(":", "_") for f in row.extra)


def train_textcat(rows, epochs: int, seed: int = 0):
    import spacy
    from spacy.training import Example

    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("xx")
    nlp.add_pipe("textcat_multilabel", config={"model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False,
                                                         "ngram_size": 2, "no_output_layer": False, "length": 262144}})
    # A label a row does not have (the weak rows have only "complaint") is missing, which textcat leaves out of its loss.
    examples = [Example.from_dict(nlp.make_doc(textcat_text(r)), {"cats": {label: float(r.labels[label]) for label in INTENT_LABELS if label in r.labels}})
                for r in rows]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(examples)
        for start in range(0, len(examples), 64):
            nlp.update(examples[start:start + 64], sgd=optimizer, drop=0.2)
    return nlp


def report(name: str, predicted: np.ndarray, truth: np.ndarray, spanish: np.ndarray) -> dict:
    out = {}
    for column, label in enumerate(INTENT_LABELS):
        out[label] = (scores(truth[:, column], predicted[:, column])["f1"], scores(truth[spanish, column], predicted[spanish, column])["f1"])
    print(f"{name:8}" + "".join(f"{label[:10]:>12}" for label in INTENT_LABELS))
    print(f"{'  all':8}" + "".join(f"{out[label][0]:12.3f}" for label in INTENT_LABELS))
    print(f"{'  es':8}" + "".join(f"{out[label][1]:12.3f}" for label in INTENT_LABELS))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    default = Config()
    train = rows_of(training_examples(), default)
    heldout_examples = labelled_examples([HELDOUT])
    heldout = rows_of(heldout_examples, default)
    truth = np.asarray([[bool(r.labels.get(label)) for label in INTENT_LABELS] for r in heldout])
    spanish = np.asarray([e.lang == "es" for e in heldout_examples])
    print(f"training rows {len(train)}, held-out rows {len(heldout)} ({int(spanish.sum())} Spanish)")

    from nlp.components.learned import model_path
    from nlp.learned.linear import LinearModel

    start = time.perf_counter()
    thresholds = LinearModel.load(model_path("combined")).thresholds  # chosen by cross-validation at training
    linear = fit(train, LABELS, FEATURES, thresholds=thresholds)
    linear_train = time.perf_counter() - start
    start = time.perf_counter()
    probabilities = linear.probabilities([r.text for r in heldout], [r.extra for r in heldout])
    linear_rate = len(heldout) / (time.perf_counter() - start)
    columns = [LABELS.index(label) for label in INTENT_LABELS]
    linear_predicted = np.asarray([[p >= linear.thresholds.get(label, 0.5) for label, p in zip(LABELS, row)] for row in probabilities])[:, columns]

    start = time.perf_counter()
    textcat = train_textcat(train, args.epochs)
    textcat_train = time.perf_counter() - start
    start = time.perf_counter()
    docs = list(textcat.pipe(textcat_text(r) for r in heldout))
    textcat_rate = len(heldout) / (time.perf_counter() - start)
    textcat_predicted = np.asarray([[doc.cats[label] >= 0.5 for label in INTENT_LABELS] for doc in docs])

    ours = report("linear", linear_predicted, truth, spanish)
    theirs = report("textcat", textcat_predicted, truth, spanish)
    for name, result, seconds, rate in (("linear", ours, linear_train, linear_rate), ("textcat", theirs, textcat_train, textcat_rate)):
        print(f"{name}: es complaint={result['complaint'][1]:.3f} question={result['question'][1]:.3f} surface={result['surface'][1]:.3f} "
              f"prospect={result['prospect'][1]:.3f} train_s={seconds:.1f} posts/s={rate:.0f}")


if __name__ == "__main__":
    main()
