"""Phrase patterns a marketer can write, compiled to one regular expression.

A pattern is a phrase matched on folded text (case and accents ignored) at word
boundaries. Inside a phrase:

- ``word*`` matches any word starting with ``word`` (``recomend*``);
- ``*`` alone matches any one word (``llevo * años``);
- ``...`` matches up to three words (``me ... recomendáis``);
- ``<n>`` matches a number (``llevo <n> días``).

Anything else (emoji, punctuation) is matched literally.

Many phrases are joined into a trie (``no funciona|no contesta`` becomes
``no (?:funciona|contesta)``). To find them, the text is *marked*: a control
character is put before each word, and the trie is searched after that
character only, so the regular expression engine jumps from word to word
instead of trying every position (:func:`mark`, :meth:`PhraseSet.spans`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from nlp.text import fold

GAP = r"[^\w#@]+"
WORD = r"[^\W_]+"
# "llevo <n> días": digits or a number word of any of the languages.
NUMBER = (r"(?:\d+(?:[.,]\d+)?|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|quince|veinte|varios|varias"
          r"|muchos|muchas|dues|quatre|cinc|sis|set|vuit|nou|deu|uns|unes|diversos|one|two|three|four|five|six|ten|a|an"
          r"|several|many|um|uma|duas|quatro|dez)")
END = object()  # marks where a phrase ends in the trie
MARK = "\x01"
# A word starts after these (and at the start of the text); not after "@" or "#": handles and hashtags are not phrases.
_BEFORE_WORDS = (" ", "\n", "\t", "¿", "¡", "(", '"', "«", "“")
_last_marked: tuple[str, str] = ("", MARK)


def mark(folded: str) -> str:
    """``folded`` with :data:`MARK` before each word (the last text's answer is kept)."""
    global _last_marked
    last = _last_marked  # one read: another thread may replace it
    if last[0] == folded:
        return last[1]
    marked = MARK + folded
    for before in _BEFORE_WORDS:
        if before in marked:
            marked = marked.replace(before, before + MARK)
    _last_marked = (folded, marked)
    return marked


def _piece(word: str) -> str:
    if word == "...":
        return f"(?:{WORD}{GAP}){{0,3}}"  # the next word follows without a gap of its own
    if word == "*":
        return WORD
    if word == "<n>":
        return NUMBER
    if word.endswith("*") and len(word) > 1:
        return re.escape(word[:-1]) + r"\w*"
    return re.escape(word)


def _is_literal(word: str) -> bool:
    return word not in ("...", "*", "<n>") and not word.endswith("*")


def _split(phrase: str) -> tuple[str, str, bool]:
    """A phrase as (literal start, regular expression for the rest, whether it ends on a word)."""
    words = fold(phrase).split()
    count = 0
    while count < len(words) and _is_literal(words[count]):
        count += 1
    literal, rest, suffix = " ".join(words[:count]), words[count:], ""
    if rest and rest[0] != "*" and rest[0].endswith("*"):
        literal += (" " if literal else "") + rest[0][:-1]
        suffix, rest = r"\w*", rest[1:]
    glue = bool(literal)
    for word in rest:
        if glue:
            suffix += GAP
        suffix += _piece(word)
        glue = word != "..."
    last = words[-1] if words else ""
    word_end = last != "..." and (not _is_literal(last) or re.search(r"\w$", last) is not None)
    return literal, suffix, word_end


def compile_phrase(phrase: str) -> str:
    """One phrase as a regular expression (without the trie)."""
    literal, suffix, word_end = _split(phrase)
    body = "".join(GAP if c == " " else re.escape(c) for c in literal) + suffix
    start = r"(?<!\w)" if re.match(r"\w", literal) else ""
    end = r"(?!\w)" if word_end else ""
    return f"{start}(?:{body}){end}"


def _trie_regex(phrases: Iterable[str], boundary: bool = True) -> str:
    root: dict = {}
    for phrase in phrases:
        literal, suffix, word_end = _split(phrase)
        if not literal:
            root.setdefault(END, set()).add(compile_phrase(phrase))
            continue
        node = root
        for char in literal:
            node = node.setdefault(char, {})
        node.setdefault(END, set()).add(suffix + (r"(?!\w)" if word_end else ""))
    return _emit(root, top=boundary)


def _emit(node: dict, top: bool = False) -> str:
    branches = []
    for char in sorted(k for k in node if k is not END):
        head = GAP if char == " " else re.escape(char)
        if top and re.match(r"\w", char):
            head += r"(?<!\w.)"  # the phrase starts at a word boundary
        branches.append(head + _emit(node[char]))
    ends = sorted(node.get(END, ()), key=len, reverse=True)
    branches += [e for e in ends if e]
    optional = "" in ends
    if not branches:
        return ""
    if len(branches) == 1 and not optional:
        return branches[0] if top or len(branches[0]) == 1 else f"(?:{branches[0]})"
    return f"(?:{'|'.join(branches)}){'?' if optional and not top else ''}"


class PhraseSet:
    """Many phrases as one compiled expression; empty sets never match."""

    def __init__(self, phrases: Iterable[str]):
        self.phrases = tuple(dict.fromkeys(p for p in phrases if p and p.strip()))
        self.regex = re.compile(_trie_regex(self.phrases)) if self.phrases else None
        words = [p for p in self.phrases if re.match(r"\w", fold(p).lstrip())]
        others = [p for p in self.phrases if p not in words]
        self._marked = re.compile(MARK + f"(?:{_trie_regex(words, boundary=False)})") if words else None
        self._others = re.compile(_trie_regex(others)) if others else None

    def spans(self, folded: str) -> list[tuple[int, int]]:
        """Where the phrases occur in ``folded`` text, as offsets into it (the fast way to search)."""
        found = []
        if self._marked is not None:
            marked = mark(folded)
            for match in self._marked.finditer(marked):
                start, end = match.start() + 1, match.end()
                found.append((start - marked.count(MARK, 0, start), end - marked.count(MARK, 0, end)))
        if self._others is not None:
            found += [match.span() for match in self._others.finditer(folded)]
        return found

    def __bool__(self) -> bool:
        return self.regex is not None

    def search(self, folded: str) -> re.Match | None:
        return self.regex.search(folded) if self.regex is not None else None

    def finditer(self, folded: str) -> Iterator[re.Match]:
        return self.regex.finditer(folded) if self.regex is not None else iter(())
