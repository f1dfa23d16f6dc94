"""Replay support conversations through the real X spider against a local X API v2, and score the answered state.

    .venv/bin/python benchmarks/replay_conversations.py [--conversations 150] [--seed 7]

Conversations are drawn from the patterns below (a customer asking, the brand
answering or not, follow-ups, nudges, competitors, replies inside someone
else's thread, long threads over several pages, tweets without ``created_at``
or ``public_metrics``, suspended repliers), served in the API's shapes by
``tests/spiders/xapi.py``. Each pattern says what the answer state of the
customer's tweets is by the rules of spiders/README.md, "Conversations", but
one: in ``thread_of_two`` (a customer's "1/2", "2/2", the brand answering the
second) a support agent counts the first answered too, which those rules do
not (it is neither replied to nor the customer's last tweet). The
crawl runs three times: conversations on (the default), off, and with a
look-up budget too small for all of them. For each it prints the answered-state
accuracy (over all tweets, and over those whose state is known), the recall of
the truly unanswered, and the conversation look-ups per conversation.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.config import Config, EntityConfig  # noqa: E402
from listener.threads import reply_state  # noqa: E402
from spiders import crawl  # noqa: E402
from tests.spiders.helpers import FAST, local_source  # noqa: E402
from tests.spiders.server import LocalServer  # noqa: E402
from tests.spiders.xapi import SEARCH, Conversation, Tweet, XApi  # noqa: E402

CONFIG = Config(brand=EntityConfig(name="Cinesa", handles=["@cinesa"]),
                competitors=[EntityConfig(name="Yelmo", handles=["@yelmocines"])])
BRAND, RIVAL = "cinesa", "yelmocines"


def pattern(name: str, rng: random.Random, n: int) -> Conversation:
    """One conversation of pattern ``name``; customers and bystanders get names of their own (``n``)."""
    c, d, o = f"cliente{n}", f"otra{n}", f"vecino{n}"
    gap = rng.uniform(3, 90)
    if name == "answered":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("a", BRAND, gap, "ask")]
        expected = {"ask": "answered_by_brand"}
    elif name == "ignored":
        tweets = [Tweet("ask", c, 0, found=True)]
        expected = {"ask": "unanswered"}
    elif name == "bystander":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("r", o, gap, "ask")]
        expected = {"ask": "answered"}
    elif name == "competitor":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("r", RIVAL, gap, "ask")]
        expected = {"ask": "answered_by_competitor"}
    elif name == "follow_up_ignored":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("a", BRAND, gap, "ask"), Tweet("more", c, gap + 10, "a", found=True)]
        expected = {"ask": "answered_by_brand", "more": "unanswered"}
    elif name == "follow_up_answered":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("a", BRAND, gap, "ask"), Tweet("more", c, gap + 10, "a", found=True),
                  Tweet("a2", BRAND, gap + 30, "more"), Tweet("thanks", c, gap + 40, "a2")]
        expected = {"ask": "answered_by_brand", "more": "answered_by_brand"}
    elif name == "nudge_then_answer":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("nudge", c, gap, "ask", found=True), Tweet("a", BRAND, gap + 20, "ask")]
        expected = {"ask": "answered_by_brand", "nudge": "answered_by_brand"}
    elif name == "answer_then_new_question":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("a", BRAND, gap, "ask"), Tweet("new", c, gap + 30, "ask", found=True)]
        expected = {"ask": "answered_by_brand", "new": "unanswered"}
    elif name == "inside_news_thread":
        tweets = [Tweet("news", f"diario{n}", 0), Tweet("ask", c, gap, "news", found=True), Tweet("a", BRAND, gap + 15, "ask")]
        expected = {"ask": "answered_by_brand"}
    elif name == "inside_news_thread_ignored":
        tweets = [Tweet("news", f"diario{n}", 0), Tweet("ask", c, gap, "news", found=True), Tweet("r", o, gap + 5, "news"),
                  Tweet("a", BRAND, gap + 20, "r")]  # the brand answers someone else
        expected = {"ask": "unanswered"}
    elif name == "two_customers":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("same", d, gap, "ask", found=True), Tweet("a", BRAND, gap + 10, "ask")]
        expected = {"ask": "answered_by_brand", "same": "unanswered"}
    elif name == "long_thread":
        tweets = [Tweet("ask", c, 0, found=True)] + [Tweet(f"f{i}", f"fan{n}_{i}", 1 + i / 10, "ask") for i in range(130)]
        tweets.append(Tweet("a", BRAND, 30, "ask"))
        expected = {"ask": "answered_by_brand"}
    elif name == "thread_of_two":  # "1/2", "2/2"; the brand answers the second: an agent counts both answered
        tweets = [Tweet("one", c, 0, found=True), Tweet("two", c, 1, "one", found=True), Tweet("a", BRAND, gap, "two")]
        expected = {"one": "answered_by_brand", "two": "answered_by_brand"}
    elif name == "spam_by_suspended":
        tweets = [Tweet("ask", c, 0, found=True), Tweet("spam", f"gone{n}", gap, "ask")]
        expected = {"ask": "unanswered"}
    else:
        raise ValueError(name)
    if rng.random() < 0.2:  # fields the API leaves out when not asked for them
        for tweet in tweets:
            tweet.bare = rng.random() < 0.5
    return Conversation(tweets, expected=expected)


PATTERNS = ("answered", "ignored", "bystander", "competitor", "follow_up_ignored", "follow_up_answered",
            "nudge_then_answer", "answer_then_new_question", "inside_news_thread", "inside_news_thread_ignored",
            "two_customers", "long_thread", "thread_of_two", "spam_by_suspended")
WEIGHTS = (20, 14, 6, 4, 10, 8, 6, 6, 6, 4, 6, 3, 3, 3)


def build(count: int, seed: int) -> XApi:
    rng = random.Random(seed)
    conversations = []
    for n in range(count):
        conversation = pattern(rng.choices(PATTERNS, WEIGHTS)[0], rng, n)
        conversation.start += timedelta(minutes=7 * n)
        conversations.append(conversation)
    gone = tuple(t.author for c in conversations for t in c.tweets if t.author.startswith("gone"))
    return XApi(conversations, gone_users=gone)


def replay(api: XApi, **options) -> dict:
    api.lookups.clear()
    with LocalServer({SEARCH: api}) as server:
        source = local_source("twitter", server.url, queries=["cinesa"], max_pages=100, **options)
        result = crawl(CONFIG, source, {}, settings={**FAST, "LOG_LEVEL": "WARNING"}, timeout=600)
    truth = {api.id_of(n, key): state for n, c in enumerate(api.conversations) for key, state in c.expected.items()}
    got = {post.id.split(":", 1)[1]: reply_state(post, CONFIG) for post in result.posts}
    right = sum(1 for native, state in truth.items() if native in got and got[native].answer_state == state)
    known = [n for n in truth if n in got and got[n].state != "unknown"]
    waiting = [n for n, state in truth.items() if state == "unanswered"]
    found_waiting = sum(1 for n in waiting if n in got and got[n].state == "unanswered")
    wrongly_unanswered = sum(1 for n, s in truth.items() if s != "unanswered" and n in got and got[n].state == "unanswered")
    threads = {api.root_of(n) for n in range(len(api.conversations))}
    return {
        "tweets": len(truth), "posts": len(result.posts),
        "accuracy": right / len(truth),
        "accuracy_known": sum(1 for n in known if got[n].answer_state == truth[n]) / len(known) if known else 0.0,
        "unknown": Counter(got[n].reason for n in truth if n in got and got[n].state == "unknown"),
        "recall_unanswered": found_waiting / len(waiting) if waiting else 1.0,
        "wrongly_unanswered": wrongly_unanswered,
        "lookups_per_thread": sum(api.lookups.values()) / len(threads),
        "max_lookups_per_thread": max(api.lookups.values(), default=0),
        "requests": len(server.requests),
        "misses": Counter((truth[n], got[n].answer_state if n in got else "missing") for n in truth
                          if n not in got or got[n].answer_state != truth[n]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("LISTENER_TWITTER_BEARER_TOKEN", "replay")
    api = build(args.conversations, args.seed)
    print(f"{args.conversations} conversations, {sum(len(c.tweets) for c in api.conversations)} tweets, "
          f"{sum(len(c.expected) for c in api.conversations)} customer tweets found by the search")
    runs = (("conversations on (default)", {"max_threads": 10_000}), ("conversations off", {"threads": False}),
            ("budget of 40 look-ups", {"max_threads": 40}))
    for name, options in runs:
        r = replay(api, **options)
        unknown = ", ".join(f"{reason} {n}" for reason, n in r["unknown"].items()) or "none"
        print(f"\n{name}:\n  accuracy {r['accuracy']:.3f} (over the {r['tweets'] - sum(r['unknown'].values())} known: "
              f"{r['accuracy_known']:.3f}); recall of the unanswered {r['recall_unanswered']:.3f}; "
              f"answered marked unanswered: {r['wrongly_unanswered']}\n"
              f"  unknown: {unknown}\n  look-ups per conversation {r['lookups_per_thread']:.2f} "
              f"(at most {r['max_lookups_per_thread']}), {r['requests']} requests in all")
        if r["misses"]:
            print("  misses (expected, got): " + "; ".join(f"{e}->{g} x{n}" for (e, g), n in r["misses"].most_common()))


if __name__ == "__main__":
    main()
