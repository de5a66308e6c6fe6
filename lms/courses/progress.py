"""Progress and completion rules: module visits and completions, course completions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Update,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from lms.auth.models import User
from lms.core.sql import rowcount
from lms.core.types import utcnow
from lms.courses.models import Course, CourseCompletion, Module, ModuleProgress
from lms.extensions import db

#: A gap longer than this between two views of a module is not counted as reading.
MAX_COUNTED_GAP = timedelta(minutes=30)


def _get_or_create_progress(user: User, module: Module, now: datetime) -> ModuleProgress:
    """The person's progress row on *module*, created on first sight (race-safe)."""
    query = select(ModuleProgress).where(
        ModuleProgress.user_id == user.id, ModuleProgress.module_id == module.id
    )
    progress = db.session.scalar(query)
    if progress is not None:
        return progress
    progress = _new_progress(user, module, now)
    if progress is None:
        # Another request (a second tab) created it first: use that one.
        progress = db.session.scalar(query)
        assert progress is not None  # noqa: S101 - the unique constraint guarantees it
    return progress


def _new_progress(user: User, module: Module, now: datetime) -> ModuleProgress | None:
    """A first visit's row, through the ORM session; None if another request made it first."""
    try:
        with db.session.begin_nested():
            progress = ModuleProgress(
                user_id=user.id, module_id=module.id, started_at=now, last_seen_at=now
            )
            db.session.add(progress)
    except IntegrityError:
        return None
    return progress


def record_visit(
    user: User, module: Module, now: datetime | None = None, *, started: bool | None = None
) -> ModuleProgress:
    """Note that *user* opened *module*: start it, and count the reading time.

    A repeat visit is one UPDATE that adds the gap since the last view in SQL
    (:func:`_count_visit`): two tabs at once cannot lose each other's time, since
    each adds to the row as the other left it. The first visit creates the row
    through the ORM session (listeners see a new :class:`ModuleProgress`).
    *started*, when the caller knows it (the module page's outline has read the
    row): the visit is then that one statement; unknown, a SELECT comes first.
    """
    now = now or utcnow()
    if started is None:
        # Unknown: a read first, which takes no write lock when the row is not there
        # (on SQLite an UPDATE locks the database even when it matches nothing).
        started = (
            db.session.scalar(
                select(ModuleProgress.id).where(
                    ModuleProgress.user_id == user.id, ModuleProgress.module_id == module.id
                )
            )
            is not None
        )
    if started:
        counted = _count_visit(user, module, now)
        if counted is not None:
            return counted
    progress = _new_progress(user, module, now)
    if progress is None:
        # Another request (a second tab) created it first: this visit counts on its row.
        counted = _count_visit(user, module, now)
        assert counted is not None  # noqa: S101 - the unique constraint guarantees it
        return counted
    return progress


#: The Unix epoch, for moments as whole microseconds (exact, unlike a float of seconds).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class epoch_microseconds(FunctionElement[int]):  # noqa: N801 - used like a SQL function
    """A :class:`~lms.core.types.UTCDateTime` column as microseconds since the epoch, exactly.

    SQLite keeps such a moment as UTC text, ``YYYY-MM-DD HH:MM:SS.ffffff``: whole
    seconds from ``strftime('%s')`` of its first 19 characters, the microseconds from
    the rest (SQLite's date functions keep only milliseconds). PostgreSQL's
    ``EXTRACT(EPOCH …)`` is an exact numeric.
    """

    type = BigInteger()
    inherit_cache = True
    name = "epoch_microseconds"


@compiles(epoch_microseconds, "sqlite")
def _epoch_microseconds_sqlite(
    element: epoch_microseconds, compiler: SQLCompiler, **kw: Any
) -> str:
    moment = compiler.process(element.clauses, **kw)
    # The whole seconds from the text without its fraction: SQLite's date functions round
    # to milliseconds (…:59.9999995 would read as the next second). The fraction padded
    # with zeros: a value written without one (or with fewer digits) reads right.
    return (
        f"(CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({moment} || '000000', 21, 6) AS INTEGER))"
    )


@compiles(epoch_microseconds, "postgresql")
def _epoch_microseconds_postgresql(
    element: epoch_microseconds, compiler: SQLCompiler, **kw: Any
) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"CAST(EXTRACT(EPOCH FROM {moment}) * 1000000 AS BIGINT)"


def _count_visit(user: User, module: Module, now: datetime) -> ModuleProgress | None:
    """Add the gap since the last view to the person's row, in one UPDATE; None: no row yet.

    The gap counts when it is in (0, :data:`MAX_COUNTED_GAP`], in whole seconds
    (truncated, as ``int(gap.total_seconds())`` did). The test compares the stored
    moment with bound ones; the seconds come from exact microseconds. The UPDATE
    reads the row as it is when it runs (a second tab's write included: nothing is
    lost). ``last_seen_at`` only moves forward: a request that started earlier but
    writes later (or a clock set back) does not make the next view count again.
    """
    values = {
        "visit_user": user.id,
        "visit_module": module.id,
        "visit_now": now,
        "visit_counted_from": now - MAX_COUNTED_GAP,
        "visit_now_us": (now - _EPOCH) // _MICROSECOND,
    }
    return db.session.scalars(
        _visit_update(),
        values,
        execution_options={"synchronize_session": False, "populate_existing": True},
    ).one_or_none()


