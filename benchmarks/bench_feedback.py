"""What the team's feedback teaches: F1 on 150 real posts of a brand before and after feedback on 150 others.

    python benchmarks/bench_feedback.py [--brand-file train-en] [--posts 150]

The product's own path, end to end, in a temporary data directory: the posts
of one labelled set (default: the English tweets to US airlines, a brand and a
language the other labelled sets do not cover) are split by id into a feedback
half and an evaluation half. The reader is trained on every other labelled set
(``listener train --no-feedback``), the evaluation half scored; then the
feedback half is indexed, its labels stored as the team's feedback
(``listener feedback``), the reader trained again (``listener train``) and the
evaluation half scored once more. The last line is
``feedback: complaint before=<F1> after=<F1> lift=<+F1> surface before=... after=...``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.config import load_config  # noqa: E402
from listener.index import open_backend  # noqa: E402
from listener.learning import models_folder, train  # noqa: E402
from listener.pipeline import Pipeline  # noqa: E402
from listener.records import INTENTS, Feedback, Post  # noqa: E402
from nlp.corpus import labelled_files, read_labelled  # noqa: E402
from nlp.learned.training import scores  # noqa: E402
from nlp.train import binary_labels  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LABELS = ("complaint", "question", "prospect", "surface")


def predicted(analysis) -> dict[str, bool]:
    return {"complaint": "complaint" in analysis.intents, "question": "question" in analysis.intents,
            "prospect": analysis.customer_status == "prospect", "surface": analysis.surface}


def score(pipeline: Pipeline, rows: list[tuple[Post, dict]]) -> dict[str, dict]:
    import numpy as np

    results = [predicted(a) for _, a in pipeline.analyze([post for post, _ in rows])]
    out = {}
    for label in LABELS:
        truth = np.asarray([bool(labels.get(label)) for _, labels in rows])
        guess = np.asarray([r[label] for r in results])
        out[label] = scores(truth, guess)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brand-file", default="train-en", help="Labelled files whose name starts with this are the brand's posts.")
    parser.add_argument("--posts", type=int, default=150, help="Posts in each half.")
    args = parser.parse_args()
    brand_files = [p for p in labelled_files() if p.name.startswith(args.brand_file)]
    others = [p for p in labelled_files() if p not in brand_files]
    lines = [line for path in brand_files for line in read_labelled(path)]
    if len(lines) < 2 * args.posts:
        sys.exit(f"only {len(lines)} posts of {args.brand_file} have their text here (see DATA.md); need {2 * args.posts}")
    lines.sort(key=lambda line: zlib.crc32(line["id"].encode()))
    feedback_half, evaluation_half = lines[:args.posts], lines[args.posts:2 * args.posts]
    config_file = ROOT / lines[0]["config"]
    created = datetime(2026, 11, 20, tzinfo=timezone.utc)

    def post(line) -> Post:
        return Post(id=line["id"], source=line["id"].partition(":")[0], url="", author=line.get("author"),
                    text=line["text"], created_at=created)

    def team_labels(line) -> dict:
        """The labelled line as the team would give it in the inbox (LABELS.md names)."""
        given = line["labels"]
        return {"mentions": [m["entity"] for m in given["mentions"]], "sector": given["sector"],
                **{intent: intent in given["intents"] for intent in INTENTS},
                "customer_status": given["customer_status"], "surface": given["surface"]}

    evaluation = [(post(line), binary_labels(line["labels"])) for line in evaluation_half]
    with tempfile.TemporaryDirectory() as folder:
        text = config_file.read_text(encoding="utf-8") + f"\ndata_dir: {folder}\n"
        (Path(folder) / "listener.yaml").write_text(text, encoding="utf-8")
        config = load_config(Path(folder) / "listener.yaml")
        print(f"brand posts: {len(lines)} from {', '.join(p.name for p in brand_files)}; "
              f"training on {', '.join(p.name for p in others)}")
        train(config, None, others)
        before = score(Pipeline(config, analyzer=None), evaluation)
        with open_backend(config) as backend:
            pipeline = Pipeline(config, backend)
            pipeline.ingest([post(line) for line in feedback_half])
            for line in feedback_half:
                backend.add_feedback(line["id"], Feedback(labels=team_labels(line), by="bench", at=created))
            backend.refresh()
            train(config, backend, others)
        assert models_folder(config) is not None
        after = score(Pipeline(config, analyzer=None), evaluation)
    print(f"{'label':<12}{'F1 before':>10}{'F1 after':>10}{'lift':>8}   (n={args.posts} evaluated, {args.posts} with feedback)")
    for label in LABELS:
        print(f"{label:<12}{before[label]['f1']:10.3f}{after[label]['f1']:10.3f}{after[label]['f1'] - before[label]['f1']:+8.3f}")
    print(f"feedback: complaint before={before['complaint']['f1']:.3f} after={after['complaint']['f1']:.3f} "
          f"lift={after['complaint']['f1'] - before['complaint']['f1']:+.3f} "
          f"surface before={before['surface']['f1']:.3f} after={after['surface']['f1']:.3f}")


if __name__ == "__main__":
    main()
