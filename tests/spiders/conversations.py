"""One support conversation written out in each platform's own API format, with the answer state of each post.

The thread (brand ``cinesa``, competitor ``yelmocines``; minutes after 10:00):

| post | by | replies to | at | expected |
| --- | --- | --- | --- | --- |
| 1 | ana | — | 0 | answered by the brand (post 2) |
| 2 | cinesa | 1 | 10 | answered by someone else (post 3) |
| 3 | ana | 2 | 20 | unanswered: the brand's answer came before it; Ana's last post |
| 4 | pau | 1 | 25 | answered by the brand (post 7; the competitor's post 5 too) |
| 5 | yelmocines | 4 | 30 | answered by someone else (post 6) |
| 6 | pau | 5 | 35 | answered by the brand: Pau's last post, the brand wrote to him after (post 7) |
| 7 | cinesa | 4 | 40 | unanswered |
| 8 | (deleted) | 1 | 45 | gone: not among the posts |
| 9 | (no author) | 3 | 50 | unanswered; a reply by nobody answers nothing |
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc)
# number: (author, parent, minutes)
THREAD = {1: ("ana", None, 0), 2: ("cinesa", 1, 10), 3: ("ana", 2, 20), 4: ("pau", 1, 25), 5: ("yelmocines", 4, 30),
          6: ("pau", 5, 35), 7: ("cinesa", 4, 40), 8: ("[deleted]", 1, 45), 9: (None, 3, 50)}
EXPECTED = {1: "answered_by_brand", 2: "answered", 3: "unanswered", 4: "answered_by_brand", 5: "answered",
            6: "answered_by_brand", 7: "unanswered", 9: "unanswered"}
DELETED = {8}
TEXT = "¿Alguien sabe si la tarjeta Cinesa sirve en Diagonal Mar?"


def at(number: int) -> datetime:
    return T0 + timedelta(minutes=THREAD[number][2])


def children(number: int) -> list[int]:
    return [n for n, (_, parent, _) in THREAD.items() if parent == number]


def reddit() -> list:
    """``/comments/<id>``: [submission listing, comment tree]."""
    def comment(n):
        author, parent, _ = THREAD[n]
        deleted = n in DELETED
        return {"kind": "t1", "data": {
            "name": f"t1_c{n}", "id": f"c{n}", "author": "[deleted]" if deleted or author is None else author,
            "body": "[deleted]" if deleted else TEXT, "parent_id": "t3_root" if parent == 1 else f"t1_c{parent}",
            "created_utc": at(n).timestamp(), "permalink": f"/r/cine/comments/root/x/c{n}/",
            "replies": {"kind": "Listing", "data": {"children": [comment(c) for c in children(n)]}} if children(n) else ""}}
    link = {"name": "t3_root", "id": "root", "author": "ana", "selftext": TEXT, "title": "Tarjeta Cinesa",
            "permalink": "/r/cine/comments/root/x/", "created_utc": T0.timestamp(), "num_comments": 8, "is_self": True}
    return [{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": link}]}},
            {"kind": "Listing", "data": {"children": [comment(c) for c in children(1)]}}]


def hackernews() -> dict:
    """``/api/v1/items/<story>``: the story and its tree; a deleted comment has no author and no text."""
    def item(n):
        author, parent, _ = THREAD[n]
        deleted = n in DELETED
        return {"id": n, "author": None if deleted else author, "text": None if deleted else TEXT,
                "title": "Ask HN: Tarjeta Cinesa" if n == 1 else None, "type": "story" if n == 1 else "comment",
                "parent_id": parent, "story_id": 1, "created_at_i": int(at(n).timestamp()),
                "children": [item(c) for c in children(n)]}
    return item(1)


def _account(name: str | None) -> dict:
    name = name or "ghost"
    return {"id": str(abs(hash(name)) % 10**9), "acct": name, "url": f"https://mastodon.example/@{name}",
            "display_name": name}


def mastodon() -> dict:
    """``/api/v1/statuses/1/context``: the root's descendants (a deleted status is simply not there)."""
    def status(n):
        author, parent, _ = THREAD[n]
        return {"id": str(n), "account": _account(author), "content": f"<p>{TEXT}</p>",
                "created_at": at(n).isoformat().replace("+00:00", "Z"), "in_reply_to_id": str(parent),
                "in_reply_to_account_id": _account(THREAD[parent][0])["id"], "url": f"https://mastodon.example/{n}"}
    return {"ancestors": [], "descendants": [status(n) for n in THREAD if n != 1 and n not in DELETED]}


def mastodon_root() -> dict:
    return {"id": "1", "account": _account("ana"), "content": f"<p>{TEXT}</p>", "created_at": "2026-03-03T10:00:00Z",
            "in_reply_to_id": None, "url": "https://mastodon.example/1", "replies_count": 2}


BSKY = "at://did:plc:{}/app.bsky.feed.post/{}"


def bluesky() -> dict:
    """``getPostThread`` of the root: nested thread views; a deleted reply is a ``notFoundPost``."""
    def uri(n):
        return BSKY.format(f"user{n}", f"3l{n}")

    def node(n):
        author, parent, _ = THREAD[n]
        if n in DELETED:
            return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri(n), "notFound": True}
        record = {"text": TEXT, "createdAt": at(n).isoformat().replace("+00:00", "Z")}
        if parent:
            record["reply"] = {"parent": {"uri": uri(parent)}, "root": {"uri": uri(1)}}
        view = {"uri": uri(n), "record": record, "indexedAt": record["createdAt"], "replyCount": len(children(n)),
                "author": {"did": f"did:plc:user{n}", "handle": f"{author}.bsky.social" if author else "handle.invalid"}}
        return {"$type": "app.bsky.feed.defs#threadViewPost", "post": view, "replies": [node(c) for c in children(n)]}
    return {"thread": node(1)}


def discourse() -> dict:
    """``/t/1.json``: every post of the topic, each naming the post it answers (none: the first)."""
    posts = [{"id": 100 + n, "post_number": n, "username": author if author else "", "topic_id": 1,
              "cooked": f"<p>{TEXT}</p>", "created_at": at(n).isoformat().replace("+00:00", "Z"),
              "reply_to_post_number": parent if parent and parent != 1 else None}
             for n, (author, parent, _) in THREAD.items() if n not in DELETED]
    return {"id": 1, "slug": "tarjeta", "title": "Tarjeta Cinesa", "posts_count": len(posts),
            "post_stream": {"posts": posts, "stream": [p["id"] for p in posts]}}


def stackexchange() -> tuple[dict, dict]:
    """Four questions and their answers: the brand's (accepted), the competitor's, someone else's, none."""
    def question(n, author):
        return {"question_id": n, "title": "Cinesa API", "body": f"<p>{TEXT}</p>", "link": f"https://so.example/q/{n}",
                "creation_date": int(T0.timestamp()), "answer_count": 0, "owner": {"display_name": author}}

    def answer(n, q, author, accepted=False):
        return {"answer_id": n, "question_id": q, "is_accepted": accepted, "creation_date": int(at(2).timestamp()),
                "owner": {"display_name": author}}
    questions = {"items": [question(q, "ana") for q in (11, 12, 13, 14)], "has_more": False}
    answers = {"items": [answer(21, 11, "cinesa", True), answer(22, 11, "pau"), answer(23, 12, "yelmocines"),
                         answer(24, 13, "pau"), answer(25, 14, "ana")], "has_more": False}
    return questions, answers


SE_EXPECTED = {11: "answered_by_brand", 12: "answered_by_competitor", 13: "answered", 14: "unanswered"}
