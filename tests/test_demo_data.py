"""What `make run`'s demo gives a newcomer to try, beyond the accounts: the README's tour.

The demo is loaded as ``lms demo`` loads it, on the demo's authorities (Napoli and
the three Calabrian ones), with the shipped courses. Then each thing the tour
promises is checked the way a newcomer would try it: the webinar held yesterday
with its register to fill in (on the page, or from the Teams report the demo
writes), the older one with its attendance, the survey results past five answers
and not below, the HR queue of training done elsewhere, the hours report's parts,
the second learner's password. And that running the demo again adds nothing.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select

from lms.audit import Action, AuditEntry
from lms.auth.models import User
from lms.core.types import rome_date, today_in_italy, utcnow
from lms.courses.content import load_tree
from lms.courses.models import Course, ModuleKind, ModuleProgress
from lms.courses.sync import sync_courses
from lms.extensions import db as _db
from lms.external.imports import check_file
from lms.external.models import ExternalTraining, TrainingStatus
from lms.external.values import check_certificate
from lms.live.attendance_files import Platform, read_report
from lms.live.models import LiveAttendance, LiveEdition, LiveSignup, SignupStatus
from lms.register.models import StaffMember
from lms.site.demo import (
    DEMO_SESSIONS,
    DEMO_STAFF,
    DEMO_USERS,
    OTHER_STAFF_SIGN_IN,
    demo_edition,
    demo_teams_report,
    load_demo,
    load_demo_staff,
    unrecorded_edition,
)
from lms.surveys.models import SurveyAnswer, SurveyResponse, SurveySubmission
from lms.surveys.results import survey_results

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL_CSV = ROOT / "docs" / "examples" / "formazione_esterna_comune_napoli.csv"
SURVEY = "questionario-di-gradimento"
TRAINER = ("formatore@demo.example", "Formatore-2026")
HR_NAPOLI = ("hr.napoli@demo.example", "Personale-2026")
SECOND_LEARNER = ("antonio.mancuso@demo.example", "Discente-2026")


def load_the_demo() -> None:
    load_demo()
    load_demo_staff()
    _db.session.commit()


@pytest.fixture
def demo_register(db, make_region, make_authority) -> None:
    """The register as far as the demo needs it, and the shipped courses."""
    make_region("18")
    make_authority(istat_code="063049", name="Napoli", region_code="15")
    for code, name in (("079023", "Catanzaro"), ("078045", "Cosenza"), ("080063", "Reggio")):
        make_authority(istat_code=code, name=name, region_code="18")
    sources, errors = load_tree(ROOT / "content")
    assert errors == []
    sync_courses(sources)
    db.session.commit()


@pytest.fixture
def demo(demo_register: None) -> None:  # noqa: ARG001 - the register and courses first
    load_the_demo()


def user(email: str) -> User:
    return _db.session.scalar(select(User).where(User.email == email))


def staff(email: str) -> StaffMember:
    return _db.session.scalar(select(StaffMember).where(StaffMember.email == email))


def course(slug: str) -> Course:
    return _db.session.scalar(select(Course).where(Course.slug == slug))


def module_of(slug: str, kind: ModuleKind):
    return next(m for m in course(slug).modules if m.kind is kind)


def edition_for(days: int, *, recorded: bool) -> LiveEdition:
    session = next(
        s for s in DEMO_SESSIONS if s.days == days and (s.attendance is not None) == recorded
    )
    edition = demo_edition(session)
    assert edition is not None
    return edition


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def every_table() -> dict[str, int]:
    return {
        table.name: _db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in _db.metadata.sorted_tables
    }


def text(response) -> str:
    return response.get_data(as_text=True)


# Once -------------------------------------------------------------------------------


@pytest.mark.usefixtures("demo")
def test_running_the_demo_again_adds_nothing_anywhere() -> None:
    before = every_table()
    assert before["live_editions"] == 4
    assert before["survey_responses"] == 7
    assert before["external_trainings"] == 2
    load_the_demo()
    _db.session.expire_all()
    assert every_table() == before  # audit entries included: no enrolment of nobody


@pytest.mark.usefixtures("demo_register")
def test_a_demo_made_before_the_held_editions_gets_them_without_doubling_the_others() -> None:
    """A database of an older demo (two editions ahead, Napoli's people in the webinar)."""
    from lms.site import demo as demo_module  # noqa: PLC0415

    ahead = tuple(s for s in DEMO_SESSIONS if s.days > 0)
    older_webinar = ahead[0].__class__(
        **{**ahead[0].__dict__, "booked": DEMO_SESSIONS[2].booked[:4]}
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_module, "DEMO_SESSIONS", (older_webinar, ahead[1]))
        patch.setattr(demo_module, "DEMO_SURVEYS", ())
        patch.setattr(demo_module, "DEMO_EXTERNAL", ())
        load_the_demo()
    assert count(LiveEdition) == 2
    load_the_demo()
    assert count(LiveEdition) == 4
    held = edition_for(-8, recorded=True)
    # Napoli's four kept their seat ahead; their attendance at the held one is recorded.
    booked = _db.session.scalars(
        select(LiveSignup.staff_id).where(
            LiveSignup.edition_id == held.id, LiveSignup.status == SignupStatus.BOOKED
        )
    ).all()
    assert len(booked) == 2  # Francesco Greco and Rosaria Bruno
    present = _db.session.scalars(
        select(LiveAttendance.staff_id).where(LiveAttendance.edition_id == held.id)
    ).all()
    assert len(present) == 6
    assert count(SurveyResponse) == 7


# Live sessions ----------------------------------------------------------------------


@pytest.mark.usefixtures("demo")
def test_the_laboratory_has_two_editions_held_and_two_ahead() -> None:
    editions = _db.session.scalars(select(LiveEdition).order_by(LiveEdition.starts_at)).all()
    today = today_in_italy()
    assert [rome_date(e.starts_at) - today for e in editions] == [
        timedelta(days=d) for d in (-8, -1, 7, 21)
    ]
    seats = {
        e.id: _db.session.scalar(
            select(func.count()).where(
                LiveSignup.edition_id == e.id, LiveSignup.status == SignupStatus.BOOKED
            )
        )
        for e in editions
    }
    assert [seats[e.id] for e in editions] == [6, 4, 4, 1]
    assert [e.capacity for e in editions] == [12, 12, 5, 20]  # next week's: one seat left
    # Scheduled by the trainer before they started, as the operation wants, and audited.
    assert all(e.created_at < e.starts_at for e in editions)
    creations = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == Action.EDITION_CREATE.value)
    ).all()
    assert sorted(entry.summary["edition"] for entry in creations) == sorted(e.id for e in editions)


