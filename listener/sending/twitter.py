"""X: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``.

Posting needs a user-context OAuth 2.0 token with ``tweet.write`` (the crawl's
app-only bearer token cannot post): ``LISTENER_TWITTER_USER_TOKEN``. X answers a
reply to a deleted or hidden tweet with 403 and says so; that is ``gone``.
"""

from __future__ import annotations

from listener.records import Post
from listener.sending.base import Adapter, Sent, SendFailure, call, platform_message

TOKEN_ENV = "LISTENER_TWITTER_USER_TOKEN"


class TwitterAdapter(Adapter):
    kind = "twitter"
    platform = "X"
    default_base_url = "https://api.x.com"
    max_length = 280

    def variables(self) -> list[str]:
        return [TOKEN_ENV]

    def send(self, post: Post, text: str, key: str) -> Sent:
        answer = call("POST", f"{self.base_url}/2/tweets", headers={"Authorization": f"Bearer {self.env(TOKEN_ENV)}"},
                      json_body={"text": text, "reply": {"in_reply_to_tweet_id": self.native_id(post)}})
        if answer.status == 403 and "deleted" in platform_message(answer).lower():
            raise SendFailure("gone", f"the tweet is deleted or not visible to the account ({platform_message(answer)}); nothing was sent")
        if not answer.ok:
            raise self.failure(answer)
        tweet = (answer.json() or {}).get("data") or {}
        if not tweet.get("id"):
            raise SendFailure("unknown", f"X answered {answer.status} without the new tweet's id; look at the thread before sending again")
        return Sent(str(tweet["id"]), f"https://x.com/i/web/status/{tweet['id']}")
