"""Demo data for trying the product: accounts, staff, progress, live sessions, surveys, hours.

Everything goes through the operations the pages use (with a ``now`` in the past
where the story needs it: an edition scheduled three weeks ago, a seat booked
before it started), so the audit log, the reports and the rules see demo data as
they would see real data. Running it again adds only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from codicefiscale import codicefiscale as cf
from fpdf import FPDF
from sqlalchemy import select

from lms.assessments.operations import current_version, start_attempt, submit_attempt
from lms.auth.models import User
from lms.auth.operations import create_user, find_authority, find_region
from lms.core.messages import in_english
from lms.core.types import ROME, rome_date, today_in_italy, utcnow
from lms.courses.models import Course, Module, ModuleKind, ModuleProgress
from lms.courses.progress import complete_module, record_visit
from lms.enrolments.enrol import enrol
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.enrolments.roster import Category, StaffRow
from lms.enrolments.staff_import import apply_import, plan_import
from lms.extensions import db
from lms.external.models import ExternalTraining
from lms.external.operations import Declaration, approve, declare
from lms.live.attendance import record_attendance
from lms.live.errors import LiveError
from lms.live.models import AttendanceSource, LiveEdition
from lms.live.operations import EditionDetails, rome_start, schedule_edition, sign_up
from lms.register.models import StaffMember
from lms.surveys.operations import check_answers, has_answered, submit_survey


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
    # A second learner, on the staff of the Comune di Catanzaro: booked in the webinar
    # held yesterday, whose attendance the trainer has still to record.
    DemoUser("learner", "antonio.mancuso@demo.example", "Discente-2026", "Antonio", "Mancuso"),
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
#: How to sign in as the demo staff who have no password (every demo learner but those
#: of :data:`DEMO_USERS`): ``lms demo`` prints it, the README's tour says it.
OTHER_STAFF_SIGN_IN = (
    "the other demo staff have no password: `lms staff send-links --print` prints a"
    " one-time link for each (open it, choose a password, sign in with their e-mail)"
)


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
    ("Antonio", "Mancuso", "M", "1994-06-18", "079023", "new_hire"),  # the second demo learner
    ("Francesca", "Lombardo", "F", "1992-10-05", "078045", "new_hire"),
    ("Salvatore", "Perri", "M", "1980-03-27", "078045", "existing"),
    ("Maria", "Caruso", "F", "1989-07-14", "080063", "new_hire"),
    ("Michele", "Scalise", "M", "1984-11-08", "079023", "existing"),
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
    _enrol_live_course()
    _demo_progress()
    _demo_sessions()
    _demo_surveys()
    _demo_external()
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
    Once a rule is there it enrols the people imported later by itself: the demo
    does not enrol again (that would only add an audit entry enrolling nobody).
    """
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    now = utcnow()
    for slug, kind, code, due_in in DEMO_ENROLMENTS:
        by_authority = kind == "authority"
        target = find_authority(code) if by_authority else find_region(code)
        if slug not in courses or target is None:
            continue
        column = EnrolmentRule.authority_id if by_authority else EnrolmentRule.region_id
        rule = db.session.scalar(
            select(EnrolmentRule.id).where(
                EnrolmentRule.course_id == courses[slug].id, column == target.id
            )
        )
        if rule is not None:
            continue
        enrol(
            courses[slug],
            authority_ids=[target.id] if by_authority else [],
            region_ids=[] if by_authority else [target.id],
            due_on=rome_date(now) + timedelta(days=due_in),
            now=now - timedelta(days=DEMO_ENROLLED_DAYS_AGO),
        )


# Demo live sessions -------------------------------------------------------

#: The course with a live module, and the demo trainer who holds its sessions.
DEMO_LIVE_COURSE = "laboratorio-progetti"
DEMO_TRAINER = next(demo for demo in DEMO_USERS if demo.role == "trainer")


def _demo_people() -> dict[str, StaffMember]:
    """The demo staff on the register, by e-mail."""
    return {
        s.email: s
        for s in db.session.scalars(
            select(StaffMember).where(StaffMember.email.like("%@demo.example"))
        )
    }


def _enrol_live_course() -> None:
    """Every demo staff member is enrolled in the laboratory one by one (no standing rule).

    Only those not enrolled yet, so that running the demo again enrols (and audits) nobody.
    """
    course = db.session.scalar(select(Course).where(Course.slug == DEMO_LIVE_COURSE))
    if course is None:
        return
    enrolled = set(
        db.session.scalars(select(Enrolment.staff_id).where(Enrolment.course_id == course.id))
    )
    staff_ids = sorted(s.id for s in _demo_people().values() if s.id not in enrolled)
    if not staff_ids:
        return
    now = utcnow()
    enrol(
        course,
        staff_ids=staff_ids,
        standing=False,
        due_on=rome_date(now) + timedelta(days=60),
        now=now - timedelta(days=DEMO_ENROLLED_DAYS_AGO),
    )


