"""Issuing and finding completion certificates."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.auth.models import User
from lms.certificates.models import CODE_ALPHABET, CODE_LENGTH, Certificate
from lms.core.types import rome_date, utcnow
from lms.courses.models import Course, CourseCompletion
from lms.extensions import db
from lms.register.models import StaffMember

#: A new code colliding with an existing one is a one in 10^29 event; retrying a
#: few times costs nothing and turns even that into a non-event.
_CODE_ATTEMPTS = 3


def new_code() -> str:
    """A fresh random verification code (normalised form, no dashes)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """The stored form of a code as a person may type it: any case, dashes and spaces."""
    return "".join(ch for ch in text.upper() if ch not in "- \t")


def well_formed(code: str) -> bool:
    """Whether a normalised *code* could be a verification code at all."""
    return len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)


def find_certificate(code: str) -> Certificate | None:
    """The certificate with this verification code (typed in any case, with or without dashes)."""
    normalised = normalise_code(code)
    if not well_formed(normalised):
        return None  # cannot exist: spare the database
    return db.session.scalar(select(Certificate).where(Certificate.code == normalised))


def certificate_of(user: User, course: Course) -> Certificate | None:
    """*user*'s certificate for *course*, if already issued."""
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user.id, Certificate.course_id == course.id
        )
    )


def certificate_due(user: User, course: Course) -> bool:
    """Whether *user* has, or may be issued, a certificate for *course* (see issue_certificate)."""
    completed = select(CourseCompletion.id).where(
        CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id
    )
    on_staff = select(StaffMember.id).where(StaffMember.user_id == user.id)
    return bool(db.session.scalar(select(completed.exists() & on_staff.exists())))


def courses_with_certificate_due(user: User) -> frozenset[int]:
    """The ids of every course for which :func:`certificate_due` holds for *user* (one query)."""
    on_staff = select(StaffMember.id).where(StaffMember.user_id == user.id)
    return frozenset(
        db.session.scalars(
            select(CourseCompletion.course_id).where(
                CourseCompletion.user_id == user.id, on_staff.exists()
            )
        )
    )


def issue_certificate(
    user: User, course: Course, now: datetime | None = None
) -> Certificate | None:
    """Return *user*'s certificate for *course*, issuing it the first time; None if not due.

    A certificate is due when the course's completion is recorded and the account
    belongs to a person in the staff register: the register is where the name and
    codice fiscale a certificate states come from. Accounts without a staff
    record (administrators, trainers trying a course) get none.

    Idempotent, also when two requests issue the same certificate at once: the
    loser of the race on the (user, course) constraint returns the winner's.
    """
    existing = certificate_of(user, course)
    if existing is not None:
        return existing
    completed_at = db.session.scalar(
        select(CourseCompletion.completed_at).where(
            CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id
        )
    )
    staff = db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))
    if completed_at is None or staff is None:
        return None
    for _attempt in range(_CODE_ATTEMPTS):
        certificate = Certificate(
            code=new_code(),
            user_id=user.id,
            course_id=course.id,
            issued_at=now or utcnow(),
            holder_name=staff.full_name,
            codice_fiscale=staff.codice_fiscale,
            course_title=course.title,
            course_slug=course.slug,
            hours=course.hours,
            completed_on=rome_date(completed_at),
        )
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
        except IntegrityError:
            # Either another request issued it first (use theirs), or the code was taken.
            existing = certificate_of(user, course)
            if existing is not None:
                return existing
        else:
            return certificate
    raise RuntimeError("could not find a free certificate code")  # pragma: no cover
