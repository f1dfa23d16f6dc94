"""The team's workflow on a post: who has it, where it stands, what was noted.

Status moves ``new → claimed → answered → resolved``; any open post can be
dismissed, and a closed one reopened. Changes are checked here once, so every
index backend enforces the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from listener.errors import ConflictError, TransitionError
from listener.records import STATUSES, Note, ReplySend, Workflow

TRANSITIONS = {
    "new": {"claimed", "answered", "dismissed"},
    "claimed": {"new", "answered", "dismissed"},
    "answered": {"claimed", "resolved", "dismissed"},
    "resolved": {"new"},
    "dismissed": {"new"},
}
OPEN_STATUSES = ("new", "claimed")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


@dataclass(frozen=True, slots=True)
class WorkflowChange:
    """What someone wants to change; ``UNSET`` fields stay as they are."""

    actor: str
    status: str | _Unset = UNSET
    assignee: str | None | _Unset = UNSET
    note: str | None = None
    reply_draft: str | None | _Unset = UNSET
    follow_up_at: datetime | None | _Unset = UNSET
    send: ReplySend | _Unset = UNSET  # an attempt to record, replacing the one with the same key

    @classmethod
    def claim(cls, actor: str) -> WorkflowChange:
        return cls(actor=actor, status="claimed", assignee=actor)


def apply_change(current: Workflow, change: WorkflowChange, post_id: str, now: datetime | None = None) -> Workflow:
    """Return the workflow after ``change``, or raise if the change is not allowed."""
    now = now or datetime.now(timezone.utc)
    updated = current
    if change.status is not UNSET and change.status != current.status:
        if change.status not in STATUSES:
            raise TransitionError(f"unknown status {change.status!r} (valid: {', '.join(STATUSES)})")
        if change.status not in TRANSITIONS[current.status]:
            allowed = ", ".join(sorted(TRANSITIONS[current.status]))
            raise TransitionError(f"post {post_id} is {current.status}; it can move to {allowed}, not {change.status}")
        updated = replace(updated, status=change.status)
    if change.status == "claimed" and current.status == "claimed" and current.assignee not in (None, change.actor):
        raise ConflictError(f"post {post_id} is already claimed by {current.assignee}")
    if change.assignee is not UNSET:
        updated = replace(updated, assignee=change.assignee)
    if updated.status == "new" and current.status != "new":
        updated = replace(updated, assignee=None)
    if change.note:
        updated = replace(updated, notes=updated.notes + (Note(change.actor, change.note, now),))
    if change.reply_draft is not UNSET:
        updated = replace(updated, reply_draft=change.reply_draft)
    if change.follow_up_at is not UNSET:
        updated = replace(updated, follow_up_at=change.follow_up_at)
    if change.send is not UNSET:
        others = tuple(s for s in updated.sends if s.key != change.send.key)
        updated = replace(updated, sends=others + (change.send,))
    return replace(updated, version=current.version + 1, updated_at=now)
