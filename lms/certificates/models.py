"""Completion certificates: what was certified, frozen when the certificate was issued."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.core.types import UTCDateTime, utcnow
from lms.courses.models import Course
from lms.extensions import Model

#: Characters of a verification code: digits and capital letters without the
#: ones people confuse when they read or type a code (0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: 20 characters from 31: about 99 bits, far beyond guessing at any request rate.
CODE_LENGTH = 20
#: Shown (and put in links) in groups of four: K7QM-3XHD-9PTR-WAB4-ZN6C.
CODE_GROUP = 4


def grouped_code(code: str) -> str:
    """A normalised code in groups of four, as printed and linked."""
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


class Certificate(Model):
    """A completion certificate: one per person and course, the same every time it is shown.

    It keeps a copy of what it certifies, so that renaming a course, changing its
    hours or correcting a person's record later does not rewrite a certificate
    already handed out.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint(f"length(code) = {CODE_LENGTH}", name="code_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Verification code, stored without dashes in upper case (see operations.normalise_code).
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # What the certificate says, as it was when issued.
    #: Name and surname from the staff register.
    holder_name: Mapped[str] = mapped_column(String(201))
    codice_fiscale: Mapped[str] = mapped_column(String(16))
    course_title: Mapped[str] = mapped_column(String(300))
    course_slug: Mapped[str] = mapped_column(String(100))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    #: The day in Italy on which the course was completed.
    completed_on: Mapped[date] = mapped_column(Date)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()

    @property
    def display_code(self) -> str:
        """The code in groups of four, as printed and linked."""
        return grouped_code(self.code)

    def __repr__(self) -> str:
        return f"<Certificate {self.id}>"
