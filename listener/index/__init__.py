"""Index backends, chosen by name in the configuration (``index.backend``)."""

from __future__ import annotations

from importlib import import_module

from listener.errors import ConfigError
from listener.index.base import BaseBackend, SearchQuery, SearchResult, WriteResult, inbox_query

BACKENDS = {
    "sqlite": "listener.index.sqlite:SQLiteBackend",
    "elasticsearch": "listener.index.elasticsearch:ElasticsearchBackend",
}

__all__ = ["BACKENDS", "BaseBackend", "SearchQuery", "SearchResult", "WriteResult", "inbox_query", "open_backend"]


def backend_class(name: str) -> type[BaseBackend]:
    try:
        module, _, cls = BACKENDS[name].partition(":")
    except KeyError:
        raise ConfigError(f"unknown index backend {name!r} (choices: {', '.join(BACKENDS)})")
    return getattr(import_module(module), cls)


def open_backend(config) -> BaseBackend:
    """The backend the configuration names, with its schema in place."""
    backend = backend_class(config.index.backend).from_config(config)
    backend.ensure_schema()
    return backend
