"""The HTML side: login, the gate in front of every page, CSRF on every form, roles, escaping."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from listener.web import api, create_app, pages
from tests.web.helpers import PASSWORD, USERS
from tests.web.corpus import NOW, config


@pytest.fixture
def app(sqlite_backend):
    return create_app(config(), sqlite_backend, users=USERS, now=lambda: NOW)


@pytest.fixture
def browser_like(app):
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def unsafe_routes() -> list[tuple[str, str]]:
    """Every state-changing route of the app, with a post id filled in."""
    found = []
    for route in api.router.routes + pages.router.routes:
        for method in sorted(route.methods - {"GET", "HEAD"}):
            found.append((method, route.path.replace("{post_id:path}", "twitter:1").replace("{action}", "claim")))
    return found


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in_with_form(client, name: str = "ana", next: str = "/inbox"):
    page = client.get("/login", params={"next": next})
    return client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": form_token(page.text), "next": next})


@pytest.fixture
def ana(browser_like):
    assert log_in_with_form(browser_like).status_code == 303
    return browser_like


def test_every_page_but_login_and_health_sends_you_to_log_in(browser_like):
    for path in ("/", "/inbox", "/posts/twitter:1", "/search?q=app", "/gaps", "/static/app.css", "/static/app.js", "/nowhere"):
        response = browser_like.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    assert browser_like.get("/inbox?entity=Cinesa").headers["location"] == "/login?next=%2Finbox%3Fentity%3DCinesa"
    assert browser_like.get("/login").status_code == 200
    assert browser_like.get("/health").status_code == 200


def test_every_state_changing_route_refuses_anonymous_requests(browser_like):
    routes = [r for r in unsafe_routes() if r not in {("POST", "/login"), ("POST", "/api/session")}]
    assert len(routes) == 11
    for method, path in routes:
        assert browser_like.request(method, path, data={"version": "0"}).status_code == 401, (method, path)


def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(ana):
    for method, path in unsafe_routes():
        if (method, path) == ("POST", "/api/session"):
            continue  # logging in needs a JSON body, which another site's form cannot send
        assert ana.request(method, path, data={"version": "0"}).status_code == 403, (method, path)
        assert ana.request(method, path, data={"version": "0", "csrf_token": "forged"}).status_code == 403, (method, path)
    assert ana.get("/api/posts/twitter:1", headers={"accept": "application/json"}).json()["version"] == 0


def test_the_login_form_needs_its_own_token(browser_like):
    browser_like.get("/login")
    response = browser_like.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_login_sets_a_secure_httponly_samesite_session_cookie(browser_like):
    response = log_in_with_form(browser_like)
    assert response.headers["location"] == "/inbox"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-listener="))
    assert all(flag in cookie for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"))


def test_cookies_can_be_made_plain_for_http_on_localhost(sqlite_backend):
    app = create_app(config(secure_cookies=False, same_site="strict"), sqlite_backend, users=USERS, now=lambda: NOW)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        response = log_in_with_form(client)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("listener="))
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_a_wrong_password_shows_the_form_again_with_401(browser_like):
    page = browser_like.get("/login")
    response = browser_like.post("/login", data={"username": "ana", "password": "nope", "csrf_token": form_token(page.text)})
    assert response.status_code == 401
    assert "Wrong name or password." in response.text


def test_login_never_redirects_to_another_site(browser_like):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert log_in_with_form(browser_like, next=target).headers["location"] == "/inbox"
        browser_like.cookies.clear()


def test_logout_ends_the_session(ana):
    page = ana.get("/inbox")
    assert ana.post("/logout", data={"csrf_token": form_token(page.text)}).headers["location"] == "/login"
    assert ana.get("/inbox").status_code == 303


def test_pages_carry_security_headers(ana):
    response = ana.get("/inbox")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_the_login_page_inlines_its_styles_under_a_nonce(browser_like):
    response = browser_like.get("/login")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"]).group(1)
    assert f'<style nonce="{nonce}">' in response.text
    assert "/static/" not in response.text


def test_inbox_rows_show_who_where_when_why_and_the_original(ana):
    html = ana.get("/inbox").text
    assert "User 1" in html and "@user1" in html
    assert "1h ago" in html and "late 30m" in html
    assert "Why: question" in html
    assert 'href="https://example.org/twitter/1"' in html
    assert "page 1 of 3" in html


def test_crawled_text_is_escaped_and_javascript_urls_are_not_links(ana):
    html = ana.get("/posts/twitter:14").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Pepe" in html
    assert "javascript:alert" not in html


def test_text_people_wrote_is_bidi_isolated(ana):
    html = ana.get("/posts/twitter:14").text
    assert '<bdi class="name">&lt;script&gt;alert(1)&lt;/script&gt; Pepe</bdi>' in html and "<bdi>@user14</bdi>" in html
    assert 'class="full-text" dir="auto"' in html and 'id="reply" rows="5" dir="auto"' in html
    assert "<title>\u2068¿Cinesa tiene descuento para estudiantes?\u2069 · Cinesa</title>" in html


def test_an_html_claim_conflict_rerenders_the_post_with_the_reason(app, ana):
    page = ana.get("/posts/twitter:1")
    web = app.state.web
    web.backend.claim("twitter:1", "luis", 0)
    response = ana.post("/posts/twitter:1/claim", data={"csrf_token": form_token(page.text), "version": "0"})
    assert response.status_code == 409
    assert "Not saved: post twitter:1 was changed by luis since you loaded it" in response.text
    assert "claimed · luis" in response.text


def test_an_html_change_redirects_back_with_a_message(ana):
    token = form_token(ana.get("/posts/twitter:1").text)
    response = ana.post("/posts/twitter:1/note", data={"csrf_token": token, "version": "0", "text": "mirar horarios"})
    assert response.status_code == 303 and response.headers["location"] == "/posts/twitter:1"
    html = ana.get("/posts/twitter:1").text
    assert "Note added." in html and "mirar horarios" in html


def test_a_claim_from_the_inbox_returns_to_the_inbox(ana):
    token = form_token(ana.get("/inbox").text)
    response = ana.post("/posts/twitter:1/claim", data={"csrf_token": token, "version": "0", "next": "/inbox?page=2"})
    assert response.headers["location"] == "/inbox?page=2"


def test_an_analyst_sees_posts_but_no_work_forms(browser_like):
    log_in_with_form(browser_like, "marta")
    html = browser_like.get("/posts/twitter:1").text
    assert "¿Alguien sabe si Cinesa abre" in html
    assert "/claim" not in html and "Add a note" not in html
    token = form_token(html)
    assert browser_like.post("/posts/twitter:1/claim", data={"csrf_token": token, "version": "0"}).status_code == 403


def test_agents_get_403_on_the_competitor_page(ana):
    response = ana.get("/gaps")
    assert response.status_code == 403
    assert "Only analysts and admins" in response.text


def test_an_unknown_post_page_is_404(ana):
    assert ana.get("/posts/twitter:999").status_code == 404


def test_a_bad_filter_is_a_400_page_that_names_it(ana):
    response = ana.get("/inbox?page=zero")
    assert response.status_code == 400 and "page must be a number" in response.text


def test_search_facets_are_links_that_add_and_remove_filters(browser_like):
    log_in_with_form(browser_like, "marta")
    html = browser_like.get("/search?q=app").text
    assert 'href="?q=app&amp;entity=Yelmo+Cines"' in html or 'href="?entity=Yelmo+Cines&amp;q=app"' in html
    narrowed = browser_like.get("/search?q=app&entity=Yelmo+Cines").text
    assert "3 posts" in narrowed


def test_a_search_with_more_matches_than_the_window_says_it_counted_the_newest(browser_like, sqlite_backend):
    log_in_with_form(browser_like, "marta")
    sqlite_backend.search_window = 2
    html = browser_like.get("/search?q=app&entity=Yelmo+Cines").text
    assert "more than 2 posts" in html and "the newest 2 are ranked and counted" in html
    assert len(re.findall(r'<li class="row"', html)) == 2
    sqlite_backend.search_window = 3
    assert "3 posts" in browser_like.get("/search?q=app&entity=Yelmo+Cines").text


def test_the_competitor_page_names_a_bad_window_or_interval(browser_like):
    log_in_with_form(browser_like, "marta")
    assert "interval must be one of hour, day, week, month" in browser_like.get("/gaps?interval=decade").text
    response = browser_like.get("/gaps?since=2026-11-21&until=2026-11-01")
    assert response.status_code == 400 and "since must be before until" in response.text
    assert browser_like.get("/gaps?since=2026-11-01").status_code == 200


def feedback_form(client, post_id: str, label: str, *values: str):
    token = form_token(client.get(f"/posts/{post_id}").text)
    return client.post(f"/posts/{post_id}/feedback", data={"csrf_token": token, "label": label, "value": list(values)})


def team_labels(client, post_id: str) -> dict:
    return client.get(f"/api/posts/{post_id}", headers={"accept": "application/json"}).json()["team_labels"]


def test_a_post_page_shows_every_label_with_right_and_wrong_and_the_one_click_fixes(ana):
    html = ana.get("/posts/twitter:2").text
    assert "Is the analysis right?" in html
    for label in ("mentions", "sector", "complaint", "customer status", "surface", "language"):
        assert f">{label}</th>" in html
    assert html.count(">Right</button>") == 10 and html.count(">Wrong</button>") == 9
    for fix in ("Not relevant", "Is a customer", "Wrong brand"):
        assert fix in html


def test_right_keeps_the_analysis_value_and_wrong_its_negation(ana):
    response = feedback_form(ana, "twitter:2", "complaint", "true")  # the analysis said complaint
    assert response.status_code == 303 and response.headers["location"] == "/posts/twitter:2"
    assert "Feedback saved: complaint is yes." in ana.get("/posts/twitter:2").text
    feedback_form(ana, "twitter:2", "praise", "true")  # it said no praise: wrong
    assert team_labels(ana, "twitter:2") == {"complaint": True, "praise": True}


def test_the_one_click_fixes_store_not_relevant_and_is_a_customer(ana):
    feedback_form(ana, "twitter:1", "surface", "false")
    feedback_form(ana, "twitter:1", "customer_status", "customer")
    assert team_labels(ana, "twitter:1") == {"surface": False, "customer_status": "customer"}
    assert '<strong class="disagrees">no</strong> <small>ana' in ana.get("/posts/twitter:1").text


def test_wrong_brand_keeps_the_entities_picked_and_none_picked_means_none(ana):
    feedback_form(ana, "twitter:5", "mentions", "Cinesa", "Kinépolis")
    assert team_labels(ana, "twitter:5")["mentions"] == ["Cinesa", "Kinépolis"]
    feedback_form(ana, "twitter:5", "mentions")
    assert team_labels(ana, "twitter:5")["mentions"] == []


def test_a_form_with_a_value_the_label_cannot_take_is_refused_with_the_reason(ana):
    response = feedback_form(ana, "twitter:1", "language", "fr")
    assert response.status_code == 422
    assert "Not saved: field &#39;labels.language&#39;: expected one of es, ca, en, pt, other" in response.text
    assert team_labels(ana, "twitter:1") == {}


def test_an_analyst_reads_the_labels_without_forms_and_finds_the_precision_page(browser_like):
    log_in_with_form(browser_like, "marta")
    html = browser_like.get("/posts/twitter:1").text
    assert "Is the analysis right?" in html and "/feedback" not in html
    assert '<a href="/precision">Precision</a>' in html
    precision = browser_like.get("/precision").text
    assert "Precision of the analysis" in precision and "<th scope=\"row\">complaint</th>" in precision
    assert "n=0" in precision and "0 posts with feedback" in precision


def test_agents_get_403_on_the_precision_page_and_see_no_link_to_it(ana):
    assert ana.get("/precision").status_code == 403
    assert 'href="/precision"' not in ana.get("/inbox").text


def test_a_form_sent_twice_says_what_happened_once(ana):
    token = form_token(ana.get("/posts/twitter:2").text)
    for _ in range(2):  # a double click: the second request lands before the page is shown
        response = ana.post("/posts/twitter:2/feedback", data={"csrf_token": token, "label": "complaint", "value": ["true"]})
        assert response.status_code == 303
    assert ana.get("/posts/twitter:2").text.count("Feedback saved: complaint is yes.") == 1
