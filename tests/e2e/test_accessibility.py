"""Keyboard only, errors tied to their fields, a 375-pixel screen, and axe on the other pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.conftest import KEYBOARD_LEARNER, PHONE, PHONE_LEARNER, Browser, LiveServer
from e2e.test_journeys import ROSTER_HEADER, quiz_key

pytestmark = pytest.mark.browser

#: The focused element, and whether its focus can be seen: a non-transparent outline
#: or box shadow on it or, for the inputs Bootstrap Italia draws on their label
#: (radio buttons, checkboxes), on the label.
FOCUSED = """async () => {
    const painted = (shadow) => shadow.split(/,(?![^(]*\\))/).some((part) =>
        !/rgba\\([^)]*,\\s*0\\)/.test(part) && /[1-9]/.test(part.replace(/rgba?\\([^)]*\\)/, '')));
    const shows = (el) => {
        const s = getComputedStyle(el);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
            && !/rgba\\([^)]*,\\s*0\\)/.test(s.outlineColor);
        return outline || (s.boxShadow !== 'none' && painted(s.boxShadow));
    };
    const el = document.activeElement;
    // Let focus transitions (Bootstrap Italia's buttons fade their ring in) finish.
    const moving = [el, ...Array.from(el.labels || [])].flatMap((e) => e.getAnimations());
    await Promise.all(moving.map((animation) => animation.finished.catch(() => null)));
    return {
        tag: el.tagName.toLowerCase(), type: el.type || '', id: el.id, name: el.name || '',
        value: el.value || '', checked: !!el.checked,
        text: (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 60),
        visible: shows(el) || Array.from(el.labels || []).some(shows),
    };
}"""


def tab(browser: Browser, *, backwards: bool = False) -> dict:
    """Press Tab (Shift+Tab) and describe the element that has the focus; it must show it."""
    browser.page.keyboard.press("Shift+Tab" if backwards else "Tab")
    focused = browser.page.evaluate(FOCUSED)
    if focused["tag"] != "body":
        assert focused["visible"], f"the keyboard focus is not visible on {focused}"
    return focused


def tab_to(browser: Browser, matches: Callable[[dict], bool], limit: int = 80) -> dict:
    """Tab until the focused element matches; every element on the way shows its focus."""
    for _ in range(limit):
        focused = tab(browser)
        if matches(focused):
            return focused
    raise AssertionError("the element was never reached with the Tab key")


def submit_with_enter(browser: Browser) -> None:
    """Press Enter on the focused button and wait for the next page to load; check it."""
    with browser.page.expect_navigation(wait_until="load"):
        browser.page.keyboard.press("Enter")
    browser.check()


def keyboard_sign_in(browser: Browser, email: str, password: str) -> None:
    browser.goto("/login")
    tab_to(browser, lambda f: f["id"] == "email")
    browser.page.keyboard.type(email)
    tab(browser)
    expect(browser.page.locator("#password")).to_be_focused()
    browser.page.keyboard.type(password)
    submit_with_enter(browser)
    expect(browser.page).to_have_url(browser.url("/"))


def test_a_quiz_can_be_taken_with_the_keyboard_alone(
    open_browser: Callable[..., Browser], live_server: LiveServer
) -> None:
    browser = open_browser()
    page = browser.page
    keyboard_sign_in(browser, *KEYBOARD_LEARNER)
    key = quiz_key(live_server, "appalti-pubblici", "verifica-finale")
    browser.goto("/courses/appalti-pubblici/verifica-finale/")
    tab_to(browser, lambda f: f["text"] == "Inizia la verifica")
    submit_with_enter(browser)
    expect(page.locator("fieldset.lms-question")).to_have_count(len(key))

    answered = set()
    focused = tab_to(browser, lambda f: f["name"] in key)
    while focused["text"] != "Consegna la verifica":
        question = key.get(focused["name"])
        if question is None:
            pass
        elif focused["type"] == "radio":
            # The group has one tab stop: Space picks the focused option, arrows move.
            right = next(o["id"] for o in question["options"] if o["correct"])
            page.keyboard.press("Space")
            for _ in question["options"]:
                if page.evaluate(FOCUSED)["value"] == right:
                    break
                page.keyboard.press("ArrowDown")
            assert page.evaluate(FOCUSED)["checked"]
            answered.add(focused["name"])
        elif focused["type"] == "checkbox":
            correct = {o["id"] for o in question["options"] if o["correct"]}
            if focused["value"] in correct:
                page.keyboard.press("Space")
            answered.add(focused["name"])
        elif focused["type"] == "text":
            page.keyboard.type(question["answers"][0])
            answered.add(focused["name"])
        focused = tab(browser)
    assert answered == set(key)
    # Back and forth: Shift+Tab returns to the last question, Tab to the button.
    assert tab(browser, backwards=True)["name"] in key
    assert tab(browser)["text"] == "Consegna la verifica"
    submit_with_enter(browser)
    expect(page).to_have_url(re.compile("/tentativi/"))
    expect(page.get_by_text("100,0 %").first).to_be_visible()
    expect(page.get_by_text("superata").first).to_be_visible()


def test_a_roster_can_be_uploaded_with_the_keyboard_alone(
    open_browser: Callable[..., Browser], tmp_path: Path
) -> None:
    from lms.site.demo import _demo_codice_fiscale  # noqa: PLC0415

    row = (
        f"{_demo_codice_fiscale('Marta', 'Longo', 'F', '1992-04-09')};Marta;Longo;"
        "marta.longo@comune.catanzaro.it;079023;neoassunta;01/09/2026"
    )
    bad = tmp_path / "errori.csv"
    bad.write_text(f"{ROSTER_HEADER}\n{row.replace('079023', '999999')}\n", encoding="utf-8")
    good = tmp_path / "personale.csv"
    good.write_text(f"{ROSTER_HEADER}\n{row}\n", encoding="utf-8")

    browser = open_browser()
    page = browser.page
    keyboard_sign_in(browser, "hr.calabria@demo.example", "Personale-2026")
    browser.goto("/personale/importa")
    for roster, outcome in ((bad, "#import-errors"), (good, "#preview-counts")):
        if roster == bad:
            tab_to(browser, lambda f: f["id"] == "roster")
        else:
            # The page came back with the file's problems, and the focus on them (#18):
            # the file field is just before, one Shift+Tab away.
            expect(page.locator("#roster-errors")).to_be_focused()
            assert tab(browser, backwards=True)["id"] == "roster"
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Space")
        chooser.value.set_files(roster)
        assert tab(browser)["text"] == "Controlla il file"
        submit_with_enter(browser)
        expect(page.locator(outcome)).to_be_visible()
        if roster == bad:
            expect(page.locator("#import-errors")).to_contain_text(
                "riga 2, Codice Ente", use_inner_text=True
            )
    tab_to(browser, lambda f: f["text"] == "Conferma l'importazione")
    submit_with_enter(browser)
    expect(page.locator("[data-count=added]")).to_have_text("1", use_inner_text=True)


def described_by(browser: Browser, field_id: str) -> str:
    """The text of the elements named by the field's aria-describedby (each must exist)."""
    return browser.page.evaluate(
        """(id) => {
            const field = document.getElementById(id);
            return (field.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
                .map((ref) => document.getElementById(ref).innerText).join(' | ');
        }""",
        field_id,
    )