#: (demo staff e-mail, course, modules done (None: all), days ago, wrong answers per quiz);
#: every "days ago" is under :data:`DEMO_ENROLLED_DAYS_AGO`. Live modules are done only
#: by attendance (:data:`DEMO_SESSIONS`), surveys only by answering (:data:`DEMO_SURVEYS`):
#: Ciro Russo and Francesco Greco read the laboratory and passed its quiz before the
#: webinar held 8 days ago, so their attendance completes the course.
DEMO_PROGRESS = (
    ("discente@demo.example", "appalti-pubblici", None, 20, 0),
    ("ciro.russo@demo.example", "fondamenti-coesione", None, 15, 1),
    ("carmela.romano@demo.example", "appalti-pubblici", None, 12, 1),
    ("carmela.romano@demo.example", "fondamenti-coesione", 3, 2, 0),
    ("gennaro.deluca@demo.example", "fondamenti-coesione", 2, 1, 0),
    ("francesco.greco@demo.example", "monitoraggio-controlli", None, 8, 0),
    ("rosaria.bruno@demo.example", "monitoraggio-controlli", 3, 3, 0),
    ("ciro.russo@demo.example", "laboratorio-progetti", None, 11, 0),
    ("francesco.greco@demo.example", "laboratorio-progetti", None, 10, 0),
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
        # A survey is completed only by answering it, anonymously; a live module only
        # by the attendance recorded: the demo does both below, the pages' way.
        modules = [
            m
            for m in course.modules
            if m.retired_at is None and m.kind not in (ModuleKind.SURVEY, ModuleKind.LIVE)
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


@dataclass(frozen=True)
class DemoSession:
    """An edition of the laboratory's webinar (or classroom session) in the demo.

    *days* from today (negative: already held), at *start* on Italy's clocks. The
    place or the meeting link tells the demo's editions apart, so each is made once.
    *booked*: who booked a seat, in order. *attendance*: (e-mail, minutes) as the
    trainer recorded them from the Teams report; None: not recorded yet.
    """

    days: int
    start: str
    minutes: int
    place: str
    meeting_url: str
    seats: int
    booked: tuple[str, ...]
    attendance: tuple[tuple[str, int], ...] | None = None
    notes: str = "Sessione di prova dei dati dimostrativi."


#: A webinar held 8 days ago, its attendance recorded (four at or above the 90 minutes
#: that make 75 %, two below); one held yesterday with four people booked, its register
#: still to fill in (:func:`demo_teams_report` is its Teams report); a webinar next week
#: almost full (one seat left); a classroom session later with the demo learner booked
#: (their home page lists it).
DEMO_SESSIONS: tuple[DemoSession, ...] = (
    DemoSession(
        days=7,
        start="10:00",
        minutes=120,
        place="",
        meeting_url="https://teams.microsoft.com/l/meetup-join/demo-laboratorio",
        seats=5,
        booked=(
            "domenico.gallo@demo.example",
            "teresa.costa@demo.example",
            "pasquale.ferrari@demo.example",
            "salvatore.perri@demo.example",
        ),
    ),
    DemoSession(
        days=21,
        start="14:30",
        minutes=120,
        place="Comune di Napoli, Sala formazione, piazza Municipio 1",
        meeting_url="",
        seats=20,
        booked=("discente@demo.example",),
    ),
    DemoSession(
        days=-8,
        start="10:00",
        minutes=120,
        place="",
        meeting_url="https://teams.microsoft.com/l/meetup-join/demo-laboratorio-prima-edizione",
        seats=12,
        booked=(
            "ciro.russo@demo.example",
            "carmela.romano@demo.example",
            "gennaro.deluca@demo.example",
            "assunta.marino@demo.example",
            "francesco.greco@demo.example",
            "rosaria.bruno@demo.example",
        ),
        attendance=(
            ("ciro.russo@demo.example", 120),
            ("carmela.romano@demo.example", 104),
            ("gennaro.deluca@demo.example", 96),
            ("assunta.marino@demo.example", 62),
            ("francesco.greco@demo.example", 117),
            ("rosaria.bruno@demo.example", 41),
        ),
        notes="Sessione di prova dei dati dimostrativi: prima edizione.",
    ),
    DemoSession(
        days=-1,
        start="10:00",
        minutes=120,
        place="",
        meeting_url="https://teams.microsoft.com/l/meetup-join/demo-laboratorio-seconda-edizione",
        seats=12,
        booked=(
            "antonio.mancuso@demo.example",
            "francesca.lombardo@demo.example",
            "maria.caruso@demo.example",
            "michele.scalise@demo.example",
        ),
        notes="Sessione di prova dei dati dimostrativi: seconda edizione.",
    ),
)
#: The edition held yesterday whose attendance is still to record.
DEMO_UNRECORDED = next(s for s in DEMO_SESSIONS if s.days < 0 and s.attendance is None)
#: How long before an edition it was scheduled, and its seats booked.
SCHEDULED_BEFORE = timedelta(days=21)
BOOKED_BEFORE = timedelta(days=14)


def _live_module() -> Module | None:
    """The laboratory's live module in use, when the course is synchronised."""
    course = db.session.scalar(select(Course).where(Course.slug == DEMO_LIVE_COURSE))
    if course is None:
        return None
    return next(
        (m for m in course.modules if m.kind is ModuleKind.LIVE and m.retired_at is None), None
    )


def demo_edition(session: DemoSession) -> LiveEdition | None:
    """The edition made for *session*, if the demo made it (found by its place and link)."""
    live = _live_module()
    if live is None:
        return None
    return db.session.scalar(
        select(LiveEdition)
        .where(
            LiveEdition.module_id == live.id,
            LiveEdition.place == session.place,
            LiveEdition.meeting_url == session.meeting_url,
        )
        .order_by(LiveEdition.id)
        .limit(1)
    )


def _demo_sessions() -> None:
    """The laboratory's live module gets its demo editions, each once, with people booked.

    Scheduled by the demo trainer :data:`SCHEDULED_BEFORE` the edition and booked by the
    people themselves :data:`BOOKED_BEFORE` it, through the same operations as the
    pages (with those moments as ``now``: the operations refuse a start in the past,
    and rightly). The attendance of the edition held 8 days ago is recorded as the
    trainer would from its Teams report, two hours after it ended. Someone who already
    holds a seat in another edition of the module (a demo made before these editions
    existed) keeps it, and is only recorded present.
    """
    live = _live_module()
    trainer = db.session.scalar(select(User).where(User.email == DEMO_TRAINER.email))
    if live is None or trainer is None:
        return
    people = _demo_people()
    today = rome_date(utcnow())
    for session in DEMO_SESSIONS:
        if demo_edition(session) is not None:
            continue  # already there: running the demo again changes nothing
        hour, minute = (int(part) for part in session.start.split(":"))
        starts_at = rome_start(today + timedelta(days=session.days), time(hour, minute))
        scheduled = min(utcnow(), starts_at - SCHEDULED_BEFORE)
        edition = schedule_edition(
            live,
            EditionDetails(
                starts_at=starts_at,
                minutes=session.minutes,
                place=session.place,
                meeting_url=session.meeting_url,
                capacity=session.seats,
                trainer=trainer,
                notes=session.notes,
            ),
            trainer,
            now=scheduled,
        )
        booked_at = max(scheduled, starts_at - BOOKED_BEFORE)
        for number, email in enumerate(session.booked):
            staff = people.get(email)
            user = db.session.get(User, staff.user_id) if staff and staff.user_id else None
            if staff is None or user is None:
                continue
            try:
                sign_up(edition, staff, user, now=booked_at + timedelta(minutes=37 * number))
            except LiveError:
                continue  # a seat in another edition of the module, from an earlier demo
        if session.attendance is not None:
            minutes = {
                people[email].id: present
                for email, present in session.attendance
                if email in people
            }
            record_attendance(
                edition,
                minutes,
                AttendanceSource.TEAMS,
                trainer,
                now=edition.ends_at + timedelta(hours=2),
            )


# The Teams report of the edition held yesterday ------------------------------------

#: Who joined yesterday's webinar, as Microsoft Teams reports it: (name, e-mail, role,
#: connections as (minutes from the start joined, minutes from the start left)). The
#: trainer organised it; Antonio Mancuso reconnected once; Maria Caruso stayed an
#: hour (under the 90 minutes that count); Michele Scalise, booked, did not come; a
#: guest joined without an address, so the import lists that row as unused.
DEMO_TEAMS_REPORT: tuple[tuple[str, str, str, tuple[tuple[int, int], ...]], ...] = (
    ("Marco Ferrara", DEMO_TRAINER.email, "Organizzatore", ((-5, 122),)),
    ("Antonio Mancuso", "antonio.mancuso@demo.example", "Partecipante", ((1, 47), (52, 120))),
    ("Francesca Lombardo", "francesca.lombardo@demo.example", "Partecipante", ((8, 115),)),
    ("Maria Caruso", "maria.caruso@demo.example", "Partecipante", ((3, 63),)),
    ("Ospite (esterno)", "", "Partecipante", ((15, 70),)),
)


def _teams_duration(seconds: int) -> str:
    """A duration as Teams writes it: ``1h 5m 3s``, ``45m``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or not hours else []
    parts += [f"{secs}s"] if secs else []
    return " ".join(parts)


def demo_teams_report(edition: LiveEdition) -> bytes:
    """*edition*'s attendance report as Microsoft Teams in Italian downloads it.

    UTF-16 with a BOM, tab-separated, in the three numbered sections (summary,
    participants, one row per connection), times on Italy's clocks: a file for the
    trainer to upload on the edition's register (*Importa il rapporto*).
    """
    start = edition.starts_at.astimezone(ROME)

    def moment(offset: int) -> datetime:
        return start + timedelta(minutes=offset, seconds=(offset * 7) % 60)

    def stamp(when: datetime) -> str:
        return when.strftime("%d/%m/%y, %H:%M:%S")

    first = min(join for *_p, spans in DEMO_TEAMS_REPORT for join, _leave in spans)
    last = max(leave for *_p, spans in DEMO_TEAMS_REPORT for _join, leave in spans)
    rows: list[list[str]] = []
    activity: list[tuple[datetime, list[str]]] = []
    total = 0
    for name, email, role, spans in DEMO_TEAMS_REPORT:
        seconds = sum(int((moment(b) - moment(a)).total_seconds()) for a, b in spans)
        total += seconds
        joined, left = moment(spans[0][0]), moment(spans[-1][1])
        rows.append(
            [name, stamp(joined), stamp(left), _teams_duration(seconds), email, email, role]
        )
        for a, b in spans:
            span = int((moment(b) - moment(a)).total_seconds())
            activity.append(
                (
                    moment(a),
                    [name, stamp(moment(a)), stamp(moment(b)), _teams_duration(span), email, role],
                )
            )
    meeting = int((moment(last) - moment(first)).total_seconds())
    lines = [
        ["1. Riepilogo"],
        ["Titolo della riunione", f"{edition.module.title} (demo)"],
        ["Partecipanti", str(len(DEMO_TEAMS_REPORT))],
        ["Ora di inizio", stamp(moment(first))],
        ["Ora di fine", stamp(moment(last))],
        ["Durata della riunione", _teams_duration(meeting)],
        ["Tempo medio di partecipazione", _teams_duration(total // len(DEMO_TEAMS_REPORT))],
        [],
        ["2. Partecipanti"],
        [
            "Nome",
            "Primo accesso",
            "Ultima uscita",
            "Durata della riunione",
            "E-mail",
            "ID partecipante (UPN)",
            "Ruolo",
        ],
        *rows,
        [],
        ["3. Attività durante la riunione"],
        ["Nome", "Ora di ingresso", "Ora di uscita", "Durata", "E-mail", "Ruolo"],
        *(row for _when, row in sorted(activity, key=lambda item: item[0])),
    ]
    text = "".join("\t".join(line) + "\r\n" for line in lines)
    return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")


def unrecorded_edition() -> LiveEdition | None:
    """The demo's edition held yesterday, whose register the trainer is to fill in."""
    return demo_edition(DEMO_UNRECORDED)


# Demo survey answers ------------------------------------------------------------------

#: (course, who answered its survey, 6 days ago). The six who attended the laboratory's
#: webinar 8 days ago answered its survey: six responses, so a trainer sees the results
#: for the course and for that edition. Appalti has one, from Carmela Romano, who
#: completed the course: under the five that results need (the demo learner can add one).
DEMO_SURVEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "laboratorio-progetti",
        (
            "ciro.russo@demo.example",
            "carmela.romano@demo.example",
            "gennaro.deluca@demo.example",
            "assunta.marino@demo.example",
            "francesco.greco@demo.example",
            "rosaria.bruno@demo.example",
        ),
    ),
    ("appalti-pubblici", ("carmela.romano@demo.example",)),
)
#: What the respondents wrote in the free-text questions, in turn (empty: left blank).
DEMO_SURVEY_TEXTS = (
    "Il lavoro in gruppo su un caso vero: la scheda del nostro asilo nido.",
    "",
    "Gli indicatori con valore di base e obiettivo, finalmente chiari.",
    "Più tempo per gli esercizi e meno per la presentazione iniziale.",
    "",
    "Il cronoprogramma: lo userò per il prossimo avviso.",
)
#: The point of each scale each respondent chose (1 = the first label), in turn.
DEMO_SURVEY_POINTS = (4, 3, 4, 5, 2, 3)


