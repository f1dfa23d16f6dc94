"""Which language a post is in: es, ca, en, pt or other.

A linear model over character 1-4 grams and single words (word pairs added
nothing in cross-validation, and cost a fifth of its time), trained on 18,239 real
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
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
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
FEATURES = NgramFeatures(word_ngrams=(1, 1), char_ngrams=(1, 4), fold_accents=False)
MODEL = Path(__file__).resolve().parent / "data" / "models" / "language"


@lru_cache(maxsize=1)
def load_identifier() -> LanguageIdentifier:
    """py3langid's identifier, read once per process (its model ships with the package)."""
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


def readable(cleaned: str, words: list[str] | None = None) -> bool:
    """Enough letters to tell a language: three words, or three letters in all (``words``: of its lower case)."""
    words = words_of(cleaned.lower()) if words is None else words
    return len(words) >= 3 or sum(map(len, words)) >= 3


class IdentifierRanks:
    """py3langid's two first guesses for a batch of texts, the same as ``identifier.rank`` gives them one by one.

    The identifier walks a text's bytes through an automaton of byte n-grams and
    sums the weights of those it meets (in float32, one small product per text).
    Here the walks of a batch move together, one byte position at a time, and the
    sums of the whole batch are made at once in float64. Only the two first
    languages are wanted, and float32 rounding can change them only when two
    languages score within the rounding error or the second one is at the edge
    of float32 underflow: there, and where the first guess is a foreign language
    (whose probability is read), the identifier's own ``rank`` answers.
    """

    # Rounding error of a float32 sum of k terms, per term and unit of magnitude, with a safety factor.
    ROUNDING = 2.0 ** -22
    # Below this (log) gap to the first language, float32 exp() gives 0; above NORMAL a normal number.
    UNDERFLOW, NORMAL = -110.0, -80.0
    # Smaller batches, and the last few long texts of a batch, are walked byte by byte in Python.
    FEW = 32

    def __init__(self, identifier: LanguageIdentifier, foreign: frozenset[str] = frozenset()):
        self.identifier = identifier
        self.labels = list(identifier.nb_classes)
        self.rowbase = np.asarray(identifier.tk_row, dtype=np.int64) << 8
        self.nextmove = np.asarray(identifier.tk_nextmove)
        self.output = np.asarray(identifier.tk_output, dtype=np.int64)
        self.weights = np.asarray(identifier.nb_ptc, dtype=np.float64)
        self.prior = np.asarray(identifier.nb_pc, dtype=np.float64)
        self.foreign_labels = frozenset(foreign)
        self.foreign = np.array([label in foreign for label in self.labels])
        # Labels merged from two columns (srl -> sr) are left to the identifier.
        self.merged = len(set(self.labels)) != len(self.labels)
        self._rowbase = [int(r) << 8 for r in identifier.tk_row]

    @staticmethod
    def encode(text: str) -> bytes:
        """The bytes the identifier reads of ``text`` (as ``LanguageIdentifier._encode`` makes them)."""
        if text.isupper():
            text = text.lower()
        return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")

    def rank(self, text: str) -> tuple[str, str, float]:
        """The first language, the second, and the first one's probability, from the identifier itself."""
        ranked = self.identifier.rank(text)
        return ranked[0][0], ranked[1][0], ranked[0][1]

    def rank_many(self, texts: Sequence[str]) -> list[tuple[str, str, float | None]]:
        """Per text: first language, second, and the first one's probability when it is a foreign one (else None)."""
        if len(texts) < self.FEW or self.merged:
            return [(top, second, probability if top in self.foreign_labels else None)
                    for top, second, probability in map(self.rank, texts)]
        encoded = [self.encode(text) for text in texts]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        order = np.argsort(-lengths, kind="stable")  # longest first: the texts still walking are a prefix
        lengths = lengths[order]
        columns, features = self._walk([encoded[i] for i in order.tolist()], lengths)
        first, second, settled = self._decide(columns, features, lengths)
        labels, results = self.labels, [None] * len(texts)
        for j, i in enumerate(order.tolist()):
            if settled[j]:
                results[i] = labels[first[j]], labels[second[j]], None
            else:
                top, runner_up, probability = self.rank(texts[i])
                results[i] = top, runner_up, probability if top in self.foreign_labels else None
        return results

    def _walk(self, encoded: list[bytes], lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The features met in each text (longest first), as parallel arrays of text numbers and feature ids."""
        count, longest = len(encoded), int(lengths[0])
        if not longest:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        flat = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        data = np.zeros((longest, count), dtype=np.int64)  # one row per byte position, one column per text
        data[np.arange(len(flat)) - starts, np.repeat(np.arange(count), lengths)] = flat
        walking = (count - np.searchsorted(lengths[::-1], np.arange(longest), side="right")).tolist()
        states = np.full((longest, count), -1, dtype=np.int64)
        state = np.zeros(count, dtype=np.int64)
        rowbase, nextmove = self.rowbase, self.nextmove
        position = 0
        while position < longest and walking[position] > self.FEW:
            alive = walking[position]
            state = nextmove.take(rowbase.take(state[:alive]) + data[position, :alive])
            states[position, :alive] = state
            position += 1
        walked = states[:position]
        at, columns = np.nonzero(walked >= 0)
        features = self.output[walked[at, columns]]
        met = features >= 0
        columns, features = [columns[met]], [features[met]]
        if position < longest:
            nm, rowbase, output = self.identifier.tk_nextmove, self._rowbase, self.identifier.tk_output
            for column in range(walking[position]):
                current, found = int(state[column]) if position else 0, []
                for letter in encoded[column][position:]:
                    current = nm[rowbase[current] + letter]
                    if output[current] >= 0:
                        found.append(output[current])
                columns.append(np.full(len(found), column, dtype=np.int64))
                features.append(np.asarray(found, dtype=np.int64))
        return np.concatenate(columns), np.concatenate(features)

    def _decide(self, columns: np.ndarray, features: np.ndarray, lengths: np.ndarray):
        """First and second language per text, and whether float32 rounding surely leaves them so."""
        count, size = len(lengths), self.weights.shape[0]
        keys, counts = np.unique(columns * size + features, return_counts=True)
        text = keys // size
        terms = self.weights[keys - text * size] * np.log1p(counts.astype(np.float64))[:, None]
        distinct = np.bincount(text, minlength=count)
        present = np.flatnonzero(distinct)
        starts = (np.cumsum(distinct) - distinct)[present]
        sums = np.zeros((count, len(self.labels)))
        magnitude = np.zeros_like(sums)
        if len(present):
            sums[present] = np.add.reduceat(terms, starts, axis=0)
            magnitude[present] = np.add.reduceat(np.abs(terms), starts, axis=0)
        scale = 1.0 / np.sqrt(np.maximum(lengths, 1))[:, None]
        scores = (sums + self.prior) * scale
        error = scale * (distinct[:, None] + 16) * self.ROUNDING * (magnitude + np.abs(self.prior)) + 1e-5
        rows = np.arange(count)
        first = scores.argmax(axis=1)
        others = np.ones(scores.shape, dtype=bool)
        others[rows, first] = False
        gap = scores[rows, first][:, None] - scores  # >= 0
        slack = error[rows, first][:, None] + error
        clear_first = np.all(~others | (gap > slack), axis=1)
        second = np.where(others, scores, -np.inf).argmax(axis=1)
        rest = others.copy()
        rest[rows, second] = False
        clear_second = np.all(~rest | (scores[rows, second][:, None] - scores > error[rows, second][:, None] + error), axis=1)
        normal = -gap[rows, second] - slack[rows, second] > self.NORMAL
        # Every other language below float32 underflow: they tie at 0 and the first of them in label order is second.
        vanished = np.all(~others | (slack - gap < self.UNDERFLOW), axis=1)
        second = np.where(normal, second, np.where(first == 0, 1, 0))
        settled = clear_first & np.where(normal, clear_second, vanished) & ~self.foreign[first] & (distinct > 0)
        return first.tolist(), second.tolist(), settled.tolist()


class LanguageClues:
    """What the model reads beside the n-grams: py3langid's two first guesses and each language's own words."""

    def __init__(self):
        self.identifier = load_identifier()
        self.ranks = IdentifierRanks(self.identifier, FOREIGN)
        self.markers = {lang: frozenset(Lexicon.load(lang).words["markers"]) for lang in ("es", "ca", "en", "pt")}

    def __call__(self, cleaned: str) -> tuple[list[str], tuple[str, float]]:
        """The clue features, and py3langid's first guess with its probability when it is a foreign language."""
        return self.many([cleaned])[0]

    def many(self, cleaned: Sequence[str], words: Sequence[list[str]] | None = None) -> list[tuple[list[str], tuple[str, float]]]:
        """The clues of each text (``words``: each text's :func:`words_of` its lower case, if known)."""
        if words is None:
            words = [words_of(text.lower()) for text in cleaned]
        ranked = self.ranks.rank_many([text[:IDENTIFIER_CHARS] for text in cleaned])
        markers = list(self.markers.items())
        clues = []
        for (top, second, probability), found_words in zip(ranked, words):
            found = [f"lid:{top}", f"lid2:{second}"]
            found += [f"mk:{lang}:{min(len(own.intersection(found_words)), 3)}" for lang, own in markers]
            # The identifier's probability of its first guess (``classify``) is that of the first one ranked.
            clues.append((found, (top, probability if top in FOREIGN else 0.0)))
        return clues


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
        words = [words_of(text.lower()) for text in cleaned]
        results = ["other"] * len(texts)
        positions = [i for i, text in enumerate(cleaned) if readable(text, words[i])]
        if not positions:
            return results
        clues = self.clues.many([cleaned[i] for i in positions], [words[i] for i in positions])
        probabilities = self.model.probabilities([cleaned[i] for i in positions], [found for found, _ in clues])
        for i, row, (_, (top, sure)) in zip(positions, probabilities, clues):
            best = int(row.argmax())
            language = self.model.labels[best]
            if top in FOREIGN and sure >= self.confidence and row[best] < self.confidence:
                language = "other"
            results[i] = language if language in self.languages else "other"
        return results
