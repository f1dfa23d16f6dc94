"""What one response may cost: how deep its JSON nests, and how its skipped items are told.

A hostile or broken server can send JSON nested thousands of levels deep
(Python's parser then runs out of stack, and so would any walk over the
result) or a page of millions of unreadable items. :func:`loads` refuses
JSON deeper than ``JSON_MAX_DEPTH`` with a :class:`TooDeepError`;
:class:`Problems` keeps the first few of a page's skipped items and counts the
rest, and :func:`skipped` turns them into the one line reported for the page.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

# The deepest real API nesting we read is a Hacker News or Reddit reply tree
# (two to five levels per reply); 256 leaves room for over fifty reply levels
# while any walk over the value stays far below Python's recursion limit.
JSON_MAX_DEPTH = 256


class TooDeepError(ValueError):
    """JSON nested deeper than the limit; nothing of it is read."""


def loads(text: str | bytes, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """``json.loads(text)``, refusing values nested more than ``max_depth`` levels before parsing them."""
    if nesting(text) > max_depth:
        raise TooDeepError(f"JSON nested more than JSON_MAX_DEPTH={max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:  # a limit above what Python's parser can take
        raise TooDeepError(f"JSON nested too deep for Python to read (JSON_MAX_DEPTH={max_depth})") from None


_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting(text: str | bytes) -> int:
    """How deep lists and objects nest in JSON ``text``, brackets inside strings aside (at C speed)."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    brackets = _STRINGS.sub(b"", text).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


class Problems(list):
    """A page's skipped items: the first :attr:`kept` different reasons, every item counted in :attr:`total`.

    A list, so parsers ``append`` and ``+=`` as usual; memory stays the same
    whether a page skips ten items or ten million.
    """

    kept = 5

    def __init__(self, problems=()):
        super().__init__()
        self.total = 0
        self.extend(problems)

    def append(self, problem: str) -> None:
        self.total += 1
        if len(self) < self.kept and problem not in self:
            super().append(problem)

    def extend(self, problems) -> None:
        hidden = problems.total - len(problems) if isinstance(problems, Problems) else 0
        for problem in problems:
            self.append(problem)
        self.total += hidden

    def __iadd__(self, problems):
        self.extend(problems)
        return self


def skipped(problems: list[str]) -> str:
    """One line for all of a page's skipped items: how many, and the first few reasons."""
    total = getattr(problems, "total", len(problems))
    if total == 1:
        return problems[0]
    reasons = list(dict.fromkeys(problems))[:Problems.kept]
    return f"{total} items skipped: " + "; ".join(reasons) + ("; ..." if total > len(reasons) else "")