@pytest.mark.usefixtures("demo")
def test_the_edition_held_eight_days_ago_has_its_attendance_and_completions() -> None:
    held = edition_for(-8, recorded=True)
    minutes = {
        row.staff.email: row.minutes
        for row in _db.session.scalars(
            select(LiveAttendance).where(LiveAttendance.edition_id == held.id)
        )
    }
    assert len(minutes) == 6
    above = {email for email, present in minutes.items() if present >= 90}  # 75 % of 120
    assert len(above) == 4
    assert len(minutes) - len(above) == 2
    live = module_of("laboratorio-progetti", ModuleKind.LIVE)
    completed = set(
        _db.session.scalars(
            select(User.email)
            .join(ModuleProgress, ModuleProgress.user_id == User.id)
            .where(ModuleProgress.module_id == live.id, ModuleProgress.completed_at.is_not(None))
        )
    )
    assert completed == above
    imports = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == Action.ATTENDANCE_IMPORT.value)
    ).all()
    assert [
        (e.summary["edition"], e.summary["completed"], e.summary["below"]) for e in imports
    ] == [(held.id, 4, 2)]
    # Ciro Russo read the laboratory and passed its quiz before: the course is complete.
    from lms.courses.models import CourseCompletion  # noqa: PLC0415

    done = _db.session.scalars(
        select(User.email)
        .join(CourseCompletion, CourseCompletion.user_id == User.id)
        .where(CourseCompletion.course_id == live.course_id)
    ).all()
    assert sorted(done) == ["ciro.russo@demo.example", "francesco.greco@demo.example"]


