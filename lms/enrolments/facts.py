"""The facts table (:class:`CourseFacts`): kept up to date in the transaction that changes a source.

A report as of today reads one row per (staff member, course) instead of
joining a million enrolments to their completions and grouping the quiz
attempts (``docs/reports.md``, "The facts table"). Each row holds the exact
path's definitions with no as-of cut, recomputed here from the sources, set-based:

- :func:`refresh` recomputes the facts of some staff members and/or courses
  (delete, then one INSERT … SELECT); every caller goes through it.
- A session listener (:func:`init_app`) notes which facts a transaction may
  have changed, from the ORM objects it flushes and from the UPDATE and DELETE
  statements it runs on the sources, and refreshes them just before the commit,
  in the same transaction. Only INSERT … SELECT statements (bulk enrolment, the
  completions a content sync records, generated data) need an explicit
  :func:`refresh` of the course or the staff they wrote for.

On PostgreSQL, under READ COMMITTED, two transactions can each hold half of a
fact (one binds an account to a staff record while the account submits a
quiz; one retires a course's quiz while a learner submits it): neither
refresh sees the other's uncommitted half, and the row would stay stale. So
every refresh first takes locks that make the second wait for the first's
commit (:func:`_lock_for_refresh`); its statements, each with a new
snapshot, then see the first's work. SQLite needs none: it serialises
writers with its file lock.

The definitions, "so far": enrolled and due from the enrolment; completed from
the account's course completion; started when the account has progress on a
current module of the course or a scored attempt on one of its current quizzes;
modules done counts the current required modules completed; the score is the
sum over the current quizzes with a scored attempt of the best score, in
hundredths (:func:`best_score`), and ``quizzes`` how many. A row exists for an
enrolment, or for a person with a scored attempt on a current quiz of a course
they are not enrolled in (the coverage report's average counts those).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import (
    ColumnElement,
    Date,
    Delete,
    Insert,
    Integer,
    Label,
    Select,
    Update,
    and_,
    any_,
    case,
    cast,
    delete,
    event,
    func,
    inspect,
    literal,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql.expression import FunctionElement

from lms.assessments.models import QuizAttempt
from lms.auth.models import User
from lms.core.sql import among, custom_plans
from lms.core.types import rome_date
from lms.courses.models import CourseCompletion, Module, ModuleKind, ModuleProgress
from lms.courses.sync import CHANGED_COURSES
from lms.enrolments.models import CourseFacts, Enrolment
from lms.extensions import db
from lms.register.models import StaffMember

#: Staff members refreshed per statement (bind parameters stay well under both
#: databases' limits; each statement is still set-based).
CHUNK = 5000


# The day in Italy, in SQL -------------------------------------------------------------


class rome_day(FunctionElement[Any]):  # noqa: N801 - an SQL function's name
    """SQL: a stored UTC moment as its calendar day in Italy (:func:`rome_date`)."""

    type = Date()
    inherit_cache = True
    name = "rome_day"


@compiles(rome_day, "postgresql")
def _rome_day_postgresql(element: rome_day, compiler: Any, **kw: Any) -> str:
    (moment,) = element.clauses
    return f"CAST(({compiler.process(moment, **kw)} AT TIME ZONE 'Europe/Rome') AS DATE)"


@compiles(rome_day, "sqlite")
def _rome_day_sqlite(element: rome_day, compiler: Any, **kw: Any) -> str:
    # A Python function registered on every SQLite connection (below): SQLite has
    # no time zones, and this is the application's own rule.
    return f"rome_day({compiler.process(element.clauses, **kw)})"


def _rome_day_python(value: str | None) -> str | None:
    """SQLite's stored UTC moment ('2026-03-01 23:30:00.000000') as its day in Italy."""
    if value is None:
        return None
    return rome_date(datetime.fromisoformat(value).replace(tzinfo=UTC)).isoformat()


