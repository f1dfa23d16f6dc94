"""Replies sent from the inbox through each platform's API, recorded on the post.

:class:`Outbox` sends and records; :class:`Sender` picks the platform adapter
(one module per platform) for a post's source. Nothing here needs Scrapy: one
HTTP call at a time with the standard library.
"""

from listener.sending.base import ERRORS, Sent, SendFailure
from listener.sending.outbox import LinkError, NotSendableError, Outbox, SendFailedError, SendInProgressError, check_link, new_key
from listener.sending.platforms import ADAPTERS, Route, Sender

__all__ = [
    "ADAPTERS", "ERRORS", "LinkError", "NotSendableError", "Outbox", "Route", "SendFailedError", "SendFailure",
    "SendInProgressError", "Sender", "Sent", "check_link", "new_key",
]
