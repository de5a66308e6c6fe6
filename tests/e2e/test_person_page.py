"""The HR manager's person page in the browser: the edit form and its errors, the confirmations.

Every page goes through axe-core (:meth:`Browser.check`). The test changes only
what it makes itself: an enrolment it adds and removes again, an edit refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from e2e.conftest import Browser

pytestmark = pytest.mark.browser

HR_NAPOLI = ("hr.napoli@demo.example", "Personale-2026")
COURSE = "Monitoraggio, rendicontazione e controlli"


def open_person(browser: Browser, name: str) -> None:
    """From the staff list, the person called *name* ("Romano Carmela")."""
    page = browser.page
    browser.goto("/personale/?q=" + name.split(maxsplit=1)[0])
    page.get_by_role("link", name=name).click()
    browser.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        " ".join(reversed(name.split())), use_inner_text=True
    )


def test_the_person_page_edit_form_shows_each_error_on_its_field(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*HR_NAPOLI)
    open_person(browser, "Romano Carmela")
    expect(page.locator("#last-login")).to_be_visible()
    expect(page.get_by_role("heading", name="Modifica i dati")).to_be_visible()
    expect(page.get_by_label("Ente")).to_have_value("063049")
    expect(page.get_by_role("button", name="Crea un nuovo link")).to_be_visible()
    browser.shot("hr-person")

    # Left before being hired: refused, nothing saved, the message under its field.
    page.get_by_label("Data di assunzione").fill("2025-03-01")
    page.get_by_label("Data di cessazione").fill("2025-02-01")
    page.get_by_role("button", name="Salva le modifiche").click()
    browser.check()
    expect(page.get_by_text("I dati non sono stati salvati")).to_be_visible()
    left_on = page.get_by_label("Data di cessazione")
    expect(left_on).to_have_attribute("aria-invalid", "true")
    described = left_on.get_attribute("aria-describedby") or ""
    assert "left_on-error" in described.split()
    expect(page.locator("#left_on-error")).to_have_text(
        re.compile("precedente alla data di assunzione"), use_inner_text=True
    )
    browser.shot("hr-person-error")

    # Nothing was written: the record shows its own dates again.
    open_person(browser, "Romano Carmela")
    expect(page.get_by_label("Data di cessazione")).to_have_value("")


def test_an_un_enrolment_goes_through_its_confirmation_page(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*HR_NAPOLI)
    open_person(browser, "Russo Ciro")
    page.get_by_label("Corso", exact=True).select_option(label=COURSE)
    page.get_by_role("button", name="Iscrivi", exact=True).click()
    browser.check()
    row = page.get_by_role("row").filter(has_text=COURSE)
    expect(row).to_have_count(1)

    # The confirmation page says what will happen; "No" changes nothing.
    row.get_by_role("link", name=re.compile("Annulla iscrizione")).click()
    browser.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annullare l'iscrizione?")
    expect(page.locator("#confirm-what")).to_contain_text("restano suoi")
    browser.shot("hr-unenrol-confirm")
    page.get_by_role("link", name="No, torna alla scheda").click()
    browser.check()
    expect(page.get_by_role("row").filter(has_text=COURSE)).to_have_count(1)

    page.get_by_role("row").filter(has_text=COURSE).get_by_role(
        "link", name=re.compile("Annulla iscrizione")
    ).click()
    browser.check()
    page.get_by_role("button", name="Sì, annulla l'iscrizione").click()
    browser.check()
    expect(page.get_by_text(f"Iscrizione a «{COURSE}» rimossa.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=COURSE)).to_have_count(0)


def test_removing_a_standing_rule_asks_first(open_browser: Callable[..., Browser]) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*HR_NAPOLI)
    browser.goto("/personale/iscrizioni")
    rules = page.get_by_role("table", name="Regole di iscrizione permanente").get_by_role("row")
    before = rules.count()
    rules.nth(1).get_by_role("link", name=re.compile("Rimuovi")).click()
    browser.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rimuovere la regola di iscrizione?")
    expect(page.locator("#confirm-what")).to_contain_text("Tutte le iscrizioni già fatte restano")
    page.get_by_role("link", name="No, torna alle iscrizioni").click()
    browser.check()
    expect(rules).to_have_count(before)  # nothing removed