@event.listens_for(Engine, "connect")
def _sqlite_rome_day(dbapi_connection: object, _record: object) -> None:
    """Give every SQLite connection the ``rome_day`` function the facts are computed with."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("rome_day", 1, _rome_day_python, deterministic=True)


# The definitions ----------------------------------------------------------------------


def best_score() -> Label[int]:
    """A person's best score on one quiz, in hundredths of a percent (``best``).

    The one definition of the reports' scores (``ReportFilters.best_score`` is
    this): select it grouped by person and quiz over their scored attempts.
    """
    return cast(func.round(func.max(QuizAttempt.score_pct) * 100), Integer).label("best")


#: A refresh of more people than this, or of whole courses, has its statements
#: planned for its own arrays (lms.core.sql.custom_plans): PostgreSQL's generic
#: plan of ``= ANY($1)``, made while one learner's facts followed their page
#: views, must not serve an import's 5,000 people.
FEW = 100

#: Ids to refresh: a collection, a SELECT of one id column (set-based, for what a
#: bulk statement wrote), or None for all.
Ids = Collection[int] | Select | None


def _ids_in(column: Any, ids: Ids) -> ColumnElement[bool]:
    if ids is None:
        return true()
    if isinstance(ids, Select):
        return column.in_(ids)
    return among(column, sorted(ids))  # an import's 5,000 people: one array on PostgreSQL


def facts_query(staff_ids: Ids = None, course_ids: Ids = None) -> Select:
    """The facts of the staff members *staff_ids* in the courses *course_ids*, computed.

    None means every staff member (every course). The columns are those of
    :class:`CourseFacts`, in its order; the tests compare the table with this.
    """
    current_quiz = and_(Module.kind == ModuleKind.QUIZ, Module.retired_at.is_(None))
    scored = and_(QuizAttempt.submitted_at.is_not(None), QuizAttempt.score_pct.is_not(None))
    in_courses = _ids_in(Module.course_id, course_ids)
    users: ColumnElement[bool] = true()
    if staff_ids is not None:
        users = QuizAttempt.user_id.in_(
            select(StaffMember.user_id).where(_ids_in(StaffMember.id, staff_ids))
        )
    pairs = union(
        select(Enrolment.staff_id, Enrolment.course_id).where(
            _ids_in(Enrolment.staff_id, staff_ids), _ids_in(Enrolment.course_id, course_ids)
        ),
        select(StaffMember.id.label("staff_id"), Module.course_id)
        .select_from(QuizAttempt)
        .join(Module, Module.id == QuizAttempt.module_id)
        .join(StaffMember, StaffMember.user_id == QuizAttempt.user_id)
        .where(scored, current_quiz, in_courses, _ids_in(StaffMember.id, staff_ids)),
    ).subquery("pairs")
    progress_users: ColumnElement[bool] = true()
    if staff_ids is not None:
        progress_users = ModuleProgress.user_id.in_(
            select(StaffMember.user_id).where(_ids_in(StaffMember.id, staff_ids))
        )
    progress = (
        select(
            ModuleProgress.user_id,
            Module.course_id,
            func.count().label("started"),
            func.sum(
                case(
                    (and_(ModuleProgress.completed_at.is_not(None), Module.required.is_(True)), 1),
                    else_=0,
                )
            ).label("done"),
        )
        .join(Module, Module.id == ModuleProgress.module_id)
        .where(Module.retired_at.is_(None), in_courses, progress_users)
        .group_by(ModuleProgress.user_id, Module.course_id)
        .subquery("progress")
    )
    best = (
        select(QuizAttempt.user_id, Module.course_id, best_score())
        .join(Module, Module.id == QuizAttempt.module_id)
        .where(scored, current_quiz, in_courses, users)
        .group_by(QuizAttempt.user_id, Module.course_id, QuizAttempt.module_id)
        .subquery("best_per_quiz")
    )
    scores = (
        select(
            best.c.user_id,
            best.c.course_id,
            func.sum(best.c.best).label("score"),
            func.count().label("quizzes"),
        )
        .group_by(best.c.user_id, best.c.course_id)
        .subquery("scores")
    )
    started = func.coalesce(progress.c.started, 0)
    quizzes = func.coalesce(scores.c.quizzes, 0)
    return (
        select(
            pairs.c.staff_id,
            pairs.c.course_id,
            Enrolment.enrolled_at,
            rome_day(Enrolment.enrolled_at).label("enrolled_on"),
            Enrolment.due_on,
            CourseCompletion.completed_at,
            rome_day(CourseCompletion.completed_at).label("completed_on"),
            or_(started > 0, quizzes > 0).label("started"),
            func.coalesce(progress.c.done, 0).label("modules_done"),
            func.coalesce(scores.c.score, 0).label("score_hundredths"),
            quizzes.label("quizzes"),
        )
        .select_from(pairs)
        .join(StaffMember, StaffMember.id == pairs.c.staff_id)
        .outerjoin(
            Enrolment,
            and_(Enrolment.staff_id == pairs.c.staff_id, Enrolment.course_id == pairs.c.course_id),
        )
        .outerjoin(
            CourseCompletion,
            and_(
                CourseCompletion.user_id == StaffMember.user_id,
                CourseCompletion.course_id == pairs.c.course_id,
            ),
        )
        .outerjoin(
            progress,
            and_(
                progress.c.user_id == StaffMember.user_id,
                progress.c.course_id == pairs.c.course_id,
            ),
        )
        .outerjoin(
            scores,
            and_(scores.c.user_id == StaffMember.user_id, scores.c.course_id == pairs.c.course_id),
        )
    )


FACT_COLUMNS = (
    "staff_id",
    "course_id",
    "enrolled_at",
    "enrolled_on",
    "due_on",
    "completed_at",
    "completed_on",
    "started",
    "modules_done",
    "score_hundredths",
    "quizzes",
)


def _refresh_one(staff_ids: Ids, course_ids: Ids) -> None:
    scope = and_(
        _ids_in(CourseFacts.staff_id, staff_ids), _ids_in(CourseFacts.course_id, course_ids)
    )
    db.session.execute(delete(CourseFacts).where(scope))
    # An upsert, not a plain INSERT: two transactions refreshing the same row (one
    # learner in two tabs) both delete it, and under READ COMMITTED the second's
    # DELETE does not see the row the first then inserted; its INSERT would fail
    # on the key. ON CONFLICT overwrites it with what this statement computes,
    # which (a new snapshot per statement) includes the first's committed work.
    # ``WHERE true``: SQLite reads ``INSERT … SELECT … ON CONFLICT`` right only
    # when the SELECT has a WHERE clause.
    upsert = _dialect_insert()(CourseFacts).from_select(
        list(FACT_COLUMNS), facts_query(staff_ids, course_ids).where(true())
    )
    db.session.execute(
        upsert.on_conflict_do_update(
            index_elements=["staff_id", "course_id"],
            set_={name: upsert.excluded[name] for name in FACT_COLUMNS[2:]},
        )
    )


def _dialect_insert() -> Any:
    """The INSERT construct with ON CONFLICT of the session's database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def refresh(staff_ids: Ids = None, course_ids: Ids = None) -> None:
    """Recompute the facts of *staff_ids* × *course_ids* from the sources (None: all).

    ``refresh()`` recomputes every row; ``refresh(course_ids=[c])`` a course's
    (after a content sync or a bulk enrolment); ``refresh(staff_ids=ids)`` some
    people's, in every course. Set-based: a few statements per 5,000 people.
    On PostgreSQL it first takes the locks of :func:`_lock_for_refresh`.
    """
    for ids in (staff_ids, course_ids):
        if ids is not None and not isinstance(ids, Select) and not ids:
            return
    session = db.session()
    if staff_ids is None or isinstance(staff_ids, Select) or len(staff_ids) > FEW:
        custom_plans(session)
    if session.get_bind().dialect.name == "postgresql":
        _lock_for_refresh(session, course_wide=staff_ids is None)
    _refresh_locked(staff_ids, course_ids)


