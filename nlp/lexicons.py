"""Load the per-language lexicons in ``nlp/data`` (see ``nlp/data/README.md``)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from nlp.patterns import PhraseSet
from nlp.text import fold

DATA = Path(__file__).parent / "data"
LANGUAGES = ("es", "ca", "en", "pt")
# Posts in none of LANGUAGES are read with the English phrases.
OTHER = "other"
FALLBACK = "en"

PHRASE_SECTIONS = (
    "question_start", "question", "rhetorical", "info_seeking",
    "recommendation", "complaint", "churn", "praise", "thanks", "sarcasm",
    "customer", "prospect", "experience", "place_before", "company_before", "spam", "context", "which",
)
WORD_SECTIONS = ("markers", "common_words", "negation")


class LexiconError(ValueError):
    pass


class _Loader(yaml.SafeLoader):
    """YAML without yes/no booleans: ``no`` in a word list is the word "no"."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Lexicon:
    """The phrases and words of one language; ``Lexicon.load("other")`` merges all."""

    def __init__(self, language: str, sections: dict, offensive: list[str]):
        self.language = language
        self.greeting = sections.get("greeting", "Hi")
        self.phrases = {name: PhraseSet(sections.get(name) or ()) for name in PHRASE_SECTIONS}
        self.words = {name: frozenset(sections.get(name) or ()) for name in WORD_SECTIONS}
        self.offensive = tuple(offensive)
        negation = sorted((re.escape(fold(w)) for w in self.words["negation"]), key=len, reverse=True)
        self.negation_words = frozenset(fold(w) for w in self.words["negation"])
        # A negation and at most one more word right before a phrase: "no tengo ninguna queja".
        self.negation = re.compile(r"(?<![\w'])(?:{})[ ,]+(?:[\w']+[ ,]+)?$".format("|".join(negation))) if negation else None

    def find(self, section: str, folded: str) -> list[tuple[int, int]]:
        """Where the phrases of ``section`` occur in ``folded`` text, leaving out negated ones."""
        hits = []
        for start, end in self.phrases[section].spans(folded):
            first = folded[start:end].split(" ", 1)[0]
            negated = (self.negation is not None and first not in self.negation_words
                       and self.negation.search(folded[max(0, start - 24):start]))
            if not negated:
                hits.append((start, end))
        return hits

    def __getitem__(self, section: str) -> PhraseSet:
        return self.phrases[section]

    @staticmethod
    def load(language: str) -> Lexicon:
        if language in (OTHER, "xx"):
            language = FALLBACK
        if language not in LANGUAGES:
            raise LexiconError(f"no lexicon for language {language!r}; available: {', '.join(LANGUAGES)} or {OTHER!r}")
        return _load(language)


@lru_cache(maxsize=None)
def _load(language: str) -> Lexicon:
    return Lexicon(language, _read_yaml(DATA / language / "patterns.yaml"), _read_words(DATA / language / "offensive.txt"))


@lru_cache(maxsize=None)
def offensive_words() -> tuple[str, ...]:
    """The offensive words of every language: an insult is one whatever the post's language."""
    return tuple(w for language in LANGUAGES for w in _read_words(DATA / language / "offensive.txt"))


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot read the lexicon ({exc}); see nlp/data/README.md for its format") from None
    data = {key: [str(item) for item in value] if isinstance(value, list) else value for key, value in data.items()}
    unknown = set(data) - set(PHRASE_SECTIONS) - set(WORD_SECTIONS) - {"greeting"}
    if unknown:
        valid = ", ".join(("greeting",) + PHRASE_SECTIONS + WORD_SECTIONS)
        raise LexiconError(f"{path}: unknown section(s) {', '.join(sorted(unknown))} (valid sections: {valid})")
    return data


def _read_words(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LexiconError(f"{path}: cannot read the word list ({exc})") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=None)
def homonyms() -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """Names that are also places or words, and phrases that are never the company."""
    path = DATA / "homonyms.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot read the homonyms ({exc})") from None
    ambiguous = frozenset(str(name).lower() for name in data.get("ambiguous") or ())
    exclude = {str(name).lower(): tuple(phrases or ()) for name, phrases in (data.get("exclude") or {}).items()}
    return ambiguous, exclude
