"""Score the analyzer against a labelled JSON Lines file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from listener.jsonl import parse_post
from listener.records import INTENTS


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


@dataclass
class Report:
    counts: dict = field(default_factory=dict)

    def add(self, label: str, lang: str, gold: set, predicted: set) -> None:
        for key in (("all", label), (lang, label)):
            c = self.counts.setdefault(key, Counts())
            c.tp += len(gold & predicted)
            c.fp += len(predicted - gold)
            c.fn += len(gold - predicted)

    @property
    def scores(self) -> dict:
        return {f"{lang}/{label}": {"p": c.precision, "r": c.recall, "f1": c.f1} for (lang, label), c in self.counts.items()}

    def format(self) -> str:
        lines = [f"{'lang':<6}{'label':<24}{'P':>7}{'R':>7}{'F1':>7}"]
        for (lang, label), c in sorted(self.counts.items(), key=lambda kv: (kv[0][0] != "all", kv[0])):
            lines.append(f"{lang:<6}{label:<24}{c.precision:7.3f}{c.recall:7.3f}{c.f1:7.3f}")
        return "\n".join(lines)


def evaluate(analyzer, path) -> Report:
    report = Report()
    path = Path(path)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        data = json.loads(line)
        labels = data["labels"]
        post = parse_post({k: v for k, v in data.items() if k != "lang"}, str(path), number)
        analysis = analyzer.analyze(post)
        lang = data.get("lang", "other")
        report.add("mentions", lang, {(m["entity"], m["role"]) for m in labels["mentions"]},
                   {(m.entity, m.role) for m in analysis.mentions})
        report.add("sector", lang, {True} & {labels["sector"]}, {True} & {analysis.sector})
        for intent in INTENTS:
            report.add(intent, lang, {True} & {intent in labels["intents"]}, {True} & {intent in analysis.intents})
        report.add("surface", lang, {True} & {labels["surface"]}, {True} & {analysis.surface})
    return report
