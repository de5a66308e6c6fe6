"""A person's choice between single reminders and one weekly digest."""

from __future__ import annotations

from lms import audit
from lms.auth.models import Role, User
from lms.extensions import db


def set_reminder_digest(user: User, *, digest: bool) -> bool:
    """Take one weekly digest (*digest*) or each reminder; whether it changed.

    The notice that a course is overdue is sent either way. Recorded in the audit
    log for HR managers, trainers and admins, like their other own changes.
    """
    if user.reminder_digest == digest:
        return False
    user.reminder_digest = digest
    db.session.flush()
    if user.role is not Role.LEARNER:
        audit.record(
            audit.Action.USER_REMINDERS,
            actor_id=user.id,
            objects=[(audit.ObjectKind.USER, user.id)],
            summary={"digest": int(digest)},
        )
    return True
