"""The answer state of every post of one support conversation, read from each platform's own reply structure.

The conversation and the states it should give are in ``tests/spiders/conversations.py``.
"""

from __future__ import annotations

import pytest

from listener.config import Config
from listener.threads import answer_state, thread_facts
from spiders import bluesky, discourse, hackernews, mastodon, reddit, stackexchange
from tests.spiders import conversations as c

CONFIG = Config.model_validate({
    "brand": {"name": "Cinesa", "handles": ["@cinesa"], "accounts": {
        "reddit": ["u/cinesa"], "mastodon": ["@cinesa@mastodon.example"], "bluesky": ["cinesa.bsky.social"],
        "discourse": ["cinesa"], "stackexchange": ["cinesa"], "hackernews": ["cinesa"]}},
    "competitors": [{"name": "Yelmo", "handles": ["@yelmocines"], "accounts": {
        "mastodon": ["@yelmocines@mastodon.example"], "bluesky": ["yelmocines.bsky.social"]}}],
    "sources": [{"kind": kind, "name": kind} for kind in
                ("reddit", "hackernews", "mastodon", "bluesky", "discourse", "stackexchange")],
})


def number(post_id: str) -> int:
    """The conversation's number for a post id of any platform."""
    native = post_id.split(":", 1)[1]
    for prefix in ("t3_root", "t1_c", "1/", "at://did:plc:user"):
        if native.startswith(prefix):
            return 1 if native == "t3_root" else int(native.removeprefix(prefix).split("/")[0])
    return int(native.rsplit(":", 1)[-1].rsplit("/", 1)[-1])


def states(conversation) -> dict[int, str]:
    posts = conversation.posts
    return {number(p.id): answer_state(thread_facts(p, posts, complete=conversation.complete,
                                                    addressed=conversation.addressed), CONFIG) for p in posts}


def expected(*left_out: int, **changed: str) -> dict[int, str]:
    states = {n: s for n, s in c.EXPECTED.items() if n not in left_out}
    return {**states, **{int(k.removeprefix("post")): v for k, v in changed.items()}}


def test_reddit_comment_tree():
    conversation = reddit.parse_conversation(c.reddit(), "reddit")
    assert states(conversation) == expected()
    assert conversation.deleted == {"reddit:t1_c8"}


def test_hacker_news_item_tree():
    conversation = hackernews.parse_tree(c.hackernews(), "hackernews")
    assert states(conversation) == expected()
    assert conversation.deleted == {"hackernews:8"}


def test_mastodon_context():
    root = mastodon.parse_statuses([c.mastodon_root()], "mastodon").posts
    conversation = mastodon.parse_context(c.mastodon(), "mastodon", "mastodon:1", root)
    # Every Mastodon status has an account: post 9's author ("ghost") answers post 3.
    assert states(conversation) == expected(post3="answered")


def test_bluesky_thread():
    conversation = bluesky.parse_thread(c.bluesky(), "bluesky")
    # An account with an invalid handle still has its did: post 9 answers post 3.
    assert states(conversation) == expected(post3="answered")
    assert conversation.deleted == {f"bluesky:{c.BSKY.format('user8', '3l8')}"}


def test_discourse_topic():
    page = discourse.parse_topic(c.discourse(), "discourse", "https://forum.example")
    assert {number(p.id): answer_state(p, CONFIG) for p in page.posts} == expected()


def test_stack_exchange_answers_and_accepted_answers():
    questions, answers = c.stackexchange()
    found = stackexchange.parse_questions(questions, "stackexchange", "so").posts
    replies = stackexchange.parse_answers(answers, "stackexchange", "so")
    got = {number(q.id): answer_state(thread_facts(q, replies.get(q.id, [])), CONFIG) for q in found}
    assert got == c.SE_EXPECTED


@pytest.mark.parametrize("kind", ["reddit", "hackernews", "mastodon"])
def test_the_same_handle_on_another_platform_is_not_the_brand(kind):
    """@cinesa is the brand's handle, but on Mastodon only @cinesa@mastodon.example speaks for it."""
    other = Config.model_validate({**CONFIG.model_dump(exclude={"origin"}), "brand": {
        "name": "Cinesa", "handles": ["@cinesa"], "accounts": {kind: ["u/cinesa_es" if kind == "reddit" else
                                                                      "@cinesa_es@social.example" if kind == "mastodon"
                                                                      else "cinesa_es"]}}})
    conversation = {"reddit": lambda: reddit.parse_conversation(c.reddit(), "reddit"),
                    "hackernews": lambda: hackernews.parse_tree(c.hackernews(), "hackernews"),
                    "mastodon": lambda: mastodon.parse_context(c.mastodon(), "mastodon", "mastodon:1",
                                                               mastodon.parse_statuses([c.mastodon_root()], "mastodon").posts)}[kind]()
    first = next(p for p in conversation.posts if number(p.id) == 1)
    assert answer_state(thread_facts(first, conversation.posts, addressed=conversation.addressed), other) == "answered"
