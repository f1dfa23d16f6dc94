"""The custom attributes listener sets on a spaCy ``Doc``, all named ``listener_*``."""

from __future__ import annotations

from spacy.tokens import Doc

DOC_ATTRIBUTES = {
    "listener_post": None,            # the Post being analysed (author, display name)
    "listener_language": "other",     # es, ca, en, pt or other
    "listener_mentions": (),          # tuple of listener.records.Mention
    "listener_sector": False,
    "listener_sector_terms": (),      # (start, end) of each sector word found
    "listener_intents": (),
    "listener_customer_status": "unknown",
    "listener_customer_of": None,     # the entity whose customer the author is
    "listener_spam": False,
    "listener_own": None,             # the entity name when a company posted it itself
    "listener_lead_score": 0,
    "listener_reasons": (),
    "listener_surface": False,
    "listener_greeting": None,
}


def register() -> None:
    """Register every attribute once; safe to call again."""
    for name, default in DOC_ATTRIBUTES.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
