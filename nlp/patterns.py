"""Phrase patterns a marketer can write, and how they are found in a text.

A pattern is a phrase matched on folded text (case and accents ignored) at word
boundaries. Inside a phrase:

- ``word*`` matches any word starting with ``word`` (``recomend*``);
- ``*`` alone matches any one word (``llevo * años``);
- ``...`` matches up to three words (``me ... recomendáis``);
- ``<n>`` matches a number (``llevo <n> días``).

Anything else (emoji, punctuation) is matched literally.

To find phrases, :class:`PhraseIndex` files every phrase of every section in
one trie of words and walks it from each word of a text: one pass finds them
all, whatever their number. :class:`PhraseSet` also compiles its phrases to one
regular expression (a trie of characters, ``no (?:funciona|contesta)``) for
searching a part of a text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cached_property

from nlp.text import fold

GAP = r"[^\w#@]+"
WORD = r"[^\W_]+"
# "llevo <n> días": digits or a number word of any of the languages.
NUMBER = (r"(?:\d+(?:[.,]\d+)?|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|quince|veinte|varios|varias"
          r"|muchos|muchas|dues|quatre|cinc|sis|set|vuit|nou|deu|uns|unes|diversos|one|two|three|four|five|six|ten|a|an"
          r"|several|many|um|uma|duas|quatro|dez)")
END = object()  # marks where a phrase ends in the trie


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


# Where a phrase may start: at the start of the text or after one of these (not after "@", "#", "_",
# "'", "." or "/": handles, hashtags, elisions, domains and paths are not phrases).
STARTS_AFTER = " \n\t\r\u00a0¿¡(\"«“,;:!?…*"
MARK = "\x01"


def mark(folded: str) -> str:
    """``folded`` with :data:`MARK` before each place a phrase may start."""
    marked = MARK + folded
    for before in STARTS_AFTER:
        if before in marked:
            marked = marked.replace(before, before + MARK)
    return marked


class _OnFirstUse:
    """A regular expression compiled when it is first matched: most of a lexicon's never are."""

    __slots__ = ("pattern", "_regex")

    def __init__(self, pattern: str):
        self.pattern, self._regex = pattern, None

    def match(self, text: str, pos: int = 0) -> re.Match | None:
        if self._regex is None:
            self._regex = re.compile(self.pattern)
        return self._regex.match(text, pos)


