"""Live sessions on the web: the trainers' pages, the register (page, PDF, XLSX), HR, learners."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from conftest import csrf_token, login
from live_world import PAST, LiveWorld, build_live_world
from people_sheets import read_people_xlsx
from pypdf import PdfReader
from sqlalchemy import func, select

from lms.audit import Action, AuditEntry
from lms.auth.models import Role
from lms.core.types import utcnow
from lms.courses.models import ModuleProgress
from lms.extensions import db as _db
from lms.live.attendance import record_attendance
from lms.live.models import AttendanceSource, LiveAttendance, LiveEdition, LiveSignup, SignupStatus
from lms.live.operations import sign_up
from lms.register.models import StaffMember


@pytest.fixture
def w(make_user, make_authority, make_region) -> LiveWorld:
    return build_live_world(make_user, make_authority, make_region)


def sign_in_trainer(client, w: LiveWorld) -> None:
    assert login(client, w.trainer.email).status_code == 302


def page(response) -> str:
    return response.get_data(as_text=True)


def booked(w: LiveWorld, edition: LiveEdition, *people: StaffMember) -> None:
    for person in people:
        sign_up(edition, person, w.trainer)
    _db.session.commit()


def past_edition(w: LiveWorld, **kwargs) -> LiveEdition:
    """An edition that has been held, with people booked before it started."""
    return w.edition(starts_at=utcnow() + timedelta(days=1), **kwargs)


def move_to_past(edition: LiveEdition) -> None:
    edition.starts_at = PAST
    _db.session.commit()


def audit_count(action: str) -> int:
    return _db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


# Trainers: the list, scheduling, the edition page ----------------------------------------


def test_a_trainer_schedules_an_edition_on_italys_clock(client, w: LiveWorld) -> None:
    sign_in_trainer(client, w)
    listing = page(client.get("/sessioni/"))
    assert "Webinar di progettazione" in listing
    assert f"/sessioni/nuova/{w.live.id}" in listing
    form = client.get(f"/sessioni/nuova/{w.live.id}")
    assert form.status_code == 200
    token = csrf_token(client, f"/sessioni/nuova/{w.live.id}")
    year = utcnow().year + 1
    response = client.post(
        f"/sessioni/nuova/{w.live.id}",
        data={
            "csrf_token": token,
            "day": f"{year}-07-01",
            "start": "09:30",
            "minutes": "120",
            "place": "",
            "meeting_url": "https://teams.example.org/l/meetup-join/xyz",
            "capacity": "25",
            "trainer": str(w.trainer.id),
            "notes": "",
        },
    )
    assert response.status_code == 302, page(response)
    edition = _db.session.scalar(select(LiveEdition))
    assert edition.starts_at.hour == 7  # 09:30 in Rome in July is 07:30 UTC
    assert edition.starts_at.minute == 30
    assert edition.capacity == 25
    detail = page(client.get(response.location))
    assert "09:30–11:30" in detail
    assert audit_count(Action.EDITION_CREATE) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"meeting_url": "javascript:alert(1)", "place": ""}, "https://"),
        ({"minutes": "abc"}, "Scrivi un numero intero"),
        ({"capacity": "0"}, "I posti vanno da 1"),
        ({"day": "2020-01-01"}, "nel futuro"),
        ({"day": "", "start": ""}, "Indica la data"),
        ({"trainer": "999999"}, "formatore"),
    ],
)
def test_a_bad_edition_form_is_a_400_with_the_reason(client, w, changes, message) -> None:
    sign_in_trainer(client, w)
    token = csrf_token(client, f"/sessioni/nuova/{w.live.id}")
    data = {
        "csrf_token": token,
        "day": f"{utcnow().year + 1}-07-01",
        "start": "09:30",
        "minutes": "120",
        "place": "Aula 3, via Roma 1, Napoli",
        "meeting_url": "",
        "capacity": "",
        "trainer": "0",
        "notes": "",
        **changes,
    }
    response = client.post(f"/sessioni/nuova/{w.live.id}", data=data)
    assert response.status_code == 400
    assert message in page(response)
    assert _db.session.scalar(select(func.count(LiveEdition.id))) == 0


def test_a_capacity_cut_below_the_booked_seats_is_refused_on_the_web(client, w) -> None:
    edition = w.edition(capacity=3)
    booked(w, edition, w.person(), w.person())
    sign_in_trainer(client, w)
    url = f"/sessioni/{edition.id}/modifica"
    html = page(client.get(url))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    day = re.search(r'name="day"[^>]*value="([^"]+)"', html).group(1)
    start = re.search(r'name="start"[^>]*value="([^"]+)"', html).group(1)
    data = {
        "csrf_token": token,
        "day": day,
        "start": start,
        "minutes": "120",
        "meeting_url": edition.meeting_url,
        "place": "",
        "capacity": "1",
        "trainer": str(w.trainer.id),
        "notes": "",
    }
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "2 persone hanno già un posto" in page(response)
    response = client.post(url, data={**data, "capacity": "2", "notes": "Nuove note"})
    assert response.status_code == 302
    _db.session.expire_all()
    assert (edition.capacity, edition.notes) == (2, "Nuove note")
    assert audit_count(Action.EDITION_UPDATE) == 1


def test_cancel_needs_the_tick_and_keeps_the_signups(client, w) -> None:
    edition = w.edition()
    person = w.person()
    booked(w, edition, person)
    sign_in_trainer(client, w)
    token = csrf_token(client, f"/sessioni/{edition.id}/")
    assert (
        client.post(f"/sessioni/{edition.id}/annulla", data={"csrf_token": token}).status_code
        == 400
    )
    response = client.post(
        f"/sessioni/{edition.id}/annulla", data={"csrf_token": token, "confirm": "y"}
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert edition.cancelled_at is not None
    assert _db.session.scalar(select(LiveSignup.status)) is SignupStatus.BOOKED
    assert "annullata" in page(client.get(f"/sessioni/{edition.id}/"))
    assert audit_count(Action.EDITION_CANCEL) == 1


# The register ------------------------------------------------------------------------------


def test_the_register_page_lists_the_booked_with_codice_fiscale_and_threshold(client, w) -> None:
    edition = past_edition(w)
    anna = w.person(first_name="Anna", last_name="Àlvarez")
    bruno = w.person(first_name="Bruno", last_name="Bianchi", authority=w.catanzaro)
    w.person(first_name="Carla", last_name="NonPrenotata")
    booked(w, edition, anna, bruno)
    move_to_past(edition)
    sign_in_trainer(client, w)
    html = page(client.get(f"/sessioni/{edition.id}/registro"))
    assert anna.codice_fiscale in html
    assert bruno.codice_fiscale in html
    assert "NonPrenotata" not in html
    assert "da 90 minuti su 120" in html  # 75 % of 120
    assert html.index("Àlvarez") < html.index("Bianchi")


def test_saving_the_register_records_and_completes_at_the_threshold(client, w) -> None:
    edition = past_edition(w)
    full, enough, short, absent = (w.person() for _ in range(4))
    walk_in = w.person()  # enrolled, not booked: added by codice fiscale
    booked(w, edition, full, enough, short, absent)
    move_to_past(edition)
    sign_in_trainer(client, w)
    token = csrf_token(client, f"/sessioni/{edition.id}/registro")
    response = client.post(
        f"/sessioni/{edition.id}/registro",
        data={
            "csrf_token": token,
            f"present-{full.id}": "1",
            f"minutes-{full.id}": "",
            f"present-{enough.id}": "1",
            f"minutes-{enough.id}": "90",
            f"present-{short.id}": "1",
            f"minutes-{short.id}": "89",
            f"minutes-{absent.id}": "",
            "extra_cf": walk_in.codice_fiscale.lower(),
            "extra_minutes": "",
        },
    )
    assert response.status_code == 302, page(response)
    _db.session.expire_all()
    minutes = dict(
        _db.session.execute(select(LiveAttendance.staff_id, LiveAttendance.minutes)).all()
    )
    assert minutes == {full.id: 120, enough.id: 90, short.id: 89, absent.id: 0, walk_in.id: 120}
    completed = set(
        _db.session.scalars(
            select(ModuleProgress.user_id).where(
                ModuleProgress.module_id == w.live.id, ModuleProgress.completed_at.is_not(None)
            )
        )
    )
    assert completed == {full.user_id, enough.user_id, walk_in.user_id}
    (entry,) = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == Action.ATTENDANCE_RECORD)
    )
    assert (entry.summary["recorded"], entry.summary["completed"]) == (5, 3)
    # The walk-in now has a line of the register (they attended).
    assert walk_in.codice_fiscale in page(client.get(f"/sessioni/{edition.id}/registro"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"minutes-{a}": "abc", "present-{a}": "1"}, "Riga 1"),
        ({"minutes-{a}": "121", "present-{a}": "1"}, "da 0 a 120"),
        ({"minutes-{a}": "-5", "present-{a}": "1"}, "da 0 a 120"),
        ({"minutes-{a}": "30"}, "presenza non spuntata"),
        ({"extra_cf": "XXXXXXXXXXXXXXXX"}, "nessuna persona iscritta"),
        ({"extra_minutes": "30"}, "indica il codice fiscale"),
    ],
)
def test_a_bad_register_is_a_400_naming_the_row_and_writes_nothing(
    client, w, fields, message
) -> None:
    edition = past_edition(w)
    a = w.person()
    booked(w, edition, a)
    move_to_past(edition)
    sign_in_trainer(client, w)
    token = csrf_token(client, f"/sessioni/{edition.id}/registro")
    data = {"csrf_token": token} | {k.format(a=a.id): v for k, v in fields.items()}
    response = client.post(f"/sessioni/{edition.id}/registro", data=data)
    assert response.status_code == 400
    assert message in page(response)
    assert "Traceback" not in page(response)
    assert _db.session.scalar(select(func.count(LiveAttendance.id))) == 0


def test_the_register_of_a_future_edition_prints_but_does_not_save(client, w) -> None:
    edition = w.edition()
    person = w.person()
    booked(w, edition, person)
    sign_in_trainer(client, w)
    html = page(client.get(f"/sessioni/{edition.id}/registro"))
    assert "non è ancora iniziata" in html
    token = csrf_token(client, f"/sessioni/{edition.id}/registro")
    response = client.post(
        f"/sessioni/{edition.id}/registro",
        data={"csrf_token": token, f"present-{person.id}": "1"},
    )
    assert response.status_code == 400
    assert "non è ancora iniziata" in page(response)


def test_the_register_pdf_lists_people_minutes_and_the_edition(client, w) -> None:
    edition = past_edition(w, place="Aula Magna, via Toledo 1, Napoli", meeting_url="")
    anna = w.person(first_name="Anna", last_name="Dell'Àcqua")
    bruno = w.person(first_name="Bruno", last_name="Łukasiewicz")
    booked(w, edition, anna, bruno)
    move_to_past(edition)
    record_attendance(edition, {anna.id: 95}, AttendanceSource.REGISTER, w.trainer)
    _db.session.commit()
    sign_in_trainer(client, w)
    response = client.get(f"/sessioni/{edition.id}/registro.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    assert "attachment" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(p.extract_text() for p in reader.pages)
    for expected in (
        "Registro presenze",
        "Laboratorio di prova",
        "Webinar di progettazione",
        "Aula Magna",
        "Teresa Formatrice",
        "Dell'Àcqua Anna",
        "Łukasiewicz Bruno",
        anna.codice_fiscale,
        bruno.codice_fiscale,
        "Napoli",
        "95",
        "Firma",
        "Pagina 1 di 1",
    ):
        assert expected in text, expected


def test_a_long_register_pdf_numbers_its_pages(client, w) -> None:
    edition = past_edition(w)
    people = [w.person() for _ in range(40)]
    booked(w, edition, *people)
    move_to_past(edition)
    sign_in_trainer(client, w)
    reader = PdfReader(io.BytesIO(client.get(f"/sessioni/{edition.id}/registro.pdf").data))
    assert len(reader.pages) >= 2
    last = reader.pages[-1].extract_text()
    assert f"Pagina {len(reader.pages)} di {len(reader.pages)}" in last
    text = " ".join(p.extract_text() for p in reader.pages)
    assert all(p.codice_fiscale in text for p in people)


def test_the_register_xlsx_has_typed_numbers(client, w) -> None:
    edition = past_edition(w)
    anna, bruno = w.person(last_name="Alfa"), w.person(last_name="Beta")
    booked(w, edition, anna, bruno)
    move_to_past(edition)
    record_attendance(edition, {anna.id: 100, bruno.id: 30}, AttendanceSource.TEAMS, w.trainer)
    _db.session.commit()
    sign_in_trainer(client, w)
    response = client.get(f"/sessioni/{edition.id}/registro.xlsx")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    table = read_people_xlsx(response.data)
    assert table.title == "Registro presenze"
    assert table.about["Edizione"] == f"n. {edition.id}"
    by_cf = {row["Codice fiscale"]: row for row in table.records()}
    anna_row = by_cf[anna.codice_fiscale]
    assert anna_row["Minuti presenti"] == 100
    assert anna_row["Durata (minuti)"] == 120
    assert anna_row["Presenza valida"] == "Sì"
    assert by_cf[bruno.codice_fiscale]["Presenza valida"] == "No"
    assert anna_row["Ente"] == "Napoli"
    assert isinstance(anna_row["Data"], datetime)  # a date cell


def test_downloads_change_nothing(client, w) -> None:
    edition = past_edition(w)
    booked(w, edition, w.person())
    move_to_past(edition)
    sign_in_trainer(client, w)
    before = _db.session.scalar(select(func.count(AuditEntry.id)))
    client.get(f"/sessioni/{edition.id}/registro.pdf")
    client.get(f"/sessioni/{edition.id}/registro.xlsx")
    client.get(f"/sessioni/{edition.id}/registro")
    assert _db.session.scalar(select(func.count(AuditEntry.id))) == before
    assert _db.session.scalar(select(func.count(LiveAttendance.id))) == 0


# Learners ----------------------------------------------------------------------------------


def module_url(w: LiveWorld) -> str:
    return f"/courses/{w.course.slug}/webinar/"


def test_a_learner_books_sees_the_link_and_gives_up(client, w) -> None:
    edition = w.edition(capacity=1)
    me = w.person(email="io@example.org")
    assert login(client, "io@example.org").status_code == 302
    html = page(client.get(module_url(w)))
    assert "Prenota" in html
    assert edition.meeting_url not in html  # the link only with a seat
    token = csrf_token(client, module_url(w))
    base = f"/sessioni/corsi/{w.course.slug}/webinar/{edition.id}"
    assert client.post(f"{base}/prenota", data={"csrf_token": token}).status_code == 302
    html = page(client.get(module_url(w)))
    assert "Hai un posto" in html
    assert edition.meeting_url in html
    assert "Rinuncia" in html
    assert status(edition, me) is SignupStatus.BOOKED
    assert client.post(f"{base}/rinuncia", data={"csrf_token": token}).status_code == 302
    assert status(edition, me) is SignupStatus.CANCELLED
    # The home page lists booked sessions.
    client.post(f"{base}/prenota", data={"csrf_token": token})
    home = page(client.get("/"))
    assert "Le tue prossime sessioni" in home
    assert "Webinar di progettazione" in home


def status(edition: LiveEdition, staff: StaffMember) -> SignupStatus | None:
    _db.session.expire_all()
    return _db.session.scalar(
        select(LiveSignup.status).where(
            LiveSignup.edition_id == edition.id, LiveSignup.staff_id == staff.id
        )
    )


def test_a_full_edition_puts_the_learner_on_the_waiting_list(client, w) -> None:
    edition = w.edition(capacity=1)
    booked(w, edition, w.person())
    me = w.person(email="attesa@example.org")
    login(client, "attesa@example.org")
    token = csrf_token(client, module_url(w))
    base = f"/sessioni/corsi/{w.course.slug}/webinar/{edition.id}"
    client.post(f"{base}/prenota", data={"csrf_token": token})
    assert status(edition, me) is SignupStatus.WAITING
    assert "posizione 1" in page(client.get(module_url(w)))


def test_a_learner_not_enrolled_cannot_book(client, w) -> None:
    edition = w.edition()
    me = w.person(email="fuori@example.org", enrolled=False)
    login(client, "fuori@example.org")
    html = page(client.get(module_url(w)))
    assert "riservate a chi è iscritto" in html
    assert "/prenota" not in html
    token = csrf_token(client, module_url(w))
    response = client.post(
        f"/sessioni/corsi/{w.course.slug}/webinar/{edition.id}/prenota",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "iscrizione al corso" in page(response)
    assert status(edition, me) is None


def test_a_learner_sees_the_attendance_once_recorded(client, w) -> None:
    edition = past_edition(w)
    me = w.person(email="presente@example.org")
    booked(w, edition, me)
    move_to_past(edition)
    record_attendance(edition, {me.id: 95}, AttendanceSource.ZOOM, w.trainer)
    _db.session.commit()
    login(client, "presente@example.org")
    html = page(client.get(module_url(w)))
    assert "presenza registrata: 95 minuti su 120" in html
    assert "sessione valida" in html
    assert "Hai completato questo modulo" in html


def test_a_live_module_cannot_be_marked_complete_by_hand(client, w) -> None:
    w.person(email="furbo@example.org")
    login(client, "furbo@example.org")
    token = csrf_token(client, module_url(w))
    response = client.post(f"/courses/{w.course.slug}/webinar/completa", data={"csrf_token": token})
    assert response.status_code == 400
    assert _db.session.scalar(select(func.count(ModuleProgress.completed_at))) == 0


def test_a_learner_cannot_open_the_trainers_pages(client, w) -> None:
    edition = w.edition()
    w.person(email="curioso@example.org")
    login(client, "curioso@example.org")
    for url in (
        "/sessioni/",
        f"/sessioni/{edition.id}/",
        f"/sessioni/{edition.id}/registro",
        f"/sessioni/{edition.id}/registro.pdf",
        f"/sessioni/{edition.id}/registro.xlsx",
        f"/sessioni/nuova/{w.live.id}",
    ):
        assert client.get(url).status_code == 403, url


def test_a_learner_cannot_book_an_edition_through_another_module(client, w) -> None:
    edition = w.edition()
    w.person(email="altro@example.org")
    login(client, "altro@example.org")
    token = csrf_token(client, module_url(w))
    response = client.post(
        f"/sessioni/corsi/{w.course.slug}/introduzione/{edition.id}/prenota",
        data={"csrf_token": token},
    )
    assert response.status_code == 404


# HR managers -------------------------------------------------------------------------------


def test_hr_books_and_removes_people_of_their_scope_only(client, w) -> None:
    edition = w.edition(capacity=5)
    mine = w.person(first_name="Gina", last_name="Campana")
    theirs = w.person(first_name="Ugo", last_name="Calabrese", authority=w.catanzaro)
    booked(w, edition, theirs)
    hr = w.make_user(Role.HR, scope=[w.campania])
    login(client, hr.email)
    html = page(client.get(f"/sessioni/{edition.id}/"))
    assert "Calabrese" not in html  # booked, but out of scope
    found = page(client.get(f"/sessioni/{edition.id}/?q=ca"))
    assert "Campana" in found
    assert "Calabrese" not in found
    assert mine.codice_fiscale in page(
        client.get(f"/sessioni/{edition.id}/?q={mine.codice_fiscale}")
    )
    assert "Nessuna persona di tua competenza" in page(
        client.get(f"/sessioni/{edition.id}/?q={theirs.codice_fiscale}")
    )
    token = csrf_token(client, f"/sessioni/{edition.id}/?q=campana")
    response = client.post(
        f"/sessioni/{edition.id}/assegna", data={"csrf_token": token, "staff_id": mine.id}
    )
    assert response.status_code == 302
    assert status(edition, mine) is SignupStatus.BOOKED
    assert "Campana" in page(client.get(f"/sessioni/{edition.id}/"))
    # Out of scope: as if the person did not exist.
    for action in ("assegna", "rimuovi"):
        hidden = client.post(
            f"/sessioni/{edition.id}/{action}", data={"csrf_token": token, "staff_id": theirs.id}
        )
        missing = client.post(
            f"/sessioni/{edition.id}/{action}", data={"csrf_token": token, "staff_id": "999999"}
        )
        assert hidden.status_code == missing.status_code == 404
    assert status(edition, theirs) is SignupStatus.BOOKED
    response = client.post(
        f"/sessioni/{edition.id}/rimuovi", data={"csrf_token": token, "staff_id": mine.id}
    )
    assert response.status_code == 302
    assert status(edition, mine) is SignupStatus.CANCELLED
    assert audit_count(Action.SIGNUP_CREATE) == 2  # the trainer's (fixture) and HR's
    assert audit_count(Action.SIGNUP_CANCEL) == 1


def test_hr_cannot_keep_registers_or_schedule(client, w) -> None:
    edition = w.edition()
    hr = w.make_user(Role.HR, scope=[w.campania])
    login(client, hr.email)
    assert client.get("/sessioni/").status_code == 200
    assert client.get(f"/sessioni/{edition.id}/").status_code == 200
    assert client.get(f"/sessioni/{edition.id}/registro").status_code == 403
    assert client.get(f"/sessioni/{edition.id}/registro.pdf").status_code == 403
    assert client.get(f"/sessioni/{edition.id}/modifica").status_code == 403
    assert client.get(f"/sessioni/nuova/{w.live.id}").status_code == 403


def test_hr_of_another_area_sees_no_one_and_cannot_book_a_stranger(client, w) -> None:
    edition = w.edition()
    napoletana = w.person(last_name="Esposito")
    booked(w, edition, napoletana)
    hr = w.make_user(Role.HR, scope=[w.catanzaro.region])
    login(client, hr.email)
    html = page(client.get(f"/sessioni/{edition.id}/?q=esposito"))
    assert "Esposito" not in html
    token = csrf_token(client, f"/sessioni/{edition.id}/")
    response = client.post(
        f"/sessioni/{edition.id}/rimuovi", data={"csrf_token": token, "staff_id": napoletana.id}
    )
    assert response.status_code == 404
    assert status(edition, napoletana) is SignupStatus.BOOKED


def test_editions_of_a_draft_course_are_hidden_from_hr(client, w) -> None:
    from lms.courses.models import CourseStatus  # noqa: PLC0415

    edition = w.edition()
    w.course.status = CourseStatus.DRAFT
    _db.session.commit()
    hr = w.make_user(Role.HR, scope=[w.campania])
    login(client, hr.email)
    assert client.get(f"/sessioni/{edition.id}/").status_code == 404
    assert "Webinar di progettazione" not in page(client.get("/sessioni/"))


def test_hr_sees_the_bookings_of_their_area_in_the_audit_log(client, w) -> None:
    edition = w.edition()
    mine = w.person(last_name="Campana")
    hr = w.make_user(Role.HR, scope=[w.campania])
    sign_up(edition, mine, hr)
    _db.session.commit()
    login(client, hr.email)
    assert "signup.create" in page(client.get("/audit/registro.csv"))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    other = w.make_user(Role.HR, scope=[w.catanzaro.region])
    login(client, other.email)
    assert "signup.create" not in page(client.get("/audit/registro.csv"))


def test_an_edition_in_progress_keeps_its_link_for_the_booked(client, w) -> None:
    edition = w.edition()
    me = w.person(email="ritardo@example.org")
    booked(w, edition, me)
    edition.starts_at = utcnow() - timedelta(minutes=30)  # started half an hour ago
    _db.session.commit()
    login(client, "ritardo@example.org")
    html = page(client.get(module_url(w)))
    assert "In corso." in html
    assert edition.meeting_url in html
    assert "/rinuncia" not in html  # too late to give it up


def test_a_trainer_keeps_the_register_of_a_retired_course(client, w) -> None:
    edition = w.edition()
    w.course.retired_at = utcnow()
    _db.session.commit()
    sign_in_trainer(client, w)
    assert client.get(f"/sessioni/{edition.id}/registro").status_code == 200
    assert client.get(f"/sessioni/{edition.id}/registro.pdf").status_code == 200
    hr = w.make_user(Role.HR, scope=[w.campania])
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, hr.email)
    assert client.get(f"/sessioni/{edition.id}/").status_code == 404
