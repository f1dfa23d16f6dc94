"""How much two independent labelling passes agree: Cohen's kappa and raw agreement per label.

    python -m nlp.agreement tests/data/heldout/pass-a.jsonl tests/data/heldout/pass-b.jsonl

Both files label the same posts in the same order (``id``, ``lang``, ``labels``
as in LABELS.md). Intents are scored one by one; ``mentions`` as the set of
(entity, role) pairs.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from listener.records import INTENTS

LABELS = ("mentions", "sector", *INTENTS, "customer_status", "surface", "language")


def flatten(line: dict) -> dict[str, str]:
    labels = line["labels"]
    flat = {"mentions": sorted((m["entity"], m["role"]) for m in labels["mentions"]), "sector": labels["sector"],
            "customer_status": labels["customer_status"], "surface": labels["surface"], "language": line.get("lang")}
    flat.update({intent: intent in labels["intents"] for intent in INTENTS})
    return {label: str(value) for label, value in flat.items()}


def kappa(first: list[str], second: list[str]) -> tuple[float, float]:
    """Cohen's kappa and the share of posts both passes gave the same value."""
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[v] * counts_b[v] for v in counts_a.keys() | counts_b.keys()) / (n * n)
    return ((observed - expected) / (1 - expected) if expected < 1 else 1.0), observed


def agreement(path_a: str | Path, path_b: str | Path) -> dict[str, tuple[float, float]]:
    read = lambda path: [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]  # noqa: E731
    a, b = read(path_a), read(path_b)
    if [x["id"] for x in a] != [x["id"] for x in b]:
        raise ValueError(f"{path_a} and {path_b} do not label the same posts in the same order")
    flat_a, flat_b = [flatten(x) for x in a], [flatten(x) for x in b]
    return {label: kappa([x[label] for x in flat_a], [x[label] for x in flat_b]) for label in LABELS}


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: python -m nlp.agreement PASS_A.jsonl PASS_B.jsonl")
    print(f"{'label':<24}{'kappa':>7}{'agree':>7}")
    for label, (k, observed) in agreement(*argv).items():
        print(f"{label:<24}{k:7.3f}{observed:7.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
