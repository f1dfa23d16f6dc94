"""Complaint clusters: complaints grouped by the word most of them share.

Greedy and explainable: the word found in the most posts forms the first
cluster, those posts leave the pool, and so on while a word is shared by two
posts or more; what is left is "other complaints". A cluster is labelled with
its word and, when most of its posts share one, a second word.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from listener.records import IndexedPost
from listener.web.i18n import gettext

WORD = re.compile(r"[^\W\d_]+")
TOP = 5
EXAMPLES = 3


@dataclass
class Cluster:
    label: str
    count: int
    examples: list[IndexedPost] = field(default_factory=list)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folded_words(text: str, minimum: int = 3) -> list[str]:
    return [w for w in WORD.findall(fold(text)) if len(w) >= minimum]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    text = resources.files("listener.web").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


def complaint_clusters(hits: list[IndexedPost], ignore: set[str] = frozenset(), top: int = TOP) -> list[Cluster]:
    skip = stopwords() | ignore
    pool = [(hit, set(folded_words(f"{hit.post.title or ''} {hit.post.text}")) - skip) for hit in hits]
    clusters = []
    while pool and len(clusters) < top:
        counts = Counter(word for _, words in pool for word in words)
        if not counts:
            break
        word, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
        if count < 2:
            break
        members = [(hit, words) for hit, words in pool if word in words]
        pool = [(hit, words) for hit, words in pool if word not in words]
        companions = Counter(w for _, words in members for w in words if w != word)
        label = word
        if companions:
            second, shared = min(companions.items(), key=lambda item: (-item[1], item[0]))
            if shared >= 2 and shared * 2 >= len(members):
                label = f"{word} · {second}"
        examples = sorted((hit for hit, _ in members), key=lambda h: -h.analysis.lead_score)[:EXAMPLES]
        clusters.append(Cluster(label, len(members), examples))
    if pool and len(clusters) < top:
        rest = sorted((hit for hit, _ in pool), key=lambda h: -h.analysis.lead_score)
        clusters.append(Cluster(gettext("other complaints") if clusters else gettext("no common theme yet"), len(rest), rest[:EXAMPLES]))
    return clusters
