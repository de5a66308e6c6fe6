"""The three journeys of issue #8, in a real browser, with axe-core on every page."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from e2e.conftest import Browser, LiveServer

pytestmark = pytest.mark.browser

COURSE = "fondamenti-coesione"
COURSE_TITLE = "Fondamenti della politica di coesione 2021-2027"


def quiz_key(server: LiveServer, course_slug: str, module_slug: str) -> dict[str, dict]:
    """The questions of a quiz by id, answer key included (read from the database)."""
    from lms.assessments.operations import current_version  # noqa: PLC0415
    from lms.courses.models import Course, Module  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with server.app.app_context():
        module = db.session.scalar(
            select(Module)
            .join(Course)
            .where(Course.slug == course_slug, Module.slug == module_slug)
        )
        questions = {q["id"]: q for q in current_version(module).questions}
        db.session.remove()
    return questions


def answer_quiz(browser: Browser, key: dict[str, dict], *, right: bool) -> None:
    """Answer every question on the open attempt's page, all right or all wrong, and submit."""
    page = browser.page
    for fieldset in page.locator("fieldset.lms-question").all():
        qid = fieldset.get_attribute("id").removeprefix("question-")
        question = key[qid]
        if question["kind"] == "short":
            fieldset.get_by_label("La tua risposta").fill(
                question["answers"][0] if right else "non lo so"
            )
            continue
        wanted = [o for o in question["options"] if o["correct"] == right]
        if question["kind"] != "multiple" or not right:
            wanted = wanted[:1]
        for option in wanted:  # people click the label (Bootstrap Italia draws the box there)
            page.locator(f"label[for='{qid}-{option['id']}']").click()
            expect(page.locator(f"#{qid}-{option['id']}")).to_be_checked()
    page.get_by_role("button", name="Consegna la verifica").click()
    page.wait_for_url(re.compile(r"/tentativi/\d+$"))


def test_new_hire_follows_a_course_fails_then_passes_the_quiz_and_gets_the_certificate(
    open_browser: Callable[..., Browser], live_server: LiveServer, tmp_path: Path
) -> None:
    browser = open_browser()
    browser.sign_in("discente@demo.example", "Discente-2026")
    expect(browser.page.get_by_role("heading", level=1)).to_have_count(1)
    browser.shot("home")
    read_the_modules(browser)
    fail_then_pass_the_quiz(browser, live_server)
    code = download_the_certificate(browser, live_server, tmp_path)

    visitor = open_browser()  # anyone, not signed in, can check a certificate
    visitor.goto("/certificates/")
    visitor.page.get_by_label("Codice").first.fill(code)
    visitor.page.keyboard.press("Enter")
    visitor.page.wait_for_url(re.compile(r"/certificates/[^/?]+$"))
    visitor.check()
    expect(visitor.page.get_by_text("Giulia Esposito").first).to_be_visible()
    expect(visitor.page.get_by_text(COURSE_TITLE).first).to_be_visible()
    visitor.shot("certificate-check")


def read_the_modules(browser: Browser) -> None:
    """From the catalogue to the course, then the six modules in order."""
    page = browser.page
    page.get_by_role("navigation", name="Menu principale").get_by_role("link", name="Corsi").click()
    browser.check()
    browser.shot("catalogue")

    page.get_by_role("link", name=COURSE_TITLE).first.click()
    page.wait_for_url(browser.url(f"/courses/{COURSE}/"))
    browser.check()
    browser.shot("course")

    # Each "done" unlocks the next module and opens it.
    page.get_by_role("link", name="Inizia il corso").click()
    for number in range(1, 7):
        expect(page.get_by_text(f"Modulo {number} di 8")).to_be_visible()  # 8: the survey
        browser.check()
        if number == 1:
            expect(page.get_by_text("Il modulo successivo si sblocca")).to_be_visible()
            browser.shot("module")
        page.get_by_role("button", name="Segna come completato").click()
        page.wait_for_url(re.compile(r"/courses/[^/]+/[^/]+/$"))
    page.get_by_role("link", name="Modulo precedente").click()
    expect(page.get_by_text("Hai completato questo modulo.")).to_be_visible()
    browser.check()
    page.locator("a[rel=next]").click()


