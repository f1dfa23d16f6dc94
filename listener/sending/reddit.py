"""Reddit: a comment through ``POST /api/comment`` on the OAuth API.

A script app's password grant gives the token: the crawl's client id and
secret (``LISTENER_REDDIT_CLIENT_ID``, ``LISTENER_REDDIT_CLIENT_SECRET``, or the
source's ``client_id_env``/``client_secret_env``) and the brand account's
``LISTENER_REDDIT_USERNAME`` and ``LISTENER_REDDIT_PASSWORD``. Reddit reports
most refusals inside a 200 answer, in ``json.errors``.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone

from listener.records import Post
from listener.sending.base import Adapter, Sent, SendFailure, call

USERNAME_ENV, PASSWORD_ENV = "LISTENER_REDDIT_USERNAME", "LISTENER_REDDIT_PASSWORD"
GONE = {"DELETED_LINK", "DELETED_COMMENT", "DELETED_THING", "INVALID_THING"}
WAIT = re.compile(r"(\d+)\s*(second|minute|hour)")


class RedditAdapter(Adapter):
    kind = "reddit"
    platform = "Reddit"

    @property
    def app_variables(self) -> list[str]:
        options = self.source.options
        return [options.get("client_id_env", "LISTENER_REDDIT_CLIENT_ID"), options.get("client_secret_env", "LISTENER_REDDIT_CLIENT_SECRET")]

    def variables(self) -> list[str]:
        return [*self.app_variables, USERNAME_ENV, PASSWORD_ENV]

    def send(self, post: Post, text: str, key: str) -> Sent:
        api = self.base_url or "https://oauth.reddit.com"
        answer = call("POST", f"{api}/api/comment", headers={"Authorization": f"Bearer {self.token()}"},
                      form={"thing_id": self.native_id(post), "text": text, "api_type": "json"})
        if not answer.ok:
            raise self.failure(answer)
        body = (answer.json() or {}).get("json") or {}
        if body.get("errors"):
            raise self.refusal(body["errors"][0])
        things = (body.get("data") or {}).get("things") or []
        comment = things[0].get("data") if things else None
        if not comment or not comment.get("name"):
            raise SendFailure("unknown", "Reddit answered without the new comment; look at the thread before sending again")
        return Sent(comment["name"], "https://www.reddit.com" + comment.get("permalink", f"/comments/{comment['name']}"))

    def token(self) -> str:
        client_id, secret = (self.env(name) for name in self.app_variables)
        answer = call("POST", f"{self.base_url or 'https://www.reddit.com'}/api/v1/access_token",
                      headers={"Authorization": _basic(client_id, secret)},
                      form={"grant_type": "password", "username": self.env(USERNAME_ENV), "password": self.env(PASSWORD_ENV)})
        if not answer.ok:
            raise self.failure(answer, self.app_variables)
        payload = answer.json() or {}
        if not payload.get("access_token"):
            raise SendFailure("auth", f"Reddit did not log the account in ({payload.get('error', 'no token')})",
                              hint=f"Check {USERNAME_ENV} and {PASSWORD_ENV} (the account must be a developer of the app).")
        return payload["access_token"]

    def refusal(self, error: list) -> SendFailure:
        code, message = (error + ["", ""])[:2]
        if code in GONE:
            return SendFailure("gone", f"the post is no longer on Reddit ({code}: {message}); nothing was sent")
        if code == "RATELIMIT":
            found = WAIT.search(message)
            retry_at = None
            if found:
                seconds = int(found.group(1)) * {"second": 1, "minute": 60, "hour": 3600}[found.group(2)]
                retry_at = datetime.now(timezone.utc) + timedelta(seconds=seconds)
            return SendFailure("rate_limited", f"Reddit is rate limiting the account ({message})", retry_at)
        return SendFailure("rejected", f"Reddit refused the comment ({code}: {message})")


def _basic(user: str | None, password: str | None) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
