"""Bluesky: ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` with reply refs.

The account logs in on its PDS (``com.atproto.server.createSession``) with
``LISTENER_BLUESKY_HANDLE`` and ``LISTENER_BLUESKY_APP_PASSWORD``, as the crawl
does. A reply names its parent and its thread's root by URI and CID, so the
post is read first (``app.bsky.feed.getPosts``); a post that is not there any
more is ``gone``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from listener.records import Post
from listener.sending.base import Adapter, Sent, SendFailure, call

HANDLE_ENV, PASSWORD_ENV = "LISTENER_BLUESKY_HANDLE", "LISTENER_BLUESKY_APP_PASSWORD"


class BlueskyAdapter(Adapter):
    kind = "bluesky"
    platform = "Bluesky"
    default_base_url = "https://bsky.social"
    max_length = 300

    def variables(self) -> list[str]:
        return [HANDLE_ENV, PASSWORD_ENV]

    def send(self, post: Post, text: str, key: str) -> Sent:
        session = self.log_in()
        auth = {"Authorization": f"Bearer {session['accessJwt']}"}
        uri = self.native_id(post)
        found = call("GET", f"{self.base_url}/xrpc/app.bsky.feed.getPosts?uris={quote(uri, safe='')}", headers=auth)
        if not found.ok:
            raise self.failure(found)
        views = (found.json() or {}).get("posts") or []
        if not views:
            raise SendFailure("gone", f"the post {uri} is no longer on Bluesky; nothing was sent")
        parent = {"uri": views[0]["uri"], "cid": views[0]["cid"]}
        root = ((views[0].get("record") or {}).get("reply") or {}).get("root") or parent
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _now(), "reply": {"root": root, "parent": parent}}
        answer = call("POST", f"{self.base_url}/xrpc/com.atproto.repo.createRecord", headers=auth,
                      json_body={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record})
        if not answer.ok:
            raise self.failure(answer)
        created = answer.json() or {}
        if not created.get("uri"):
            raise SendFailure("unknown", "Bluesky answered without the new post; look at the thread before sending again")
        rkey = created["uri"].rsplit("/", 1)[-1]
        return Sent(created["uri"], f"https://bsky.app/profile/{session.get('handle') or session['did']}/post/{rkey}")

    def log_in(self) -> dict:
        answer = call("POST", f"{self.base_url}/xrpc/com.atproto.server.createSession",
                      json_body={"identifier": self.env(HANDLE_ENV), "password": self.env(PASSWORD_ENV)})
        if not answer.ok:  # a wrong app password is a 401 AuthenticationRequired
            raise self.failure(answer)
        return answer.json() or {}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
