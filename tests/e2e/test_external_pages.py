"""Training done elsewhere in a browser: the learner declares, the HR manager decides and imports.

Every page goes through axe (WCAG 2.1 AA), errors included. The demo learner (Giulia
Esposito, Comune di Napoli) declares a course with its certificate; the HR manager of
Napoli refuses it without a reason (the error on its field), then approves it; the
learner's home page and list show it. The HR manager then imports a CSV: a bad file
(every row's problem listed), a good one (preview, confirmation).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fpdf import FPDF
from playwright.sync_api import expect

from e2e.conftest import Browser

pytestmark = pytest.mark.browser

LEARNER = ("discente@demo.example", "Discente-2026")
HR_NAPOLI = ("hr.napoli@demo.example", "Personale-2026")
TITLE = "Il partenariato pubblico-privato nei progetti di coesione"


def certificate(tmp_path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Attestato di partecipazione")
    path = tmp_path / "attestato.pdf"
    path.write_bytes(bytes(pdf.output()))
    return path


def test_a_declaration_from_the_form_to_the_hours(
    open_browser: Callable[..., Browser], tmp_path: Path
) -> None:
    from lms.core.types import today_in_italy  # noqa: PLC0415

    day = today_in_italy() - timedelta(days=3)
    learner = open_browser()
    page = learner.page
    learner.sign_in(*LEARNER)
    page.get_by_role("link", name="Dichiara una formazione esterna").click()
    learner.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dichiara una formazione esterna")

    # Hours in words: refused, the message tied to its field.
    page.get_by_label("Titolo del corso").fill(TITLE)
    page.get_by_label("Ente che ha erogato il corso").fill("SNA")
    page.get_by_label("Data di conclusione").fill(day.isoformat())
    page.get_by_label("Ore di formazione").fill("sette")
    page.get_by_role("button", name="Invia la dichiarazione").click()
    learner.check()
    hours = page.get_by_label("Ore di formazione")
    expect(hours).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#hours-error")).to_contain_text("non è un numero di ore")
    learner.shot("external-declare-error")

    hours.fill("7,5")
    page.get_by_label("Attestato di partecipazione (PDF, facoltativo)").set_input_files(
        certificate(tmp_path)
    )
    page.get_by_role("button", name="Invia la dichiarazione").click()
    page.wait_for_url(learner.url("/formazione-esterna/"))
    learner.check()
    row = page.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("In attesa di approvazione")
    expect(row).to_contain_text("7,5")
    learner.shot("external-mine")

    hr_refuses_then_approves(open_browser())

    learner.goto("/formazione-esterna/")
    expect(page.get_by_role("row").filter(has_text=TITLE)).to_contain_text("Approvata")
    if day.year == today_in_italy().year:
        learner.goto("/")
        expect(page.locator("#hours-parts")).to_contain_text(
            re.compile(r"Formazione esterna approvata: \d+(,\d+)? ore")
        )


def hr_refuses_then_approves(hr: Browser) -> None:
    """The HR manager of Napoli: the queue, the review, a refusal without a reason, approval."""
    hr_page = hr.page
    hr.sign_in(*HR_NAPOLI)
    hr.goto("/formazione-esterna/richieste")
    hr_row = hr_page.get_by_role("row").filter(has_text=TITLE)
    expect(hr_row).to_contain_text("Esposito Giulia")
    hr_row.get_by_role("link", name="Esposito Giulia", exact=True).click()
    hr.check()
    expect(hr_page.get_by_role("link", name="Scarica l'attestato (PDF)")).to_be_visible()
    # Refusing without a reason: the error on the reason's field.
    hr_page.get_by_role("button", name="Rifiuta la formazione").click()
    hr.check()
    expect(hr_page.get_by_label("Motivo del rifiuto")).to_have_attribute("aria-invalid", "true")
    hr.shot("external-review-error")
    hr_page.get_by_role("button", name="Approva la formazione").click()
    hr_page.wait_for_url(hr.url("/formazione-esterna/richieste"))
    hr.check()
    expect(hr_page.get_by_text("Formazione approvata")).to_be_visible()
    hr.goto("/formazione-esterna/registro?status=approved")
    expect(hr_page.get_by_role("row").filter(has_text=TITLE)).to_contain_text("Approvata")
    hr.goto("/reports/ore")
    expect(hr_page.get_by_role("columnheader", name="di cui esterne")).to_be_visible()


def test_the_hr_manager_imports_a_file(
    open_browser: Callable[..., Browser], tmp_path: Path
) -> None:
    from lms.site.demo import _demo_codice_fiscale  # noqa: PLC0415

    ciro = _demo_codice_fiscale("Ciro", "Russo", "M", "1985-07-02")
    greco = _demo_codice_fiscale("Francesco", "Greco", "M", "1988-09-09")  # Catanzaro
    header = "codice_fiscale;title;provider;completed_on;hours"
    bad = tmp_path / "errori.csv"
    bad.write_text(
        f"{header}\n{ciro};Contabilità pubblica;IFEL;31/02/2026;6\n"
        f"{greco};Contabilità pubblica;IFEL;10/02/2026;6\n",
        encoding="utf-8",
    )
    good = tmp_path / "formazione.csv"
    good.write_text(f"{header}\n{ciro};Contabilità pubblica;IFEL;10/02/2026;6\n", encoding="utf-8")

    browser = open_browser()
    page = browser.page
    browser.sign_in(*HR_NAPOLI)
    browser.goto("/formazione-esterna/importa")
    page.get_by_label("File della formazione esterna (CSV)").set_input_files(bad)
    page.get_by_role("button", name="Controlla il file").click()
    browser.check()
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("riga 2, completed_on")
    expect(errors).to_contain_text("riga 3, codice_fiscale")
    browser.shot("external-import-errors")

    page.get_by_label("File della formazione esterna (CSV)").set_input_files(good)
    page.get_by_role("button", name="Controlla il file").click()
    browser.check()
    expect(page.locator("[data-count=new]")).to_have_text("1")
    browser.shot("external-import-preview")
    page.get_by_role("button", name="Conferma l'importazione").click()
    browser.check()
    expect(page.locator("[data-count=imported]")).to_have_text("1")
    page.get_by_role("link", name="Vai al registro").click()
    browser.check()
    expect(page.get_by_role("row").filter(has_text="Contabilità pubblica")).to_contain_text(
        "Importata da file"
    )
