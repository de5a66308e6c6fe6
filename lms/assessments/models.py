"""Quiz attempts: who answered which version of a quiz, how, and with what score."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.core.types import UTCDateTime, utcnow
from lms.courses.models import Module, QuizVersion
from lms.extensions import Model


class QuizAttempt(Model):
    """One attempt at a quiz module.

    The database, not only the code, keeps attempts honest: attempt numbers are
    unique per person and quiz (so two concurrent starts cannot both take the
    last attempt) and a person has at most one open attempt per quiz.
    """

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "module_id", "number"),
        Index(
            "uq_quiz_attempts_one_open",
            "user_id",
            "module_id",
            unique=True,
            sqlite_where=text("submitted_at IS NULL"),
            postgresql_where=text("submitted_at IS NULL"),
        ),
        Index("ix_quiz_attempts_module_submitted", "module_id", "submitted_at"),
        # Covers the reports' best-score pass (per person and quiz, as of a date).
        Index("ix_quiz_attempts_user_report", "user_id", "module_id", "submitted_at", "score_pct"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    #: The questions as they stood when the attempt started: later edits never
    #: change its score.
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"), index=True)
    #: 1 for the person's first attempt at this quiz, 2 for the second, …
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: started_at + the time limit; None when the quiz has no limit.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When it was graded; for an expired attempt, its deadline. None: still open.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Closed because the time ran out before a submission arrived.
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Question order and, per question, option order shown in this attempt.
    layout: Mapped[dict] = mapped_column(JSON)
    #: Option ids chosen or text written, per question id.
    responses: Mapped[dict | None] = mapped_column(JSON)
    #: Per question id: {"correct": bool, "earned": number, "points": int}; "correct"
    #: means full credit, "earned" may be a fraction of the points (two decimals).
    results: Mapped[dict | None] = mapped_column(JSON)
    #: Points earned: partial credit makes fractions (two decimals).
    earned: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    possible: Mapped[int | None] = mapped_column(Integer)
    score_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    passed: Mapped[bool | None] = mapped_column(Boolean)

    user: Mapped[User] = relationship()
    module: Mapped[Module] = relationship()
    quiz_version: Mapped[QuizVersion] = relationship()