def _survey_form(questions: list[dict], number: int) -> dict[str, list[str]]:
    """The form respondent *number* sends: a point on each scale, maybe a text."""
    form: dict[str, list[str]] = {}
    for index, question in enumerate(questions):
        if question["kind"] == "text":
            form[question["id"]] = [DEMO_SURVEY_TEXTS[(number + index) % len(DEMO_SURVEY_TEXTS)]]
        else:
            points = len(question["labels"])
            choice = DEMO_SURVEY_POINTS[(number + index) % len(DEMO_SURVEY_POINTS)]
            form[question["id"]] = [str(min(choice, points))]
    return form


def _demo_surveys() -> None:
    """Demo people answer the courses' surveys, through the surveys' own operation.

    :func:`lms.surveys.operations.submit_survey` keeps who answered apart from what was
    answered (a random key, no person, no time), exactly as for an answer from the
    page. Who has answered already is left alone.
    """
    now = utcnow()
    for slug, emails in DEMO_SURVEYS:
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        survey = next(
            (
                m
                for m in (course.modules if course is not None else [])
                if m.kind is ModuleKind.SURVEY and m.retired_at is None
            ),
            None,
        )
        if survey is None:
            continue
        for number, email in enumerate(emails):
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None or has_answered(user, survey):
                continue
            checked = check_answers(
                survey.survey_questions or [], _survey_form(survey.survey_questions or [], number)
            )
            if not checked.valid:  # the course's questions changed: no demo answer then
                continue
            submit_survey(user, survey, checked.answers, now - timedelta(days=6, hours=number))


