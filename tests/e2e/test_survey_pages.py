"""Course surveys in a real browser, with axe-core: answering (errors on their fields, then
thanks), and a trainer's results with their charts, and with too few responses."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from e2e.conftest import Browser, LiveServer

pytestmark = pytest.mark.browser

COURSE = "appalti-pubblici"  # not sequential: its survey is open from the start
SURVEY = "questionario-di-gradimento"
SURVEY_URL = f"/courses/{COURSE}/{SURVEY}/"
RESULTS_URL = f"/questionari/{COURSE}/{SURVEY}/"
LEARNER = ("questionario@e2e.example", "Questionario-2026")


def _accounts(server: LiveServer, emails: list[tuple[str, str]]) -> None:
    from lms.auth.models import User  # noqa: PLC0415
    from lms.auth.operations import create_user  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with server.app.app_context():
        for email, password in emails:
            if db.session.scalar(select(User.id).where(User.email == email)) is None:
                create_user(
                    email=email,
                    role="learner",
                    password=password,
                    first_name="Luca",
                    last_name="Neri",
                )
        db.session.commit()
        db.session.remove()


def _answers_from_others(server: LiveServer, course: str, how_many: int) -> None:
    """*how_many* learners answer the course's survey (straight through the operation)."""
    from lms.auth.models import Role, User  # noqa: PLC0415
    from lms.courses.models import Course, Module  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415
    from lms.surveys.operations import submit_survey  # noqa: PLC0415

    with server.app.app_context():
        module = db.session.scalar(
            select(Module).join(Course).where(Course.slug == course, Module.slug == SURVEY)
        )
        for number in range(how_many):
            user = User(
                email=f"risponde{number}.{course}@e2e.example",
                role=Role.LEARNER,
                first_name="Anna",
                last_name=f"Prova{number}",
            )
            db.session.add(user)
            db.session.flush()
            answers: dict[str, int | str] = {}
            for question in module.survey_questions:
                if question["kind"] == "scale":
                    answers[question["id"]] = 1 + number % len(question["labels"])
                else:
                    answers[question["id"]] = f"Commento <b>{number}</b> con = all'inizio"
            submit_survey(user, module, answers)
        db.session.commit()
        db.session.remove()


def test_a_learner_answers_the_survey_with_errors_shown_on_their_fields(
    open_browser: Callable[..., Browser], live_server: LiveServer
) -> None:
    _accounts(live_server, [LEARNER])
    browser = open_browser()
    page = browser.page
    browser.sign_in(*LEARNER)
    browser.goto(f"/courses/{COURSE}/")
    expect(page.get_by_text("Questionario di gradimento · facoltativo")).to_be_visible()
    browser.goto(SURVEY_URL)
    expect(page.get_by_role("heading", name="Questionario di gradimento", level=1)).to_be_visible()
    first = page.get_by_role("group", name=re.compile("Nel complesso, quanto sei soddisfatto"))
    expect(first.get_by_role("radio")).to_have_count(4)
    browser.shot("survey")

    # Sent with one answer only: the page comes back with the errors on their questions.
    first.get_by_text("Molto").click()
    page.get_by_role("button", name="Invia le risposte").click()
    page.wait_for_load_state("load")
    browser.check("survey with errors")
    expect(page.locator("#survey-errors")).to_be_visible()
    expect(first.get_by_label("Molto")).to_be_checked()  # what was chosen stays
    second = page.get_by_role("group", name=re.compile("I contenuti sono utili"))
    expect(second.get_by_text("Rispondi a questa domanda.")).to_be_visible()
    expect(second.get_by_role("radio").first).to_have_attribute("aria-describedby", "q2-error")

    for group in page.locator("fieldset.lms-question").all():
        radios = group.get_by_role("radio")
        if radios.count():
            group.locator("label.form-check-label").last.click()
    page.get_by_label("La tua risposta").first.fill("Gli esempi sui CIG")
    page.get_by_role("button", name="Invia le risposte").click()
    page.wait_for_url(browser.url(SURVEY_URL))
    browser.check("survey answered")
    expect(page.get_by_text("Grazie: le tue risposte sono state registrate")).to_be_visible()
    expect(page.get_by_text("Hai già risposto a questo questionario")).to_be_visible()
    expect(page.get_by_text("Gli esempi sui CIG")).to_have_count(0)
    expect(page.locator("#survey-form")).to_have_count(0)


def test_a_trainer_reads_the_results_with_charts_and_none_below_five(
    open_browser: Callable[..., Browser], live_server: LiveServer
) -> None:
    _answers_from_others(live_server, "monitoraggio-controlli", 5)
    _answers_from_others(live_server, "fondamenti-coesione", 2)
    browser = open_browser()
    page = browser.page
    browser.sign_in("formatore@demo.example", "Formatore-2026")

    browser.goto("/formatori/monitoraggio-controlli/")
    page.get_by_role("link", name="Risultati del questionario: Questionario di gradimento").click()
    page.wait_for_url(browser.url("/questionari/monitoraggio-controlli/" + SURVEY + "/"))
    browser.check()
    charts = page.locator("canvas[id^='survey-chart-']")
    expect(charts).to_have_count(5)  # the five scale questions
    drawn = browser.json(
        """() => Array.from(document.querySelectorAll("canvas[id^='survey-chart-']")).map((c) => {
            const chart = window.Chart && window.Chart.getChart(c);
            const points = chart ? chart.data.datasets[0].data.length : 0;
            return {height: c.height, points: points};
        })"""
    )
    assert all(d["height"] > 0 and d["points"] >= 3 for d in drawn), drawn
    # Free text is shown as text: the tags typed are not markup.
    expect(page.get_by_text("Commento <b>0</b> con = all'inizio").first).to_be_visible()
    browser.shot("survey-results", full_page=True)

    browser.goto("/questionari/")
    browser.check()
    browser.goto("/questionari/fondamenti-coesione/")
    browser.check()
    browser.goto(f"/questionari/fondamenti-coesione/{SURVEY}/")
    expect(page.get_by_text("2 risposte: i risultati appaiono da 5 risposte.")).to_be_visible()
    expect(page.locator("canvas")).to_have_count(0)
