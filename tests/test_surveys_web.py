"""Surveys through the web: the survey page and its form, answering once, what the page
shows afterwards, attacks (forged values, other people's courses, roles), and the trainers'
results and downloads with the rule of five.

Requests go to ``web_app`` (conftest): data is committed before each request.
"""

from __future__ import annotations

import csv
import html
import io
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient
from people_sheets import read_people_xlsx
from sqlalchemy import select
from test_quiz_attempts import THREADS, postgresql_only
from test_surveys import (
    FULL,
    T0,
    answer,
    attend,
    count,
    edition_of,
    get_module,
    make_survey,
    staff_for,
    sync_content,
)

from lms.auth.models import User
from lms.courses.models import CourseCompletion, ModuleProgress
from lms.courses.progress import complete_module
from lms.extensions import db as _db
from lms.register.models import Authority
from lms.surveys.models import SurveyAnswer, SurveyResponse, SurveySubmission

PAGE_URL = "/courses/corso/questionario/"
POST_URL = "/questionari/corso/questionario/risposte"
RESULTS_URL = "/questionari/corso/questionario/"
ALREADY = "Hai già inviato le tue risposte a questo questionario: grazie."
TOO_FEW = "4 risposte: i risultati appaiono da 5 risposte."


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def post_answers(client: FlaskClient, fields: dict, *, version: str = "1", url: str = POST_URL):
    data = {"csrf_token": csrf_token(client, "/courses/"), "versione": version} | fields
    return client.post(url, data=data)


def form_fields(answers: dict) -> dict[str, str]:
    return {key: str(value) for key, value in answers.items()}


@pytest.fixture
def learner(login_as: Callable[..., User]) -> User:
    return login_as("learner")


@pytest.fixture
def people(make_user: Callable[..., User]) -> Callable[[int], list[User]]:
    def factory(n: int) -> list[User]:
        return [make_user("learner") for _ in range(n)]

    return factory


# The survey page ----------------------------------------------------------------------------


@pytest.mark.usefixtures("learner")
def test_the_survey_page_shows_the_questions_as_an_accessible_form(
    tmp_path: Path, client: FlaskClient
) -> None:
    make_survey(tmp_path)
    response = client.get(PAGE_URL)
    assert response.status_code == 200
    page = text(response)
    assert "INTRODUZIONE-QUESTIONARIO" in page
    assert "Segna come completato" not in page
    form = re.search(r'<form[^>]*id="survey-form".*?</form>', page, re.DOTALL).group(0)
    assert f'action="{POST_URL}"' in form
    assert 'name="csrf_token"' in form
    assert 'name="versione" value="1"' in form
    assert form.count("<fieldset") == 4
    assert form.count("<legend>") == 4
    assert form.count('type="radio" name="q1"') == 4
    assert form.count('type="radio" name="q2"') == 5
    for qid in ("q3", "q4"):
        assert f'<label for="{qid}-text"' in form
        assert f'id="{qid}-text" name="{qid}"' in form
    assert re.search(r'<label class="form-check-label" for="q2-5"[^>]*>Del tutto d\'accordo<', form)
    assert "Quanto ti è stato <em>utile</em> il corso?" in form
    assert "facoltativa" in form  # q4
    assert "Risposte anonime" in page
    assert "Invia le risposte" in form


def test_answering_stores_the_answers_and_the_page_thanks_without_showing_them(
    tmp_path: Path, client: FlaskClient, learner: User
) -> None:
    make_survey(tmp_path)
    complete_module(learner, get_module("lettura"))
    _db.session.commit()
    secret = "RISPOSTA-SEGRETA-DEL-DISCENTE"
    response = post_answers(client, form_fields(FULL | {"q3": secret}))
    assert response.status_code == 302
    assert response.location == PAGE_URL
    page = text(client.get(PAGE_URL))
    assert "Grazie: le tue risposte sono state registrate in forma anonima." in page
    assert "Hai già risposto a questo questionario" in page
    assert 'id="survey-form"' not in page
    assert secret not in page
    assert count(SurveySubmission) == 1
    assert (
        _db.session.scalar(select(SurveyAnswer.text_value).where(SurveyAnswer.question_id == "q3"))
        == secret
    )
    survey = get_module("questionario")
    done = _db.session.scalar(select(ModuleProgress).where(ModuleProgress.module_id == survey.id))
    assert done.completed_at is not None
    assert count(CourseCompletion) == 1  # completed by the page already: it stands


@pytest.mark.usefixtures("learner")
def test_a_second_submission_is_a_clean_message_not_an_error(
    tmp_path: Path, client: FlaskClient
) -> None:
    make_survey(tmp_path)
    assert post_answers(client, form_fields(FULL)).status_code == 302
    again = post_answers(client, form_fields(FULL | {"q3": "un altro testo"}))
    assert again.status_code == 302
    assert ALREADY in plain(text(client.get(again.location)))
    assert (count(SurveySubmission), count(SurveyResponse)) == (1, 1)


