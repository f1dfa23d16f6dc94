"""Each platform's adapter against its fake API: the request it makes, what it returns, how it fails."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from listener.records import Post
from listener.sending import SendFailure, Sender
from tests.factories import T0
from tests.listener.sending.fakes import CREDENTIALS, sources


@pytest.fixture
def sender(fake):
    return Sender(sources(fake.url), environ=CREDENTIALS)


def post(source: str, native: str, author: str = "ana", url: str = "https://example.org/p") -> Post:
    return Post(id=f"{source}:{native}", source=source, url=url, author=author, text="¿Abrís el lunes?", created_at=T0)


def send(sender, target: Post, text: str = "Hola, sí: abrimos el lunes de 16:00 a 23:00."):
    route = sender.route(target)
    assert route.sendable, route.reason
    return route.adapter.send(target, text, "key-1")


def test_x_reply_names_the_tweet_it_answers(fake, sender):
    sent = send(sender, post("twitter", "1860000000000000042"))
    request = fake.sent("/2/tweets")[0]
    assert request.body == {"text": "Hola, sí: abrimos el lunes de 16:00 a 23:00.", "reply": {"in_reply_to_tweet_id": "1860000000000000042"}}
    assert request.headers["Authorization"] == "Bearer x-user-token"
    assert (sent.reply_id, sent.reply_url) == ("1861000000000000001", "https://x.com/i/web/status/1861000000000000001")


def test_reddit_logs_the_account_in_and_comments_on_the_thing(fake, sender):
    sent = send(sender, post("reddit", "t3_abc"))
    token = fake.sent("/api/v1/access_token")[0]
    assert token.body == {"grant_type": "password", "username": "cinesa_es", "password": "reddit-password"}
    assert token.headers["Authorization"].startswith("Basic ")
    comment = fake.sent("/api/comment")[0]
    assert comment.body["thing_id"] == "t3_abc" and comment.body["api_type"] == "json"
    assert comment.headers["Authorization"] == "Bearer reddit-user-token"
    assert (sent.reply_id, sent.reply_url) == ("t1_kx1", "https://www.reddit.com/r/cine/comments/abc/yelmo_app/kx1/")


def test_mastodon_reply_mentions_the_author_and_carries_the_idempotency_key(fake, sender):
    sent = send(sender, post("mastodon", "112233", author="@ana@mastodon.social"))
    request = fake.sent("/api/v1/statuses")[0]
    assert request.body == {"status": "@ana@mastodon.social Hola, sí: abrimos el lunes de 16:00 a 23:00.", "in_reply_to_id": "112233"}
    assert request.headers["Idempotency-Key"] == "key-1"
    assert sent.reply_url == f"https://mastodon.social/@cinesa/{sent.reply_id}"


def test_a_status_from_another_instance_is_looked_up_on_ours_first(fake, sender):
    send(sender, post("mastodon", "mas.to:998", url="https://mas.to/@ana/998"))
    assert fake.sent("/api/v2/search")[0].query["q"] == "https://mas.to/@ana/998"
    assert fake.sent("/api/v1/statuses")[0].body["in_reply_to_id"] == "113555"


def test_bluesky_reply_refs_name_the_parent_and_the_threads_root(fake, sender):
    sent = send(sender, post("bluesky", "at://did:plc:abc/app.bsky.feed.post/3k"))
    created = fake.sent("/xrpc/com.atproto.repo.createRecord")[0]
    assert created.headers["Authorization"] == "Bearer jwt-access"
    assert created.body["repo"] == "did:plc:cinesa" and created.body["collection"] == "app.bsky.feed.post"
    assert created.body["record"]["reply"] == {
        "root": {"uri": "at://did:plc:abc/app.bsky.feed.post/3a", "cid": "bafyroot"},
        "parent": {"uri": "at://did:plc:abc/app.bsky.feed.post/3k", "cid": "bafyparent"},
    }
    assert sent.reply_url == "https://bsky.app/profile/cinesa.bsky.social/post/3lreply"


def test_discourse_reply_goes_to_the_topic_and_post_number(fake, sender):
    sent = send(sender, post("forum", "77/3"))
    request = fake.sent("/posts.json")[0]
    assert request.body == {"raw": "Hola, sí: abrimos el lunes de 16:00 a 23:00.", "topic_id": 77, "reply_to_post_number": 3}
    assert (request.headers["Api-Key"], request.headers["Api-Username"]) == ("discourse-key", "cinesa")
    assert sent.reply_url == f"{fake.url}/t/cinesa-app/77/4"


def test_stack_exchange_answers_the_question_on_its_site(fake, sender):
    sent = send(sender, post("stackexchange", "es.stackoverflow:4242", url="https://es.stackoverflow.com/questions/4242/cine"))
    request = fake.sent("/2.3/questions/4242/answers/add")[0]
    assert request.body["site"] == "es.stackoverflow" and request.body["access_token"] == "se-token" and request.body["key"] == "se-key"
    assert sent.reply_url == "https://es.stackoverflow.com/a/79001"


# -- failures --------------------------------------------------------------------


def failure(sender, target: Post) -> SendFailure:
    with pytest.raises(SendFailure) as caught:
        send(sender, target)
    return caught.value


def test_an_x_rate_limit_says_when_to_retry_from_x_rate_limit_reset(fake, sender):
    fake.fail("/2/tweets", 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
              {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "1795000000"})
    problem = failure(sender, post("twitter", "1"))
    assert problem.error == "rate_limited"
    assert problem.retry_at == datetime.fromtimestamp(1795000000, timezone.utc)


def test_a_discourse_rate_limit_says_when_to_retry_from_retry_after(fake, sender):
    fake.fail("/posts.json", 429, {"errors": ["You’ve performed this action too many times. Please wait 9 seconds before trying again."],
                                   "error_type": "rate_limit", "extras": {"wait_seconds": 9, "time_left": "9 seconds"}}, {"Retry-After": "9"})
    before = datetime.now(timezone.utc)
    problem = failure(sender, post("forum", "77/3"))
    assert problem.error == "rate_limited" and 8 <= (problem.retry_at - before).total_seconds() <= 11


def test_refused_credentials_name_the_environment_variable(fake, sender):
    fake.fail("/api/v1/statuses", 401, {"error": "The access token is invalid"})
    problem = failure(sender, post("mastodon", "112233"))
    assert problem.error == "auth" and "The access token is invalid" in str(problem)
    assert "LISTENER_MASTODON_TOKEN" in problem.hint


def test_a_wrong_reddit_password_names_the_account_variables(fake, sender):
    fake.fail("/api/v1/access_token", 200, {"error": "invalid_grant"})
    problem = failure(sender, post("reddit", "t3_abc"))
    assert problem.error == "auth" and "LISTENER_REDDIT_PASSWORD" in problem.hint
    assert not fake.sent("/api/comment")


@pytest.mark.parametrize("source, native, path, status, body", [
    ("twitter", "1", "/2/tweets", 403, {"detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
                                         "type": "about:blank", "title": "Forbidden", "status": 403}),
    ("forum", "77/3", "/posts.json", 404, {"errors": ["The requested URL or resource could not be found."], "error_type": "not_found"}),
    ("mastodon", "112233", "/api/v1/statuses", 404, {"error": "The post you are trying to reply to does not appear to exist."}),
    ("reddit", "t1_old", "/api/comment", 200, {"json": {"errors": [["DELETED_COMMENT", "that comment has been deleted", "parent"]]}}),
    ("stackexchange", "stackoverflow:1", "/2.3/questions/1/answers/add", 410, {"error_id": 410, "error_name": "gone", "error_message": "deleted"}),
])
def test_a_deleted_post_is_reported_gone(fake, sender, source, native, path, status, body):
    fake.fail(path, status, body)
    assert failure(sender, post(source, native)).error == "gone"


def test_a_bluesky_post_that_is_not_there_any_more_is_gone_before_anything_is_posted(fake, sender):
    problem = failure(sender, post("bluesky", "at://did:plc:abc/app.bsky.feed.post/deleted"))
    assert problem.error == "gone"
    assert not fake.sent("/xrpc/com.atproto.repo.createRecord")


def test_reddit_and_stack_exchange_rate_limits_in_their_own_words(fake, sender):
    fake.fail("/api/comment", 200, {"json": {"errors": [["RATELIMIT", "Looks like you've been doing that a lot. Take a break for 5 minutes before trying again.", "ratelimit"]]}})
    assert failure(sender, post("reddit", "t3_abc")).retry_at is not None
    fake.fail("/2.3/questions/9/answers/add", 400, {"error_id": 502, "error_name": "throttle_violation",
                                                    "error_message": "too many requests from this IP, more requests available in 3600 seconds"})
    problem = failure(sender, post("stackexchange", "stackoverflow:9"))
    assert problem.error == "rate_limited" and problem.retry_at is not None


def test_a_platform_that_cannot_be_reached_sent_nothing(sender):
    dead = Sender([s.model_copy(update={"base_url": "http://127.0.0.1:9"}) for s in sources("http://unused")], environ=CREDENTIALS)
    problem = failure(dead, post("twitter", "1"))
    assert problem.error == "unreachable" and "nothing was sent" in str(problem)


# -- routes ------------------------------------------------------------------------


def test_without_credentials_the_route_names_the_variables_to_set(fake):
    route = Sender(sources(fake.url), environ={}).route(post("bluesky", "at://x"))
    assert not route.sendable
    assert route.reason == "to send from here, set LISTENER_BLUESKY_HANDLE, LISTENER_BLUESKY_APP_PASSWORD"


def test_a_source_without_a_reply_api_is_answered_by_hand(sender):
    assert sender.route(post("blog", "1")).reason == "rss has no API to reply through"
    assert sender.route(post("hackernews", "1")).reason == "hackernews is not a configured source"
