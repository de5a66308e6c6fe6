"""The learner detail report: one row per enrolment, as ``staff-and-reports.md`` defines it.

One query, streamed: the enrolments of the staff in scope joined to per-person,
per-course summaries of module progress and quiz scores. Only the dates and the
status are worked out in Python, row by row, while streaming.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Integer, Select, and_, case, cast, func, or_, select
from sqlalchemy.sql.selectable import Subquery

from lms.assessments.models import QuizAttempt
from lms.core.types import rome_date
from lms.courses.models import Course, Module, ModuleKind
from lms.enrolments.models import CourseCompletion, Enrolment, ModuleProgress
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


@dataclass(frozen=True)
class LearnerRow:
    """One enrolment as the report shows it."""

    staff_id: int
    codice_fiscale: str
    last_name: str
    first_name: str
    email: str
    authority_code: str
    authority: str
    region_code: str
    category: str
    course: str
    course_title: str
    enrolled_on: date
    due_on: date | None
    status: str
    progress_pct: Decimal
    best_score_pct: Decimal | None
    completed_on: date | None
    hours: Decimal

    def cells(self) -> list[object]:
        """The values in the order of :data:`COLUMNS`."""
        return [getattr(self, name) for name in COLUMNS]


def _active_modules(filters: ReportFilters) -> Subquery:
    """Per course: modules not retired at the end of the as-of day."""
    end = filters.day_end
    return (
        select(Module.course_id, func.count().label("modules"))
        .where(or_(Module.retired_at.is_(None), Module.retired_at >= end))
        .group_by(Module.course_id)
        .subquery("active_modules")
    )


def _progress(filters: ReportFilters, staff: Subquery) -> Subquery:
    """Per person and course: modules started and completed by the end of the as-of day."""
    end = filters.day_end
    return (
        select(
            ModuleProgress.user_id,
            Module.course_id,
            func.count().label("started"),
            func.sum(case((ModuleProgress.completed_at < end, 1), else_=0)).label("done"),
        )
        .join(staff, staff.c.user_id == ModuleProgress.user_id)
        .join(Module, Module.id == ModuleProgress.module_id)
        .where(
            ModuleProgress.started_at < end,
            or_(Module.retired_at.is_(None), Module.retired_at >= end),
        )
        .group_by(ModuleProgress.user_id, Module.course_id)
        .subquery("progress")
    )


def _scores(filters: ReportFilters, staff: Subquery) -> Subquery:
    """Per person and course: the sum of the best score on each quiz, and how many quizzes."""
    end = filters.day_end
    best = (
        select(
            QuizAttempt.user_id,
            Module.course_id,
            cast(func.round(func.max(QuizAttempt.score_pct) * 100), Integer).label("best"),
        )
        .join(staff, staff.c.user_id == QuizAttempt.user_id)
        .join(Module, Module.id == QuizAttempt.module_id)
        .where(
            QuizAttempt.submitted_at < end,
            QuizAttempt.score_pct.is_not(None),
            Module.kind == ModuleKind.QUIZ,
            or_(Module.retired_at.is_(None), Module.retired_at >= end),
        )
        .group_by(QuizAttempt.user_id, Module.course_id, QuizAttempt.module_id)
        .subquery("best_per_quiz")
    )
    return (
        select(
            best.c.user_id,
            best.c.course_id,
            func.sum(best.c.best).label("score"),
            func.count().label("quizzes"),
        )
        .group_by(best.c.user_id, best.c.course_id)
        .subquery("scores")
    )


def _staff(filters: ReportFilters) -> Subquery:
    return (
        select(StaffMember.id.label("staff_id"), StaffMember.user_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .where(filters.authority_clause(), filters.staff_clause())
        .subquery("staff")
    )


def learner_query(filters: ReportFilters) -> Select:
    """The report's rows, in order: region, authority, person, course."""
    end = filters.day_end
    staff = _staff(filters)
    active = _active_modules(filters)
    progress = _progress(filters, staff)
    scores = _scores(filters, staff)
    query = (
        select(
            StaffMember.id.label("staff_id"),
            StaffMember.codice_fiscale,
            StaffMember.last_name,
            StaffMember.first_name,
            StaffMember.email,
            StaffMember.category,
            Authority.code.label("authority_code"),
            Authority.name.label("authority_name"),
            Region.code.label("region_code"),
            Course.slug.label("course_slug"),
            Course.title.label("course_title"),
            cast(func.round(Course.hours * 100), Integer).label("course_hours"),
            Enrolment.enrolled_at,
            Enrolment.due_on,
            CourseCompletion.completed_at,
            func.coalesce(active.c.modules, 0).label("modules"),
            func.coalesce(progress.c.started, 0).label("started"),
            func.coalesce(progress.c.done, 0).label("done"),
            scores.c.score,
            scores.c.quizzes,
        )
        .select_from(Enrolment)
        .join(staff, staff.c.staff_id == Enrolment.staff_id)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .join(Region, Region.id == Authority.region_id)
        .join(Course, Course.id == Enrolment.course_id)
        .outerjoin(active, active.c.course_id == Enrolment.course_id)
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.user_id == StaffMember.user_id,
                CourseCompletion.course_id == Enrolment.course_id,
                CourseCompletion.completed_at < end,
            ),
        )
        .outerjoin(
            progress,
            and_(
                progress.c.user_id == StaffMember.user_id,
                progress.c.course_id == Enrolment.course_id,
            ),
        )
        .outerjoin(
            scores,
            and_(
                scores.c.user_id == StaffMember.user_id,
                scores.c.course_id == Enrolment.course_id,
            ),
        )
        .where(Enrolment.enrolled_at < end)
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


def _row(filters: ReportFilters, row: object) -> LearnerRow:
    completed_at: datetime | None = row.completed_at
    if completed_at is not None:
        status = COMPLETED
    elif row.due_on is not None and row.due_on < filters.as_of:
        status = OVERDUE
    elif row.started or row.quizzes:
        status = IN_PROGRESS
    else:
        status = NOT_STARTED
    if completed_at is not None:
        progress = Decimal("100.0")
    else:
        ratio = percent(int(row.done), int(row.modules))
        progress = Decimal("0.0") if ratio is None else ratio
    score = percent(int(row.score), int(row.quizzes) * 10_000) if row.quizzes else None
    return LearnerRow(
        staff_id=row.staff_id,
        codice_fiscale=row.codice_fiscale,
        last_name=row.last_name,
        first_name=row.first_name,
        email=row.email,
        authority_code=row.authority_code,
        authority=row.authority_name,
        region_code=row.region_code,
        category=row.category.value,
        course=row.course_slug,
        course_title=row.course_title,
        enrolled_on=rome_date(row.enrolled_at),
        due_on=row.due_on,
        status=status,
        progress_pct=progress,
        best_score_pct=score,
        completed_on=rome_date(completed_at) if completed_at is not None else None,
        hours=hundredths(int(row.course_hours)) if completed_at is not None else Decimal(0),
    )


def learner_rows(filters: ReportFilters) -> Iterator[LearnerRow]:
    """Every row of the report, streamed from the database in batches."""
    query = learner_query(filters).execution_options(yield_per=BATCH)
    for row in db.session.execute(query):
        yield _row(filters, row)


def learner_page(
    filters: ReportFilters, *, page: int, per_page: int
) -> tuple[list[LearnerRow], int]:
    """One page of the report (for the authority page) and the number of rows in all."""
    query = learner_query(filters)
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    return [_row(filters, row) for row in rows], int(count or 0)
