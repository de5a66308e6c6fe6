"""Reads for the catalogue, course overview and trainer statistics (set-based)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    distinct,
    func,
    select,
)

from lms.auth.models import Role, User
from lms.auth.permissions import Capability, can
from lms.core.sql import read_rows
from lms.courses.models import (
    Course,
    CourseCompletion,
    CourseStatus,
    Module,
    ModuleKind,
    ModuleProgress,
)
from lms.extensions import db

#: Statistics count learners (and HR managers, who are staff too), not the
#: trainers' and administrators' previews.
_LEARNERS = select(User.id).where(User.role.in_([Role.LEARNER, Role.HR]))


def visible_courses_clause(user: User) -> ColumnElement[bool]:
    """Courses *user* may see: published ones, and drafts for trainers and admins."""
    return _visible(drafts=can(user, Capability.VIEW_DRAFTS))


def _visible(*, drafts: bool) -> ColumnElement[bool]:
    clause = Course.retired_at.is_(None)
    if drafts:
        return clause
    return and_(clause, Course.status == CourseStatus.PUBLISHED)


def find_visible_course(user: User, slug: str) -> Course | None:
    """The course called *slug*, if *user* may see it."""
    return db.session.scalar(
        select(Course).where(Course.slug == slug, visible_courses_clause(user))
    )


class CourseHeading(NamedTuple):
    """What a list of a person's courses shows of each (the home page): plain columns.

    The home page reads a few dozen courses on every view; as ORM objects each
    cost an object, its state and the identity map's bookkeeping, about half
    the statement's time. The names are :class:`Course`'s, so a line reads
    either the same way.
    """

    id: int
    slug: str
    title: str
    hours: Decimal
    language: str
    status: CourseStatus
    retired_at: datetime | None


#: :class:`CourseHeading`'s columns, in its order.
HEADING_COLUMNS: Final = (
    Course.id,
    Course.slug,
    Course.title,
    Course.hours,
    Course.language,
    Course.status,
    Course.retired_at,
)


@dataclass(frozen=True)
class CatalogueEntry:
    """A course in the catalogue with the reader's progress on it.

    *course* is the ORM object (the catalogue's pages), or its heading where a
    statement was built with ``heading=True`` (:func:`heading_rows`).
    """

    course: Course | CourseHeading
    modules: int
    completed: int
    completed_at: datetime | None

    @property
    def progress_pct(self) -> int:
        """Share of the current required modules completed, in whole percent."""
        return round(100 * self.completed / self.modules) if self.modules else 0


def catalogue(user: User) -> list[CatalogueEntry]:
    """Visible courses with module counts and the reader's progress, in one statement."""
    statement = _catalogue(drafts=can(user, Capability.VIEW_DRAFTS))
    return [entry for entry, _extra in catalogue_rows(statement, user)]


@cache
def _catalogue(*, drafts: bool) -> Select[Any]:
    return catalogue_statement(drafts=drafts)


#: The reader in :func:`catalogue_statement` (columns added to it may use it too).
CATALOGUE_USER = "catalogue_user"


def catalogue_statement(
    *columns: ColumnElement[Any], drafts: bool, heading: bool = False
) -> Select[Any]:
    """The catalogue's statement: :func:`catalogue`, and per course the values of *columns*.

    Build it once and keep it (its reader is the bound parameter
    :data:`CATALOGUE_USER`; *drafts*: whether the reader sees drafts,
    :func:`visible_courses_clause`): building took longer than running it. Read
    it with :func:`catalogue_rows`. *columns* are read beside each course (scalar
    subqueries correlated to :class:`Course`, from a higher layer: the home page
    adds the person's enrolment in it). The counts are those of
    :func:`progress_on`: the current required modules, and those of them the
    reader completed.
    """
    user_id = bindparam(CATALOGUE_USER, type_=Integer)
    # The counts per course, each in one grouped pass joined to the courses: as
    # subqueries correlated to each course, PostgreSQL scanned the modules twice
    # a course (60 scans for 30 courses, most of the statement's time).
    required = and_(Module.retired_at.is_(None), Module.required.is_(True))
    modules = (
        select(Module.course_id, func.count(Module.id).label("modules"))
        .where(required)
        .group_by(Module.course_id)
        .subquery("required_modules")
    )
    done = (
        select(Module.course_id, func.count(ModuleProgress.id).label("done"))
        .join(ModuleProgress, ModuleProgress.module_id == Module.id)
        .where(
            required,
            ModuleProgress.user_id == user_id,
            ModuleProgress.completed_at.is_not(None),
        )
        .group_by(Module.course_id)
        .subquery("done_modules")
    )
    course = HEADING_COLUMNS if heading else (Course,)
    return (
        select(
            *course,
            modules.c.modules,  # NULL: none (the entries say 0)
            done.c.done,
            CourseCompletion.completed_at,
            *columns,
        )
        .outerjoin(modules, modules.c.course_id == Course.id)
        .outerjoin(done, done.c.course_id == Course.id)
        .outerjoin(  # at most one: unique (user, course)
            CourseCompletion,
            and_(CourseCompletion.course_id == Course.id, CourseCompletion.user_id == user_id),
        )
        .where(_visible(drafts=drafts))
        .order_by(Course.title)
    )


def catalogue_rows(
    statement: Select[Any], user: User
) -> list[tuple[CatalogueEntry, tuple[Any, ...]]]:
    """Run a :func:`catalogue_statement` for *user*: each entry with its extra columns."""
    rows = db.session.execute(statement, {CATALOGUE_USER: user.id}).all()
    return _entries(rows, 1, lambda row: row[0])


def heading_rows(
    statement: Select[Any], user: User
) -> list[tuple[CatalogueEntry, tuple[Any, ...]]]:
    """:func:`catalogue_rows` of a statement built with ``heading=True``: plain rows.

    Read past the ORM (:func:`~lms.core.sql.read_rows`), each course a
    :class:`CourseHeading`.
    """
    width = len(HEADING_COLUMNS)
    rows = read_rows(statement, {CATALOGUE_USER: user.id}).all()
    return _entries(rows, width, lambda row: CourseHeading(*row[:width]))


def _entries(
    rows: Sequence[Any], width: int, course_of: Callable[[Any], Course | CourseHeading]
) -> list[tuple[CatalogueEntry, tuple[Any, ...]]]:
    """Each row of a :func:`catalogue_statement` (its course in *width* columns) as an entry."""
    return [
        (
            CatalogueEntry(course_of(row), row[width] or 0, row[width + 1] or 0, row[width + 2]),
            tuple(row[width + 3 :]),
        )
        for row in rows
    ]


def progress_on(user_id: int | None, courses: list[Course]) -> list[CatalogueEntry]:
    """*courses* with their required module counts and one person's progress (set-based).

    Only current required modules count (an optional survey does not).
    *user_id* None (a staff member without an account) means no progress at all.
    """
    ids = [c.id for c in courses]
    if not ids:
        return []
    active = and_(Module.course_id.in_(ids), Module.retired_at.is_(None), Module.required.is_(True))
    counts = dict(
        db.session.execute(
            select(Module.course_id, func.count(Module.id)).where(active).group_by(Module.course_id)
        ).all()
    )
    done: dict[int, int] = {}
    completions: dict[int, datetime] = {}
    if user_id is not None:
        done = dict(
            db.session.execute(
                select(Module.course_id, func.count(ModuleProgress.id))
                .join(ModuleProgress, ModuleProgress.module_id == Module.id)
                .where(
                    active,
                    ModuleProgress.user_id == user_id,
                    ModuleProgress.completed_at.is_not(None),
                )
                .group_by(Module.course_id)
            ).all()
        )
        completions = dict(
            db.session.execute(
                select(CourseCompletion.course_id, CourseCompletion.completed_at).where(
                    CourseCompletion.user_id == user_id, CourseCompletion.course_id.in_(ids)
                )
            ).all()
        )
    return [
        CatalogueEntry(c, counts.get(c.id, 0), done.get(c.id, 0), completions.get(c.id))
        for c in courses
    ]


@dataclass(frozen=True)
class ModuleState:
    """A module as one learner sees it in the course overview."""

    module: Module
    started: bool
    completed: bool
    locked: bool


def course_outline(user: User, course: Course) -> list[ModuleState]:
    """The course's current modules with the reader's state; sequential courses lock ahead.

    An optional module (``required: false``) is locked like the others until the
    required modules before it are done, but never holds back the modules after it.
    """
    rows = db.session.execute(
        select(Module, ModuleProgress.started_at, ModuleProgress.completed_at)
        .outerjoin(
            ModuleProgress,
            and_(ModuleProgress.module_id == Module.id, ModuleProgress.user_id == user.id),
        )
        .where(Module.course_id == course.id, Module.retired_at.is_(None))
        .order_by(Module.position)
    ).all()
    return _states(user, course, [(m, started, completed) for m, started, completed in rows])


def visible_course_outline(user: User, slug: str) -> tuple[Course, list[ModuleState]] | None:
    """The course called *slug* if *user* may see it, with its outline: one statement.

    The same course and states as :func:`find_visible_course` then
    :func:`course_outline` (a module page reads both on every view): the course
    joined to its current modules and the reader's progress on each.
    """
    statement = _outline(drafts=can(user, Capability.VIEW_DRAFTS))
    rows = db.session.execute(statement, {"outline_slug": slug, "outline_user": user.id}).all()
    if not rows:
        return None
    course = rows[0][0]
    modules = [(m, started, completed) for _c, m, started, completed in rows if m is not None]
    return course, _states(user, course, modules)


@cache
def _outline(*, drafts: bool) -> Select[Course, Module, datetime, datetime | None]:
    """:func:`visible_course_outline`'s statement, built once (it took longer than a run)."""
    return (
        select(Course, Module, ModuleProgress.started_at, ModuleProgress.completed_at)
        .outerjoin(Module, and_(Module.course_id == Course.id, Module.retired_at.is_(None)))
        .outerjoin(
            ModuleProgress,
            and_(
                ModuleProgress.module_id == Module.id,
                ModuleProgress.user_id == bindparam("outline_user", type_=Integer),
            ),
        )
        .where(Course.slug == bindparam("outline_slug", type_=String), _visible(drafts=drafts))
        .order_by(Module.position)
    )


def _states(
    user: User, course: Course, rows: Sequence[tuple[Module, datetime | None, datetime | None]]
) -> list[ModuleState]:
    """The outline's states from (module, started_at, completed_at) in course order."""
    preview = can(user, Capability.VIEW_DRAFTS)
    states, open_so_far = [], True
    for module, started_at, completed_at in rows:
        # A module already completed stays open, even if one was inserted before it.
        locked = course.sequential and not open_so_far and not preview and completed_at is None
        states.append(ModuleState(module, started_at is not None, completed_at is not None, locked))
        if module.required:
            open_so_far = open_so_far and completed_at is not None
    return states


@dataclass(frozen=True)
class OutlineProgress:
    """A reader's progress on a course's outline: its required modules only."""

    done: int
    total: int

    @property
    def pct(self) -> int:
        """Share of the required modules completed, in whole percent."""
        return round(100 * self.done / self.total) if self.total else 0


def outline_progress(outline: list[ModuleState]) -> OutlineProgress:
    """How many of the outline's required modules are completed, out of how many."""
    required = [state for state in outline if state.module.required]
    return OutlineProgress(sum(1 for state in required if state.completed), len(required))


@dataclass(frozen=True)
class ModuleStats:
    """How many learners started and completed a module."""

    module: Module
    started: int
    completed: int


def module_statistics(course: Course) -> list[ModuleStats]:
    """Per current module: learners who started it and who completed it (one query)."""
    rows = db.session.execute(
        select(
            Module,
            func.count(ModuleProgress.id),
            func.count(case((ModuleProgress.completed_at.is_not(None), 1))),
        )
        .outerjoin(
            ModuleProgress,
            and_(ModuleProgress.module_id == Module.id, ModuleProgress.user_id.in_(_LEARNERS)),
        )
        .where(Module.course_id == course.id, Module.retired_at.is_(None))
        .group_by(Module.id)
        .order_by(Module.position)
    ).all()
    return [ModuleStats(m, started, completed) for m, started, completed in rows]


def course_activity() -> dict[int, tuple[int, int]]:
    """Per course id: (learners who started any module, learners who completed it)."""
    started = dict(
        db.session.execute(
            select(Module.course_id, func.count(distinct(ModuleProgress.user_id)))
            .join(ModuleProgress, ModuleProgress.module_id == Module.id)
            .where(ModuleProgress.user_id.in_(_LEARNERS))
            .group_by(Module.course_id)
        ).all()
    )
    completed = dict(
        db.session.execute(
            select(CourseCompletion.course_id, func.count(CourseCompletion.id))
            .where(CourseCompletion.user_id.in_(_LEARNERS))
            .group_by(CourseCompletion.course_id)
        ).all()
    )
    return {cid: (started.get(cid, 0), completed.get(cid, 0)) for cid in started | completed}


def course_completions(course: Course) -> int:
    """How many learners completed *course*."""
    return (
        db.session.scalar(
            select(func.count(CourseCompletion.id)).where(
                CourseCompletion.course_id == course.id, CourseCompletion.user_id.in_(_LEARNERS)
            )
        )
        or 0
    )


__all__ = [
    "CATALOGUE_USER",
    "CatalogueEntry",
    "ModuleKind",
    "ModuleState",
    "ModuleStats",
    "OutlineProgress",
    "catalogue",
    "catalogue_rows",
    "catalogue_statement",
    "course_activity",
    "course_completions",
    "course_outline",
    "find_visible_course",
    "module_statistics",
    "outline_progress",
    "progress_on",
    "visible_course_outline",
    "visible_courses_clause",
]