@pytest.mark.usefixtures("demo")
def test_the_trainer_fills_in_the_register_of_yesterdays_webinar(client: FlaskClient) -> None:
    edition = unrecorded_edition()
    assert edition is not None
    assert rome_date(edition.starts_at) == today_in_italy() - timedelta(days=1)
    assert edition.ends_at < utcnow()
    assert count(LiveAttendance) == 6  # only the older edition's
    assert login(client, *TRAINER).status_code == 302
    page = text(client.get(f"/sessioni/{edition.id}/registro"))
    for name in ("Mancuso Antonio", "Lombardo Francesca", "Caruso Maria", "Scalise Michele"):
        assert name in page
    assert client.get(f"/sessioni/{edition.id}/registro.pdf").status_code == 200
    assert client.get(f"/sessioni/{edition.id}/registro.xlsx").status_code == 200
    antonio, maria = staff(SECOND_LEARNER[0]), staff("maria.caruso@demo.example")
    response = client.post(
        f"/sessioni/{edition.id}/registro",
        data={
            "csrf_token": csrf_token(client, f"/sessioni/{edition.id}/registro"),
            f"present-{antonio.id}": "1",
            f"minutes-{antonio.id}": "",
            f"present-{maria.id}": "1",
            f"minutes-{maria.id}": "60",
        },
    )
    assert response.status_code == 302, text(response)[:800]
    _db.session.expire_all()
    recorded = {
        row.staff_id: row.minutes
        for row in _db.session.scalars(
            select(LiveAttendance).where(LiveAttendance.edition_id == edition.id)
        )
    }
    assert recorded[antonio.id] == 120
    assert recorded[maria.id] == 60
    assert recorded[staff("michele.scalise@demo.example").id] == 0


