"""Which company a complaint is about, when a post names several.

The company nearest a complaint phrase ("no funciona", a sarcasm, an insult) of
the post's language, in the same clause when one is ("Vodafone es un desastre,
Movistar mucho mejor"); a company named inside the phrase counts from its end. The
customer component reads complaints this way, and so can anyone holding a
stored analysis: nothing here needs spaCy.
"""

from __future__ import annotations

import re

from listener.records import Mention
from nlp.lexicons import Lexicon
from nlp.text import fold

COMPLAINT_SECTIONS = ("complaint", "sarcasm", "offensive")
CLAUSE_END = re.compile(r"[,.;:!?¡¿()\n]")


def complained_of(mentions: tuple[Mention, ...], complaints: list[tuple[int, int]]) -> Mention | None:
    """The mention a complaint is about: the one nearest a complaint phrase, or the only company named."""
    if complaints:
        return min(mentions, key=lambda m: min(distance(m, start, end) for start, end in complaints))
    if len({m.entity for m in mentions}) == 1:
        return mentions[0]
    return None


def complaint_phrases(text: str, language: str) -> list[tuple[int, int]]:
    """Where ``text`` complains, by the phrases of its language (negated ones left out)."""
    found = Lexicon.load(language).find_all(fold(text))
    return sorted(span for section in COMPLAINT_SECTIONS for span in found.get(section, ()))


def complained_entity(text: str, language: str, mentions: tuple[Mention, ...]) -> tuple[str, bool] | None:
    """The entity the complaint in ``text`` is about, and whether it is named in the complaint's clause;
    None when no complaint phrase is found."""
    complaints = complaint_phrases(text, language)
    if not mentions or not complaints:
        return None

    def apart(mention: Mention, start: int, end: int) -> tuple[bool, int]:
        between = text[mention.end:start] if mention.end <= start else text[end:mention.start]
        return CLAUSE_END.search(between) is not None, distance(mention, start, end)

    crossed, _, nearest = min((*apart(m, start, end), i) for i, m in enumerate(mentions) for start, end in complaints)
    return mentions[nearest].entity, not crossed


def distance(mention: Mention, start: int, end: int) -> int:
    """Characters between a mention and a cue; a mention inside the cue counts from the cue's end."""
    if mention.end <= start:
        return start - mention.end
    if mention.start >= end:
        return mention.start - end
    return end - mention.end
