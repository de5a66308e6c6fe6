"""Progress rules: visits and reading time, module and course completion, and their races."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session
from test_course_sync import count, get_course, get_module, make_tree, page_md, sync, write_tree

from lms.auth.models import User
from lms.courses import progress as operations
from lms.courses.models import CourseCompletion, Module, ModuleProgress
from lms.courses.progress import (
    MAX_COUNTED_GAP,
    complete_module,
    course_is_complete,
    record_course_completion_if_due,
    record_visit,
)
from lms.extensions import db as _db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = make_tree(tmp_path)
    sync(root)
    return root


@pytest.fixture
def learner(make_user: Callable[..., User], content: Path) -> User:  # noqa: ARG001 - ordering
    return make_user()


def the_progress(user: User, module: Module) -> ModuleProgress:
    _db.session.expire_all()
    return _db.session.execute(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user.id, ModuleProgress.module_id == module.id
        )
    ).scalar_one()


# Visits and reading time -------------------------------------------------------------------


def test_the_first_visit_starts_the_module_once(learner: User) -> None:
    module = get_module("coesione", "introduzione")
    first = record_visit(learner, module, now=T0)
    _db.session.commit()
    assert (first.started_at, first.last_seen_at, first.seconds_spent) == (T0, T0, 0)
    assert first.completed_at is None

    again = record_visit(learner, module, now=T0 + timedelta(minutes=5))
    _db.session.commit()
    assert again.id == first.id
    assert count(ModuleProgress) == 1
    stored = the_progress(learner, module)
    assert stored.started_at == T0
    assert stored.last_seen_at == T0 + timedelta(minutes=5)
    assert stored.seconds_spent == 300


def test_reading_time_counts_only_gaps_of_at_most_30_minutes(learner: User) -> None:
    assert timedelta(minutes=30) == MAX_COUNTED_GAP
    module = get_module("coesione", "fondi")
    expected = [
        (0, 0),  # first view
        (10, 600),  # 10 minutes later: counted
        (40, 600 + 1800),  # exactly 30 minutes: counted
        (71, 2400),  # 31 minutes: a break, not reading
        (75, 2400 + 240),
        (75, 2640),  # a reload at the same instant adds nothing
        (75 + 24 * 60, 2640),  # the next day
    ]
    for minutes, seconds in expected:
        now = T0 + timedelta(minutes=minutes)
        record_visit(learner, module, now=now)
        _db.session.commit()
        stored = the_progress(learner, module)
        assert (stored.seconds_spent, stored.last_seen_at) == (seconds, now), minutes
        assert stored.started_at == T0
    assert count(ModuleProgress) == 1


def test_a_visit_with_an_earlier_clock_adds_no_time(learner: User) -> None:
    module = get_module("coesione", "fondi")
    record_visit(learner, module, now=T0)
    progress = record_visit(learner, module, now=T0 - timedelta(minutes=5))
    assert progress.seconds_spent == 0


def test_progress_is_per_person_and_per_module(make_user, learner: User) -> None:
    other = make_user()
    intro, fondi = get_module("coesione", "introduzione"), get_module("coesione", "fondi")
    record_visit(learner, intro, now=T0)
    record_visit(other, intro, now=T0)
    record_visit(learner, fondi, now=T0)
    record_visit(learner, intro, now=T0 + timedelta(minutes=1))
    _db.session.commit()
    assert count(ModuleProgress) == 3
    assert the_progress(learner, intro).seconds_spent == 60
    assert the_progress(other, intro).seconds_spent == 0
    assert the_progress(learner, fondi).seconds_spent == 0


# Two first visits at once -------------------------------------------------------------------


@pytest.fixture
def before_flush() -> Iterator[Callable[[Callable[[Session], bool]], None]]:
    """Install *action* to run before the test's session flushes, until it returns True."""
    session = _db.session()
    listeners = []

    def install(action: Callable[[Session], bool]) -> None:
        done = []

        def listener(flushing: Session, _context: object, _instances: object) -> None:
            if not done and action(flushing):
                done.append(True)

        event.listen(session, "before_flush", listener)
        listeners.append(listener)

    yield install
    for listener in listeners:
        event.remove(session, "before_flush", listener)


def insert_elsewhere(model: type, **values: object) -> int:
    """Insert a row through another connection and commit it: another request's work."""
    with _db.engine.begin() as other:
        return other.execute(insert(model.__table__).values(**values)).inserted_primary_key[0]


def test_a_first_visit_racing_another_request_uses_its_row(learner: User, before_flush) -> None:
    module = get_module("coesione", "introduzione")
    user_id, module_id = learner.id, module.id
    _db.session.commit()
    created = []

    def other_request_first(session: Session) -> bool:
        if not any(isinstance(obj, ModuleProgress) for obj in session.new):
            return False
        # The select found nothing; now, before our INSERT, another tab inserts the row.
        created.append(
            insert_elsewhere(
                ModuleProgress,
                user_id=user_id,
                module_id=module_id,
                started_at=T0 - timedelta(seconds=1),
                last_seen_at=T0 - timedelta(seconds=1),
                seconds_spent=0,
            )
        )
        return True

    before_flush(other_request_first)
    progress = record_visit(learner, module, now=T0)
    assert created, "the race was not simulated"
    assert progress.id == created[0]
    assert progress.started_at == T0 - timedelta(seconds=1)
    assert progress.seconds_spent == 1  # the other request's view, a second earlier
    assert progress.last_seen_at == T0
    _db.session.commit()  # the transaction survived the failed insert
    assert count(ModuleProgress) == 1
    assert the_progress(learner, module).id == created[0]


