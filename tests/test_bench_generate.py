"""bench/generate.py at tiny scale, into the (empty, migrated) test database."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

from bench_modules import load
from codicefiscale import codicefiscale
from flask import Flask
from sqlalchemy import func, select, text

from lms.assessments.models import QuizAttempt
from lms.auth.models import Role, User, UserScope
from lms.courses.models import CourseCompletion, Module, ModuleKind, ModuleProgress
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.register.models import LESS_DEVELOPED_REGION_CODES, Authority, Region, StaffMember

bench = load("generate")

SMALL = {"staff": 200, "enrolments": 1_000, "courses": 5}
CF_SHAPE = re.compile(r"^[A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z]$")


def _empty_generated(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(bench.GENERATED_TABLES):
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names


def _count(query: object) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))  # type: ignore[attr-defined]


def test_generate_counts_constraints_and_determinism(app: Flask) -> None:
    counts = bench.generate(app, seed=7, rebuild=False, **SMALL)

    assert counts["staff_members"] == 200
    assert counts["users"] == 202  # and two HR managers
    assert counts["user_scopes"] == 2
    assert counts["enrolments"] == 1_000
    assert counts["courses"] == 5
    assert counts["authorities"] > 8_000
    assert counts["regions"] == 20
    assert counts["quiz_versions"] == db.session.scalar(
        select(func.count()).where(Module.kind == ModuleKind.QUIZ)
    )
    for table in ("module_progress", "course_completions", "quiz_attempts"):
        assert counts[table] > 0, table

    # Unique people, codici fiscali of the right shape and check character, linked accounts.
    staff = db.session.scalars(select(StaffMember)).all()
    assert len({s.codice_fiscale for s in staff}) == len({s.email for s in staff}) == 200
    assert all(CF_SHAPE.match(s.codice_fiscale) for s in staff)
    assert all(codicefiscale.is_valid(s.codice_fiscale) for s in staff[:50])
    assert len({s.user_id for s in staff}) == 200
    assert db.session.scalar(select(func.count()).where(User.role == Role.LEARNER)) == 200
    assert all(s.left_on is None or s.left_on >= (s.hired_on or s.left_on) for s in staff)
    in_less_developed = db.session.scalar(
        select(func.count())
        .select_from(StaffMember)
        .join(Authority)
        .join(Region)
        .where(Region.code.in_(LESS_DEVELOPED_REGION_CODES))
    )
    assert 0.5 < in_less_developed / 200 < 0.9

    # One enrolment per person and course; completions after enrolment.
    pairs = select(Enrolment.staff_id, Enrolment.course_id).distinct()
    assert _count(pairs) == 1_000
    completions = db.session.execute(
        select(CourseCompletion.completed_at, Enrolment.enrolled_at)
        .join(StaffMember, StaffMember.user_id == CourseCompletion.user_id)
        .join(
            Enrolment,
            (Enrolment.staff_id == StaffMember.id)
            & (Enrolment.course_id == CourseCompletion.course_id),
        )
    ).all()
    assert len(completions) == counts["course_completions"]
    assert all(done >= enrolled for done, enrolled in completions)

    # A completion means every current module completed; no other enrolment has them all.
    active = (
        select(Module.course_id, func.count().label("n"))
        .where(Module.retired_at.is_(None))
        .group_by(Module.course_id)
        .subquery()
    )
    done = (
        select(ModuleProgress.user_id, Module.course_id, func.count().label("n"))
        .join(Module)
        .where(Module.retired_at.is_(None), ModuleProgress.completed_at.is_not(None))
        .group_by(ModuleProgress.user_id, Module.course_id)
        .subquery()
    )
    all_done = select(done.c.user_id, done.c.course_id).join(
        active, (active.c.course_id == done.c.course_id) & (active.c.n == done.c.n)
    )
    completed = select(CourseCompletion.user_id, CourseCompletion.course_id)
    assert _count(all_done) == _count(completed) == _count(all_done.intersect(completed))

    # Every completed quiz was passed on its last attempt, numbered 1..n.
    attempts = db.session.execute(
        select(
            QuizAttempt.user_id, QuizAttempt.module_id, QuizAttempt.number, QuizAttempt.passed
        ).order_by(QuizAttempt.user_id, QuizAttempt.module_id, QuizAttempt.number)
    ).all()
    by_quiz: dict[tuple[int, int], list] = {}
    for user_id, module_id, number, passed in attempts:
        by_quiz.setdefault((user_id, module_id), []).append((number, passed))
    assert all([n for n, _ in runs] == list(range(1, len(runs) + 1)) for runs in by_quiz.values())
    completed_quizzes = db.session.execute(
        select(ModuleProgress.user_id, ModuleProgress.module_id)
        .join(Module)
        .where(Module.kind == ModuleKind.QUIZ, ModuleProgress.completed_at.is_not(None))
    ).all()
    assert all(by_quiz[tuple(row)][-1][1] for row in completed_quizzes)

    # Same seed, same rows; another seed, other rows.
    first = bench.checksum(app)
    _empty_generated(app)
    bench.generate(app, seed=7, rebuild=False, **SMALL)
    assert bench.checksum(app) == first
    _empty_generated(app)
    bench.generate(app, seed=8, rebuild=False, **SMALL)
    assert bench.checksum(app) != first


def test_generate_gives_the_reminder_planner_a_day_of_work(app: Flask) -> None:
    """Digest takers, HR managers with scopes, due dates and events around END."""
    bench.generate(app, seed=7, rebuild=False, **SMALL)

    # The reminder planner's people: some learners take the digest, HR managers have a scope.
    digest = db.session.scalar(
        select(func.count()).where(User.role == Role.LEARNER, User.reminder_digest.is_(True))
    )
    assert 1 <= digest <= 30
    managers = db.session.scalars(select(User).where(User.role == Role.HR)).all()
    assert len(managers) == 2
    assert all(m.active and not m.reminder_digest for m in managers)
    assert not db.session.scalar(
        select(func.count()).select_from(StaffMember).where(StaffMember.user_id > 200)
    )
    scopes = db.session.scalars(select(UserScope).order_by(UserScope.user_id)).all()
    assert [s.user_id for s in scopes] == [m.id for m in managers]
    assert scopes[0].region_id is not None
    assert scopes[0].authority_id is None
    assert scopes[1].authority_id is not None
    assert scopes[1].region_id is None

    # Due dates spread around the last day, so that a day's plan has work: open
    # enrolments due in the next two weeks and overdue by up to four weeks.
    end = bench.END.date()
    near = (
        select(Enrolment.id)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .where(
            Enrolment.due_on.between(end - timedelta(days=28), end + timedelta(days=14)),
            ~(
                select(CourseCompletion.id)
                .where(
                    CourseCompletion.user_id == StaffMember.user_id,
                    CourseCompletion.course_id == Enrolment.course_id,
                )
                .exists()
            ),
        )
    )
    assert _count(near) >= 5
    recent = bench.END.replace(tzinfo=UTC) - timedelta(days=3)
    assert _count(select(Enrolment.id).where(Enrolment.enrolled_at >= recent)) >= 1

    # Completions never after END, and no pile-up on the last days (one that
    # would finish after END is in progress): the last three days hold about
    # their share of ~1,000 days, not the 10x an END clamp would put there.
    completion_times = db.session.scalars(select(CourseCompletion.completed_at)).all()
    assert max(completion_times) <= bench.END.replace(tzinfo=UTC)
    last_days = sum(t >= recent for t in completion_times)
    assert last_days <= 0.02 * len(completion_times)
