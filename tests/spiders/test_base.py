import pytest
from pydantic import ValidationError

from listener.config import Config, EntityConfig, SectorConfig, SourceConfig
from listener.errors import ConfigError
from spiders.base import Terms, html_text, validate_options
from spiders.hackernews import HackerNewsOptions
from spiders.progress import Gap
from spiders.settings import PROJECT_URL
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply

SEARCH = "/api/v1/search_by_date"


def test_terms_gather_brand_and_competitors_without_repeats():
    config = Config(
        brand=EntityConfig(name="Cinesa", aliases=["cinesa", "Cinesa Luxe"], handles=["cinesa"], hashtags=["cinesa"]),
        competitors=[EntityConfig(name="Yelmo", handles=["@yelmocines"])],
        sector=SectorConfig(keywords=["cine", "Cine"]),
    )
    terms = Terms.from_config(config)
    assert terms.names == ("Cinesa", "Cinesa Luxe", "Yelmo")
    assert terms.handles == ("@cinesa", "@yelmocines")
    assert terms.hashtags == ("#cinesa",)
    assert terms.keywords == ("cine",)


def test_html_text_keeps_paragraphs_and_unescapes():
    assert html_text("<p>One &amp; two</p><p>three<br>four</p>") == "One & two\n\nthree\n\nfour"


def test_unknown_option_names_source_key_and_valid_options():
    source = SourceConfig(kind="hackernews", name="hn-es", treads=True)
    with pytest.raises(ConfigError) as error:
        validate_options(HackerNewsOptions, source)
    message = str(error.value)
    assert "'hn-es'" in message and "'treads'" in message and "threads" in message


def test_bad_option_value_is_rejected_with_what_was_found():
    with pytest.raises(ConfigError, match="hits_per_page.*5000"):
        validate_options(HackerNewsOptions, SourceConfig(kind="hackernews", hits_per_page=5000))


def _two_pages(second):
    def route(request):
        if request.param("page") == "1":
            return second
        payload = fixture("hackernews", "search_by_date.json")
        payload["nbPages"] = 2
        return payload
    return route


def test_truncated_json_is_counted_and_earlier_pages_are_kept():
    truncated = Reply(200, b'{"hits": [{"objectID": "1", "auth')
    with LocalServer({SEARCH: _two_pages(truncated)}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"], threads=False))
    assert len(result.posts) == 3
    assert result.stats["source/errors/bad_json"] == 1
    # The query did not finish: the next run reads what is older than the first page again.
    gap = Gap.parse(result.cursors["cinesa"])
    assert gap.before == str(min(int(p.created_at.timestamp()) for p in result.posts))


def test_html_error_page_with_status_200_is_counted():
    page = Reply(200, "<html><body>Service temporarily unavailable</body></html>")
    with LocalServer({SEARCH: _two_pages(page)}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"], threads=False))
    assert len(result.posts) == 3
    assert result.stats["source/errors/not_json"] == 1
    assert any("/api/v1/search_by_date" in e and "HTML" in e for e in result.errors)


def test_a_failing_query_does_not_stop_the_others():
    def route(request):
        if request.param("query") == "broken":
            return Reply(200, b"{")
        return fixture("hackernews", "search_by_date.json")

    with LocalServer({SEARCH: route}) as server:
        result = run(local_source("hackernews", server.url, queries=["broken", "cinesa"], threads=False))
    assert len(result.posts) == 3
    assert list(result.cursors) == ["cinesa"]


def test_body_over_the_size_cap_is_refused_and_counted():
    big = fixture("hackernews", "search_by_date.json")
    big["padding"] = "x" * 50_000
    with LocalServer({SEARCH: big}) as server:
        result = run(local_source("hackernews", server.url, queries=["cinesa"]), DOWNLOAD_MAXSIZE=10_000)
    assert result.posts == []
    assert result.stats["source/errors/too_large"] == 1


def test_default_user_agent_names_listener_and_its_project_url():
    with LocalServer({SEARCH: {"hits": [], "page": 0, "nbPages": 1}}) as server:
        run(local_source("hackernews", server.url, queries=["cinesa"]))
    assert server.requests[0].headers["User-Agent"] == f"listener/0.1 (+{PROJECT_URL})"


def test_source_contact_is_added_to_the_user_agent():
    with LocalServer({SEARCH: {"hits": [], "page": 0, "nbPages": 1}}) as server:
        run(local_source("hackernews", server.url, queries=["cinesa"], contact="mailto:ops@acme.test"))
    assert server.requests[0].headers["User-Agent"] == f"listener/0.1 (+{PROJECT_URL}; mailto:ops@acme.test)"


def test_a_contact_that_would_break_the_header_is_rejected():
    with pytest.raises(ValidationError, match="contact"):
        SourceConfig(kind="hackernews", contact="ops@acme.test\r\nX-Injected: 1")


def test_source_user_agent_replaces_the_default():
    with LocalServer({SEARCH: {"hits": [], "page": 0, "nbPages": 1}}) as server:
        run(local_source("hackernews", server.url, queries=["cinesa"], user_agent="acme-listening/1.0 (ops@acme.test)"))
    assert server.requests[0].headers["User-Agent"] == "acme-listening/1.0 (ops@acme.test)"
