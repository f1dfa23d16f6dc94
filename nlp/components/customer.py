"""Is the author the brand's customer, a prospect, or unknown?

- ``customer``: a usage cue ("mi tarjeta", "llevo 5 años con") whose nearest
  company is the brand, or leaving the brand; a company named inside a cue
  ("been with Sabadell for", "me he cambiado de Yelmo a Cinesa") counts as far
  as it stands from the cue's end, so a switch goes to the company switched to
  (and "me he cambiado de", a cue of its own, to the one left); or a
  complaint about the brand (the company nearest the complaint, or the only one
  named) told from the author's own experience ("me", "otra vez", "3 horas",
  "sin cobertura", "la app");
- ``prospect``: not the brand's customer and deciding or asking in the sector,
  or a competitor's customer who complains, leaves or asks;
- ``unknown``: anything else.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.about import complained_of, distance
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
        cues = found.get("customer", ())
        deciding = "prospect" in found
        if cues and mentions:
            # Each cue speaks of the company nearest to it; one that speaks of the brand makes a customer.
            spoken_of = [min(mentions, key=lambda m: distance(m, start, end)) for start, end in cues]
            brand = next((m for m in spoken_of if m.role == "brand"), None)
            if brand is not None:
                return "customer", brand.entity
            nearest = min(mentions, key=lambda m: min(distance(m, start, end) for start, end in cues))
            if intents & (ASKING | UNHAPPY):
                return "prospect", nearest.entity
            return "unknown", nearest.entity
        if mentions and "complaint" in intents and "experience" in found:
            # A complaint told from the author's own experience comes from a customer of the company it is about.
            about = complained_of(mentions, found.get("complaint", ()))
            if about is not None and about.role == "brand":
                return "customer", about.entity
        if current.sector and (intents & ASKING or deciding):
            return "prospect", None
        if any(m.role == "competitor" for m in mentions) and intents & UNHAPPY:
            return "prospect", None
        return "unknown", None


@Language.factory("listener_customer")
def make_customer_classifier(nlp: Language, name: str) -> CustomerClassifier:
    register()
    return CustomerClassifier(nlp.lang)