def _refresh_locked(staff_ids: Ids, course_ids: Ids) -> None:
    """:func:`refresh`, its locks taken (or not needed)."""
    if staff_ids is None or isinstance(staff_ids, Select):
        _refresh_one(staff_ids, course_ids)
        return
    for chunk in _chunks(staff_ids):
        _refresh_one(chunk, course_ids)


# What a transaction changed ---------------------------------------------------------


@dataclass
class Pending:
    """The facts a transaction may have changed, noted until just before its commit."""

    everything: bool = False
    staff: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    courses: set[int] = field(default_factory=set)
    staff_courses: set[tuple[int, int]] = field(default_factory=set)
    user_courses: set[tuple[int, int]] = field(default_factory=set)
    user_modules: set[tuple[int, int]] = field(default_factory=set)
    modules: set[int] = field(default_factory=set)

    def size(self) -> int:
        """How many people (or person and course pairs) the note names."""
        return sum(
            len(noted)
            for noted in (
                self.staff,
                self.users,
                self.staff_courses,
                self.user_courses,
                self.user_modules,
            )
        )

    def __bool__(self) -> bool:
        return self.everything or any(
            (
                self.staff,
                self.users,
                self.courses,
                self.staff_courses,
                self.user_courses,
                self.user_modules,
                self.modules,
            )
        )


