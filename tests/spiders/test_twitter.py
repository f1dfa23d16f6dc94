from datetime import datetime, timedelta, timezone

from listener.config import Config, EntityConfig
from listener.records import parse_time
from spiders.progress import Gap
from spiders.twitter import parse_search, snowflake_id
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer

SEARCH = "/2/tweets/search/recent"


def test_tweet_gets_author_from_expansions_and_reply_count():
    post = parse_search(fixture("twitter", "search_recent.json"), "x").posts[0]
    assert post.id == "x:1897312345678901234"
    assert post.author == "@pepa_cine" and post.author_name == "Pepa Cine"
    assert post.reply_count == 2
    assert post.lang == "es"
    assert post.url == "https://x.com/pepa_cine/status/1897312345678901234"


def test_reply_points_at_the_tweet_it_answers_and_its_conversation():
    post = parse_search(fixture("twitter", "search_recent.json"), "x").posts[1]
    assert post.parent_id == "x:1897300000000000001"
    assert post.thread_id == "x:1897300000000000001"


def test_author_missing_from_includes_is_none():
    post = parse_search(fixture("twitter", "search_recent.json"), "x").posts[2]
    assert post.author is None
    assert post.url == "https://x.com/i/web/status/1897299999999999999"


def test_next_token_leads_to_the_next_page():
    assert parse_search(fixture("twitter", "search_recent.json"), "x").next.startswith("b26v89")
    assert parse_search(fixture("twitter", "search_recent_page2.json"), "x").next is None


def test_empty_result_has_no_posts():
    page = parse_search(fixture("twitter", "empty.json"), "x")
    assert page.posts == [] and page.problems == []


def test_a_real_recorded_search_without_created_at_is_dated_by_its_snowflake_ids():
    # Recorded from the live API without tweet.fields: id and text only; each text says when it was sent.
    page = parse_search(fixture("twitter", "recorded_search_recent.json"), "x")
    assert len(page.posts) == 10 and page.problems == []
    for post in page.posts:
        written = datetime.fromisoformat(post.text.split(" tweepy")[0]).replace(tzinfo=timezone.utc)
        assert abs(post.created_at - written) < timedelta(seconds=1)


def test_a_tweet_without_a_time_or_a_snowflake_id_is_named_as_skipped():
    page = parse_search({"data": [{"id": "1001", "text": "hola"}]}, "x")
    assert page.posts == [] and "1001" in page.problems[0] and "snowflake" in page.problems[0]


def _api(request):
    if request.param("query").startswith("conversation_id:"):
        return fixture("twitter", "conversation.json")
    if request.param("since_id") == "1897312345678901234":
        return fixture("twitter", "empty.json")
    if request.param("next_token") or request.param("until_id") == "1897299999999999999":
        return fixture("twitter", "search_recent_page2.json")  # what is older than the first page
    return fixture("twitter", "search_recent.json")


