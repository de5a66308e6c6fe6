"""Teams' and Zoom's attendance reports on the web: upload, preview, confirm (import_views).

The reports are the hand-made fixtures of tests/fixtures/attendance/ (see
tests/test_live_attendance_files.py for what each holds). The edition of the
English Teams report and of Zoom's report with its meeting block is held on
12 February 2026 from 10:00 to 12:00 in Italy.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import csrf_token, login
from live_world import LiveWorld, build_live_world, make_live_course
from sqlalchemy import func, select

from lms.audit import Action, AuditEntry, AuditObject, ObjectKind
from lms.auth.models import Role, User
from lms.core.types import ROME
from lms.courses.models import ModuleProgress
from lms.enrolments.models import Enrolment, PendingUpload
from lms.extensions import db as _db
from lms.live import import_views
from lms.live.attendance import record_attendance
from lms.live.import_views import MAX_REPORT_BYTES
from lms.live.models import AttendanceSource, LiveAttendance, LiveEdition

FIXTURES = Path(__file__).parent / "fixtures" / "attendance"
#: 12 February 2026, 10:00 in Italy: the meeting of teams_en_sections.csv and zoom_with_summary.csv.
HELD = datetime(2026, 2, 12, 10, 0, tzinfo=ROME).astimezone(UTC)
#: 19 March 2026, 10:00 in Italy: the meeting of Teams' older lists.
HELD_LEGACY = datetime(2026, 3, 19, 10, 0, tzinfo=ROME).astimezone(UTC)


#: A Teams report whose section 2 has no Name column (line 5).
TEAMS_BAD_HEADER = b"\xff\xfe" + (
    "1. Summary\r\nMeeting title\tX\r\n\r\n2. Participants\r\nNominativo\tEmail\r\n"
).encode("utf-16-le")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class People:
    """The people of the fixtures who are on the platform."""

    def __init__(self, w: LiveWorld) -> None:
        self.giulia = w.person(
            first_name="Giulia", last_name="Verdi", email="giulia.verdi@napoli.example.org"
        )
        self.marco = w.person(
            first_name="Marco", last_name="Bianchi", email="marco.bianchi@napoli.example.org"
        )
        # The report writes her address Anna.Esposito@Napoli.Example.ORG.
        self.anna = w.person(
            first_name="Anna", last_name="Esposito", email="anna.esposito@napoli.example.org"
        )
        self.roberto = w.person(
            first_name="Roberto", last_name="Neri", email="roberto.neri@napoli.example.org"
        )
        # Sara works in Catanzaro and is enrolled in another course only.
        other_course, *_ = make_live_course("altro-corso")
        self.sara = w.person(
            first_name="Sara",
            last_name="Gallo",
            email="sara.gallo@catanzaro.example.org",
            authority=w.catanzaro,
            enrolled=False,
        )
        _db.session.add(Enrolment(staff_id=self.sara.id, course_id=other_course.id))
        _db.session.commit()


@pytest.fixture
def w(make_user, make_authority, make_region) -> LiveWorld:
    return build_live_world(make_user, make_authority, make_region)


@pytest.fixture
def people(w: LiveWorld) -> People:
    return People(w)


@pytest.fixture
def held(w: LiveWorld) -> LiveEdition:
    return w.edition(starts_at=HELD, minutes=120)


def url(edition_id: int, tail: str = "") -> str:
    return f"/sessioni/{edition_id}/registro/rapporto{tail}"


def upload(client, edition_id: int, data: bytes, filename: str = "rapporto.csv"):
    token = csrf_token(client, url(edition_id))
    return client.post(
        url(edition_id),
        data={"csrf_token": token, "report": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def confirm_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no confirmation form"
    return match.group(1)


def confirm(client, edition_id: int, token: str):
    return client.post(
        url(edition_id, "/conferma"),
        data={"csrf_token": csrf_token(client, url(edition_id)), "token": token},
    )


def recorded(edition: LiveEdition) -> dict[int, tuple[int, AttendanceSource]]:
    _db.session.expire_all()
    return {
        row.staff_id: (row.minutes, row.source)
        for row in _db.session.scalars(
            select(LiveAttendance).where(LiveAttendance.edition_id == edition.id)
        )
    }


def rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    cells = [row.split(">", 1)[1] for row in body.split("<tr")[2:]]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in cells]


def audit_entries(action: Action) -> list[AuditEntry]:
    return list(_db.session.scalars(select(AuditEntry).where(AuditEntry.action == action.value)))


def trainer_in(client, w: LiveWorld) -> None:
    assert login(client, w.trainer.email).status_code == 302


# The trainer's journey ---------------------------------------------------------------


def test_a_teams_report_is_previewed_then_recorded_once(client, w, people, held):
    trainer_in(client, w)
    assert url(held.id) in client.get(f"/sessioni/{held.id}/registro").get_data(as_text=True)
    page = client.get(url(held.id))
    assert page.status_code == 200
    assert "Microsoft Teams" in page.get_data(as_text=True)

    preview = upload(
        client, held.id, fixture("teams_en_sections.csv"), "meetingAttendanceReport.csv"
    )
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert recorded(held) == {}  # nothing written before the confirmation
    matched = rows(html, "matched")
    assert len(matched) == 4
    assert matched[0].startswith("Bianchi Marco")
    assert "120" in matched[0]
    assert "121 nel rapporto, oltre la durata" in matched[0]
    assert matched[1].startswith("Esposito Anna")
    assert "anna.esposito@napoli.example.org" in matched[1]
    assert matched[2].startswith("Neri Roberto")
    assert " 40 " in matched[2]
    assert " No " in matched[2]
    assert matched[3].startswith("Verdi Giulia")
    assert " 112 " in matched[3]
    assert " Sì " in matched[3]
    unmatched = rows(html, "unmatched")
    assert unmatched == [
        (
            "11, 21 Paola Docente paola.docente@formazione.example.org"
            " nessuna persona con questo indirizzo e-mail"
        ),
        (
            "16, 24 Sara Gallo sara.gallo@catanzaro.example.org"
            " non è iscritta al corso né prenotata a questa sessione"
        ),
        "17, 26 Luca (Guest) — nessun indirizzo e-mail nel rapporto (ospite o utente esterno)",
    ]
    assert "3 persone raggiungono la soglia" in html

    token = confirm_token(html)
    done = confirm(client, held.id, token)
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/sessioni/{held.id}/registro")
    assert recorded(held) == {
        people.giulia.id: (112, AttendanceSource.TEAMS),
        people.marco.id: (120, AttendanceSource.TEAMS),
        people.anna.id: (117, AttendanceSource.TEAMS),
        people.roberto.id: (40, AttendanceSource.TEAMS),
    }
    completed = set(
        _db.session.scalars(
            select(ModuleProgress.user_id).where(
                ModuleProgress.module_id == w.live.id, ModuleProgress.completed_at.is_not(None)
            )
        )
    )
    assert completed == {people.giulia.user_id, people.marco.user_id, people.anna.user_id}
    [entry] = audit_entries(Action.ATTENDANCE_IMPORT)
    assert entry.actor_id == w.trainer.id
    assert entry.summary["source"] == "teams"
    assert (entry.summary["recorded"], entry.summary["completed"], entry.summary["below"]) == (
        4,
        3,
        1,
    )
    areas = set(
        _db.session.scalars(
            select(AuditObject.object_id).where(
                AuditObject.entry_id == entry.id, AuditObject.kind == ObjectKind.AUTHORITY
            )
        )
    )
    assert areas == {w.napoli.id}  # Sara of Catanzaro was not recorded
    flashed = client.get(f"/sessioni/{held.id}/registro").get_data(as_text=True)
    assert (
        "Presenze registrate dal rapporto di Microsoft Teams: 4 persone,"
        " 3 con la presenza sufficiente, 1 sotto la soglia." in flashed
    )

    # A second click, or the same form in another tab, finds nothing left to record.
    again = confirm(client, held.id, token)
    assert again.status_code == 302
    assert again.headers["Location"].endswith(url(held.id))
    assert len(audit_entries(Action.ATTENDANCE_IMPORT)) == 1
    assert _db.session.scalar(select(func.count()).select_from(PendingUpload)) == 0


def test_a_zoom_report_is_recorded_as_zoom(client, w, people, held):
    trainer_in(client, w)
    preview = upload(client, held.id, fixture("zoom_with_summary.csv"))
    html = preview.get_data(as_text=True)
    assert "Rapporto di Zoom letto: 4 persone riconosciute, 3 righe non usate" in html
    assert "«Webinar - Programmazione 2021-2027, ed. 1»" in html
    assert confirm(client, held.id, confirm_token(html)).status_code == 302
    assert recorded(held) == {
        people.giulia.id: (112, AttendanceSource.ZOOM),
        people.marco.id: (120, AttendanceSource.ZOOM),
        people.anna.id: (117, AttendanceSource.ZOOM),
        people.roberto.id: (40, AttendanceSource.ZOOM),
    }
    assert audit_entries(Action.ATTENDANCE_IMPORT)[0].summary["source"] == "zoom"


def test_an_account_address_matches_as_well_as_the_staff_records(client, w, held):
    person = w.person(first_name="Giulia", last_name="Verdi", email="g.verdi@personale.example.org")
    account = _db.session.get(User, person.user_id)
    account.email = "giulia.verdi@napoli.example.org"  # her sign-in address, the one Teams knows
    _db.session.commit()
    trainer_in(client, w)
    html = upload(client, held.id, fixture("teams_en_sections.csv")).get_data(as_text=True)
    assert rows(html, "matched")[0].startswith("Verdi Giulia")


def test_the_older_teams_list_matches_by_name_only_when_one_person_has_it(client, w, people):
    edition = w.edition(starts_at=HELD_LEGACY, minutes=120)
    w.person(first_name="Anna", last_name="Esposito", email="altra.anna@example.org")  # a namesake
    trainer_in(client, w)
    html = upload(client, edition.id, fixture("teams_it_legacy.csv")).get_data(as_text=True)
    assert "non contiene indirizzi e-mail" in html
    matched = rows(html, "matched")
    assert [" ".join(row.split()[:2]) for row in matched] == [
        "Bianchi Marco",
        "Neri Roberto",
        "Verdi Giulia",
    ]
    assert all("riconosciuta per nome" in row for row in matched)
    unmatched = rows(html, "unmatched")
    assert any(row.startswith("5, 8 Anna Esposito — più persone") for row in unmatched)
    assert any(
        row.startswith("2, 14 Paola Docente — nessuna persona iscritta") for row in unmatched
    )
    assert confirm(client, edition.id, confirm_token(html)).status_code == 302
    assert recorded(edition) == {
        people.giulia.id: (118, AttendanceSource.TEAMS),
        people.marco.id: (117, AttendanceSource.TEAMS),
        people.roberto.id: (61, AttendanceSource.TEAMS),
    }


def test_minutes_recorded_before_are_shown_and_replaced(client, w, people, held):
    record_attendance(held, {people.giulia.id: 30}, AttendanceSource.REGISTER, w.trainer)
    _db.session.commit()
    trainer_in(client, w)
    html = upload(client, held.id, fixture("teams_en_sections.csv")).get_data(as_text=True)
    giulia = next(row for row in rows(html, "matched") if row.startswith("Verdi Giulia"))
    assert "30 minuti (registro): saranno sostituiti" in giulia
    confirm(client, held.id, confirm_token(html))
    assert recorded(held)[people.giulia.id] == (112, AttendanceSource.TEAMS)


@pytest.mark.usefixtures("people")
def test_a_report_of_another_day_is_flagged(client, w):
    edition = w.edition(starts_at=datetime(2026, 2, 19, 9, 0, tzinfo=UTC))
    trainer_in(client, w)
    html = upload(client, edition.id, fixture("teams_en_sections.csv")).get_data(as_text=True)
    assert "dista 7 giorni dalla sessione" in html


def test_a_file_naming_only_people_of_another_course_records_nothing(client, w, held):
    _other, *_ = make_live_course("terzo-corso")
    outsider = w.person(
        first_name="Sara",
        last_name="Gallo",
        email="sara.gallo@catanzaro.example.org",
        enrolled=False,
    )
    _db.session.add(Enrolment(staff_id=outsider.id, course_id=_other.id))
    _db.session.commit()
    lines = [
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail",
        "Sara Gallo\t2/12/26, 10:00 AM\t2/12/26, 12:00 PM\t2h\tsara.gallo@catanzaro.example.org",
    ]
    data = b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")
    trainer_in(client, w)
    response = upload(client, held.id, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "non è iscritta al corso né prenotata" in html
    assert 'name="token"' not in html  # nothing to confirm
    assert _db.session.scalar(select(func.count()).select_from(PendingUpload)) == 0


# Bad files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"codice_fiscale;nome\nRSSMRA80A01H501U;Mario\n", "sembra un elenco del personale"),
        (
            TEAMS_BAD_HEADER,
            "riga 5: l&#39;intestazione della sezione",
        ),
        (b"", "il file è vuoto"),
    ],
)
@pytest.mark.usefixtures("people")
def test_a_bad_file_is_a_400_with_its_line_and_nothing_is_kept(client, w, held, content, message):
    trainer_in(client, w)
    response = upload(client, held.id, content)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert recorded(held) == {}
    assert _db.session.scalar(select(func.count()).select_from(PendingUpload)) == 0


def test_a_file_over_the_limit_is_refused(client, w, held, monkeypatch):
    assert MAX_REPORT_BYTES == 5 * 1024 * 1024
    trainer_in(client, w)
    assert "al massimo 5 MB" in client.get(url(held.id)).get_data(as_text=True)
    # A smaller limit for the test: a body over 500 kB goes through a temporary file.
    monkeypatch.setattr(import_views, "MAX_REPORT_BYTES", 100 * 1024)
    report = fixture("zoom_with_summary.csv")
    big = report + b" " * (100 * 1024 + 1 - len(report))
    response = upload(client, held.id, big)
    assert response.status_code == 413
    assert "Il file è troppo grande: al massimo 0,1 MB." in response.get_data(as_text=True)
    assert recorded(held) == {}
    assert upload(client, held.id, big[:-1]).status_code == 200  # at the limit: read


@pytest.mark.usefixtures("people")
def test_an_edition_not_yet_held_or_cancelled_previews_but_cannot_be_recorded(client, w):
    future = w.edition()
    trainer_in(client, w)
    html = upload(client, future.id, fixture("teams_en_sections.csv")).get_data(as_text=True)
    assert "La sessione non è ancora iniziata" in html
    assert 'name="token"' not in html
    cancelled = w.edition(starts_at=HELD)
    cancelled.cancelled_at = HELD
    _db.session.commit()
    html = upload(client, cancelled.id, fixture("teams_en_sections.csv")).get_data(as_text=True)
    assert "La sessione è stata annullata" in html
    assert 'name="token"' not in html


def test_an_enrolment_removed_between_preview_and_confirmation_records_nothing(
    client, w, people, held
):
    trainer_in(client, w)
    token = confirm_token(
        upload(client, held.id, fixture("teams_en_sections.csv")).get_data(as_text=True)
    )
    _db.session.execute(
        Enrolment.__table__.delete().where(Enrolment.staff_id == people.roberto.id)  # type: ignore[attr-defined]
    )
    _db.session.commit()
    # The confirmation matches the file again: Roberto is now an unknown row, the others go in.
    assert confirm(client, held.id, token).status_code == 302
    assert set(recorded(held)) == {people.giulia.id, people.marco.id, people.anna.id}


# Attacks ------------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
def test_an_edition_that_does_not_exist_is_a_404(client, w):
    trainer_in(client, w)
    assert client.get(url(999999)).status_code == 404
    assert client.get(url(99999999999999)).status_code == 404
    token = csrf_token(client, "/sessioni/")
    response = client.post(
        url(999999),
        data={
            "csrf_token": token,
            "report": (io.BytesIO(fixture("teams_en_sections.csv")), "r.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert (
        client.post(url(999999, "/conferma"), data={"csrf_token": token, "token": "x"}).status_code
        == 404
    )
    assert _db.session.scalar(select(func.count()).select_from(PendingUpload)) == 0


@pytest.mark.parametrize("role", [Role.LEARNER, Role.HR])
@pytest.mark.usefixtures("people")
def test_a_learner_or_an_hr_manager_may_not_upload_nor_confirm(client, w, held, login_as, role):
    login_as(role, scope=[w.napoli] if role is Role.HR else ())
    assert client.get(url(held.id)).status_code == 403
    token = csrf_token(client, "/profilo/")
    response = client.post(
        url(held.id),
        data={
            "csrf_token": token,
            "report": (io.BytesIO(fixture("teams_en_sections.csv")), "r.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert (
        client.post(url(held.id, "/conferma"), data={"csrf_token": token, "token": "x"}).status_code
        == 403
    )
    assert recorded(held) == {}


def test_a_stranger_is_sent_to_sign_in(client, held):
    assert client.get(url(held.id)).status_code == 302
    assert client.post(url(held.id, "/conferma")).status_code in {302, 400}
    assert recorded(held) == {}


@pytest.mark.usefixtures("people")
def test_a_token_works_only_for_its_edition_its_trainer_and_their_session(
    client, w, held, web_app, make_user
):
    other_edition = w.edition(starts_at=HELD)
    trainer_in(client, w)
    token = confirm_token(
        upload(client, held.id, fixture("teams_en_sections.csv")).get_data(as_text=True)
    )
    # The same token posted for another edition.
    moved = confirm(client, other_edition.id, token)
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith(url(other_edition.id))
    assert recorded(other_edition) == {}
    assert recorded(held) == {}
    # Another trainer, in another browser, with the token read off the page.
    colleague = make_user(Role.TRAINER, email="collega@example.org")
    other = web_app.test_client()
    assert login(other, colleague.email).status_code == 302
    assert confirm(other, held.id, token).status_code == 302
    assert recorded(held) == {}
    # The uploader, without the CSRF token: refused.
    assert client.post(url(held.id, "/conferma"), data={"token": token}).status_code == 400
    assert recorded(held) == {}
    # And with it, still fine.
    assert confirm(client, held.id, token).status_code == 302
    assert len(recorded(held)) == 4
