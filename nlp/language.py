"""Which language a post is in: es, ca, en, pt or other.

A linear model over character 1-4 grams and words, trained on 18,239 real
tweets from the Iberian peninsula (TweetLID's training split: es, ca, en, pt
and the neighbours gl and eu, see DATA.md), reads each post. Beside the
n-grams it sees py3langid's first two guesses (its model ships with the
package) and how many words of each language's own list (``markers`` in
``nlp/data/<lang>/patterns.yaml``) the post has. Galician and Basque are
"other", and so is a post py3langid is sure is in a language the model was
never taught (French, Italian...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from nlp.learned.features import NgramFeatures
from nlp.learned.linear import LinearModel
from nlp.lexicons import Lexicon
from nlp.text import CharacterTable

NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+")
# The identifier reads at most this much of a post: enough to tell, and its cost grows with length.
IDENTIFIER_CHARS = 400
# Languages the identifier may answer besides ours, so that French is not forced into Spanish.
OTHERS = ("fr", "it", "de", "nl", "gl", "eu", "ro", "oc")
# The model's languages; the last two are read so that they are not taken for their neighbours.
TAUGHT = ("es", "ca", "en", "pt", "gl", "eu")
FOREIGN = frozenset(OTHERS) - {"gl", "eu"}
FEATURES = NgramFeatures(word_ngrams=(1, 2), char_ngrams=(1, 4), fold_accents=False)
MODEL = Path(__file__).resolve().parent / "data" / "models" / "language"


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(set(("es", "ca", "en", "pt") + OTHERS)))
    return identifier


@lru_cache(maxsize=2)
def _model(path: str) -> LinearModel:
    return LinearModel.load(path)


# Letters and the apostrophes inside words ("l'app", "col·legi"); a space for the rest.
_LETTERS = CharacterTable(lambda char: char.isalpha() or char in "'’·", " ")


def words_of(lowered: str) -> list[str]:
    """The words of a lower-cased text: letters, with "'" or "·" inside (``l'app``, ``col·legi``)."""
    words = lowered.translate(_LETTERS).split()
    if "'" in lowered or "’" in lowered or "·" in lowered:
        words = [word for word in (w.strip("'’·") for w in words) if word]
    return words


def clean(text: str) -> str:
    """The text without handles, hashtags and links, which say nothing of its language."""
    text = text or ""
    if "@" in text or "#" in text or "http" in text or "www." in text:
        text = NOISE.sub(" ", text)
    return text


def readable(cleaned: str) -> bool:
    """Enough letters to tell a language: three words, or three letters in all."""
    words = words_of(cleaned.lower())
    return len(words) >= 3 or sum(map(len, words)) >= 3


class LanguageClues:
    """What the model reads beside the n-grams: py3langid's two first guesses and each language's own words."""

    def __init__(self):
        self.identifier = _identifier()
        self.markers = {lang: frozenset(Lexicon.load(lang).words["markers"]) for lang in ("es", "ca", "en", "pt")}

    def __call__(self, cleaned: str) -> tuple[list[str], tuple[str, float]]:
        """The clue features, and py3langid's first guess with its probability when it is a foreign language."""
        head = cleaned[:IDENTIFIER_CHARS]
        ranked = self.identifier.rank(head)
        words = words_of(cleaned.lower())
        found = [f"lid:{ranked[0][0]}", f"lid2:{ranked[1][0]}"]
        found += [f"mk:{lang}:{min(len(markers.intersection(words)), 3)}" for lang, markers in self.markers.items()]
        top = ranked[0][0]
        return found, (top, self.identifier.classify(head)[1] if top in FOREIGN else 0.0)


class LanguageDetector:
    def __init__(self, languages: tuple[str, ...] = ("es", "ca", "en", "pt"), confidence: float = 0.9,
                 model: str | Path | None = None):
        self.languages = tuple(languages)
        self.confidence = confidence
        self.clues = LanguageClues()
        self.model = _model(str(model or MODEL))

    def detect(self, text: str) -> str:
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[str]:
        cleaned = [clean(text) for text in texts]
        results = ["other"] * len(texts)
        positions = [i for i, text in enumerate(cleaned) if readable(text)]
        if not positions:
            return results
        clues = [self.clues(cleaned[i]) for i in positions]
        probabilities = self.model.probabilities([cleaned[i] for i in positions], [found for found, _ in clues])
        for i, row, (_, (top, sure)) in zip(positions, probabilities, clues):
            best = int(row.argmax())
            language = self.model.labels[best]
            if top in FOREIGN and sure >= self.confidence and row[best] < self.confidence:
                language = "other"
            results[i] = language if language in self.languages else "other"
        return results
