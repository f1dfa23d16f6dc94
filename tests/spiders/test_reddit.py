import base64

from listener.config import Config, EntityConfig
from listener.threads import reply_state, thread_facts
from spiders.progress import Gap
from spiders.reddit import parse_conversation, parse_listing
from spiders.settings import PROJECT_URL
from tests.spiders.bursts import KILLED, Burst, burst_runs, ids, reddit_new
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply


def test_self_post_keeps_title_text_and_comment_count():
    post = parse_listing(fixture("reddit", "search.json"), "reddit").posts[0]
    assert post.id == "reddit:t3_1j1abce"
    assert post.title == "Cinesa card worth it?"
    assert post.text.startswith("Is the Cinesa card worth it")
    assert post.author == "tapas_lover" and post.reply_count == 3
    assert post.url == "https://www.reddit.com/r/Barcelona/comments/1j1abce/cinesa_card_worth_it/"


def test_deleted_author_becomes_none_and_link_post_uses_its_url():
    post = parse_listing(fixture("reddit", "search.json"), "reddit").posts[1]
    assert post.author is None
    assert post.text == "https://example.com/news/cinesa-prices"


def test_after_leads_to_the_next_page():
    assert parse_listing(fixture("reddit", "search.json"), "reddit").next == "t3_1j1abcd"
    assert parse_listing(fixture("reddit", "search_page2.json"), "reddit").next is None


def test_non_listing_is_a_problem_not_a_crash():
    page = parse_listing({"message": "Forbidden", "error": 403}, "reddit")
    assert page.posts == [] and page.problems


def test_comment_tree_gives_each_comment_its_parent_and_leaves_deleted_ones_out():
    tree = parse_conversation(fixture("reddit", "comments_1j1abce.json"), "reddit")
    assert [(p.id, p.author, p.parent_id) for p in tree.posts] == [
        ("reddit:t3_1j1abce", "tapas_lover", None), ("reddit:t1_mfa0001", "Cinesa", "reddit:t3_1j1abce"),
        ("reddit:t1_mfa0002", "tapas_lover", "reddit:t1_mfa0001")]
    assert tree.deleted == {"reddit:t1_mfa0003"}
    assert not tree.complete  # a "more" stub: some comments were not sent


def test_a_reply_by_the_brands_reddit_account_answers_and_the_same_name_elsewhere_does_not():
    tree = parse_conversation(fixture("reddit", "comments_1j1abce.json"), "reddit")
    submission = thread_facts(tree.posts[0], tree.posts, complete=tree.complete)
    on_reddit = Config(brand=EntityConfig(name="Cinesa", handles=["@Cinesa"], accounts={"reddit": ["u/cinesa_es"]}),
                       sources=[{"kind": "reddit"}])
    assert reply_state(submission, Config()).answered_by == "brand"  # @Cinesa everywhere
    assert reply_state(submission, on_reddit).answered_by == "other"  # u/Cinesa is not u/cinesa_es


def test_a_removed_submission_is_deleted_in_its_conversation():
    payload = fixture("reddit", "comments_1j1abce.json")
    payload[0]["data"]["children"][0]["data"].update(author="[deleted]", selftext="[removed]")
    assert "reddit:t3_1j1abce" in parse_conversation(payload, "reddit").deleted


def _routes(token_required=False):
    def search(request):
        if token_required and request.headers.get("Authorization") != "bearer " + fixture("reddit", "token.json")["access_token"]:
            return Reply(401, {"message": "Unauthorized", "error": 401})
        if request.param("after") == "t3_1j1abcd":
            return fixture("reddit", "search_page2.json")
        return fixture("reddit", "search.json")

    comments = Reply(body=fixture("reddit", "comments_1j1abce.json"))
    return {
        "/search.json": search, "/search": search,
        "/comments/1j1abce.json": comments, "/comments/1j1abce": comments,
        "/api/v1/access_token": fixture("reddit", "token.json"),
        "/r/cinesa/new.json": fixture("reddit", "search_page2.json"),
        "/r/cinesa/search.json": {"kind": "Listing", "data": {"after": None, "children": []}},
    }


def test_public_crawl_pages_with_after_and_learns_repliers():
    with LocalServer(_routes()) as server:
        result = run(local_source("reddit", server.url, queries=["cinesa"]))
    assert [r.param("after") for r in server.requests if r.path == "/search.json"] == [None, "t3_1j1abcd"]
    post = next(p for p in result.posts if p.id == "reddit:t3_1j1abce")
    assert post.replied_by == ("Cinesa",)
    assert len(result.posts) == 3
    assert result.cursors == {"search:cinesa": "1740910500"}


