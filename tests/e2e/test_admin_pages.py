"""The administrators' Utenti pages in a browser: list, new account with an error, account page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from e2e.conftest import Browser

pytestmark = pytest.mark.browser

ADMIN = ("admin@demo.example", "Amministra-2026")


def submit(browser: Browser, button: str) -> int:
    """Click the form's *button*; the status of the page that answers."""
    with browser.page.expect_navigation() as navigation:
        browser.page.get_by_role("button", name=button).click()
    return navigation.value.status


def test_creating_an_account_with_an_error_then_its_link(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*ADMIN)
    browser.goto("/admin/utenti")
    page.get_by_role("link", name="Nuovo account").click()
    expect(page).to_have_url(browser.url("/admin/utenti/nuovo"))
    browser.check()

    # An HR manager without a scope: the error is on its field, tied to it, and axe passes.
    page.get_by_label("E-mail").fill("nuova.responsabile@e2e.example")
    page.get_by_label("Ruolo").select_option("hr")
    assert submit(browser, "Crea l'account") == 400  # sent back with its errors
    authorities = page.get_by_label("Enti di competenza (codici ISTAT o IPA)")
    expect(authorities).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#authorities-error")).to_contain_text(
        "Un responsabile del personale deve avere almeno un ente"
    )
    expect(authorities).to_have_attribute("aria-describedby", re.compile("authorities-error"))
    expect(page.get_by_label("E-mail")).to_have_value("nuova.responsabile@e2e.example")
    browser.check("/admin/utenti/nuovo (error)")
    browser.shot("admin-new-user-error")

    # With the Comune di Napoli: created, and the link is shown once.
    authorities.fill("063049")
    assert submit(browser, "Crea l'account") == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Link per impostare la password")
    expect(page.locator("#password-link")).to_contain_text("/password/")
    browser.check("/admin/utenti/nuovo (link)")
    page.get_by_role("link", name="Torna all'account").click()
    expect(page.locator("#account-details")).to_contain_text("Responsabile del personale")
    expect(page.locator("#account-details")).to_contain_text("Napoli")
    browser.check()


def test_the_account_page_and_the_deactivation_step(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*ADMIN)
    browser.goto("/admin/utenti?q=discente%40demo.example")
    page.locator("table").get_by_role("link").first.click()
    expect(page.locator("#account-details")).to_contain_text("discente@demo.example")
    browser.check()
    account_url = page.url
    browser.shot("admin-user", full_page=True)

    # A wrong codice fiscale: the message says why, on the field.
    field = page.get_by_label("Codice fiscale", exact=True)
    field.fill("RSSMRA80A01F839X")
    assert submit(browser, "Associa il codice fiscale") == 400
    expect(page.locator("#fiscal_code-error")).to_contain_text("carattere di controllo errato")
    expect(page.get_by_label("Codice fiscale", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    browser.check("/admin/utenti/<id> (error)")

    # Deactivating asks first, says what happens, and Annulla goes back unchanged.
    browser.page.goto(account_url)
    page.get_by_role("link", name="Disattiva l'account…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Disattivare l'account")
    expect(page.get_by_text("le sessioni aperte si chiudono subito")).to_be_visible()
    browser.check()
    page.get_by_role("link", name="Annulla").click()
    expect(page).to_have_url(account_url)
    expect(page.locator("#account-details")).to_contain_text("attivo")

    # The same page in English.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Bind the codice fiscale")).to_be_visible()
    browser.check("/admin/utenti/<id> (English)")
