"""Score the analyzer against a labelled JSON Lines file: P/R/F1 per label and language.

Each line is a post (the fields of :mod:`listener.jsonl`) plus ``labels``::

    {"id": ..., "source": "dev", "created_at": ..., "text": ..., "author": ..., "author_name": ...,
     "lang": "es", "labels": {"mentions": [{"entity": "Cinesa", "role": "brand"}], "sector": true,
     "intents": ["question"], "customer_status": "prospect", "surface": true}}

Optional fields: ``config``, a configuration file for that line (relative to the
working directory or to a folder above the labelled file) that overrides the
analyzer's own; ``split`` (``tune`` or ``holdout``), reported separately.
The labelled ``lang`` is never shown to the analyzer. A line without ``text``
names a real post of a known source by id (see :mod:`nlp.corpus`): its text is
read from that source's file, and the line is skipped (and counted) when the
file is not here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from listener.config import load_config
from listener.errors import ListenerError
from listener.jsonl import parse_post
from listener.records import CUSTOMER_STATUSES, INTENTS
from nlp.corpus import text_of

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
    missing: int = 0   # lines whose text is in a source file that is not here

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
        if self.missing:
            lines.append(f"{self.missing} line(s) skipped: their source file is not here (see DATA.md)")
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
            analyzers[key] = analyzer.with_config(load_config(key))
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
    unlabelled = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            report.errors.append(f"line {number}: not JSON ({exc})")
            continue
        labels = data.get("labels") if isinstance(data, dict) else None
        if not isinstance(labels, dict):
            unlabelled += 1
            report.errors.append(f"line {number}: field 'labels' is missing or not an object")
            continue
        absent = [name for name in ("mentions", "intents", "customer_status") if name not in labels]
        if absent:
            report.errors.append(f"line {number}: field 'labels' lacks {', '.join(absent)}")
            continue
        if "text" not in data and "id" in data:
            found = text_of(str(data["id"]))
            if found is None:
                report.missing += 1
                continue
            data = {"source": str(data["id"]).partition(":")[0], "created_at": "2020-01-01T00:00:00Z",
                    "author": found[1], **data, "text": found[0]}
        post = parse_post({k: v for k, v in data.items() if k not in ("lang", "labels", "config", "split")}, str(path), number)
        if not hasattr(post, "text"):
            report.errors.append(str(post))
            continue
        lines.append((data, post))
    if unlabelled and not lines and not report.missing:
        raise EvaluationError(f"{path}: no line has labels; `listener eval` scores a labelled file "
                              "(each line a post plus \"labels\", see LABELS.md)")
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


def compare(reports: dict[str, Report]) -> str:
    """Several readings of the same file side by side: F1 (precision/recall) per label, group and mode."""
    first = next(iter(reports.values()))
    groups = sorted({g for g, _ in first.counts}, key=lambda g: (g != ALL, g not in first.splits, g))
    width = 20
    lines = []
    for group in groups:
        lines.append(f"{group} ({first.posts.get(group, 0)} posts)   F1 (P/R)")
        lines.append(f"  {'label':<24}" + "".join(f"{name:>{width}}" for name in reports) + f"{'n':>6}")
        for label in LABELS:
            cells, support = [], 0
            for report in reports.values():
                c = report.counts.get((group, label))
                if c is None:
                    cells.append(f"{'-':>{width}}")
                    continue
                support = max(support, c.support)
                cells.append(f"{c.f1:.3f} ({c.precision:.2f}/{c.recall:.2f})".rjust(width))
            if support:
                lines.append(f"  {label:<24}" + "".join(cells) + f"{support:6d}")
    for name, report in reports.items():
        if report.errors or report.missing:
            lines.append(f"{name}: " + report.format().splitlines()[-1])
            break
    return "\n".join(lines)
