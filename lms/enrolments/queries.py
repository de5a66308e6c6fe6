"""Reads about enrolments for the people enrolled: their required courses and due dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from lms.auth.models import User
from lms.courses.queries import CatalogueEntry, catalogue
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.register.models import StaffMember


@dataclass(frozen=True)
class EnrolledCourse:
    """A course the person is enrolled in, with its due date and their progress."""

    entry: CatalogueEntry
    due_on: date | None
    overdue: bool


def enrolled_courses(
    user: User, today: date, entries: list[CatalogueEntry] | None = None
) -> list[EnrolledCourse]:
    """The person's enrolments (through their staff record), soonest due first.

    *entries* is the reader's :func:`catalogue`, when the caller has it already.
    """
    due = dict(
        db.session.execute(
            select(Enrolment.course_id, Enrolment.due_on)
            .join(StaffMember, StaffMember.id == Enrolment.staff_id)
            .where(StaffMember.user_id == user.id)
        ).all()
    )
    if not due:
        return []
    entries = [e for e in (catalogue(user) if entries is None else entries) if e.course.id in due]
    courses = [
        EnrolledCourse(
            entry=e,
            due_on=due[e.course.id],
            overdue=bool(due[e.course.id] and due[e.course.id] < today and not e.completed_at),
        )
        for e in entries
    ]
    return sorted(
        courses, key=lambda c: (c.entry.completed_at is not None, c.due_on is None, c.due_on or 0)
    )
