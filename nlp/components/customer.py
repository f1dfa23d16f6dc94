"""Is the author the brand's customer, a prospect, or unknown?

- ``customer``: a usage cue ("mi tarjeta", "llevo 5 años con") closest to a
  brand mention, or leaving the brand;
- ``prospect``: not the brand's customer and deciding or asking in the sector,
  or a competitor's customer who complains, leaves or asks;
- ``unknown``: anything else.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.attributes import phrases, reading, register
from nlp.lexicons import Lexicon

ASKING = {"question", "recommendation_request"}
UNHAPPY = {"complaint", "churn"}


class CustomerClassifier:
    def __init__(self, lang: str):
        self.lexicon = Lexicon.load(lang)

    def __call__(self, doc: Doc) -> Doc:
        current, _, folded = reading(doc)
        status, of = self._status(current, folded)
        current.customer_status = status
        current.customer_of = of
        return doc

    def _status(self, current, folded: str) -> tuple[str, str | None]:
        if current.own or current.spam:
            return "unknown", None
        mentions = current.mentions
        if not mentions and not current.sector:
            return "unknown", None
        found = phrases(current, self.lexicon, folded)
        intents = set(current.intents)
        cues = [start for start, _ in found.get("customer", ())]
        deciding = "prospect" in found
        if cues and mentions:
            nearest = min(mentions, key=lambda m: min(abs(m.start - c) for c in cues))
            if nearest.role == "brand":
                return "customer", nearest.entity
            if intents & (ASKING | UNHAPPY):
                return "prospect", nearest.entity
            return "unknown", nearest.entity
        brand = {m.entity for m in mentions if m.role == "brand"}
        if brand and len({m.entity for m in mentions}) == 1 and "complaint" in intents and "experience" in found:
            # A complaint about the brand alone, told from the author's own experience.
            return "customer", next(iter(brand))
        if current.sector and (intents & ASKING or deciding):
            return "prospect", None
        if any(m.role == "competitor" for m in mentions) and intents & UNHAPPY:
            return "prospect", None
        return "unknown", None


@Language.factory("listener_customer")
def make_customer_classifier(nlp: Language, name: str) -> CustomerClassifier:
    register()
    return CustomerClassifier(nlp.lang)
