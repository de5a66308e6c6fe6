"""What a signed-in person does to their own account: names, password, sessions.

Plain functions that flush and never commit, like every operation. A change
made by a trainer, an HR manager or an administrator to their own account is
written to the audit log too (the log records every change those roles make);
a learner's own password or sessions are not: they are no one else's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from lms import audit
from lms.auth.models import Role, User, UserSession
from lms.auth.operations import (
    AccountError,
    _cancel_unused_tokens,
    check_password_strength,
)
from lms.auth.passwords import hash_password, verify_password
from lms.auth.sessions import end_other_sessions
from lms.core.types import utcnow
from lms.extensions import db
from lms.register.models import StaffMember

#: Names are kept to the length the register allows.
NAME_MAX = 100


class WrongPasswordError(AccountError):
    """The current password given to change it is not the account's."""


class RecentSignInRequiredError(AccountError):
    """A first password needs a recent session (see :data:`FIRST_PASSWORD_WINDOW`)."""


#: An account without a password (it signs in with SPID or CIE) has no old password
#: to ask for: setting a first one needs a session opened this recently instead, so
#: that a stolen session cannot set a password and keep the account.
FIRST_PASSWORD_WINDOW = timedelta(minutes=10)


def may_set_first_password(session: UserSession | None) -> bool:
    """Whether *session* is recent enough to set an account's first password."""
    return session is not None and utcnow() - session.created_at <= FIRST_PASSWORD_WINDOW


@dataclass(frozen=True)
class Identity:
    """What the profile page shows of where an account's identity comes from."""

    #: The staff record the account belongs to, if any: names and e-mail are the
    #: HR office's, kept by the roster import.
    staff: StaffMember | None
    #: The codice fiscale that signs the account in with SPID or CIE, if any:
    #: the staff record's, or one an administrator bound to the account.
    fiscal_code: str | None


def identity(user: User) -> Identity:
    """The account's staff record and codice fiscale (one query)."""
    staff = db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))
    code = user.fiscal_code or (staff.codice_fiscale if staff is not None else None)
    return Identity(staff=staff, fiscal_code=code)


def _audited(user: User) -> bool:
    return user.role is not Role.LEARNER


def change_own_names(user: User, first_name: str, last_name: str) -> bool:
    """Correct one's own name; whether it changed.

    Refused for an account that belongs to a staff record: the name there is
    the HR office's, and the next roster import would put it back.
    """
    first_name, last_name = first_name.strip(), last_name.strip()
    if identity(user).staff is not None:
        raise AccountError("the name of a staff member is kept by their HR office")
    if not first_name or not last_name:
        raise AccountError("name and surname are required")
    if len(first_name) > NAME_MAX or len(last_name) > NAME_MAX:
        raise AccountError(f"names are at most {NAME_MAX} characters long")
    if (user.first_name, user.last_name) == (first_name, last_name):
        return False
    user.first_name, user.last_name = first_name, last_name
    db.session.flush()
    if _audited(user):
        audit.record(
            audit.Action.USER_NAMES, actor_id=user.id, objects=[(audit.ObjectKind.USER, user.id)]
        )
    return True


def change_own_password(
    user: User,
    current: str | None,
    new: str,
    *,
    keep: UserSession | None,
    min_length: int = 10,
) -> int:
    """Change one's password; the number of other sessions this ended.

    The current password is asked when the account has one; an account that
    signs in only with SPID or CIE sets a first one from a session opened in
    the last :data:`FIRST_PASSWORD_WINDOW`. The other sessions
    end and unused set-password links stop working: whoever knew the old
    password or held a link is out; this browser stays signed in.
    """
    if user.password_hash and not verify_password(user.password_hash, current or ""):
        raise WrongPasswordError("the current password is not right")
    if not user.password_hash and not may_set_first_password(keep):
        raise RecentSignInRequiredError("sign in again to set a first password")
    check_password_strength(new, min_length)
    user.password_hash = hash_password(new)
    _cancel_unused_tokens([user.id], utcnow())
    ended = end_other_sessions(user, keep)
    db.session.flush()
    if _audited(user):
        audit.record(
            audit.Action.USER_PASSWORD,
            actor_id=user.id,
            objects=[(audit.ObjectKind.USER, user.id)],
            summary={"sessions_ended": ended},
        )
    return ended


def end_own_sessions(user: User, keep: UserSession | None) -> int:
    """Sign out of every other browser; the number of sessions ended."""
    ended = end_other_sessions(user, keep)
    if ended and _audited(user):
        audit.record(
            audit.Action.USER_SESSIONS_END,
            actor_id=user.id,
            objects=[(audit.ObjectKind.USER, user.id)],
            summary={"sessions_ended": ended},
        )
    return ended


def end_own_session(user: User, session_id: int, keep: UserSession | None) -> bool:
    """End one of one's own other sessions; False when it is not one of them (or is this one)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return False
    if keep is not None and row.id == keep.id:
        return False
    row.ended_at = utcnow()
    db.session.flush()
    if _audited(user):
        audit.record(
            audit.Action.USER_SESSIONS_END,
            actor_id=user.id,
            objects=[(audit.ObjectKind.USER, user.id)],
            summary={"sessions_ended": 1},
        )
    return True
