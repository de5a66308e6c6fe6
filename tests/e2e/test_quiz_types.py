"""A quiz with every question kind of issue #18 (partial credit, negative weights, any of
several right answers, weighted short answers, a numerical answer, a matching question),
taken in a real browser and graded on the server; the review without the key and with it;
the trainer's statistics. axe-core on every page.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from e2e.conftest import Browser, LiveServer

pytestmark = pytest.mark.browser

COURSE = "verifiche-ricche"
QUIZ_URL = f"/courses/{COURSE}/verifica/"
LEARNER = ("ricca@e2e.example", "Verifica-Ricca-2026")

COURSE_MD = """---
title: Verifiche con domande ricche
summary: Una verifica con ogni tipo di domanda.
hours: 1
---

Corso di prova dei tipi di domanda.
"""

QUIZ_MD = """---
title: Verifica con ogni tipo di domanda
type: quiz
max_attempts: 2
review: when_done
---

Rispondi a ogni domanda.

## Dove ha sede la Commissione europea?
- [x] Bruxelles
- [ ] {50%} Belgio
- [ ] Strasburgo

> SPIEGAZIONE-COMMISSIONE

## Quali fondi sono in gestione concorrente? {points=2}
- [x] {50%} FESR
- [x] {50%} FSE+
- [ ] {-50%} Orizzonte Europa
- [ ] {-50%} LIFE

## In quale città ha sede la Corte dei conti europea?
- [x] {100%} Lussemburgo
- [x] {100%} Luxembourg
- [ ] Roma

## In quale città ha sede il Consiglio europeo?
= Bruxelles
= {50%} Belgio

## In che anno è stato firmato il Trattato di Roma?
= 1957 ± 0
= {50%} 1955..1959

## Abbina ogni fondo al suo ambito. {points=3}
- FESR -> sviluppo regionale
- FSE+ -> occupazione
- FEAMPA -> pesca
- -> agricoltura
"""


def _sync(server: LiveServer) -> None:
    from lms.courses.content import load_tree  # noqa: PLC0415
    from lms.courses.sync import sync_courses  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with server.app.app_context():
        courses, errors = load_tree(Path(server.app.config["CONTENT_DIR"]))
        assert not errors, errors
        sync_courses(courses)
        db.session.commit()
        db.session.remove()


@pytest.fixture
def rich_course(live_server: LiveServer) -> Iterator[None]:
    """The course in the server's content folder, synchronised; retired afterwards."""
    from lms.auth.models import User  # noqa: PLC0415
    from lms.auth.operations import create_user  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    folder = Path(live_server.app.config["CONTENT_DIR"]) / COURSE
    folder.mkdir()
    (folder / "course.md").write_text(COURSE_MD, encoding="utf-8")
    (folder / "01-verifica.md").write_text(QUIZ_MD, encoding="utf-8")
    _sync(live_server)
    with live_server.app.app_context():
        if db.session.scalar(select(User.id).where(User.email == LEARNER[0])) is None:
            create_user(
                email=LEARNER[0],
                role="learner",
                password=LEARNER[1],
                first_name="Rita",
                last_name="Conti",
            )
        db.session.commit()
        db.session.remove()
    yield
    shutil.rmtree(folder)
    _sync(live_server)  # the other tests see the shipped courses only


def answer(browser: Browser, *, right: bool) -> None:
    """Answer every question on the page (most right, or all wrong) and submit."""
    page = browser.page
    questions = page.locator("fieldset.lms-question")
    expect(questions).to_have_count(6)

    def question(text: str):
        return questions.filter(has_text=text)

    # People click the labels (Bootstrap Italia draws the boxes there).
    single = question("Dove ha sede la Commissione europea?")
    single.locator("label", has_text="Belgio" if right else "Strasburgo").click()
    multiple = question("Quali fondi sono in gestione concorrente?")
    for fund in ("FESR", "FSE+") if right else ("Orizzonte Europa",):
        multiple.locator("label", has_text=re.compile(f"^{re.escape(fund)}$")).click()
    question("Corte dei conti").locator("label", has_text="Luxembourg" if right else "Roma").click()
    question("Consiglio europeo").get_by_label("La tua risposta").fill(
        "belgio" if right else "Parigi"
    )
    numerical = question("Trattato di Roma").get_by_label("La tua risposta (un numero)")
    expect(numerical).to_have_attribute("inputmode", "decimal")
    numerical.fill("1956,5" if right else "2000")
    matching = question("Abbina ogni fondo")
    chosen = (
        {"FESR": "sviluppo regionale", "FSE+": "agricoltura", "FEAMPA": "pesca"}
        if right
        else {"FESR": "pesca", "FSE+": "sviluppo regionale", "FEAMPA": "occupazione"}
    )
    for left, right_side in chosen.items():
        select = matching.get_by_label(left, exact=True)
        expect(select.locator("option")).to_have_count(5)  # "Scegli…" and four items
        select.select_option(label=right_side)
    browser.check("the quiz page, answered")
    page.get_by_role("button", name="Consegna la verifica").click()
    page.wait_for_url(re.compile(r"/tentativi/\d+$"))


