"""The trial's findings (#18) in the browser: where the focus lands after an error, axe.

A page that comes back with an error (a wrong password, a roster with bad rows, a
refused form, a report's bad date) moves the focus to its error summary and says
"Errore:" in its title (WCAG 2.4.3, 4.1.3): a keyboard user starts there instead of
at the top of the page, and a screen reader reads the summary. Every page goes
through axe-core (:meth:`Browser.check`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.conftest import Browser

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def focused(browser: Browser) -> dict[str, str]:
    """The focused element: its id, tag, and whether it is (inside) an error summary or box."""
    result: dict[str, str] = browser.page.evaluate(
        """() => {
            const e = document.activeElement;
            return {
                id: e.id, tag: e.tagName.toLowerCase(),
                summary: String(e.hasAttribute('data-lms-error-summary')),
                error: String(e.hasAttribute('data-lms-error')),
                text: e.innerText || '',
            };
        }"""
    )
    return result


def test_a_wrong_password_moves_the_focus_to_the_error(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.goto("/login")
    expect(page).to_have_title("Accedi · Formazione Coesione")
    page.get_by_label("E-mail").fill("nessuno@e2e.example")
    page.get_by_label("Password").fill("password-sbagliata")
    page.get_by_role("button", name="Accedi").click()
    browser.check()
    expect(page).to_have_title("Errore: Accedi · Formazione Coesione")
    now = focused(browser)
    assert now["error"] == "true", now
    assert "E-mail o password non corretti." in now["text"]


def test_an_empty_form_moves_the_focus_to_the_summary_whose_links_reach_the_fields(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.goto("/login")
    page.get_by_role("button", name="Accedi").click()
    browser.check()
    expect(page).to_have_title("Errore: Accedi · Formazione Coesione")
    now = focused(browser)
    assert now["summary"] == "true", now
    assert "2 errori da correggere" in now["text"]
    # The first Tab reaches the summary's first link; following it focuses the field.
    page.keyboard.press("Tab")
    assert focused(browser)["tag"] == "a"
    page.keyboard.press("Enter")
    assert focused(browser)["id"] == "email"


def test_a_roster_with_bad_rows_moves_the_focus_to_its_list_of_problems(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in("hr.napoli@demo.example", "Personale-2026")
    browser.goto("/personale/importa")
    page.locator("#roster").set_input_files(EXAMPLES / "personale_comune_napoli_errore.csv")
    page.get_by_role("button", name="Controlla il file").click()
    browser.check()
    expect(page).to_have_title("Errore: Importa il personale · Formazione Coesione")
    now = focused(browser)
    assert now["id"] == "roster-errors", now


def test_a_report_with_a_bad_date_moves_the_focus_to_the_summary(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in("hr.napoli@demo.example", "Personale-2026")
    browser.goto("/reports/?as_of=31/02/2026")
    expect(page).to_have_title("Errore: Report sulla formazione · Report · Formazione Coesione")
    now = focused(browser)
    assert now["summary"] == "true", now
    assert "Data non valida: 31/02/2026" in now["text"]
    expect(page.locator("#filter-as-of")).to_have_attribute("aria-invalid", "true")
    # Corrected, the report comes back without an error.
    page.locator("#filter-as-of").fill("2026-03-01")
    page.get_by_role("button", name="Aggiorna").click()
    browser.check()
    expect(page).to_have_title("Report sulla formazione · Formazione Coesione")
    assert focused(browser)["tag"] == "body"


def test_figures_that_do_not_apply_are_words_for_screen_readers_not_aria_labels(
    open_browser: Callable[..., Browser],
) -> None:
    """The report of every region: most have no staff, so most figures do not apply."""
    browser = open_browser()
    page = browser.page
    browser.sign_in("admin@demo.example", "Amministra-2026")
    for path in ("/reports/", "/reports/regioni/18", "/reports/ore"):
        browser.goto(path)
        assert page.locator("span[aria-label]").count() == 0, path
        # Nor does axe leave it to review: a name on an element that may not have one.
        review = page.evaluate(
            """async () => (await window.axe.run(document, {
                runOnly: {type: 'rule', values: ['aria-prohibited-attr']},
                resultTypes: ['incomplete', 'violations'],
            }))""",
        )
        assert review["violations"] == [], path
        assert review["incomplete"] == [], path
    browser.goto("/reports/")
    words = page.locator("td .visually-hidden", has_text="non applicabile")
    assert words.count() > 20  # 17 regions without staff, two figures each
    expect(words.first).to_be_attached()


def test_the_short_answer_label_sits_on_its_input_below_the_question(
    open_browser: Callable[..., Browser],
) -> None:
    """The label of a typed answer was drawn at the top of the question's box, above it."""
    browser = open_browser()
    page = browser.page
    browser.sign_in("telefono@e2e.example", "Telefono-2026")
    browser.goto("/courses/appalti-pubblici/verifica-finale/")
    start = page.get_by_role("button", name="Inizia la verifica")
    if start.count():
        start.click()
        browser.check()
    for field in page.locator("fieldset.lms-question input[type=text]").all():
        question = field.locator("xpath=ancestor::fieldset[1]")
        label = page.locator(f"label[for='{field.get_attribute('id')}']")
        legend, where, box = (
            question.locator("legend").bounding_box(),
            label.bounding_box(),
            field.bounding_box(),
        )
        assert legend is not None
        assert where is not None
        assert box is not None
        assert where["y"] >= legend["y"] + legend["height"] - 1, "the label is above the question"
        assert box["y"] - (where["y"] + where["height"]) < 12, "the label is far from its input"
        assert where["y"] < box["y"] + box["height"]


