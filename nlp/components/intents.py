"""What the author wants: question, recommendation request, complaint, churn, praise.

Rules over the language's phrase lists (``nlp/data/<lang>/patterns.yaml``):

- a sentence is a question when it has "?" or "¿", starts like a question, or
  holds an indirect question ("alguien sabe si"); a "?" sentence that is
  rhetorical ("¿en serio?") is not, unless it also seeks information;
- a complaint is a problem phrase, a sarcastic praise, or ALL-CAPS shouting
  that is not praise;
- praise next to a complaint in the same sentence, or with a sarcasm cue, is
  sarcasm, not praise; thanks are praise only when nothing is asked or
  complained about;
- a phrase right after a negation ("no tengo ninguna queja") does not count.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from nlp.attributes import phrases, reading, register
from nlp.lexicons import Lexicon
from nlp.text import CAMEL, HASHTAG, WORD, fold

SENTENCE = re.compile(r"[^.!?¡¿\n]*(?:[.!?\n]+|$)|¿[^?]*\?*|¡[^!]*!*")
OPENER = re.compile(
    r"[\s¿¡\"'(]*(?:(?:@\w+|#\w+|hola|buenas|buenos dias|buenas tardes|bon dia|bona tarda|ola|oi|hey|hi|hello"
    r"|oye|ei|eh|una pregunta|pregunta|question|quick question|duda|dubte|duvida|gente|chicos|amigos|people)"
    r"[\s,:;!.]*)*"
)
CAPITALS = re.compile(r"[A-ZÀ-ÖØ-Þ]{3,}")


class IntentClassifier:
    def __init__(self, lang: str, caps_words: int = 3, caps_ratio: float = 0.6):
        self.lexicon = Lexicon.load(lang)
        self.caps_words = caps_words
        self.caps_ratio = caps_ratio
        self.capitals = re.compile(r"(?:%s.*?){%d}" % (CAPITALS.pattern, caps_words), re.S)  # that many words in capitals
        start = self.lexicon["question_start"]
        self.question_start = re.compile(f"(?:{start.regex.pattern})") if start else None
        which = self.lexicon["which"]
        self.which = re.compile(r"(?:{})\W+$".format(which.regex.pattern)) if which else None

    def __call__(self, doc: Doc) -> Doc:
        current, text, folded = reading(doc)
        mentions = current.mentions
        found = phrases(current, self.lexicon, folded)
        if "#" in text:
            # Hashtag words are read too, after the text so that offsets stay those of the text.
            words = " ".join(" ".join(CAMEL.findall(m.group(1))) for m in HASHTAG.finditer(text))
            if words:
                found = dict(found)
                shift = len(text) + 1
                for section, spans in self.lexicon.find_all(fold(words)).items():
                    found[section] = [*found.get(section, ()), *((s + shift, e + shift) for s, e in spans)]
                text = f"{text}\n{words}"
                folded = f"{folded}\n{fold(words)}"
        sentences = [(m.start(), m.end()) for m in SENTENCE.finditer(text) if text[m.start():m.end()].strip()]
        kinds = self._question_kinds(folded, sentences, found)
        rhetorical = "rhetorical" in kinds
        intents = []
        # In a rant, a bare "?" asks nothing: only questions with a cue of their own count.
        if "cued" in kinds or ("bare" in kinds and not rhetorical):
            intents.append("question")
        if ("recommendation" in found or self._compares(sentences, kinds, mentions)
                or self._asks_which(folded, sentences, kinds, current.sector_terms)):
            intents.append("recommendation_request")
        complaints = found.get("complaint", [])
        sarcasm = found.get("sarcasm", [])
        praise = found.get("praise", [])
        asking = [(s, e) for (s, e), kind in zip(sentences, kinds) if kind in ("cued", "bare")]
        praise = [p for p in praise if not any(self._same_sentence(sentences, p, c) for c in complaints)
                  and not any(s <= p[0] < e for s, e in asking)]
        if sarcasm:
            praise = []
        if (complaints or sarcasm or rhetorical or (not praise and self._shouting(text, mentions))
                or "offensive" in found):
            intents.append("complaint")
        if "churn" in found:
            intents.append("churn")
        thanked = not praise and not intents and not sarcasm and "thanks" in found
        if praise or thanked:
            intents.append("praise")
        current.intents = tuple(intents)
        return doc

    def _question_kinds(self, folded: str, sentences: list[tuple[int, int]], found: dict) -> list[str | None]:
        """For each sentence: ``cued`` (asks, with a cue), ``bare`` (only "?"), ``rhetorical`` or None."""
        starts = {"question": [s for s, _ in found.get("question", ())]}
        asks = ("?" in folded or "¿" in folded or starts["question"]
                or (self.question_start is not None and any(self._starts_like_a_question(folded, s) for s, _ in sentences)))
        if not asks:
            return [None] * len(sentences)
        for name in ("info_seeking", "rhetorical"):
            starts[name] = [s for s, _ in found.get(name, ())]
        kinds = []
        for start, end in sentences:
            sentence = folded[start:end]
            cued = self._starts_like_a_question(folded, start) or any(start <= s < end for s in starts["question"])
            marked = "?" in sentence or sentence.lstrip().startswith("¿")
            if not (cued or marked):
                kinds.append(None)
            elif any(start <= s < end for s in starts["info_seeking"]):
                kinds.append("cued")
            elif any(start <= s < end for s in starts["rhetorical"]):
                kinds.append("rhetorical")
            else:
                kinds.append("cued" if cued else "bare")
        return kinds

    @staticmethod
    def _compares(sentences: list[tuple[int, int]], kinds: list[str | None], mentions: tuple) -> bool:
        """A question naming two companies ("¿Kinépolis o Cinesa?") asks which to choose."""
        for (start, end), kind in zip(sentences, kinds):
            if kind in ("cued", "bare"):
                named = {m.entity for m in mentions if start <= m.start < end}
                if len(named) >= 2:
                    return True
        return False

    def _asks_which(self, folded: str, sentences: list[tuple[int, int]], kinds: list[str | None], terms: tuple) -> bool:
        """A question word right before a sector word ("¿qué banco...?", "which airline") asks which company."""
        if not self.which:
            return False
        for start, end in terms:
            inside = any(s <= start < e and kind in ("cued", "bare") for (s, e), kind in zip(sentences, kinds))
            if inside and self.which.search(folded[max(0, start - 16):start]):
                return True
        return False

    @staticmethod
    def _same_sentence(sentences: list[tuple[int, int]], a: tuple[int, int], b: tuple[int, int]) -> bool:
        return any(s <= a[0] < e and s <= b[0] < e for s, e in sentences)

    def _starts_like_a_question(self, folded: str, start: int) -> bool:
        if self.question_start is None:
            return False
        opener = OPENER.match(folded, start)
        return self.question_start.match(folded, opener.end()) is not None

    def _shouting(self, text: str, mentions: tuple) -> bool:
        if self.capitals.search(text) is None:
            return False
        mentioned = {m.text for m in mentions}
        words = [w for w in WORD.findall(text) if len(w) >= 3 and w not in mentioned and not w.isdigit()]
        upper = [w for w in words if w.isupper()]
        return len(upper) >= self.caps_words and len(upper) >= self.caps_ratio * len(words)


@Language.factory("listener_intents", default_config={"caps_words": 3, "caps_ratio": 0.6})
def make_intent_classifier(nlp: Language, name: str, caps_words: int, caps_ratio: float) -> IntentClassifier:
    register()
    return IntentClassifier(nlp.lang, caps_words, caps_ratio)
