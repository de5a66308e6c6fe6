"""The attendance report's upload in a browser: the form, a refused file, the preview, recording."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.conftest import Browser, LiveServer

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "attendance"
TRAINER = ("formatore@demo.example", "Formatore-2026")
#: 12 February 2026, 10:00 in Italy (09:00 UTC): the meeting of teams_en_sections.csv.
HELD = datetime(2026, 2, 12, 9, 0, tzinfo=UTC)


def _held_edition(live_server: LiveServer) -> int:
    """A course of this test's own with a live module, an edition held, two people enrolled."""
    from sqlalchemy import select  # noqa: PLC0415

    from lms.courses.models import Course, Module, ModuleKind  # noqa: PLC0415
    from lms.enrolments.models import Enrolment  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415
    from lms.live.models import LiveEdition  # noqa: PLC0415
    from lms.register.models import Authority, StaffCategory, StaffMember  # noqa: PLC0415

    with live_server.app.app_context():
        course = Course(
            slug="e2e-rapporto-presenze",
            title="Webinar con rapporto",
            hours=Decimal(2),
            source_hash="e2e",
        )
        db.session.add(course)
        db.session.flush()
        module = Module(
            course_id=course.id,
            slug="webinar",
            position=1,
            title="Webinar di prova",
            kind=ModuleKind.LIVE,
            body_html="<p>Webinar.</p>",
            filename="01-webinar.md",
            source_hash="e2e",
            live_hours=Decimal(2),
            attendance_percent=75,
        )
        db.session.add(module)
        db.session.flush()
        authority = db.session.scalars(select(Authority).order_by(Authority.id)).first()
        assert authority is not None
        for n, (first, last, email) in enumerate(
            [
                ("Giulia", "Verdi", "giulia.verdi@napoli.example.org"),
                ("Roberto", "Neri", "roberto.neri@napoli.example.org"),
            ]
        ):
            member = StaffMember(
                codice_fiscale=f"E2EIMP80A01H50{n}X",
                first_name=first,
                last_name=last,
                email=email,
                authority_id=authority.id,
                category=StaffCategory.EXISTING,
            )
            db.session.add(member)
            db.session.flush()
            db.session.add(Enrolment(staff_id=member.id, course_id=course.id))
        edition = LiveEdition(
            module_id=module.id,
            starts_at=HELD,
            minutes=120,
            meeting_url="https://teams.example.org/l/e2e",
        )
        db.session.add(edition)
        db.session.commit()
        edition_id = edition.id
        db.session.remove()
    return edition_id


def test_a_trainer_uploads_a_teams_report_previews_it_and_records_it(
    open_browser, live_server: LiveServer
) -> None:
    edition_id = _held_edition(live_server)
    browser: Browser = open_browser()
    browser.sign_in(*TRAINER)
    page = browser.page
    browser.goto(f"/sessioni/{edition_id}/registro")
    page.get_by_role("link", name="Presenze dal rapporto di Teams o Zoom").click()
    page.wait_for_url(browser.url(f"/sessioni/{edition_id}/registro/rapporto"))
    browser.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Presenze dal rapporto di Teams o Zoom"
    )

    # A file that is no report: refused, said next to the field, nothing kept.
    page.get_by_label("Rapporto presenze di Teams o di Zoom (CSV)").set_input_files(
        files=[
            {"name": "elenco.csv", "mimeType": "text/csv", "buffer": b"codice_fiscale;nome\nX;Y\n"}
        ]
    )
    page.get_by_role("button", name="Controlla il file").click()
    page.wait_for_load_state("load")
    expect(page.locator("#report-error")).to_contain_text("sembra un elenco del personale")
    browser.check("rapporto presenze: file rifiutato")

    page.get_by_label("Rapporto presenze di Teams o di Zoom (CSV)").set_input_files(
        str(FIXTURES / "teams_en_sections.csv")
    )
    page.get_by_role("button", name="Controlla il file").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Anteprima")).to_be_visible()
    expect(page.locator("#matched tbody tr")).to_have_count(2)
    expect(page.locator("#unmatched tbody tr")).to_have_count(5)
    browser.check("rapporto presenze: anteprima")
    browser.shot("rapporto-presenze-anteprima", full_page=True)

    page.get_by_role("button", name="Registra le presenze di 2 persone").click()
    page.wait_for_url(browser.url(f"/sessioni/{edition_id}/registro"))
    expect(
        page.get_by_text("Presenze registrate dal rapporto di Microsoft Teams: 2 persone")
    ).to_be_visible()
