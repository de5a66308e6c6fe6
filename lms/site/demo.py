"""Demo data for trying the product: accounts now, staff and progress as they land."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Literal

from codicefiscale import codicefiscale as cf
from sqlalchemy import select

from lms.assessments.operations import current_version, start_attempt, submit_attempt
from lms.auth.models import User
from lms.auth.operations import create_user, find_authority, find_region
from lms.core.messages import in_english
from lms.core.types import rome_date, utcnow
from lms.courses.models import Course, ModuleKind, ModuleProgress
from lms.courses.progress import complete_module, record_visit
from lms.enrolments.enrol import enrol
from lms.enrolments.roster import Category, StaffRow
from lms.enrolments.staff_import import apply_import, plan_import
from lms.extensions import db
from lms.live.models import LiveEdition
from lms.live.operations import EditionDetails, rome_start, schedule_edition, sign_up
from lms.register.models import StaffMember


@dataclass(frozen=True)
class DemoUser:
    """A demo account; the password is public, so demo data never runs in production."""

    role: str
    email: str
    password: str
    first_name: str
    last_name: str
    scope_authorities: tuple[str, ...] = ()
    scope_regions: tuple[str, ...] = ()


DEMO_USERS = (
    DemoUser("learner", "discente@demo.example", "Discente-2026", "Giulia", "Esposito"),
    DemoUser("trainer", "formatore@demo.example", "Formatore-2026", "Marco", "Ferrara"),
    # HR manager of the Comune di Napoli (ISTAT 063049).
    DemoUser(
        "hr",
        "hr.napoli@demo.example",
        "Personale-2026",
        "Anna",
        "Russo",
        scope_authorities=("063049",),
    ),
    # HR manager of the whole Regione Calabria (18).
    DemoUser(
        "hr", "hr.calabria@demo.example", "Personale-2026", "Luca", "Greco", scope_regions=("18",)
    ),
    DemoUser("admin", "admin@demo.example", "Amministra-2026", "Sara", "Romano"),
)
#: The demo learner, who is also the first demo staff member. Only a learner
#: account is ever tied to a staff record: the trainer, HR and admin demo
#: accounts have none (the import refuses their e-mails).
DEMO_LEARNER = next(demo for demo in DEMO_USERS if demo.role == "learner")


def load_demo() -> int:
    """Create the demo accounts that do not exist yet; return how many were created."""
    if find_region("15") is None or find_authority("063049") is None:
        raise LookupError("the register is empty: run `lms register load` first")
    created = 0
    for demo in DEMO_USERS:
        if db_user_exists(demo.email):
            continue
        create_user(
            email=demo.email,
            role=demo.role,
            password=demo.password,
            first_name=demo.first_name,
            last_name=demo.last_name,
            scope_authorities=demo.scope_authorities,
            scope_regions=demo.scope_regions,
        )
        created += 1
    return created


def db_user_exists(email: str) -> bool:
    """Whether an account with *email* exists."""
    return db.session.scalar(select(User.id).where(User.email == email)) is not None


# Demo staff ---------------------------------------------------------------

#: (first name, last name, sex, birth date, authority ISTAT code, category)
DEMO_STAFF: tuple[tuple[str, str, Literal["M", "F"], str, str, Category], ...] = (
    ("Giulia", "Esposito", "F", "1991-03-12", "063049", "new_hire"),  # the demo learner
    ("Ciro", "Russo", "M", "1985-07-02", "063049", "new_hire"),
    ("Carmela", "Romano", "F", "1979-11-23", "063049", "existing"),
    ("Gennaro", "De Luca", "M", "1990-01-30", "063049", "new_hire"),
    ("Assunta", "Marino", "F", "1983-05-17", "063049", "existing"),
    ("Francesco", "Greco", "M", "1988-09-09", "079023", "new_hire"),  # Catanzaro
    ("Rosaria", "Bruno", "F", "1976-02-14", "079023", "existing"),
    ("Domenico", "Gallo", "M", "1993-12-01", "078045", "new_hire"),  # Cosenza
    ("Teresa", "Costa", "F", "1981-08-25", "080063", "existing"),  # Reggio Calabria
    ("Pasquale", "Ferrari", "M", "1987-04-04", "080063", "new_hire"),
)


def _demo_codice_fiscale(first: str, last: str, sex: Literal["M", "F"], born: str) -> str:
    """A valid codice fiscale (born in Napoli) built with python-codicefiscale's parts."""
    day = date.fromisoformat(born).strftime("%d/%m/%Y")
    stem = cf.encode_lastname(last) + cf.encode_firstname(first) + cf.encode_birthdate(day, sex)
    stem += "F839"
    return stem + cf.encode_cin(stem)


