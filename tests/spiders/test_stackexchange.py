from datetime import datetime, timezone

from spiders.progress import Gap
from listener.config import Config, EntityConfig
from listener.threads import reply_state, thread_facts
from spiders.stackexchange import api_state, parse_answers, parse_questions
from tests.spiders.helpers import fixture, local_source, run
from tests.spiders.server import LocalServer, Reply

SEARCH = "/2.3/search/advanced"
ANSWERS = "/2.3/questions/79470100/answers"


def test_question_has_unescaped_title_text_and_answer_count():
    post = parse_questions(fixture("stackexchange", "search_advanced.json"), "se", "stackoverflow").posts[0]
    assert post.id == "se:stackoverflow:79470100"
    assert post.title == "How to get showtimes from the Cinesa API?"
    assert post.text == "I'm calling the Cinesa showtimes endpoint but get 403. Is there a public API?"
    assert post.author == "Jordi Pérez"
    assert post.reply_count == 2


def test_deleted_owner_has_no_handle_but_keeps_the_name():
    post = parse_questions(fixture("stackexchange", "search_advanced.json"), "se", "stackoverflow").posts[1]
    assert post.author is None and post.author_name == "user4412"
    assert post.title == 'Scraping Cinesa seat map "canvas"'


def test_answers_are_replies_to_their_question():
    answers = parse_answers(fixture("stackexchange", "answers.json"), "se", "stackoverflow")["se:stackoverflow:79470100"]
    assert [(a.author, a.parent_id) for a in answers] == [("cinesa", "se:stackoverflow:79470100"),
                                                          ("dev_ana", "se:stackoverflow:79470100")]
    assert answers[0].created_at == datetime.fromtimestamp(1740915000, timezone.utc)


def test_a_question_answered_by_the_brands_account_on_the_site_is_answered_by_the_brand():
    question = parse_questions(fixture("stackexchange", "search_advanced.json"), "se", "stackoverflow").posts[0]
    answers = parse_answers(fixture("stackexchange", "answers.json"), "se", "stackoverflow")[question.id]
    brand = EntityConfig(name="Cinesa", handles=["@CinesaOficial"], accounts={"stackexchange": ["cinesa"]})
    config = Config(brand=brand, sources=[{"kind": "stackexchange", "name": "se"}])
    assert reply_state(thread_facts(question, answers), config).answered_by == "brand"


def test_backoff_and_quota_are_read_from_the_wrapper():
    assert api_state({"items": [], "backoff": 10, "quota_remaining": 5}) == (10.0, 5)
    assert api_state(fixture("stackexchange", "search_advanced.json")) == (0.0, 9987)


def _search(request):
    payload = fixture("stackexchange", "search_advanced.json")
    since = int(request.param("fromdate"))
    until = int(request.param("todate") or 2**40)
    payload["items"] = [i for i in payload["items"] if since <= i["creation_date"] <= until]
    return payload


ROUTES = {SEARCH: _search, ANSWERS: fixture("stackexchange", "answers.json")}


def test_crawl_learns_who_answered():
    with LocalServer(ROUTES) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa"]))
    post = next(p for p in result.posts if p.id == "stackexchange:stackoverflow:79470100")
    assert post.replied_by == ("cinesa", "dev_ana")
    assert result.cursors == {"stackoverflow:cinesa": "1740910500"}


def test_search_asks_for_newest_first_with_bodies_on_each_site():
    with LocalServer(ROUTES) as server:
        run(local_source("stackexchange", server.url, queries=["cinesa"], sites=["stackoverflow", "superuser"],
                         threads=False))
    searches = [r for r in server.requests if r.path == SEARCH]
    assert sorted(r.param("site") for r in searches) == ["stackoverflow", "superuser"]
    assert all(r.param("sort") == "creation" and r.param("filter") == "withbody" for r in searches)


def test_rerun_starts_after_the_cursor():
    with LocalServer(ROUTES) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa"]),
                     cursors={"stackoverflow:cinesa": "1740910500"})
    assert server.requests[0].param("fromdate") == "1740910501"
    assert result.posts == []


def test_has_more_leads_to_the_next_page():
    def paged(request):
        payload = _search(request)
        payload["has_more"] = request.param("page") == "1"
        return payload

    with LocalServer({SEARCH: paged}) as server:
        run(local_source("stackexchange", server.url, queries=["cinesa"], threads=False))
    assert [r.param("page") for r in server.requests] == ["1", "2"]


def test_backoff_field_holds_the_next_request():
    def paged(request):
        payload = _search(request)
        if request.param("page") == "1":
            payload.update(has_more=True, backoff=1)
        return payload

    with LocalServer({SEARCH: paged}) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa"], threads=False))
    first, second = server.requests
    assert second.at - first.at >= 0.9
    assert result.stats["source/backoff/api"] == 1


def test_spent_quota_stops_the_run_with_the_cursor_behind_the_pages_not_read():
    def spent(request):
        payload = _search(request)
        payload.update(has_more=True, quota_remaining=0)
        return payload

    with LocalServer({SEARCH: spent}) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa"], threads=False))
    assert len(server.requests) == 1
    assert len(result.posts) == 2
    gap = Gap.parse(result.cursors["stackoverflow:cinesa"])  # the next run reads what is older than this page
    assert gap.before == str(min(int(p.created_at.timestamp()) for p in result.posts))
    assert gap.newest == str(max(int(p.created_at.timestamp()) for p in result.posts))
    assert result.stats["source/errors/quota_exhausted"] == 1


def test_the_run_after_a_spent_quota_reads_only_the_pages_it_missed():
    gap = Gap(after="1700000000", before="1740900000", newest="1740910500").value()
    with LocalServer({SEARCH: _search}) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa"], threads=False),
                     cursors={"stackoverflow:cinesa": gap})
    assert (server.requests[0].param("fromdate"), server.requests[0].param("todate")) == ("1700000001", "1740900000")
    assert result.cursors == {"stackoverflow:cinesa": "1740910500"}


def test_throttle_violation_is_reported_with_the_api_message():
    with LocalServer({SEARCH: Reply(400, fixture("stackexchange", "throttled.json"))}) as server:
        result = run(local_source("stackexchange", server.url, queries=["cinesa"]))
    assert result.stats["source/errors/http_400"] == 1
    assert "throttle_violation" in result.errors[0]


def test_app_key_from_the_environment_is_sent(monkeypatch):
    monkeypatch.setenv("LISTENER_STACKEXCHANGE_KEY", "app-key-123")
    with LocalServer(ROUTES) as server:
        run(local_source("stackexchange", server.url, queries=["cinesa"]))
    assert all(r.param("key") == "app-key-123" for r in server.requests)


def test_links_with_html_entities_are_unescaped():
    payload = fixture("stackexchange", "search_advanced.json")
    payload["items"][0]["link"] = "https://stackoverflow.com/questions/1/a-&quot;b&quot;?x=1&amp;y=2"
    post = parse_questions(payload, "se", "stackoverflow").posts[0]
    assert post.url == 'https://stackoverflow.com/questions/1/a-"b"?x=1&y=2'
