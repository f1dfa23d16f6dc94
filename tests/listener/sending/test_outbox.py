"""Sending from the inbox, recorded on the post: once per key, the outcome kept, the draft never lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from listener.config import parse_config
from listener.errors import ConflictError
from listener.index.sqlite import SQLiteBackend
from listener.records import Analysis, IndexedPost, Post
from listener.sending import LinkError, NotSendableError, Outbox, SendFailedError, Sender
from listener.web.views import sla_view
from tests.factories import T0
from tests.listener.sending.fakes import CREDENTIALS, sources

SCHEDULE = parse_config("schedule: {timezone: Europe/Madrid, sla_minutes: 60}", "test").schedule
TEXT = "Hola, sí: abrimos el lunes de 16:00 a 23:00."


@pytest.fixture
def backend(tmp_path):
    index = SQLiteBackend(tmp_path / "index.db")
    index.ensure_schema()
    for source, native in (("twitter", "1860000000000000042"), ("blog", "1"), ("mastodon", "112233")):
        post = Post(id=f"{source}:{native}", source=source, url="https://example.org/p", author="@ana", text="¿Abrís el lunes?", created_at=T0)
        analysis = Analysis(language="es", mentions=(), sector=True, intents=("question",), customer_status="prospect",
                            lead_score=50, reasons=("question",), surface=True, greeting="Hola")
        index.upsert([IndexedPost(post=post, analysis=analysis, answer_state="unanswered")])
    yield index
    index.close()


@pytest.fixture
def outbox(fake, backend):
    return Outbox(backend, Sender(sources(fake.url), environ=CREDENTIALS), now=lambda: T0 + timedelta(minutes=20))


def test_a_sent_reply_is_recorded_with_its_id_and_link_and_the_post_answered(outbox, backend):
    sent = outbox.send("ana", "twitter:1860000000000000042", 0, TEXT, "k1")
    hit = backend.get("twitter:1860000000000000042")
    assert hit.workflow.sent == sent
    assert (sent.reply_id, sent.reply_url, sent.by) == ("1861000000000000001", "https://x.com/i/web/status/1861000000000000001", "ana")
    assert (hit.workflow.status, hit.workflow.assignee, hit.workflow.reply_draft) == ("answered", "ana", TEXT)
    clock = sla_view(hit, SCHEDULE, T0 + timedelta(hours=5))
    assert (clock.kind, clock.text) == ("done", "answered on time")  # stopped at the send, 20 minutes in


def test_the_same_key_twice_posts_once(outbox, fake):
    first = outbox.send("ana", "twitter:1860000000000000042", 0, TEXT, "k1")
    again = outbox.send("ana", "twitter:1860000000000000042", 0, TEXT, "k1")
    assert again == first
    assert len(fake.sent("/2/tweets")) == 1


def test_a_double_click_while_the_first_is_still_sending_posts_once_and_both_see_the_reply(outbox, fake):
    fake.delay = 0.5
    results, errors = [], []

    def click():
        try:
            results.append(outbox.send("ana", "twitter:1860000000000000042", 0, TEXT, "k1"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert len(fake.sent("/2/tweets")) == 1


def test_a_failed_send_keeps_the_draft_and_records_why_then_the_same_key_can_retry(outbox, fake, backend):
    fake.fail("/2/tweets", 429, {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}, {"x-rate-limit-reset": "1795000000"})
    with pytest.raises(SendFailedError) as caught:
        outbox.send("ana", "twitter:1860000000000000042", 0, TEXT, "k1")
    hit = backend.get("twitter:1860000000000000042")
    failed = hit.workflow.sends[-1]
    assert caught.value.record == failed
    assert (failed.state, failed.error, failed.retry_at.timestamp()) == ("failed", "rate_limited", 1795000000)
    assert (hit.workflow.status, hit.workflow.reply_draft, hit.workflow.sent) == ("new", TEXT, None)

    sent = outbox.send("ana", "twitter:1860000000000000042", hit.workflow.version, TEXT, "k1")
    assert sent.state == "sent" and len(backend.get("twitter:1860000000000000042").workflow.sends) == 1


def test_a_send_that_may_have_been_posted_is_not_retried_under_its_key(outbox, backend):
    backend.update_workflow("twitter:1860000000000000042", 0, _change("k1", state="failed", error="unknown"))
    with pytest.raises(ConflictError, match="may have been posted"):
        outbox.send("ana", "twitter:1860000000000000042", 1, TEXT, "k1")


def test_a_send_on_a_version_someone_changed_is_refused_before_anything_is_posted(outbox, fake, backend):
    outbox.mark_answered("luis", "twitter:1860000000000000042", 0, "https://x.com/cinesa/status/5")
    with pytest.raises(ConflictError):
        outbox.send("ana", "twitter:1860000000000000042", 0, TEXT, "k2")
    assert not fake.sent("/2/tweets")


def test_a_source_without_an_api_is_refused_with_what_to_do(outbox):
    with pytest.raises(NotSendableError, match="rss has no API") as caught:
        outbox.send("ana", "blog:1", 0, TEXT, "k1")
    assert "mark it answered" in caught.value.hint


def test_a_reply_too_long_for_the_platform_is_refused_before_it_is_stored(outbox, backend):
    with pytest.raises(Exception, match="X takes 280"):
        outbox.send("ana", "twitter:1860000000000000042", 0, "a" * 281, "k1")
    assert backend.get("twitter:1860000000000000042").workflow.sends == ()


def test_marked_answered_with_its_link(outbox, backend):
    outbox.mark_answered("ana", "blog:1", 0, "https://example.org/p#comment-9")
    workflow = backend.get("blog:1").workflow
    assert (workflow.status, workflow.sent.via, workflow.sent.reply_url) == ("answered", "link", "https://example.org/p#comment-9")


@pytest.mark.parametrize("link", ["", "x.com/cinesa/status/5", "javascript:alert(1)", "https://exa mple.org/"])
def test_a_link_that_is_not_a_web_address_is_refused(outbox, backend, link):
    with pytest.raises(LinkError, match="must be a web address"):
        outbox.mark_answered("ana", "blog:1", 0, link)
    assert backend.get("blog:1").workflow.status == "new"


def _change(key: str, **fields):
    from listener.records import ReplySend
    from listener.workflow import WorkflowChange

    return WorkflowChange(actor="ana", send=ReplySend(key=key, by="ana", at=T0, **fields))