def fail_then_pass_the_quiz(browser: Browser, live_server: LiveServer) -> None:
    """The final quiz: fail it, read the review, try again and pass."""
    page = browser.page
    expect(page.get_by_role("heading", name="Verifica finale", level=1)).to_be_visible()
    browser.check()
    quiz_url = page.url
    key = quiz_key(live_server, COURSE, quiz_url.rstrip("/").rsplit("/", 1)[-1])
    page.get_by_role("button", name="Inizia la verifica").click()
    browser.check()
    browser.shot("quiz")
    answer_quiz(browser, key, right=False)
    expect(page.get_by_text("non superata").first).to_be_visible()
    # Right and wrong are said in words too, not only by the icon's colour. Every answer
    # was wrong; the questions come in a shuffled order, so look at each kind wherever it is.
    reviews = page.locator(".lms-review")
    expect(reviews).to_have_count(len(key))
    for review in reviews.all():
        expect(review.locator(".visually-hidden").first).to_have_text(
            "Risposta errata:", use_inner_text=True
        )
    # The quiz's review option is when_done: with attempts left the review shows the
    # learner's own choice, not the right answers nor the explanations.
    choice = page.locator(".lms-review:has(.lms-review-options)").first
    expect(choice.locator(".lms-review-options li")).to_have_count(1)
    expect(page.get_by_text("(corretta)")).to_have_count(0)
    expect(page.locator(".lms-explanation")).to_have_count(0)
    expect(page.get_by_text("esaurito i tentativi")).to_be_visible()
    browser.check()
    browser.shot("quiz-review")

    page.goto(quiz_url)
    page.get_by_role("button", name="Inizia un nuovo tentativo").click()
    browser.check()
    answer_quiz(browser, key, right=True)
    expect(page.get_by_text("100,0 %").first).to_be_visible()
    browser.check()


