"""A source's key goes only to the origin it was meant for, whatever the redirects say."""

from urllib.parse import urlencode

from tests.spiders.helpers import local_source, run
from tests.spiders.server import LocalServer, Reply
from tests.spiders.test_discourse import ROUTES

KEY = {"api_key_env": "LISTENER_TEST_DISCOURSE_KEY", "api_username_env": "LISTENER_TEST_DISCOURSE_USER"}


def _moved_to(base: str, path: str = "/search.json"):
    def route(request):
        return Reply(302, b"", headers={"Location": f"{base}{path}?{urlencode(request.query, doseq=True)}"})
    return route


def _names(request) -> set[str]:
    return {name.lower() for name in request.headers}


def _with_key(monkeypatch):
    monkeypatch.setenv("LISTENER_TEST_DISCOURSE_KEY", "k-123456789")
    monkeypatch.setenv("LISTENER_TEST_DISCOURSE_USER", "system")


def test_api_key_is_not_sent_to_another_host_a_redirect_names(monkeypatch):
    _with_key(monkeypatch)
    with LocalServer(ROUTES) as elsewhere:
        with LocalServer({**ROUTES, "/search.json": _moved_to(elsewhere.url.replace("127.0.0.1", "localhost"))}) as forum:
            result = run(local_source("discourse", forum.url, queries=["cinesa"], **KEY))
    first = forum.requests[0]
    assert {"api-key", "api-username"} <= _names(first)
    moved = [r for r in elsewhere.requests if r.path == "/search.json"]
    assert moved and all(not {"api-key", "api-username"} & _names(r) for r in moved)
    assert result.stats["source/credentials_dropped"] == len(moved)


def test_api_key_follows_a_redirect_on_the_same_origin(monkeypatch):
    _with_key(monkeypatch)
    routes = {**ROUTES, "/search.json": _moved_to("", "/search2.json"), "/search2.json": ROUTES["/search.json"]}
    with LocalServer(routes) as forum:
        result = run(local_source("discourse", forum.url, queries=["cinesa"], **KEY))
    moved = [r for r in forum.requests if r.path == "/search2.json"]
    assert moved and all({"api-key", "api-username"} <= _names(r) for r in moved)
    assert "source/credentials_dropped" not in result.stats