_KEY = "lms.course_facts.pending"


def pending(session: Session | None = None) -> Pending:
    """The session's note of the facts to refresh before its commit."""
    info = (session if session is not None else db.session()).info
    found = info.get(_KEY)
    if found is None:
        found = info[_KEY] = Pending()
    return found


def note_courses(course_ids: Iterable[int], session: Session | None = None) -> None:
    """Have the courses' facts refreshed before the commit (after an INSERT … SELECT)."""
    pending(session).courses.update(course_ids)


def note_staff(staff_ids: Iterable[int], session: Session | None = None) -> None:
    """Have these staff members' facts refreshed before the commit."""
    pending(session).staff.update(staff_ids)


def _plans_for(session: Session, note: Pending) -> None:
    """Plans for this refresh's own arrays when it is of whole courses or many people."""
    if note.courses or note.modules or note.size() > FEW:
        custom_plans(session)


def apply_pending(session: Session | None = None) -> None:
    """Refresh what the session's transaction changed, now (the commit calls this).

    A report reading the facts calls it first too, so that a change not yet
    committed in the same session is seen (normally there is none: nothing
    to do). On PostgreSQL each call that refreshes something first takes the
    locks of :func:`_lock_for_refresh`, held until the transaction ends.
    """
    session = session if session is not None else db.session()
    session.flush()  # the flush notes what it writes (a no-op when nothing changed)
    if session.info.get(_KEY) is None and CHANGED_COURSES not in session.info:
        return
    note = session.info.pop(_KEY, None) or Pending()
    note.courses |= session.info.pop(CHANGED_COURSES, set())
    if not note:
        return
    if note.everything:
        refresh()
        return
    _plans_for(session, note)
    if session.get_bind().dialect.name == "postgresql":
        users = set(note.users)
        users |= {u for u, _c in note.user_courses}
        users |= {u for u, _m in note.user_modules}
        _lock_for_refresh(
            session,
            course_wide=bool(note.courses or note.modules),
            users=users,
            staff=set(note.staff) | {s for s, _c in note.staff_courses},
        )
    staff, courses, pairs = _resolve(session, note)
    if courses:
        _refresh_locked(None, courses)
    if staff:
        _refresh_locked(staff, None)
    by_course: dict[int, set[int]] = {}
    for staff_id, course_id in pairs:
        if staff_id not in staff and course_id not in courses:
            by_course.setdefault(course_id, set()).add(staff_id)
    for course_id, members in sorted(by_course.items()):
        _refresh_locked(members, [course_id])


#: The advisory lock every refresh takes (:func:`_lock_for_refresh`): any fixed
#: 64-bit number no other part of the app uses ("facts" in ASCII).
REFRESH_LOCK = 0x6661637473


