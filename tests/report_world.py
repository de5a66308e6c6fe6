"""The reports' hand-computed world, shared by the definition, web and export tests.

The fixture below is small enough to count on paper; each person exercises an
edge of the definitions (as-of date D = 1 March 2026):

========  ===========  ========  ==========================================================
person    authority    category  what they exercise
========  ===========  ========  ==========================================================
anna      Napoli       new_hire  two enrolments, one completed (not "completed" as a
                                 person); best of three attempts, one after D; score 53.30
bruno     Napoli       existing  overdue enrolment; an enrolment made after D
carla     Napoli       existing  hired after D: out of every count
dario     Napoli       existing  left on D: out of every count
elena     Salerno      new_hire  leaves after D; completed at 00:30 on 1 March in Italy
                                 (23:30 UTC the day before)
franco    Salerno      existing  staff with no enrolment
gina      Catanzaro    new_hire  completed at 00:30 on 2 March in Italy: not by D
hugo      Milano       existing  completed; an attempt on a quiz retired before D
ivan      Milano       existing  no account; due on D itself (not overdue)
========  ===========  ========  ==========================================================

Lazio has an authority but no staff: its row is all zeros and empty ratios.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lms.assessments.models import QuizAttempt
from lms.auth.models import Role, User
from lms.courses.models import (
    Course,
    CourseCompletion,
    CourseStatus,
    Module,
    ModuleKind,
    ModuleProgress,
    QuizVersion,
)
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.register.models import Authority, StaffCategory, StaffMember

D = date(2026, 3, 1)


def utc(text: str) -> datetime:
    """A UTC instant from ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _course(slug: str, hours: str, modules: list[tuple[str, ModuleKind, datetime | None]]):
    course = Course(
        slug=slug,
        title=f"Corso {slug}",
        hours=Decimal(hours),
        source_hash="0" * 64,
        status=CourseStatus.PUBLISHED,
    )
    db.session.add(course)
    db.session.flush()
    found = {}
    for position, (module_slug, kind, retired_at) in enumerate(modules):
        module = Module(
            course_id=course.id,
            slug=module_slug,
            position=position,
            title=module_slug,
            kind=kind,
            filename=f"{module_slug}.md",
            source_hash="0" * 64,
            retired_at=retired_at,
        )
        db.session.add(module)
        db.session.flush()
        if kind is ModuleKind.QUIZ:
            db.session.add(QuizVersion(module_id=module.id, version=1, questions=[], pass_mark=60))
        found[module_slug] = module
    db.session.flush()
    return course, found


class World:
    """The fixture's objects by name."""

    def __init__(self) -> None:
        self.people: dict[str, StaffMember] = {}
        self.users: dict[str, User] = {}


