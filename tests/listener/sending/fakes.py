"""Every platform's reply API on one loopback server, answering as the real ones do.

Success bodies and failures are hand-made in each API's documented format. A
test makes the next request to a path fail with :meth:`FakePlatforms.fail`, and
reads what was sent in :attr:`FakePlatforms.requests`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from spiders.localserver import QuietHandler, start, stop


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: object  # parsed JSON or form fields


class FakePlatforms:
    def __init__(self):
        self.requests: list[Request] = []
        self.failures: dict[str, list[tuple[int, dict, object]]] = {}
        self.delay = 0.0
        self.lock = threading.Lock()
        self.statuses_by_key: dict[str, dict] = {}
        self.bluesky_posts = {"at://did:plc:abc/app.bsky.feed.post/3k": {
            "uri": "at://did:plc:abc/app.bsky.feed.post/3k", "cid": "bafyparent",
            "record": {"$type": "app.bsky.feed.post", "text": "¿La tarjeta sirve para dos?", "createdAt": "2026-11-20T09:00:00.000Z",
                       "reply": {"root": {"uri": "at://did:plc:abc/app.bsky.feed.post/3a", "cid": "bafyroot"},
                                 "parent": {"uri": "at://did:plc:abc/app.bsky.feed.post/3a", "cid": "bafyroot"}}},
            "author": {"did": "did:plc:abc", "handle": "user11.bsky.social"}, "indexedAt": "2026-11-20T09:00:01.000Z"}}
        fake = self

        class Handler(QuietHandler):
            def do_GET(self):
                fake.handle(self)

            def do_POST(self):
                fake.handle(self)

        self.server = start(Handler, poll_interval=0.05)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        stop(self.server)

    def fail(self, path: str, status: int, body: object, headers: dict | None = None) -> None:
        """The next request to ``path`` answers ``status`` with ``body`` (JSON) and ``headers``."""
        self.failures.setdefault(path, []).append((status, headers or {}, body))

    def sent(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    # -- dispatch -----------------------------------------------------------------

    def handle(self, handler) -> None:
        parts = urlsplit(handler.path)
        raw = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        kind = handler.headers.get("content-type", "")
        body = json.loads(raw) if "json" in kind else {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        request = Request(handler.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}, dict(handler.headers), body)
        with self.lock:
            self.requests.append(request)
            failure = self.failures.get(parts.path, []) and self.failures[parts.path].pop(0)
        if self.delay:
            time.sleep(self.delay)
        if failure:
            status, headers, payload = failure
            return self.reply(handler, status, payload, headers)
        route = ROUTES.get((handler.command, parts.path))
        if route is None and parts.path.startswith("/2.3/questions/"):
            route = FakePlatforms.stackexchange_answer
        if route is None:
            return self.reply(handler, 404, {"error": "not found"})
        status, payload = route(self, request)
        self.reply(handler, status, payload)

    @staticmethod
    def reply(handler, status: int, payload: object, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json; charset=utf-8")
        handler.send_header("content-length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    # -- the platforms' success answers --------------------------------------------------

    def tweet(self, request):
        return 201, {"data": {"id": "1861000000000000001", "edit_history_tweet_ids": ["1861000000000000001"], "text": request.body["text"]}}

    def reddit_token(self, request):
        return 200, {"access_token": "reddit-user-token", "token_type": "bearer", "expires_in": 86400, "scope": "*"}

    def reddit_comment(self, request):
        return 200, {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": {
            "id": "kx1", "name": "t1_kx1", "parent_id": request.body["thing_id"], "body": request.body["text"],
            "permalink": "/r/cine/comments/abc/yelmo_app/kx1/", "author": "cinesa_es"}}]}}}

    def mastodon_status(self, request):
        key = request.headers.get("Idempotency-Key")
        if key in self.statuses_by_key:
            return 200, self.statuses_by_key[key]
        number = 113000000000000001 + len(self.statuses_by_key)
        status = {"id": str(number), "uri": f"https://mastodon.social/users/cinesa/statuses/{number}",
                  "url": f"https://mastodon.social/@cinesa/{number}", "in_reply_to_id": request.body["in_reply_to_id"],
                  "content": f"<p>{request.body['status']}</p>", "visibility": "public", "account": {"acct": "cinesa"}}
        self.statuses_by_key[key] = status
        return 200, status

    def mastodon_search(self, request):
        return 200, {"accounts": [], "hashtags": [], "statuses": [{"id": "113555", "url": request.query["q"]}]}

    def bluesky_session(self, request):
        return 200, {"did": "did:plc:cinesa", "handle": "cinesa.bsky.social", "accessJwt": "jwt-access", "refreshJwt": "jwt-refresh", "active": True}

    def bluesky_posts(self, request):
        found = self.bluesky_posts.get(request.query.get("uris"))
        return 200, {"posts": [found] if found else []}

    def bluesky_create(self, request):
        return 200, {"uri": "at://did:plc:cinesa/app.bsky.feed.post/3lreply", "cid": "bafyreply",
                     "commit": {"cid": "bafycommit", "rev": "3lrev"}, "validationStatus": "valid"}

    def discourse_post(self, request):
        return 200, {"id": 9001, "post_number": 4, "topic_id": request.body["topic_id"], "topic_slug": "cinesa-app",
                     "raw": request.body["raw"], "reply_to_post_number": request.body["reply_to_post_number"], "username": "cinesa"}

    def stackexchange_answer(self, request):
        question = int(request.path.split("/")[3])
        return 200, {"items": [{"answer_id": 79001, "question_id": question, "score": 0, "is_accepted": False}],
                     "has_more": False, "quota_max": 10000, "quota_remaining": 9998}


ROUTES = {
    ("POST", "/2/tweets"): FakePlatforms.tweet,
    ("POST", "/api/v1/access_token"): FakePlatforms.reddit_token,
    ("POST", "/api/comment"): FakePlatforms.reddit_comment,
    ("POST", "/api/v1/statuses"): FakePlatforms.mastodon_status,
    ("GET", "/api/v2/search"): FakePlatforms.mastodon_search,
    ("POST", "/xrpc/com.atproto.server.createSession"): FakePlatforms.bluesky_session,
    ("GET", "/xrpc/app.bsky.feed.getPosts"): FakePlatforms.bluesky_posts,
    ("POST", "/xrpc/com.atproto.repo.createRecord"): FakePlatforms.bluesky_create,
    ("POST", "/posts.json"): FakePlatforms.discourse_post,
}

# Every credential the adapters read, set.
CREDENTIALS = {
    "LISTENER_TWITTER_USER_TOKEN": "x-user-token",
    "LISTENER_REDDIT_CLIENT_ID": "reddit-id", "LISTENER_REDDIT_CLIENT_SECRET": "reddit-secret",
    "LISTENER_REDDIT_USERNAME": "cinesa_es", "LISTENER_REDDIT_PASSWORD": "reddit-password",
    "LISTENER_MASTODON_TOKEN": "mastodon-token",
    "LISTENER_BLUESKY_HANDLE": "cinesa.bsky.social", "LISTENER_BLUESKY_APP_PASSWORD": "app-password",
    "FORUM_KEY": "discourse-key", "FORUM_USER": "cinesa",
    "LISTENER_STACKEXCHANGE_KEY": "se-key", "LISTENER_STACKEXCHANGE_ACCESS_TOKEN": "se-token",
}


def sources(url: str) -> list:
    """One configured source of each kind, all on the fake server."""
    from listener.config import SourceConfig

    return [
        SourceConfig(kind="twitter", base_url=url),
        SourceConfig(kind="reddit", base_url=url),
        SourceConfig(kind="mastodon", base_url=url),
        SourceConfig(kind="bluesky", base_url=url),
        SourceConfig(kind="discourse", name="forum", base_url=url, api_key_env="FORUM_KEY", api_username_env="FORUM_USER"),
        SourceConfig(kind="stackexchange", base_url=url),
        SourceConfig(kind="rss", name="blog", base_url=url),
    ]
