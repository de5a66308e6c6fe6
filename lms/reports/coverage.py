"""Coverage by region and by authority, as ``staff-and-reports.md`` defines it.

Every number comes from one set-based query: a per-person summary (the staff
at the as-of date, their counted enrolments, completions, overdue enrolments,
hours and best quiz scores) grouped by region or by authority. No Python loop
over people. Ratios are computed afterwards from exact integers and rounded
half up, the way a spreadsheet rounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from sqlalchemy import ColumnElement, Integer, Select, and_, case, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute

from lms.assessments.models import QuizAttempt
from lms.auth.models import Role
from lms.courses.models import Course, CourseCompletion
from lms.enrolments.facts import apply_pending
from lms.enrolments.models import CourseFacts, Enrolment
from lms.extensions import db
from lms.register.models import Authority, Region, StaffCategory, StaffMember
from lms.reports.filters import ReportFilters

By = Literal["region", "authority"]
ONE_DECIMAL = Decimal("0.1")

REGION_COLUMNS = (
    "region_code",
    "region",
    "less_developed",
    "staff",
    "new_hires",
    "enrolled",
    "completed",
    "coverage_pct",
    "avg_score_pct",
    "hours_completed",
    "overdue",
)
AUTHORITY_COLUMNS = (
    "authority_code",
    "authority",
    "kind",
    "region_code",
    "staff",
    "new_hires",
    "enrolled",
    "completed",
    "coverage_pct",
    "avg_score_pct",
    "hours_completed",
    "overdue",
)


def percent(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator × 100``, one decimal, rounded half up; None when undefined."""
    if not denominator:
        return None
    # floor(n × 1000 / d + 1/2) in integers: exact, and fast enough for a million rows.
    tenths = (numerator * 2000 + denominator) // (denominator * 2)
    return Decimal(tenths).scaleb(-1)


def hundredths(value: int) -> Decimal:
    """An integer count of hundredths as a plain decimal (``850`` → ``8.5``)."""
    amount = Decimal(value).scaleb(-2)
    return (
        amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
    )


