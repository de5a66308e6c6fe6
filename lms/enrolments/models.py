"""Enrolments, standing enrolment rules, and roster uploads waiting for confirmation."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.types import UTCDateTime, utcnow
from lms.courses.models import Course
from lms.extensions import Model
from lms.register.models import Authority, Region, StaffMember


class EnrolmentRule(Model):
    """A standing enrolment: everyone of an authority (or region), now and later.

    Like Moodle's cohort sync: people imported into the authority after the rule
    was made are enrolled when they arrive. They get the time the first people
    had, not the rule's date: see :func:`lms.enrolments.enrol.newcomer_due_on`.
    """

    __tablename__ = "enrolment_rules"
    __table_args__ = (
        CheckConstraint("(authority_id IS NULL) <> (region_id IS NULL)", name="exactly_one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    #: Only staff of this category ("new_hire" or "existing"); None: everyone.
    category: Mapped[str | None] = mapped_column(String(16))
    #: The due date of the people enrolled when the rule was made.
    due_on: Mapped[date | None] = mapped_column(Date)
    #: Days those people had: ``due_on`` minus the Italian day the rule was made (0 when
    #: that date had passed); people the rule enrols later get as many from the day they
    #: arrive. None without a due date (a rule made by hand without it counts as 0).
    window_days: Mapped[int | None] = mapped_column(Integer)
    #: Days before the due date on which its people are reminded ("14,3"; "" none);
    #: None: the deployment's REMINDER_DAYS.
    reminder_days: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course: Mapped[Course] = relationship()
    authority: Mapped[Authority | None] = relationship()
    region: Mapped[Region | None] = relationship()


class Enrolment(Model):
    """A staff member enrolled in a course. One per person and course."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("staff_id", "course_id"),
        Index("ix_enrolments_course_staff", "course_id", "staff_id"),
        # Covers the reports' per-person pass over enrolments (dates included),
        # so SQLite reads the index alone, in person order.
        Index("ix_enrolments_staff_report", "staff_id", "course_id", "enrolled_at", "due_on"),
        # The notifications' planner reads the enrolments of the last days.
        Index("ix_enrolments_enrolled_at", "enrolled_at"),
        # ... and the enrolments due on given days (reminders, overdue notices).
        Index("ix_enrolments_due_on", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_on: Mapped[date | None] = mapped_column(Date)
    #: The standing rule that made it, if any (removing the rule keeps the enrolment).
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolment_rules.id", ondelete="SET NULL")
    )
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    staff: Mapped[StaffMember] = relationship()
    course: Mapped[Course] = relationship()


class CourseFacts(Model):
    """What the reports need of one person and course, "so far", kept up to date.

    One row per (staff member, course) the person is enrolled in or has a scored
    attempt on one of its current quizzes of (coverage's average score counts
    quizzes of courses a person is not enrolled in). Every value is the exact
    path's definition with no as-of cut (``docs/reports.md``, "The facts table"):
    the operations that change a source call :mod:`lms.enrolments.facts` in the
    same transaction, so a report as of today reads this table in one pass.
    """

    __tablename__ = "course_facts"
    __table_args__ = (
        # Refreshing one course's facts (content sync, bulk enrolment) and the
        # reports filtered on one course.
        Index("ix_course_facts_course", "course_id"),
        # SQLite keeps the rows in primary-key order, person by person: the
        # reports' per-person pass reads the table itself, with no sort.
        {"sqlite_with_rowid": False},
    )

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    #: The enrolment's; None: not enrolled (the row is there for scores only).
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ``enrolled_at`` as a day in Italy (:func:`lms.core.types.rome_date`).
    enrolled_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    #: The staff member's account's course completion.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_on: Mapped[date | None] = mapped_column(Date)
    #: The account started a current module of the course or has a scored
    #: attempt on one of its current quizzes (what makes ``in_progress``).
    started: Mapped[bool] = mapped_column(Boolean)
    #: Current required modules of the course the account completed.
    modules_done: Mapped[int] = mapped_column(Integer)
    #: Sum over the course's current quizzes with a scored attempt of the best
    #: score, in hundredths of a percent (``ReportFilters.best_score()``) ...
    score_hundredths: Mapped[int] = mapped_column(Integer)
    #: ... and how many such quizzes.
    quizzes: Mapped[int] = mapped_column(Integer)


class PendingUpload(Model):
    """A roster file previewed by an HR manager and waiting for the confirmation.

    Kept in the database, not on an instance's disk, so that the confirmation may
    reach any app instance behind the load balancer. The row is looked up by a
    hash of the token the preview page carries; it expires after an hour and is
    deleted when the import is applied.
    """

    __tablename__ = "pending_uploads"

    #: SHA-256 (hex) of the token in the confirmation form.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