def test_a_stranger_finds_the_way_in_from_the_public_pages(
    open_browser: Callable[..., Browser],
) -> None:
    browser = open_browser()
    page = browser.page
    for path in ("/accessibilita", "/password/dimenticata", "/certificates/"):
        browser.goto(path)
        page.get_by_role("banner").get_by_role("link", name="Accedi").click()
        expect(page).to_have_url(browser.url("/login"))
        browser.check()
        link = page.get_by_role("banner").get_by_role("link", name="Accedi")
        expect(link).to_have_attribute("aria-current", "page")


def test_the_report_filters_line_up_and_keep_clear_of_the_text_above(
    open_browser: Callable[..., Browser],
) -> None:
    """The as-of date's help text pushed its field above its neighbours; labels touched the lead."""
    browser = open_browser()
    page = browser.page
    browser.sign_in("hr.napoli@demo.example", "Personale-2026")
    for path in ("/reports/", "/reports/regioni/15", "/reports/enti/063049", "/reports/ore"):
        browser.goto(path)
        form = page.locator("form.lms-report-filters")
        controls = [
            box
            for box in (c.bounding_box() for c in form.locator("select, input").all())
            if box is not None
        ]
        button = form.get_by_role("button", name="Aggiorna").bounding_box()
        assert button is not None
        tops = {round(box["y"]) for box in controls} | {round(button["y"])}
        bottoms = {round(box["y"] + box["height"]) for box in controls} | {
            round(button["y"] + button["height"])
        }
        assert max(tops) - min(tops) <= 2, (path, tops)
        assert max(bottoms) - min(bottoms) <= 2, (path, bottoms)
        labels = [b for b in (x.bounding_box() for x in form.locator("label").all()) if b]
        above = page.evaluate(
            """() => {
                const form = document.querySelector('form.lms-report-filters');
                let e = form.previousElementSibling;
                while (e && !e.getBoundingClientRect().height) { e = e.previousElementSibling; }
                return e.getBoundingClientRect().bottom + window.scrollY;
            }"""
        )
        gap = min(box["y"] for box in labels) - above
        assert gap >= 16, (path, gap)
