"""Text helpers shared by the components: folding, words, hashtags, leetspeak.

:func:`fold` keeps the length of the text, so an offset found in the folded
text is the same offset in the original.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from listener.records import Post

WORD = re.compile(r"[^\W_]+(?:['’·][^\W_]+)*")
HASHTAG = re.compile(r"(?<![\w#])#([^\W_][\w]*)")
CAMEL = re.compile(r"[A-ZÀ-ÖØ-Þ]+(?![a-zß-öø-ÿ])|[A-ZÀ-ÖØ-Þ]?[a-zß-öø-ÿ]+|\d+")
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                      "@": "a", "$": "s", "!": "i", "|": "l", "€": "e"})


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in "’‘´`":
        return "'"
    lowered = char.lower()
    if len(lowered) != 1:
        lowered = char
    base = unicodedata.normalize("NFD", lowered)[0]
    if base.isascii():
        return base.lower()
    return lowered


class _FoldTable(dict):
    """Code point -> folded character, filled as new characters are met."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


class CharacterTable(dict):
    """A ``str.translate`` table filled as new characters are met: a character ``keep`` accepts
    stays, any other becomes ``other`` (a space to split on, or None to drop it)."""

    def __init__(self, keep, other: str | None):
        super().__init__()
        self.keep, self.other = keep, other

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        kept = self[code] = char if self.keep(char) else self.other
        return kept


# Longer posts are cut here: nothing a person writes needs more to be understood.
MAX_CHARS = 100_000
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def analysed_text(post: Post) -> str:
    """The text the analysis reads; mention offsets point into it (title, a blank line, then the text)."""
    text = post.text or ""
    if post.title:
        text = f"{post.title}\n\n{text}"
    text = text[:MAX_CHARS]
    if not text.isascii():
        # A lone surrogate (half of a broken emoji) cannot be encoded: it becomes U+FFFD, one character for one.
        text = LONE_SURROGATE.sub("\ufffd", text)
    return text


# ``text.translate(LETTERS).split()``: the runs of letters of a text.
LETTERS = CharacterTable(str.isalpha, " ")
_ALNUM = CharacterTable(str.isalnum, None)


def fold(text: str) -> str:
    """Lower-case and strip accents, keeping one character for each character."""
    if text.isascii():  # the common case, much faster than the table
        folded = text.lower()
        return folded.replace("`", "'") if "`" in folded else folded
    return text.translate(_FOLD_TABLE)


class _SquashTable(dict):
    """Code point -> folded letter, leetspeak undone (``0`` -> ``o``); None (dropped) for anything else."""

    def __missing__(self, code: int) -> str | None:
        char = _fold_char(chr(code)).translate(LEET)
        kept = self[code] = char if char.isalpha() else None
        return kept


_SQUASH = _SquashTable()
_REPEATS = re.compile(r"(.)\1{2,}")


def squash(text: str) -> str:
    """Fold, undo leetspeak and drop everything but letters: ``El Cabr0n`` -> ``elcabron``."""
    return _REPEATS.sub(r"\1\1", text.translate(_SQUASH))


def compact(text: str) -> str:
    """An alias written together: ``Banco Sabadell`` -> ``bancosabadell``."""
    return fold(text).translate(_ALNUM)


def split_hashtag(body: str) -> list[str]:
    """``CinesaNoContesta`` -> ``["cinesa", "no", "contesta"]`` (one word if not camel case)."""
    parts = CAMEL.findall(body)
    return [fold(p) for p in parts] if len(parts) > 1 else [fold(body)]