def _lock_for_refresh(
    session: Session,
    *,
    course_wide: bool,
    users: Collection[int] = (),
    staff: Collection[int] = (),
) -> None:
    """PostgreSQL: lock what a refresh is computed from, until the commit.

    A refresh deletes the rows it recomputes and writes them again, so two
    refreshes of one row that exists already wait for each other (the second's
    DELETE waits for the first's commit, and its INSERT, with a new snapshot,
    then sees the first's work). What no row shows yet needs a lock of its own,
    always taken in this order:

    1. An advisory lock, exclusive for a refresh of whole courses (a content
       sync, a module retired), shared by every other refresh. A course's
       refresh writes no row for a person whose attempt is not committed yet,
       and that attempt's refresh would write one from the course as it was.
    2. The accounts: *users* (noted by the flush: an attempt, progress) and
       those of the staff records *staff*, as this transaction sees them (a
       record it bound or moved: the old account is noted by the flush or the
       statement). A roster import binds an account while the account submits
       a quiz: the import's refresh has no attempt, the attempt's finds no staff
       record, and neither writes the row. In id order, ``FOR NO KEY UPDATE``,
       which does not conflict with the key-share lock a foreign key (an
       attempt's, a staff record's) takes on the account; the ids as arrays
       (one parameter each, whatever their number); counted, not fetched.

    No lock is needed between a binding and an enrolment of the same record:
    binding writes ``staff_members.user_id``, a unique key, which waits for the
    key-share lock the enrolment's foreign key takes on the record, and the
    other way round. SQLite needs none: it serialises writers with its file lock.
    """
    lock = func.pg_advisory_xact_lock if course_wide else func.pg_advisory_xact_lock_shared
    session.execute(select(lock(REFRESH_LOCK)))
    if not users and not staff:
        return
    ids = ARRAY(Integer)
    accounts = union(
        select(func.unnest(literal(sorted(users), ids)).label("id")),
        select(StaffMember.user_id.label("id")).where(
            StaffMember.id == any_(literal(sorted(staff), ids)),
            StaffMember.user_id.is_not(None),
        ),
    )
    locked = (
        select(User.id)
        .where(User.id.in_(accounts))
        .order_by(User.id)
        .with_for_update(key_share=True, of=User)
        .subquery("locked")
    )
    session.execute(select(func.count()).select_from(locked))


def _resolve(session: Session, note: Pending) -> tuple[set[int], set[int], set[tuple[int, int]]]:
    """The note as staff members (every course), courses (everyone), and (staff, course) pairs.

    Modules are looked up for their course and accounts for their staff record
    (an account without one has no facts), two queries whatever the note's size.
    """
    user_courses = set(note.user_courses)
    courses = set(note.courses)
    module_ids = {m for _u, m in note.user_modules} | note.modules
    if module_ids:
        found = session.execute(
            select(Module.id, Module.course_id).where(Module.id.in_(sorted(module_ids)))
        )
        course_of = {row[0]: row[1] for row in found}
        user_courses |= {(u, course_of[m]) for u, m in note.user_modules if m in course_of}
        courses |= {course_of[m] for m in note.modules if m in course_of}
    staff_of: dict[int, int] = {}
    for chunk in _chunks(note.users | {u for u, _c in user_courses}):
        bound = session.execute(
            select(StaffMember.user_id, StaffMember.id).where(among(StaffMember.user_id, chunk))
        )
        staff_of.update({user_id: staff_id for user_id, staff_id in bound if user_id is not None})
    staff = set(note.staff) | {staff_of[u] for u in note.users if u in staff_of}
    pairs = set(note.staff_courses)
    pairs |= {(staff_of[u], c) for u, c in user_courses if u in staff_of}
    return staff, courses, pairs


# The ORM objects a flush writes -------------------------------------------------------

