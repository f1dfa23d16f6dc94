"""The test node (tests/es_node.py, through the session fixture es_url) runs with the listener-analysis
plugin, whose filters fold accents, strip elided articles, drop stop words and stem."""

import json
import re
import urllib.request
import uuid
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1] / "es-plugin"

# The order listener's index uses: stemmers see the accents they expect, folding comes last.
ANALYZERS = {
    "es": ["lowercase", "listener_stop_es", "listener_stem_es", "listener_folding"],
    "ca": ["lowercase", "listener_elision", "listener_stop_ca", "listener_stem_ca", "listener_folding"],
    "pt": ["lowercase", "listener_stop_pt", "listener_stem_pt", "listener_folding"],
    "en": ["lowercase", "listener_stop_en", "listener_stem_en", "listener_folding"],
}


@pytest.fixture(scope="module")
def index_url(es_url):
    url = f"{es_url}/analysis-check-{uuid.uuid4().hex[:8]}"
    analyzers = {name: {"tokenizer": "standard", "filter": chain} for name, chain in ANALYZERS.items()}
    request("PUT", url, {"settings": {"analysis": {"analyzer": analyzers}}})
    yield url
    request("DELETE", url)


def request(method: str, url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    outgoing = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(outgoing, timeout=30) as response:
        return json.load(response)


def tokens(index_url: str, analyzer: str, text: str) -> list[str]:
    result = request("POST", f"{index_url}/_analyze", {"analyzer": analyzer, "text": text})
    return [token["token"] for token in result["tokens"]]


@pytest.mark.elasticsearch
@pytest.mark.parametrize(
    "analyzer, text, variant, expected",
    [
        ("es", "Las Películas", "la pelicula", ["pelicul"]),
        ("ca", "L'entrada", "les entrades", ["entr"]),
        ("pt", "As canções", "a cancao", ["canca"]),
        ("en", "The company's", "companies", ["compani"]),
    ],
)
def test_language_analyzer_gives_one_token_for_word_variants(index_url, analyzer, text, variant, expected):
    assert tokens(index_url, analyzer, text) == expected
    assert tokens(index_url, analyzer, variant) == expected


@pytest.mark.elasticsearch
def test_folding_turns_accented_letters_into_ascii(index_url):
    assert tokens(index_url, "es", "Ñandú Çà") == ["nandu", "ca"]


def test_plugin_declares_every_named_component():
    sources = (PLUGIN / "src/main/java/listener/analysis").glob("*.java")
    annotated = {
        re.search(r'@NamedComponent\("(\w+)"\)', path.read_text()).group(1): f"listener.analysis.{path.stem}"
        for path in sources
    }
    declared = json.loads((PLUGIN / "src/main/plugin/named_components.json").read_text())
    assert declared == {"org.elasticsearch.plugin.analysis.TokenFilterFactory": annotated}