@pytest.mark.usefixtures("learner")
def test_missing_and_forged_answers_are_shown_on_their_fields_and_nothing_is_stored(
    tmp_path: Path, client: FlaskClient
) -> None:
    make_survey(tmp_path)
    response = post_answers(client, {"q1": "7", "q3": "Il mio testo <b>qui</b>"})
    assert response.status_code == 400
    page = text(response)
    assert 'id="survey-errors"' in page
    for qid in ("q1", "q2"):
        assert f'id="{qid}-error"' in page
        assert f'aria-describedby="{qid}-error"' in page
        assert f'href="#question-{qid}"' in page
    assert "Scegli uno dei valori della scala." in page
    assert "Rispondi a questa domanda." in page
    assert 'id="q3-error"' not in page
    # What was typed comes back, escaped.
    assert "Il mio testo &lt;b&gt;qui&lt;/b&gt;</textarea>" in page
    assert (count(SurveySubmission), count(SurveyResponse), count(ModuleProgress)) == (0, 0, 0)


@pytest.mark.usefixtures("learner")
def test_a_text_with_control_characters_is_refused_on_its_field(
    tmp_path: Path, client: FlaskClient
) -> None:
    make_survey(tmp_path)
    response = post_answers(client, form_fields(FULL | {"q3": "testo\x1b[2Jnascosto"}))
    assert response.status_code == 400
    assert 'aria-invalid="true"' in text(response)
    assert "caratteri di controllo" in text(response)
    # A NUL byte is refused before any view sees the request (lms.core.request_guard).
    assert post_answers(client, form_fields(FULL | {"q3": "a\x00b"})).status_code == 400
    assert count(SurveyResponse) == 0


@pytest.mark.usefixtures("learner")
def test_answers_to_an_older_version_of_the_form_are_sent_back(
    tmp_path: Path, client: FlaskClient
) -> None:
    make_survey(tmp_path)
    response = post_answers(client, form_fields(FULL), version="0")
    assert response.status_code == 400
    assert "Il questionario è stato aggiornato mentre lo compilavi" in text(response)
    assert count(SurveyResponse) == 0


@pytest.mark.usefixtures("learner")
def test_without_the_csrf_token_nothing_is_stored(tmp_path: Path, client: FlaskClient) -> None:
    make_survey(tmp_path)
    response = client.post(POST_URL, data=form_fields(FULL) | {"versione": "1"})
    assert response.status_code == 400
    assert count(SurveyResponse) == 0


@pytest.mark.usefixtures("learner")
def test_a_locked_survey_is_refused(tmp_path: Path, client: FlaskClient) -> None:
    make_survey(tmp_path, sequential=True)
    assert client.get(PAGE_URL).status_code == 302  # back to the course, as for any page
    assert post_answers(client, form_fields(FULL)).status_code == 403
    assert count(SurveyResponse) == 0


def test_a_draft_course_survey_is_missing_for_learners_and_fine_for_trainers(
    tmp_path: Path, client: FlaskClient, web_app: Flask, make_user: Callable[..., User]
) -> None:
    make_survey(tmp_path, status="draft")
    student = make_user("learner")
    login(client, student.email)
    assert client.get(PAGE_URL).status_code == 404
    assert post_answers(client, form_fields(FULL), url=POST_URL).status_code == 404
    trainer = web_app.test_client()
    login(trainer, make_user("trainer").email)
    preview = trainer.get(PAGE_URL)
    assert preview.status_code == 200
    assert "Anteprima: le risposte dei formatori" in text(preview)
    assert "Invia le risposte" not in text(preview)
    assert trainer.get(RESULTS_URL).status_code == 200  # a trainer reads drafts' results
    assert count(SurveyResponse) == 0


@pytest.mark.parametrize("role", ["trainer", "admin"])
def test_trainers_and_admins_do_not_answer(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User], role: str
) -> None:
    make_survey(tmp_path)
    login_as(role)
    assert post_answers(client, form_fields(FULL)).status_code == 403
    assert count(SurveyResponse) == 0


def test_an_hr_manager_answers_as_a_learner(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User]
) -> None:
    make_survey(tmp_path)
    login_as("hr")
    assert post_answers(client, form_fields(FULL)).status_code == 302
    assert count(SurveyResponse) == 1


@pytest.mark.usefixtures("learner")
def test_posting_to_a_module_that_is_not_a_survey_is_missing(
    tmp_path: Path, client: FlaskClient
) -> None:
    make_survey(tmp_path)
    url = "/questionari/corso/lettura/risposte"
    assert post_answers(client, form_fields(FULL), url=url).status_code == 404
    url = "/questionari/altro/questionario/risposte"
    assert post_answers(client, form_fields(FULL), url=url).status_code == 404


