"""The learner detail report: one row per enrolment, as ``staff-and-reports.md`` defines it.

Two paths, for the same rows:

- as of today (``ReportFilters.uses_facts``): ONE ordered query over the facts
  table (``course_facts``), the status, progress, score and hours worked out in
  SQL, the same on SQLite and PostgreSQL. For the CSV the database writes each
  line too (:func:`learner_csv_chunks`: escaped, quoted as ``csv.writer``
  quotes), so Python only joins a batch of lines and encodes it, with no
  object per cell. (PostgreSQL's ``COPY … TO STDOUT WITH (FORMAT csv)`` was
  tried: the same bytes once empty texts are NULL and each row's LF is made
  CRLF, but slower than these lines through a server-side cursor.) Pages and
  the XLSX get typed rows from the same query (:func:`learner_rows`).
- as of an earlier day (the exact path): one query streams the enrolments of the
  staff in scope, in order; for each batch of rows, two set-based queries fetch
  the batch's people's module progress and best quiz scores per course (no query
  per row, and the first rows go out at once instead of after an aggregate over
  every person). The dates in Italy, the status and the ratios are worked out in
  Python while streaming.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlalchemy.sql.functions import FunctionElement

from lms.assessments.models import QuizAttempt
from lms.core.export import FORMULA_STARTS, csv_chunks, csv_line_chunks
from lms.core.types import rome_date
from lms.courses.models import Course, CourseCompletion, Module, ModuleProgress
from lms.enrolments.facts import apply_pending
from lms.enrolments.models import CourseFacts, Enrolment
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


#: The people's order in the report (both paths): region (less developed first),
#: authority, person; each person's courses follow by slug (:func:`_people`'s position).
_PEOPLE_ORDER = (
    Region.less_developed.desc(),
    Region.code,
    Authority.code,
    StaffMember.last_name,
    StaffMember.first_name,
    StaffMember.codice_fiscale,
)


def learner_query(filters: ReportFilters) -> Select:
    """The report's enrolments (the exact path), in order: region, authority, person, course.

    The people come from :func:`_people`, as on the facts' path: each person's
    place in the order is one integer worked out over the staff (100,000 rows),
    so the sort of the enrolments (a million) is on that integer and the course
    rather than on six texts per row. Progress and scores are not joined here:
    they are looked up for a batch of rows at a time (:func:`_rows`).
    """
    end = filters.day_end
    people = _people(filters, "typed")
    query = (
        select(
            people.c.staff_id,
            people.c.user_id,
            people.c.codice_fiscale,
            people.c.last_name,
            people.c.first_name,
            people.c.email,
            people.c.category,
            people.c.authority_code,
            people.c.authority.label("authority_name"),
            people.c.region_code,
            Enrolment.course_id,
            Course.slug.label("course_slug"),
            Course.title.label("course_title"),
            cast(func.round(Course.hours * 100), Integer).label("course_hours"),
            Enrolment.enrolled_at,
            Enrolment.due_on,
            CourseCompletion.completed_at,
        )
        .select_from(people)
        .join(Enrolment, Enrolment.staff_id == people.c.staff_id)
        .join(Course, Course.id == _unindexed(Enrolment.course_id))
        .outerjoin(
            CourseCompletion,
            filters.completion_of(people.c.user_id, Enrolment.course_id),
        )
        .where(Enrolment.enrolled_at < end)
        .order_by(people.c.position, Course.slug)
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
    """Every row of the report, streamed from the database in batches (typed, for the XLSX)."""
    # Core execution (no ORM row processing): a million rows go through here.
    connection = db.session.connection()
    if filters.uses_facts:
        apply_pending()  # a change not yet committed in this session is in the report too
        result = connection.execute(
            _facts_query(filters, "typed").execution_options(yield_per=BATCH)
        )
        for batch in result.partitions():
            for row in batch:
                yield _facts_row(row)
        return
    modules = _active_modules(filters)
    result = connection.execute(learner_query(filters).execution_options(yield_per=BATCH))
    for batch in result.partitions():
        yield from _rows(filters, batch, modules)


def learner_page(
    filters: ReportFilters, *, page: int, per_page: int
) -> tuple[list[LearnerRow], int]:
    """One page of the report (for the authority page) and the number of rows in all."""
    if filters.uses_facts:
        apply_pending()
        query = _facts_query(filters, "typed")
        rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
        count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        return [_facts_row(row) for row in rows], int(count or 0)
    query = learner_query(filters)
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    batch = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return _rows(filters, batch, _active_modules(filters)), int(count or 0)


def learner_csv_chunks(filters: ReportFilters) -> Iterator[bytes]:
    """The report as the programme's CSV (:func:`lms.core.export.csv_chunks`'s bytes), streamed.

    As of today the database writes each line (:func:`_facts_query`, shape
    ``lines``): a batch of lines is joined and encoded at once, with no Python
    object per cell. An earlier day takes the typed rows of the exact path
    through :func:`~lms.core.export.csv_chunks`. Same bytes either way
    (``tests/test_learner_csv_fast.py``).
    """
    if not filters.uses_facts:
        yield from csv_chunks(COLUMNS, (row.cells() for row in learner_rows(filters)))
        return
    apply_pending()
    connection = db.session.connection()
    result = connection.execute(_facts_query(filters, "lines").execution_options(yield_per=BATCH))
    yield from csv_line_chunks(
        COLUMNS, ([row[0] for row in batch] for batch in result.partitions())
    )


_TENTHS = [Decimal(tenths).scaleb(-1) for tenths in range(1001)]


def _tenths(value: int) -> Decimal:
    """Tenths as :func:`lms.reports.coverage.percent` returns them (a million rows: a table)."""
    return _TENTHS[value] if 0 <= value <= 1000 else Decimal(value).scaleb(-1)  # noqa: PLR2004


def _facts_row(row: Row) -> LearnerRow:
    """One row of the facts query's typed shape as the report's row."""
    completed = row.completed_on is not None
    return LearnerRow(
        row.codice_fiscale,
        row.last_name,
        row.first_name,
        row.email,
        row.authority_code,
        row.authority,
        row.region_code,
        row.category.value,
        row.course_slug,
        row.enrolled_on,
        row.due_on,
        row.status,
        _tenths(row.progress_tenths),
        None if row.score_tenths is None else _tenths(row.score_tenths),
        row.completed_on,
        _hours(row.hours_hundredths) if completed else ZERO,
        row.staff_id,
        row.course_title,
    )


# The facts path (as of today) -----------------------------------------------------------


class _iso_day(FunctionElement[str]):  # noqa: N801 - used like a SQL function
    """A DATE as its ISO text (``2026-03-01``), as :meth:`datetime.date.isoformat` writes it.

    SQLite keeps a date as that text already; PostgreSQL's own text of a date
    depends on the server's ``DateStyle``, so it is spelt out with ``to_char``.
    """

    type = String()
    inherit_cache = True
    name = "iso_day"


@compiles(_iso_day, "sqlite")
def _iso_day_sqlite(element: _iso_day, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_iso_day, "postgresql")
def _iso_day_postgresql(element: _iso_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


def _text(value: SQLCoreOperations[Any]) -> ColumnElement[str]:
    return cast(value, String)


def _escaped(value: SQLCoreOperations[Any]) -> ColumnElement[str]:
    """*value* as :func:`lms.core.export.escape_text` writes it, in SQL.

    Names, e-mails and authorities come from spreadsheets: a cell that begins like
    a formula gets a leading ``'``, exactly as the typed path does in Python.
    """
    return case(
        (func.substr(value, 1, 1).in_(FORMULA_STARTS), literal("'", String) + value),
        else_=value,
    )


def _tenths_text(tenths: ColumnElement[int]) -> ColumnElement[str]:
    """A whole number of tenths as text with one decimal (``533`` → ``53.3``), like ``percent()``.

    ``t - t / 10 * 10`` rather than ``%``: the same integer arithmetic on both
    databases, with no ``%`` for psycopg's placeholders to escape.
    """
    whole = tenths // 10
    return _text(whole) + literal(".", String) + _text(tenths - whole * 10)


def _hundredths_text(amount: ColumnElement[int]) -> ColumnElement[str]:
    """Whole hundredths as :func:`lms.reports.coverage.hundredths` writes them (8, 1.5, 0.25)."""
    whole = amount // 100
    cents = amount - whole * 100
    tenth = cents // 10
    return case(
        (cents == 0, _text(whole)),
        (cents - tenth * 10 == 0, _text(whole) + literal(".", String) + _text(tenth)),
        (cents < 10, _text(whole) + literal(".0", String) + _text(cents)),  # noqa: PLR2004
        else_=_text(whole) + literal(".", String) + _text(cents),
    )


class _unindexed(FunctionElement[int]):  # noqa: N801 - used like a SQL function
    """A column SQLite must not look up by its index (``+column``), for the join order.

    Left to itself SQLite drives the facts query from the thirty courses and
    reads ``course_facts`` through its course index, a million scattered reads;
    the person first, then that person's facts in primary-key order, is about
    twice as fast. PostgreSQL plans hash joins and gets the column as it is.
    """

    type = Integer()
    inherit_cache = True
    name = "unindexed"


@compiles(_unindexed)
def _unindexed_default(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_unindexed, "sqlite")
def _unindexed_sqlite(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


class _has_char(FunctionElement[bool]):  # noqa: N801 - used like a SQL function
    """Whether a text contains a character (``instr`` on SQLite, ``strpos`` on PostgreSQL)."""

    type = Boolean()
    inherit_cache = True
    name = "has_char"


@compiles(_has_char, "sqlite")
def _has_char_sqlite(element: _has_char, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(instr({compiler.process(element.clauses, **kw)}) > 0)"


@compiles(_has_char, "postgresql")
def _has_char_postgresql(element: _has_char, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(strpos({compiler.process(element.clauses, **kw)}) > 0)"


def _quoted(value: SQLCoreOperations[Any]) -> ColumnElement[str]:
    r"""*value* as one field of ``csv.writer``'s default dialect (``QUOTE_MINIMAL``), in SQL.

    Python's writer quotes a field that holds the delimiter, the quote or a line
    break (``\r``, ``\n``), and doubles the quotes inside; nothing else
    (``tests/test_learner_csv_fast.py`` compares the two on awkward texts).
    """
    quote = literal('"', String)
    return case(
        (_has_char(value, quote), quote + func.replace(value, quote, '""') + quote),
        (
            or_(*(_has_char(value, literal(c, String)) for c in (",", "\r", "\n"))),
            quote + value + quote,
        ),
        else_=value,
    )


def _joined(cells: Sequence[SQLCoreOperations[Any]]) -> ColumnElement[str]:
    """Cells (NULL: empty) joined by commas: a piece of a CSV line."""
    line: ColumnElement[str] = func.coalesce(cells[0], "")
    for value in cells[1:]:
        line = line + literal(",", String) + func.coalesce(value, "")
    return line


#: What the facts query returns: typed values for pages and the XLSX, or whole
#: CSV lines, escaped and quoted by the database as the CSV writer does.
Shape = Literal["typed", "lines"]

_PERSON_CELLS = (
    "codice_fiscale",
    "last_name",
    "first_name",
    "email",
    "authority_code",
    "authority",
    "region_code",
)


def _people(filters: ReportFilters, shape: Shape) -> Any:
    """The staff in the report, once each: their cells and their place in the report's order.

    A materialised CTE: the person's cells (escaped, for the CSV) are worked out
    once per person rather than once per enrolment, and the big sort is then on
    one integer (``position``) and the course instead of six texts.
    """
    staff, authority, region = StaffMember, Authority, Region
    position = func.row_number().over(order_by=_PEOPLE_ORDER).label("position")
    texts = (
        staff.codice_fiscale,
        staff.last_name,
        staff.first_name,
        staff.email,
        authority.code,
        authority.name,
        region.code,
    )
    # An enum's value (new_hire, existing): never a formula, nothing to quote.
    category = cast(staff.category, String)
    cells: list[Any]
    if shape == "typed":
        cells = [column.label(name) for column, name in zip(texts, _PERSON_CELLS, strict=True)]
        cells.append(staff.category)
    else:
        line = _joined([*(_quoted(_escaped(column)) for column in texts), category])
        cells = [line.label("cells")]
    return (
        select(staff.id.label("staff_id"), staff.user_id, position, *cells)
        .join(authority, authority.id == staff.authority_id)
        .join(region, region.id == authority.region_id)
        .where(filters.authority_clause(), filters.staff_clause())
        .cte("people")
        .prefix_with("MATERIALIZED")
    )


def _courses(filters: ReportFilters) -> Any:
    """Per course (a few dozen): its current required modules, hours and cells, worked out once."""
    counted = (
        select(Module.course_id, func.count().label("modules"))
        .where(filters.module_counted())
        .group_by(Module.course_id)
        .subquery("counted")
    )
    hours = cast(func.round(Course.hours * 100), Integer)
    slug = _quoted(_escaped(Course.slug))
    return (
        select(
            Course.id,
            Course.slug,
            Course.title,
            func.coalesce(counted.c.modules, 0).label("modules"),
            hours.label("hours"),
            slug.label("slug_cell"),
            _hundredths_text(hours).label("hours_cell"),
        )
        .outerjoin(counted, counted.c.course_id == Course.id)
        .subquery("course_cells")
    )


def _facts_query(filters: ReportFilters, shape: Shape) -> Select:
    """The report from ``course_facts``, in the report's order, in *shape*.

    The definitions of ``docs/reports.md`` over one row of the facts, in SQL (the
    same statement on SQLite and PostgreSQL); for the CSV's shapes, the cells of
    :data:`COLUMNS` as the CSV writes them: escaped, ISO days, one-decimal
    ratios, hours as :func:`lms.reports.coverage.hundredths` writes them.
    """
    facts = CourseFacts
    people = _people(filters, shape)
    course = _courses(filters)
    modules = course.c.modules
    completed = facts.completed_at.is_not(None)
    status = case(
        (completed, literal(COMPLETED, String)),
        (facts.due_on < filters.as_of, literal(OVERDUE, String)),
        (facts.started.is_(True), literal(IN_PROGRESS, String)),
        else_=literal(NOT_STARTED, String),
    )
    # percent(done, modules) in tenths: floor((done × 1000 + modules / 2) / modules),
    # in integers; no module to count: 0.0; completed: 100.0 (the completion stands).
    progress = (facts.modules_done * 2000 + modules) // (modules * 2)
    # percent(score, quizzes × 10,000) in tenths, divided through by 2,000 (no overflow).
    score = (facts.score_hundredths + facts.quizzes * 5) // (facts.quizzes * 10)
    columns: list[Any]
    if shape == "typed":
        columns = [
            people.c.staff_id,
            *(people.c[name] for name in _PERSON_CELLS),
            people.c.category,
            course.c.slug.label("course_slug"),
            course.c.title.label("course_title"),
            facts.enrolled_on,
            facts.due_on,
            status.label("status"),
            case((completed, 1000), (modules == 0, 0), else_=progress).label("progress_tenths"),
            case((facts.quizzes > 0, score), else_=None).label("score_tenths"),
            facts.completed_on,
            case((completed, course.c.hours), else_=0).label("hours_hundredths"),
        ]
    else:
        row_cells = [
            course.c.slug_cell,
            _iso_day(facts.enrolled_on),
            _iso_day(facts.due_on),
            status,
            case(
                (completed, literal("100.0", String)),
                (modules == 0, literal("0.0", String)),
                else_=_tenths_text(progress),
            ),
            case((facts.quizzes > 0, _tenths_text(score)), else_=None),
            _iso_day(facts.completed_on),
            case((completed, course.c.hours_cell), else_=literal("0", String)),
        ]
        columns = [people.c.cells + literal(",", String) + _joined(row_cells)]
    query = (
        select(*columns)
        .select_from(people)
        .join(facts, facts.staff_id == people.c.staff_id)
        .join(course, course.c.id == _unindexed(facts.course_id))
        .where(facts.enrolled_at.is_not(None))  # a row for scores only is no enrolment
        .order_by(people.c.position, course.c.slug)
    )
    if filters.course is not None:
        query = query.where(facts.course_id == filters.course.id)
    return query
