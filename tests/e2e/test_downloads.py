"""The download buttons in a browser: the XLSX for people first, the programme's CSV second.

The HR manager of Napoli opens the reports, the audit log, the records of training
done elsewhere and the set-password links page (each through axe, WCAG 2.1 AA):
the first download of every table is the XLSX, in Italian, with the filters above
the table; the second, named "CSV (formato del programma)", is the programme's
CSV with its English columns. In English the XLSX speaks English. The links page
is only looked at: its buttons issue new links.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from people_sheets import PeopleTable, read_people_xlsx
from playwright.sync_api import Page, expect

from e2e.conftest import Browser

pytestmark = pytest.mark.browser

HR_NAPOLI = ("hr.napoli@demo.example", "Personale-2026")


def download(page: Page, name: str) -> tuple[str, bytes]:
    """Click the link named *name*; the file's suggested name and its bytes."""
    with page.expect_download() as info:
        page.get_by_role("link", name=name, exact=True).click()
    file = info.value
    return file.suggested_filename, Path(file.path()).read_bytes()


def xlsx_of(page: Page, name: str) -> PeopleTable:
    filename, data = download(page, name)
    assert filename.endswith(".xlsx"), filename
    return read_people_xlsx(data)


def test_every_table_is_offered_as_xlsx_first_then_as_the_programme_csv(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*HR_NAPOLI)

    browser.goto("/reports/")
    links = page.locator(".lms-downloads a")
    expect(links.first).to_have_text(re.compile(r"Regioni \(Excel\)"))
    expect(links.nth(1)).to_have_text("Regioni: CSV (formato del programma)")
    browser.shot("downloads-reports")
    regions = xlsx_of(page, "Regioni (Excel)")
    assert regions.title == "Copertura della formazione per regione"
    assert regions.header[:3] == ["Codice regione", "Regione", "Meno sviluppata"]
    assert "Situazione al" in regions.about
    assert regions.rows[-1][0] == "Totale"
    filename, data = download(page, "Regioni: CSV (formato del programma)")
    assert filename.endswith(".csv")
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:3] == ["region_code", "region", "less_developed"]
    learners = xlsx_of(page, "Discenti (Excel)")
    assert learners.header[0] == "Codice fiscale"
    assert {row["Codice ente"] for row in learners.records()} <= {"063049"}  # Napoli's only

    browser.goto("/audit/")
    log = xlsx_of(page, "Registro filtrato (Excel)")
    assert log.title == "Registro attività"
    assert log.header[0] == "Data e ora"

    browser.goto("/formazione-esterna/registro")
    expect(page.locator(".lms-downloads a").first).to_have_text(
        re.compile(r"Formazione esterna \(Excel\)")
    )
    records = xlsx_of(page, "Formazione esterna (Excel)")
    assert records.header[:2] == ["N.", "Codice fiscale"]

    browser.goto("/personale/link")
    buttons = page.locator("form.lms-form-actions button[name=format]")  # the demo's waiting
    expect(buttons).to_have_count(2)
    expect(buttons.first).to_have_text("Crea e scarica i link (Excel)")
    expect(buttons.nth(1)).to_have_text("Crea e scarica i link: CSV (formato del programma)")

    # In English the file for people speaks English; the programme's CSV does not change.
    browser.goto("/reports/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    browser.check("reports (English)")
    english = xlsx_of(page, "Regions (Excel)")
    assert english.header[:2] == ["Region code", "Region"]
    assert "As of" in english.about, english.about
