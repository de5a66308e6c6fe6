"""Reads for the live-session pages: editions with their seats, lists of people, a person's day.

Set-based: a list of editions is one query with its counts; a list of people is
one join. HR managers' lists go through :func:`lms.auth.permissions.authority_scope_clause`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
)

from lms.auth.models import User
from lms.auth.permissions import authority_scope_clause
from lms.core.search import fold
from lms.core.sql import LIKE_ESCAPE, contains_pattern, read_rows
from lms.core.types import utcnow
from lms.courses.models import Course, Module, ModuleKind
from lms.courses.queries import visible_courses_clause
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.live.models import (
    LiveAttendance,
    LiveEdition,
    LiveSignup,
    SignupStatus,
)
from lms.live.operations import OPEN
from lms.live.rules import attended_enough
from lms.register.models import Authority, StaffMember

#: People an HR manager's search returns at most.
SEARCH_LIMIT = 20
#: The longest edition, for "not yet over" in SQL without date arithmetic.
LONGEST = timedelta(hours=24)


@dataclass(frozen=True)
class EditionRow:
    """An edition with how many seats are taken and how many wait."""

    edition: LiveEdition
    booked: int
    waiting: int

    @property
    def seats_left(self) -> int | None:
        """Free seats; None: no limit."""
        if self.edition.capacity is None:
            return None
        return max(0, self.edition.capacity - self.booked)

    @property
    def ends_at(self) -> datetime:
        """When the edition ends."""
        return self.edition.ends_at


def live_modules(user: User, course_slug: str | None = None) -> list[Module]:
    """The current live modules of the courses *user* may see, by course and position."""
    query = (
        select(Module)
        .join(Course, Course.id == Module.course_id)
        .where(
            Module.kind == ModuleKind.LIVE,
            Module.retired_at.is_(None),
            visible_courses_clause(user),
        )
        .order_by(Course.title, Module.position)
    )
    if course_slug:
        query = query.where(Course.slug == course_slug)
    return list(db.session.scalars(query))


def _counted(query_filter: ColumnElement[bool]) -> list[EditionRow]:
    booked = func.count(case((LiveSignup.status == SignupStatus.BOOKED, LiveSignup.id)))
    waiting = func.count(case((LiveSignup.status == SignupStatus.WAITING, LiveSignup.id)))
    rows = db.session.execute(
        select(LiveEdition, booked, waiting)
        .outerjoin(LiveSignup, LiveSignup.edition_id == LiveEdition.id)
        .where(query_filter)
        .group_by(LiveEdition.id)
        .order_by(LiveEdition.starts_at, LiveEdition.id)
    ).all()
    return [EditionRow(edition, b, w) for edition, b, w in rows]


def editions_of(modules: Sequence[Module]) -> dict[int, list[EditionRow]]:
    """Every edition of *modules* with its counts, by module id, in date order."""
    ids = [m.id for m in modules]
    result: dict[int, list[EditionRow]] = {i: [] for i in ids}
    if not ids:
        return result
    for row in _counted(LiveEdition.module_id.in_(ids)):
        result[row.edition.module_id].append(row)
    return result


def edition_row(edition: LiveEdition) -> EditionRow:
    """*edition* with its counts."""
    (row,) = _counted(LiveEdition.id == edition.id)
    return row


def upcoming_editions(module: Module, now: datetime | None = None) -> list[EditionRow]:
    """The editions of *module* not cancelled and not over yet (in progress too), by date.

    One in progress stays listed: its link is what a late participant needs.
    """
    now = now or utcnow()
    rows = _counted(
        and_(
            LiveEdition.module_id == module.id,
            LiveEdition.cancelled_at.is_(None),
            LiveEdition.starts_at > now - LONGEST,
        )
    )
    return [row for row in rows if row.ends_at > now]


@dataclass(frozen=True)
class Person:
    """A person in an edition's list: their record, authority, sign-up, attendance."""

    staff: StaffMember
    authority: Authority
    signup: LiveSignup | None
    minutes: int | None  # recorded attendance; None: none recorded


