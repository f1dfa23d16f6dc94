"""The features a learned model reads: word n-grams and character n-grams of a normalised text.

Links, @handles and numbers become placeholders, so that a model learns what
people write rather than who they write to. Extra features (the rules' findings,
the roles of the companies named) are plain strings added beside the n-grams.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlp.text import fold

LINK = re.compile(r"https?://\S+|www\.\S+")
HANDLE = re.compile(r"@\w+")
NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
REPEATED = re.compile(r"(\w)\1{2,}")  # "siiiii" -> "sii"
TRIPLE = re.compile(r"(.)\1\1")  # found wherever REPEATED is, and faster to look for
WORDS = re.compile(r"[^\W\d_]+(?:['’·][^\W\d_]+)*|[?¿!¡]|_\w+_")


@dataclass(frozen=True)
class NgramFeatures:
    """Which n-grams to read; every option is part of a saved model."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    fold_accents: bool = True
    lowercase: bool = True
    placeholders: bool = True
    squeeze: bool = True

    def normalise(self, text: str) -> str:
        if self.placeholders:
            if "http" in text or "www." in text:
                text = LINK.sub(" _link_ ", text)
            if "@" in text:
                text = HANDLE.sub(" _user_ ", text)
            text = NUMBER.sub(" _num_ ", text)
        if self.squeeze and TRIPLE.search(text):
            text = REPEATED.sub(r"\1\1", text)
        if self.fold_accents:
            return fold(text)
        return text.lower() if self.lowercase else text

    def words(self, text: str) -> list[str]:
        """The words of the normalised text, which every n-gram is made of."""
        return WORDS.findall(self.normalise(text))

    def word_grams(self, words: list[str], low: int | None = None) -> list[str]:
        """The word n-grams of ``words``, shortest first (from ``low`` words on, default all)."""
        grams = []
        first, high = self.word_ngrams
        for n in range(first if low is None else max(first, low), high + 1):
            grams.extend("w:" + " ".join(words[i:i + n]) for i in range(len(words) - n + 1))
        return grams

    def char_grams(self, word: str) -> list[str]:
        """The character n-grams of one word, padded with a space on each side, shortest first."""
        low, high = self.char_ngrams
        if not high:
            return []
        padded = f" {word} "
        size = len(padded)
        grams = []
        for n in range(low, min(high, size) + 1):
            grams.extend(padded[i:i + n] for i in range(size - n + 1))
        return grams

    def __call__(self, text: str, extra: Iterable[str] = ()) -> list[str]:
        """Every n-gram of ``text`` in order (word n-grams, then each word's character n-grams), then ``extra``."""
        words = self.words(text)
        grams = self.word_grams(words)
        if self.char_ngrams[1]:
            for word in words:
                grams.extend(self.char_grams(word))
        grams.extend(extra)
        return grams

    def to_dict(self) -> dict:
        return {"word_ngrams": list(self.word_ngrams), "char_ngrams": list(self.char_ngrams),
                "fold_accents": self.fold_accents, "lowercase": self.lowercase, "placeholders": self.placeholders,
                "squeeze": self.squeeze}

    @classmethod
    def from_dict(cls, data: dict) -> NgramFeatures:
        return cls(word_ngrams=tuple(data["word_ngrams"]), char_ngrams=tuple(data["char_ngrams"]),
                   fold_accents=data["fold_accents"], lowercase=data["lowercase"], placeholders=data["placeholders"],
                   squeeze=data.get("squeeze", False))