@pytest.fixture(name="world")
def world_fixture(make_authority: Callable[..., Authority]) -> World:  # noqa: PLR0915 - one world, built in order
    w = World()
    w.napoli = make_authority("063049", name="Comune di Napoli", region_code="15")
    w.salerno = make_authority("065116", name="Comune di Salerno", region_code="15")
    w.catanzaro = make_authority("079023", name="Comune di Catanzaro", region_code="18")
    w.milano = make_authority("015146", name="Comune di Milano", region_code="03")
    w.roma = make_authority("058091", name="Roma Capitale", region_code="12")

    w.a, a = _course(
        "corso-a",
        "8",
        [
            ("q0", ModuleKind.QUIZ, utc("2026-01-10 09:00")),
            ("p1", ModuleKind.PAGE, None),
            ("q1", ModuleKind.QUIZ, None),
            ("p2", ModuleKind.PAGE, utc("2026-01-10 09:00")),
        ],
    )
    w.b, b = _course(
        "corso-b", "1.5", [("p1", ModuleKind.PAGE, None), ("q1", ModuleKind.QUIZ, None)]
    )
    w.modules = {"a": a, "b": b}

    def person(
        name: str,
        authority: Authority,
        category: StaffCategory = StaffCategory.EXISTING,
        *,
        account: bool = True,
        hired_on: date | None = None,
        left_on: date | None = None,
    ) -> StaffMember:
        user = None
        if account:
            user = User(
                email=f"{name}@example.it",
                role=Role.LEARNER,
                first_name=name.title(),
                last_name="X",
            )
            db.session.add(user)
            db.session.flush()
            w.users[name] = user
        member = StaffMember(
            codice_fiscale=f"{name.upper():X<6}00A01F839X"[:16],
            first_name=name.title(),
            last_name=f"Cognome {name}",
            email=f"{name}@example.it",
            authority_id=authority.id,
            category=category,
            hired_on=hired_on,
            left_on=left_on,
            user_id=user.id if user else None,
        )
        db.session.add(member)
        db.session.flush()
        w.people[name] = member
        return member

    def enrol(name: str, course: Course, at: str, due: date | None = None) -> None:
        db.session.add(
            Enrolment(
                staff_id=w.people[name].id, course_id=course.id, enrolled_at=utc(at), due_on=due
            )
        )

    def complete(name: str, course: Course, at: str) -> None:
        db.session.add(
            CourseCompletion(user_id=w.users[name].id, course_id=course.id, completed_at=utc(at))
        )

    numbers: dict[tuple[str, int], int] = {}

    def attempt(name: str, module: Module, at: str, score: str) -> None:
        key = (name, module.id)
        numbers[key] = numbers.get(key, 0) + 1
        version = db.session.query(QuizVersion).filter_by(module_id=module.id).one()
        db.session.add(
            QuizAttempt(
                user_id=w.users[name].id,
                module_id=module.id,
                quiz_version_id=version.id,
                number=numbers[key],
                started_at=utc(at),
                submitted_at=utc(at),
                layout={},
                responses={},
                results={},
                earned=0,
                possible=0,
                score_pct=Decimal(score),
                passed=Decimal(score) >= 60,
            )
        )

    def progress(name: str, module: Module, started: str, completed: str | None = None) -> None:
        db.session.add(
            ModuleProgress(
                user_id=w.users[name].id,
                module_id=module.id,
                started_at=utc(started),
                last_seen_at=utc(started),
                completed_at=utc(completed) if completed else None,
            )
        )

    person("anna", w.napoli, StaffCategory.NEW_HIRE, hired_on=date(2025, 1, 1))
    enrol("anna", w.a, "2026-01-05 12:00", date(2026, 2, 1))
    enrol("anna", w.b, "2026-02-01 12:00")
    complete("anna", w.a, "2026-02-10 12:00")
    attempt("anna", a["q1"], "2026-01-20 12:00", "40")
    attempt("anna", a["q1"], "2026-02-05 12:00", "80")
    attempt("anna", a["q1"], "2026-03-02 12:00", "100")  # after D
    attempt("anna", b["q1"], "2026-02-15 12:00", "53.30")
    progress("anna", b["p1"], "2026-02-14 12:00", "2026-02-14 12:30")
    progress("anna", b["q1"], "2026-02-15 12:00")

    person("bruno", w.napoli)
    enrol("bruno", w.a, "2026-02-20 12:00", date(2026, 2, 28))
    enrol("bruno", w.b, "2026-03-05 12:00")  # after D

    person("carla", w.napoli, hired_on=date(2026, 3, 2))
    enrol("carla", w.a, "2026-01-01 12:00")
    complete("carla", w.a, "2026-01-02 12:00")

    person("dario", w.napoli, left_on=D)
    enrol("dario", w.b, "2026-01-01 12:00", date(2026, 1, 15))

    person("elena", w.salerno, StaffCategory.NEW_HIRE, left_on=date(2026, 3, 2))
    enrol("elena", w.b, "2026-01-10 12:00")
    complete("elena", w.b, "2026-02-28 23:30")  # 00:30 on 1 March in Italy
    attempt("elena", b["q1"], "2026-02-28 23:30", "90")

    person("franco", w.salerno)

    person("gina", w.catanzaro, StaffCategory.NEW_HIRE)
    enrol("gina", w.a, "2026-02-01 12:00")
    complete("gina", w.a, "2026-03-01 23:30")  # 00:30 on 2 March in Italy
    attempt("gina", a["q1"], "2026-03-01 22:59", "70")  # 23:59 on 1 March in Italy
    progress("gina", a["p1"], "2026-02-15 12:00", "2026-02-15 12:10")

    person("hugo", w.milano)
    enrol("hugo", w.a, "2026-01-01 12:00")
    attempt("hugo", a["q0"], "2026-01-05 12:00", "10")  # quiz retired on 10 January
    attempt("hugo", a["q1"], "2026-01-14 12:00", "100")
    complete("hugo", w.a, "2026-01-15 12:00")

    person("ivan", w.milano, account=False)
    enrol("ivan", w.b, "2026-02-01 12:00", D)
    db.session.commit()
    return w
