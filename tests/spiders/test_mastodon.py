from datetime import datetime, timedelta, timezone

from listener.config import Config, EntityConfig
from listener.threads import reply_state, thread_facts
from spiders.mastodon import parse_context, parse_statuses, status_id
from spiders.progress import Gap
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply, Turns

TAG = "/api/v1/timelines/tag/cinesa"


def test_status_gets_full_handle_plain_text_and_reply_count():
    post = parse_statuses(fixture("mastodon", "timeline_tag.json"), "m").posts[0]
    assert post.id == "m:113900000000000030"
    assert post.author == "@laia@mastodon.social" and post.author_name == "Laia"
    assert post.text == "Algú sap si la #cinesa card val per a 3D?"
    assert post.reply_count == 2 and post.lang == "ca"
    assert post.url == "https://mastodon.social/@laia/113900000000000030"


def test_boosts_are_left_out():
    ids = [p.id for p in parse_statuses(fixture("mastodon", "timeline_tag.json"), "m").posts]
    assert "m:113900000000000025" not in ids and len(ids) == 2


def test_reply_points_at_its_parent_and_content_warning_becomes_title():
    post = parse_statuses(fixture("mastodon", "timeline_tag.json"), "m").posts[1]
    assert post.parent_id == "m:113899999999999999"
    assert post.author == "@quimet@mastodon.cat"
    assert post.title == "queixa"


def test_next_page_starts_below_the_oldest_id():
    assert parse_statuses(fixture("mastodon", "timeline_tag.json"), "m").next == "113900000000000020"
    assert parse_statuses([], "m").next is None


def test_search_results_are_read_from_statuses():
    posts = parse_statuses(fixture("mastodon", "search.json"), "m").posts
    assert [p.id for p in posts] == ["m:113900000000000030"]


def _asked(**fields):
    """The status the context was asked for, as a timeline gave it."""
    return parse_statuses(fixture("mastodon", "timeline_tag.json"), "m").posts[0]


def test_context_gives_each_status_its_parent_and_adds_the_one_asked_for():
    asked = _asked()
    thread = parse_context(fixture("mastodon", "context.json"), "m", asked.id, [asked])
    assert [(p.id, p.author, p.parent_id) for p in thread.posts] == [
        ("m:113900000000000040", "@cinesa@mastodon.cinesa.example", "m:113900000000000030"),
        ("m:113900000000000050", "@laia@mastodon.social", "m:113900000000000040"),
        (asked.id, asked.author, None)]
    assert thread.root == asked.id


def test_context_of_a_reply_names_the_root():
    thread = parse_context(fixture("mastodon", "context_reply.json"), "m", "m:113900000000000040", [])
    assert thread.root == "m:113900000000000030"


def test_the_brands_account_on_its_own_server_answers_and_a_namesake_elsewhere_does_not():
    asked = _asked()
    thread = parse_context(fixture("mastodon", "context.json"), "m", asked.id, [asked])
    facts = thread_facts(asked, thread.posts, addressed=thread.addressed)
    ours = EntityConfig(name="Cinesa", accounts={"mastodon": ["@cinesa@mastodon.cinesa.example"]})
    namesake = EntityConfig(name="Cinesa", accounts={"mastodon": ["@cinesa@mastodon.social"]})
    assert reply_state(facts, Config(brand=ours, sources=[{"kind": "mastodon", "name": "m"}])).answered_by == "brand"
    assert reply_state(facts, Config(brand=namesake, sources=[{"kind": "mastodon", "name": "m"}])).answered_by == "other"


def _timeline(request):
    if request.param("max_id") == "113900000000000020":
        return fixture("mastodon", "timeline_tag_older.json")
    if request.param("max_id") == "113900000000000010":
        return []
    if request.param("since_id") == "113900000000000030":
        return []
    return fixture("mastodon", "timeline_tag.json")


ROUTES = {
    TAG: _timeline,
    "/api/v1/statuses/113900000000000030/context": fixture("mastodon", "context.json"),
    "/api/v2/search": lambda r: {"accounts": [], "statuses": [], "hashtags": []} if r.param("max_id")
    else fixture("mastodon", "search.json"),
}


def _source(url, **options):
    options.setdefault("hashtags", ["cinesa"])
    return local_source("mastodon", url, queries=["cinesa"], **options)


def test_hashtag_timeline_is_paged_with_max_id_without_a_token(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)
    with LocalServer(ROUTES) as server:
        result = run(_source(server.url))
    assert [r.param("max_id") for r in server.requests if r.path == TAG] == [None, "113900000000000020", "113900000000000010"]
    assert "/api/v2/search" not in server.paths()
    assert len(result.posts) == 3
    assert result.cursors == {"#cinesa": "113900000000000030"}