def test_a_quiz_with_every_new_kind_is_taken_and_graded(
    open_browser: Callable[..., Browser],
    live_server: LiveServer,
    rich_course: None,  # noqa: ARG001 - the course it takes
) -> None:
    browser = open_browser()
    page = browser.page
    browser.sign_in(*LEARNER)
    browser.goto(QUIZ_URL)
    page.get_by_role("button", name="Inizia la verifica").click()
    browser.check("the quiz page with every kind")
    browser.shot("quiz-every-kind")
    # The matching question's selects are in its fieldset, each named by its left side.
    matching = page.locator("fieldset.lms-question", has_text="Abbina ogni fondo")
    expect(matching.get_by_role("combobox")).to_have_count(3)
    expect(page.get_by_text("Ogni risposta sbagliata selezionata toglie punti.")).to_be_visible()

    # First attempt: everything wrong, one attempt left: the score, not the key.
    answer(browser, right=False)
    expect(page.get_by_text("Verifica non superata: 0,0 % (0 punti su 9)")).to_be_visible()
    expect(page.get_by_text("esaurito i tentativi")).to_be_visible()
    expect(page.get_by_text("SPIEGAZIONE-COMMISSIONE")).to_have_count(0)
    expect(page.get_by_text("Risposte accettate")).to_have_count(0)
    expect(page.get_by_text("(corretta)")).to_have_count(0)
    expect(page.get_by_text("FESR → la tua scelta pesca")).to_be_visible()
    browser.check("the review without the key")

    # Second attempt: partial credit everywhere. 0.5 + 2 + 1 + 0.5 + 0.5 + 2 = 6.5 of 9.
    browser.goto(QUIZ_URL)
    page.get_by_role("button", name="Inizia un nuovo tentativo").click()
    answer(browser, right=True)
    expect(page.get_by_text("Verifica superata con il 72,2 % (6,5 punti su 9).")).to_be_visible()
    # Passed: the key and the explanations, weights and pairs included.
    expect(page.get_by_text("SPIEGAZIONE-COMMISSIONE")).to_be_visible()
    expect(page.get_by_text("Risposte accettate: 1957 ± 0, 1955..1959 (50 %)")).to_be_visible()
    expect(page.get_by_text("(quella giusta: occupazione)")).to_be_visible()
    expect(page.locator(".lms-partial")).to_have_count(4)  # q1, q4, q5, q6
    expect(page.get_by_text("Risposta in parte corretta:").first).to_be_attached()
    browser.check("the review with the key")
    browser.shot("quiz-every-kind-review", full_page=True)

    from lms.assessments.models import QuizAttempt  # noqa: PLC0415
    from lms.auth.models import User  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415

    with live_server.app.app_context():
        scores = db.session.scalars(
            select(QuizAttempt.score_pct)
            .join(User, User.id == QuizAttempt.user_id)
            .where(User.email == LEARNER[0])
            .order_by(QuizAttempt.number)
        ).all()
        db.session.remove()
    assert [str(score) for score in scores] == ["0.00", "72.22"]

    trainer = open_browser()
    trainer.sign_in("formatore@demo.example", "Formatore-2026")
    trainer.goto(f"/formatori/{COURSE}/verifica/")
    expect(trainer.page.get_by_text("Abbinamenti giusti:")).to_be_visible()
    expect(trainer.page.get_by_text("FESR → pesca")).to_be_visible()  # first attempt's miss
