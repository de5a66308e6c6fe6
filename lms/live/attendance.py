"""Recording who attended an edition, and for how long: the register page and the importers.

:func:`record_attendance` is the one way attendance is written, whatever its
source (the trainer's register, Microsoft Teams' or Zoom's report): it checks
that every person may attend the edition, stores their minutes (one
``LiveAttendance`` row per person and edition, the last figure recorded wins),
completes the live module for those at or above its threshold
(:mod:`lms.live.rules`) and writes one audit entry.

Who may attend an edition (:func:`attendable_clause`): staff enrolled in the
edition's course, and people signed up to the edition (booked or waiting), so
that someone HR booked counts even if their enrolment was later removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Insert, exists, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from lms.audit import Action, ObjectKind, record
from lms.auth.models import User
from lms.core.messages import _l
from lms.core.types import utcnow
from lms.courses.models import Module, ModuleProgress
from lms.courses.progress import complete_module
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.live.errors import LiveError, NotAttendable
from lms.live.models import (
    AttendanceSource,
    LiveAttendance,
    LiveEdition,
    LiveSignup,
    SignupStatus,
)
from lms.live.rules import attended_enough
from lms.register.models import StaffMember

#: Rows per INSERT (well under SQLite's limit of bound parameters).
CHUNK = 500
#: The sources that come from a meeting platform's report (audited as an import).
IMPORTED = frozenset({AttendanceSource.TEAMS, AttendanceSource.ZOOM})


@dataclass(frozen=True)
class AttendanceResult:
    """What :func:`record_attendance` did.

    - ``recorded``: people whose minutes were stored;
    - ``completed``: of them, those at or above the threshold (their module is
      complete, now or from before; people without an account are among them,
      see ``without_account``);
    - ``below``: those under the threshold (their module is left as it was);
    - ``newly_completed``: accounts whose module this call completed;
    - ``without_account``: at or above the threshold but with no learner account:
      their attendance is recorded, nothing is completed (there is no progress to
      keep until they have an account, and then the register still shows it).
    """

    recorded: int
    completed: int
    below: int
    newly_completed: int = 0
    without_account: int = 0


def attendable_clause(edition: LiveEdition) -> ColumnElement[bool]:
    """A WHERE clause on :class:`StaffMember`: the people who may attend *edition*."""
    enrolled = exists().where(
        Enrolment.staff_id == StaffMember.id,
        Enrolment.course_id == edition.module.course_id,
    )
    signed_up = exists().where(
        LiveSignup.staff_id == StaffMember.id,
        LiveSignup.edition_id == edition.id,
        LiveSignup.status != SignupStatus.CANCELLED,
    )
    return or_(enrolled, signed_up)


def attendable_by_email(edition: LiveEdition, emails: Iterable[str]) -> dict[str, StaffMember]:
    """The people who may attend *edition*, by e-mail address (lower-cased, trimmed).

    An address matches a person's staff record or their learner account (the two
    may differ). The result's keys are the lower-cased addresses that matched;
    an address of nobody attendable is simply absent (the importer lists it).
    When an address is one person's staff e-mail and another's account e-mail,
    the staff record wins.
    """
    wanted = sorted({email.strip().lower() for email in emails if email and email.strip()})
    found: dict[str, StaffMember] = {}
    by_account: dict[str, StaffMember] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = db.session.execute(
            select(StaffMember, User.email)
            .outerjoin(User, User.id == StaffMember.user_id)
            .where(
                or_(StaffMember.email.in_(chunk), User.email.in_(chunk)),
                attendable_clause(edition),
            )
        ).all()
        for staff, account_email in rows:
            if staff.email in chunk:
                found[staff.email] = staff
            if account_email in chunk:
                by_account[account_email] = staff
    for email, staff in by_account.items():
        found.setdefault(email, staff)
    return found


def _checked_minutes(edition: LiveEdition, minutes_by_staff: Mapping[int, int]) -> dict[int, int]:
    """Whole, non-negative minutes per person, capped at the edition's length."""
    minutes: dict[int, int] = {}
    for staff_id, value in minutes_by_staff.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise LiveError(_l("I minuti di presenza devono essere un numero intero da 0 in su."))
        # Joining early or leaving late is not more than the whole session.
        minutes[int(staff_id)] = min(value, edition.minutes)
    return minutes


def _upsert(rows: list[dict[str, Any]]) -> Insert:
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(LiveAttendance)
    elif dialect == "sqlite":
        statement = sqlite.insert(LiveAttendance)
    else:  # pragma: no cover - the two supported databases
        raise NotImplementedError(dialect)
    statement = statement.values(rows)
    return cast(
        "Insert",
        statement.on_conflict_do_update(
            index_elements=["edition_id", "staff_id"],
            set_={
                "minutes": statement.excluded.minutes,
                "source": statement.excluded.source,
                "recorded_by_id": statement.excluded.recorded_by_id,
                "recorded_at": statement.excluded.recorded_at,
            },
        ),
    )


