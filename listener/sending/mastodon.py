"""Mastodon: ``POST /api/v1/statuses`` with ``in_reply_to_id`` on the source's instance.

The token is the crawl's (``LISTENER_MASTODON_TOKEN``, or the source's
``token_env``) and needs the ``write:statuses`` scope. Status ids are per
instance: a post found on another instance is first looked up on ours
(``/api/v2/search?resolve=true``). The send's key goes as ``Idempotency-Key``, so
the instance itself never posts the same send twice. The reply starts with the
author's handle, as Mastodon's own reply box does, so that they are notified.
"""

from __future__ import annotations

from urllib.parse import quote

from listener.records import Post
from listener.sending.base import Adapter, Sent, SendFailure, call


class MastodonAdapter(Adapter):
    kind = "mastodon"
    platform = "Mastodon"
    default_base_url = "https://mastodon.social"
    max_length = 500

    def variables(self) -> list[str]:
        return [self.source.options.get("token_env", "LISTENER_MASTODON_TOKEN")]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.env(self.variables()[0])}"}

    def send(self, post: Post, text: str, key: str) -> Sent:
        native = self.native_id(post)
        status_id = self.resolve(post) if ":" in native else native
        if post.author and post.author.lower() not in text.lower():
            text = f"{post.author} {text}"
        answer = call("POST", f"{self.base_url}/api/v1/statuses", headers={**self.headers(), "Idempotency-Key": key},
                      json_body={"status": text, "in_reply_to_id": status_id})
        if not answer.ok:
            raise self.failure(answer)
        status = answer.json() or {}
        if not status.get("id"):
            raise SendFailure("unknown", "Mastodon answered without the new status; look at the thread before sending again")
        return Sent(str(status["id"]), status.get("url") or status.get("uri") or "")

    def resolve(self, post: Post) -> str:
        """The id on our instance of a status found on another one."""
        answer = call("GET", f"{self.base_url}/api/v2/search?type=statuses&resolve=true&limit=1&q={quote(post.url, safe='')}",
                      headers=self.headers())
        if not answer.ok:
            raise self.failure(answer)
        statuses = (answer.json() or {}).get("statuses") or []
        if not statuses:
            raise SendFailure("gone", f"{self.base_url} cannot find {post.url} any more; nothing was sent")
        return str(statuses[0]["id"])