def demo_staff_email(line: int, first: str, last: str) -> str:
    """The e-mail of the demo staff member of roster *line*: the demo learner's for the first."""
    if line == 2:  # noqa: PLR2004 - the first row is the demo learner
        return DEMO_LEARNER.email
    return f"{first}.{last}".lower().replace(" ", "") + "@demo.example"


def load_demo_staff() -> int:
    """Import the demo staff (idempotent) and enrol them; return how many were new.

    Through the import's plan, as an administrator would (no scope limit), so
    its ownership rules hold: should a demo e-mail belong to a trainer, HR or
    admin account (made by hand with ``lms users create``), the demo stops with
    the import's error instead of tying that account to a staff record.
    """
    rows = []
    for line, (first, last, sex, born, code, category) in enumerate(DEMO_STAFF, start=2):
        authority = find_authority(code)
        if authority is None:  # a partial register (tests): skip that authority's people
            continue
        email = demo_staff_email(line, first, last)
        rows.append(
            StaffRow(
                line=line,
                codice_fiscale=_demo_codice_fiscale(first, last, sex, born),
                first_name=first,
                last_name=last,
                email=email,
                authority_id=authority.id,
                category=category,
                profile="specialista tecnico" if category == "new_hire" else None,
                hired_on=date(2025, 3, 1) if category == "new_hire" else date(2012, 9, 1),
                left_on=None,
            )
        )
    plan = plan_import(rows, scope=None)
    if plan.errors:
        raise LookupError("demo staff: " + "; ".join(in_english(plan.errors)))
    result = apply_import(plan)
    _enrol_demo()
    _demo_progress()
    _demo_sessions()
    return result.added


#: How many days ago the demo staff were enrolled: before any of their progress
#: (:data:`DEMO_PROGRESS`), so that a person's page never shows a course completed
#: before the enrolment.
DEMO_ENROLLED_DAYS_AGO = 30

#: (course, "authority" or "region", its code, due in days from today: negative is
#: overdue). The demo learner has not started Fondamenti, due 10 days ago, so their
#: home page shows it overdue, as the README's tour says; they completed Appalti,
#: due later.
DEMO_ENROLMENTS: tuple[tuple[str, Literal["authority", "region"], str, int], ...] = (
    ("fondamenti-coesione", "authority", "063049", -10),  # Comune di Napoli
    ("appalti-pubblici", "authority", "063049", 60),
    ("monitoraggio-controlli", "region", "18", 90),  # Regione Calabria
)


def _enrol_demo() -> None:
    """Standing enrolments for the demo authorities, when the courses are synchronised.

    Made :data:`DEMO_ENROLLED_DAYS_AGO` days ago, with due dates counted from today.
    """
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    now = utcnow()
    for slug, kind, code, due_in in DEMO_ENROLMENTS:
        by_authority = kind == "authority"
        target = find_authority(code) if by_authority else find_region(code)
        if slug not in courses or target is None:
            continue
        enrol(
            courses[slug],
            authority_ids=[target.id] if by_authority else [],
            region_ids=[] if by_authority else [target.id],
            due_on=rome_date(now) + timedelta(days=due_in),
            now=now - timedelta(days=DEMO_ENROLLED_DAYS_AGO),
        )


#: (demo staff e-mail, course, modules done (None: all), days ago, wrong answers per quiz);
#: every "days ago" is under :data:`DEMO_ENROLLED_DAYS_AGO`.
DEMO_PROGRESS = (
    ("discente@demo.example", "appalti-pubblici", None, 20, 0),
    ("ciro.russo@demo.example", "fondamenti-coesione", None, 15, 1),
    ("carmela.romano@demo.example", "appalti-pubblici", None, 12, 1),
    ("carmela.romano@demo.example", "fondamenti-coesione", 3, 2, 0),
    ("gennaro.deluca@demo.example", "fondamenti-coesione", 2, 1, 0),
    ("francesco.greco@demo.example", "monitoraggio-controlli", None, 8, 0),
    ("rosaria.bruno@demo.example", "monitoraggio-controlli", 3, 3, 0),
)


def _quiz_form(questions: list[dict], wrong: int) -> dict[str, list[str]]:
    """The form a learner would submit: right answers, except the first *wrong* ones left blank."""
    form: dict[str, list[str]] = {}
    for number, question in enumerate(questions):
        qid = question["id"]
        form[f"{qid}__shown"] = ["1"]
        if number < wrong:
            continue
        if question["kind"] == "short":
            form[qid] = [question["answers"][0]]
        else:
            form[qid] = [o["id"] for o in question["options"] if o["correct"]]
    return form