class PhraseIndex:
    """Many phrases, each filed under a key, found in one pass over a text.

    The phrases that start with a word form one trie expression that is tried
    only where a word may start (after :data:`MARK`, see :func:`mark`), so the
    engine jumps from word to word. An empty named group closes each phrase
    and tells which keys it belongs to. At one place the longest phrase wins;
    phrases at different places may overlap. Phrases that start with a symbol
    (emoji) have an expression of their own.
    """

    def __init__(self, phrases: Iterable[tuple[object, str]]):
        words: dict[str, set] = {}
        symbols: dict[str, set] = {}
        for key, phrase in phrases:
            folded = fold(phrase).strip()
            if folded:
                (words if re.match(r"\w", folded) else symbols).setdefault(folded, set()).add(key)
        self._keys: list[tuple] = []  # the keys of each group (phrases written the same way)
        self._also: list[tuple] = []  # for each group: (keys, expression) of phrases that may match with it
        self._words = self._compile(words, marked=True)
        self._symbols = self._compile(symbols, marked=False)
        # The expressions' group numbers -> our groups.
        self._group_of = _group_numbers(self._words)
        self._symbol_group_of = _group_numbers(self._symbols)
        # Most symbol phrases are emoji: their expression need not run on a text of plain ASCII.
        self._symbols_on_ascii = any(phrase.isascii() for phrase in symbols)

    def _compile(self, phrases: dict[str, set], marked: bool) -> re.Pattern | None:
        if not phrases:
            return None
        by_regex: dict[str, int] = {}
        tagged = []
        for phrase, keys in phrases.items():
            literal, suffix, word_end = _split(phrase)
            tail = suffix + (r"(?!\w)" if word_end else "")
            group = by_regex.get(literal + "\0" + tail)
            if group is None:
                group = by_regex[literal + "\0" + tail] = len(self._keys)
                self._keys.append(())
                self._also.append(())
                tagged.append((literal, tail, group))
            self._keys[group] = tuple(dict.fromkeys((*self._keys[group], *sorted(keys, key=str))))
        if marked:
            # Where the longest phrase at a place matched, a phrase whose literal start is a prefix of its
            # own may match too ("me" in "me han cobrado"): each group knows those, to try them there.
            by_literal: dict[str, list] = {}
            for literal, tail, group in tagged:
                body = "".join(GAP if c == " " else re.escape(c) for c in literal) + tail
                by_literal.setdefault(literal, []).append((group, _OnFirstUse(body)))
            for literal, tail, group in tagged:
                self._also[group] = tuple(
                    (self._keys[other], regex)
                    for end in range(1, len(literal) + 1) for other, regex in by_literal.get(literal[:end], ())
                    if other != group
                )
        body = _keyed_trie(tagged, boundary=not marked)
        # Marked: a lookahead, so that a phrase inside a longer one at another place is found too.
        return re.compile(MARK + f"(?=(?:{body}))" if marked else body)

    def find(self, folded: str) -> dict[object, list[tuple[int, int]]]:
        """Offsets in ``folded`` of the phrases found, by key (in no particular order)."""
        found: dict[object, list] = {}
        keys, also = self._keys, self._also
        if self._words is not None:
            marked = mark(folded)
            group_of = self._group_of
            for match in self._words.finditer(marked):
                number = match.lastindex  # the empty group that closed the phrase
                group = group_of[number]
                start = match.end()
                marks = marked.count(MARK, 0, start)  # offsets in the folded text: drop the marks before
                span = (start - marks, match.end(number) - marks - marked.count(MARK, start, match.end(number)))
                for key in keys[group]:
                    found.setdefault(key, []).append(span)
                for other_keys, regex in also[group]:
                    other = regex.match(marked, start)
                    if other is not None:
                        span = (start - marks, other.end() - marks - marked.count(MARK, start, other.end()))
                        for key in other_keys:
                            found.setdefault(key, []).append(span)
        if self._symbols is not None and (self._symbols_on_ascii or not folded.isascii()):
            for match in self._symbols.finditer(folded):
                for key in keys[self._symbol_group_of[match.lastindex]]:
                    found.setdefault(key, []).append(match.span())
        return found


def _group_numbers(expression: re.Pattern | None) -> dict[int, int]:
    if expression is None:
        return {}
    return {number: int(name[1:]) for name, number in expression.groupindex.items()}


def _keyed_trie(tagged: list[tuple[str, str, int]], boundary: bool) -> str:
    """One expression for phrases given as (literal start, rest, group); each ends in its empty group."""
    root: dict = {}
    for literal, tail, group in tagged:
        node = root
        for char in literal:
            node = node.setdefault(char, {})
        start = "" if literal else r"(?<!\w)"
        node.setdefault(END, set()).add(f"{start}{tail}(?P<g{group}>)")
    return _emit(root, top=boundary)


class PhraseSet:
    """Many phrases as one compiled expression; empty sets never match.

    The expression and the index are made when first used: a lexicon has many
    sets that are only ever read through its own index.
    """

    def __init__(self, phrases: Iterable[str]):
        self.phrases = tuple(dict.fromkeys(p for p in phrases if p and p.strip()))

    @cached_property
    def regex(self) -> re.Pattern | None:
        return re.compile(_trie_regex(self.phrases)) if self.phrases else None

    @cached_property
    def index(self) -> PhraseIndex:
        return PhraseIndex((None, phrase) for phrase in self.phrases)

    def spans(self, folded: str) -> list[tuple[int, int]]:
        """Where the phrases occur in ``folded`` text, as offsets into it (the fast way to search)."""
        return sorted(set(self.index.find(folded).get(None, [])))

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def search(self, folded: str) -> re.Match | None:
        return self.regex.search(folded) if self.regex is not None else None

    def finditer(self, folded: str) -> Iterator[re.Match]:
        return self.regex.finditer(folded) if self.regex is not None else iter(())