def test_the_sign_out_button_shows_a_strong_focus_ring(
    open_browser: Callable[..., Browser],
) -> None:
    """A white button on the blue header: its ring must stand out (WCAG 2.4.7)."""
    browser = open_browser()
    browser.sign_in(*KEYBOARD_LEARNER)
    tab_to(browser, lambda f: f["text"] == "Esci")
    ring = browser.page.evaluate(
        """() => {
            const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor, s.boxShadow];
        }"""
    )
    style, width, color, shadow = ring
    assert style == "solid"
    assert width >= 2
    assert color == "rgb(255, 255, 255)"  # white, against the blue header
    assert "inset" in shadow  # and a dark ring inside, against the white button


def test_form_errors_are_tied_to_their_fields(open_browser: Callable[..., Browser]) -> None:
    browser = open_browser()
    page = browser.page
    browser.goto("/login")
    page.get_by_role("button", name="Accedi").click()
    browser.check()
    for field_id in ("email", "password"):
        field = page.locator(f"#{field_id}")
        expect(field).to_have_attribute("aria-invalid", "true")
        assert "obbligatorio" in described_by(browser, field_id).lower()
        expect(page.locator(f"label[for={field_id}]")).to_be_visible()

    page.get_by_label("E-mail").fill("discente@demo.example")
    page.get_by_label("Password").fill("password-sbagliata")
    page.get_by_role("button", name="Accedi").click()
    browser.check()
    expect(
        page.get_by_role("alert").filter(has_text="E-mail o password non corretti.")
    ).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_value("discente@demo.example")

    # A form of the HR pages: the roster upload without a file.
    browser.sign_in("hr.napoli@demo.example", "Personale-2026")
    browser.goto("/personale/importa")
    page.get_by_role("button", name="Controlla il file").click()
    browser.check()
    roster = page.locator("#roster")
    expect(roster).to_have_attribute("aria-invalid", "true")
    assert "Scegli un file da caricare." in described_by(browser, "roster")