def download_the_certificate(browser: Browser, live_server: LiveServer, tmp_path: Path) -> str:
    """The course is complete: download the PDF; return the certificate's code."""
    page = browser.page
    browser.goto(f"/courses/{COURSE}/")
    expect(page.get_by_text("Hai completato questo corso")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Scarica l'attestato (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"attestato-{COURSE}.pdf"
    pdf = tmp_path / "attestato.pdf"
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    from lms.auth.models import User  # noqa: PLC0415
    from lms.certificates.models import Certificate  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with live_server.app.app_context():
        code = db.session.scalar(
            select(Certificate.code)
            .join(User, User.id == Certificate.user_id)
            .where(User.email == "discente@demo.example", Certificate.course_title == COURSE_TITLE)
        )
        db.session.remove()
    assert code
    return code


def test_trainer_previews_a_draft_and_reads_quiz_statistics(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in("formatore@demo.example", "Formatore-2026")

    page.get_by_role("link", name="Corsi", exact=True).click()
    browser.check()
    # Other tests of the session may add draft courses of their own: this one's badge is
    # among them.
    expect(page.get_by_text("Bozza: visibile solo ai formatori").first).to_be_visible()
    page.get_by_role("link", name="Fondi europei e aiuti di Stato").click()
    browser.check()
    expect(page.get_by_text("Questo corso è una bozza")).to_be_visible()
    page.get_by_role("link", name="Che cos'è un aiuto di Stato").first.click()
    browser.check()
    expect(page.get_by_role("heading", name="Che cos'è un aiuto di Stato")).to_be_visible()
    browser.shot("trainer-draft-preview")

    page.get_by_role("link", name="Statistiche corsi").click()
    browser.check()
    expect(page.get_by_text("bozza").first).to_be_visible()
    browser.shot("trainer-dashboard")
    page.get_by_role("link", name=COURSE_TITLE).first.click()
    browser.check()
    _assert_chart_drawn(browser, "canvas")
    title = "Statistiche della verifica: Verifica finale"
    page.get_by_role("link", name=title).click()
    browser.check()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_role("columnheader", name="Discriminazione")).to_be_visible()
    browser.shot("trainer-quiz-statistics", full_page=True)


def _assert_chart_drawn(browser: Browser, selector: str) -> None:
    """The chart's canvas has a size and Chart.js drew on it; words describe it."""
    canvas = browser.page.locator(selector).first
    expect(canvas).to_have_attribute("role", "img")
    expect(canvas).to_have_attribute("aria-label", re.compile("tabella"))  # the numbers are there
    drawn = browser.json(
        f"""() => {{
            const canvas = document.querySelector({selector!r});
            const chart = window.Chart && window.Chart.getChart(canvas);
            const points = chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0;
            return {{width: canvas.width, height: canvas.height, chart: !!chart, points}};
        }}"""
    )
    assert drawn["width"] > 0, drawn
    assert drawn["height"] > 0, drawn
    assert drawn["chart"], drawn
    assert drawn["points"] > 0, drawn


ROSTER_HEADER = "Codice Fiscale;Nome;Cognome;E-mail;Codice Ente;Categoria;Data Assunzione"


def roster_rows() -> list[str]:
    """Three new people in the Comune di Napoli, with valid codici fiscali."""
    from lms.site.demo import _demo_codice_fiscale  # noqa: PLC0415

    people = (
        ("Lucia", "Amato", "F", "1994-06-18", "neoassunta"),
        ("Antonio", "Caruso", "M", "1989-10-07", "neoassunto"),
        ("Elena", "Santoro", "F", "1980-01-25", "in servizio"),
    )
    return [
        f"{_demo_codice_fiscale(first, last, sex, born)};{first};{last};"
        f"{first.lower()}.{last.lower()}@comune.napoli.it;063049;{category};02/03/2026"
        for first, last, sex, born, category in people
    ]


def test_hr_manager_imports_a_roster_enrols_and_reads_the_reports(
    open_browser: Callable[..., Browser], tmp_path: Path
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in("hr.napoli@demo.example", "Personale-2026")

    page.get_by_role("link", name="Personale", exact=True).click()
    browser.check()
    browser.shot("hr-staff")

    # A roster with a mistake: the second person's e-mail.
    rows = roster_rows()
    bad = [rows[0], rows[1].replace("@comune.napoli.it", "@"), rows[2]]
    bad_file = tmp_path / "personale.csv"
    bad_file.write_text("\n".join([ROSTER_HEADER, *bad]) + "\n", encoding="utf-8")
    browser.goto("/personale/importa")
    page.get_by_label("File del personale").set_input_files(bad_file)
    page.get_by_role("button", name="Controlla il file").click()
    browser.check()
    errors = page.locator("#import-errors li")
    expect(errors).to_have_count(1)
    # The column as the file heads it.
    expect(errors).to_have_text(re.compile(r"^riga 3, E-mail: "), use_inner_text=True)
    browser.shot("hr-import-errors")

    good_file = tmp_path / "personale-corretto.csv"
    good_file.write_text("\n".join([ROSTER_HEADER, *rows]) + "\n", encoding="utf-8")
    page.get_by_label("File del personale").set_input_files(good_file)
    page.get_by_role("button", name="Controlla il file").click()
    browser.check()
    expect(page.locator("[data-count=new]")).to_have_text("3", use_inner_text=True)
    browser.shot("hr-import-preview")
    page.get_by_role("button", name="Conferma l'importazione").click()
    browser.check()
    expect(page.locator("[data-count=added]")).to_have_text("3", use_inner_text=True)
    # The Comune's standing rules enrolled the new people already.
    enrolled = page.locator("[data-count=enrolled]")
    expect(enrolled).to_be_attached()  # (not_to_have_text alone passes when it is missing)
    expect(enrolled).not_to_have_text("0", use_inner_text=True)

    enrol_the_authority(browser)
    read_the_reports(browser)


def enrol_the_authority(browser: Browser) -> None:
    """Enrol the whole Comune in the course it does not follow yet."""
    page = browser.page
    browser.goto("/personale/iscrizioni")
    page.get_by_label("Corso").select_option(label="Monitoraggio, rendicontazione e controlli")
    target = page.get_by_label("Ente o regione")
    target.select_option(target.locator("option", has_text="Napoli").first.get_attribute("value"))
    page.get_by_label("Scadenza (facoltativa)", exact=True).fill("2027-03-31")
    page.get_by_role("button", name="Iscrivi").click()
    browser.check()
    expect(page.get_by_text(re.compile(r"[1-9]\d* iscritti, \d+ già iscritti"))).to_be_visible()
    rule = page.get_by_role("row").filter(has_text="Monitoraggio, rendicontazione e controlli")
    expect(rule).to_contain_text("Napoli", use_inner_text=True)


def read_the_reports(browser: Browser) -> None:
    """Reports: chart and table, then a region, then the authority; the XLSX."""
    page = browser.page
    page.get_by_role("link", name="Report", exact=True).click()
    browser.check()
    _assert_chart_drawn(browser, "#coverage-chart")
    # Some total is a positive number (has_text reads textContent: spaces around it allowed).
    totals = page.locator("tfoot td")
    expect(totals.filter(has_text=re.compile(r"^\s*[1-9][\d.]*\s*$")).first).to_be_attached()
    browser.shot("reports", full_page=True)
    page.get_by_role("link", name="Campania").click()
    browser.check()
    browser.shot("reports-region")
    page.get_by_role("link", name="Napoli").first.click()
    browser.check()
    expect(page.get_by_text("Lucia").first).to_be_visible()
    browser.shot("reports-authority")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"Excel")).first.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    sheet = workbook.worksheets[0]
    values = [row for row in sheet.iter_rows(values_only=True) if any(row)]
    assert len(values) >= 2, values  # a header and at least one row
    flat = [str(cell) for row in values for cell in row if cell is not None]
    assert any("Amato" in cell or "Napoli" in cell for cell in flat), values[:5]
    workbook.close()


def test_accessibility_statement_is_linked_from_every_footer(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.goto("/login")
    footer = page.get_by_role("contentinfo")
    footer.get_by_role("link", name="Dichiarazione di accessibilità").click()
    browser.check()
    expect(
        page.get_by_role("heading", name="Dichiarazione di accessibilità", level=1)
    ).to_be_visible()
    browser.shot("accessibility", full_page=True)
