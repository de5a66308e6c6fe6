"""One's own account in a browser: the profile, the password change, the sessions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from e2e.conftest import Browser, LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "Profilo-2026"
NEW_PASSWORD = "Profilo-nuova-2027"


def _account(live_server: LiveServer, email: str) -> None:
    """An account of this test's own (the demo ones are shared by every test)."""
    from lms.auth.operations import create_user  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with live_server.app.app_context():
        create_user(
            email=email, role="trainer", password=PASSWORD, first_name="Elena", last_name="Conti"
        )
        db.session.commit()
        db.session.remove()


def test_the_profile_from_the_header_and_a_name_correction(
    open_browser: Callable[..., Browser], live_server: LiveServer
) -> None:
    _account(live_server, "profilo.nome@e2e.example")
    browser = open_browser()
    page = browser.page
    browser.sign_in("profilo.nome@e2e.example", PASSWORD)
    page.get_by_role("link", name="Il mio profilo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Il mio profilo")
    browser.check()
    browser.shot("profile")
    page.get_by_label("Cognome").fill("Conti Rossi")
    page.get_by_role("button", name="Salva il nome").click()
    expect(page.locator(".alert")).to_contain_text("Nome aggiornato.")
    expect(page.locator("dl")).to_contain_text("Elena Conti Rossi")
    browser.check("/profilo/ (saved)")


def test_a_wrong_current_password_then_the_right_one_ends_the_other_session(
    open_browser: Callable[..., Browser], live_server: LiveServer
) -> None:
    _account(live_server, "profilo.password@e2e.example")
    other = open_browser()
    other.sign_in("profilo.password@e2e.example", PASSWORD)
    browser = open_browser()
    page = browser.page
    browser.sign_in("profilo.password@e2e.example", PASSWORD)

    browser.goto("/profilo/sessioni")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("tbody")).to_contain_text("questa sessione")
    browser.shot("profile-sessions")

    browser.goto("/profilo/password")
    page.get_by_label("Password attuale").fill("non-la-password-1")
    page.get_by_label("Nuova password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Ripeti la nuova password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Salva la password").click()
    expect(page.locator(".alert-danger")).to_contain_text("La password attuale non è corretta.")
    browser.check("/profilo/password (error)")

    page.get_by_label("Password attuale").fill(PASSWORD)
    page.get_by_label("Nuova password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Ripeti la nuova password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Salva la password").click()
    expect(page.locator(".alert")).to_contain_text("È stata chiusa 1 altra sessione.")
    browser.check("/profilo/ (password changed)")

    other.goto("/", check=False)
    expect(other.page).to_have_url(other.url("/login?next=%2F"))
    browser.goto("/profilo/sessioni")
    expect(page.locator("tbody tr")).to_have_count(1)


def test_signing_out_of_the_other_sessions(
    open_browser: Callable[..., Browser], live_server: LiveServer
) -> None:
    _account(live_server, "profilo.sessioni@e2e.example")
    other = open_browser()
    other.sign_in("profilo.sessioni@e2e.example", PASSWORD)
    browser = open_browser()
    page = browser.page
    browser.sign_in("profilo.sessioni@e2e.example", PASSWORD)
    browser.goto("/profilo/sessioni")
    page.get_by_role("button", name="Esci da tutte le altre sessioni").click()
    expect(page.locator(".alert")).to_contain_text("È stata chiusa 1 sessione.")
    expect(page.locator("tbody tr")).to_have_count(1)
    browser.check("/profilo/sessioni (others ended)")
    other.goto("/", check=False)
    expect(other.page).to_have_url(other.url("/login?next=%2F"))
