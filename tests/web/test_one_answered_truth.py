"""Every view reads the same answered state: what the brand answered is not "to answer" anywhere."""

from __future__ import annotations

from listener.index import inbox_query
from scheduler.queries import awaiting_brand, search_all
from tests.web.corpus import BLUESKY_ID


def test_the_cli_inbox_the_web_inbox_its_api_and_the_alerts_list_the_same_posts(agent, backend):
    cli = {hit.id for hit in backend.search(inbox_query(limit=100)).hits}
    api = {item["id"] for item in agent.get("/api/inbox", params={"limit": 50}).json()["items"]}
    waiting = {doc.id for doc in search_all(backend, awaiting_brand())}
    assert cli == api == waiting
    assert BLUESKY_ID not in cli  # answered by the brand on Bluesky
    page = agent.get("/inbox", params={"source": "bluesky"}).text
    assert "tarjeta de Cinesa sirve para dos" not in page


def test_a_post_the_brand_answered_shows_no_late_clock(agent):
    body = agent.get(f"/api/posts/{BLUESKY_ID}").json()
    assert (body["reply_state"], body["answered_by"], body["reply_state_reason"]) == ("answered", "brand", None)
    html = agent.get(f"/posts/{BLUESKY_ID}").text
    assert '<span class="sla sla-done">answered by us</span>' in html and "we replied" in html and "sla-late" not in html


def test_the_no_reply_filter_leaves_out_the_unknown_which_is_offered_apart(agent):
    no_reply = {i["id"] for i in agent.get("/api/inbox", params={"answer_state": "unanswered", "limit": 50}).json()["items"]}
    unknown = agent.get("/api/inbox", params={"answer_state": "unknown", "limit": 50}).json()["items"]
    assert "forum:12" not in no_reply and [i["id"] for i in unknown] == ["forum:12"]
    assert unknown[0]["reply_state_reason"] == "not_checked"
    html = agent.get("/inbox").text
    assert '<option value="unanswered">no reply</option>' in html and '<option value="unknown">reply unknown</option>' in html


def test_a_competitor_answering_shows_as_such(agent):
    html = agent.get("/inbox", params={"answer_state": "answered_by_competitor"}).text
    assert "COMPETITOR replied" in html and "La app de Yelmo falla" in html
