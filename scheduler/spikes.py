"""Spikes: many people reporting the same problem within a short window.

Complaints are compared on their content words: lower-cased, accents folded,
links, handles, numbers, stop words and the brand and competitor names removed,
and each word cut to its first five letters so that "funciona", "funcionando"
and "funcionar" meet. Posts join the cluster they are on average most similar
to; a cluster whose posts come from at least ``min_authors`` different people
is a spike, named by the words its posts share most.

Scorers are chosen by name (``token_set_ratio``, ``token_sort_ratio`` from
rapidfuzz, or ``jaccard`` on word sets), all on a 0-100 scale.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from listener.records import IndexedPost

STEM = 5
URL = re.compile(r"https?://\S+|www\.\S+")
HANDLE = re.compile(r"@\w+")
NON_WORD = re.compile(r"[^\w]+|\d+|_")

# Function words of es/ca/en/pt that say nothing about the problem. "no" stays:
# "no funciona" and "funciona" are different reports.
STOP_WORDS = frozenset(
    """
    a al algo alguien algun alguna algunos ante antes aqui asi aun aunque bien cada casi como con contra cual cuando
    de del desde donde dos e el ella ellos en entre era eres es esa ese eso esta estan estas este esto estoy fue ha
    hace hacer han has hay hoy la las le les lo los mas me mi mis mucho muy nada ni nos nuestro o os otra otro para
    pero poco por porque pues que quien se sea ser si sin sobre solo son su sus tambien te tengo tiene tienen todo
    todos tu tus un una uno unos y ya yo vez veces otra
    els les amb per una uns unes aquest aquesta pel dels mes tot
    the and for with this that have has are was were you your our its not but from they them just
    um uma com nao os as do da dos das ao em
    """.split()
)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def content_words(text: str, ignore: Iterable[str] = ()) -> list[str]:
    """The words that describe the problem, stemmed, in order of appearance."""
    ignored = {w for phrase in ignore for w in fold(phrase).split()}
    text = HANDLE.sub(" ", URL.sub(" ", text))
    words = NON_WORD.sub(" ", fold(text)).split()
    return [w[:STEM] for w in words if (len(w) > 2 or w == "no") and w not in STOP_WORDS and w not in ignored]


def _jaccard(a: str, b: str) -> float:
    left, right = set(a.split()), set(b.split())
    return 100.0 * len(left & right) / len(left | right) if left or right else 0.0


SCORERS: dict[str, Callable[[str, str], float]] = {
    "token_set_ratio": fuzz.token_set_ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "jaccard": _jaccard,
}


def scorer(name: str) -> Callable[[str, str], float]:
    try:
        return SCORERS[name]
    except KeyError:
        raise ValueError(f"unknown similarity scorer {name!r} (choices: {', '.join(SCORERS)})") from None


@dataclass
class Cluster:
    docs: list[IndexedPost] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # normalised text of each doc

    @property
    def authors(self) -> set[str]:
        return {(d.post.author or d.post.id).lower() for d in self.docs}

    def key(self) -> str:
        ids = "\n".join(sorted(d.id for d in self.docs))
        return "spike:" + hashlib.sha1(ids.encode()).hexdigest()[:16]

    def problem(self, size: int = 5) -> str:
        """The words most posts share, in the order and form of the post that has most of them."""
        frequency: Counter[str] = Counter()
        for text in self.words:
            frequency.update(set(text.split()))
        shared = {stem for stem, n in frequency.most_common(size) if n > 1}
        if not shared:
            return self.words[0]
        best = max(range(len(self.docs)), key=lambda i: len(shared & set(self.words[i].split())))
        phrase: list[str] = []
        for word in NON_WORD.sub(" ", fold(self.docs[best].post.text)).split():
            stem = word[:STEM]
            if stem in shared and word not in phrase:
                phrase.append(word)
                shared.discard(stem)
        return " ".join(phrase)

    def examples(self, count: int) -> list[IndexedPost]:
        """One post per author, newest first."""
        seen: set[str] = set()
        chosen = []
        for doc in sorted(self.docs, key=lambda d: d.post.created_at, reverse=True):
            author = (doc.post.author or doc.id).lower()
            if author not in seen:
                seen.add(author)
                chosen.append(doc)
        return chosen[:count]


class SpikeDetector:
    """Cluster complaints by content and report clusters with enough distinct authors."""

    def __init__(self, min_authors: int = 3, similarity: float = 60, scorer_name: str = "token_set_ratio",
                 ignore: Sequence[str] = ()):
        self.min_authors = min_authors
        self.similarity = similarity
        self.score = scorer(scorer_name)
        self.ignore = tuple(ignore)

    def clusters(self, docs: Iterable[IndexedPost]) -> list[Cluster]:
        """Every cluster of the posts, oldest post first in each."""
        clusters: list[Cluster] = []
        for doc in sorted(docs, key=lambda d: d.post.created_at):
            words = content_words(f"{doc.post.title or ''} {doc.post.text}", self.ignore)
            if len(words) < 2:
                continue  # too little to compare
            text = " ".join(words)
            best, best_score = None, 0.0
            for cluster in clusters:
                score = sum(self.score(text, other) for other in cluster.words) / len(cluster.words)
                if score > best_score:
                    best, best_score = cluster, score
            if best is not None and best_score >= self.similarity:
                best.docs.append(doc)
                best.words.append(text)
            else:
                clusters.append(Cluster([doc], [text]))
        return clusters

    def spikes(self, docs: Iterable[IndexedPost]) -> list[Cluster]:
        """Clusters with posts from at least ``min_authors`` people, largest first."""
        found = [c for c in self.clusters(docs) if len(c.authors) >= self.min_authors]
        return sorted(found, key=lambda c: len(c.authors), reverse=True)
