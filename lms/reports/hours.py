"""Yearly training hours: platform, live and external hours of each person in a calendar year.

Public employees must reach a yearly number of training hours
(``LMS_ANNUAL_HOURS_TARGET``, 40 by default). A person's hours in year Y (in
Italy, Europe/Rome) are the sum of three parts, none counted twice:

- **platform** hours: for each course completed in Y, its ``hours`` minus the
  hours of its current (not retired) live modules, never below zero; every
  completed course counts, whether the person was enrolled in it or took it from
  the catalogue on their own;
- **live** hours: for each live module whose attendance counts
  (:func:`lms.live.rules.attended_enough_clause`), its ``hours``, once per
  person and module, in the year of the start of the first edition attended
  enough;
- **external** hours: the hours of the approved training done elsewhere
  (:mod:`lms.external`) whose ``completed_on`` day is in Y.

Everything is summed in integer hundredths of an hour, in SQL, set-based: the
per-authority report is a handful of grouped subqueries, whatever the number of
staff.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    String,
    Subquery,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)

from lms.core.sql import read_rows
from lms.core.types import ROME, UTCDateTime, rome_date
from lms.courses.models import Course, CourseCompletion, Module, ModuleKind
from lms.extensions import db
from lms.external.models import ExternalTraining, TrainingStatus
from lms.live.models import LiveAttendance, LiveEdition
from lms.live.rules import attended_enough_clause
from lms.register.models import Authority, Region, StaffMember
from lms.reports.coverage import hundredths, percent
from lms.reports.filters import ReportFilters

HOURS_COLUMNS = (
    "year",
    "authority_code",
    "authority",
    "region_code",
    "staff",
    "reached_target",
    "reached_pct",
    "avg_hours",
    "target_hours",
    "avg_platform_hours",
    "avg_live_hours",
    "avg_external_hours",
)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The first instant of *year* in Italy and of the next one, in UTC."""
    start = datetime.combine(date(year, 1, 1), time(0), ROME).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(0), ROME).astimezone(UTC)
    return start, end


def _hundredths(column: Any) -> ColumnElement[int]:
    """A NUMERIC column of hours as whole hundredths (``7.5`` → ``750``)."""
    return cast(func.round(column * 100), Integer)


def _live_per_course() -> Subquery:
    """Each course's current live modules' hours, in hundredths."""
    return (
        select(
            Module.course_id,
            func.sum(_hundredths(func.coalesce(Module.live_hours, 0))).label("live"),
        )
        .where(Module.kind == ModuleKind.LIVE, Module.retired_at.is_(None))
        .group_by(Module.course_id)
        .subquery("live_per_course")
    )


def _platform_per_completion() -> tuple[ColumnElement[int], Subquery]:
    """A completion's platform hundredths (course hours less its live modules', ≥ 0)."""
    live = _live_per_course()
    net = _hundredths(Course.hours) - func.coalesce(live.c.live, 0)
    return case((net > 0, net), else_=0), live


def _first_attended(*where: ColumnElement[bool]) -> Subquery:
    """(staff, live module, start of the first edition whose attendance counts).

    *where* narrows the attendance read (one person's), inside the grouping: the
    database then reads that person's rows, not every attendance to keep one group.
    """
    return (
        select(
            LiveAttendance.staff_id,
            LiveEdition.module_id,
            func.min(LiveEdition.starts_at).label("first_start"),
        )
        .select_from(LiveAttendance)
        .join(LiveEdition, LiveEdition.id == LiveAttendance.edition_id)
        .join(Module, Module.id == LiveEdition.module_id)
        .where(attended_enough_clause(), *where)
        .group_by(LiveAttendance.staff_id, LiveEdition.module_id)
        .subquery("first_attended")
    )


@dataclass(frozen=True)
class YearHours:
    """One person's hours in one calendar year: the total and two of its parts.

    *hours* is the total; *live* and *external* are parts of it, the rest
    (:attr:`platform`) the platform's. *pending* is not part of it: external
    hours still waiting for approval, shown apart.
    """

    year: int
    hours: Decimal
    target: Decimal
    live: Decimal = Decimal(0)
    external: Decimal = Decimal(0)
    pending: Decimal = Decimal(0)

    @property
    def platform(self) -> Decimal:
        """Hours of the courses completed on the platform (less their live modules')."""
        return self.hours - self.live - self.external

    @property
    def reached(self) -> bool:
        """Whether the hours reach the target."""
        return self.hours >= self.target

    @property
    def pct(self) -> int:
        """Hours against the target, in percent, at most 100 (for a progress bar)."""
        if not self.target:
            return 100
        return min(100, int(self.hours * 100 / self.target))


