"""Load the per-language lexicons in ``nlp/data`` (see ``nlp/data/README.md``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from nlp.patterns import PhraseIndex, PhraseSet
from nlp.text import fold

DATA = Path(__file__).parent / "data"
LANGUAGES = ("es", "ca", "en", "pt")
# Posts in none of LANGUAGES are read with the English phrases.
OTHER = "other"
FALLBACK = "en"

PHRASE_SECTIONS = (
    "question_start", "question", "rhetorical", "info_seeking",
    "recommendation", "complaint", "churn", "praise", "thanks", "sarcasm",
    "customer", "prospect", "experience", "place_before", "company_before", "company_after", "spam", "context", "which",
)
WORD_SECTIONS = ("markers", "common_words", "negation")
# Sections read by searching a part of the text (their PhraseSet), not found in the whole text.
SEARCHED = frozenset({"question_start", "which", "place_before", "company_before", "company_after", "context"})
# Found with the phrases, never cancelled by a negation: the offensive words of every language (``offensive``).
UNNEGATED = frozenset({"spam", "offensive"})
# The one word that may stand between a negation and the phrase it cancels.
NEGATED_WORD = re.compile(r"[\w']+")


class LexiconError(ValueError):
    """A lexicon file that cannot be read: the message names the file and what is wrong."""


# libyaml's parser when PyYAML was built with it: it reads the lexicons several times faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
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
        phrases = [(name, phrase) for name in PHRASE_SECTIONS if name not in SEARCHED for phrase in self.phrases[name].phrases]
        self.index = PhraseIndex(phrases + [("offensive", word) for word in offensive_words()])
        self.words = {name: frozenset(sections.get(name) or ()) for name in WORD_SECTIONS}
        self.offensive = tuple(offensive)
        self.negation_words = frozenset(fold(w) for w in self.words["negation"])

    def find(self, section: str, folded: str) -> list[tuple[int, int]]:
        """Where the phrases of ``section`` occur in ``folded`` text, leaving out negated ones."""
        return self.find_all(folded).get(section, [])

    def find_all(self, folded: str) -> dict[str, list[tuple[int, int]]]:
        """The phrases of every section (and ``offensive``) in ``folded`` text, found in one pass."""
        found = self.index.find(folded)
        if self.negation_words.isdisjoint(folded.replace(",", " ").split()):  # the common case
            return found
        for section, spans in list(found.items()):
            if section not in UNNEGATED:
                kept = [(s, e) for s, e in spans if not self._negated(folded, s, e)]
                if kept:
                    found[section] = kept
                else:
                    del found[section]
        return found

    def _negated(self, folded: str, start: int, end: int) -> bool:
        """A negation and at most one more word right before a phrase: "no tengo ninguna queja".

        A phrase that starts with a negation word ("no funciona") is never negated.
        """
        before = folded[max(0, start - 24):start]
        if not before.endswith(" "):
            return False
        words = before.rsplit(",", 1)[-1].split()[-2:]  # a comma ends what a negation reaches
        negations = self.negation_words
        if not words or folded[start:end].split(" ", 1)[0] in negations:
            return False
        if words[-1] in negations:
            return True
        return len(words) == 2 and words[0] in negations and NEGATED_WORD.fullmatch(words[1]) is not None

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


@dataclass(frozen=True)
class Homonyms:
    """What ``homonyms.yaml`` says, by folded name ("sabadell")."""

    ambiguous: frozenset[str]  # names that are also places or words
    exclude: dict[str, tuple[str, ...]]  # phrases that are never the company ("racing de santander")
    other_context: dict[str, tuple[str, ...]]  # words of what else the name is ("gol"): near them it is not the company


@lru_cache(maxsize=None)
def homonyms() -> Homonyms:
    """Names that are also places or words, phrases that are never the company, and words of what else they are."""
    path = DATA / "homonyms.yaml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot read the homonyms ({exc})") from None
    unknown = set(data) - {"ambiguous", "exclude", "other_context", "shared"}
    if unknown:
        raise LexiconError(f"{path}: unknown part(s) {', '.join(sorted(unknown))} "
                           "(valid parts: ambiguous, exclude, other_context, shared)")
    return Homonyms(
        frozenset(str(name).lower() for name in data.get("ambiguous") or ()),
        _by_name(data.get("exclude")),
        _by_name(data.get("other_context")),
    )


def _by_name(part: dict | None) -> dict[str, tuple[str, ...]]:
    """Phrases by folded name; a list inside a name's list (a YAML alias of a ``shared`` list) is flattened."""
    flat = {}
    for name, phrases in (part or {}).items():
        items = [p for item in phrases or () for p in (item if isinstance(item, list) else [item])]
        flat[fold(str(name)).strip()] = tuple(str(p) for p in items)
    return flat
