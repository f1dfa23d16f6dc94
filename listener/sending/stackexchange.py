"""Stack Exchange: an answer through ``POST /2.3/questions/{id}/answers/add``.

Writing needs the app's key (``LISTENER_STACKEXCHANGE_KEY``, or the source's
``key_env``) and an access token with the ``write_access`` scope
(``LISTENER_STACKEXCHANGE_ACCESS_TOKEN``). The API reports failures as
``error_id``/``error_name``; ``throttle_violation`` says in words how long to wait.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from listener.records import Post
from listener.sending.base import Adapter, Sent, SendFailure, call

TOKEN_ENV = "LISTENER_STACKEXCHANGE_ACCESS_TOKEN"
AUTH_ERRORS = {401, 402, 403, 405, 406}
SECONDS = re.compile(r"(\d+) seconds")


class StackExchangeAdapter(Adapter):
    kind = "stackexchange"
    platform = "Stack Exchange"
    default_base_url = "https://api.stackexchange.com"

    def variables(self) -> list[str]:
        return [self.source.options.get("key_env", "LISTENER_STACKEXCHANGE_KEY"), TOKEN_ENV]

    def send(self, post: Post, text: str, key: str) -> Sent:
        site, question = self.native_id(post).rsplit(":", 1)
        key_env, token_env = self.variables()
        answer = call("POST", f"{self.base_url}/2.3/questions/{question}/answers/add",
                      form={"body": text, "site": site, "key": self.env(key_env), "access_token": self.env(token_env)})
        payload = answer.json() if isinstance(answer.json(), dict) else {}
        if payload.get("error_id") or not answer.ok:
            raise self.refusal(answer, payload)
        items = payload.get("items") or []
        if not items or not items[0].get("answer_id"):
            raise SendFailure("unknown", "Stack Exchange answered without the new answer; look at the question before sending again")
        answer_id = items[0]["answer_id"]
        host = urlsplit(post.url).netloc or f"{site}.com"
        return Sent(str(answer_id), items[0].get("link") or f"https://{host}/a/{answer_id}")

    def refusal(self, answer, payload: dict) -> SendFailure:
        error_id, name, message = payload.get("error_id"), payload.get("error_name", ""), payload.get("error_message", "")
        if error_id == 502:
            found = SECONDS.search(message)
            retry_at = datetime.now(timezone.utc) + timedelta(seconds=int(found.group(1))) if found else None
            return SendFailure("rate_limited", f"Stack Exchange is throttling the app ({message})", retry_at)
        if error_id in AUTH_ERRORS:
            return SendFailure("auth", f"Stack Exchange refused the credentials ({name}: {message})",
                               hint=f"Check {', '.join(self.variables())}: the token needs the write_access scope.")
        if error_id is None or answer.status in (404, 410):
            return self.failure(answer)
        return SendFailure("rejected", f"Stack Exchange refused the answer ({name}: {message})")
