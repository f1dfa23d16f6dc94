"""A small, fixed corpus for the web tests: every filter, chart and edge case has a post."""

from __future__ import annotations

from datetime import timedelta

from listener.config import parse_config
from listener.records import Analysis, IndexedPost, Mention, Post
from tests.factories import T0

NOW = T0 + timedelta(hours=2)  # Friday 20 Nov 2026, 11:00 UTC (12:00 in Madrid)

CONFIG = """
brand: {name: Cinesa, aliases: [cinesa], handles: ["@cinesa"]}
competitors:
  - {name: Yelmo Cines, aliases: [yelmo], handles: ["@yelmocines"]}
  - {name: Kinépolis, aliases: [kinepolis, kinépolis]}
schedule:
  timezone: Europe/Madrid
  sla_minutes: 60
  service_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}
web:
  secure_cookies: true
  page_size: 5
ui: {language: en}  # the assertions read English; tests/web/test_i18n.py covers Spanish and Catalan
"""

ROLES = {"Cinesa": "brand", "Yelmo Cines": "competitor", "Kinépolis": "competitor"}
ALIASES = {"Cinesa": ("Cinesa",), "Yelmo Cines": ("Yelmo",), "Kinépolis": ("Kinépolis",)}
BLUESKY_ID = "bluesky:at://did:plc:abc/app.bsky.feed.post/3k"


def config(**web):
    parsed = parse_config(CONFIG, "tests/web/corpus.py")
    return parsed.model_copy(update={"web": {**parsed.web, **web}})


def mentions(text: str) -> tuple[Mention, ...]:
    found = []
    for entity, aliases in ALIASES.items():
        for alias in aliases:
            start = text.find(alias)
            if start >= 0:
                found.append(Mention(entity, ROLES[entity], alias, start, start + len(alias), "name"))
    return tuple(sorted(found, key=lambda m: m.start))


def item(number: int, text: str, minutes: int, *, source: str = "twitter", intents=("question",), score: int = 50,
         language: str = "es", customer: str = "prospect", answer: str = "unanswered", surface: bool = True,
         reply_after: int | None = None, author_name: str | None = None, url: str | None = None, id: str | None = None,
         reasons=None, greeting: str = "Hola") -> IndexedPost:
    created = T0 + timedelta(minutes=minutes)
    post_id = id or f"{source}:{number}"
    return IndexedPost(
        post=Post(
            id=post_id, source=source, url=url or f"https://example.org/{source}/{number}", author=f"user{number}",
            author_name=author_name or f"User {number}", text=text, created_at=created,
            first_reply_at=created + timedelta(minutes=reply_after) if reply_after is not None else None,
        ),
        analysis=Analysis(
            language=language, mentions=mentions(text), sector=True, intents=tuple(intents), customer_status=customer,
            lead_score=score, reasons=tuple(reasons or [f"{i.replace('_', ' ')}" for i in intents]), surface=surface, greeting=greeting,
        ),
        answer_state=answer,
    )


def corpus() -> list[IndexedPost]:
    return [
        item(1, "¿Alguien sabe si Cinesa abre el lunes festivo?", 30, score=90),
        item(2, "La app de Cinesa no me deja pagar las entradas", 60, intents=("complaint",), score=70, customer="customer"),
        item(3, "La app de Yelmo falla al pagar las entradas, qué desastre", 10, source="reddit", intents=("complaint",), score=60,
             answer="answered_by_competitor", reply_after=30),
        item(4, "L'app de Yelmo no funciona per pagar", 20, source="mastodon", intents=("complaint",), score=55, language="ca"),
        item(5, "Las palomitas de Yelmo estaban frías y la sala sucia", 40, intents=("complaint",), score=40),
        item(6, "Does Kinépolis have IMAX screenings in Madrid?", 50, language="en", score=65, answer="answered", reply_after=120),
        item(7, "Me paso de Yelmo a Cinesa, harto de la app", 70, intents=("churn",), score=75),
        item(8, "Adiós Cinesa, me voy a Kinépolis para siempre", 80, intents=("churn", "complaint"), score=85),
        item(9, "Cinesa o Yelmo, ya no sé a cuál ir; me borro de la tarjeta", 90, intents=("churn",), score=45),
        item(10, "Adorei a sessão na Cinesa ontem!", 5, language="pt", intents=("praise",), score=10, surface=False),
        item(11, "¿La tarjeta de Cinesa sirve para dos personas?", 100, source="bluesky", id=BLUESKY_ID, score=80, customer="customer",
             answer="answered_by_brand", reply_after=15),
        item(12, "Any recommendations between Cinesa and Yelmo for Dune?", 110, source="forum", language="en",
             intents=("recommendation_request",), score=80, answer="unknown"),
        item(13, "Qué calor hace hoy en Madrid", 3, intents=(), score=0, surface=False),
        item(14, "¿Cinesa tiene descuento para estudiantes?", 15, author_name="<script>alert(1)</script> Pepe",
             url="javascript:alert(1)", score=30),
    ]