def test_requests_carry_a_descriptive_user_agent():
    with LocalServer(_routes()) as server:
        run(local_source("reddit", server.url, queries=["cinesa"]))
    assert server.requests[0].headers["User-Agent"].startswith("python:listener:")


def test_contact_goes_into_reddits_user_agent_format():
    with LocalServer(_routes()) as server:
        run(local_source("reddit", server.url, queries=["cinesa"], contact="u/acme_ops"))
    assert server.requests[0].headers["User-Agent"] == f"python:listener:v0.1 (+{PROJECT_URL}; u/acme_ops)"


def test_rerun_stops_at_the_cursor():
    with LocalServer(_routes()) as server:
        result = run(local_source("reddit", server.url, queries=["cinesa"], threads=False),
                     cursors={"search:cinesa": "1740905000"})
    assert [p.id for p in result.posts] == ["reddit:t3_1j1abce"]
    assert sum(1 for r in server.requests if r.path == "/search.json") == 1


def test_oauth_token_is_fetched_and_used_when_configured(monkeypatch):
    monkeypatch.setenv("LISTENER_REDDIT_CLIENT_ID", "app-id")
    monkeypatch.setenv("LISTENER_REDDIT_CLIENT_SECRET", "app-secret")
    with LocalServer(_routes(token_required=True)) as server:
        result = run(local_source("reddit", server.url, queries=["cinesa"]))
    token_request = server.requests[0]
    assert token_request.path == "/api/v1/access_token" and token_request.method == "POST"
    assert token_request.headers["Authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    assert "/search" in server.paths()  # OAuth paths have no .json
    assert len(result.posts) == 3 and result.errors == []


def test_subreddits_get_search_and_new_listings():
    with LocalServer(_routes()) as server:
        result = run(local_source("reddit", server.url, queries=["cinesa"], subreddits=["r/cinesa"], threads=False))
    assert "/r/cinesa/new.json" in server.paths()
    sub_search = next(r for r in server.requests if r.path == "/r/cinesa/search.json")
    assert sub_search.param("restrict_sr") == "1" and sub_search.param("sort") == "new"
    assert "r/cinesa/new" in result.cursors


# -- bursts ---------------------------------------------------------------------

NEW = "r/cinesa/new"


def _burst_source(url, **options):
    return local_source("reddit", url, subreddits=["cinesa"], search=False, threads=False, limit=10, **options)


def test_a_burst_beyond_max_pages_is_fetched_by_the_next_run_and_then_only_new_posts():
    burst = Burst(55)
    with LocalServer({"/r/cinesa/new.json": reddit_new(burst)}) as server:
        source = _burst_source(server.url, max_pages=3)
        first, second, third, new = burst_runs(burst, lambda cursors: run(source, cursors))
    assert len(first.posts) == 30 and Gap.parse(first.cursors[NEW]).resume == "t3_p26"
    assert server.requests[3].param("after") == "t3_p26"  # run 2 goes on where run 1 stopped
    assert len(ids(first, second)) == len(set(ids(first, second))) == 55
    assert second.cursors[NEW] == str(burst.time(55))
    assert sorted(ids(third)) == sorted(f"reddit:t3_p{n}" for n in new)


def test_a_crawl_killed_mid_listing_keeps_the_cursor_of_the_pages_it_delivered():
    burst = Burst(55)
    burst.stalled = 3
    with LocalServer({"/r/cinesa/new.json": reddit_new(burst)}) as server:
        source = _burst_source(server.url, max_pages=10)
        killed = run(source, **KILLED)
        burst.stalled = None
        rest = run(source, killed.cursors)
    assert any("killed after" in error for error in killed.errors)
    assert len(killed.posts) == 20 and Gap.parse(killed.cursors[NEW]).resume == "t3_p36"
    assert len(ids(killed, rest)) == len(set(ids(killed, rest))) == 55
    assert rest.cursors[NEW] == str(burst.time(55))


def test_a_gap_whose_post_is_gone_is_read_again_from_the_top_and_said():
    burst = Burst(55)
    with LocalServer({"/r/cinesa/new.json": reddit_new(burst)}) as server:
        source = _burst_source(server.url, max_pages=3)
        runs = [run(source)]
        burst.numbers.remove(26)  # the post the gap goes on after
        while len(runs) < 6 and Gap.parse(runs[-1].cursors[NEW]):
            runs.append(run(source, runs[-1].cursors))
    assert any("no longer goes on after t3_p26" in error for error in runs[1].errors)
    assert sorted(ids(*runs)) == sorted(f"reddit:t3_p{n}" for n in range(1, 56))  # each once
    assert runs[-1].cursors[NEW] == str(burst.time(55))
