"""Yearly training hours: the hours of the courses each person completed in a calendar year.

Public employees must reach a yearly number of training hours
(``LMS_ANNUAL_HOURS_TARGET``, 40 by default). A course counts in the year (in
Italy, Europe/Rome) in which it was completed, with the hours its front matter
gives; every completed course counts, whether the person was enrolled in it or
took it from the catalogue on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import Integer, case, cast, func, select

from lms.core.types import ROME, rome_date
from lms.courses.models import Course, CourseCompletion
from lms.extensions import db
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
)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The first instant of *year* in Italy and of the next one, in UTC."""
    start = datetime.combine(date(year, 1, 1), time(0), ROME).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(0), ROME).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class YearHours:
    """One person's hours in one calendar year."""

    year: int
    hours: Decimal
    target: Decimal

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
    """The years in which *user_id* completed courses, newest first, with their hours."""
    rows = db.session.execute(
        select(CourseCompletion.completed_at, Course.hours)
        .join(Course, Course.id == CourseCompletion.course_id)
        .where(CourseCompletion.user_id == user_id)
    )
    totals: dict[int, Decimal] = {}
    for completed_at, hours in rows:
        year = rome_date(completed_at).year
        totals[year] = totals.get(year, Decimal(0)) + Decimal(hours)
    return [
        YearHours(year, hundredths(int(total * 100)), target)
        for year, total in sorted(totals.items(), reverse=True)
    ]


@dataclass(frozen=True)
class AuthorityHours:
    """How many of an authority's staff reached the yearly target."""

    year: int
    authority_code: str
    authority: str
    region_code: str
    staff: int
    reached: int
    hours_hundredths: int
    target: Decimal

    @property
    def reached_pct(self) -> Decimal | None:
        """Staff who reached the target, in percent."""
        return percent(self.reached, self.staff)

    @property
    def avg_hours(self) -> Decimal | None:
        """Mean hours per staff member, one decimal."""
        # hours / staff = (hours_hundredths / 100) / staff = percent(hh, staff * 10,000)
        return percent(self.hours_hundredths, self.staff * 10_000)

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
        ]


def hours_by_authority(filters: ReportFilters, year: int, target: Decimal) -> list[AuthorityHours]:
    """Per authority in scope: staff during *year*, and how many reached *target* hours.

    The staff are those of the filters' definition at the end of the year, or
    at the as-of date when that comes first (the current year).
    """
    start, end = year_bounds(year)
    as_of = min(filters.as_of, date(year, 12, 31))
    filters = replace(filters, as_of=as_of)
    end = min(end, filters.day_end)
    per_user = (
        select(
            CourseCompletion.user_id,
            func.sum(cast(func.round(Course.hours * 100), Integer)).label("hours"),
        )
        .join(Course, Course.id == CourseCompletion.course_id)
        .where(CourseCompletion.completed_at >= start, CourseCompletion.completed_at < end)
        .group_by(CourseCompletion.user_id)
        .subquery("per_user")
    )
    hours = func.coalesce(per_user.c.hours, 0)
    query = (
        select(
            Authority.code,
            Authority.name,
            Region.code.label("region_code"),
            func.count().label("staff"),
            func.sum(case((hours >= int(target * 100), 1), else_=0)).label("reached"),
            func.sum(hours).label("hours"),
        )
        .select_from(StaffMember)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(Region, Region.id == Authority.region_id)
        .outerjoin(per_user, per_user.c.user_id == StaffMember.user_id)
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
        )
        for row in db.session.execute(query)
    ]
