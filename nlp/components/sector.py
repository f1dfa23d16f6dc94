"""Is the post about the sector? Configured keywords in any inflection, or a company named."""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from nlp.attributes import reading, register
from nlp.patterns import PhraseSet
from nlp.text import compact, fold

VOWELS = "aeiou"


def keyword_pattern(keyword: str) -> str:
    """``película`` -> ``pelicul\\w{0,4}`` (películas, peliculón); short words take only a plural."""
    words = [compact(w) for w in fold(keyword).split() if compact(w)]
    if not words:
        return ""
    last = words[-1]
    stem = last
    if stem.endswith("es") and len(stem) > 5:
        stem = stem[:-2]
    elif stem.endswith("s") and len(stem) > 4:
        stem = stem[:-1]
    if stem[-1] in VOWELS and len(stem) > 5:
        stem = stem[:-1]
    tail = re.escape(stem) + r"\w{0,4}" if len(stem) >= 5 else re.escape(last) + r"(?:s|es)?"
    return r"[^\w]+".join([*(re.escape(w) for w in words[:-1]), tail])


def by_first_letter(patterns: list[str]) -> str:
    """Whole-word patterns as one expression whose branches start with a letter: the engine skips fast."""
    groups: dict[str, list[str]] = {}
    for pattern in patterns:
        first = pattern[0] if pattern[0].isalnum() else ""
        groups.setdefault(first, []).append(pattern[len(first):])
    branches = [f"{first}(?<!\\w.)(?:{'|'.join(rest)})" for first, rest in sorted(groups.items()) if first]
    if "" in groups:
        branches.append(f"(?<!\\w)(?:{'|'.join(groups[''])})")
    return f"(?:{'|'.join(branches)})(?!\\w)"


class SectorMatcher:
    def __init__(self, keywords: list[str], exclude: list[str]):
        patterns = sorted({p for p in (keyword_pattern(k) for k in keywords) if p}, key=len, reverse=True)
        self.regex = re.compile(by_first_letter(patterns)) if patterns else None
        self.exclude = PhraseSet(exclude)

    def __call__(self, doc: Doc) -> Doc:
        current, _, folded = reading(doc)
        terms = []
        if self.regex is not None:
            terms = [match.span() for match in self.regex.finditer(folded)]
            if terms and self.exclude:
                excluded = self.exclude.spans(folded)
                terms = [(start, end) for start, end in terms if not any(s < end and start < e for s, e in excluded)]
        current.sector_terms = tuple(terms)
        current.sector = bool(terms) or bool(current.mentions)
        return doc


@Language.factory("listener_sector", default_config={"keywords": [], "exclude": []})
def make_sector_matcher(nlp: Language, name: str, keywords: list[str], exclude: list[str]) -> SectorMatcher:
    register()
    return SectorMatcher(keywords, exclude)
