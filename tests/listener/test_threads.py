"""The conversation model: who answered a post, from the replies to it and what the brand did after."""

from __future__ import annotations

from dataclasses import replace

import pytest

from listener.config import Config, EntityConfig
from listener.records import IndexedPost, Post
from listener.threads import reply_state, thread_facts, unchecked
from tests.factories import T0, analysis, post

CONFIG = Config(brand=EntityConfig(name="Cinesa", handles=["@Cinesa"]),
                competitors=[EntityConfig(name="Yelmo", handles=["@yelmocines"])])


def tweet(number: int, author: str, minutes: int, parent: int | None = None) -> Post:
    return post(f"tweet {number}", id=f"x:{number}", source="x", author=author, minutes=minutes,
                thread_id="x:1", parent_id=f"x:{parent}" if parent else None)


def states(thread: list[Post]) -> dict[str, tuple[str, str]]:
    out = {}
    for p in thread:
        state = reply_state(thread_facts(p, thread), CONFIG)
        out[p.id] = (state.state, state.answered_by)
    return out


# The worked thread of spiders/README.md.
WORKED = [
    tweet(1, "@ana", 0),              # Ana asks
    tweet(2, "@cinesa", 10, 1),       # the brand answers her
    tweet(3, "@ana", 20, 2),          # Ana asks again, in reply to the brand
    tweet(4, "@pau", 25, 1),          # Pau chimes in under Ana's first tweet
    tweet(5, "@pau", 30),             # Pau asks on his own, in the same conversation
    tweet(6, "@yelmocines", 40, 5),   # a competitor answers Pau
    tweet(7, "@ana", 50, 3),          # Ana replies to herself: "anyone?"
]


def test_the_worked_thread_of_the_readme():
    assert states(WORKED) == {
        "x:1": ("answered", "brand"),          # a direct reply by the brand
        "x:2": ("answered", "other"),          # Ana replied to the brand's tweet
        "x:3": ("unanswered", "nobody"),       # only Ana's own reply under it
        "x:4": ("unanswered", "nobody"),
        "x:5": ("answered", "competitor"),
        "x:6": ("unanswered", "nobody"),
        "x:7": ("unanswered", "nobody"),       # Ana's last tweet: nobody after it
    }


def test_a_brand_answer_to_an_earlier_tweet_does_not_answer_a_later_one():
    thread = [tweet(1, "@ana", 0), tweet(2, "@cinesa", 10, 1), tweet(3, "@ana", 20, 1)]
    assert states(thread)["x:3"] == ("unanswered", "nobody")


def test_the_brand_posting_after_the_customers_last_tweet_answers_it():
    # Ana's follow-up (3) replies to her own tweet; the brand answers her first tweet after it.
    thread = [tweet(1, "@ana", 0), tweet(3, "@ana", 20, 1), tweet(4, "@cinesa", 30, 1)]
    facts = thread_facts(thread[1], thread)
    assert facts.later_repliers == ("@cinesa",) and facts.first_reply_at == thread[2].created_at
    assert states(thread)["x:3"] == ("answered", "brand")


def test_a_brand_answer_to_someone_else_after_the_last_tweet_does_not_count():
    thread = [tweet(1, "@ana", 0), tweet(2, "@pau", 5), tweet(3, "@cinesa", 30, 2)]
    assert states(thread)["x:1"] == ("unanswered", "nobody")


def test_an_earlier_tweet_of_the_customer_keeps_only_its_own_replies():
    thread = [tweet(1, "@ana", 0), tweet(3, "@ana", 20, 1), tweet(4, "@cinesa", 30, 1)]
    assert states(thread)["x:1"] == ("answered", "brand")  # the brand replied to it directly


def test_where_the_source_names_the_addressee_a_reply_to_someone_else_does_not_count():
    ana, brand = tweet(1, "@ana", 0), tweet(2, "@cinesa", 30, 99)  # its parent is not in the thread
    assert reply_state(thread_facts(ana, [ana, brand], addressed={"x:2": "@pau"}), CONFIG).state == "unanswered"
    assert reply_state(thread_facts(ana, [ana, brand], addressed={"x:2": "@ana"}), CONFIG).answered_by == "brand"


def test_replies_to_replies_answer_only_their_parent():
    thread = [tweet(1, "@ana", 0), tweet(2, "@pau", 5, 1), tweet(3, "@cinesa", 10, 2)]
    facts = thread_facts(thread[0], thread)
    assert facts.reply_ids == ("x:2",) and facts.replied_by == ("@pau",)
    assert states(thread)["x:1"] == ("answered", "other") and states(thread)["x:2"] == ("answered", "brand")


def test_handles_match_whatever_their_case_and_at_sign():
    p = post(replied_by=("cinesa",), reply_check="checked")
    assert reply_state(p, CONFIG).answered_by == "brand"


def test_a_partly_read_conversation_answers_but_never_says_unanswered():
    thread = [tweet(1, "@ana", 0), tweet(2, "@pau", 5)]
    assert reply_state(thread_facts(thread[0], thread, complete=False), CONFIG).reason == "budget_exhausted"
    answered = [*thread, tweet(3, "@cinesa", 9, 1)]
    assert reply_state(thread_facts(thread[0], answered, complete=False), CONFIG).answered_by == "brand"


@pytest.mark.parametrize("reason", ["not_checked", "no_thread_source", "lookup_failed", "budget_exhausted"])
def test_a_post_not_looked_up_is_unknown_with_the_reason_even_with_no_replies_counted(reason):
    state = reply_state(unchecked(post(reply_count=0), reason), CONFIG)
    assert (state.state, state.reason, state.answer_state) == ("unknown", reason, "unknown")


def test_an_unknown_reason_is_refused():
    with pytest.raises(ValueError, match="valid: not_checked"):
        unchecked(post(), "maybe")


def test_without_a_look_up_the_sources_count_decides():
    assert reply_state(post(reply_count=0), CONFIG).state == "unanswered"
    assert reply_state(post(reply_count=3), CONFIG).answered_by == "other"
    state = reply_state(post(), CONFIG)
    assert (state.state, state.reason) == ("unknown", "not_checked")


def test_the_authors_own_replies_never_answer():
    p = post(author="@ana", replied_by=("@Ana",), later_repliers=("ana",), reply_check="checked")
    assert reply_state(p, CONFIG).state == "unanswered"


def test_the_stored_word_splits_into_state_who_and_reason():
    item = IndexedPost(post=unchecked(post(), "lookup_failed"), analysis=analysis(), answer_state="unknown")
    assert (item.reply_state, item.answered_by, item.reply_state_reason) == ("unknown", "nobody", "lookup_failed")
    answered = replace(item, answer_state="answered_by_competitor")
    assert (answered.reply_state, answered.answered_by, answered.reply_state_reason) == ("answered", "competitor", None)


def test_a_post_stored_before_the_thread_facts_existed_still_loads():
    data = post(reply_count=1).to_dict()
    for name in ("reply_ids", "later_repliers", "reply_check"):
        del data[name]
    old = Post.from_dict(data)
    assert old.reply_ids == () and old.reply_check is None
    assert IndexedPost(post=old, analysis=analysis(), answer_state="unknown").reply_state_reason == "not_checked"
