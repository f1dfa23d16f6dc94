"""Find the brand and its competitors: @handles, #hashtags, names, run-together names, typos.

A name that is also a place or an everyday word ("Santander", "orange") is
*ambiguous*: it counts only with a company word near it, or another reference to
the same company in the post, and never right after a place word ("vivo en
Sabadell"), inside an excluded phrase ("Racing de Santander") or near words of
what else it is ("el Sabadell juega el domingo").

A typo is a word one or two edits from a name, or the name with one letter
written twice ("BBVVA"); a typo of an ambiguous name is one edit at most (two
would take "sábado" for "Sabadell") and still needs a company word. Hashtags
made of a typo and other words ("#SabadelNoContesta") and a mistyped configured
handle ("@SabadelAyuda") are typos too; nothing inside a link is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import OSA
from spacy.language import Language
from spacy.tokens import Doc

from listener.records import Mention
from nlp.attributes import reading, register
from nlp.lexicons import Lexicon, homonyms
from nlp.patterns import PhraseSet, compile_phrase
from nlp.scorers import get_scorer
from nlp.text import HASHTAG, LETTERS, compact, fold, split_hashtag

SEPARATOR = r"[\s\-_.']*"
TOKEN = re.compile(r"(?<![\w@])@(\w+)")  # any @handle, configured or not
LINK = re.compile(r"(?:https?://|www\.)\S+")


@dataclass(frozen=True, slots=True)
class Form:
    key: str  # the name written together, folded: "bancosabadell"
    entity: str
    role: str
    ambiguous: bool
    parts: tuple[str, ...]  # its words: ("banco", "sabadell")
    cased: str | None = None  # an all-caps alias ("ING"), unambiguous when written so


@dataclass(slots=True)
class Hit:
    start: int
    end: int
    form: Form
    how: str
    score: int = 100
    rest: str = ""  # what else a hashtag says ("banc" in "#bancsabadell")


class BrandMatcher:
    def __init__(self, lang: str, entities: list[dict], sector_keywords: list[str], stop_words: frozenset[str],
                 scorer: str = "osa", threshold: float = 80.0, min_fuzzy_length: int = 5, window: int = 80,
                 min_ambiguous_fuzzy_length: int = 7, min_handle_typo_length: int = 8):
        lexicon = Lexicon.load(lang)
        shipped = homonyms()
        self.scorer = get_scorer(scorer)
        self.threshold = threshold
        self.min_fuzzy_length = min_fuzzy_length
        self.window = window
        self.forms: dict[str, Form] = {}
        self.handles: dict[str, Form] = {}
        self.hashtags: dict[str, Form] = {}
        self.exclude: dict[str, PhraseSet] = {}
        self.context: dict[str, PhraseSet] = {}
        self.other_context: dict[str, PhraseSet] = {}
        shared_context = list(lexicon["context"].phrases) + list(sector_keywords)
        for entity in entities:
            name, role = entity["name"], entity["role"]
            ambiguous = {compact(a) for a in entity.get("ambiguous") or ()} | {compact(a) for a in shipped.ambiguous}
            exclude = list(entity.get("exclude") or ())
            other = []
            for alias in [name, *(entity.get("aliases") or ()), *(entity.get("ambiguous") or ())]:
                key = compact(alias)
                if not key or key in self.forms:
                    continue
                parts = tuple(p for p in (compact(w) for w in fold(alias).split()) if p)
                cased = alias.strip() if alias.strip().isupper() and len(key) >= 2 else None
                self.forms[key] = Form(key, name, role, key in ambiguous or len(key) <= 3, parts, cased)
                exclude += shipped.exclude.get(fold(alias).strip(), ())
                other += shipped.other_context.get(fold(alias).strip(), ())
            for handle in entity.get("handles") or ():
                key = fold(handle.lstrip("@"))
                self.handles.setdefault(key, Form(key, name, role, False, (key,)))
            for hashtag in entity.get("hashtags") or ():
                key = compact(hashtag)
                self.hashtags.setdefault(key, Form(key, name, role, False, (key,)))
            self.exclude[name] = PhraseSet(exclude)
            self.context[name] = PhraseSet([*(entity.get("context") or ()), *shared_context])
            self.other_context[name] = PhraseSet(other)
        # Each name starts with a literal letter, then checks the boundary: the engine skips fast.
        self.name_regex = self._alternation(
            [re.escape(form.key[0]) + r"(?<![\w@#].)" + SEPARATOR.join(re.escape(p) for p in form.parts)[len(re.escape(form.key[0])):]
             for form in self.forms.values()],
            r"(?:{})(?!\w)",
        )
        self.handle_regex = self._alternation([re.escape(h) for h in self.handles], r"(?<![\w@])@(?:{})(?![\w])")
        self.place_regex = self._alternation(
            [compile_phrase(p) for p in lexicon["place_before"].phrases], r"(?:{})[^\w]*$"
        )
        self.article_regex = self._alternation(
            [compile_phrase(p) for p in lexicon["company_before"].phrases], r"(?:{})[^\w]*$"
        )
        self.service_regex = self._alternation(
            [compile_phrase(p) for p in lexicon["company_after"].phrases], r"[^\w]*(?:{})"
        )
        context_words = {compact(w) for w in shared_context}
        self.context_words = frozenset(w for w in context_words if w)
        # What only a company does, written together as in a hashtag: "nocontesta".
        self.service_keys = frozenset(compact(p) for p in lexicon["company_after"].phrases if "*" not in p and "<" not in p)
        self.known_words = frozenset(fold(w) for w in stop_words) | {fold(w) for w in lexicon.words["common_words"]} | {
            fold(w) for k in sector_keywords for w in k.split()
        }
        self.long_words = re.compile(r"[^\W\d_]{%d,}" % max(1, min_fuzzy_length - 1))
        self.fuzzy_forms = [f for f in self.forms.values()
                            if len(f.key) >= (min_ambiguous_fuzzy_length if f.ambiguous else min_fuzzy_length)]
        # Blocking: a typo keeps the first letter and is at most as many letters longer or shorter as it has edits.
        self.fuzzy_index: dict[tuple[str, int], list[Form]] = {}
        for form in self.fuzzy_forms:
            edits = self._edits(form)
            for length in range(len(form.key) - edits, len(form.key) + edits + 1):
                self.fuzzy_index.setdefault((form.key[0], length), []).append(form)
        # A name of any length with one of its letters written twice: "bbvva", "sabaddell".
        self.doubled: dict[str, Form] = {}
        for form in self.forms.values():
            for i in range(len(form.key)):
                variant = form.key[:i + 1] + form.key[i:]
                if variant not in self.forms:
                    self.doubled.setdefault(variant, form)
        # A configured handle mistyped by one edit, for handles long enough not to be another account's.
        self.handle_index: dict[tuple[str, int], list[Form]] = {}
        for key, form in self.handles.items():
            if len(key) >= min_handle_typo_length:
                for length in range(len(key) - 1, len(key) + 2):
                    self.handle_index.setdefault((key[0], length), []).append(form)

    @staticmethod
    def _alternation(parts: list[str], template: str) -> re.Pattern | None:
        if not parts:
            return None
        return re.compile(template.format("|".join(sorted(parts, key=len, reverse=True))))

    def __call__(self, doc: Doc) -> Doc:
        current, text, folded = reading(doc)
        hits = self._handles(folded) + self._hashtags(text)
        hits += self._names(folded, hits)
        hits += self._fuzzy(folded, hits)
        if hits:
            hits = self._resolve(text, folded, hits)
            current.mentions = tuple(
                Mention(h.form.entity, h.form.role, text[h.start:h.end], h.start, h.end, h.how, h.score)
                for h in sorted(hits, key=lambda h: h.start)
            )
        else:
            current.mentions = ()
        return doc

    def _handles(self, folded: str) -> list[Hit]:
        if self.handle_regex is None or "@" not in folded:
            return []
        hits = [Hit(m.start(), m.end(), self.handles[m.group()[1:]], "handle") for m in self.handle_regex.finditer(folded)]
        if self.handle_index:
            hits += self._mistyped_handles(folded, hits)
        return hits

    def _mistyped_handles(self, folded: str, taken: list[Hit]) -> list[Hit]:
        """``@sabadelayuda`` for ``@sabadellayuda``: one edit, letters only. It tags no one, so it is a typo."""
        hits = []
        for match in TOKEN.finditer(folded):
            handle = match.group(1)
            if handle in self.handles or not handle.replace("_", "").isalpha() or any(h.start == match.start() for h in taken):
                continue
            close = [form for form in self.handle_index.get((handle[0], len(handle)), ())
                     if OSA.distance(handle, form.key, score_cutoff=1) <= 1]
            if close:
                hits.append(Hit(match.start(), match.end(), close[0], "fuzzy",
                                int(round(self.scorer.score(handle, close[0].key, 0)))))
        return hits

    def _hashtags(self, text: str) -> list[Hit]:
        if "#" not in text:
            return []
        hits = []
        for match in HASHTAG.finditer(text):
            found = self._hashtag_form(match.group(1))
            if found:
                form, rest = found
                hits.append(Hit(match.start(), match.end(), form, "hashtag", rest=rest))
                continue
            found = self._mistyped_hashtag(match.group(1)) if self.doubled else None
            if found:
                form, rest, score = found
                hits.append(Hit(match.start(), match.end(), form, "fuzzy", score, rest))
        return hits

    def _mistyped_hashtag(self, body: str) -> tuple[Form, str, int] | None:
        """A hashtag with a typo of a name among its words ("#SabadelNoContesta") or, written in
        one case, starting with one that ends like the name ("#sabadelnocontesta", not "#cinesdemibarrio")."""
        words = split_hashtag(body)
        best: tuple[Form, str, int] | None = None
        if len(words) > 1:
            for i in range(len(words)):
                for j in range(i + 1, min(len(words), i + 3) + 1):
                    found = self._typo("".join(words[i:j]))
                    if found and (best is None or len(found[0].key) > len(best[0].key)):
                        best = found[0], " ".join(words[:i] + words[j:]), found[1]
            return best
        key = compact(body)
        for length in range(self.min_fuzzy_length, len(key) + 1):
            found = self._typo(key[:length])
            if found and key[length - 1] == found[0].key[-1] and (best is None or len(found[0].key) >= len(best[0].key)):
                best = found[0], key[length:], found[1]
        return best

    def _hashtag_form(self, body: str) -> tuple[Form, str] | None:
        key = compact(body)
        if key in self.hashtags:
            return self.hashtags[key], ""
        if key in self.forms:
            return self.forms[key], ""
        words = split_hashtag(body)
        best: tuple[Form, str] | None = None
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + 4) + 1):
                joined = "".join(words[i:j])
                form = self.forms.get(joined)
                if form and (best is None or len(form.key) > len(best[0].key)):
                    best = form, " ".join(words[:i] + words[j:])
        if best:
            return best
        for form in self.forms.values():
            if len(form.key) < 5 and len(form.parts) == 1:
                continue
            if key.startswith(form.key) or key.endswith(form.key) or (len(form.parts) > 1 and form.key in key):
                if best is None or len(form.key) > len(best[0].key):
                    best = form, key.replace(form.key, "", 1)
        return best

    def _names(self, folded: str, taken: list[Hit]) -> list[Hit]:
        if self.name_regex is None:
            return []
        hits = []
        for match in self.name_regex.finditer(folded):
            if any(h.start < match.end() and match.start() < h.end for h in taken):
                continue
            form = self.forms.get(compact(match.group()))
            if form:
                hits.append(Hit(match.start(), match.end(), form, "name"))
        return hits

    def _fuzzy(self, folded: str, taken: list[Hit]) -> list[Hit]:
        """Words one or two edits from a name, or a name with a letter written twice; none inside a link.

        Cheap blocking first (same first letter, length within the edits allowed, an
        edit-distance bound), then each survivor is scored against the names of its
        block. Blocking leaves one or two names per word, too few for ``process.cdist``
        to pay off.
        """
        if not self.doubled:
            return []
        if "://" in folded or "www." in folded:
            folded = LINK.sub(lambda link: " " * len(link.group()), folded)  # same length: offsets hold
        # Most posts hold no word that could be a typo: check the words before finding where they are.
        found = {}
        index, doubled = self.fuzzy_index, self.doubled
        for word in set(folded.translate(LETTERS).split()).difference(self.known_words, self.forms):
            if (word[0], len(word)) in index or word in doubled:
                typo = self._typo(word, checked=True)
                if typo:
                    found[word] = typo
        if not found:
            return []
        hits = []
        for match in self.long_words.finditer(folded):
            typo = found.get(match.group())
            if typo is None:
                continue
            start, end = match.span()
            if (start and folded[start - 1] in "@#_") or (end < len(folded) and folded[end].isalnum()):
                continue
            if any(h.start < end and start < h.end for h in taken):
                continue
            hits.append(Hit(start, end, typo[0], "fuzzy", typo[1]))
        return hits

    def _typo(self, word: str, checked: bool = False) -> tuple[Form, int] | None:
        """The name ``word`` is a typo of, and its score; ``checked``: it is known not to be a word or a name."""
        if not checked and (word in self.known_words or word in self.forms):
            return None
        form = self.doubled.get(word)
        if form is not None:  # a letter written twice is a typo whatever the threshold
            return form, int(round(self.scorer.score(word, form.key, 0)))
        block = [form for form in self.fuzzy_index.get((word[0], len(word)), ()) if self._close(word, form)]
        if not block:
            return None
        score, form = max(((self.scorer.score(word, form.key, self.threshold), form) for form in block),
                          key=lambda pair: pair[0])
        return (form, int(round(score))) if score >= self.threshold else None

    @staticmethod
    def _edits(form: Form) -> int:
        """How many edits a typo of ``form`` may have: one in a short or ambiguous name, two in a long one."""
        return 1 if form.ambiguous or len(form.key) < 8 else 2

    def _close(self, word: str, form: Form) -> bool:
        limit = self._edits(form)
        return OSA.distance(word, form.key, score_cutoff=limit) <= limit

    def _resolve(self, text: str, folded: str, hits: list[Hit]) -> list[Hit]:
        kept = []
        hits = [h for h in hits if not any(m.start() < h.end and h.start < m.end()
                                           for m in self.exclude[h.form.entity].finditer(folded))]
        sure = {h.form.entity for h in hits if not h.form.ambiguous or self._cased(text, h)}
        read = {id(h) for h in hits if h.form.entity in sure or self._company_reading(folded, h, others=bool(sure))}
        companies = {h.form.entity for h in hits if id(h) in read}
        for hit in hits:
            # Once a company is certain, another ambiguous name in the same post reads as a company too.
            others = bool(companies - {hit.form.entity})
            if id(hit) in read or (others and self._company_reading(folded, hit, others=True)):
                kept.append(hit)
        return kept

    @staticmethod
    def _cased(text: str, hit: Hit) -> bool:
        """An all-caps alias written in capitals ("ING"), in a post that is not all shouting."""
        cased = hit.form.cased
        return bool(cased) and text[hit.start:hit.end] == cased and not text.isupper()

    def _company_reading(self, folded: str, hit: Hit, others: bool) -> bool:
        """Whether an ambiguous name means the company.

        Yes after an article ("el Santander"), before what only a company does
        ("Orange no funciona"), or with a company word or another company near
        it; no right after a place word ("vivo en Sabadell"), unless a company
        word comes just before that ("cliente de Sabadell") or another company
        is named in the post ("me voy a Digi"). Never near words of what else
        the name is ("el Sabadell juega el domingo"), unless what only a company
        does follows it.
        """
        context = self.context[hit.form.entity]
        if hit.rest and self._company_rest(hit.rest):
            return True
        window = folded[max(0, hit.start - self.window): hit.start] + " | " + folded[hit.end: hit.end + self.window]
        other = self.other_context[hit.form.entity]
        if other and other.search(window) and not self._serves(folded, hit):
            return False  # "el Sabadell juega el domingo": the club
        before = folded[max(0, hit.start - 40): hit.start]
        if self.article_regex is not None and self.article_regex.search(before):
            return True
        place = self.place_regex.search(before) if self.place_regex is not None else None
        if place and not others and not self._ends_with(context, before[: place.start()]):
            return False
        if others:
            return True
        if self._serves(folded, hit):
            return True  # "Orange no funciona": what only a company does
        return context.search(window) is not None

    def _serves(self, folded: str, hit: Hit) -> bool:
        """Whether what only a company does follows the name ("Orange no funciona")."""
        return self.service_regex is not None and self.service_regex.match(folded, hit.end) is not None

    def _company_rest(self, rest: str) -> bool:
        """Whether the rest of a hashtag is a company word ("#BancSabadell") or what only a company does
        ("#SabadellNoContesta")."""
        key = compact(rest)
        return key in self.context_words or key in self.service_keys or (
            self.service_regex is not None and self.service_regex.search(rest) is not None)

    @staticmethod
    def _ends_with(phrases: PhraseSet, text: str) -> bool:
        """Whether ``text`` ends with one of ``phrases`` ("cliente" in "soy cliente de Sabadell")."""
        tail = text[-30:]
        ends = [match.end() for match in phrases.finditer(tail)]
        return bool(ends) and not tail[ends[-1]:].strip(" ,.:")


@Language.factory(
    "listener_brands",
    default_config={"entities": [], "sector_keywords": [], "scorer": "osa", "threshold": 80.0,
                    "min_fuzzy_length": 5, "window": 80, "min_ambiguous_fuzzy_length": 7, "min_handle_typo_length": 8},
)
def make_brand_matcher(nlp: Language, name: str, entities: list[dict], sector_keywords: list[str], scorer: str,
                       threshold: float, min_fuzzy_length: int, window: int, min_ambiguous_fuzzy_length: int,
                       min_handle_typo_length: int) -> BrandMatcher:
    register()
    return BrandMatcher(nlp.lang, entities, sector_keywords, frozenset(nlp.Defaults.stop_words), scorer, threshold,
                        min_fuzzy_length, window, min_ambiguous_fuzzy_length, min_handle_typo_length)