@pytest.mark.usefixtures("demo")
def test_the_demos_teams_report_of_yesterday_is_read_and_recorded(client: FlaskClient) -> None:
    edition = unrecorded_edition()
    data = demo_teams_report(edition)
    assert data.startswith(b"\xff\xfe")  # UTF-16 LE with its BOM, as Teams downloads it
    report = read_report(data, meeting_day=rome_date(edition.starts_at))
    assert report.platform is Platform.TEAMS
    assert report.started_at is not None
    assert report.started_at.date() == rome_date(edition.starts_at)
    minutes = {p.email: p.minutes for p in report.participants}
    assert minutes["antonio.mancuso@demo.example"] == 114  # two connections
    assert minutes["maria.caruso@demo.example"] < 90
    assert len(report.unused) == 1  # the guest without an address

    assert login(client, *TRAINER).status_code == 302
    url = f"/sessioni/{edition.id}/registro/rapporto"
    preview = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "report": (io.BytesIO(data), "teams.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    page = text(preview)
    assert "formatore@demo.example" in page  # the organiser: not one of the people, listed
    assert "Ospite (esterno)" in page  # the guest without an address
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = client.post(
        url + "/conferma", data={"csrf_token": csrf_token(client, url), "token": token}
    )
    assert done.status_code == 302
    _db.session.expire_all()
    rows = _db.session.scalars(
        select(LiveAttendance).where(LiveAttendance.edition_id == edition.id)
    ).all()
    assert sorted(r.staff.email for r in rows) == [
        "antonio.mancuso@demo.example",
        "francesca.lombardo@demo.example",
        "maria.caruso@demo.example",
    ]
    # The second demo learner's webinar now counts: he signs in and sees it complete.
    learner = client.application.test_client()
    assert login(learner, *SECOND_LEARNER).status_code == 302
    live = module_of("laboratorio-progetti", ModuleKind.LIVE)
    page = text(learner.get(f"/courses/laboratorio-progetti/{live.slug}/"))
    assert "114 minuti su 120" in page


# Surveys ----------------------------------------------------------------------------


@pytest.mark.usefixtures("demo")
def test_six_answered_the_laboratory_survey_anonymously_one_answered_appalti() -> None:
    lab = module_of("laboratorio-progetti", ModuleKind.SURVEY)
    appalti = module_of("appalti-pubblici", ModuleKind.SURVEY)
    held = edition_for(-8, recorded=True)
    responses = _db.session.scalars(select(SurveyResponse)).all()
    assert sorted((r.module_id, r.edition_id) for r in responses) == sorted(
        [(lab.id, held.id)] * 6 + [(appalti.id, None)]
    )
    results = survey_results(lab)
    assert results.whole.responses == 6
    assert results.whole.shown
    (edition,) = results.editions
    assert (edition.edition.id, edition.responses, edition.shown) == (held.id, 6, True)
    few = survey_results(appalti)
    assert (few.whole.responses, few.whole.shown) == (1, False)
    # Who answered is known (they answer once), what they answered is not.
    assert count(SurveySubmission) == 7
    for model in (SurveyResponse, SurveyAnswer):
        columns = {c.key for c in inspect(model).columns}
        assert not columns & {"user_id", "staff_id", "submitted_at", "created_at"}, columns
    assert all(re.fullmatch(r"[0-9a-f]{32}", r.id) for r in responses)
    # Answering writes no audit entry (it would say who answered when, nothing more).
    actions = set(_db.session.scalars(select(AuditEntry.action)))
    assert not {a for a in actions if a.startswith("survey")}, actions
    texts = _db.session.scalars(
        select(SurveyAnswer.text_value).where(SurveyAnswer.text_value.is_not(None))
    ).all()
    assert texts  # the free-text answers the trainer reads
    assert not any("@" in t or "Russo" in t for t in texts)


@pytest.mark.usefixtures("demo")
def test_the_trainer_reads_the_laboratory_results_and_not_appaltis(client: FlaskClient) -> None:
    assert login(client, *TRAINER).status_code == 302
    held = edition_for(-8, recorded=True)
    whole = text(client.get(f"/questionari/laboratorio-progetti/{SURVEY}/"))
    assert "canvas" in whole
    by_edition = client.get(f"/questionari/laboratorio-progetti/{SURVEY}/?edizione={held.id}")
    assert by_edition.status_code == 200
    assert "canvas" in text(by_edition)
    few = text(client.get(f"/questionari/appalti-pubblici/{SURVEY}/"))
    assert "1 risposta: i risultati appaiono da 5 risposte." in few
    assert "canvas" not in few


@pytest.mark.usefixtures("demo")
def test_a_seventh_answer_from_yesterdays_webinar_hides_the_first_edition_alone() -> None:
    """The README: Antonio Mancuso answers; one answer outside the edition would be its
    difference from the whole, so the edition is no longer shown on its own."""
    from lms.surveys.operations import submit_survey  # noqa: PLC0415

    lab = module_of("laboratorio-progetti", ModuleKind.SURVEY)
    first = {q["id"]: 4 for q in lab.survey_questions if q["kind"] == "scale"}
    submit_survey(user(SECOND_LEARNER[0]), lab, {k: min(v, 3) for k, v in first.items()})
    _db.session.commit()
    results = survey_results(lab)
    assert (results.whole.responses, results.whole.shown) == (7, True)
    assert not any(group.shown for group in results.editions)


@pytest.mark.usefixtures("demo")
def test_the_learner_moves_to_next_weeks_last_seat_and_answers_appalti(
    client: FlaskClient, app: Flask
) -> None:
    live = module_of("laboratorio-progetti", ModuleKind.LIVE)
    page_url = f"/courses/laboratorio-progetti/{live.slug}/"
    classroom = edition_for(21, recorded=False)
    webinar = edition_for(7, recorded=False)
    assert login(client, "discente@demo.example", "Discente-2026").status_code == 302
    base = f"/sessioni/corsi/laboratorio-progetti/{live.slug}"
    for edition, action in ((classroom, "rinuncia"), (webinar, "prenota")):
        response = client.post(
            f"{base}/{edition.id}/{action}", data={"csrf_token": csrf_token(client, page_url)}
        )
        assert response.status_code == 302, action
    _db.session.expire_all()
    seats = {
        s.edition_id: s.status
        for s in _db.session.scalars(
            select(LiveSignup).where(LiveSignup.staff_id == staff("discente@demo.example").id)
        )
    }
    assert seats == {classroom.id: SignupStatus.CANCELLED, webinar.id: SignupStatus.BOOKED}
    assert (
        _db.session.scalar(
            select(func.count()).where(
                LiveSignup.edition_id == webinar.id, LiveSignup.status == SignupStatus.BOOKED
            )
        )
        == 5
    )  # full: whoever books next waits

    survey_url = f"/courses/appalti-pubblici/{SURVEY}/"
    survey = module_of("appalti-pubblici", ModuleKind.SURVEY)
    form = {"csrf_token": csrf_token(client, survey_url), "versione": str(survey.version)}
    for question in survey.survey_questions:
        if question["kind"] == "scale":
            form[question["id"]] = "2"
    response = client.post(f"/questionari/appalti-pubblici/{SURVEY}/risposte", data=form)
    assert response.status_code == 302, text(response)[:600]
    trainer = app.test_client()
    assert login(trainer, *TRAINER).status_code == 302
    page = text(trainer.get(f"/questionari/appalti-pubblici/{SURVEY}/"))
    assert "2 risposte: i risultati appaiono da 5 risposte." in page


# Training done elsewhere and the hours ----------------------------------------------


@pytest.mark.usefixtures("demo")
def test_hr_napoli_has_a_declaration_to_decide_and_one_approved(client: FlaskClient) -> None:
    records = {t.staff.email: t for t in _db.session.scalars(select(ExternalTraining)).all()}
    pending = records["ciro.russo@demo.example"]
    approved = records["carmela.romano@demo.example"]
    assert pending.status is TrainingStatus.PENDING
    check_certificate(pending.certificate_pdf)  # a real PDF, as the form requires
    assert approved.status is TrainingStatus.APPROVED
    assert approved.decided_by_id == user(HR_NAPOLI[0]).id
    assert approved.hours == Decimal("6.5")
    decisions = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == Action.TRAINING_APPROVE.value)
    ).all()
    assert len(decisions) == 1

    assert login(client, *HR_NAPOLI).status_code == 302
    queue = text(client.get("/formazione-esterna/richieste"))
    assert "Russo Ciro" in queue
    assert pending.title in queue
    certificate = client.get(f"/formazione-esterna/{pending.id}/attestato.pdf")
    assert certificate.status_code == 200
    assert certificate.data.startswith(b"%PDF-")
    hours = text(client.get("/reports/ore"))
    assert "di cui esterne" in hours
    # The Comune's row: average hours, then on the platform, live and external, all there.
    row = re.search(r'<th scope="row">Napoli</th>(.*?)</tr>', hours, re.DOTALL).group(1)
    cells = re.findall(r'<td class="text-end">([^<]+)</td>', row)
    average, platform, live, external = (Decimal(c.replace(",", ".")) for c in cells[-4:])
    assert platform > 0
    assert live > 0  # the webinar of 8 days ago: three of Napoli's five at 2 hours
    assert external == Decimal("1.3")  # Carmela Romano's 6.5 hours over five people
    assert average == platform + live + external