#: Per source model, the attributes whose change may change a fact (a module page
#: writes ModuleProgress.seconds_spent and last_seen_at on every view: not those).
_WATCHED: dict[type, frozenset[str]] = {
    Enrolment: frozenset({"staff_id", "course_id", "enrolled_at", "due_on"}),
    CourseCompletion: frozenset({"user_id", "course_id", "completed_at"}),
    ModuleProgress: frozenset({"user_id", "module_id", "started_at", "completed_at"}),
    QuizAttempt: frozenset({"user_id", "module_id", "submitted_at", "score_pct"}),
    Module: frozenset({"course_id", "retired_at", "required", "kind"}),
    StaffMember: frozenset({"user_id"}),
}


def _values(obj: object, name: str, *, changed: bool) -> set[Any]:
    """The attribute's current value, and its previous one when *changed* (history)."""
    history = inspect(obj).attrs[name].history
    values = set(history.added or ()) | set(history.unchanged or ())
    if changed:
        values |= set(history.deleted or ())
    if not values:
        values.add(getattr(obj, name, None))
    return values


def _note_object(note: Pending, obj: object, *, dirty: bool) -> None:
    """Note the keys of an object the flush writes: its current ones, and its old ones."""
    model = type(obj)
    watched = _WATCHED.get(model)
    if watched is None and not (model is User and not dirty):
        # Only a deleted account matters: its progress, completions and attempts go too.
        return
    state = inspect(obj)
    if dirty and not any(state.attrs[name].history.has_changes() for name in watched or ()):
        return
    choices = [
        {state.identity[0] if state.identity else None}
        if name == "id"
        else _values(obj, name, changed=dirty)
        for name in _key_columns(model)
    ]
    _note_rows(note, model, itertools.product(*choices))


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    # Every key a fact depends on is known before the flush (a new staff record
    # has no id yet, but it is found again by its account at the refresh).
    note = pending(session)
    for obj in session.new:
        _note_object(note, obj, dirty=False)
    for obj in session.deleted:
        _note_object(note, obj, dirty=False)
    for obj in session.dirty:
        _note_object(note, obj, dirty=True)


# The statements a transaction runs ---------------------------------------------------

_TABLES: dict[str, type] = {
    model.__tablename__: model  # type: ignore[attr-defined]
    for model in _WATCHED
}
_TABLES["users"] = User


def _columns_written(statement: Update, parameters: object) -> set[str]:
    values: dict[Any, Any] = dict(statement._values or {})  # noqa: SLF001 - what it sets
    values.update(getattr(statement, "_ordered_values", None) or ())
    names = {getattr(key, "key", key) for key in values}
    if isinstance(parameters, dict):
        names |= set(parameters)
    elif isinstance(parameters, list):
        for row in parameters:
            names |= set(row)
    return {str(name) for name in names}


def _key_columns(model: type) -> list[str]:
    if model is Enrolment:
        return ["staff_id", "course_id"]
    if model is CourseCompletion:
        return ["user_id", "course_id"]
    if model in (ModuleProgress, QuizAttempt):
        return ["user_id", "module_id"]
    if model is Module:
        return ["course_id"]
    if model is StaffMember:
        return ["id", "user_id"]
    return ["id"]  # users


def _note_rows(note: Pending, model: type, rows: Iterable[Any]) -> None:
    for row in rows:
        if model is StaffMember:
            if row[0] is not None:
                note.staff.add(row[0])
            if row[1] is not None:
                note.users.add(row[1])
            continue
        if row[0] is None or (len(row) > 1 and row[1] is None):
            continue
        if model is Enrolment:
            note.staff_courses.add((row[0], row[1]))
        elif model is CourseCompletion:
            note.user_courses.add((row[0], row[1]))
        elif model in (ModuleProgress, QuizAttempt):
            note.user_modules.add((row[0], row[1]))
        elif model is Module:
            note.courses.add(row[0])
        else:
            note.users.add(row[0])


def _parameter_rows(parameters: object) -> list[dict[str, Any]]:
    if isinstance(parameters, list):
        return [dict(row) for row in parameters]
    return [dict(parameters)] if isinstance(parameters, dict) else [{}]


