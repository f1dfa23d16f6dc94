"""Fixtures for the NLP tests: configurations, analyzers built once, and blank pipelines."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from listener.config import Config, EntityConfig, SectorConfig, load_config
from nlp import Analyzer
from nlp.attributes import register
from tests.factories import post

ROOT = Path(__file__).resolve().parents[2]

CINEMA = Config(
    brand=EntityConfig(name="Cinesa", aliases=["cinesa"], handles=["@cinesa"], hashtags=["#Cinesa"]),
    competitors=[
        EntityConfig(name="Yelmo Cines", aliases=["yelmo cines", "yelmo"], handles=["@yelmocines"]),
        EntityConfig(name="Kinépolis", aliases=["kinepolis"]),
    ],
    sector=SectorConfig(keywords=["cine", "película", "sala", "palomitas", "entradas de cine"], exclude=["sala de espera"]),
)


# The rules' own tests read with the rules alone: the learned model has tests of its own.
@pytest.fixture(scope="session")
def cinema() -> Analyzer:
    return Analyzer(CINEMA, reading="rules")


@pytest.fixture(scope="session")
def bank() -> Analyzer:
    return Analyzer(load_config(ROOT / "config" / "bank.yaml"), reading="rules")


@pytest.fixture(scope="session")
def airline() -> Analyzer:
    return Analyzer(load_config(ROOT / "config" / "airline.yaml"), reading="rules")


@pytest.fixture(scope="session")
def telecom() -> Analyzer:
    return Analyzer(load_config(ROOT / "config" / "telecom.yaml"), reading="rules")


def entities(config: Config) -> list[dict]:
    return [dict(entity.model_dump(), role=role) for entity, role in config.entities]


def blank(lang: str, *components: tuple[str, dict]) -> spacy.Language:
    """A blank pipeline with only the listener components named."""
    register()
    nlp = spacy.blank(lang)
    for name, config in components:
        nlp.add_pipe(name, config=config)
    return nlp


def run(nlp: spacy.Language, text: str, **post_fields):
    """Run ``nlp`` on ``text`` as the text of a post with ``post_fields``."""
    doc = nlp.make_doc(text)
    doc._.listener_post = post(text, **post_fields)
    return nlp(doc)