def test_a_timeline_cut_short_by_max_pages_is_read_to_its_end_by_the_next_runs(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)
    with LocalServer(ROUTES) as server:
        source = _source(server.url, max_pages=1, threads=False)
        runs = [run(source)]
        while len(runs) < 5 and Gap.parse(runs[-1].cursors["#cinesa"]):
            runs.append(run(source, cursors=runs[-1].cursors))
    assert Gap.parse(runs[0].cursors["#cinesa"]).before == "113900000000000020"
    assert [r.param("max_id") for r in server.requests][1] == "113900000000000020"  # the next run starts there
    assert sum(len(r.posts) for r in runs) == 3
    assert runs[-1].cursors == {"#cinesa": "113900000000000030"}


def test_context_tells_who_replied(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)
    with LocalServer(ROUTES) as server:
        result = run(_source(server.url))
    post = next(p for p in result.posts if p.id.endswith(":113900000000000030"))
    assert post.replied_by == ("@cinesa@mastodon.cinesa.example",)


def test_rerun_sends_since_id_and_gets_nothing_old(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)
    with LocalServer(ROUTES) as server:
        result = run(_source(server.url), cursors={"#cinesa": "113900000000000030"})
    assert server.requests[0].param("since_id") == "113900000000000030"
    assert result.posts == []


def test_search_uses_the_token_when_set(monkeypatch):
    monkeypatch.setenv("LISTENER_MASTODON_TOKEN", "masto-token")
    with LocalServer(ROUTES) as server:
        result = run(_source(server.url, threads=False))
    search = next(r for r in server.requests if r.path == "/api/v2/search")
    assert search.headers["Authorization"] == "Bearer masto-token"
    assert search.param("type") == "statuses" and search.param("q") == "cinesa"
    assert "search:cinesa" in result.cursors


def test_iso_rate_limit_reset_is_waited_for(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)

    def limited(request):
        reset = datetime.fromtimestamp(datetime.now(timezone.utc).timestamp() + 1.5, timezone.utc)
        return Reply(429, {"error": "Too many requests"},
                     {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                      "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z")})

    with LocalServer({TAG: Turns(limited, [])}) as server:
        result = run(_source(server.url))
    first, second = server.requests
    assert second.at - first.at >= 1.0
    assert result.errors == []


def test_hashtags_default_to_config_hashtags_and_names(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)
    with LocalServer({}) as server:
        run(local_source("mastodon", server.url))
    assert sorted(server.paths()) == ["/api/v1/timelines/tag/cinesa"]


def test_server_ignoring_max_id_ends_the_listing(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)
    with LocalServer({TAG: fixture("mastodon", "timeline_tag.json")}) as server:
        result = run(_source(server.url, threads=False))
    assert len(server.requests) == 2
    assert len(result.cursors) == 1


def test_extra_instances_keep_their_ids_and_cursors_apart(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)
    with LocalServer(ROUTES) as main, LocalServer(ROUTES) as extra:
        result = run(_source(main.url, threads=False, instances=[main.url, extra.url]))
    host = extra.url.split("//")[1]
    assert set(result.cursors) == {"#cinesa", f"{host} #cinesa"}
    assert f"mastodon:{host}:113900000000000030" in {p.id for p in result.posts}
    assert "mastodon:113900000000000030" in {p.id for p in result.posts}


def test_a_since_id_from_the_year_3000_does_not_stop_new_statuses(monkeypatch):
    monkeypatch.delenv("LISTENER_MASTODON_TOKEN", raising=False)
    made = datetime.now(timezone.utc) + timedelta(seconds=2)
    status = {**fixture("mastodon", "timeline_tag.json")[0], "id": str(int(status_id(made)) + 1),
              "created_at": made.isoformat().replace("+00:00", "Z")}

    def timeline(request):  # as a server does: only statuses after since_id and before max_id
        since, below = request.param("since_id"), request.param("max_id")
        fresh = (since is None or int(since) < int(status["id"])) and (below is None or int(below) > int(status["id"]))
        return [status] if fresh else []

    with LocalServer({TAG: timeline}) as server:
        result = run(_source(server.url, threads=False),
                     cursors={"#cinesa": status_id(datetime(3000, 1, 1, tzinfo=timezone.utc))})
    assert int(server.requests[0].param("since_id")) <= int(status_id(datetime.now(timezone.utc)))
    assert [p.id for p in result.posts] == [f"mastodon:{status['id']}"]