def note_inserted(model: type, rows: list[dict[str, Any]], session: Session | None = None) -> None:
    """Note rows written where no session event sees them (PostgreSQL's COPY, the roster import)."""
    _note_insert_rows(pending(session), model, rows)


def _note_insert(note: Pending, model: type, statement: Insert, parameters: object) -> None:
    if statement.select is not None:
        # INSERT … SELECT: the caller refreshes what it wrote (see the module's doc).
        return
    _note_insert_rows(note, model, _parameter_rows(parameters))


def _note_insert_rows(note: Pending, model: type, rows: list[dict[str, Any]]) -> None:
    if model is StaffMember:
        # A new record bound to an account that may already have attempts.
        note.users |= {r["user_id"] for r in rows if r.get("user_id") is not None}
    elif model is not User:
        columns = _key_columns(model)
        if all(name in row for row in rows for name in columns):
            _note_rows(note, model, [tuple(r[n] for n in columns) for r in rows])
        else:  # values written into the statement itself: refresh everything to be sure
            note.everything = True


def _note_update_or_delete(
    session: Session, note: Pending, model: type, statement: Update | Delete, parameters: object
) -> None:
    mapped: Mapper[Any] = inspect(model)
    key_columns = [mapped.columns[name] for name in _key_columns(model)]
    rows = _parameter_rows(parameters)
    if statement.whereclause is None and isinstance(parameters, list):
        # An ORM bulk UPDATE by primary key: the rows are in the parameters.
        for chunk in _chunks(row["id"] for row in rows if "id" in row):
            query = select(*key_columns).where(mapped.columns["id"].in_(chunk))
            _note_rows(note, model, session.execute(query))
        return
    query = select(*key_columns)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    for row in rows:
        _note_rows(note, model, session.execute(query, row))


def _do_orm_execute(state: ORMExecuteState) -> None:
    """Note the keys an INSERT, UPDATE or DELETE on a source is about to touch.

    An UPDATE's or DELETE's rows are looked up with the statement's own WHERE
    clause before it runs (an UPDATE may change the WHERE clause's own columns);
    the facts are recomputed from the sources at the commit. An UPDATE of columns
    no fact depends on (the reading time a module page records) is not looked at.
    """
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    statement = state.statement
    model = _TABLES.get(getattr(getattr(statement, "table", None), "name", ""))
    if model is None:
        return
    if isinstance(statement, Insert):
        _note_insert(pending(state.session), model, statement, state.parameters)
        return
    if not isinstance(statement, Update | Delete):
        return
    if isinstance(statement, Update) and not (
        _columns_written(statement, state.parameters) & _WATCHED.get(model, frozenset())
    ):
        return
    note = pending(state.session)
    _note_update_or_delete(state.session, note, model, statement, state.parameters)


# Wiring ---------------------------------------------------------------------------


def _before_commit(session: Session) -> None:
    # Also called when a savepoint is released: the note is kept for the
    # transaction's commit, which refreshes it once. On PostgreSQL the refresh
    # locks the accounts (:func:`_lock_for_refresh`): one refresh per savepoint
    # would take the locks in the order of the work, and two transactions
    # working on the same accounts in opposite orders would deadlock.
    if session.in_nested_transaction():
        return
    apply_pending(session)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended: committed (the note was applied) or rolled
    # back (what was noted was undone too). A savepoint's end keeps the note: what
    # the transaction noted before it still needs its refresh (a note left over
    # would only cost a needless refresh, never a wrong fact).
    if transaction.parent is None:
        session.info.pop(_KEY, None)
        session.info.pop(CHANGED_COURSES, None)


_registered = False


def init_app(app: Flask) -> None:  # noqa: ARG001 - the app factory's hook
    """Listen to every session (once per process): the facts follow each transaction."""
    global _registered  # noqa: PLW0603 - registering the listeners once
    if _registered:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    _registered = True
