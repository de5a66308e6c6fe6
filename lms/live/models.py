"""Live sessions: the editions of a ``live`` module, who signed up, who attended.

A live module (a webinar or a classroom session) is written in ``content/`` like
any module; trainers schedule its **editions** on the web. Learners enrolled in
the course book a seat in one edition (or HR books it for them); a full edition
takes a waiting list. Attendance, marked on the register page or read from the
meeting platform's report, completes the module for those at or above the
module's threshold.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.core.types import UTCDateTime, utcnow
from lms.courses.models import Module
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


class LiveEdition(Model):
    """One scheduled edition of a live module: when, how long, where, how many seats."""

    __tablename__ = "live_editions"
    __table_args__ = (
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        Index("ix_live_editions_module_starts", "module_id", "starts_at"),
        Index("ix_live_editions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    #: Start, stored in UTC; entered and shown in Europe/Rome.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Duration in minutes: the base of the attendance percentage.
    minutes: Mapped[int] = mapped_column(Integer)
    #: A classroom's address, or empty for a webinar.
    place: Mapped[str] = mapped_column(String(300), default="")
    #: The webinar's link (Teams, Zoom, …), or empty for a classroom.
    meeting_url: Mapped[str] = mapped_column(String(500), default="")
    #: Seats; None: no limit.
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: The trainer who holds the session (an account with the trainer role).
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set when the edition is called off: kept, with its sign-ups, for the record.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    module: Mapped[Module] = relationship()
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])

    @property
    def ends_at(self) -> datetime:
        """When the edition ends: its start plus its minutes."""
        return self.starts_at + timedelta(minutes=self.minutes)


class SignupStatus(enum.StrEnum):
    """Where a person stands for an edition."""

    BOOKED = "booked"  # has a seat
    WAITING = "waiting"  # on the waiting list, in order of signed_up_at
    CANCELLED = "cancelled"  # gave the seat up (or was taken off by HR)


class LiveSignup(Model):
    """A person's seat (or place on the waiting list) in an edition."""

    __tablename__ = "live_signups"
    __table_args__ = (
        # One row per person and edition (cancelling and booking again reuses it).
        Index("uq_live_signups_edition_staff", "edition_id", "staff_id", unique=True),
        # "One open booking per person and live module" counts only the editions
        # still ahead and not called off (a seat in an edition held stays on the
        # record, booked, and must not block the next edition): a rule of time, so
        # not an index; lms.live.operations.sign_up holds the person's row instead.
        Index("ix_live_signups_module_staff", "module_id", "staff_id"),
        Index("ix_live_signups_edition_status", "edition_id", "status", "signed_up_at"),
        Index("ix_live_signups_staff_id", "staff_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("live_editions.id", ondelete="CASCADE"))
    #: The edition's module, kept here for the one-open-booking-per-module rule.
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    status: Mapped[SignupStatus] = mapped_column(_enum(SignupStatus, "live_signup_status"))
    #: Orders the waiting list (first come, first served).
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The person themselves, or the HR manager who booked them.
    signed_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    edition: Mapped[LiveEdition] = relationship()
    staff: Mapped[StaffMember] = relationship()


class AttendanceSource(enum.StrEnum):
    """Where an attendance figure came from."""

    REGISTER = "register"  # marked by the trainer on the register page
    TEAMS = "teams"  # Microsoft Teams' attendance report
    ZOOM = "zoom"  # Zoom's participants report


class LiveAttendance(Model):
    """Minutes a person was present at an edition, as last recorded."""

    __tablename__ = "live_attendance"
    __table_args__ = (
        Index("uq_live_attendance_edition_staff", "edition_id", "staff_id", unique=True),
        Index("ix_live_attendance_staff_id", "staff_id"),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("live_editions.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    #: Minutes present (0: absent).
    minutes: Mapped[int] = mapped_column(Integer)
    source: Mapped[AttendanceSource] = mapped_column(_enum(AttendanceSource, "attendance_source"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    edition: Mapped[LiveEdition] = relationship()
    staff: Mapped[StaffMember] = relationship()
