"""Discourse: ``POST /posts.json`` with ``topic_id`` and ``reply_to_post_number``.

The forum's API key and the account to post as come from the variables the
source names (``api_key_env``, ``api_username_env``); a key scoped to one user
or to all users both work. Discourse says how long to wait in
``extras.wait_seconds`` as well as ``Retry-After``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from listener.records import Post
from listener.sending.base import Adapter, Sent, SendFailure, call


class DiscourseAdapter(Adapter):
    kind = "discourse"
    platform = "Discourse"

    def variables(self) -> list[str]:
        options = self.source.options
        return [options.get("api_key_env") or "api_key_env (unset in the source)",
                options.get("api_username_env") or "api_username_env (unset in the source)"]

    def send(self, post: Post, text: str, key: str) -> Sent:
        topic, number = self.native_id(post).split("/", 1)
        key_env, user_env = self.variables()
        answer = call("POST", f"{self.base_url}/posts.json", headers={"Api-Key": self.env(key_env), "Api-Username": self.env(user_env)},
                      json_body={"raw": text, "topic_id": int(topic), "reply_to_post_number": int(number)})
        if not answer.ok:
            failure = self.failure(answer)
            wait = ((answer.json() or {}).get("extras") or {}).get("wait_seconds") if isinstance(answer.json(), dict) else None
            if failure.error == "rate_limited" and wait and not failure.retry_at:
                failure.retry_at = datetime.now(timezone.utc) + timedelta(seconds=float(wait))
            raise failure
        created = answer.json() or {}
        if not created.get("post_number"):
            raise SendFailure("unknown", "Discourse answered without the new post; look at the topic before sending again")
        url = f"{self.base_url}/t/{created.get('topic_slug') or 'topic'}/{created.get('topic_id', topic)}/{created['post_number']}"
        return Sent(str(created.get("id") or created["post_number"]), url)
