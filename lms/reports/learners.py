"""The learner detail report: one row per enrolment, as ``staff-and-reports.md`` defines it.

One query streams the enrolments of the staff in scope, in order; for each
batch of rows, two set-based queries fetch the batch's people's module progress
and best quiz scores per course (no query per row, and the first rows go out at
once instead of after an aggregate over every person). The dates in Italy, the
status and the ratios are worked out in Python while streaming.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, Row, Select, and_, case, cast, func, select

from lms.assessments.models import QuizAttempt
from lms.core.types import rome_date
from lms.courses.models import Course, CourseCompletion, Module, ModuleProgress
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.register.models import Authority, Region, StaffMember
from lms.reports.coverage import hundredths, percent
from lms.reports.filters import ReportFilters

COLUMNS = (
    "codice_fiscale",
    "last_name",
    "first_name",
    "email",
    "authority_code",
    "authority",
    "region_code",
    "category",
    "course",
    "enrolled_on",
    "due_on",
    "status",
    "progress_pct",
    "best_score_pct",
    "completed_on",
    "hours",
)

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
OVERDUE = "overdue"

#: Rows fetched from the database at a time while streaming.
BATCH = 2000


class LearnerRow(NamedTuple):
    """One enrolment as the report shows it: the report's columns, then two for pages.

    A named tuple, not a dataclass: a million of them are made for one export.
    """

    codice_fiscale: str
    last_name: str
    first_name: str
    email: str
    authority_code: str
    authority: str
    region_code: str
    category: str
    course: str
    enrolled_on: date
    due_on: date | None
    status: str
    progress_pct: Decimal
    best_score_pct: Decimal | None
    completed_on: date | None
    hours: Decimal
    staff_id: int
    course_title: str

    def cells(self) -> list[object]:
        """The values in the order of :data:`COLUMNS`."""
        return list(self[: len(COLUMNS)])


def _active_modules(filters: ReportFilters) -> dict[int, int]:
    """Per course id: how many required modules were not retired at the end of the as-of day."""
    rows = db.session.execute(
        select(Module.course_id, func.count())
        .where(filters.module_counted())
        .group_by(Module.course_id)
    )
    return {course_id: int(count) for course_id, count in rows}


Lookup = dict[tuple[int, int], tuple[int, int]]


def _progress(filters: ReportFilters, user_ids: list[int]) -> Lookup:
    """Per (user, course): modules started, and required ones completed, by the end of the day."""
    end = filters.day_end
    completed = and_(ModuleProgress.completed_at < end, Module.required.is_(True))
    rows = db.session.execute(
        select(
            ModuleProgress.user_id,
            Module.course_id,
            func.count(),
            func.sum(case((completed, 1), else_=0)),
        )
        .join(Module, Module.id == ModuleProgress.module_id)
        .where(
            ModuleProgress.user_id.in_(user_ids),
            ModuleProgress.started_at < end,
            filters.module_current(),
        )
        .group_by(ModuleProgress.user_id, Module.course_id)
    )
    return {(user, course): (int(started), int(done or 0)) for user, course, started, done in rows}


def _scores(filters: ReportFilters, user_ids: list[int]) -> Lookup:
    """Per (user, course): the sum of the best score on each quiz (hundredths), and how many."""
    best = (
        select(
            QuizAttempt.user_id,
            Module.course_id,
            filters.best_score(),
        )
        .join(Module, Module.id == QuizAttempt.module_id)
        .where(
            QuizAttempt.user_id.in_(user_ids),
            filters.scored_attempt(),
        )
        .group_by(QuizAttempt.user_id, Module.course_id, QuizAttempt.module_id)
        .subquery("best_per_quiz")
    )
    rows = db.session.execute(
        select(best.c.user_id, best.c.course_id, func.sum(best.c.best), func.count()).group_by(
            best.c.user_id, best.c.course_id
        )
    )
    return {(user, course): (int(score), int(count)) for user, course, score, count in rows}


def learner_query(filters: ReportFilters) -> Select:
    """The report's enrolments, in order: region, authority, person, course.

    Progress and scores are not joined here: they are looked up for a batch of
    rows at a time (:func:`_rows`), so the first rows stream at once instead of
    after an aggregate over every person.
    """
    end = filters.day_end
    query = (
        select(
            StaffMember.id.label("staff_id"),
            StaffMember.user_id,
            StaffMember.codice_fiscale,
            StaffMember.last_name,
            StaffMember.first_name,
            StaffMember.email,
            StaffMember.category,
            Authority.code.label("authority_code"),
            Authority.name.label("authority_name"),
            Region.code.label("region_code"),
            Enrolment.course_id,
            Course.slug.label("course_slug"),
            Course.title.label("course_title"),
            cast(func.round(Course.hours * 100), Integer).label("course_hours"),
            Enrolment.enrolled_at,
            Enrolment.due_on,
            CourseCompletion.completed_at,
        )
        .select_from(Enrolment)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(Region, Region.id == Authority.region_id)
        .join(Course, Course.id == Enrolment.course_id)
        .outerjoin(
            CourseCompletion,
            filters.completion_of(StaffMember.user_id, Enrolment.course_id),
        )
        .where(filters.authority_clause(), filters.staff_clause(), Enrolment.enrolled_at < end)
        .order_by(
            Region.less_developed.desc(),
            Region.code,
            Authority.code,
            StaffMember.last_name,
            StaffMember.first_name,
            StaffMember.codice_fiscale,
            Course.slug,
        )
    )
    if filters.course is not None:
        query = query.where(Enrolment.course_id == filters.course.id)
    return query


@dataclass(frozen=True)
class _Context:
    """What shaping a batch of rows needs besides the rows."""

    filters: ReportFilters
    modules: dict[int, int]
    progress: Lookup
    scores: Lookup


def _rows(
    filters: ReportFilters, batch: Sequence[Row], modules: dict[int, int]
) -> list[LearnerRow]:
    """A batch of report rows: two set-based lookups for the batch's people, then shaping."""
    user_ids = sorted({row.user_id for row in batch if row.user_id is not None})
    context = _Context(
        filters,
        modules,
        _progress(filters, user_ids) if user_ids else {},
        _scores(filters, user_ids) if user_ids else {},
    )
    return [_row(context, row) for row in batch]


