"""Changes people make to a post, shared by the pages and the API.

Every workflow change names the version the person saw; the backend refuses it
with a :class:`ConflictError` if someone changed the post since. Claiming
assigns the post to oneself; handing over a post someone else holds takes an
admin. Feedback on the analysis needs no version: it is only ever added, and
the latest on each label decides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from listener.errors import ConflictError, ListenerError, NotFoundError
from listener.feedback import check_labels
from listener.records import STATUSES, Feedback, IndexedPost, ReplySend, Workflow
from listener.sending import Outbox, Sender, new_key
from listener.web.i18n import gettext as _
from listener.web.sessions import Session
from listener.workflow import UNSET, WorkflowChange

MAX_NOTE = 5000
MAX_DRAFT = 10000


class ChangeError(ListenerError):
    """A change that cannot be made as asked (an empty note, an unknown assignee)."""


@dataclass(frozen=True, slots=True)
class SendView:
    """What the post page offers for answering: Send (``sendable``), else why not; the last try; a fresh key."""

    sendable: bool
    reason: str
    platform: str
    sent: ReplySend | None
    last: ReplySend | None
    key: str


class Work:
    def __init__(self, backend, users, schedule, entities: Sequence[str] = (), outbox: Outbox | None = None):
        self.backend, self.users, self.schedule = backend, users, schedule
        self.entities = list(entities)
        self.outbox = outbox or Outbox(backend, Sender())

    def change(self, session: Session, post_id: str, version: int, *, status=UNSET, assignee=UNSET,
               note: str | None = None, reply_draft=UNSET, follow_up_at=UNSET) -> Workflow:
        current = self.backend.get(post_id)
        if current is None:
            raise NotFoundError(_("no post with id %(id)r") % {"id": post_id})
        workflow = current.workflow
        if status is not UNSET and status not in STATUSES:
            raise ChangeError(_("unknown status %(status)r (valid: %(valid)s)") % {"status": status, "valid": ", ".join(STATUSES)})
        if assignee is not UNSET:
            if assignee not in self.users.names("agent", "admin"):
                raise ChangeError(_("%(name)r is not an agent or admin who can take posts") % {"name": assignee})
            holder = workflow.assignee
            if holder not in (None, session.user, assignee) and session.role != "admin":
                raise ConflictError(_("post %(id)s is claimed by %(holder)s; only %(holder)s or an admin can hand it over") % {"id": post_id, "holder": holder})
            if status is UNSET and workflow.status == "new":
                status = "claimed"
        if status == "claimed" and assignee is UNSET:
            assignee = session.user
        if status == "answered" and assignee is UNSET and workflow.assignee is None:
            assignee = session.user
        if note is not None:
            note = note.strip()
            if not note:
                raise ChangeError(_("the note is empty"))
            if len(note) > MAX_NOTE:
                raise ChangeError(_("the note is %(length)d characters long; the limit is %(limit)d") % {"length": len(note), "limit": MAX_NOTE})
        if reply_draft is not UNSET:
            if reply_draft and len(reply_draft) > MAX_DRAFT:
                raise ChangeError(_("the reply is %(length)d characters long; the limit is %(limit)d") % {"length": len(reply_draft), "limit": MAX_DRAFT})
            reply_draft = reply_draft or None
        if isinstance(follow_up_at, date) and not isinstance(follow_up_at, datetime):
            # A follow-up day means the start of service on that day, in the team's time zone.
            start = time.fromisoformat(self.schedule.service_hours.start)
            follow_up_at = datetime.combine(follow_up_at, start, ZoneInfo(self.schedule.timezone))
        change = WorkflowChange(
            actor=session.user, status=status, assignee=assignee, note=note, reply_draft=reply_draft, follow_up_at=follow_up_at
        )
        return self.backend.update_workflow(post_id, version, change)

    def claim(self, session: Session, post_id: str, version: int) -> Workflow:
        return self.change(session, post_id, version, status="claimed")

    def give_feedback(self, session: Session, post_id: str, labels: dict) -> Feedback:
        """Keep what ``session``'s user says about some of the post's labels; a bad label raises ``LabelError``."""
        feedback = Feedback(labels=check_labels(labels, self.entities), by=session.user, at=datetime.now(timezone.utc))
        self.backend.add_feedback(post_id, feedback)
        self.backend.refresh()
        return feedback

    # -- answering from the inbox ---------------------------------------------------

    def send_view(self, hit: IndexedPost) -> SendView:
        route = self.outbox.sender.route(hit.post)
        platform = route.adapter.platform if route.adapter else hit.post.source
        sends = hit.workflow.sends
        return SendView(route.sendable, route.reason, platform, hit.workflow.sent, sends[-1] if sends else None, new_key())

    def send_reply(self, session: Session, post_id: str, version: int, text: str, key: str) -> ReplySend:
        """Send ``text`` through the post's platform; see :class:`listener.sending.Outbox`."""
        return self.outbox.send(session.user, post_id, version, text, key)

    def mark_answered_with_link(self, session: Session, post_id: str, version: int, url: str) -> ReplySend:
        return self.outbox.mark_answered(session.user, post_id, version, url)
