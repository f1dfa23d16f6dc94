"""How much a post is worth to the brand's team: a 0-100 score, the reasons, and ``surface``.

Surfaced: complaints, churn and questions about the brand (tagged or not),
prospects' questions in the sector, and competitors' customers who complain or
leave. Never surfaced: the companies' own posts, spam, and posts about neither
the companies nor the sector.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.attributes import register, state


# Points and reason for each intent.
INTENT_POINTS = {
    "question": (20, "asks a question"),
    "recommendation_request": (30, "asks for a recommendation"),
    "complaint": (20, "complains"),
    "churn": (25, "is leaving or switching company"),
    "praise": (5, "praises"),
}
# A post that is not surfaced never scores above this.
UNSURFACED_MAX = 40


class LeadScorer:
    def __init__(self, brand: str):
        self.brand = brand

    def __call__(self, doc: Doc) -> Doc:
        current = state(doc)
        score, reasons, surface = self.assess(current)
        current.lead_score = score
        current.reasons = tuple(reasons)
        current.surface = surface
        return doc

    def assess(self, current) -> tuple[int, list[str], bool]:
        mentions = current.mentions
        sector = current.sector
        if current.own:
            return 0, [f"posted by {current.own} itself"], False
        if current.spam:
            return 0, ["looks like spam or a promotion"], False
        if not mentions and not sector:
            return 0, ["not about the brand, its competitors or the sector"], False
        intents = current.intents
        status = current.customer_status
        brand = [m for m in mentions if m.role == "brand"]
        competitors = list(dict.fromkeys(m.entity for m in mentions if m.role == "competitor"))
        score, reasons = 0, []
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
        for intent in intents:
            points, reason = INTENT_POINTS[intent]
            score += points
            reasons.append(reason)
        if status == "prospect":
            score += 20
            reasons.append(f"is not yet a customer of {self.brand}")
        elif status == "customer":
            score += 5
            reasons.append(f"is a customer of {self.brand}")
        surface = current.surface_decided
        if surface is None:
            surface = self._surface(brand, competitors, set(intents), status, sector)
        return min(score, 100 if surface else UNSURFACED_MAX), reasons, surface

    @staticmethod
    def _surface(brand: list, competitors: list, intents: set, status: str, sector: bool) -> bool:
        if brand and intents & {"question", "complaint", "churn", "recommendation_request"}:
            return True
        if status == "prospect" and sector and intents & {"question", "recommendation_request"}:
            return True
        if competitors and intents & {"complaint", "churn"}:
            return True
        return False


@Language.factory("listener_lead", default_config={"brand": ""})
def make_lead_scorer(nlp: Language, name: str, brand: str) -> LeadScorer:
    register()
    return LeadScorer(brand)
