"""Issue #17's pages after the new-user trial, in a browser: badges, the register on a phone.

Every status badge of the live-session, external-training and survey pages has a
contrast of at least 4.5:1 between its text and its background, as the browser
computes them (axe only reports such badges as "incomplete", so it is measured
here). The register of an edition fits a 390-pixel phone: its table scrolls in its
own box, the page does not scroll sideways. Every page also goes through axe.

The data is this module's own, added to the server's database: a course with a
live module (an edition held, one called off), a draft course with a survey, and
a person of the Comune di Napoli with an account and three records of training
done elsewhere (pending, approved, refused).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from e2e.conftest import Browser, LiveServer

pytestmark = pytest.mark.browser

TRAINER = ("formatore@demo.example", "Formatore-2026")
HR_NAPOLI = ("hr.napoli@demo.example", "Personale-2026")
PERSON = ("ilaria.contrasto@e2e.example", "Contrasto-2026")
#: 19 March 2026, 10:00 in Italy: the edition held, and the meeting of the report below.
HELD = datetime(2026, 3, 19, 9, 0, tzinfo=UTC)
PHONE_390 = {"width": 390, "height": 844}

#: Teams' older participant list (no e-mail addresses: people matched by name), UTF-16.
LEGACY_REPORT = (
    "\ufeffFull Name\tUser Action\tTimestamp\r\n"
    "Ilaria Contrasto\tJoined\t3/19/2026, 9:58:00 AM\r\n"
    "Ilaria Contrasto\tLeft\t3/19/2026, 11:58:00 AM\r\n"
).encode("utf-16-le")

#: The contrast of each element matched by the selector: text colour over the
#: background actually behind it (the first opaque one up the tree, the translucent
#: ones blended over it), as WCAG 2.1 computes it.
CONTRASTS = """(selector) => {
  const parse = (value) => {
    const n = (value.match(/[\\d.]+/g) || []).map(Number);
    return {r: n[0] || 0, g: n[1] || 0, b: n[2] || 0, a: n.length > 3 ? n[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour.a > 0) layers.push(colour);
      if (colour.a >= 1) break;
    }
    return layers.reduceRight((below, layer) => over(layer, below), {r: 255, g: 255, b: 255, a: 1});
  };
  const luminance = ({r, g, b}) => {
    const [R, G, B] = [r, g, b].map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  return [...document.querySelectorAll(selector)].map((element) => {
    const bg = background(element);
    const fg = over(parse(getComputedStyle(element).color), bg);
    const [light, dark] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return {
      text: element.textContent.trim(),
      color: getComputedStyle(element).color,
      background: `rgb(${bg.r}, ${bg.g}, ${bg.b})`,
      ratio: (light + 0.05) / (dark + 0.05),
    };
  });
}"""


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> dict[str, int]:
    """The course with its editions, the draft survey, the person and their records."""
    from sqlalchemy import select  # noqa: PLC0415

    from lms.auth.models import User  # noqa: PLC0415
    from lms.auth.operations import create_user  # noqa: PLC0415
    from lms.core.types import today_in_italy, utcnow  # noqa: PLC0415
    from lms.courses.models import Course, CourseStatus, Module, ModuleKind  # noqa: PLC0415
    from lms.enrolments.models import Enrolment  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415
    from lms.external.models import (  # noqa: PLC0415
        ExternalTraining,
        TrainingSource,
        TrainingStatus,
    )
    from lms.live.attendance import record_attendance  # noqa: PLC0415
    from lms.live.models import AttendanceSource, LiveEdition  # noqa: PLC0415
    from lms.register.models import Authority, StaffCategory, StaffMember  # noqa: PLC0415

    with live_server.app.app_context():
        trainer = db.session.scalar(select(User).where(User.email == TRAINER[0]))
        napoli = db.session.scalar(select(Authority).where(Authority.istat_code == "063049"))
        course = Course(
            slug="e2e-prova-contrasto",
            title="Laboratorio sulla rendicontazione delle spese",
            hours=Decimal(3),
            source_hash="e2e",
        )
        draft = Course(
            slug="e2e-questionario-bozza",
            title="Corso in preparazione con questionario",
            hours=Decimal(1),
            source_hash="e2e",
            status=CourseStatus.DRAFT,
        )
        db.session.add_all([course, draft])
        db.session.flush()
        live = Module(
            course_id=course.id,
            slug="webinar",
            position=1,
            title="Webinar sulla rendicontazione",
            kind=ModuleKind.LIVE,
            body_html="<p>Webinar.</p>",
            filename="01-webinar.md",
            source_hash="e2e",
            live_hours=Decimal(2),
            attendance_percent=75,
        )
        survey = Module(
            course_id=draft.id,
            slug="questionario",
            position=1,
            title="Questionario di gradimento",
            kind=ModuleKind.SURVEY,
            body_html="<p>Questionario.</p>",
            filename="01-questionario.md",
            source_hash="e2e",
            survey_questions=[],
        )
        db.session.add_all([live, survey])
        db.session.flush()
        user = create_user(
            email=PERSON[0],
            role="learner",
            password=PERSON[1],
            first_name="Ilaria",
            last_name="Contrasto",
        )
        people = []
        for n, (first, last, email, user_id) in enumerate(
            [
                ("Ilaria", "Contrasto", PERSON[0], user.id),
                # A long name and address, as real registers have them.
                (
                    "Maria Addolorata Immacolata",
                    "De Santis-Caracciolo di Torchiarolo",
                    "maria.addolorata.desantis-caracciolo@comune.napoli.e2e.example",
                    None,
                ),
                ("Dario", "Assenti", "dario.assenti@e2e.example", None),
            ]
        ):
            member = StaffMember(
                codice_fiscale=f"E2ECTR80A01F83{n}X",
                first_name=first,
                last_name=last,
                email=email,
                authority_id=napoli.id,
                category=StaffCategory.EXISTING,
                user_id=user_id,
            )
            db.session.add(member)
            db.session.flush()
            db.session.add(Enrolment(staff_id=member.id, course_id=course.id))
            people.append(member)
        held = LiveEdition(
            module_id=live.id,
            starts_at=HELD,
            minutes=120,
            meeting_url="https://teams.microsoft.com/l/meetup-join/e2e-contrasto",
            trainer_id=trainer.id,
        )
        called_off = LiveEdition(
            module_id=live.id,
            starts_at=utcnow() + timedelta(days=30),
            minutes=120,
            place="Sala convegni, via Santa Lucia 81, Napoli",
            trainer_id=trainer.id,
            cancelled_at=utcnow(),
        )
        db.session.add_all([held, called_off])
        db.session.flush()
        # The second person present, the third absent (recorded, not ticked).
        record_attendance(
            held, {people[1].id: 110, people[2].id: 0}, AttendanceSource.REGISTER, trainer
        )
        day = today_in_italy() - timedelta(days=10)
        records = {}
        for status, title in (
            (TrainingStatus.PENDING, "Contabilità dei fondi europei (in attesa)"),
            (TrainingStatus.APPROVED, "Appalti pubblici (approvata)"),
            (TrainingStatus.REFUSED, "Lingua inglese (rifiutata)"),
        ):
            training = ExternalTraining(
                staff_id=people[0].id,
                title=title,
                provider="SNA",
                completed_on=day,
                hours=Decimal(6),
                status=status,
                source=TrainingSource.DECLARED,
                declared_by_id=user.id,
                refusal_reason="Non pertinente" if status is TrainingStatus.REFUSED else None,
                decided_at=None if status is TrainingStatus.PENDING else utcnow(),
            )
            db.session.add(training)
            db.session.flush()
            records[status.value] = training.id
        db.session.commit()
        ids = {"held": held.id, "pending": records["pending"]}
        db.session.remove()
    return ids


def badge_contrasts(browser: Browser) -> list[dict]:
    """Every badge of the page with its contrast."""
    return browser.json(f"({CONTRASTS})('.badge')")  # type: ignore[return-value]


def assert_readable(browser: Browser, *expected: str) -> None:
    """The page's badges include *expected* and every one reaches 4.5:1."""
    found = badge_contrasts(browser)
    texts = [badge["text"] for badge in found]
    for text in expected:
        assert text in texts, (browser.page.url, texts)
    low = [badge for badge in found if badge["ratio"] < 4.5]
    assert not low, f"badges under 4.5:1 on {browser.page.url}: {low}"


def test_every_status_badge_of_the_new_pages_is_readable(
    open_browser: Callable[..., Browser], world: dict[str, int]
) -> None:
    person = open_browser()
    person.sign_in(*PERSON)
    person.goto("/formazione-esterna/")
    assert_readable(person, "In attesa di approvazione", "Approvata", "Rifiutata")

    hr = open_browser()
    hr.sign_in(*HR_NAPOLI)
    for path in ("/formazione-esterna/richieste", "/formazione-esterna/registro"):
        hr.goto(path)
        assert_readable(hr)
    hr.goto("/formazione-esterna/registro")
    assert_readable(hr, "In attesa di approvazione", "Approvata", "Rifiutata")
    hr.goto(f"/formazione-esterna/richieste/{world['pending']}")
    assert_readable(hr, "In attesa di approvazione")

    trainer = open_browser()
    trainer.sign_in(*TRAINER)
    trainer.goto("/sessioni/")
    assert_readable(trainer, "annullata")
    trainer.goto("/questionari/")
    assert_readable(trainer, "bozza")
    # The report's preview: a person recognised by name only.
    trainer.goto(f"/sessioni/{world['held']}/registro/rapporto")
    page = trainer.page
    page.get_by_label("Rapporto presenze di Teams o di Zoom (CSV)").set_input_files(
        files=[{"name": "presenze.csv", "mimeType": "text/csv", "buffer": LEGACY_REPORT}]
    )
    page.get_by_role("button", name="Controlla il file").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Anteprima")).to_be_visible()
    trainer.check("rapporto presenze: anteprima per nome")
    assert_readable(trainer, "riconosciuta per nome")


def test_the_register_fits_a_phone(
    open_browser: Callable[..., Browser], world: dict[str, int]
) -> None:
    browser = open_browser(PHONE_390)
    browser.sign_in(*TRAINER)
    browser.goto(f"/sessioni/{world['held']}/registro")
    page = browser.page
    expect(page.get_by_role("row", name="Assenti Dario")).to_contain_text("assente")
    widths = browser.json(
        "() => ({document: document.documentElement.scrollWidth,"
        " viewport: document.documentElement.clientWidth,"
        " wide: [...document.querySelectorAll('main *')]"
        ".filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth"
        " && !e.closest('.table-responsive'))"
        ".slice(0, 5).map((e) => e.tagName + '.' + e.className)})"
    )
    assert widths["document"] <= widths["viewport"], widths
    # The table keeps its columns and scrolls inside its own box.
    box = page.locator(".table-responsive").first
    assert box.evaluate("(e) => e.scrollWidth > e.clientWidth")
    browser.shot("live-register-phone", full_page=True)