def test_get_or_create_progress_twice_gives_one_row(learner: User) -> None:
    module = get_module("coesione", "fondi")
    first = operations._get_or_create_progress(learner, module, T0)
    second = operations._get_or_create_progress(learner, module, T0 + timedelta(minutes=1))
    assert first is second
    _db.session.commit()
    assert count(ModuleProgress) == 1
    assert the_progress(learner, module).started_at == T0


def test_a_course_completion_racing_another_request_is_recorded_once(
    learner: User, before_flush
) -> None:
    course = get_course("percorso")
    user_id, course_id = learner.id, course.id
    # Every module done, the completion not yet recorded (the request that completed the
    # last module is the other one). Each write would lock SQLite: none before the race.
    for module in course.modules:
        insert_elsewhere(
            ModuleProgress,
            user_id=user_id,
            module_id=module.id,
            started_at=T0,
            last_seen_at=T0,
            completed_at=T0,
            seconds_spent=0,
        )
    _db.session.commit()
    created = []

    def other_request_first(session: Session) -> bool:
        if not any(isinstance(obj, CourseCompletion) for obj in session.new):
            return False
        created.append(
            insert_elsewhere(
                CourseCompletion, user_id=user_id, course_id=course_id, completed_at=T0
            )
        )
        return True

    before_flush(other_request_first)
    assert complete_module(learner, course.modules[-1], now=T0 + timedelta(minutes=1)) is True
    assert created, "the race was not simulated"
    _db.session.commit()
    _db.session.expire_all()
    (completion,) = _db.session.scalars(select(CourseCompletion)).all()
    assert (completion.id, completion.completed_at) == (created[0], T0)


# Completion ----------------------------------------------------------------------------------


def test_completing_a_module_keeps_the_first_completion_time(learner: User) -> None:
    module = get_module("coesione", "introduzione")
    assert complete_module(learner, module, now=T0) is False
    assert complete_module(learner, module, now=T0 + timedelta(days=1)) is False
    record_visit(learner, module, now=T0 + timedelta(days=2))
    _db.session.commit()
    stored = the_progress(learner, module)
    assert (stored.started_at, stored.completed_at) == (T0, T0)
    assert count(ModuleProgress) == 1


def test_a_course_is_complete_when_every_current_module_is(make_user, learner: User) -> None:
    course = get_course("coesione")
    intro, fondi, quiz = course.modules
    assert not course_is_complete(learner, course)
    assert complete_module(learner, intro, now=T0) is False
    assert complete_module(learner, fondi, now=T0) is False
    assert not course_is_complete(learner, course)  # the quiz is still to pass
    assert count(CourseCompletion) == 0
    other = make_user()
    complete_module(other, quiz, now=T0)  # someone else's progress does not count
    assert not course_is_complete(learner, course)
    assert complete_module(learner, quiz, now=T0 + timedelta(hours=1)) is True
    assert course_is_complete(learner, course)
    _db.session.commit()
    (completion,) = _db.session.scalars(select(CourseCompletion)).all()
    assert (completion.user_id, completion.course_id) == (learner.id, course.id)
    assert completion.completed_at == T0 + timedelta(hours=1)


def test_retired_modules_do_not_count_toward_completion(content: Path, learner: User) -> None:
    (content / "percorso" / "02-secondo.md").unlink()
    sync(content)
    course = get_course("percorso")
    first, _, third = course.modules
    assert complete_module(learner, first, now=T0) is False
    assert complete_module(learner, third, now=T0) is True
    _db.session.commit()
    assert count(CourseCompletion) == 1


def test_a_course_without_current_modules_is_never_complete(learner: User) -> None:
    course = get_course("bozza")
    (module,) = course.modules
    complete_module(learner, module, now=T0)
    _db.session.rollback()
    module.retired_at = T0
    _db.session.commit()
    assert not course_is_complete(learner, course)
    assert record_course_completion_if_due(learner, course, T0) is False
    assert count(CourseCompletion) == 0


def test_a_recorded_completion_stands_when_the_course_grows(content: Path, learner: User) -> None:
    for module in get_course("percorso").modules:
        complete_module(learner, module, now=T0)
    _db.session.commit()
    write_tree(content, {"percorso": {"04-quarto.md": page_md("Quarto")}})
    sync(content)
    course = get_course("percorso")
    assert not course_is_complete(learner, course)
    assert record_course_completion_if_due(learner, course, T0 + timedelta(days=1)) is True
    _db.session.commit()
    assert _db.session.scalars(select(CourseCompletion.completed_at)).all() == [T0]
