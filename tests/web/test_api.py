"""Every JSON endpoint, on both backends: what it returns, and what it refuses."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from listener.records import Mention
from listener.web import create_app
from tests.web.helpers import PASSWORD, USERS, log_in
from tests.web.corpus import BLUESKY_ID, NOW, config, item

# -- public and session --------------------------------------------------------------


def test_health_answers_without_login(anonymous, backend):
    response = anonymous.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "backend": backend.name}


def test_login_gives_a_csrf_token_and_a_session_cookie(anonymous):
    response = anonymous.post("/api/session", json={"username": "ana", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["username"] == "ana" and response.json()["role"] == "agent"
    assert len(response.json()["csrf_token"]) > 30
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-listener=")
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


def test_login_with_a_wrong_password_is_401(anonymous):
    response = anonymous.post("/api/session", json={"username": "ana", "password": "nope"})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_login_of_an_unknown_user_is_401(anonymous):
    assert anonymous.post("/api/session", json={"username": "nobody", "password": PASSWORD}).status_code == 401


def test_login_needs_a_json_body(anonymous):
    response = anonymous.post("/api/session", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 415


def test_repeated_failed_logins_are_throttled(anonymous):
    for _ in range(10):
        anonymous.post("/api/session", json={"username": "ana", "password": "nope"})
    response = anonymous.post("/api/session", json={"username": "ana", "password": PASSWORD})
    assert response.status_code == 429


def test_me_names_the_user_and_role(analyst):
    assert analyst.get("/api/me").json()["role"] == "analyst"


def test_logout_ends_the_session(agent):
    assert agent.delete("/api/session").status_code == 204
    assert agent.get("/api/me").status_code == 401


def test_logout_needs_the_csrf_token(agent):
    del agent.headers["X-CSRF-Token"]
    assert agent.delete("/api/session").status_code == 403
    assert agent.get("/api/me").status_code == 200


@pytest.mark.parametrize("path", ["/api/me", "/api/inbox", "/api/search", "/api/posts/twitter:1", "/api/gaps",
                                  "/api/export/posts.csv", "/api/openapi.json"])
def test_api_without_login_is_401(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Cookie")


def test_a_forged_session_cookie_is_401(anonymous):
    anonymous.cookies.set("__Host-listener", "made-up", domain="testserver")
    assert anonymous.get("/api/me").status_code == 401


# -- inbox, search, posts -------------------------------------------------------------


def test_inbox_lists_open_surfaced_posts_by_lead_score_then_due_first(agent):
    body = agent.get("/api/inbox", params={"limit": 50}).json()
    scores = [item["lead_score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert body["total"] == 11 and len(body["items"]) == 11
    assert BLUESKY_ID not in {item["id"] for item in body["items"]}  # the brand answered it on Bluesky


def test_inbox_rows_say_who_where_when_and_why(agent):
    first = agent.get("/api/inbox").json()["items"][0]
    assert first["author"] == "user1" and first["source"] == "twitter"
    assert first["url"] == "https://example.org/twitter/1"
    assert first["age"] == "1h"
    assert first["sla"]["overdue"] is True and first["sla"]["remaining_seconds"] == -1800
    assert first["reasons"] == ["question"]


@pytest.mark.parametrize(("params", "expected"), [
    ({"entity": "Yelmo Cines", "intent": "complaint"}, {"reddit:3", "mastodon:4", "twitter:5"}),
    ({"source": "bluesky"}, set()),  # answered by the brand
    ({"source": "bluesky", "answer_state": "answered_by_brand"}, {BLUESKY_ID}),
    ({"language": "en"}, {"twitter:6", "forum:12"}),
    ({"customer_status": "customer"}, {"twitter:2"}),
    ({"answer_state": "unknown"}, {"forum:12"}),
    ({"answer_state": "unanswered", "source": "forum"}, set()),
    ({"answer_state": "answered_by_competitor"}, {"reddit:3"}),
    ({"since": "2026-11-20", "until": "2026-11-20", "intent": "churn"}, {"twitter:7", "twitter:8", "twitter:9"}),
    ({"since": "2026-11-21"}, set()),
])
def test_inbox_filters(agent, params, expected):
    items = agent.get("/api/inbox", params={**params, "limit": 50}).json()["items"]
    assert {item["id"] for item in items} == expected


def test_inbox_filters_by_status_and_assignee_me(agent, other_agent):
    agent.post("/api/posts/twitter:1/claim", json={"version": 0})
    other_agent.post("/api/posts/twitter:2/claim", json={"version": 0})
    assert [i["id"] for i in agent.get("/api/inbox", params={"assignee": "me"}).json()["items"]] == ["twitter:1"]
    claimed = agent.get("/api/inbox", params={"status": "claimed"}).json()["items"]
    assert {i["id"] for i in claimed} == {"twitter:1", "twitter:2"}


def test_inbox_pages(agent):
    first = agent.get("/api/inbox", params={"limit": 5}).json()
    second = agent.get("/api/inbox", params={"limit": 5, "page": 2}).json()
    assert second["offset"] == 5 and len(second["items"]) == 5
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


def test_inbox_refuses_a_bad_filter_value_with_the_parameter_named(agent):
    response = agent.get("/api/inbox", params={"sort": "random"})
    assert response.status_code == 400
    assert "sort must be one of priority, due, newest" in response.json()["detail"]
    assert agent.get("/api/inbox", params={"since": "yesterday"}).status_code == 422


def test_search_finds_text_and_counts_facets(analyst):
    body = analyst.get("/api/search", params={"q": "app", "facet": ["entity", "language"]}).json()
    assert body["total"] == 4
    assert {f["value"]: f["count"] for f in body["facets"]["entity"]} == {"Yelmo Cines": 3, "Cinesa": 2}
    assert {f["value"] for f in body["facets"]["language"]} == {"es", "ca"}


def test_search_facets_follow_filters_and_include_hidden_posts(analyst):
    body = analyst.get("/api/search", params={"entity": "Cinesa", "intent": "praise"}).json()
    assert [i["id"] for i in body["items"]] == ["twitter:10"]
    assert set(body["facets"]) == {"entity", "intent", "customer_status", "answer_state", "source", "language"}
    assert set(analyst.get("/api/search", params={"facet": "status"}).json()["facets"]) == {"status"}


def test_a_post_with_slashes_in_its_id_is_found(agent):
    body = agent.get(f"/api/posts/{BLUESKY_ID}").json()
    assert body["id"] == BLUESKY_ID and body["answer_state"] == "answered_by_brand"


def test_an_unknown_post_is_404(agent):
    response = agent.get("/api/posts/twitter:999")
    assert response.status_code == 404
    assert "twitter:999" in response.json()["detail"]


def test_reply_draft_uses_the_template_and_the_safe_greeting_never_the_display_name(agent):
    body = agent.get("/api/posts/twitter:14/reply").json()
    assert body["reading"] == "question" and body["intent"] == "question"
    assert body["text"].startswith("Hola, gracias por preguntar.")
    assert "Pepe" not in body["text"] and "script" not in body["text"]
    assert body["reply_url"] == "https://x.com/intent/post?in_reply_to=14"


def test_reply_draft_follows_language_and_the_reading(agent):
    assert agent.get("/api/posts/mastodon:4/reply").json()["text"].startswith("Hola, si busques una alternativa")
    leaving = agent.get("/api/posts/twitter:8/reply").json()  # "Adiós Cinesa, me voy a Kinépolis", not read as our customer
    assert leaving["reading"] == "rival_unhappy" and "otra oportunidad" not in leaving["text"]
    assert agent.get("/api/posts/forum:12/reply").json()["reply_url"] == "https://example.org/forum/12"


def test_a_crawled_javascript_url_is_never_served_as_a_link(agent):
    body = agent.get("/api/posts/twitter:14").json()
    assert body["url"] == ""


# -- workflow ----------------------------------------------------------------------------


def test_claim_assigns_the_post_to_me(agent):
    body = agent.post("/api/posts/twitter:1/claim", json={"version": 0}).json()
    assert (body["status"], body["assignee"], body["version"]) == ("claimed", "ana", 1)


def test_a_claim_with_the_version_someone_else_changed_is_409_naming_them(agent, other_agent):
    agent.post("/api/posts/twitter:1/claim", json={"version": 0})
    response = other_agent.post("/api/posts/twitter:1/claim", json={"version": 0})
    assert response.status_code == 409
    assert "by ana" in response.json()["detail"] and response.json()["hint"] == "Reload the post and try again."
    assert other_agent.get("/api/posts/twitter:1").json()["assignee"] == "ana"


def test_claiming_a_post_someone_holds_is_409_even_with_the_latest_version(agent, other_agent):
    agent.post("/api/posts/twitter:1/claim", json={"version": 0})
    response = other_agent.post("/api/posts/twitter:1/claim", json={"version": 1})
    assert response.status_code == 409
    assert "already claimed by ana" in response.json()["detail"]


def test_status_moves_new_claimed_answered_resolved(agent):
    agent.post("/api/posts/twitter:1/claim", json={"version": 0})
    answered = agent.patch("/api/posts/twitter:1/workflow", json={"version": 1, "status": "answered"}).json()
    assert answered["status"] == "answered" and answered["sla"] is None
    resolved = agent.patch("/api/posts/twitter:1/workflow", json={"version": 2, "status": "resolved"}).json()
    assert resolved["status"] == "resolved"
    assert "twitter:1" not in {i["id"] for i in agent.get("/api/inbox", params={"limit": 50}).json()["items"]}


def test_dismissing_takes_a_post_out_of_the_inbox(agent):
    agent.patch("/api/posts/twitter:2/workflow", json={"version": 0, "status": "dismissed"})
    assert "twitter:2" not in {i["id"] for i in agent.get("/api/inbox", params={"limit": 50}).json()["items"]}


def test_a_status_the_workflow_does_not_allow_is_422(agent):
    response = agent.patch("/api/posts/twitter:1/workflow", json={"version": 0, "status": "resolved"})
    assert response.status_code == 422
    assert "can move to" in response.json()["detail"]


def test_marking_answered_without_a_claim_records_who_answered(agent):
    body = agent.patch("/api/posts/twitter:1/workflow", json={"version": 0, "status": "answered"}).json()
    assert body["assignee"] == "ana"


def test_notes_draft_and_follow_up_in_one_change(agent):
    body = agent.patch("/api/posts/twitter:1/workflow", json={
        "version": 0, "note": "llamar el lunes", "reply_draft": "Hola, sí abrimos.", "follow_up_at": "2026-11-23",
    }).json()
    assert [(n["author"], n["text"]) for n in body["notes"]] == [("ana", "llamar el lunes")]
    assert body["reply_draft"] == "Hola, sí abrimos."
    assert body["follow_up_at"] == "2026-11-23T08:00:00Z"  # 09:00 in Madrid, the start of service
    assert agent.get("/api/posts/twitter:1/reply").json()["text"] == "Hola, sí abrimos."
    cleared = agent.patch("/api/posts/twitter:1/workflow", json={"version": 1, "follow_up_at": None, "reply_draft": ""}).json()
    assert cleared["follow_up_at"] is None and cleared["reply_draft"] is None


def test_assigning_a_new_post_claims_it_for_that_agent(agent):
    body = agent.patch("/api/posts/twitter:1/workflow", json={"version": 0, "assignee": "luis"}).json()
    assert (body["status"], body["assignee"]) == ("claimed", "luis")


def test_only_the_holder_or_an_admin_can_hand_over_a_claimed_post(agent, other_agent, admin):
    agent.post("/api/posts/twitter:1/claim", json={"version": 0})
    refused = other_agent.patch("/api/posts/twitter:1/workflow", json={"version": 1, "assignee": "luis"})
    assert refused.status_code == 409 and "only ana or an admin" in refused.json()["detail"]
    handed = admin.patch("/api/posts/twitter:1/workflow", json={"version": 1, "assignee": "luis"}).json()
    assert handed["assignee"] == "luis"


def test_assigning_to_someone_who_cannot_take_posts_is_400(agent):
    response = agent.patch("/api/posts/twitter:1/workflow", json={"version": 0, "assignee": "marta"})
    assert response.status_code == 400 and "not an agent or admin" in response.json()["detail"]


def test_an_empty_note_is_400_and_an_unknown_field_422(agent):
    assert agent.patch("/api/posts/twitter:1/workflow", json={"version": 0, "note": "  "}).status_code == 400
    assert agent.patch("/api/posts/twitter:1/workflow", json={"version": 0, "colour": "red"}).status_code == 422


def test_a_workflow_change_to_an_unknown_post_is_404(agent):
    assert agent.post("/api/posts/twitter:999/claim", json={"version": 0}).status_code == 404


def test_analysts_cannot_change_posts(analyst):
    response = analyst.post("/api/posts/twitter:1/claim", json={"version": 0})
    assert response.status_code == 403
    assert "you are logged in as analyst" in response.json()["detail"]
    assert analyst.patch("/api/posts/twitter:1/workflow", json={"version": 0, "note": "x"}).status_code == 403


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/posts/twitter:1/claim", {"version": 0}),
    ("patch", "/api/posts/twitter:1/workflow", {"version": 0, "note": "x"}),
])
def test_changes_without_the_csrf_token_are_403_and_change_nothing(agent, method, path, body):
    token = agent.headers.pop("X-CSRF-Token")
    assert getattr(agent, method)(path, json=body).status_code == 403
    agent.headers["X-CSRF-Token"] = "wrong" + token
    assert getattr(agent, method)(path, json=body).status_code == 403
    assert agent.get("/api/posts/twitter:1").json()["version"] == 0


def test_a_change_sent_from_another_site_is_refused(agent):
    response = agent.post("/api/posts/twitter:1/claim", json={"version": 0}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_a_csrf_token_of_another_session_is_refused(app, agent):
    other = log_in(app, "luis")
    agent.headers["X-CSRF-Token"] = other.headers["X-CSRF-Token"]
    assert agent.post("/api/posts/twitter:1/claim", json={"version": 0}).status_code == 403


# -- analysts ---------------------------------------------------------------------------------


@pytest.fixture
def any_n_analyst(backend):
    """An analyst of a team that shows rates whatever their n."""
    return log_in(create_app(config(gap_min_n=1), backend, users=USERS, now=lambda: NOW), "marta")


def test_gaps_report_per_entity(any_n_analyst):
    body = any_n_analyst.get("/api/gaps").json()
    entities = {e["name"]: e for e in body["entities"]}
    assert list(entities) == ["Cinesa", "Yelmo Cines", "Kinépolis"]
    yelmo = entities["Yelmo Cines"]
    assert (yelmo["posts"], yelmo["complaints"], yelmo["unanswered"], yelmo["posts_with_known_reply_state"]) == (6, 3, 4, 5)
    assert yelmo["complaint_rate"] == 0.5 and yelmo["unanswered_rate"] == 0.8
    assert yelmo["median_first_reply_seconds"] == 1800
    assert entities["Kinépolis"]["median_first_reply_seconds"] == 7200
    assert sum(e["share_of_voice"] for e in body["entities"]) == pytest.approx(1)
    # "Adiós Cinesa, me voy a Kinépolis": the complaint is about Cinesa, which the author leaves.
    assert (entities["Cinesa"]["complaints"], entities["Kinépolis"]["complaints"]) == (2, 0)
    assert body["unclear_complaints"] == 0


def test_gaps_leave_out_rates_under_the_minimum_n_and_keep_the_counts(analyst):
    body = analyst.get("/api/gaps").json()
    assert body["min_n"] == 10
    yelmo = next(e for e in body["entities"] if e["name"] == "Yelmo Cines")
    assert (yelmo["posts"], yelmo["complaints"], yelmo["posts_with_known_reply_state"], yelmo["posts_with_reply_time"]) == (6, 3, 5, 1)
    assert yelmo["complaint_rate"] is None and yelmo["unanswered_rate"] is None and yelmo["median_first_reply_seconds"] is None
    assert yelmo["share_of_voice"] == pytest.approx(6 / 17)  # 17 mentions in all: enough for a share


def test_a_complaint_naming_two_competitors_counts_for_the_one_it_is_about(backend, any_n_analyst):
    text = "Me cambio de Yelmo a Kinépolis, Yelmo no funciona nunca"
    post = item(900, text, 45, intents=("complaint", "churn"))
    second = Mention("Yelmo Cines", "competitor", "Yelmo", text.rindex("Yelmo"), text.rindex("Yelmo") + 5, "name")
    backend.upsert([replace(post, analysis=replace(post.analysis, mentions=(*post.analysis.mentions, second)))])
    backend.refresh()
    entities = {e["name"]: e for e in any_n_analyst.get("/api/gaps").json()["entities"]}
    assert entities["Yelmo Cines"]["complaints"] == 4 and entities["Kinépolis"]["complaints"] == 0
    clusters = any_n_analyst.get("/api/gaps").json()["complaint_clusters"]
    assert "Kinépolis" not in clusters
    assert any("twitter:900" in c["post_ids"] for c in clusters["Yelmo Cines"])


def test_gaps_series_has_every_day_of_the_window_empty_ones_at_zero(analyst):
    body = analyst.get("/api/gaps", params={"interval": "day", "since": "2026-11-18", "until": "2026-11-22"}).json()
    # Madrid's 18 Nov starts at 23:00 UTC on the 17th; UTC day buckets from the 17th to the 22nd.
    assert [p["start"][:10] for p in body["timeline"]] == ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"]
    assert body["timeline"][0]["counts"] == {"Cinesa": 0, "Yelmo Cines": 0, "Kinépolis": 0}
    assert body["timeline"][3]["counts"] == {"Cinesa": 9, "Yelmo Cines": 6, "Kinépolis": 2}


def test_gaps_report_share_of_voice_over_time(analyst):
    body = analyst.get("/api/gaps").json()
    assert body["interval"] == "hour"
    assert [p["start"] for p in body["timeline"]] == ["2026-11-20T09:00:00Z", "2026-11-20T10:00:00Z"]
    assert body["timeline"][0]["counts"] == {"Cinesa": 3, "Kinépolis": 1, "Yelmo Cines": 3}
    by_day = {p["start"]: p["counts"] for p in analyst.get("/api/gaps", params={"interval": "day"}).json()["timeline"]}
    assert by_day["2026-11-20T00:00:00Z"]["Cinesa"] == 9 and by_day["2026-11-19T00:00:00Z"]["Cinesa"] == 0


def test_gaps_report_churn_flows_and_complaint_clusters(analyst):
    body = analyst.get("/api/gaps").json()
    assert [(f["source"], f["target"], f["count"]) for f in body["churn_flows"]] == [("Cinesa", "Kinépolis", 1), ("Yelmo Cines", "Cinesa", 1)]
    assert [(f["source"], f["target"]) for f in body["churn_unclear_direction"]] == [("Cinesa", "Yelmo Cines")]
    yelmo = body["complaint_clusters"]["Yelmo Cines"]
    assert yelmo[0]["label"] == "app · pagar" and yelmo[0]["count"] == 2
    assert set(yelmo[0]["post_ids"]) == {"reddit:3", "mastodon:4"}


def test_gaps_window_outside_the_posts_is_empty(analyst):
    body = analyst.get("/api/gaps", params={"since": "2026-10-01", "until": "2026-10-31"}).json()
    assert body["timeline"] == [] and all(e["posts"] == 0 for e in body["entities"])


def test_gaps_window_backwards_is_400(analyst):
    assert analyst.get("/api/gaps", params={"since": "2026-11-21", "until": "2026-11-01"}).status_code == 400


def read_csv(response) -> list[dict]:
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def test_gaps_csv(any_n_analyst):
    rows = read_csv(any_n_analyst.get("/api/export/gaps.csv"))
    assert [r["entity"] for r in rows] == ["Cinesa", "Yelmo Cines", "Kinépolis"]
    assert rows[1]["complaint_rate"] == "0.5" and rows[1]["median_first_reply_minutes"] == "30.0"


def test_share_of_voice_csv(analyst):
    rows = read_csv(analyst.get("/api/export/share-of-voice.csv"))
    assert rows[0] == {"bucket_start": "2026-11-20T09:00:00Z", "entity": "Cinesa", "posts": "3", "share_of_voice": "0.4286"}
    empty = read_csv(analyst.get("/api/export/share-of-voice.csv", params={"interval": "day", "since": "2026-11-19", "until": "2026-11-20"}))
    assert {"bucket_start": "2026-11-19T00:00:00Z", "entity": "Kinépolis", "posts": "0", "share_of_voice": "0.0"} in empty


def test_posts_csv_exports_every_match_and_defuses_formulas(analyst):
    rows = read_csv(analyst.get("/api/export/posts.csv", params={"entity": "Cinesa"}))
    assert len(rows) == 9
    pepe = next(r for r in rows if r["id"] == "twitter:14")
    assert pepe["url"] == "javascript:alert(1)"  # data, not a link; and no cell starts a formula
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def test_agents_cannot_see_the_analysts_pages(agent):
    for path in ("/api/gaps", "/api/export/gaps.csv", "/api/export/posts.csv"):
        assert agent.get(path).status_code == 403


def test_openapi_describes_every_api_endpoint(agent):
    paths = agent.get("/api/openapi.json").json()["paths"]
    assert set(paths) == {
        "/health", "/api/session", "/api/me", "/api/inbox", "/api/search", "/api/posts/{post_id}/reply", "/api/posts/{post_id}",
        "/api/posts/{post_id}/claim", "/api/posts/{post_id}/workflow", "/api/posts/{post_id}/feedback", "/api/posts/{post_id}/send",
        "/api/posts/{post_id}/answered", "/api/gaps",
        "/api/precision", "/api/export/gaps.csv", "/api/export/share-of-voice.csv", "/api/export/posts.csv",
    }
    claim = paths["/api/posts/{post_id}/claim"]["post"]
    assert {"401", "403", "409"} <= set(claim["responses"])
    assert any(p["name"] == "X-CSRF-Token" for p in claim["parameters"])