def test_crawl_sends_the_bearer_token_and_asks_for_expansions(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    with LocalServer({SEARCH: _api}) as server:
        run(local_source("twitter", server.url, queries=["cinesa"]))
    first = server.requests[0]
    assert first.headers["Authorization"] == "Bearer test-token"
    assert first.param("expansions") == "author_id,in_reply_to_user_id"
    assert "conversation_id" in first.param("tweet.fields") and "public_metrics" in first.param("tweet.fields")
    assert first.param("user.fields") == "username,name"


def test_crawl_follows_next_token_and_keeps_the_newest_id(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    with LocalServer({SEARCH: _api}) as server:
        result = run(local_source("twitter", server.url, queries=["cinesa"]))
    pages = [r for r in server.requests if not r.param("query").startswith("conversation_id:")]
    assert pages[1].param("next_token").startswith("b26v89")
    assert len(result.posts) == 4
    assert result.cursors == {"cinesa": "1897312345678901234"}


def test_a_listing_cut_short_by_max_pages_is_read_to_its_end_by_the_next_run(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    with LocalServer({SEARCH: _api}) as server:
        source = local_source("twitter", server.url, queries=["cinesa"], max_pages=1, threads=False)
        first = run(source)
        second = run(source, cursors=first.cursors)
    gap = Gap.parse(first.cursors["cinesa"])
    searches = [r for r in server.requests if r.param("until_id")]
    assert gap.newest == "1897312345678901234" and searches[0].param("until_id") == gap.before
    assert len(first.posts) + len(second.posts) == 4
    assert second.cursors == {"cinesa": "1897312345678901234"}


def test_rerun_asks_only_for_ids_after_the_cursor(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    with LocalServer({SEARCH: _api}) as server:
        first = run(local_source("twitter", server.url, queries=["cinesa"]))
        count = len(server.requests)
        second = run(local_source("twitter", server.url, queries=["cinesa"]), cursors=first.cursors)
    rerun = server.requests[count]
    assert rerun.param("since_id") == "1897312345678901234" and rerun.param("start_time") is None
    assert second.posts == []


def test_first_run_back_fill_stays_inside_the_seven_day_window(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    with LocalServer({SEARCH: fixture("twitter", "empty.json")}) as server:
        run(local_source("twitter", server.url, queries=["cinesa"], backfill="30d"))
    sent = server.requests[0].param("start_time")
    assert sent.endswith("Z") and len(sent) == len("2025-03-02T10:15:00Z")
    assert datetime.now(timezone.utc) - parse_time(sent) < timedelta(days=7)


def test_threads_learn_who_replied(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    with LocalServer({SEARCH: _api}) as server:
        result = run(local_source("twitter", server.url, queries=["cinesa"]))
    post = next(p for p in result.posts if p.id == "twitter:1897312345678901234")
    assert post.replied_by == ("@cinesa",)
    lookups = [r.param("query") for r in server.requests if r.param("query").startswith("conversation_id:")]
    # The reply inside someone else's conversation is looked up too; the root with no replies is not.
    assert sorted(lookups) == ["conversation_id:1897300000000000001", "conversation_id:1897312345678901234"]


def test_missing_token_is_reported_without_any_request(monkeypatch):
    monkeypatch.delenv("LISTENER_TWITTER_BEARER_TOKEN", raising=False)
    with LocalServer({SEARCH: _api}) as server:
        result = run(local_source("twitter", server.url, queries=["cinesa"]))
    assert server.requests == []
    assert "LISTENER_TWITTER_BEARER_TOKEN" in result.errors[0]


def test_query_is_built_from_names_handles_hashtags_and_languages(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    config = Config(brand=EntityConfig(name="Cinesa", aliases=["Cinesa Luxe"], handles=["@cinesa"], hashtags=["#cinesa"]),
                    languages=["es", "ca"])
    with LocalServer({SEARCH: fixture("twitter", "empty.json")}) as server:
        run(local_source("twitter", server.url), config=config)
    assert server.requests[0].param("query") == '(Cinesa OR "Cinesa Luxe" OR @cinesa OR #cinesa) (lang:es OR lang:ca) -is:retweet'


def test_long_term_lists_are_split_into_queries_under_the_limit(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    names = [f"brandname{i:03d}" for i in range(60)]
    config = Config(brand=EntityConfig(name="Cinesa", aliases=names), languages=["es"])
    with LocalServer({SEARCH: fixture("twitter", "empty.json")}) as server:
        run(local_source("twitter", server.url), config=config)
    queries = [r.param("query") for r in server.requests]
    assert len(queries) > 1
    assert all(len(q) <= 512 for q in queries)


def test_a_since_id_from_the_year_3000_does_not_stop_new_tweets(monkeypatch):
    monkeypatch.setenv("LISTENER_TWITTER_BEARER_TOKEN", "test-token")
    made = datetime.now(timezone.utc) + timedelta(seconds=2)
    recorded = fixture("twitter", "search_recent.json")
    tweet = {**recorded["data"][0], "id": str(int(snowflake_id(made)) + 1),
             "created_at": made.isoformat().replace("+00:00", "Z")}
    tweet["conversation_id"] = tweet["id"]

    def search(request):  # as X does: only tweets newer than since_id
        since = request.param("since_id")
        fresh = since is None or int(since) < int(tweet["id"])
        return {"data": [tweet], "includes": recorded["includes"]} if fresh else {"meta": {"result_count": 0}}

    with LocalServer({SEARCH: search}) as server:
        source = local_source("twitter", server.url, queries=["cinesa"], threads=False)
        result = run(source, cursors={"cinesa": snowflake_id(datetime(3000, 1, 1, tzinfo=timezone.utc))})
    assert int(server.requests[0].param("since_id")) <= int(snowflake_id(datetime.now(timezone.utc)))
    assert [p.id for p in result.posts] == [f"twitter:{tweet['id']}"]