def _demo_progress() -> None:
    """Some demo people read modules, pass quizzes and complete courses.

    Through the same operations as the web pages, so that reports, hours and
    certificates have data. People who already have progress are left alone:
    running it again changes nothing.
    """
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    for email, slug, done, days_ago, wrong in DEMO_PROGRESS:
        user = db.session.scalar(select(User).where(User.email == email))
        course = courses.get(slug)
        if user is None or course is None:
            continue
        # A survey is completed only by answering it, anonymously: the demo does not.
        modules = [
            m for m in course.modules if m.retired_at is None and m.kind is not ModuleKind.SURVEY
        ]
        started = db.session.scalar(
            select(ModuleProgress.id).where(
                ModuleProgress.user_id == user.id,
                ModuleProgress.module_id.in_([m.id for m in modules]),
            )
        )
        if started is not None:
            continue
        when = utcnow() - timedelta(days=days_ago)
        for step, module in enumerate(modules[:done]):
            now = when + timedelta(minutes=20 * step)
            record_visit(user, module, now)
            if module.kind is ModuleKind.QUIZ:
                attempt = start_attempt(user, module, now)
                questions = current_version(module).questions
                submit_attempt(user, attempt, _quiz_form(questions, wrong), now)
            else:
                complete_module(user, module, now)


# Demo live sessions -------------------------------------------------------

#: The course with a live module, and the demo trainer who holds its sessions.
DEMO_LIVE_COURSE = "laboratorio-progetti"
DEMO_TRAINER = next(demo for demo in DEMO_USERS if demo.role == "trainer")
#: (days from today, Italian start time, minutes, place, meeting link, seats, people booked):
#: a webinar next week almost full (one seat left), a classroom session later with the
#: demo learner booked (their home page lists it).
DEMO_SESSIONS: tuple[tuple[int, str, int, str, str, int, tuple[str, ...]], ...] = (
    (
        7,
        "10:00",
        120,
        "",
        "https://teams.microsoft.com/l/meetup-join/demo-laboratorio",
        5,
        (
            "ciro.russo@demo.example",
            "carmela.romano@demo.example",
            "gennaro.deluca@demo.example",
            "assunta.marino@demo.example",
        ),
    ),
    (
        21,
        "14:30",
        120,
        "Comune di Napoli, Sala formazione, piazza Municipio 1",
        "",
        20,
        ("discente@demo.example",),
    ),
)


def _demo_sessions() -> None:
    """The laboratory's live module gets two editions, once, with people of the Comune booked.

    The Comune di Napoli's demo staff are enrolled in the course one by one (no standing
    rule: people imported later are not); the editions are scheduled by the demo trainer
    and the seats booked by the people themselves, through the same operations as the pages.
    """
    course = db.session.scalar(select(Course).where(Course.slug == DEMO_LIVE_COURSE))
    trainer = db.session.scalar(select(User).where(User.email == DEMO_TRAINER.email))
    napoli = find_authority("063049")
    if course is None or trainer is None or napoli is None:
        return
    live = next(
        (m for m in course.modules if m.kind is ModuleKind.LIVE and m.retired_at is None), None
    )
    if live is None:
        return
    if db.session.scalar(select(LiveEdition.id).where(LiveEdition.module_id == live.id)):
        return  # already there: running the demo again changes nothing
    people = {
        s.email: s
        for s in db.session.scalars(
            select(StaffMember).where(
                StaffMember.authority_id == napoli.id, StaffMember.email.like("%@demo.example")
            )
        )
    }
    now = utcnow()
    enrol(
        course,
        staff_ids=[s.id for s in people.values()],
        standing=False,
        due_on=rome_date(now) + timedelta(days=60),
        now=now - timedelta(days=DEMO_ENROLLED_DAYS_AGO),
    )
    for days, start, minutes, place, url, seats, booked in DEMO_SESSIONS:
        hour, minute = (int(part) for part in start.split(":"))
        day = rome_date(now) + timedelta(days=days)
        edition = schedule_edition(
            live,
            EditionDetails(
                starts_at=rome_start(day, time(hour, minute)),
                minutes=minutes,
                place=place,
                meeting_url=url,
                capacity=seats,
                trainer=trainer,
                notes="Sessione di prova dei dati dimostrativi.",
            ),
            trainer,
            now=now,
        )
        for email in booked:
            staff = people.get(email)
            user = db.session.get(User, staff.user_id) if staff and staff.user_id else None
            if staff is not None and user is not None:
                sign_up(edition, staff, user, now=now)
