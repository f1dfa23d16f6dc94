"""Every recorded Reddit, Hacker News and Mastodon response in the repository becomes posts with text and time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spiders import hackernews, mastodon, reddit
from tests.spiders.helpers import FIXTURES, fixture

REPLAY = Path(__file__).resolve().parents[2] / "spiders" / "data" / "replay"
NOT_POSTS = {"exchanges.json", "source.json", "token.json"}


def recorded(kind: str) -> list[Path]:
    folders = [FIXTURES / kind, *sorted(REPLAY.glob(f"{kind}*"))]
    return sorted(p for folder in folders for p in folder.glob("*.json") if p.name not in NOT_POSTS)


def posts_of(kind: str, payload) -> tuple[list, list[str]]:
    """The posts a response of ``kind`` gives, whatever endpoint it answers, and what its parser skipped."""
    if kind == "reddit":
        if isinstance(payload, list):
            return reddit.parse_conversation(payload, "r").posts, []
        page = reddit.parse_listing(payload, "r")
    elif kind == "hackernews":
        if "hits" not in payload:
            return hackernews.parse_tree(payload, "hn").posts, []
        page = hackernews.parse_search(payload, "hn")
    else:
        if isinstance(payload, dict) and "descendants" in payload:
            return mastodon.parse_context(payload, "m", "m:0", []).posts, []
        page = mastodon.parse_statuses(payload, "m")
    return page.posts, page.problems


@pytest.mark.parametrize("kind", ["reddit", "hackernews", "mastodon"])
def test_every_recorded_response_gives_posts_with_text_and_time(kind):
    found = []
    for path in recorded(kind):
        posts, problems = posts_of(kind, json.loads(path.read_text(encoding="utf-8")))
        assert problems == [], path
        found += [(path.name, p) for p in posts]
    assert len(found) >= 10
    assert [(name, p.id) for name, p in found if not p.text.strip()] == []
    assert all(p.created_at.utcoffset() is not None for _, p in found)


def test_a_reddit_question_asked_in_the_title_alone_has_the_title_as_text():
    payload = fixture("reddit", "search.json")
    payload["data"]["children"][0]["data"].update(selftext="", is_self=True)
    post = reddit.parse_listing(payload, "r").posts[0]
    assert post.text == post.title


def test_an_ask_hn_story_without_text_or_link_has_its_title_as_text():
    payload = fixture("hackernews", "search_by_date.json")
    payload["hits"][1].update(story_text=None, url=None)
    post = hackernews.parse_search(payload, "hn").posts[1]
    assert post.text == post.title.strip() and post.text


def test_a_mastodon_picture_posted_alone_has_its_description_as_text():
    status = fixture("mastodon", "timeline_tag.json")[0]
    status.update(content="", media_attachments=[{"type": "image", "description": "Cola en la taquilla de Cinesa"}])
    assert mastodon.parse_statuses([status], "m").posts[0].text == "Cola en la taquilla de Cinesa"
