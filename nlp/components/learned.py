"""Learned reading: intents, customer status, sector and surface from a trained linear model.

The model (:mod:`nlp.learned.linear`) reads the post's n-grams, with each
company named replaced by its role (``_brand_``, ``_competitor_``), and, in
``combined`` mode, the rules' findings as features of their own (``r:complaint``,
``r:prospect``...): the rules inform the model, the model decides. Modes:

- ``rules``: the lexicons' answers stand; the component only records what the model would read;
- ``learned``: a model trained on n-grams alone decides;
- ``combined`` (the default): a model trained on n-grams and the rules' findings decides.

Mentions, sector, the companies' own posts and spam stay with the rules.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from nlp.attributes import reading, register
from nlp.learned.linear import LinearModel

MODES = ("rules", "learned", "combined")
MODELS = Path(__file__).resolve().parent.parent / "data" / "models"
INTENTS = ("question", "recommendation_request", "complaint", "churn", "praise")
PLACEHOLDER = {"brand": " _brand_ ", "competitor": " _competitor_ "}


def model_path(mode: str, folder: str | Path | None = None) -> Path:
    """Where the model of ``mode`` lives: ``reading`` (combined) or ``reading-text`` (learned)."""
    name = "reading-text" if mode == "learned" else "reading"
    return Path(folder or MODELS) / name


def model_text(text: str, mentions: tuple) -> str:
    """The text with each mention replaced by its role, so that a model generalises across companies."""
    for mention in sorted(mentions, key=lambda m: m.start, reverse=True):
        text = text[:mention.start] + PLACEHOLDER.get(mention.role, " ") + text[mention.end:]
    return text


def rule_features(current) -> tuple[str, ...]:
    """What the rules found, as features: intents, customer status, sector, the roles named and how."""
    found = [f"r:{intent}" for intent in current.intents]
    found.append(f"r:status:{current.customer_status}")
    if current.sector:
        found.append("r:sector")
    if current.sector_terms:
        found.append("r:sector_word")
    for mention in current.mentions:
        found.append(f"r:{mention.role}")
        found.append(f"r:{mention.role}:{mention.how}")
    if not current.mentions:
        found.append("r:no_company")
    return tuple(dict.fromkeys(found))


def load_model(path: str) -> LinearModel:
    """One copy of each model per process and file version: every language's pipeline shares it."""
    files = Path(path).with_suffix(".json"), Path(path).with_suffix(".npz")
    try:
        stamp = tuple(f.stat().st_mtime_ns for f in files)
    except OSError:
        stamp = None
    return _load_model(path, stamp)


@lru_cache(maxsize=8)
def _load_model(path: str, stamp) -> LinearModel:
    return LinearModel.load(path)


def needs_model(current) -> bool:
    """Whether the model's answer can change what is decided for a post: see :meth:`LearnedReader._decide`."""
    if current.own or current.spam:
        return False
    return current.sector or any(m.role == "brand" for m in current.mentions)


class LearnedReader:
    def __init__(self, mode: str = "combined", models: str | None = None):
        if mode not in MODES:
            raise ValueError(f"listener_learned: unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        self.mode = mode
        self.model = None
        if mode != "rules":
            self.model = load_model(str(model_path(mode, models)))

    def inputs(self, doc: Doc) -> tuple[str, tuple[str, ...]]:
        """The text and extra features the model reads for ``doc`` (rules' findings only in combined mode)."""
        current, text, _ = reading(doc)
        return model_text(text, current.mentions), rule_features(current)

    def __call__(self, doc: Doc) -> Doc:
        return self.pipe([doc])[0]

    def pipe(self, docs: list[Doc]) -> list[Doc]:
        states = [reading(doc)[0] for doc in docs]
        inputs = [self.inputs(doc) for doc in docs]
        for current, found in zip(states, inputs):
            current.model_inputs = found
        if self.model is None:
            return docs
        # The model's answer would change nothing for a company's own post, for spam, or for a post
        # neither about the sector nor naming the brand: those are decided without reading it.
        read = [i for i, current in enumerate(states) if needs_model(current)]
        for i in set(range(len(states))).difference(read):
            self._decide(states[i], None)
        if read:
            texts = [inputs[i][0] for i in read]
            extras = [inputs[i][1] if self.mode == "combined" else () for i in read]
            for i, probabilities in zip(read, self.model.predict(texts, extras)):
                self._decide(states[i], probabilities)
        return docs

    def _decide(self, current, probabilities: dict[str, float] | None) -> None:
        model = self.model
        current.probabilities = probabilities
        if current.own or current.spam:
            current.intents, current.customer_status, current.surface_decided = (), "unknown", False
            return
        if probabilities is None:  # neither about the sector nor naming the brand: nothing to find
            current.intents, current.customer_status, current.customer_of, current.surface_decided = (), "unknown", None, False
            return
        decided = {label: model.decide(label, p) for label, p in probabilities.items()}
        # Sector stays with the rules: real labelled posts are nearly all in the sector, so a model
        # learns little of what is not; the keywords and mentions tell it well (see DATA.md).
        sector = current.sector
        intents = [intent for intent in INTENTS if decided.get(intent)] if sector else []
        if "recommendation_request" in intents and "question" not in intents:
            intents.insert(0, "question")
        brand = any(m.role == "brand" for m in current.mentions)
        if brand and decided.get("customer") and probabilities["customer"] >= probabilities.get("prospect", 0.0):
            status = "customer"
        elif sector and decided.get("prospect"):
            status = "prospect"
        else:
            status = "unknown"
        current.intents = tuple(intents)
        current.customer_status = status
        if status != "customer":
            current.customer_of = None
        # Every complaint, question, churn post or praise naming the brand is the team's (LABELS.md), whatever
        # the model makes of a brand it has seen little of.
        current.surface_decided = bool(sector and (decided.get("surface") or (brand and intents)) and (intents or status == "prospect"))


@Language.factory("listener_learned", default_config={"mode": "combined", "models": None})
def make_learned_reader(nlp: Language, name: str, mode: str, models: str | None) -> LearnedReader:
    """``models``: the folder of the trained models (default: the bundled ones in ``nlp/data/models``)."""
    register()
    return LearnedReader(mode, models)
