"""Phrase patterns a marketer can write, compiled to one regular expression.

A pattern is a phrase matched on folded text (case and accents ignored) at word
boundaries. Inside a phrase:

- ``word*`` matches any word starting with ``word`` (``recomend*``);
- ``*`` alone matches any one word (``llevo * años``);
- ``...`` matches up to three words (``me ... recomendáis``);
- ``<n>`` matches a number (``llevo <n> días``).

Anything else (emoji, punctuation) is matched literally.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from nlp.text import fold

GAP = r"[^\w#@]+"
# "llevo <n> días": digits or a number word of any of the languages.
NUMBER = (r"(?:\d+(?:[.,]\d+)?|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|quince|veinte|varios|varias"
          r"|muchos|muchas|dues|quatre|cinc|sis|set|vuit|nou|deu|uns|unes|diversos|one|two|three|four|five|six|ten|a|an"
          r"|several|many|um|uma|duas|quatro|dez|varias)")
WORD = r"[^\W_]+"


def compile_phrase(phrase: str) -> str:
    parts = []
    for word in fold(phrase).split():
        if word == "...":
            parts.append(f"(?:{WORD}{GAP}){{0,3}}")
            continue
        if word == "*":
            piece = WORD
        elif word == "<n>":
            piece = NUMBER
        elif word.endswith("*") and len(word) > 1:
            piece = re.escape(word[:-1]) + r"\w*"
        else:
            piece = re.escape(word)
        parts.append(piece + GAP)
    body = "".join(parts)
    if body.endswith(GAP):
        body = body[: -len(GAP)]
    start = r"(?<!\w)" if re.match(r"\w", fold(phrase).lstrip(".*")) or phrase.lstrip().startswith("*") else ""
    end = r"(?!\w)" if re.search(r"[\w*]$", fold(phrase).rstrip(". ")) else ""
    return f"{start}(?:{body}){end}"


class PhraseSet:
    """Many phrases as one compiled expression; empty sets never match."""

    def __init__(self, phrases: Iterable[str]):
        self.phrases = tuple(dict.fromkeys(p for p in phrases if p and p.strip()))
        if self.phrases:
            ordered = sorted(self.phrases, key=len, reverse=True)
            self.regex = re.compile("|".join(compile_phrase(p) for p in ordered))
        else:
            self.regex = None

    def __bool__(self) -> bool:
        return self.regex is not None

    def search(self, folded: str) -> re.Match | None:
        return self.regex.search(folded) if self.regex is not None else None

    def finditer(self, folded: str) -> Iterator[re.Match]:
        return self.regex.finditer(folded) if self.regex is not None else iter(())

    def __or__(self, other: PhraseSet) -> PhraseSet:
        return PhraseSet(self.phrases + other.phrases)