def hours_per_year(user_id: int, target: Decimal) -> list[YearHours]:
    """The years in which *user_id* earned hours (or has some pending), newest first.

    Platform hours are the account's own (a course completed before the person
    was on the staff counts too); live and external hours are those of the
    account's staff record, if any.
    """
    parts: dict[int, dict[str, int]] = {}
    for part, moment, day, value in read_rows(_person_hours(), {"user_id": user_id}):
        year = rome_date(moment).year if moment is not None else day.year
        parts.setdefault(year, {"platform": 0, "live": 0, "external": 0, "pending": 0})
        parts[year][part] += int(value)
    return [
        YearHours(
            year,
            hundredths(p["platform"] + p["live"] + p["external"]),
            target,
            live=hundredths(p["live"]),
            external=hundredths(p["external"]),
            pending=hundredths(p["pending"]),
        )
        for year, p in sorted(parts.items(), reverse=True)
    ]


@cache
def _person_hours() -> CompoundSelect[Any]:
    """Every part of one person's hours, one row each: (part, moment, day, hundredths).

    One statement (the home page reads it on every view), the three parts as one
    UNION ALL: the account's completions (their moment), the live modules attended
    enough by the account's staff record (the first such edition's start), and its
    external training approved or pending (the day it ended). *moment* or *day* says
    the year, in Python (the Italian year of a moment: :func:`rome_date`).

    Built once, the person a bound parameter (``user_id``): building this
    statement took about half the time of reading it (issue #19's profile).
    """
    user_id = bindparam("user_id", type_=Integer)
    staff_id = select(StaffMember.id).where(StaffMember.user_id == user_id).scalar_subquery()
    no_moment = cast(null(), UTCDateTime())
    no_day = cast(null(), Date())
    net, live_per_course = _platform_per_completion()
    platform = (
        select(
            literal("platform", String).label("part"),
            CourseCompletion.completed_at.label("moment"),
            no_day.label("day"),
            net.label("value"),
        )
        .join(Course, Course.id == CourseCompletion.course_id)
        .outerjoin(live_per_course, live_per_course.c.course_id == Course.id)
        .where(CourseCompletion.user_id == user_id)
    )
    first = _first_attended(LiveAttendance.staff_id == staff_id)
    live = select(
        literal("live", String),
        first.c.first_start,
        no_day,
        _hundredths(func.coalesce(Module.live_hours, 0)),
    ).join(Module, Module.id == first.c.module_id)
    external = select(
        case((ExternalTraining.status == TrainingStatus.APPROVED, "external"), else_="pending"),
        no_moment,
        ExternalTraining.completed_on,
        _hundredths(ExternalTraining.hours),
    ).where(
        ExternalTraining.staff_id == staff_id,
        ExternalTraining.status.in_([TrainingStatus.APPROVED, TrainingStatus.PENDING]),
    )
    return union_all(platform, live, external)


@dataclass(frozen=True)
class AuthorityHours:
    """How many of an authority's staff reached the yearly target, and their mean hours."""

    year: int
    authority_code: str
    authority: str
    region_code: str
    staff: int
    reached: int
    #: Total hours of the staff, in hundredths (platform + live + external).
    hours_hundredths: int
    target: Decimal
    platform_hundredths: int = 0
    live_hundredths: int = 0
    external_hundredths: int = 0

    @property
    def reached_pct(self) -> Decimal | None:
        """Staff who reached the target, in percent."""
        return percent(self.reached, self.staff)

    def _mean(self, total_hundredths: int) -> Decimal | None:
        # hours / staff = (hundredths / 100) / staff = percent(hundredths, staff * 10,000)
        return percent(total_hundredths, self.staff * 10_000)

    @property
    def avg_hours(self) -> Decimal | None:
        """Mean total hours per staff member, one decimal."""
        return self._mean(self.hours_hundredths)

    @property
    def avg_platform_hours(self) -> Decimal | None:
        """Mean platform hours per staff member, one decimal."""
        return self._mean(self.platform_hundredths)

    @property
    def avg_live_hours(self) -> Decimal | None:
        """Mean live hours per staff member, one decimal."""
        return self._mean(self.live_hundredths)

    @property
    def avg_external_hours(self) -> Decimal | None:
        """Mean external (approved) hours per staff member, one decimal."""
        return self._mean(self.external_hundredths)

    def cells(self) -> list[object]:
        """The values in the order of :data:`HOURS_COLUMNS`."""
        return [
            self.year,
            self.authority_code,
            self.authority,
            self.region_code,
            self.staff,
            self.reached,
            self.reached_pct,
            self.avg_hours,
            self.target,
            self.avg_platform_hours,
            self.avg_live_hours,
            self.avg_external_hours,
        ]