def _refuse_unattendable(edition: LiveEdition, staff_ids: list[int]) -> None:
    allowed: set[int] = set()
    for start in range(0, len(staff_ids), CHUNK):
        chunk = staff_ids[start : start + CHUNK]
        allowed.update(
            db.session.scalars(
                select(StaffMember.id).where(StaffMember.id.in_(chunk), attendable_clause(edition))
            )
        )
    refused = set(staff_ids) - allowed
    if refused:
        raise NotAttendable(
            _l(
                "%(count)d persone non sono iscritte al corso né prenotate a questa sessione:"
                " le loro presenze non sono state registrate (nessuna lo è stata).",
                count=len(refused),
            ),
            refused,
        )


def record_attendance(
    edition: LiveEdition,
    minutes_by_staff: Mapping[int, int],
    source: AttendanceSource,
    actor: User,
    *,
    now: datetime | None = None,
) -> AttendanceResult:
    """Store the minutes each person (staff id) was present at *edition*; flush, do not commit.

    - All or nothing: a cancelled edition, one that has not started yet, a
      negative or non-whole number of minutes (:class:`LiveError`), or anyone who
      may not attend it (:class:`NotAttendable`, with their ids) refuses the lot.
    - Minutes above the edition's length are stored as its length.
    - A figure recorded before for the same person and edition is replaced (the
      last one wins, whatever its source).
    - At or above the threshold (:func:`lms.live.rules.attended_enough`) the live
      module is completed for the person's account (and, through it, the course
      when it was the last module missing); below it nothing is taken away: a
      module once completed stays completed. People without an account are only
      recorded (see :class:`AttendanceResult`).
    - One audit entry (``attendance.record`` from the register,
      ``attendance.import`` from Teams or Zoom) with the counts, about the
      edition, its course, the people and their authorities.
    """
    now = now or utcnow()
    if edition.cancelled_at is not None:
        raise LiveError(_l("La sessione è stata annullata: non si registrano presenze."))
    if edition.starts_at > now:
        raise LiveError(_l("La sessione non è ancora iniziata: le presenze si registrano dopo."))
    minutes = _checked_minutes(edition, minutes_by_staff)
    if not minutes:
        return AttendanceResult(recorded=0, completed=0, below=0)
    staff_ids = sorted(minutes)
    _refuse_unattendable(edition, staff_ids)

    rows = [
        {
            "edition_id": edition.id,
            "staff_id": staff_id,
            "minutes": minutes[staff_id],
            "source": source,
            "recorded_by_id": actor.id,
            "recorded_at": now,
        }
        for staff_id in staff_ids
    ]
    for start in range(0, len(rows), CHUNK):
        db.session.execute(_upsert(rows[start : start + CHUNK]))
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, LiveAttendance):  # changed behind the session's back
            db.session.expire(loaded)

    module = edition.module
    reached = [
        staff_id
        for staff_id in staff_ids
        if attended_enough(minutes[staff_id], edition.minutes, module.attendance_percent)
    ]
    newly, without_account = _complete(module, reached, now)
    result = AttendanceResult(
        recorded=len(staff_ids),
        completed=len(reached),
        below=len(staff_ids) - len(reached),
        newly_completed=newly,
        without_account=without_account,
    )
    _audit(edition, staff_ids, source, actor, result)
    return result


def _complete(module: Module, staff_ids: list[int], now: datetime) -> tuple[int, int]:
    """Complete *module* for the accounts of *staff_ids*; (completed now, without account)."""
    accounts: dict[int, User] = {}
    without_account = 0
    for start in range(0, len(staff_ids), CHUNK):
        chunk = staff_ids[start : start + CHUNK]
        for _staff_id, user in db.session.execute(
            select(StaffMember.id, User)
            .outerjoin(User, User.id == StaffMember.user_id)
            .where(StaffMember.id.in_(chunk))
        ).all():
            if user is None:
                without_account += 1
            else:
                accounts[user.id] = user
    done: set[int] = set()
    user_ids = sorted(accounts)
    for start in range(0, len(user_ids), CHUNK):
        done.update(
            db.session.scalars(
                select(ModuleProgress.user_id).where(
                    ModuleProgress.module_id == module.id,
                    ModuleProgress.completed_at.is_not(None),
                    ModuleProgress.user_id.in_(user_ids[start : start + CHUNK]),
                )
            )
        )
    newly = 0
    for user_id in user_ids:
        if user_id not in done:
            complete_module(accounts[user_id], module, now)
            newly += 1
    return newly, without_account


def _audit(
    edition: LiveEdition,
    staff_ids: list[int],
    source: AttendanceSource,
    actor: User,
    result: AttendanceResult,
) -> None:
    people = StaffMember.id.in_(staff_ids)
    record(
        Action.ATTENDANCE_IMPORT if source in IMPORTED else Action.ATTENDANCE_RECORD,
        actor_id=actor.id,
        objects=[(ObjectKind.EDITION, edition.id), (ObjectKind.COURSE, edition.module.course_id)],
        objects_select=[
            select(literal(ObjectKind.STAFF.value), StaffMember.id).where(people),
            select(literal(ObjectKind.AUTHORITY.value), StaffMember.authority_id).where(people),
        ],
        summary={
            "edition": edition.id,
            "course": edition.module.course.slug,
            "module": edition.module.slug,
            "source": source,
            "recorded": result.recorded,
            "completed": result.completed,
            "below": result.below,
            "newly_completed": result.newly_completed,
            "without_account": result.without_account,
        },
    )
