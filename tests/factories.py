"""Small builders for records in tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

from listener.records import Analysis, IndexedPost, Mention, Post

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
_ids = count(1)


def post(text: str = "¿Alguien sabe si Cinesa abre hoy?", *, minutes: int = 0, **fields) -> Post:
    number = next(_ids)
    values = {
        "id": f"test:{number}",
        "source": "test",
        "url": f"https://example.org/p/{number}",
        "author": f"user{number}",
        "author_name": f"User {number}",
        "text": text,
        "created_at": T0 + timedelta(minutes=minutes),
    }
    values.update(fields)
    if "id" not in fields and "source" in fields:
        values["id"] = f"{fields['source']}:{number}"
    return Post(**values)


def analysis(*, entities: tuple[str, ...] = ("Cinesa",), role: str = "brand", **fields) -> Analysis:
    mentions = tuple(Mention(entity=e, role=role if i == 0 else "competitor", text=e.lower(), start=0, end=len(e), how="name") for i, e in enumerate(entities))
    values = {
        "language": "es",
        "mentions": mentions,
        "sector": True,
        "intents": ("question",),
        "customer_status": "prospect",
        "lead_score": 50,
        "reasons": ("asks a question",),
        "surface": True,
        "greeting": "Hola",
    }
    values.update(fields)
    return Analysis(**values)


def doc(text: str = "¿Alguien sabe si Cinesa abre hoy?", *, minutes: int = 0, answer_state: str = "unanswered",
        post_fields: dict | None = None, **analysis_fields) -> IndexedPost:
    return IndexedPost(
        post=post(text, minutes=minutes, **(post_fields or {})),
        analysis=analysis(**analysis_fields),
        answer_state=answer_state,
    )