def _row(context: _Context, row: Row) -> LearnerRow:
    """Shape one enrolment: status, progress and score from the batch's lookups."""
    filters = context.filters
    key = (row.user_id, row.course_id)
    started, done = context.progress.get(key, (0, 0))
    score_total, quizzes = context.scores.get(key, (0, 0))
    completed_at: datetime | None = row.completed_at
    if completed_at is not None:
        status = COMPLETED
    elif row.due_on is not None and row.due_on < filters.as_of:
        status = OVERDUE
    elif started or quizzes:
        status = IN_PROGRESS
    else:
        status = NOT_STARTED
    if completed_at is not None:
        progress = Decimal("100.0")
    else:
        ratio = percent(done, context.modules.get(row.course_id, 0))
        progress = Decimal("0.0") if ratio is None else ratio
    # A mean of hundredths of a percent: sum / (quizzes × 100), × 100 again by percent().
    score = percent(score_total, quizzes * 10_000) if quizzes else None
    return LearnerRow(
        row.codice_fiscale,
        row.last_name,
        row.first_name,
        row.email,
        row.authority_code,
        row.authority_name,
        row.region_code,
        row.category.value,
        row.course_slug,
        _italian_day(row.enrolled_at),
        row.due_on,
        status,
        progress,
        score,
        _italian_day(completed_at) if completed_at is not None else None,
        _hours(row.course_hours) if completed_at is not None else ZERO,
        row.staff_id,
        row.course_title,
    )


ZERO = Decimal(0)


@lru_cache(maxsize=4096)
def _hours(course_hours: int) -> Decimal:
    return hundredths(course_hours)


def _italian_day(moment: datetime) -> date:
    """:func:`rome_date`, remembered per UTC hour (Italy's offset is whole hours)."""
    return _italian_day_of_hour(moment.date(), moment.hour)


@lru_cache(maxsize=65536)
def _italian_day_of_hour(day: date, hour: int) -> date:
    return rome_date(datetime.combine(day, time(hour), UTC))


def learner_rows(filters: ReportFilters) -> Iterator[LearnerRow]:
    """Every row of the report, streamed from the database in batches."""
    modules = _active_modules(filters)
    # Core execution (no ORM row processing): a million rows go through here.
    connection = db.session.connection()
    result = connection.execute(learner_query(filters).execution_options(yield_per=BATCH))
    for batch in result.partitions():
        yield from _rows(filters, batch, modules)


def learner_page(
    filters: ReportFilters, *, page: int, per_page: int
) -> tuple[list[LearnerRow], int]:
    """One page of the report (for the authority page) and the number of rows in all."""
    query = learner_query(filters)
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    batch = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return _rows(filters, batch, _active_modules(filters)), int(count or 0)