def test_the_course_page_shows_the_survey_as_optional_and_progress_without_it(
    tmp_path: Path, client: FlaskClient, learner: User
) -> None:
    make_survey(tmp_path)
    complete_module(learner, get_module("lettura"))
    _db.session.commit()
    page = plain(text(client.get("/courses/corso/")))
    assert "Questionario di gradimento · facoltativo" in page
    assert "1 di 1 moduli completati (100 %)" in page
    catalogue = plain(text(client.get("/courses/")))
    assert "1 modulo" in catalogue  # the modules that complete the course
    assert "Completato il" in catalogue
    module_page = plain(text(client.get("/courses/corso/lettura/")))
    assert "Modulo 1 di 2" in module_page
    assert "1 di 1 moduli completati (100 %)" in module_page


# Results for trainers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("learner", 403), ("hr", 403), ("trainer", 200), ("admin", 200)]
)
def test_who_reads_the_results(
    tmp_path: Path,
    client: FlaskClient,
    login_as: Callable[..., User],
    role: str,
    status: int,
) -> None:
    make_survey(tmp_path)
    login_as(role)
    for url in (
        "/questionari/",
        "/questionari/corso/",
        RESULTS_URL,
        f"{RESULTS_URL}risultati.csv",
        f"{RESULTS_URL}risultati.xlsx",
    ):
        assert client.get(url).status_code == status, url


def test_results_of_what_is_not_a_survey_are_missing(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User]
) -> None:
    make_survey(tmp_path)
    login_as("trainer")
    for url in (
        "/questionari/corso/lettura/",
        "/questionari/altro/questionario/",
        "/questionari/corso/questionario/?edizione=abc",
        "/questionari/corso/questionario/?edizione=999999",
        "/questionari/corso/questionario/risultati.exe",
    ):
        assert client.get(url).status_code == 404, url


def _results_with(tmp_path: Path, people, n: int, texts: list[str] | None = None) -> None:
    survey = make_survey(tmp_path)
    for number, user in enumerate(people(n)):
        written = texts[number] if texts and number < len(texts) else f"testo {number}"
        answer(user, survey, FULL | {"q3": written})


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_four_responses_show_only_their_number_on_the_page_and_in_the_downloads(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User], people
) -> None:
    _results_with(tmp_path, people, 4)
    login_as("trainer")
    page = text(client.get(RESULTS_URL))
    assert TOO_FEW in plain(page)
    assert "<canvas" not in page
    assert "testo 0" not in page
    assert "media" not in plain(page)
    assert "Per nulla" not in page
    rows = _csv_rows(client.get(f"{RESULTS_URL}risultati.csv"))
    assert rows[1:] == [["all", "4", "", "", "", "", "", "", "", "", ""]]
    table = read_people_xlsx(client.get(f"{RESULTS_URL}risultati.xlsx").data)
    assert table.rows == [["Tutte le risposte", 4, *[None] * 9]]


def test_five_responses_show_the_distributions_means_and_texts(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User], people
) -> None:
    _results_with(tmp_path, people, 5)
    login_as("trainer")
    page = text(client.get(RESULTS_URL))
    words = plain(page)
    assert "5 risposte" in words
    assert page.count('<canvas id="survey-chart-') == 2
    assert 'id="survey-chart-q1-data"' in page
    assert "media 3 su una scala da 1 a 4" in words
    assert "media 5 su una scala da 1 a 5" in words
    for number in range(5):
        assert f"testo {number}" in page
    assert "0 risposte a questa domanda: i risultati appaiono da 5 risposte." in words  # q4
    assert "js/charts.js" in page  # the charts script draws survey-chart-… canvases too
    rows = _csv_rows(client.get(f"{RESULTS_URL}risultati.csv"))
    assert rows[0] == [
        "group",
        "responses",
        "question_id",
        "question",
        "kind",
        "answered",
        "value",
        "label",
        "count",
        "mean",
        "answer",
    ]
    assert [
        "all",
        "5",
        "q1",
        "Quanto ti è stato utile il corso?",
        "scale",
        "5",
        "3",
        "Abbastanza",
        "5",
        "3.0",
        "",
    ] in rows
    assert sorted(r[10] for r in rows if r[2] == "q3") == [f"testo {n}" for n in range(5)]


