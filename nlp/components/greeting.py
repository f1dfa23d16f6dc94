"""How to greet the author: by first name only when the name and handle are safe.

A name is unsafe when the display name or the handle holds a word from any
language's ``offensive.txt``, after folding accents, undoing leetspeak
(``ElCabr0n``) and dropping spaces and punctuation (``P u t a``). Then, and
when the name does not look like a person's first name, the greeting is the
neutral one of the post's language ("Hola", "Hi", "Olá").
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from nlp.attributes import register, state
from nlp.lexicons import DATA, Lexicon, offensive_words
from nlp.text import CAMEL, LEET, fold, squash

NAME = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)?$")


def _not_names(path: Path = DATA / "not_names.txt") -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(w.strip()) for w in lines if w.strip() and not w.startswith("#"))


class OffensiveNames:
    """Spots offensive words in names, whatever the spelling tricks; remembers the names it has seen."""

    def __init__(self, words: list[str], short: int = 4):
        squashed = {squash(w) for w in words if squash(w)}
        self.short = frozenset(w for w in squashed if len(w) <= short)
        self.short_words = tuple(sorted(self.short))
        # Long words anywhere in the name, one branch per first letter so that the engine skips fast.
        by_letter: dict[str, list[str]] = {}
        for word in sorted((w for w in squashed if len(w) > short), key=len, reverse=True):
            by_letter.setdefault(word[0], []).append(re.escape(word[1:]))
        self.anywhere = (re.compile("|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in by_letter.items()))
                         if by_letter else None)
        self.check = lru_cache(maxsize=65536)(self._offensive)

    def __call__(self, name: str | None) -> bool:
        return bool(name) and self.check(name)

    def _offensive(self, name: str) -> bool:
        squashed = squash(name)
        if self.anywhere is not None and self.anywhere.search(squashed):
            return True
        if squashed.startswith(self.short_words) or squashed.endswith(self.short_words):
            return True
        pieces = [squash(p) for chunk in re.split(r"[\W_]+", name.translate(LEET)) for p in CAMEL.findall(chunk) or [chunk]]
        return any(p in self.short for p in pieces)


class Greeter:
    def __init__(self, lang: str, max_name_length: int = 20):
        self.greeting = Lexicon.load(lang).greeting
        self.offensive = OffensiveNames(list(offensive_words()))
        self.not_names = _not_names()
        self.max_name_length = max_name_length
        self.first_name = lru_cache(maxsize=65536)(self._first_name)  # authors post again and again

    def __call__(self, doc: Doc) -> Doc:
        current = state(doc)
        post = current.post
        display = getattr(post, "author_name", None)
        name = self.first_name(display)
        if name and not current.own and not self.offensive(display) and not self.offensive(getattr(post, "author", None)):
            current.greeting = f"{self.greeting} {name}"
        else:
            current.greeting = self.greeting
        return doc

    def _first_name(self, display: str | None) -> str | None:
        if not display:
            return None
        words = display.split()
        if not words:
            return None
        first = words[0].strip(".,;:!¡?¿\"'()")
        if not NAME.match(first) or not 2 <= len(first) <= self.max_name_length or fold(first) in self.not_names:
            return None
        if first.isupper() or first.islower():
            first = first.capitalize()
        return first


@Language.factory("listener_greeting", default_config={"max_name_length": 20})
def make_greeter(nlp: Language, name: str, max_name_length: int) -> Greeter:
    register()
    return Greeter(nlp.lang, max_name_length)
