"""What an HR manager's weekly digest says: their area's changes in the weeks it covers.

A digest covers the days from the previous digest's week (or, for the first one,
the week before) up to the start of its own week, in Italian days: courses that
fell overdue then, courses completed then, the coverage of the area now, and the
people who got a link to set their password a week or more ago and never signed
in. Everything is counted in the manager's scope only (their authorities and
regions), with set-based queries; each list shows its first :data:`LIST_LIMIT`
people, and its count is exact. When nothing fell overdue, nobody completed and
nobody new is waiting, the digest is empty and is not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, select

from lms.auth.models import PasswordToken, Role, User
from lms.auth.permissions import authority_scope_clause
from lms.core.types import ROME, rome_midnight
from lms.courses.models import Course, CourseCompletion
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.notifications.models import Kind, Notification, Status
from lms.notifications.plan import completed_course
from lms.register.models import Authority, StaffMember

#: People listed in each part of a digest (the counts are complete).
LIST_LIMIT = 20
#: A link counts as unanswered once this old.
LINK_WAIT_DAYS = 7


@dataclass(frozen=True)
class DigestLine:
    """One person in a digest list."""

    staff_id: int
    name: str
    authority: str
    course: str = ""
    on: date | None = None


@dataclass
class HrDigest:
    """The content of one HR manager's digest."""

    area: str
    start: date
    end: date  # exclusive: the digest's own week start
    overdue: list[DigestLine] = field(default_factory=list)
    overdue_count: int = 0
    completed: list[DigestLine] = field(default_factory=list)
    completed_count: int = 0
    enrolments: int = 0
    enrolments_completed: int = 0
    waiting: list[DigestLine] = field(default_factory=list)
    waiting_count: int = 0
    waiting_new: int = 0

    @property
    def empty(self) -> bool:
        """Nothing changed: nothing fell overdue, nobody completed, nobody new is waiting."""
        return not (self.overdue_count or self.completed_count or self.waiting_new)

    @property
    def coverage(self) -> float | None:
        """Completed enrolments of the area, in percent (None without enrolments)."""
        if not self.enrolments:
            return None
        return 100 * self.enrolments_completed / self.enrolments

    @property
    def last_day(self) -> date:
        """The last day the digest covers."""
        return self.end - timedelta(days=1)


def _area_name(user: User) -> str:
    names = sorted(s.region.name for s in user.scopes if s.region is not None) + sorted(
        s.authority.name for s in user.scopes if s.authority is not None
    )
    if len(names) > 3:  # noqa: PLR2004 - three names, then a count
        return f"{', '.join(names[:3])} (+{len(names) - 3})"
    return ", ".join(names) or "—"


def _period_start(user: User, notification: Notification) -> date:
    previous = db.session.scalar(
        select(func.max(Notification.on_date)).where(
            Notification.user_id == user.id,
            Notification.kind == Kind.HR_DIGEST.value,
            Notification.on_date < notification.on_date,
            Notification.status.in_([Status.SENT, Status.EMPTY]),
        )
    )
    return previous or notification.on_date - timedelta(days=7)


def _in_scope(user: User, today: date) -> ColumnElement[bool]:
    return and_(
        StaffMember.still_employed(today),
        StaffMember.authority_id.in_(
            select(Authority.id).where(authority_scope_clause(user)).correlate(None)
        ),
    )


def _lines(query: Select, *, with_course: bool) -> list[DigestLine]:
    return [
        DigestLine(
            staff_id=row.staff_id,
            name=f"{row.last_name} {row.first_name}",
            authority=row.authority,
            course=row.course if with_course else "",
            on=row.on if with_course else None,
        )
        for row in db.session.execute(query.limit(LIST_LIMIT))
    ]


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def hr_digest(user: User, notification: Notification, today: date) -> HrDigest:
    """What *user*'s digest (the row *notification*) says, as things stand *today*."""
    if user.role is not Role.HR:  # pragma: no cover - checked by the caller
        raise ValueError("an HR manager's digest")
    start, end = _period_start(user, notification), notification.on_date
    digest = HrDigest(area=_area_name(user), start=start, end=end)
    scope = _in_scope(user, today)
    person = (
        StaffMember.id.label("staff_id"),
        StaffMember.last_name,
        StaffMember.first_name,
        Authority.name.label("authority"),
    )
    offered = Course.retired_at.is_(None)

    overdue = (
        select(*person, Course.title.label("course"), Enrolment.due_on.label("on"))
        .select_from(Enrolment)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(Course, Course.id == Enrolment.course_id)
        .where(
            scope, offered, Enrolment.due_on >= start, Enrolment.due_on < end, ~completed_course()
        )
        .order_by(Enrolment.due_on, StaffMember.last_name, StaffMember.first_name, Course.title)
    )
    digest.overdue_count = _count(overdue)
    digest.overdue = _lines(overdue, with_course=True)

    completed = (
        select(
            *person,
            Course.title.label("course"),
            CourseCompletion.completed_at.label("on"),
        )
        .select_from(CourseCompletion)
        .join(StaffMember, StaffMember.user_id == CourseCompletion.user_id)
        .join(
            Enrolment,
            and_(
                Enrolment.staff_id == StaffMember.id,
                Enrolment.course_id == CourseCompletion.course_id,
            ),
        )
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(Course, Course.id == CourseCompletion.course_id)
        .where(
            scope,
            CourseCompletion.completed_at >= rome_midnight(start),
            CourseCompletion.completed_at < rome_midnight(end),
        )
        .order_by(CourseCompletion.completed_at, StaffMember.last_name, StaffMember.first_name)
    )
    digest.completed_count = _count(completed)
    digest.completed = [
        DigestLine(
            line.staff_id,
            line.name,
            line.authority,
            line.course,
            line.on.astimezone(ROME).date() if isinstance(line.on, datetime) else line.on,
        )
        for line in _lines(completed, with_course=True)
    ]

    totals = db.session.execute(
        select(func.count(Enrolment.id), func.count(CourseCompletion.id))
        .select_from(Enrolment)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .join(Course, Course.id == Enrolment.course_id)
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.user_id == StaffMember.user_id,
                CourseCompletion.course_id == Enrolment.course_id,
            ),
        )
        .where(scope, offered)
    ).one()
    digest.enrolments, digest.enrolments_completed = int(totals[0]), int(totals[1])

    cutoff = rome_midnight(end) - timedelta(days=LINK_WAIT_DAYS)
    first_link = (
        select(func.min(PasswordToken.created_at))
        .where(PasswordToken.user_id == User.id)
        .scalar_subquery()
    )
    waiting = (
        select(*person, first_link.label("linked"))
        .select_from(StaffMember)
        .join(User, User.id == StaffMember.user_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .where(
            scope,
            User.role == Role.LEARNER,
            User.active.is_(True),
            User.last_login_at.is_(None),
            first_link < cutoff,
        )
        .order_by(StaffMember.last_name, StaffMember.first_name)
    )
    digest.waiting_count = _count(waiting)
    digest.waiting = _lines(waiting, with_course=False)
    digest.waiting_new = _count(
        waiting.where(first_link >= rome_midnight(start) - timedelta(days=LINK_WAIT_DAYS))
    )
    return digest
