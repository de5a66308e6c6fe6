"""Training done elsewhere: courses a person took outside the platform.

A learner declares one (title, provider, date, hours, optionally the
certificate's PDF); the HR manager of their authority approves or refuses it
with a reason. HR managers may also load approved records in bulk from a CSV.
Approved hours count in the person's yearly hours, apart from the platform's.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.types import UTCDateTime, utcnow
from lms.extensions import Model
from lms.register.models import StaffMember


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class TrainingStatus(enum.StrEnum):
    """Where a declaration stands."""

    PENDING = "pending"  # declared, waiting for the HR manager
    APPROVED = "approved"  # counts in the hours
    REFUSED = "refused"  # does not count; the reason says why


class TrainingSource(enum.StrEnum):
    """How the record came in."""

    DECLARED = "declared"  # by the learner, on the web
    IMPORTED = "imported"  # by an HR manager, from a CSV (approved on import)


class ExternalTraining(Model):
    """One course taken outside the platform, declared or imported."""

    __tablename__ = "external_trainings"
    __table_args__ = (
        CheckConstraint("hours > 0", name="hours_positive"),
        CheckConstraint(
            "(status = 'refused') = (refusal_reason IS NOT NULL)", name="refusal_has_reason"
        ),
        Index("ix_external_trainings_staff_completed", "staff_id", "completed_on"),
        Index("ix_external_trainings_status_completed", "status", "completed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    #: Who gave the course: SNA, Syllabus, a university, the authority itself…
    provider: Mapped[str] = mapped_column(String(200))
    #: The day the course ended: the year its hours count in.
    completed_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    status: Mapped[TrainingStatus] = mapped_column(_enum(TrainingStatus, "training_status"))
    source: Mapped[TrainingSource] = mapped_column(_enum(TrainingSource, "training_source"))
    #: The certificate of attendance the learner attached (a PDF), if any.
    certificate_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    certificate_filename: Mapped[str | None] = mapped_column(String(200))
    #: Why the HR manager refused it (shown to the learner).
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    staff: Mapped[StaffMember] = relationship()