@cache
def _visit_update() -> Update:
    """:func:`_count_visit`'s UPDATE, built once: its values are bound parameters.

    Building it took longer than running it. The parameters are not named after
    columns: a listener reading an UPDATE's parameters as the columns it writes
    (lms.enrolments.facts) must not take the visit for a change of the row's keys.
    """
    last = ModuleProgress.last_seen_at
    now = bindparam("visit_now", type_=last.type)
    counted = and_(last < now, last >= bindparam("visit_counted_from", type_=last.type))
    seconds = (bindparam("visit_now_us", type_=BigInteger) - epoch_microseconds(last)) // 1_000_000
    return (
        sql_update(ModuleProgress)
        .where(
            ModuleProgress.user_id == bindparam("visit_user", type_=Integer),
            ModuleProgress.module_id == bindparam("visit_module", type_=Integer),
        )
        .values(
            seconds_spent=ModuleProgress.seconds_spent + case((counted, seconds), else_=0),
            last_seen_at=case((last < now, now), else_=last),
        )
        .returning(ModuleProgress)
    )


def complete_module(user: User, module: Module, now: datetime | None = None) -> bool:
    """Mark *module* completed for *user*; return whether the course is now complete."""
    now = now or utcnow()
    progress = _get_or_create_progress(user, module, now)
    if progress.completed_at is None:
        progress.completed_at = now
    db.session.flush()
    return record_course_completion_if_due(user, module.course, now)


def counted_module(course_id: int) -> ColumnElement[bool]:
    """WHERE clause on :class:`Module`: the course's modules that count for completion.

    Current (not retired) and required: a module with ``required: false`` (an
    optional survey) is offered but not needed to complete the course.
    """
    return and_(
        Module.course_id == course_id, Module.retired_at.is_(None), Module.required.is_(True)
    )


def course_is_complete(user: User, course: Course) -> bool:
    """Every current required module of *course* is completed by *user*.

    A quiz module is completed only by a passing attempt, so this one rule also
    says "every quiz passed". Retired and optional modules do not count.
    """
    missing = (
        select(Module.id)
        .where(counted_module(course.id))
        .where(
            ~exists().where(
                ModuleProgress.module_id == Module.id,
                ModuleProgress.user_id == user.id,
                ModuleProgress.completed_at.is_not(None),
            )
        )
    )
    has_modules = db.session.scalar(select(func.count(Module.id)).where(counted_module(course.id)))
    return bool(has_modules) and db.session.scalar(select(exists(missing))) is False


def has_completed(user: User, course: Course) -> bool:
    """Whether *user*'s completion of *course* is recorded (once recorded, it stands)."""
    return (
        db.session.scalar(
            select(CourseCompletion.id).where(
                CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id
            )
        )
        is not None
    )


def record_course_completion_if_due(
    user: User, course: Course, now: datetime | None = None
) -> bool:
    """Record the course's completion when it is due; an earlier one stands."""
    already = db.session.scalar(
        select(CourseCompletion.id).where(
            CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id
        )
    )
    if already is not None:
        return True
    if not course_is_complete(user, course):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                CourseCompletion(user_id=user.id, course_id=course.id, completed_at=now or utcnow())
            )
    except IntegrityError:
        pass  # recorded by a concurrent request
    return True


def record_due_completions(course: Course, now: datetime | None = None) -> int:
    """Record the completions a change of the course made due (one set-based insert).

    When a learner's only missing module is retired (or made optional), the course
    becomes complete for them without any action of theirs; this records it, dated *now*.
    """
    now = now or utcnow()
    current = select(func.count(Module.id)).where(counted_module(course.id)).scalar_subquery()
    due = (
        select(
            ModuleProgress.user_id,
            literal(course.id),
            literal(now, CourseCompletion.completed_at.type),
        )
        .join(Module, Module.id == ModuleProgress.module_id)
        .where(
            counted_module(course.id),
            ModuleProgress.completed_at.is_not(None),
            ~exists().where(
                CourseCompletion.user_id == ModuleProgress.user_id,
                CourseCompletion.course_id == course.id,
            ),
        )
        .group_by(ModuleProgress.user_id)
        .having(func.count(ModuleProgress.id) == current, current > 0)
    )
    result = db.session.execute(
        insert(CourseCompletion).from_select(["user_id", "course_id", "completed_at"], due),
        execution_options={"preserve_rowcount": True},  # psycopg: else -1
    )
    return rowcount(result) or 0