@pytest.mark.usefixtures("demo")
def test_hr_napoli_imports_the_example_file_of_external_training(client: FlaskClient) -> None:
    hr = user(HR_NAPOLI[0])
    outcome = check_file(EXTERNAL_CSV.read_bytes(), importer=hr, today=today_in_italy())
    assert outcome.errors == []
    assert len(outcome.new) == 3
    assert outcome.by_authority == {"063049": 3}
    # Someone of Calabria uploading it finds nobody of theirs in it.
    calabria = user("hr.calabria@demo.example")
    assert check_file(EXTERNAL_CSV.read_bytes(), importer=calabria, today=today_in_italy()).errors

    assert login(client, *HR_NAPOLI).status_code == 302

    def upload() -> str:
        response = client.post(
            "/formazione-esterna/importa",
            data={
                "csrf_token": csrf_token(client, "/formazione-esterna/importa"),
                "file": (io.BytesIO(EXTERNAL_CSV.read_bytes()), EXTERNAL_CSV.name),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        return text(response)

    page = upload()
    assert 'data-count="new">3<' in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = client.post(
        "/formazione-esterna/importa/conferma",
        data={"csrf_token": csrf_token(client, "/formazione-esterna/importa"), "token": token},
    )
    assert done.status_code == 200
    assert 'data-count="imported">3<' in text(done)
    again = upload()
    assert 'data-count="skipped">3<' in again


# Accounts ---------------------------------------------------------------------------


@pytest.mark.usefixtures("demo")
def test_the_second_demo_learner_signs_in_booked_in_yesterdays_webinar(
    client: FlaskClient,
) -> None:
    learners = [d for d in DEMO_USERS if d.role == "learner"]
    assert [d.email for d in learners] == ["discente@demo.example", SECOND_LEARNER[0]]
    antonio = staff(SECOND_LEARNER[0])
    assert antonio.authority.istat_code == "079023"  # Catanzaro: hr.calabria's scope
    assert antonio.user_id == user(SECOND_LEARNER[0]).id
    (seat,) = _db.session.scalars(select(LiveSignup).where(LiveSignup.staff_id == antonio.id))
    assert (seat.edition_id, seat.status) == (unrecorded_edition().id, SignupStatus.BOOKED)
    assert login(client, *SECOND_LEARNER).status_code == 302
    home = text(client.get("/"))
    assert "Antonio Mancuso" in home
    assert "Laboratorio di progettazione per la coesione" in home


@pytest.mark.usefixtures("demo_register")
def test_lms_demo_prints_the_passwords_the_register_and_how_to_sign_in_as_others(
    app: Flask, runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for demo in DEMO_USERS:
        assert demo.email in out
        assert demo.password in out
    assert OTHER_STAFF_SIGN_IN in out
    edition = unrecorded_edition()
    assert f"/sessioni/{edition.id}/registro" in out
    (report,) = (tmp_path / "demo").iterdir()
    assert str(report) in out
    assert read_report(report.read_bytes()).platform is Platform.TEAMS
    assert f"{len(DEMO_STAFF)} new staff member(s)" in out
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "0 new staff member(s)" in again.stdout
    assert OTHER_STAFF_SIGN_IN in again.stdout
