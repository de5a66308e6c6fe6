"""Live sessions in a browser: the trainer's pages, the register, HR's booking, the learner's page.

Every page goes through axe (WCAG 2.1 AA). The demo gives the laboratory course two
editions; this module adds, straight into the server's database, a person of the
Comune di Napoli enrolled in the course, an edition ahead for HR to book them in,
and an edition already held, with a booking and recorded minutes, for the register.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from e2e.conftest import Browser, LiveServer

pytestmark = pytest.mark.browser

TRAINER = ("formatore@demo.example", "Formatore-2026")
HR_NAPOLI = ("hr.napoli@demo.example", "Personale-2026")
LEARNER = ("discente@demo.example", "Discente-2026")
COURSE = "laboratorio-progetti"
MODULE = "webinar-scheda-progetto"


@pytest.fixture(scope="module")
def editions(live_server: LiveServer) -> dict[str, int]:
    """An edition ahead (capacity 2, nobody booked) and one held, with Ciro Russo present."""
    from sqlalchemy import select  # noqa: PLC0415

    from lms.auth.models import User  # noqa: PLC0415
    from lms.core.types import utcnow  # noqa: PLC0415
    from lms.courses.models import Course, ModuleKind  # noqa: PLC0415
    from lms.enrolments.models import Enrolment  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415
    from lms.live.models import (  # noqa: PLC0415
        AttendanceSource,
        LiveAttendance,
        LiveEdition,
        LiveSignup,
        SignupStatus,
    )
    from lms.register.models import Authority, StaffCategory, StaffMember  # noqa: PLC0415

    with live_server.app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        live = next(m for m in course.modules if m.kind is ModuleKind.LIVE)
        trainer = db.session.scalar(select(User).where(User.email == TRAINER[0]))
        napoli = db.session.scalar(select(Authority).where(Authority.istat_code == "063049"))
        person = StaffMember(
            codice_fiscale="SSSVTT85M41F839T",
            first_name="Vittoria",
            last_name="Sessa",
            email="vittoria.sessa@e2e.example",
            authority_id=napoli.id,
            category=StaffCategory.EXISTING,
        )
        db.session.add(person)
        db.session.flush()
        db.session.add(Enrolment(staff_id=person.id, course_id=course.id))
        now = utcnow()
        ahead = LiveEdition(
            module_id=live.id,
            starts_at=now + timedelta(days=40),
            minutes=90,
            place="Aula 2, via Toledo 100, Napoli",
            capacity=2,
            trainer_id=trainer.id,
        )
        held = LiveEdition(
            module_id=live.id,
            starts_at=now - timedelta(days=3),
            minutes=120,
            meeting_url="https://teams.microsoft.com/l/meetup-join/e2e-tenuta",
            capacity=10,
            trainer_id=trainer.id,
        )
        db.session.add_all([ahead, held])
        db.session.flush()
        ciro = db.session.scalar(
            select(StaffMember).where(StaffMember.email == "ciro.russo@demo.example")
        )
        db.session.add(
            LiveSignup(
                edition_id=held.id,
                module_id=live.id,
                staff_id=ciro.id,
                status=SignupStatus.CANCELLED,  # his open booking is in the webinar ahead
                signed_up_at=now - timedelta(days=10),
            )
        )
        db.session.add(
            LiveAttendance(
                edition_id=held.id,
                staff_id=ciro.id,
                minutes=100,
                source=AttendanceSource.TEAMS,
                recorded_by_id=trainer.id,
            )
        )
        db.session.commit()
        ids = {"ahead": ahead.id, "held": held.id, "module": live.id}
        db.session.remove()
    return ids


def submit(browser: Browser, button: str) -> int:
    """Click *button*; the status of the page that answers."""
    with browser.page.expect_navigation() as navigation:
        browser.page.get_by_role("button", name=button).click()
    return navigation.value.status


def test_a_trainer_schedules_edits_and_cancels(open_browser: Callable[..., Browser]) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*TRAINER)
    page.get_by_role("navigation", name="Menu principale").get_by_role(
        "link", name="Sessioni dal vivo"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sessioni dal vivo")
    expect(page.locator("main")).to_contain_text("1 posto libero su 5")  # the demo's webinar
    browser.check()
    browser.shot("live-sessions", full_page=True)

    # A bad link first: the form comes back with the reason, then a good one.
    page.get_by_role("link", name=re.compile("Programma una sessione")).first.click()
    browser.check()
    page.get_by_label("Data").fill("2027-03-29")  # the Monday after the change to summer time
    page.get_by_label("Ora di inizio (ora italiana)").fill("09:30")
    page.get_by_label("Durata in minuti").fill("120")
    page.get_by_label("Link della riunione (per i webinar)").fill("javascript:alert(1)")
    assert submit(browser, "Programma la sessione") == 400
    expect(page.locator(".alert-danger")).to_contain_text("https://")
    browser.check("/sessioni/nuova (error)")
    page.get_by_label("Link della riunione (per i webinar)").fill(
        "https://teams.microsoft.com/l/meetup-join/e2e-nuova"
    )
    page.get_by_label("Posti (vuoto: senza limite)").fill("12")
    assert submit(browser, "Programma la sessione") == 200
    expect(page.locator("main")).to_contain_text("lunedì 29 marzo 2027, 09:30–11:30")
    browser.check()
    browser.shot("live-edition")

    page.get_by_role("link", name="Modifica").click()
    expect(page.get_by_label("Ora di inizio (ora italiana)")).to_have_value("09:30")
    browser.check()
    page.get_by_label("Posti (vuoto: senza limite)").fill("15")
    assert submit(browser, "Salva le modifiche") == 200
    expect(page.locator("main")).to_contain_text("15 posti liberi su 15")

    # Cancelling needs the tick: without it, the error on the box.
    assert submit(browser, "Annulla la sessione") == 400
    expect(page.get_by_label(re.compile("Confermo"))).to_have_attribute("aria-invalid", "true")
    browser.check("/sessioni/<id>/annulla (error)")
    page.locator("label[for=confirm]").click()  # Bootstrap Italia draws the box on the label
    assert submit(browser, "Annulla la sessione") == 200
    expect(page.locator("main")).to_contain_text("è stata annullata")
    browser.check()


def test_the_register_of_a_held_edition(
    open_browser: Callable[..., Browser], editions: dict[str, int]
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*TRAINER)
    # The register of the edition already held: Ciro Russo's minutes, the threshold.
    browser.goto(f"/sessioni/{editions['held']}/registro")
    expect(page.locator("main")).to_contain_text("da 90 minuti su 120")
    row = page.get_by_role("row", name=re.compile("Russo Ciro"))
    expect(row.get_by_label("Minuti di presenza di Ciro Russo")).to_have_value("100")
    browser.shot("live-register", full_page=True)
    row.get_by_label("Minuti di presenza di Ciro Russo").fill("abc")
    assert submit(browser, "Salva il registro") == 400
    expect(page.get_by_role("alert")).to_contain_text("Riga 1 (Ciro Russo)")
    browser.check("/sessioni/<id>/registro (error)")
    row.get_by_label("Minuti di presenza di Ciro Russo").fill("80")
    assert submit(browser, "Salva il registro") == 200
    expect(page.locator(".lms-flashes")).to_contain_text("1 sotto la soglia")
    browser.check()

    with page.expect_download() as download:
        page.get_by_role("link", name="Registro (PDF)").first.click()
    assert download.value.suggested_filename == f"registro-presenze-{editions['held']}.pdf"


def test_hr_books_a_person_of_their_scope(
    open_browser: Callable[..., Browser], editions: dict[str, int]
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*HR_NAPOLI)
    browser.goto("/sessioni/")
    browser.goto(f"/sessioni/{editions['ahead']}/")
    page.get_by_label("Nome o codice fiscale").fill("sessa")
    page.get_by_role("button", name="Cerca").click()
    expect(page.get_by_role("row", name=re.compile("Sessa Vittoria"))).to_be_visible()
    browser.check()
    page.get_by_role("button", name="Prenota — Vittoria Sessa").click()
    expect(page.locator(".lms-flashes")).to_contain_text("Vittoria Sessa ha un posto")
    expect(page.get_by_role("button", name="Togli — Vittoria Sessa")).to_be_visible()
    browser.check()


def test_the_learner_sees_the_sessions_and_their_seat(
    open_browser: Callable[..., Browser], editions: dict[str, int]
) -> None:
    del editions  # the held edition is not shown to learners: it is past
    browser = open_browser()
    page = browser.page
    browser.sign_in(*LEARNER)
    expect(page.locator("#sessions-title")).to_have_text("Le tue prossime sessioni")
    expect(page.locator(".lms-my-sessions")).to_contain_text("Sala formazione")
    browser.goto(f"/courses/{COURSE}/{MODULE}/")
    expect(page.locator("main")).to_contain_text("Hai un posto in questa sessione.")
    # One open booking per module: no "Prenota" on the other editions while holding one.
    expect(page.get_by_role("button", name=re.compile("^Prenota"))).to_have_count(0)
    browser.shot("live-module", full_page=True)
    page.get_by_role("button", name=re.compile("^Rinuncia")).click()
    expect(page.locator(".lms-flashes")).to_contain_text("Hai rinunciato al posto")
    browser.check()
    # The webinar has its last seat: booking it is the learner's now.
    page.get_by_role("button", name=re.compile("^Prenota")).first.click()
    expect(page.locator(".lms-flashes")).to_contain_text("Posto prenotato")
    expect(page.get_by_role("link", name=re.compile("link della riunione"))).to_be_visible()
    browser.check()
