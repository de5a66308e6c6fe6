"""Progress and completion rules: module visits and completions, course completions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, insert, literal, select
from sqlalchemy.exc import IntegrityError

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
    try:
        with db.session.begin_nested():
            progress = ModuleProgress(
                user_id=user.id, module_id=module.id, started_at=now, last_seen_at=now
            )
            db.session.add(progress)
    except IntegrityError:
        # Another request (a second tab) created it first: use that one.
        progress = db.session.scalar(query)
        assert progress is not None  # noqa: S101 - the unique constraint guarantees it
    return progress


def record_visit(user: User, module: Module, now: datetime | None = None) -> ModuleProgress:
    """Note that *user* opened *module*: start it, and count the reading time."""
    now = now or utcnow()
    progress = _get_or_create_progress(user, module, now)
    gap = now - progress.last_seen_at
    if timedelta(0) < gap <= MAX_COUNTED_GAP:
        progress.seconds_spent += int(gap.total_seconds())
    progress.last_seen_at = now
    db.session.flush()
    return progress


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
