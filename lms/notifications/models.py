"""What the platform has sent, or is about to send: the notifications' outbox.

One row per message. The planner (:mod:`lms.notifications.plan`) inserts the rows
that today calls for, in the transaction that decides them; the uniqueness
constraints make a second plan of the same day insert nothing. The sender
(:mod:`lms.notifications.send`) renders and sends the rows still ``pending``
once that transaction is committed, and marks each ``sent`` only after the mail
server accepted it: a crash in between sends that message once more, never zero
times.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.core.types import UTCDateTime, utcnow
from lms.enrolments.models import Enrolment
from lms.extensions import Model
from lms.register.models import StaffMember


class Kind(enum.StrEnum):
    """What a message is about. A reminder's kind also names its step (see :func:`kind_of`)."""

    ENROLLED = "enrolled"  # the person was enrolled in a course
    DUE = "due"  # "due:14": 14 days before the due date
    OVERDUE = "overdue"  # "overdue:0" the day after the due date, "overdue:1" a week later...
    COMPLETED = "completed"  # the person completed the course: the certificate's link
    DIGEST = "digest"  # a learner's weekly digest of due dates (their preference)
    HR_DIGEST = "hr-digest"  # an HR manager's weekly digest of their area
    # Live sessions (lms.live): the kind names the edition, "invite:<edition id>".
    SESSION_INVITE = "invite"  # a seat in an edition: the invitation, with its .ics
    SESSION_REMINDER = "remind"  # the day before the edition
    SESSION_MOVED = "moved"  # "moved:<edition>:<change>": its time, place or link changed
    SESSION_CANCELLED = "cancel"  # the edition was called off (.ics METHOD:CANCEL)
    # "freed:<edition>:<message>": the seat was given up or taken away (.ics METHOD:CANCEL);
    # the message is the last invitation (or change) sent, which this one withdraws.
    SESSION_RELEASED = "freed"
    # "rebook:<edition>:<message>": the seat booked again the same day after the notice
    # <message> of its release went (another day's booking gets "invite:" again).
    SESSION_REBOOKED = "rebook"


def kind_of(stored: str) -> tuple[Kind, int]:
    """A stored kind's kind and step: ``"due:14"`` is (DUE, 14), ``"enrolled"`` (ENROLLED, 0).

    For a live session's kind the step is the edition's id (``"invite:12"`` is
    (SESSION_INVITE, 12)); :func:`session_kind` reads a change's id as well.
    """
    name, _, step = stored.partition(":")
    return Kind(name), int(step.partition(":")[0] or 0)


#: The kinds about a live session's edition.
SESSION_KINDS = frozenset(
    {
        Kind.SESSION_INVITE,
        Kind.SESSION_REMINDER,
        Kind.SESSION_MOVED,
        Kind.SESSION_CANCELLED,
        Kind.SESSION_RELEASED,
        Kind.SESSION_REBOOKED,
    }
)


def session_kind(stored: str) -> tuple[Kind, int, int | None] | None:
    """``"moved:12:345"`` is (SESSION_MOVED, 12, 345), ``"invite:12"`` (SESSION_INVITE, 12, None).

    None for a kind that is not about a live session.
    """
    name, _, rest = stored.partition(":")
    if name not in {kind.value for kind in SESSION_KINDS}:
        return None
    edition, _, change = rest.partition(":")
    return Kind(name), int(edition), int(change) if change else None


class Status(enum.StrEnum):
    """Where a message stands."""

    PENDING = "pending"  # to send (again, from next_attempt_at)
    SENT = "sent"  # the mail server accepted it
    REFUSED = "refused"  # the server refused the address for good (5xx): not retried
    FAILED = "failed"  # deferred NOTIFY_MAX_ATTEMPTS times: given up
    CANCELLED = "cancelled"  # no longer true when its turn came (completed, left, date moved)
    EMPTY = "empty"  # a digest with nothing to say: not sent


class Notification(Model):
    """One message: to whom, about which enrolment, of which kind, for which date."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("(staff_id IS NULL) <> (user_id IS NULL)", name="exactly_one_recipient"),
        # Exactly once: one message per person, enrolment, kind and date...
        Index(
            "uq_notifications_enrolment",
            "staff_id",
            "enrolment_id",
            "kind",
            "on_date",
            unique=True,
            sqlite_where=text("enrolment_id IS NOT NULL"),
            postgresql_where=text("enrolment_id IS NOT NULL"),
        ),
        # ... one learner's digest per person and week...
        Index(
            "uq_notifications_learner_digest",
            "staff_id",
            "kind",
            "on_date",
            unique=True,
            sqlite_where=text("enrolment_id IS NULL AND staff_id IS NOT NULL"),
            postgresql_where=text("enrolment_id IS NULL AND staff_id IS NOT NULL"),
        ),
        # ... and one HR digest per manager and week.
        Index(
            "uq_notifications_account",
            "user_id",
            "kind",
            "on_date",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        # The sender's queue: what is pending, oldest first.
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A :class:`Kind` value, with the step for reminders ("due:3", "overdue:2").
    kind: Mapped[str] = mapped_column(String(24))
    #: The learner (staff record) it is for; or ``user_id`` for an HR digest.
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The enrolment it is about (none for digests). Un-enrolling drops its messages.
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    #: The date it is about: the due date for reminders (a new due date makes new
    #: reminders), the day of the enrolment or completion, a digest's week (its Monday);
    #: for a live session (no enrolment): the day the seat was taken (invitation), the
    #: edition's Italian day (reminder), the day of the change or of the cancellation,
    #: the day the seat was released (or booked again, for ``rebook:``).
    on_date: Mapped[date] = mapped_column(Date)
    status: Mapped[Status] = mapped_column(
        Enum(
            Status,
            name="notification_status",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda statuses: [s.value for s in statuses],
        ),
        default=Status.PENDING,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Not before this moment (back-off after a deferral).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A sender took it until this moment; another may take it afterwards (a crashed sender).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The server's last answer, or why it was cancelled (never an address).
    last_error: Mapped[str | None] = mapped_column(String(200))

    staff: Mapped[StaffMember | None] = relationship()
    user: Mapped[User | None] = relationship()
    enrolment: Mapped[Enrolment | None] = relationship()
