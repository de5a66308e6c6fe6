"""Course evaluation (questionario di gradimento): anonymous answers to a survey module.

Who answered and what they answered are kept apart on purpose:
``survey_submissions`` says that a person answered a survey (so that they answer
once, and the module completes), ``survey_responses`` holds answers with no
person, no time and a random key, so that neither the order of rows nor a
timestamp ties an answer back to a person. Results are shown only for groups of
at least five responses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.types import UTCDateTime, utcnow
from lms.extensions import Model


class SurveySubmission(Model):
    """That a person answered a survey module (never what they answered)."""

    __tablename__ = "survey_submissions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"), primary_key=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SurveyResponse(Model):
    """One anonymous set of answers to a survey module."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_module_edition", "module_id", "edition_id"),)

    #: Random (secrets.token_hex(16)): no order to match against the submissions.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    #: The module's version when answered (its questions may have changed since).
    module_version: Mapped[int] = mapped_column(Integer)
    #: The live edition of the course the person attended, if any: results per edition.
    edition_id: Mapped[int | None] = mapped_column(
        ForeignKey("live_editions.id", ondelete="SET NULL")
    )

    answers: Mapped[list[SurveyAnswer]] = relationship(back_populates="response")


class SurveyAnswer(Model):
    """The answer to one question of a response: a point on the scale, or free text."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        CheckConstraint("(scale_value IS NULL) <> (text_value IS NULL)", name="one_value"),
    )

    response_id: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    #: The question's id in the module's survey_questions ("q1", "q2", …).
    question_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: 1 … the scale's length, for a scale question.
    scale_value: Mapped[int | None] = mapped_column(Integer)
    #: What the person wrote, for a free-text question (plain text, escaped when shown).
    text_value: Mapped[str | None] = mapped_column(Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
