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

from nlp.attributes import register
from nlp.lexicons import Lexicon
from nlp.text import fold

ASKING = {"question", "recommendation_request"}
UNHAPPY = {"complaint", "churn"}


class CustomerClassifier:
    def __init__(self, lang: str):
        self.lexicon = Lexicon.load(lang)

    def __call__(self, doc: Doc) -> Doc:
        status, of = self._status(doc)
        doc._.listener_customer_status = status
        doc._.listener_customer_of = of
        return doc

    def _status(self, doc: Doc) -> tuple[str, str | None]:
        if doc._.listener_own or doc._.listener_spam:
            return "unknown", None
        folded = fold(doc.text)
        mentions = doc._.listener_mentions
        intents = set(doc._.listener_intents)
        cues = [m.start() for m in self.lexicon["customer"].finditer(folded)]
        if self.lexicon["prospect"].search(folded) and not any(m.role == "brand" for m in mentions if cues):
            cues_prospect = True
        else:
            cues_prospect = False
        if cues and mentions:
            nearest = min(mentions, key=lambda m: min(abs(m.start - c) for c in cues))
            if nearest.role == "brand":
                return "customer", nearest.entity
            if intents & (ASKING | UNHAPPY):
                return "prospect", nearest.entity
            return "unknown", nearest.entity
        if cues and not mentions and intents & UNHAPPY and doc._.listener_sector:
            return "unknown", None
        if doc._.listener_sector and (intents & ASKING or cues_prospect):
            return "prospect", None
        if any(m.role == "competitor" for m in mentions) and intents & UNHAPPY:
            return "prospect", None
        return "unknown", None


@Language.factory("listener_customer")
def make_customer_classifier(nlp: Language, name: str) -> CustomerClassifier:
    register()
    return CustomerClassifier(nlp.lang)
