"""What a person still has to complete by a date, and how soon (one rule: the home page's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from lms.auth.models import User
from lms.courses.queries import CatalogueEntry
from lms.enrolments.models import Enrolment
from lms.enrolments.queries import EnrolledCourse, enrolled_courses
from lms.extensions import db
from lms.register.models import StaffMember

#: The home page's notices show what is due within this many days (and everything overdue).
NOTICE_DAYS = 14


@dataclass(frozen=True)
class DueItem:
    """An open enrolment with a due date: the course, the date, the days to it."""

    enrolment_id: int
    course_id: int
    course_slug: str
    course_title: str
    due_on: date
    #: Days from today to the due date: 0 today, 1 tomorrow, negative once it has passed.
    days_left: int

    @property
    def overdue(self) -> bool:
        """The due date has passed (the course is not completed: see :func:`due_items`)."""
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        """Days since the due date; 0 when it has not passed."""
        return max(0, -self.days_left)


def due_items(
    user: User,
    today: date,
    entries: list[CatalogueEntry] | None = None,
    enrolled: list[EnrolledCourse] | None = None,
) -> list[DueItem]:
    """*user*'s enrolments that have a due date and are not completed, most urgent first.

    "Completed" and "due" are those of the home page's list
    (:func:`lms.enrolments.queries.enrolled_courses`): the same courses, visible to
    the person, with their completion. One more query reads the enrolments' ids,
    unless *enrolled* (that list, read with them: :func:`home_courses`) has them.
    *entries* is the reader's catalogue, when the caller has it already.
    """
    open_courses = [
        c
        for c in (enrolled_courses(user, today, entries) if enrolled is None else enrolled)
        if c.due_on is not None and not c.entry.completed_at
    ]
    if not open_courses:
        return []
    ids = {c.entry.course.id: c.enrolment_id for c in open_courses if c.enrolment_id is not None}
    if len(ids) < len(open_courses):
        ids = dict(
            db.session.execute(
                select(Enrolment.course_id, Enrolment.id)
                .join(StaffMember, StaffMember.id == Enrolment.staff_id)
                .where(
                    StaffMember.user_id == user.id,
                    Enrolment.course_id.in_([c.entry.course.id for c in open_courses]),
                )
            ).all()
        )
    items = [
        DueItem(
            enrolment_id=ids[c.entry.course.id],
            course_id=c.entry.course.id,
            course_slug=c.entry.course.slug,
            course_title=c.entry.course.title,
            due_on=c.due_on,
            days_left=(c.due_on - today).days,
        )
        for c in open_courses
        if c.due_on is not None and c.entry.course.id in ids
    ]
    return sorted(items, key=lambda i: (i.due_on, i.course_title))


def notices(items: list[DueItem], days: int = NOTICE_DAYS) -> list[DueItem]:
    """The items the home page warns about: overdue, or due within *days* days."""
    return [i for i in items if i.days_left <= days]