@dataclass
class Totals:
    """The additive counts behind one report row (ratios derive from them)."""

    staff: int = 0
    new_hires: int = 0
    enrolled: int = 0
    completed: int = 0
    overdue: int = 0
    hours_hundredths: int = 0
    score_hundredths: int = 0
    scored_pairs: int = 0

    def add(self, other: Totals) -> None:
        """Add *other*'s counts to these (the TOTAL row)."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def coverage_pct(self) -> Decimal | None:
        """Completed over staff, in percent."""
        return percent(self.completed, self.staff)

    @property
    def enrolled_pct(self) -> Decimal | None:
        """Enrolled over staff, in percent (for the chart)."""
        return percent(self.enrolled, self.staff)

    @property
    def avg_score_pct(self) -> Decimal | None:
        """Mean of the best scores per (person, quiz), in percent."""
        if not self.scored_pairs:
            return None
        return percent(self.score_hundredths, self.scored_pairs * 10_000)

    @property
    def hours_completed(self) -> Decimal:
        """Hours of the completed enrolments."""
        return hundredths(self.hours_hundredths)


@dataclass
class CoverageRow:
    """One row of a coverage report: a region, an authority, or the TOTAL."""

    code: str
    name: str
    totals: Totals = field(default_factory=Totals)
    less_developed: bool = False
    kind: str = ""
    region_code: str = ""
    is_total: bool = False

    def cells(self, by: By) -> list[object]:
        """The row's values in the order of the report's columns."""
        t = self.totals
        counts = [
            t.staff,
            t.new_hires,
            t.enrolled,
            t.completed,
            t.coverage_pct,
            t.avg_score_pct,
            t.hours_completed,
            t.overdue,
        ]
        if by == "region":
            # A boolean: CSV writes true/false, XLSX a logical cell; empty for the TOTAL.
            less = None if self.is_total else self.less_developed
            return [self.code, self.name, less, *counts]
        return [self.code, self.name, self.kind, self.region_code, *counts]


# The three aggregates ----------------------------------------------------------------
#
# Each aggregate is grouped by the report's key (a region or an authority id)
# in one pass over its table, driven by that table's own index order, so that
# neither database materialises a per-person table and joins it back: staff
# counts, enrolment counts (per person first: "completed" means all of a
# person's counted enrolments), and best quiz scores (per person and quiz
# first). The three small results are merged by key.


def _key(by: By) -> InstrumentedAttribute[int]:
    return Authority.region_id if by == "region" else StaffMember.authority_id


def _staff_counts(filters: ReportFilters, by: By) -> Select:
    key = _key(by)
    return (
        select(
            key.label("key"),
            func.count().label("staff"),
            func.sum(case((StaffMember.category == StaffCategory.NEW_HIRE, 1), else_=0)).label(
                "new_hires"
            ),
        )
        .select_from(StaffMember)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .where(filters.authority_clause(), filters.staff_clause())
        .group_by(key)
    )


def _enrolment_counts(filters: ReportFilters, by: By) -> Select:
    end = filters.day_end
    done = CourseCompletion.id.is_not(None)
    per_person = (
        select(
            # The key depends on the person only: an aggregate, not a GROUP BY
            # column, keeps the grouping in the enrolments index's order.
            func.min(_key(by)).label("key"),
            func.count().label("enrolments"),
            func.sum(case((done, 1), else_=0)).label("completed"),
            func.sum(case((and_(~done, Enrolment.due_on < filters.as_of), 1), else_=0)).label(
                "overdue"
            ),
            func.sum(case((done, cast(func.round(Course.hours * 100), Integer)), else_=0)).label(
                "hours"
            ),
        )
        .select_from(Enrolment)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(Course, Course.id == Enrolment.course_id)
        .outerjoin(
            CourseCompletion,
            filters.completion_of(StaffMember.user_id, Enrolment.course_id),
        )
        .where(filters.authority_clause(), filters.staff_clause(), Enrolment.enrolled_at < end)
        .group_by(Enrolment.staff_id)
    )
    if filters.course is not None:
        per_person = per_person.where(Enrolment.course_id == filters.course.id)
    people = per_person.subquery("per_person")
    return select(
        people.c.key,
        func.count().label("enrolled"),
        func.sum(case((people.c.completed == people.c.enrolments, 1), else_=0)).label("completed"),
        func.sum(people.c.overdue).label("overdue"),
        func.sum(people.c.hours).label("hours"),
    ).group_by(people.c.key)


def _score_counts(filters: ReportFilters, by: By) -> Select:
    # The same numbers, in the shape each database runs fastest (measured with
    # bench/reports.py at 930,000 attempts): SQLite groups the attempts from their
    # own index and joins one row per person to the staff (0.46 s, against 0.79 s
    # joining every attempt); PostgreSQL joins every attempt in parallel hash joins
    # (0.66 s, against 1.1 s for the per-person shape, which it runs serially).
    key = _key(by)
    if db.session.get_bind().dialect.name == "sqlite":
        best = (
            select(
                QuizAttempt.user_id,
                filters.best_score(),
            )
            .where(filters.scored_attempt())
            .group_by(QuizAttempt.user_id, QuizAttempt.module_id)
            .subquery("best")
        )
        per_person = (
            select(
                best.c.user_id, func.sum(best.c.best).label("score"), func.count().label("pairs")
            )
            .group_by(best.c.user_id)
            .subquery("per_person")
        )
        return (
            select(
                key.label("key"),
                func.sum(per_person.c.score).label("score"),
                func.sum(per_person.c.pairs).label("pairs"),
            )
            .select_from(per_person)
            .join(StaffMember, StaffMember.user_id == per_person.c.user_id)
            .join(Authority, Authority.id == StaffMember.authority_id)
            .where(filters.authority_clause(), filters.staff_clause())
            .group_by(key)
        )
    best = (
        select(
            func.min(key).label("key"),
            filters.best_score(),
        )
        .select_from(QuizAttempt)
        .join(StaffMember, StaffMember.user_id == QuizAttempt.user_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .where(filters.authority_clause(), filters.staff_clause(), filters.scored_attempt())
        .group_by(QuizAttempt.user_id, QuizAttempt.module_id)
        .subquery("best")
    )
    return select(
        best.c.key, func.sum(best.c.best).label("score"), func.count().label("pairs")
    ).group_by(best.c.key)


def _fact_counts(filters: ReportFilters, by: By) -> Select:
    """The enrolment and score counts of :func:`_enrolment_counts` and :func:`_score_counts`.

    Read from the facts table in one pass, per person first as there, for an
    as-of day of today or later (:attr:`ReportFilters.uses_facts` says why the
    figures are the same). A row for scores only (no enrolment) adds to the
    scores and not to the enrolments.

    The same numbers in the shape each database runs fastest (measured on
    bench/generate.py's million facts): SQLite sums the facts per person straight
    from the table, which it keeps in person order (no sort), and joins the
    100,000 sums to the staff; a join of every fact to the staff and the courses
    first made it drive the join from the courses and sort a temporary B-tree
    (5 s). PostgreSQL joins every fact in parallel hash joins, faster for it than
    the per-person sums joined after (0.6-0.9 s against 0.8-1.3 s).
    """
    facts = CourseFacts
    enrolled = facts.enrolled_at.is_not(None)
    done = and_(enrolled, facts.completed_at.is_not(None))
    overdue = and_(enrolled, facts.completed_at.is_(None), facts.due_on < filters.as_of)
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # One lookup by primary key per fact, not a join the planner reorders.
        course_hours: ColumnElement[int] = (
            select(cast(func.round(Course.hours * 100), Integer))
            .where(Course.id == facts.course_id)
            .scalar_subquery()
        )
    else:
        course_hours = cast(func.round(Course.hours * 100), Integer)
    sums = (
        func.count(facts.enrolled_at).label("enrolments"),
        func.sum(case((done, 1), else_=0)).label("completed"),
        func.sum(case((overdue, 1), else_=0)).label("overdue"),
        func.sum(case((done, course_hours), else_=0)).label("hours"),
        func.sum(facts.score_hundredths).label("score"),
        func.sum(facts.quizzes).label("pairs"),
    )
    if sqlite:
        per_staff = select(facts.staff_id, *sums).group_by(facts.staff_id)
        if filters.course is not None:
            per_staff = per_staff.where(facts.course_id == filters.course.id)
        sub = per_staff.subquery("per_staff")
        per_person = (
            select(_key(by).label("key"), *(sub.c[c.name] for c in sums))
            .select_from(sub)
            .join(StaffMember, StaffMember.id == sub.c.staff_id)
            .join(Authority, Authority.id == StaffMember.authority_id)
            .where(filters.authority_clause(), filters.staff_clause())
        )
    else:
        per_person = (
            # As in _enrolment_counts: an aggregate keeps the grouping by person.
            select(func.min(_key(by)).label("key"), *sums)
            .select_from(facts)
            .join(StaffMember, StaffMember.id == facts.staff_id)
            .join(Authority, Authority.id == StaffMember.authority_id)
            .join(Course, Course.id == facts.course_id)
            .where(filters.authority_clause(), filters.staff_clause())
            .group_by(facts.staff_id)
        )
        if filters.course is not None:
            per_person = per_person.where(facts.course_id == filters.course.id)
    people = per_person.subquery("per_person")
    some = people.c.enrolments > 0
    return select(
        people.c.key,
        func.sum(case((some, 1), else_=0)).label("enrolled"),
        func.sum(case((and_(some, people.c.completed == people.c.enrolments), 1), else_=0)).label(
            "completed"
        ),
        func.sum(people.c.overdue).label("overdue"),
        func.sum(people.c.hours).label("hours"),
        func.sum(people.c.score).label("score"),
        func.sum(people.c.pairs).label("pairs"),
    ).group_by(people.c.key)


def totals_by(filters: ReportFilters, by: By) -> dict[int, Totals]:
    """The counts of every region (or authority) id in scope that has staff."""
    totals: dict[int, Totals] = {}
    for row in db.session.execute(_staff_counts(filters, by)):
        totals[row.key] = Totals(staff=int(row.staff), new_hires=int(row.new_hires or 0))
    if filters.uses_facts:
        # A change this session made and has not committed yet is in the facts too.
        apply_pending()
        for row in db.session.execute(_fact_counts(filters, by)):
            if (t := totals.get(row.key)) is not None:
                t.enrolled, t.completed = int(row.enrolled or 0), int(row.completed or 0)
                t.overdue, t.hours_hundredths = int(row.overdue or 0), int(row.hours or 0)
                t.score_hundredths, t.scored_pairs = int(row.score or 0), int(row.pairs or 0)
        return totals
    for row in db.session.execute(_enrolment_counts(filters, by)):
        if (t := totals.get(row.key)) is not None:
            t.enrolled, t.completed = int(row.enrolled), int(row.completed or 0)
            t.overdue, t.hours_hundredths = int(row.overdue or 0), int(row.hours or 0)
    for row in db.session.execute(_score_counts(filters, by)):
        if (t := totals.get(row.key)) is not None:
            t.score_hundredths, t.scored_pairs = int(row.score or 0), int(row.pairs)
    return totals


# The reports ------------------------------------------------------------------------


def regions_in_scope(filters: ReportFilters) -> list[Region]:
    """The regions the report lists: less developed first, then by code."""
    query = select(Region).order_by(Region.less_developed.desc(), Region.code)
    if filters.region is not None:
        query = query.where(Region.id == filters.region.id)
    # An admin, like the command line, sees every region (even one without authorities).
    sees_all = filters.reader is None or filters.reader.role is Role.ADMIN
    if not sees_all or filters.authority is not None:
        visible = select(Authority.region_id).where(filters.authority_clause())
        query = query.where(Region.id.in_(visible))
    return list(db.session.scalars(query))


def coverage_by_region(filters: ReportFilters) -> tuple[list[CoverageRow], CoverageRow]:
    """One row per region in scope (regions without staff included), and the TOTAL."""
    counts = totals_by(filters, "region")
    rows = [
        CoverageRow(
            code=region.code,
            name=region.name,
            less_developed=region.less_developed,
            totals=counts.get(region.id, Totals()),
        )
        for region in regions_in_scope(filters)
    ]
    total = CoverageRow(code="TOTAL", name="", is_total=True)
    for row in rows:
        total.totals.add(row.totals)
    return rows, total


def coverage_by_authority(filters: ReportFilters) -> list[CoverageRow]:
    """One row per authority in scope with at least one staff member at the as-of date."""
    counts = totals_by(filters, "authority")
    if not counts:
        return []
    query = (
        select(Authority.id, Authority.code, Authority.name, Authority.kind, Region.code)
        .join(Region, Region.id == Authority.region_id)
        .where(filters.authority_clause())
        .order_by(Region.less_developed.desc(), Region.code, Authority.code)
    )
    return [
        CoverageRow(
            code=code,
            name=name,
            kind=kind.value,
            region_code=region_code,
            totals=counts[authority_id],
        )
        for authority_id, code, name, kind, region_code in db.session.execute(query)
        if authority_id in counts
    ]


def coverage_rows(filters: ReportFilters, by: By) -> Iterator[list[object]]:
    """The report's cells, row by row, header excluded (TOTAL last for regions)."""
    if by == "region":
        rows, total = coverage_by_region(filters)
        for row in [*rows, total]:
            yield row.cells(by)
    else:
        for row in coverage_by_authority(filters):
            yield row.cells(by)


def columns(by: By) -> tuple[str, ...]:
    """The report's header."""
    return REGION_COLUMNS if by == "region" else AUTHORITY_COLUMNS
