"""The analyzer: a post in, an analysis out.

One blank spaCy pipeline per language (``spacy.blank(lang)``, and ``xx`` for
posts in other languages) runs listener's components in this order:

    listener_author -> listener_brands -> listener_sector -> listener_intents
    -> listener_customer -> listener_learned -> listener_lead -> listener_greeting

The rules (intents, customer) answer first; the learned model reads the post
and their answers and decides (see :mod:`nlp.components.learned`).

Each post is routed to the pipeline of its language (see :mod:`nlp.language`).
Nothing is downloaded: the pipelines are blank and the lexicons ship in
``nlp/data``.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from listener.config import Config
from listener.records import Analysis, Post
from nlp.attributes import attach_text, register, state
from nlp.components import author, brands, customer, greeting, intents, lead, learned, sector  # noqa: F401  (factories)
from nlp.language import LanguageDetector, load_identifier
from nlp.text import MAX_CHARS, analysed_text  # noqa: F401  (MAX_CHARS: the limit, for callers)

logger = logging.getLogger(__name__)

OTHER = "other"
SPACY_CODE = {OTHER: "xx"}
def build_pipeline(language: str, config: Config, reading: str = "combined", models: str | None = None) -> Language:
    """The blank pipeline of ``language`` with every listener component configured from ``config``.

    ``reading`` is the learned component's mode (rules, learned or combined) and
    ``models`` the folder of its trained models (default: the bundled ones).
    """
    nlp = spacy.blank(SPACY_CODE.get(language, language))
    entities = [dict(entity.model_dump(), role=role) for entity, role in config.entities]
    handles = [[h.lstrip("@"), entity.name] for entity, _ in config.entities for h in entity.handles]
    nlp.add_pipe("listener_author", config={"handles": handles})
    nlp.add_pipe("listener_brands", config={"entities": entities, "sector_keywords": list(config.sector.keywords)})
    nlp.add_pipe("listener_sector", config={"keywords": list(config.sector.keywords), "exclude": list(config.sector.exclude)})
    nlp.add_pipe("listener_intents")
    nlp.add_pipe("listener_customer")
    nlp.add_pipe("listener_learned", config={"mode": reading, "models": None if models is None else str(models)})
    nlp.add_pipe("listener_lead", config={"brand": config.brand.name})
    nlp.add_pipe("listener_greeting")
    return nlp


def settle_heap() -> None:
    """Move what is alive now (vocabularies, lexicons, compiled patterns) out of the garbage collector's way.

    They live as long as the process; without this every full collection walks
    them again while posts are analysed (about a tenth of the analysis time).
    """
    gc.collect()
    gc.freeze()


class Analyzer:
    """Analyse posts for one brand configuration; build once, reuse for every post."""

    def __init__(self, config: Config, reading: str = "combined", models: str | None = None):
        register()
        self.config = config
        self.reading = reading
        self.models = models
        self.languages = tuple(config.languages)
        # py3langid's model is decompressed in a thread while the pipelines are built: its
        # decompression lets go of the interpreter, so the two overlap.
        with ThreadPoolExecutor(max_workers=1) as pool:
            identifier = pool.submit(load_identifier)
            self.pipelines = {lang: build_pipeline(lang, config, reading, models) for lang in (*self.languages, OTHER)}
            identifier.result()
        self.detector = LanguageDetector(self.languages)
        settle_heap()
        logger.info(
            "nlp: brand %s, %d competitor(s), %d sector keyword(s), languages %s",
            config.brand.name, len(config.competitors), len(config.sector.keywords), ", ".join(self.languages),
        )

    def with_config(self, config: Config) -> Analyzer:
        """An analyzer of another configuration that reads as this one does (same mode and model)."""
        return type(self)(config, self.reading, self.models)

    def analyze(self, post: Post) -> Analysis:
        return next(self.analyze_many([post], batch_size=1))

    def analyze_many(self, posts: Iterable[Post], batch_size: int = 256) -> Iterator[Analysis]:
        """Analyse posts in batches; the analyses come out in the order the posts went in."""
        for analysis, _ in self.analyze_with_inputs(posts, batch_size):
            yield analysis

    def analyze_with_inputs(self, posts: Iterable[Post], batch_size: int = 256) -> Iterator[tuple[Analysis, tuple]]:
        """Each post's analysis and what the learned model read of it (text, rule features): for training."""
        iterator = iter(posts)
        while batch := list(islice(iterator, batch_size)):
            yield from self._analyze_batch(batch)

    def _analyze_batch(self, posts: list[Post]) -> list[tuple[Analysis, tuple]]:
        # A batch allocates many small objects, freed by reference counting: the cyclic
        # garbage collector would find nothing in them, so it waits until the batch is done.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._analyze(posts)
        finally:
            if enabled:
                gc.enable()

    def _analyze(self, posts: list[Post]) -> list[tuple[Analysis, tuple]]:
        groups: dict[str, list[tuple[int, Doc]]] = {}
        texts = [analysed_text(post) for post in posts]
        languages = self.detector.detect_many(texts)
        for position, (post, text, language) in enumerate(zip(posts, texts, languages)):
            doc = self.pipelines[language].make_doc(text)
            current = attach_text(doc, text)
            current.post = post
            current.language = language
            groups.setdefault(language, []).append((position, doc))
        results: list[tuple[Analysis, tuple] | None] = [None] * len(posts)
        for language, items in groups.items():
            # Each component reads the whole batch in turn, as nlp.pipe does (without its generators):
            # one component's patterns stay in the processor's caches while it reads every post.
            docs = [doc for _, doc in items]
            for _, component in self.pipelines[language].pipeline:
                if hasattr(component, "pipe"):
                    component.pipe(docs)
                else:
                    for doc in docs:
                        component(doc)
            for position, doc in items:
                results[position] = (to_analysis(doc), state(doc).model_inputs)
        return results  # type: ignore[return-value]


def to_analysis(doc: Doc) -> Analysis:
    current = state(doc)
    return Analysis(
        language=current.language,
        mentions=current.mentions,
        sector=current.sector,
        intents=current.intents,
        customer_status=current.customer_status,
        lead_score=current.lead_score,
        reasons=current.reasons,
        surface=current.surface,
        greeting=current.greeting,
    )