def test_free_text_is_escaped_on_the_page_and_in_the_downloads(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User], people
) -> None:
    attacks = [
        "<script>alert('xss')</script>",
        '<img src=x onerror="alert(1)">',
        '=HYPERLINK("https://evil.example","clic")',
        "+1+cmd|' /C calc'!A0",
        "riga uno\nriga due",
    ]
    _results_with(tmp_path, people, 5, attacks)
    login_as("trainer")
    page = text(client.get(RESULTS_URL))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "riga uno<br>riga due" in page
    rows = _csv_rows(client.get(f"{RESULTS_URL}risultati.csv"))
    answers = {r[10] for r in rows if r[2] == "q3"}
    assert '\'=HYPERLINK("https://evil.example","clic")' in answers
    assert "'+1+cmd|' /C calc'!A0" in answers
    table = read_people_xlsx(client.get(f"{RESULTS_URL}risultati.xlsx").data)
    column = table.column("Risposta")
    cells = [
        table.sheet.cell(table.header_row + 1 + index, column) for index in range(len(table.rows))
    ]
    formula = next(c for c in cells if "HYPERLINK" in str(c.value))
    assert formula.data_type == "s"  # text, never a formula
    assert formula.value == '\'=HYPERLINK("https://evil.example","clic")'  # escaped as in the CSV


def test_results_per_edition(
    tmp_path: Path,
    client: FlaskClient,
    login_as: Callable[..., User],
    people,
    make_authority: Callable[..., Authority],
) -> None:
    survey = make_survey(tmp_path, live=True)
    live = get_module("webinar")
    authority = make_authority()
    big = edition_of(live, T0)
    small = edition_of(live, T0 + timedelta(days=7))
    users = people(14)
    for user in users[:6]:
        attend(staff_for(user, authority), big)
    for user in users[6:10]:
        attend(staff_for(user, authority), small)
    for number, user in enumerate(users):
        answer(user, survey, FULL | {"q3": f"testo {number}"})
    login_as("trainer")
    page = plain(text(client.get(RESULTS_URL)))
    assert "Per edizione" in page
    assert "02/03/2026 10:00 · Aula 1 · Webinar" in page
    big_page = text(client.get(f"{RESULTS_URL}?edizione={big.id}"))
    assert "6 risposte" in plain(big_page)
    assert "testo 0" in big_page
    assert "testo 6" not in big_page
    small_page = text(client.get(f"{RESULTS_URL}?edizione={small.id}"))
    assert TOO_FEW in plain(small_page)
    assert "testo 6" not in small_page
    assert "<canvas" not in small_page
    rows = _csv_rows(client.get(f"{RESULTS_URL}risultati.csv"))
    small_rows = [r for r in rows if r[0].startswith(f"edition {small.id} ")]
    assert small_rows == [[small_rows[0][0], "4", *[""] * 9]]
    assert any(r[0].startswith(f"edition {big.id} ") and r[10] == "testo 0" for r in rows)


def test_the_course_statistics_link_to_the_survey_results(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User]
) -> None:
    make_survey(tmp_path)
    login_as("trainer")
    page = text(client.get("/formatori/corso/"))
    assert f'href="{RESULTS_URL}"' in page
    assert "Risultati del questionario: Questionario di gradimento" in page
    index = text(client.get("/questionari/"))
    assert f'href="{RESULTS_URL}"' in index


def test_a_retired_survey_keeps_its_results(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User], people
) -> None:
    _results_with(tmp_path, people, 5)
    root = tmp_path / "content"
    (root / "corso" / "03-questionario.md").unlink()
    sync_content(root)
    login_as("trainer")
    page = text(client.get(RESULTS_URL))
    assert "è stato ritirato" in page
    assert "testo 0" in page


@postgresql_only
def test_simultaneous_submissions_from_several_tabs_store_one_response(
    tmp_path: Path, web_app: Flask, make_user: Callable[..., User]
) -> None:
    make_survey(tmp_path)
    person = make_user("learner")
    tabs = [web_app.test_client() for _ in range(THREADS)]
    for tab in tabs:
        assert login(tab, person.email).status_code == 302
    posts = [
        {"csrf_token": csrf_token(tab, "/courses/"), "versione": "1"}
        | form_fields(FULL | {"q3": f"scheda {index}"})
        for index, tab in enumerate(tabs)
    ]
    barrier = threading.Barrier(THREADS, timeout=30)
    statuses: list[int | None] = [None] * THREADS

    def post(index: int) -> None:
        barrier.wait()
        statuses[index] = tabs[index].post(POST_URL, data=posts[index]).status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * THREADS  # never a 500
    assert (count(SurveySubmission), count(SurveyResponse), count(SurveyAnswer)) == (1, 1, 3)
    told = [ALREADY in plain(text(tab.get(PAGE_URL))) for tab in tabs]
    assert told.count(False) == 1, told  # the one that was stored thanks; the others are told


@pytest.mark.usefixtures("learner")
def test_a_survey_cannot_be_marked_as_done_without_answering(
    tmp_path: Path, client: FlaskClient
) -> None:
    make_survey(tmp_path)
    token = csrf_token(client, "/courses/")
    response = client.post("/courses/corso/questionario/completa", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Un questionario si completa rispondendo alle domande." in text(response)
    assert count(ModuleProgress) == 0
