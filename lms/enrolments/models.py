"""What people did with the courses: module progress and course completions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.core.types import UTCDateTime, utcnow
from lms.courses.models import Course, Module
from lms.extensions import db


class ModuleProgress(db.Model):
    """One person's progress on one module."""

    __tablename__ = "module_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "module_id"),
        Index("ix_module_progress_module_completed", "module_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the page was marked as done, or the quiz first passed.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Reading time, estimated from page views (capped per view).
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship()
    module: Mapped[Module] = relationship()


class CourseCompletion(db.Model):
    """A course completed by a person. Once recorded, it stands."""

    __tablename__ = "course_completions"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_course_completions_course_completed", "course_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
