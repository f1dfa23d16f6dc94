"""Feedback on a post's analysis through the API, and the precision it implies, on both backends."""

from __future__ import annotations

import pytest

from tests.web.helpers import log_in


def give(client, post_id: str, **labels):
    return client.post(f"/api/posts/{post_id}/feedback", json={"labels": labels})


def row(body: dict, label: str, value: str | None = None) -> dict:
    return next(r for r in body["labels"] if r["label"] == label and r["value"] == value)


def figures(tally: dict) -> tuple:
    return tally["confirmed"], tally["rejected"], tally["n"]


def test_feedback_is_kept_with_the_post_and_names_who_gave_it(agent):
    response = give(agent, "twitter:2", complaint=True, customer_status="prospect", mentions=["Cinesa"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(f["by"], f["labels"]) for f in body["feedback"]] == [("ana", {"complaint": True, "customer_status": "prospect", "mentions": ["Cinesa"]})]
    assert body["team_labels"] == {"complaint": True, "customer_status": "prospect", "mentions": ["Cinesa"]}
    assert agent.get("/api/posts/twitter:2").json()["team_labels"]["customer_status"] == "prospect"


def test_the_latest_feedback_on_a_label_decides_it_and_the_rest_stands(agent, other_agent):
    give(agent, "twitter:1", question=True, surface=True)
    body = give(other_agent, "twitter:1", surface=False).json()
    assert [f["by"] for f in body["feedback"]] == ["ana", "luis"]
    assert body["team_labels"] == {"question": True, "surface": False}


def test_feedback_shows_in_the_inbox_and_search_rows(agent):
    give(agent, "twitter:1", praise=False)
    rows = {item["id"]: item for item in agent.get("/api/inbox", params={"limit": 50}).json()["items"]}
    assert rows["twitter:1"]["team_labels"] == {"praise": False} and rows["twitter:2"]["feedback"] == []


@pytest.mark.parametrize(("labels", "expected"), [
    ({"colour": True}, "field 'labels.colour': unknown label"),
    ({"complaint": "yes"}, "field 'labels.complaint': expected true or false"),
    ({"customer_status": "client"}, "expected one of customer, prospect, unknown"),
    ({"mentions": ["Cinsea"]}, "'Cinsea' is not a configured entity (entities: Cinesa, Yelmo Cines, Kinépolis)"),
    ({}, "no labels given"),
])
def test_an_unknown_label_or_a_value_it_cannot_take_is_422_and_nothing_is_kept(agent, labels, expected):
    response = give(agent, "twitter:1", **labels)
    assert response.status_code == 422
    assert expected in response.json()["detail"]
    assert agent.get("/api/posts/twitter:1").json()["feedback"] == []


def test_feedback_on_an_unknown_post_is_404(agent):
    response = give(agent, "twitter:999", surface=False)
    assert response.status_code == 404 and "twitter:999" in response.json()["detail"]


def test_analysts_cannot_give_feedback_and_nobody_can_without_the_csrf_token(agent, analyst):
    assert give(analyst, "twitter:1", surface=False).status_code == 403
    del agent.headers["X-CSRF-Token"]
    assert give(agent, "twitter:1", surface=False).status_code == 403
    assert analyst.get("/api/posts/twitter:1").json()["feedback"] == []


def test_precision_counts_what_the_team_confirmed_among_what_the_analysis_predicted(app, agent, analyst):
    give(agent, "twitter:2", complaint=True, customer_status="prospect")  # es, said complaint and customer
    give(agent, "reddit:3", complaint=False)                               # es, said complaint
    give(agent, "mastodon:4", complaint=True)                              # ca, said complaint
    give(agent, "twitter:6", question=True, surface=False)                 # en, said question and surface
    give(agent, "twitter:13", complaint=True)                              # es, said no complaint: not a prediction to judge
    give(log_in(app, "luis"), "reddit:3", complaint=True)                  # the latest word: reddit:3 is a complaint after all
    body = analyst.get("/api/precision").json()
    assert body["posts_with_feedback"] == 5
    assert body["languages"] == ["es", "ca", "en", "pt", "other"]
    complaint = row(body, "complaint")
    assert figures(complaint["all"]) == (3, 0, 3) and complaint["all"]["precision"] == 1.0
    assert figures(complaint["by_language"]["es"]) == (2, 0, 2) and figures(complaint["by_language"]["ca"]) == (1, 0, 1)
    assert figures(row(body, "surface")["by_language"]["en"]) == (0, 1, 1)
    assert row(body, "surface")["all"]["precision"] == 0.0
    assert figures(row(body, "customer_status", "customer")["all"]) == (0, 1, 1)
    assert figures(row(body, "question")["all"]) == (1, 0, 1)


def test_precision_judges_each_entity_the_analysis_found(agent, analyst):
    give(agent, "twitter:7", mentions=["Yelmo Cines"])  # the analysis found Yelmo Cines and Cinesa
    body = analyst.get("/api/precision").json()
    assert figures(row(body, "mentions", "Yelmo Cines")["all"]) == (1, 0, 1)
    assert figures(row(body, "mentions", "Cinesa")["all"]) == (0, 1, 1)
    assert figures(row(body, "mentions", "Kinépolis")["all"]) == (0, 0, 0)


def test_precision_without_feedback_is_n_zero_everywhere(analyst):
    body = analyst.get("/api/precision").json()
    assert body["posts_with_feedback"] == 0
    assert all(r["all"] == {"confirmed": 0, "rejected": 0, "n": 0, "precision": None} and r["by_language"] == {} for r in body["labels"])
    assert [r["label"] for r in body["labels"]][:4] == ["mentions", "mentions", "mentions", "sector"]


def test_agents_cannot_see_the_precision(agent):
    assert agent.get("/api/precision").status_code == 403


def test_openapi_describes_the_feedback_endpoint(agent):
    paths = agent.get("/api/openapi.json").json()["paths"]
    give_feedback = paths["/api/posts/{post_id}/feedback"]["post"]
    assert {"401", "403", "404", "422"} <= set(give_feedback["responses"])
    assert any(p["name"] == "X-CSRF-Token" for p in give_feedback["parameters"])
    assert "analysts" in paths["/api/precision"]["get"]["tags"]
