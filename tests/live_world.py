"""A small world for the live-session tests: a course with a live module, people, editions.

Shared by tests/test_live*.py (and usable by the attendance importers' tests):
``build_live_world(make_user, make_authority, make_region)``, called from a
fixture of the test module, gives a course "webinar-prova" (a page, a 2-hour live module
needing 75 %, a last page), two authorities (Napoli in Campania, Catanzaro in
Calabria), a trainer, and helpers to add people and editions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from lms.auth.models import Role, User
from lms.core.types import utcnow
from lms.courses.models import Course, Module, ModuleKind
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.live.models import LiveEdition
from lms.register.models import Authority, Region, StaffCategory, StaffMember

NAPOLI = "063049"
CATANZARO = "079023"
_numbers = itertools.count(1)


def fake_codice_fiscale(n: int) -> str:
    """16 characters shaped like a codice fiscale (the register's column needs 16)."""
    return f"RSSMRA{n:09d}X"


@dataclass
class LiveWorld:
    course: Course
    live: Module
    first_page: Module
    last_page: Module
    napoli: Authority
    catanzaro: Authority
    campania: Region
    trainer: User
    make_user: Callable[..., User]
    people: list[StaffMember] = field(default_factory=list)

    def person(
        self,
        *,
        authority: Authority | None = None,
        account: bool = True,
        enrolled: bool = True,
        first_name: str = "Anna",
        last_name: str | None = None,
        email: str | None = None,
    ) -> StaffMember:
        """A staff member (with a learner account, enrolled in the course, by default)."""
        n = next(_numbers)
        last_name = last_name or f"Persona{n}"
        email = email or f"persona{n}@example.org"
        user = None
        if account:
            user = self.make_user(
                Role.LEARNER, email=email, first_name=first_name, last_name=last_name
            )
        member = StaffMember(
            codice_fiscale=fake_codice_fiscale(n),
            first_name=first_name,
            last_name=last_name,
            email=email,
            authority_id=(authority or self.napoli).id,
            category=StaffCategory.EXISTING,
            user_id=user.id if user else None,
        )
        _db.session.add(member)
        _db.session.flush()
        if enrolled:
            _db.session.add(Enrolment(staff_id=member.id, course_id=self.course.id))
        _db.session.commit()
        self.people.append(member)
        return member

    def edition(
        self,
        *,
        starts_at: datetime | None = None,
        minutes: int = 120,
        capacity: int | None = None,
        place: str = "",
        meeting_url: str = "https://teams.example.org/l/meetup-join/prova",
    ) -> LiveEdition:
        """An edition of the live module (by default a week from now, two hours, no limit)."""
        edition = LiveEdition(
            module_id=self.live.id,
            starts_at=starts_at or utcnow() + timedelta(days=7),
            minutes=minutes,
            capacity=capacity,
            place=place,
            meeting_url=meeting_url,
            trainer_id=self.trainer.id,
            created_by_id=self.trainer.id,
        )
        _db.session.add(edition)
        _db.session.commit()
        return edition


def make_live_course(slug: str = "webinar-prova") -> tuple[Course, Module, Module, Module]:
    course = Course(
        slug=slug,
        title="Laboratorio di prova",
        hours=Decimal(4),
        source_hash="x",
    )
    _db.session.add(course)
    _db.session.flush()
    modules = []
    for position, (module_slug, title, kind) in enumerate(
        [
            ("introduzione", "Introduzione", ModuleKind.PAGE),
            ("webinar", "Webinar di progettazione", ModuleKind.LIVE),
            ("conclusioni", "Conclusioni", ModuleKind.PAGE),
        ],
        start=1,
    ):
        module = Module(
            course_id=course.id,
            slug=module_slug,
            position=position,
            title=title,
            kind=kind,
            body_html=f"<p>Testo del modulo {title}.</p>",
            filename=f"{position:02d}-{module_slug}.md",
            source_hash="x",
        )
        if kind is ModuleKind.LIVE:
            module.live_hours = Decimal(2)
            module.attendance_percent = 75
        _db.session.add(module)
        modules.append(module)
    _db.session.commit()
    return course, modules[1], modules[0], modules[2]


def build_live_world(
    make_user: Callable[..., User],
    make_authority: Callable[..., Authority],
    make_region: Callable[..., Region],
) -> LiveWorld:
    campania = make_region("15")
    napoli = make_authority(istat_code=NAPOLI, name="Napoli", region_code="15")
    catanzaro = make_authority(istat_code=CATANZARO, name="Catanzaro", region_code="18")
    _db.session.commit()
    course, live, first, last = make_live_course()
    trainer = make_user(Role.TRAINER, first_name="Teresa", last_name="Formatrice")
    return LiveWorld(
        course=course,
        live=live,
        first_page=first,
        last_page=last,
        napoli=napoli,
        catanzaro=catanzaro,
        campania=campania,
        trainer=trainer,
        make_user=make_user,
    )


#: A moment safely in the past, for editions whose attendance is recorded.
PAST = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
