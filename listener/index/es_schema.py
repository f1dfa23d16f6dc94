"""Index settings and mapping for the Elasticsearch backend.

Text is analysed twice: once folded (any language, accents removed) and once
per language with stop words and a light stemmer, so "películas" finds
"película" and "pelicula" finds both. Facet fields are keywords.

Two flavours of the same analysis chain: the standard distribution's filters
(``asciifolding``, ``stemmer``…, from its analysis-common module) or the
``listener-analysis`` plugin's (for minimal distributions without that module,
such as the test node). :func:`analysis_settings` picks whichever the node has.
"""

from __future__ import annotations

# 2: the team's feedback (``feedback``, and ``feedback_labels`` to find posts that have it).
SCHEMA_VERSION = 2
LANGUAGES = ("es", "ca", "en", "pt")

PLUGIN_FILTERS = {
    "folding": "listener_folding",
    "elision": "listener_elision",
    **{f"stop_{lang}": f"listener_stop_{lang}" for lang in LANGUAGES},
    **{f"stem_{lang}": f"listener_stem_{lang}" for lang in LANGUAGES},
}

STANDARD_FILTERS = {
    "folding": {"type": "asciifolding"},
    "elision": {"type": "elision", "articles_case": True, "articles": ["d", "l", "m", "n", "s", "t"]},
    "stop_es": {"type": "stop", "stopwords": "_spanish_"},
    "stop_ca": {"type": "stop", "stopwords": "_catalan_"},
    "stop_en": {"type": "stop", "stopwords": "_english_"},
    "stop_pt": {"type": "stop", "stopwords": "_portuguese_"},
    "stem_es": {"type": "stemmer", "language": "light_spanish"},
    "stem_ca": {"type": "stemmer", "language": "catalan"},
    "stem_en": {"type": "stemmer", "language": "english"},
    "stem_pt": {"type": "stemmer", "language": "light_portuguese"},
}


def analysis_settings(flavour: str) -> dict:
    """``flavour`` is ``"plugin"`` or ``"standard"``."""
    if flavour == "plugin":
        names = PLUGIN_FILTERS
        filters: dict = {}
    else:
        names = {key: f"listener_{key}" for key in STANDARD_FILTERS}
        filters = {names[key]: spec for key, spec in STANDARD_FILTERS.items()}

    def chain(*keys: str) -> list[str]:
        return ["lowercase", *(names[k] for k in keys)]

    analyzers = {"listener_folded": {"type": "custom", "tokenizer": "standard", "filter": chain("folding")}}
    for lang in LANGUAGES:
        keys = ("elision",) if lang == "ca" else ()
        keys += (f"stop_{lang}", f"stem_{lang}", "folding")
        analyzers[f"listener_{lang}"] = {"type": "custom", "tokenizer": "standard", "filter": chain(*keys)}
    analysis = {"analyzer": analyzers}
    if filters:
        analysis["filter"] = filters
    return analysis


def _text(with_languages: bool) -> dict:
    field = {"type": "text", "analyzer": "listener_folded"}
    if with_languages:
        field["fields"] = {lang: {"type": "text", "analyzer": f"listener_{lang}"} for lang in LANGUAGES}
    return field


KEYWORD = {"type": "keyword"}

MAPPINGS = {
    "dynamic": "strict",
    # Which schema an index was built with (:func:`schema_of` reads it back).
    "_meta": {"schema_version": SCHEMA_VERSION},
    "properties": {
        "id": KEYWORD,
        "source": KEYWORD,
        "author": KEYWORD,
        "author_name": _text(False),
        "title": _text(True),
        "text": _text(True),
        "created_at": {"type": "date"},
        "first_reply_at": {"type": "date"},
        "language": KEYWORD,
        "entity": KEYWORD,
        "role": KEYWORD,
        "intent": KEYWORD,
        "customer_status": KEYWORD,
        "lead_score": {"type": "integer"},
        "surface": {"type": "boolean"},
        "answer_state": KEYWORD,
        "status": KEYWORD,
        "assignee": KEYWORD,
        "version": {"type": "integer"},
        "feedback_labels": KEYWORD,
        # The records themselves, returned as stored and never searched.
        "post": {"type": "object", "enabled": False},
        "analysis": {"type": "object", "enabled": False},
        "workflow": {"type": "object", "enabled": False},
        "feedback": {"type": "object", "enabled": False},
    },
}


def index_settings(flavour: str, shards: int = 1, replicas: int | None = None) -> dict:
    """Settings of a new index; without ``replicas``, one replica where a second node can hold it."""
    copies = {"auto_expand_replicas": "0-1"} if replicas is None else {"number_of_replicas": replicas}
    return {"number_of_shards": shards, **copies, "analysis": analysis_settings(flavour)}


def index_body(flavour: str, shards: int = 1, replicas: int | None = None) -> dict:
    return {"settings": index_settings(flavour, shards, replicas), "mappings": MAPPINGS}


def schema_of(name: str, mapping: dict) -> int:
    """The schema version of index ``name`` from its mapping's ``_meta``, else its ``-v<N>`` name, else 0."""
    version = (mapping.get("_meta") or {}).get("schema_version")
    if isinstance(version, int):
        return version
    head, _, tail = name.rpartition("-v")
    return int(tail) if head and tail.isdigit() else 0
