"""Which language a post is in: es, ca, en, pt or other.

py3langid (its model ships with the package) gives a first answer; short
Catalan is often read as Spanish, so a check of our own counts words and
spellings found in one of the two languages only (``markers`` in
``nlp/data/{es,ca}/patterns.yaml``) and decides between them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from nlp.lexicons import Lexicon
from nlp.text import CharacterTable

NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+")
ELISION = re.compile(r"(?<!\w)[dlmnst]['’]\w")
CATALAN_SPELLING = re.compile(r"\w-(?:se|me|te|hi|ho|ne|nos|vos|los|les|li|la|lo)\b|l·l|\b[dlmnst]['’]\w|\w['’](?:l|ls|m|n|s|t|ns|hi|ho)\b|ny|ç|[àèò]|\bés\b")
PORTUGUESE_SPELLING = re.compile(
    r"[ãõ]|nh|lh|\b(?:não|você|vocês|muito|muita|obrigad[oa]|um|uma|uns|umas|ele|ela|eles|elas|meu|minha|seu|sua"
    r"|isso|isto|tem|têm|estou|são|é|ao|aos|pelo|pela|também|já|até|então|ninguém|alguém)\b"
)
SPANISH_SPELLING = re.compile(r"ñ|[¿¡]|[áó]n\b|ción|ía\b")
# The identifier reads at most this much of a post: enough to tell, and its cost grows with length.
IDENTIFIER_CHARS = 400
# Languages the identifier may answer besides ours, so that French is not forced into Spanish.
OTHERS = ("fr", "it", "de", "nl", "gl", "eu", "ro", "oc")


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(set(("es", "ca", "en", "pt") + OTHERS)))
    return identifier


# Letters and the apostrophes inside words ("l'app", "col·legi"); a space for the rest.
_LETTERS = CharacterTable(lambda char: char.isalpha() or char in "'’·", " ")


def words_of(lowered: str) -> list[str]:
    """The words of a lower-cased text: letters, with "'" or "·" inside (``l'app``, ``col·legi``)."""
    words = lowered.translate(_LETTERS).split()
    if "'" in lowered or "’" in lowered or "·" in lowered:
        words = [word for word in (w.strip("'’·") for w in words) if word]
    return words


class LanguageDetector:
    def __init__(self, languages: tuple[str, ...] = ("es", "ca", "en", "pt"), confidence: float = 0.8):
        self.languages = tuple(languages)
        self.confidence = confidence
        self.identifier = _identifier()
        self.markers = {lang: frozenset(Lexicon.load(lang).words["markers"]) for lang in ("es", "ca", "en", "pt")}

    def detect(self, text: str) -> str:
        clean = text or ""
        if "@" in clean or "#" in clean or "http" in clean or "www." in clean:
            clean = NOISE.sub(" ", clean)
        lowered = clean.lower()
        words = words_of(lowered)
        if len(words) < 3 and sum(map(len, words)) < 3:
            return "other"
        clear = self._clear_case(lowered, words)
        if clear:
            return clear if clear in self.languages else "other"
        language, probability = self.identifier.classify(clean[:IDENTIFIER_CHARS])
        unsure = probability < self.confidence
        if language == "pt" and unsure and not PORTUGUESE_SPELLING.search(lowered):
            # Short Spanish ("no funciona") is often read as Portuguese: ask the Spanish/Catalan check.
            language = self._spanish_or_catalan(lowered, words) or "es"
        if language in ("es", "ca", "gl", "oc", "it") or probability < 0.5:
            decided = self._spanish_or_catalan(lowered, words)
            if decided:
                language = decided
            elif language == "ca" and unsure and not self._catalan_evidence(lowered, words):
                # Nothing says Catalan: a short neutral sentence is far more often Spanish.
                language = "es"
        if language == "gl":
            language = "pt" if probability < 0.5 else "other"
        return language if language in self.languages else "other"

    def _clear_case(self, lowered: str, words: list[str]) -> str | None:
        """The language when its own words settle it, else None.

        Settled: two or more of its words, and twice any other's. Most posts are
        settled here, and only the rest pay for the identifier.
        """
        counts = {language: len(markers.intersection(words)) for language, markers in self.markers.items()}
        if "'" in lowered or "’" in lowered:
            counts["ca"] += len(ELISION.findall(lowered))  # l'app, d'una
        if not lowered.isascii():  # letters and signs of one language only
            counts["es"] += lowered.count("ñ") + lowered.count("¿") + lowered.count("¡")
            counts["ca"] += lowered.count("l·l") + lowered.count("à") + lowered.count("è") + lowered.count("ò")
            counts["pt"] += lowered.count("ã") + lowered.count("õ")
        ranked = sorted(counts.values(), reverse=True)
        top, second = ranked[0], ranked[1]
        if top < 2 or top < 2 * second:
            return None
        return next(language for language, count in counts.items() if count == top)

    def _catalan_evidence(self, lowered: str, words: list[str]) -> bool:
        return any(w in self.markers["ca"] for w in words) or CATALAN_SPELLING.search(lowered) is not None

    def _spanish_or_catalan(self, lowered: str, words: list[str]) -> str | None:
        spanish = sum(w in self.markers["es"] for w in words) + len(SPANISH_SPELLING.findall(lowered))
        catalan = sum(w in self.markers["ca"] for w in words) + len(CATALAN_SPELLING.findall(lowered))
        if catalan > spanish:
            return "ca"
        if spanish > catalan:
            return "es"
        return None
