"""Score the analyzer against a labelled JSON Lines file: P/R/F1 per label and language.

Each line is a post (the fields of :mod:`listener.jsonl`) plus ``labels``::

    {"id": ..., "source": "dev", "created_at": ..., "text": ..., "author": ..., "author_name": ...,
     "lang": "es", "labels": {"mentions": [{"entity": "Cinesa", "role": "brand"}], "sector": true,
     "intents": ["question"], "customer_status": "prospect", "surface": true}}

Optional fields: ``config``, a configuration file for that line (relative to the
working directory or to a folder above the labelled file) that overrides the
analyzer's own; ``split`` (``tune`` or ``holdout``), reported separately.
The labelled ``lang`` is never shown to the analyzer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from listener.config import load_config
from listener.errors import ListenerError
from listener.jsonl import parse_post
from listener.records import CUSTOMER_STATUSES, INTENTS

LABELS = ("mentions", "sector", *INTENTS, "customer", "prospect", "surface", "language")
ALL = "all"


class EvaluationError(ListenerError):
    """A labelled file that cannot be scored: the message names the file, line and field."""


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass
class Report:
    """Counts per (group, label); a group is ``all``, a split or a language."""

    counts: dict[tuple[str, str], Counts] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)
    splits: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def add(self, groups: tuple[str, ...], label: str, gold: set, predicted: set) -> None:
        for group in groups:
            counts = self.counts.setdefault((group, label), Counts())
            counts.tp += len(gold & predicted)
            counts.fp += len(predicted - gold)
            counts.fn += len(gold - predicted)

    @property
    def scores(self) -> dict[str, dict[str, float]]:
        """``{"all/mentions": {"p": .., "r": .., "f1": .., "support": ..}, "es/question": ..}``"""
        return {
            f"{group}/{label}": {"p": c.precision, "r": c.recall, "f1": c.f1, "support": c.support}
            for (group, label), c in self.counts.items()
        }

    def format(self) -> str:
        groups = sorted({g for g, _ in self.counts}, key=lambda g: (g != ALL, g not in self.splits, g))
        lines = []
        for group in groups:
            lines.append(f"{group} ({self.posts.get(group, 0)} posts)")
            lines.append(f"  {'label':<24}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}")
            for label in LABELS:
                c = self.counts.get((group, label))
                if c is not None and (c.support or c.fp):
                    lines.append(f"  {label:<24}{c.precision:7.3f}{c.recall:7.3f}{c.f1:7.3f}{c.support:6d}")
        if self.errors:
            lines.append(f"{len(self.errors)} line(s) could not be read: " + "; ".join(self.errors[:5]))
        return "\n".join(lines)


def evaluate(analyzer, path: str | Path) -> Report:
    """Analyse every labelled post of ``path`` and compare with its labels."""
    path = Path(path)
    report = Report()
    lines = _read(path, report)
    analyzers = {None: analyzer}
    by_config: dict[str | None, list[tuple[dict, object]]] = {}
    for data, post in lines:
        key = _config_path(data.get("config"), path, analyzer)
        if key not in analyzers:
            analyzers[key] = type(analyzer)(load_config(key))
        by_config.setdefault(key, []).append((data, post))
    for key, items in by_config.items():
        analyses = analyzers[key].analyze_many([post for _, post in items])
        for (data, _), analysis in zip(items, analyses):
            _score(report, data, analysis)
    return report


def _read(path: Path, report: Report) -> list[tuple[dict, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"{path}: cannot read the labelled file ({exc})") from None
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            labels = data["labels"]
            labels["mentions"], labels["intents"], labels["customer_status"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            report.errors.append(f"line {number}: {exc.__class__.__name__} {exc}")
            continue
        post = parse_post({k: v for k, v in data.items() if k != "lang"}, str(path), number)
        if not hasattr(post, "text"):
            report.errors.append(str(post))
            continue
        lines.append((data, post))
    return lines


def _config_path(value: str | None, data_path: Path, analyzer) -> str | None:
    if not value:
        return None
    candidates = [Path(value)] + [parent / value for parent in data_path.resolve().parents]
    for candidate in candidates:
        if candidate.is_file():
            resolved = str(candidate.resolve())
            origin = getattr(analyzer.config, "origin", None)
            if origin and Path(origin).resolve() == Path(resolved):
                return None
            return resolved
    raise EvaluationError(f"{data_path}: configuration {value!r} not found (looked in the working directory and above the file)")


def _score(report: Report, data: dict, analysis) -> None:
    labels = data["labels"]
    lang = data.get("lang") or "other"
    if data.get("split"):
        report.splits.add(data["split"])
    groups = tuple(g for g in (ALL, data.get("split"), lang) if g)
    for group in groups:
        report.posts[group] = report.posts.get(group, 0) + 1
    report.add(groups, "mentions", {(m["entity"], m["role"]) for m in labels["mentions"]},
               {(m.entity, m.role) for m in analysis.mentions})
    report.add(groups, "sector", _flag(labels.get("sector")), _flag(analysis.sector))
    for intent in INTENTS:
        report.add(groups, intent, _flag(intent in labels["intents"]), _flag(intent in analysis.intents))
    for status in CUSTOMER_STATUSES[:2]:
        report.add(groups, status, _flag(labels["customer_status"] == status), _flag(analysis.customer_status == status))
    report.add(groups, "surface", _flag(labels.get("surface")), _flag(analysis.surface))
    report.add(groups, "language", {lang}, {analysis.language})


def _flag(value) -> set:
    return {True} if value else set()
