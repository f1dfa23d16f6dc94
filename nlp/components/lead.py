"""How much a post is worth to the brand's team: a 0-100 score, the reasons, and ``surface``.

Surfaced: complaints, churn and questions about the brand (tagged or not),
prospects' questions in the sector, and competitors' customers who complain or
leave. Never surfaced: the companies' own posts, spam, and posts about neither
the companies nor the sector.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.attributes import register


class LeadScorer:
    def __init__(self, brand: str):
        self.brand = brand

    def __call__(self, doc: Doc) -> Doc:
        mentions = doc._.listener_mentions
        intents = set(doc._.listener_intents)
        status = doc._.listener_customer_status
        brand = [m for m in mentions if m.role == "brand"]
        competitors = list(dict.fromkeys(m.entity for m in mentions if m.role == "competitor"))
        reasons: list[str] = []
        if doc._.listener_own:
            return self._set(doc, 0, [f"posted by {doc._.listener_own} itself"], False)
        if doc._.listener_spam:
            return self._set(doc, 0, ["looks like spam or a promotion"], False)
        if not mentions and not doc._.listener_sector:
            return self._set(doc, 0, ["not about the brand, its competitors or the sector"], False)
        score = 0
        if brand:
            score += 20
            reasons.append(f"mentions {self.brand}")
            if not any(m.how == "handle" for m in brand):
                score += 10
                reasons.append(f"does not tag {self.brand}, so the team may not have seen it")
        if competitors:
            score += 10
            reasons.append(f"mentions {', '.join(competitors)} (competitor)")
        if not mentions:
            score += 10
            reasons.append("talks about the sector without naming a company")
        weights = {"question": (20, "asks a question"), "recommendation_request": (30, "asks for a recommendation"),
                   "complaint": (20, "complains"), "churn": (25, "is leaving or switching company"),
                   "praise": (5, "praises")}
        for intent in doc._.listener_intents:
            points, reason = weights[intent]
            score += points
            reasons.append(reason)
        if status == "prospect":
            score += 20
            reasons.append("is not yet a customer of " + self.brand)
        elif status == "customer":
            score += 5
            reasons.append(f"is a customer of {self.brand}")
        surface = self._surface(brand, competitors, intents, status, doc._.listener_sector)
        if not surface:
            score = min(score, 40)
        return self._set(doc, min(score, 100), reasons, surface)

    @staticmethod
    def _surface(brand: list, competitors: list, intents: set, status: str, sector: bool) -> bool:
        if brand and intents & {"question", "complaint", "churn", "recommendation_request"}:
            return True
        if status == "prospect" and sector and intents & {"question", "recommendation_request"}:
            return True
        if competitors and intents & {"complaint", "churn"}:
            return True
        return False

    @staticmethod
    def _set(doc: Doc, score: int, reasons: list[str], surface: bool) -> Doc:
        doc._.listener_lead_score = score
        doc._.listener_reasons = tuple(reasons)
        doc._.listener_surface = surface
        return doc


@Language.factory("listener_lead", default_config={"brand": ""})
def make_lead_scorer(nlp: Language, name: str, brand: str) -> LeadScorer:
    register()
    return LeadScorer(brand)
