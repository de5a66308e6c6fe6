"""Reads about enrolments: a person's required courses, what an HR manager may enrol, the rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Integer, Row, Select, and_, bindparam, exists, or_, select

from lms.auth.models import User
from lms.auth.permissions import Capability, authority_scope_clause, can, region_scope_ids
from lms.courses.models import Course
from lms.courses.queries import (
    CATALOGUE_USER,
    CatalogueEntry,
    catalogue,
    catalogue_statement,
    heading_rows,
)
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.extensions import db
from lms.register.models import Authority, Region, StaffMember


@dataclass(frozen=True)
class EnrolledCourse:
    """A course the person is enrolled in, with its due date and their progress."""

    entry: CatalogueEntry
    due_on: date | None
    overdue: bool
    #: The enrolment's id, when it was read with the course (:func:`home_courses`).
    enrolment_id: int | None = None


def enrolled_courses(
    user: User,
    today: date,
    entries: list[CatalogueEntry] | None = None,
    enrolments: dict[int, tuple[int, date | None]] | None = None,
) -> list[EnrolledCourse]:
    """The person's enrolments (through their staff record), soonest due first.

    *entries* is the reader's :func:`catalogue`, when the caller has it already;
    *enrolments* their enrolments, course id → (enrolment id, due date), likewise.
    """
    if enrolments is None:
        due = dict(
            db.session.execute(
                select(Enrolment.course_id, Enrolment.due_on)
                .join(StaffMember, StaffMember.id == Enrolment.staff_id)
                .where(StaffMember.user_id == user.id)
            ).all()
        )
        ids: dict[int, int | None] = dict.fromkeys(due)
    else:
        due = {course_id: due_on for course_id, (_id, due_on) in enrolments.items()}
        ids = {course_id: enrolment_id for course_id, (enrolment_id, _due) in enrolments.items()}
    if not due:
        return []
    entries = [e for e in (catalogue(user) if entries is None else entries) if e.course.id in due]
    courses = []
    for e in entries:
        due_on = due[e.course.id]
        overdue = due_on is not None and due_on < today and not e.completed_at
        courses.append(EnrolledCourse(e, due_on, overdue, ids[e.course.id]))
    return sorted(
        courses, key=lambda c: (c.entry.completed_at is not None, c.due_on is None, c.due_on or 0)
    )


def home_courses(user: User, today: date) -> tuple[list[CatalogueEntry], list[EnrolledCourse]]:
    """The reader's :func:`catalogue` and their :func:`enrolled_courses`, in one statement.

    The home page shows both: each visible course is read with the person's
    enrolment in it, if any (their staff record's: unique per account, and an
    enrolment is unique per person and course).
    """
    rows = heading_rows(_home_catalogue(drafts=can(user, Capability.VIEW_DRAFTS)), user)
    entries = [entry for entry, _extra in rows]
    enrolments = {
        entry.course.id: (extra[0], extra[1]) for entry, extra in rows if extra[0] is not None
    }
    return entries, enrolled_courses(user, today, entries, enrolments)


@cache
def _home_catalogue(*, drafts: bool) -> Select[Any]:
    """:func:`home_courses`'s statement, built once: the catalogue's with the enrolment."""
    mine = (
        select(Enrolment.id, Enrolment.due_on)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .where(
            StaffMember.user_id == bindparam(CATALOGUE_USER, type_=Integer),
            Enrolment.course_id == Course.id,
        )
        .correlate(Course)
    )
    enrolment_id = mine.with_only_columns(Enrolment.id).scalar_subquery()
    due_on = mine.with_only_columns(Enrolment.due_on).scalar_subquery()
    # The page reads a course's heading (its title, slug and hours), not its
    # summary, audience or bookkeeping: a few dozen courses a page, plain rows.
    return catalogue_statement(enrolment_id, due_on, drafts=drafts, heading=True)


def due_date(user: User, course: Course) -> date | None:
    """The due date of *user*'s enrolment in *course* (through their staff record), if any."""
    return db.session.scalar(
        select(Enrolment.due_on)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .where(StaffMember.user_id == user.id, Enrolment.course_id == course.id)
    )


def enrolment_authorities(user: User) -> Sequence[Row[int, str, str]]:
    """(id, code, name) of the authorities in *user*'s scope that have staff, by name."""
    return db.session.execute(
        select(Authority.id, Authority.code, Authority.name)
        .where(
            authority_scope_clause(user),
            exists().where(StaffMember.authority_id == Authority.id),
        )
        .order_by(Authority.name)
    ).all()


def enrolment_regions(user: User) -> Sequence[Row[int, str, str]]:
    """(id, code, name) of the regions *user* may enrol as a whole, by code.

    An HR manager's whole regions; for an admin, every region that has staff.
    """
    query = select(Region.id, Region.code, Region.name).order_by(Region.code)
    region_ids = region_scope_ids(user)
    if region_ids is not None:
        query = query.where(Region.id.in_(region_ids))
    else:
        query = query.where(
            exists().where(
                Authority.region_id == Region.id, StaffMember.authority_id == Authority.id
            )
        )
    return db.session.execute(query).all()


def rules_in_scope(user: User) -> Select[EnrolmentRule, Course, Authority, Region]:
    """The standing rules *user* may see and remove, newest first, with their targets.

    A rule on an authority is in scope when the authority is; a rule on a region
    when *user* manages that region as a whole (an HR manager of one of its
    municipalities does not see, nor remove, a region's rule).
    """
    query = (
        select(EnrolmentRule, Course, Authority, Region)
        .join(Course, Course.id == EnrolmentRule.course_id)
        .outerjoin(Authority, Authority.id == EnrolmentRule.authority_id)
        .outerjoin(Region, Region.id == EnrolmentRule.region_id)
        .order_by(EnrolmentRule.created_at.desc(), EnrolmentRule.id.desc())
    )
    region_ids = region_scope_ids(user)
    if region_ids is None:
        return query
    authority_ok = and_(EnrolmentRule.authority_id.is_not(None), authority_scope_clause(user))
    if not region_ids:
        return query.where(authority_ok)
    return query.where(or_(authority_ok, EnrolmentRule.region_id.in_(region_ids)))