def hours_by_authority(filters: ReportFilters, year: int, target: Decimal) -> list[AuthorityHours]:
    """Per authority in scope: staff during *year*, how many reached *target*, mean hours.

    The staff are those of the filters' definition at the end of the year, or
    at the as-of date when that comes first (the current year); only what
    happened by then counts: completions and editions that started before its
    end, external training completed by that day (approved now).
    """
    start, end = year_bounds(year)
    as_of = min(filters.as_of, date(year, 12, 31))
    filters = replace(filters, as_of=as_of)
    end = min(end, filters.day_end)

    net, live_per_course = _platform_per_completion()
    platform = (
        select(CourseCompletion.user_id, func.sum(net).label("hours"))
        .join(Course, Course.id == CourseCompletion.course_id)
        .outerjoin(live_per_course, live_per_course.c.course_id == Course.id)
        .where(CourseCompletion.completed_at >= start, CourseCompletion.completed_at < end)
        .group_by(CourseCompletion.user_id)
        .subquery("platform")
    )
    first = _first_attended()
    live = (
        select(
            first.c.staff_id,
            func.sum(_hundredths(func.coalesce(Module.live_hours, 0))).label("hours"),
        )
        .join(Module, Module.id == first.c.module_id)
        .where(first.c.first_start >= start, first.c.first_start < end)
        .group_by(first.c.staff_id)
        .subquery("live")
    )
    external = (
        select(
            ExternalTraining.staff_id,
            func.sum(_hundredths(ExternalTraining.hours)).label("hours"),
        )
        .where(
            ExternalTraining.status == TrainingStatus.APPROVED,
            ExternalTraining.completed_on >= date(year, 1, 1),
            ExternalTraining.completed_on <= as_of,
        )
        .group_by(ExternalTraining.staff_id)
        .subquery("external")
    )
    platform_hours = func.coalesce(platform.c.hours, 0)
    live_hours = func.coalesce(live.c.hours, 0)
    external_hours = func.coalesce(external.c.hours, 0)
    total = platform_hours + live_hours + external_hours
    query = (
        select(
            Authority.code,
            Authority.name,
            Region.code.label("region_code"),
            func.count().label("staff"),
            func.sum(case((total >= int(target * 100), 1), else_=0)).label("reached"),
            func.sum(total).label("hours"),
            func.sum(platform_hours).label("platform"),
            func.sum(live_hours).label("live"),
            func.sum(external_hours).label("external"),
        )
        .select_from(StaffMember)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(Region, Region.id == Authority.region_id)
        .outerjoin(platform, platform.c.user_id == StaffMember.user_id)
        .outerjoin(live, live.c.staff_id == StaffMember.id)
        .outerjoin(external, external.c.staff_id == StaffMember.id)
        .where(filters.authority_clause(), filters.staff_clause())
        .group_by(Authority.id, Authority.code, Authority.name, Region.code, Region.less_developed)
        .order_by(Region.less_developed.desc(), Region.code, Authority.code)
    )
    return [
        AuthorityHours(
            year=year,
            authority_code=row.code,
            authority=row.name,
            region_code=row.region_code,
            staff=int(row.staff),
            reached=int(row.reached or 0),
            hours_hundredths=int(row.hours or 0),
            target=target,
            platform_hundredths=int(row.platform or 0),
            live_hundredths=int(row.live or 0),
            external_hundredths=int(row.external or 0),
        )
        for row in db.session.execute(query)
    ]