# Demo training done elsewhere ---------------------------------------------------------

#: (person, title, provider, days ago completed, hours, approved by the HR manager of
#: Napoli?, with a certificate?). Ciro Russo's waits in hr.napoli's queue, with its PDF;
#: Carmela Romano's was approved, so the hours report shows external hours.
DEMO_EXTERNAL: tuple[tuple[str, str, str, int, str, bool, bool], ...] = (
    (
        "ciro.russo@demo.example",
        "La programmazione 2021-2027: strumenti e procedure",
        "Formez PA",
        5,
        "12",
        False,
        True,
    ),
    (
        "carmela.romano@demo.example",
        "Anticorruzione e trasparenza negli enti locali",
        "IFEL",
        12,
        "6,5",
        True,
        False,
    ),
)
DEMO_HR = next(demo for demo in DEMO_USERS if demo.role == "hr")


def demo_certificate(name: str, title: str, provider: str, completed_on: date, hours: str) -> bytes:
    """A one-page certificate of attendance, made with fpdf2: what a provider would send."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 20)
    pdf.cell(0, 20, "Attestato di partecipazione", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("helvetica", size=12)
    for line in (
        f"{provider} attesta che {name}",
        f"ha frequentato il corso «{title}»",
        f"concluso il {completed_on.strftime('%d/%m/%Y')}, per {hours} ore di formazione.",
        "",
        "Documento dimostrativo: nessun valore legale.",
    ):
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT", align="C")
    return bytes(pdf.output())


def _demo_external() -> None:
    """Demo people declared training done elsewhere; the HR manager of Napoli approved one.

    Through the external-training operations (the declaration as from the learner's
    form, the approval audited as from the HR page). A person's course already there
    (by title) is not declared again.
    """
    hr = db.session.scalar(select(User).where(User.email == DEMO_HR.email))
    people = _demo_people()
    today = today_in_italy()
    for email, title, provider, days_ago, hours, approved, with_pdf in DEMO_EXTERNAL:
        staff = people.get(email)
        user = db.session.get(User, staff.user_id) if staff and staff.user_id else None
        if staff is None or user is None:
            continue
        exists = db.session.scalar(
            select(ExternalTraining.id).where(
                ExternalTraining.staff_id == staff.id, ExternalTraining.title == title
            )
        )
        if exists is not None:
            continue
        completed_on = today - timedelta(days=days_ago)
        name = f"{staff.first_name} {staff.last_name}"
        training = declare(
            staff,
            Declaration(
                title=title,
                provider=provider,
                completed_on=completed_on,
                hours=Decimal(hours.replace(",", ".")),
                certificate=(
                    demo_certificate(name, title, provider, completed_on, hours)
                    if with_pdf
                    else None
                ),
                certificate_filename="attestato.pdf" if with_pdf else None,
            ),
            user=user,
        )
        if approved and hr is not None:
            approve(training, actor=hr)