def no_horizontal_scroll(browser: Browser) -> None:
    width = browser.page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{browser.page.url} is {width}px wide on a 375px screen"


def test_the_learner_pages_work_on_a_375_pixel_screen(open_browser: Callable[..., Browser]) -> None:
    browser = open_browser(PHONE)
    page = browser.page
    browser.sign_in(*PHONE_LEARNER)
    no_horizontal_scroll(browser)
    browser.shot("mobile-home")

    # The menu is behind the burger button; it opens, and its links work.
    menu_button = page.get_by_role("button", name="Mostra o nascondi il menu")
    expect(menu_button).to_be_visible()
    expect(page.get_by_role("link", name="Corsi", exact=True).first).not_to_be_visible()
    menu_button.click()
    corsi = page.locator("#main-menu-items").get_by_role("link", name="Corsi")
    corsi.wait_for(state="visible")
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    browser.check("menu (375px)")
    browser.shot("mobile-menu")
    corsi.click()
    page.wait_for_url(browser.url("/courses/"))
    browser.check()
    no_horizontal_scroll(browser)

    page.get_by_role("link", name="Appalti pubblici per i progetti finanziati").first.click()
    browser.check()
    no_horizontal_scroll(browser)
    page.get_by_role("link", name="Inizia il corso").click()
    browser.check()
    no_horizontal_scroll(browser)
    browser.shot("mobile-module")
    page.get_by_role("button", name="Segna come completato").click()
    browser.check()
    no_horizontal_scroll(browser)

    browser.goto("/courses/appalti-pubblici/verifica-finale/")
    page.get_by_role("button", name="Inizia la verifica").click()
    page.wait_for_selector("fieldset.lms-question")
    browser.check()
    no_horizontal_scroll(browser)
    browser.shot("mobile-quiz")


@pytest.mark.parametrize(
    ("account", "paths"),
    [
        (None, ["/password/dimenticata", "/certificates/", "/pagina-inesistente"]),
        (
            ("admin@demo.example", "Amministra-2026"),
            ["/admin/users", "/enti/", "/enti/063049", "/reports/ore", "/formatori/"],
        ),
        (
            ("hr.calabria@demo.example", "Personale-2026"),
            ["/personale/", "/personale/iscrizioni", "/enti/?q=cosenza", "/reports/regioni/18"],
        ),
    ],
    ids=["visitor", "admin", "hr-region"],
)
def test_the_other_pages_pass_axe(
    open_browser: Callable[..., Browser], account: tuple[str, str] | None, paths: list[str]
) -> None:
    browser = open_browser()
    if account:
        browser.sign_in(*account)
    for path in paths:
        browser.goto(path)
    # The same in English.
    browser.page.get_by_role("button", name="English").click()
    # The click starts a navigation: wait for the English page, not the one already loaded.
    expect(browser.page.locator("html")).to_have_attribute("lang", "en")
    browser.check(f"{paths[-1]} (English)")
