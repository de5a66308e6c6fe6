"""Courses and modules as synchronised from ``content/``, quiz versions, and people's progress."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.core.types import UTCDateTime, utcnow
from lms.extensions import Model


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, values stored."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class CourseStatus(enum.StrEnum):
    """Whether learners may see a course."""

    PUBLISHED = "published"
    DRAFT = "draft"


class ModuleKind(enum.StrEnum):
    """What a module is."""

    PAGE = "page"
    QUIZ = "quiz"
    #: A webinar or classroom session, held in editions (lms.live).
    LIVE = "live"
    #: A course evaluation questionnaire, answered anonymously (lms.surveys).
    SURVEY = "survey"


class Course(Model):
    """A course: one folder of ``content/``."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The folder name; the course's identity across synchronisations.
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: Credit hours earned on completion (count toward the yearly target).
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    #: Staff categories the course is meant for ("new_hire", "existing").
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Module N+1 opens only when module N is completed.
    sequential: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Default pass mark (percent) of the course's quizzes.
    pass_mark: Mapped[int] = mapped_column(Integer, default=60)
    language: Mapped[str] = mapped_column(String(5), default="it")
    status: Mapped[CourseStatus] = mapped_column(
        _enum(CourseStatus, "course_status"), default=CourseStatus.PUBLISHED
    )
    #: course.md's body, rendered and sanitised at synchronisation time.
    #: Deferred: only the course page shows it; lists of courses need not read it.
    overview_html: Mapped[str] = mapped_column(Text, default="", deferred=True)
    #: SHA-256 of course.md: unchanged means nothing to do.
    source_hash: Mapped[str] = mapped_column(String(64))
    #: The renderer that produced overview_html (see lms.courses.sync.RENDER_VERSION).
    render_version: Mapped[str] = mapped_column(String(16), default="")
    #: Set when the folder disappears: hidden from everyone, history kept.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position"
    )

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"


class Module(Model):
    """A module: one Markdown file of a course, a page or a quiz."""

    __tablename__ = "modules"
    __table_args__ = (
        UniqueConstraint("course_id", "slug"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_modules_course_active", "course_id", "retired_at", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    #: File name without the numeric prefix and ".md"; identity within the course.
    slug: Mapped[str] = mapped_column(String(100))
    #: The numeric prefix of the file name: the module's place in the course.
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    #: Estimated reading time.
    minutes: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[ModuleKind] = mapped_column(_enum(ModuleKind, "module_kind"))
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: The file it was read from, relative to the course folder.
    filename: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the file (and, for a quiz, of the course's default pass mark).
    source_hash: Mapped[str] = mapped_column(String(64))
    #: The renderer that produced body_html: a newer one re-renders, same version.
    render_version: Mapped[str] = mapped_column(String(16), default="")
    #: Bumped each time the file's content changes.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Quiz settings (None on pages; pass_mark None means the course's).
    pass_mark: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    #: Minutes allowed per attempt; None: no limit.
    time_limit: Mapped[int | None] = mapped_column(Integer)
    shuffle: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When a review shows the right answers (lms.content.quiz.ReviewPolicy); None on
    #: other kinds, and on quizzes synchronised before the setting existed (the default).
    review: Mapped[str | None] = mapped_column(String(16))
    # Live session settings (None on other kinds).
    #: Credit hours of the session: counted as "live" hours when attended.
    live_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    #: Percent of the session's minutes a person must attend for it to count.
    attendance_percent: Mapped[int | None] = mapped_column(Integer)
    #: False: the module is offered but not needed to complete the course
    #: (only a survey may be optional; every other module is required).
    required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    #: A survey's questions as synchronised (rendered text, scale labels); None elsewhere.
    survey_questions: Mapped[list[dict] | None] = mapped_column(JSON)
    #: Set when the file disappears: hidden from learners, progress kept.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course: Mapped[Course] = relationship(back_populates="modules")
    quiz_versions: Mapped[list[QuizVersion]] = relationship(
        back_populates="module", order_by="QuizVersion.version"
    )

    @property
    def effective_pass_mark(self) -> int:
        """The module's pass mark, or the course's default."""
        return self.pass_mark if self.pass_mark is not None else self.course.pass_mark

    def __repr__(self) -> str:
        return f"<Module {self.course_id}/{self.slug} v{self.version}>"


class QuizVersion(Model):
    """The questions of a quiz module as they stood at one synchronisation.

    Attempts point here, so editing a quiz never changes past scores.
    """

    __tablename__ = "quiz_versions"
    __table_args__ = (UniqueConstraint("module_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    #: Equals the module's version when this quiz version was created.
    version: Mapped[int] = mapped_column(Integer)
    #: Questions with options, correct answers, points and explanations
    #: (rendered HTML). Server-side only: never sent before an attempt is graded.
    questions: Mapped[list[dict]] = mapped_column(JSON)
    pass_mark: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    module: Mapped[Module] = relationship(back_populates="quiz_versions")


# What people did with the courses ------------------------------------------


class ModuleProgress(Model):
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


class CourseCompletion(Model):
    """A course completed by a person. Once recorded, it stands."""

    __tablename__ = "course_completions"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_course_completions_course_completed", "course_id", "completed_at"),
        # The notifications' planner reads the completions of the last days.
        Index("ix_course_completions_completed_at", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