def signups(edition: LiveEdition, status: SignupStatus, viewer: User | None = None) -> list[Person]:
    """The people of *edition* with sign-ups in *status* (in their order); HR: their scope only.

    *viewer* None: everyone (trainers and administrators see every list).
    """
    scope = authority_scope_clause(viewer) if viewer is not None else true()
    rows = db.session.execute(
        select(LiveSignup, StaffMember, Authority, LiveAttendance.minutes)
        .join(StaffMember, StaffMember.id == LiveSignup.staff_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .outerjoin(
            LiveAttendance,
            and_(
                LiveAttendance.edition_id == LiveSignup.edition_id,
                LiveAttendance.staff_id == LiveSignup.staff_id,
            ),
        )
        .where(LiveSignup.edition_id == edition.id, LiveSignup.status == status, scope)
        .order_by(LiveSignup.signed_up_at, LiveSignup.id)
    ).all()
    return [Person(staff, authority, signup, minutes) for signup, staff, authority, minutes in rows]


def register_people(edition: LiveEdition) -> list[Person]:
    """Who the register lists: everyone booked and everyone with attendance recorded.

    By surname and name (a register is read and signed in alphabetical order).
    """
    booked = select(LiveSignup.staff_id).where(
        LiveSignup.edition_id == edition.id, LiveSignup.status == SignupStatus.BOOKED
    )
    attended = select(LiveAttendance.staff_id).where(LiveAttendance.edition_id == edition.id)
    rows = db.session.execute(
        select(StaffMember, Authority, LiveSignup, LiveAttendance.minutes)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .outerjoin(
            LiveSignup,
            and_(LiveSignup.staff_id == StaffMember.id, LiveSignup.edition_id == edition.id),
        )
        .outerjoin(
            LiveAttendance,
            and_(
                LiveAttendance.staff_id == StaffMember.id,
                LiveAttendance.edition_id == edition.id,
            ),
        )
        .where(or_(StaffMember.id.in_(booked), StaffMember.id.in_(attended)))
    ).all()
    people = [
        Person(staff, authority, signup, minutes) for staff, authority, signup, minutes in rows
    ]
    return sorted(
        people,
        key=lambda p: (
            alphabetical(p.staff.last_name),
            alphabetical(p.staff.first_name),
            p.staff.id,
        ),
    )


def alphabetical(text: str) -> str:
    """*text* as a key of alphabetical order: accents and case aside (À with A)."""
    spelt = unicodedata.normalize("NFKD", text)
    return "".join(c for c in spelt if not unicodedata.combining(c)).casefold()


def staff_record(user: User) -> StaffMember | None:
    """The staff record whose learner account is *user*, if any."""
    return db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))


class BookedSignup(NamedTuple):
    """Of a booking's sign-up, what the home page shows: its key and status."""

    id: int
    status: SignupStatus


class BookedEdition(NamedTuple):
    """Of a booking's edition, what the home page shows."""

    id: int
    starts_at: datetime
    minutes: int
    place: str
    meeting_url: str

    @property
    def ends_at(self) -> datetime:
        """When the edition ends: its start plus its minutes (as :class:`LiveEdition`)."""
        return self.starts_at + timedelta(minutes=self.minutes)


class BookedModule(NamedTuple):
    """Of a booking's module, what the home page shows."""

    id: int
    slug: str
    title: str


class BookedCourse(NamedTuple):
    """Of a booking's course, what the home page shows."""

    id: int
    slug: str
    title: str
    language: str


#: Each part of a booking and the model its fields are columns of (the same names).
_BOOKING_PARTS: Final = (
    (BookedSignup, LiveSignup),
    (BookedEdition, LiveEdition),
    (BookedModule, Module),
    (BookedCourse, Course),
)


_Part = TypeVar("_Part", BookedSignup, BookedEdition, BookedModule, BookedCourse)


@dataclass(frozen=True)
class Booking:
    """A person's open sign-up with its edition, module and course (the home page's panel).

    Each part is the columns the page shows, under the model's names, read as
    plain rows (:func:`~lms.core.sql.read_rows`): the home page reads them on
    every view, and the four models whole were some sixty columns to convert
    (and, on PostgreSQL, to describe), through the ORM, for a panel that is
    most often empty.
    """

    signup: BookedSignup
    edition: BookedEdition
    module: BookedModule
    course: BookedCourse

    @property
    def ends_at(self) -> datetime:
        """When the edition ends."""
        return self.edition.ends_at

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Booking:
        """The booking of a row of :func:`_bookings_statement`: its parts' fields in order."""
        values = iter(row)

        def part(kind: type[_Part]) -> _Part:
            return kind(*(next(values) for _ in kind._fields))

        return cls(part(BookedSignup), part(BookedEdition), part(BookedModule), part(BookedCourse))


def upcoming_bookings(user: User, now: datetime | None = None) -> list[Booking]:
    """*user*'s open sign-ups in editions not cancelled and not yet over, in date order."""
    now = now or utcnow()
    rows = read_rows(
        _bookings_statement(), {"bookings_user": user.id, "bookings_since": now - LONGEST}
    )
    bookings = [Booking.from_row(row) for row in rows]
    return [b for b in bookings if b.ends_at > now]


@cache
def _bookings_statement() -> Select[*tuple[Any, ...]]:
    """:func:`upcoming_bookings`' statement, built once (the home page runs it every time)."""
    return (
        select(*(getattr(model, name) for part, model in _BOOKING_PARTS for name in part._fields))
        .join(StaffMember, StaffMember.id == LiveSignup.staff_id)
        .join(LiveEdition, LiveEdition.id == LiveSignup.edition_id)
        .join(Module, Module.id == LiveEdition.module_id)
        .join(Course, Course.id == Module.course_id)
        .where(
            StaffMember.user_id == bindparam("bookings_user", type_=Integer),
            LiveSignup.status.in_(OPEN),
            LiveEdition.cancelled_at.is_(None),
            LiveEdition.starts_at > bindparam("bookings_since", type_=LiveEdition.starts_at.type),
            Course.retired_at.is_(None),
        )
        .order_by(LiveEdition.starts_at, LiveEdition.id)
    )


@dataclass(frozen=True)
class Attended:
    """A person's recorded attendance at one edition of a module."""

    edition: LiveEdition
    minutes: int
    enough: bool


def attendance_of(staff: StaffMember, module: Module) -> list[Attended]:
    """*staff*'s recorded attendance at the editions of *module*, in date order."""
    rows = db.session.execute(
        select(LiveEdition, LiveAttendance.minutes)
        .join(LiveAttendance, LiveAttendance.edition_id == LiveEdition.id)
        .where(LiveEdition.module_id == module.id, LiveAttendance.staff_id == staff.id)
        .order_by(LiveEdition.starts_at)
    ).all()
    return [
        Attended(
            edition, minutes, attended_enough(minutes, edition.minutes, module.attendance_percent)
        )
        for edition, minutes in rows
    ]


def signups_of(staff: StaffMember, module: Module) -> dict[int, LiveSignup]:
    """*staff*'s sign-ups (any status) in the editions of *module*, by edition id."""
    return {
        s.edition_id: s
        for s in db.session.scalars(
            select(LiveSignup).where(
                LiveSignup.staff_id == staff.id, LiveSignup.module_id == module.id
            )
        )
    }


def search_people(
    viewer: User, edition: LiveEdition, text: str
) -> list[tuple[StaffMember, Authority, LiveSignup | None]]:
    """People of *viewer*'s scope, enrolled in *edition*'s course, found by name or codice fiscale.

    Every word of *text* must be in the name, surname or codice fiscale. At most
    :data:`SEARCH_LIMIT`, by surname; each with their sign-up to the edition, if any.
    """
    words = text.split()
    if not words:
        return []
    query = (
        select(StaffMember, Authority, LiveSignup)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(
            Enrolment,
            and_(
                Enrolment.staff_id == StaffMember.id,
                Enrolment.course_id == edition.module.course_id,
            ),
        )
        .outerjoin(
            LiveSignup,
            and_(LiveSignup.staff_id == StaffMember.id, LiveSignup.edition_id == edition.id),
        )
        .where(authority_scope_clause(viewer))
    )
    for word in words[:4]:
        query = query.where(
            or_(
                # The folded names (lms.core.search): "nicolo" finds Nicolò.
                StaffMember.search_name.like(contains_pattern(fold(word)), escape=LIKE_ESCAPE),
                StaffMember.codice_fiscale.like(contains_pattern(word.upper()), escape=LIKE_ESCAPE),
            )
        )
    rows = db.session.execute(
        query.order_by(
            func.lower(StaffMember.last_name), func.lower(StaffMember.first_name), StaffMember.id
        ).limit(SEARCH_LIMIT)
    ).all()
    return [(staff, authority, signup) for staff, authority, signup in rows]


def staff_in_scope(viewer: User, staff_id: int) -> StaffMember | None:
    """The staff record *staff_id* if it is in *viewer*'s scope (else None: a 404)."""
    return db.session.scalar(
        select(StaffMember)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .where(StaffMember.id == staff_id, authority_scope_clause(viewer))
    )
