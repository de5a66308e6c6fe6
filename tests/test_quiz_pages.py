"""Taking a quiz through the web pages: the form, the hidden key, submission, review,
forged forms, limits, time limits, double submissions, versions, the shipped quizzes.

Requests go to ``web_app`` (conftest), which has its own app context per request:
data is committed before each request, and the test's session is expired after.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from test_quiz_attempts import (
    EDITED_BODY,
    KEY,
    QUESTION_IDS,
    SECRETS,
    SIXTY,
    THREADS,
    WRONG,
    attempts_of,
    completion_of,
    get_module,
    make_quiz,
    postgresql_only,
    progress_of,
    quiz_form,
    quiz_md,
    sync_content,
    write_course,
)

from lms.assessments.models import QuizAttempt
from lms.assessments.operations import GRACE
from lms.auth.models import User
from lms.core.types import utcnow
from lms.courses.models import Module, ModuleKind
from lms.courses.progress import complete_module
from lms.extensions import db as _db

QUIZ_URL = "/courses/corso/verifica/"
START_URL = "/courses/corso/verifica/tentativi"
REPO_CONTENT = Path(__file__).resolve().parent.parent / "content"

ALREADY_SUBMITTED = "Questo tentativo era già stato consegnato: ecco il suo esito."
NO_ATTEMPTS_LEFT = "Hai esaurito i tentativi disponibili per questa verifica."
TIME_UP = "Il tempo a disposizione era scaduto: il tentativo è stato chiuso senza punteggio."


# Helpers -----------------------------------------------------------------------------------


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(fragment: str) -> str:
    """The text of an HTML fragment, tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


class _Tags(HTMLParser):
    """Every start tag of a document, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def quiz_form_html(page: str) -> str:
    """The open attempt's form (empty when there is none)."""
    match = re.search(r'<form\b[^>]*id="quiz-form".*?</form>', page, flags=re.DOTALL)
    return match.group(0) if match else ""


def controls(page: str) -> dict[str, list[dict[str, str | None]]]:
    """The quiz form's inputs by name (csrf_token and ``__shown`` fields included)."""
    found: dict[str, list[dict[str, str | None]]] = {}
    for tag, attrs in tags(quiz_form_html(page)):
        if tag == "input":
            found.setdefault(attrs["name"], []).append(attrs)
    return found


def flashes(page: str) -> str:
    match = re.search(r'<div class="lms-flashes">(.*?)</main>', page, flags=re.DOTALL)
    return plain(match.group(1)) if match else ""


def start(client: FlaskClient, url: str = START_URL, **kwargs: object):
    return client.post(url, data={"csrf_token": csrf_token(client, "/courses/")}, **kwargs)


def submit(client: FlaskClient, attempt_id: int, fields: dict, *, url: str = START_URL, **kwargs):
    """POST the quiz form of attempt *attempt_id* (the CSRF token from another page)."""
    data = {"csrf_token": csrf_token(client, "/courses/")} | fields
    return client.post(f"{url}/{attempt_id}", data=data, **kwargs)


def review_url(attempt_id: int) -> str:
    return f"{START_URL}/{attempt_id}"


def only_attempt(user: User, module: Module) -> QuizAttempt:
    (attempt,) = attempts_of(user, module)
    return attempt


# The quiz page -------------------------------------------------------------------------------


def test_the_quiz_page_shows_the_rules_before_an_attempt_starts(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    make_quiz(tmp_path, pass_mark=70, max_attempts=2, time_limit=15)
    login_as("learner")
    page = text(client.get(QUIZ_URL))
    words = plain(page)
    assert "ISTRUZIONI-VERIFICA" in words
    assert "Per superare la verifica serve almeno il 70 % dei punti." in words
    assert "Tentativi rimasti: 2 su 2." in words
    assert "Tempo a disposizione: 15 minuti per tentativo." in words
    assert "Inizia la verifica" in words
    assert f'action="{START_URL}"' in page
    # No question before the attempt starts, and no countdown.
    assert quiz_form_html(page) == ""
    assert "PRIMA domanda" not in page
    assert 'id="countdown"' not in page


def test_a_quiz_without_limits_says_so(tmp_path: Path, client: FlaskClient, login_as) -> None:
    make_quiz(tmp_path)
    login_as("learner")
    words = plain(text(client.get(QUIZ_URL)))
    assert "Per superare la verifica serve almeno il 60 % dei punti." in words  # the default
    assert "Tentativi illimitati." in words
    assert "Tempo a disposizione" not in words


def test_the_open_attempt_shows_each_question_with_the_right_control(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=2)
    learner = login_as("learner")
    response = start(client)
    assert response.status_code == 302
    assert response.headers["Location"] == QUIZ_URL
    page = text(client.get(QUIZ_URL))
    attempt = only_attempt(learner, quiz)
    assert f'action="{START_URL}/{attempt.id}"' in page
    fields = controls(page)
    assert set(fields) == {"csrf_token"} | set(QUESTION_IDS) | {f"{q}__shown" for q in QUESTION_IDS}
    kinds = {qid: [(f["type"], f.get("value")) for f in fields[qid]] for qid in QUESTION_IDS}
    assert kinds == {
        "q1": [("radio", "a"), ("radio", "b"), ("radio", "c")],  # single choice
        "q2": [("checkbox", "a"), ("checkbox", "b"), ("checkbox", "c"), ("checkbox", "d")],
        "q3": [("radio", "a"), ("radio", "b")],  # true/false
        "q4": [("text", None)],  # short answer
    }
    assert fields["q4"][0]["maxlength"] == "500"
    assert all(
        fields[f"{q}__shown"] == [{"type": "hidden", "name": f"{q}__shown", "value": "1"}]
        for q in QUESTION_IDS
    )
    words = plain(quiz_form_html(page))
    for label in ("OPZIONE-GIUSTA-UNO", "Opzione sbagliata D", "Vero", "Falso", "(2 punti)"):
        assert label in words
    assert "Più risposte corrette: selezionale tutte." in words  # the multiple-choice hint
    assert [n for n in range(1, 6) if f"Domanda {n}" in words] == [1, 2, 3, 4]
    assert "Tentativi rimasti: 1 su 2." in plain(page)
    assert 'id="countdown"' not in page  # no time limit


def test_a_timed_attempt_shows_a_countdown_to_its_deadline(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, time_limit=15)
    learner = login_as("learner")
    start(client)
    page = text(client.get(QUIZ_URL))
    (countdown,) = [attrs for _, attrs in tags(page) if attrs.get("id") == "countdown"]
    attempt = only_attempt(learner, quiz)
    shown = datetime.fromisoformat(countdown["data-deadline"])
    assert timedelta(0) <= attempt.deadline_at - shown < timedelta(milliseconds=1)
    assert attempt.deadline_at - attempt.started_at == timedelta(minutes=15)
    assert "js/countdown.js" in page
    assert "Tempo rimasto:" in plain(page)


#: ECMAScript's Date Time String Format (ECMA-262, "Date Time String Format"): what
#: Date.parse must understand; anything else is left to each browser's heuristics.
ECMASCRIPT_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{3})?)?(Z|[+-]\d\d:\d\d)")


def test_the_countdown_deadline_is_in_the_format_date_parse_must_accept(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, time_limit=15)
    learner = login_as("learner")
    start(client)
    attempt = only_attempt(learner, quiz)
    attempt.deadline_at = attempt.deadline_at.replace(microsecond=123456)  # as utcnow() gives
    _db.session.commit()
    page = text(client.get(QUIZ_URL))
    (countdown,) = [attrs for _, attrs in tags(page) if attrs.get("id") == "countdown"]
    assert ECMASCRIPT_DATE.fullmatch(countdown["data-deadline"]), countdown["data-deadline"]


@pytest.mark.parametrize(
    "settings",
    [{}, {"shuffle": True, "time_limit": 15, "max_attempts": 3}],
    ids=["plain", "shuffled-timed"],
)
def test_no_trace_of_the_answer_key_reaches_the_browser_before_grading(
    tmp_path: Path, client: FlaskClient, login_as, settings: dict
) -> None:
    make_quiz(tmp_path, **settings)
    login_as("learner")
    before = text(client.get(QUIZ_URL))
    start(client)
    during = text(client.get(QUIZ_URL))
    assert quiz_form_html(during)
    for page in (before, during):
        for secret in SECRETS:
            assert secret.casefold() not in html.unescape(page).casefold(), secret
        assert "correct" not in page.casefold()
        assert "[x]" not in page
    # The form's tags carry nothing but what a form needs: no pre-checked option, no data.
    allowed = {"type", "name", "id", "value", "class", "maxlength", "autocomplete", "for"}
    allowed |= {"method", "action", "role", "aria-live", "data-deadline"}
    for tag, attrs in tags(quiz_form_html(during)):
        assert set(attrs) <= allowed, (tag, attrs)
        assert "checked" not in attrs
    # A correct option's markup is that of a wrong one, but for its id and label.
    blocks: dict[str, set[str]] = {}
    for block in re.findall(r'<div class="form-check">.*?</div>', during, flags=re.DOTALL):
        qid = re.search(r'name="(q\d)"', block).group(1)
        shape = re.sub(r'(value|id|for)="[^"]*"', r'\1=""', block)
        shape = re.sub(r"<label([^>]*)>.*?</label>", r"<label\1></label>", shape, flags=re.DOTALL)
        blocks.setdefault(qid, set()).add(shape)
    assert sorted(blocks) == ["q1", "q2", "q3"]
    assert all(len(shapes) == 1 for shapes in blocks.values()), blocks


def test_no_key_on_the_pages_of_a_second_attempt_either(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=3, shuffle=True)
    learner = login_as("learner")
    start(client)
    submit(client, only_attempt(learner, quiz).id, quiz_form(WRONG))
    before = text(client.get(QUIZ_URL))
    assert "Inizia un nuovo tentativo" in plain(before)
    start(client)
    during = text(client.get(QUIZ_URL))
    assert quiz_form_html(during)
    for page in (before, during):
        assert "correct" not in page.casefold()
        for secret in SECRETS:
            assert secret.casefold() not in html.unescape(page).casefold(), secret
    assert len(attempts_of(learner, quiz)) == 2


# Submitting and the review ------------------------------------------------------------------


def test_submitting_the_key_passes_and_the_review_shows_explanations(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path)
    learner = login_as("learner")
    complete_module(learner, get_module("lettura"))
    _db.session.commit()
    start(client)
    attempt = only_attempt(learner, quiz)
    response = submit(client, attempt.id, quiz_form(KEY))
    assert response.status_code == 302
    assert response.headers["Location"] == review_url(attempt.id)
    page = text(client.get(review_url(attempt.id)))
    words = plain(page)
    assert "Verifica superata con il 100,0 % (5 punti su 5)." in words
    assert page.count("lms-review lms-right") == 4
    for explanation in [s for s in SECRETS if s.startswith("SPIEGAZIONE")]:
        assert explanation in words
    assert "Risposte accettate: RISPOSTA-ACCETTATA-UNO, risposta accettata due" in words
    attempt = only_attempt(learner, quiz)
    assert (attempt.score_pct, attempt.passed, attempt.earned) == (Decimal("100.00"), True, 5)
    assert progress_of(learner, quiz).completed_at is not None
    assert completion_of(learner) is not None  # the quiz was the last module left
    words = plain(text(client.get(QUIZ_URL)))
    assert "Il tuo miglior punteggio: 100,0 %. Verifica superata." in words


def test_the_review_marks_each_question_right_or_wrong(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, pass_mark=70, review="after_each")
    learner = login_as("learner")
    start(client)
    attempt = only_attempt(learner, quiz)
    submit(client, attempt.id, quiz_form(SIXTY | {"q4": ["<b>mia</b> risposta"]}))
    page = text(client.get(review_url(attempt.id)))
    words = plain(page)
    # q1 and q3 right (2 of 5 points): 40%, below 70%.
    assert "Verifica non superata: 40,0 % (2 punti su 5); serve almeno il 70 %." in words
    sections = re.findall(r'<section class="lms-question lms-review (lms-\w+)"', page)
    assert sections == ["lms-right", "lms-wrong", "lms-right", "lms-wrong"]
    assert "Domanda 2 · 0 su 2" in words
    assert "Domanda 1 · 1 su 1" in words
    # The options chosen and the correct ones are shown; the learner's text is escaped.
    assert "la tua scelta Opzione sbagliata C" in words
    assert "la tua scelta OPZIONE-GIUSTA-DUE (corretta)" in words
    assert "La tua risposta: <b>mia</b> risposta" in words
    assert "&lt;b&gt;mia&lt;/b&gt;" in page
    attempt = only_attempt(learner, quiz)
    assert (attempt.score_pct, attempt.passed) == (Decimal("40.00"), False)
    progress = progress_of(learner, quiz)
    assert progress is None or progress.completed_at is None


def test_a_submission_without_the_csrf_token_is_refused_and_not_graded(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path)
    learner = login_as("learner")
    start(client)
    attempt = only_attempt(learner, quiz)
    response = client.post(f"{START_URL}/{attempt.id}", data=quiz_form(KEY))
    assert response.status_code == 400
    assert only_attempt(learner, quiz).submitted_at is None


def test_the_review_of_an_open_attempt_goes_back_to_the_quiz(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path)
    learner = login_as("learner")
    start(client)
    attempt = only_attempt(learner, quiz)
    response = client.get(review_url(attempt.id))
    assert response.status_code == 302
    assert response.headers["Location"] == QUIZ_URL


def test_another_learner_s_attempt_is_not_found(
    tmp_path: Path, client: FlaskClient, login_as, make_user: Callable[..., User]
) -> None:
    quiz = make_quiz(tmp_path)
    owner = make_user("learner")
    owner_client = client.application.test_client()
    login(owner_client, owner.email)
    start(owner_client)
    attempt = only_attempt(owner, quiz)
    login_as("learner")
    assert submit(client, attempt.id, quiz_form(KEY)).status_code == 404
    assert client.get(review_url(attempt.id)).status_code == 404
    assert only_attempt(owner, quiz).submitted_at is None


# Forged forms ------------------------------------------------------------------------------

FORGED = {
    "option of another question": (quiz_form(KEY | {"q1": ["d"]}), "'d' is not one of its options"),
    "not an option": (quiz_form(KEY | {"q2": ["a", "Vero"]}), "'Vero' is not one of its options"),
    "two values for a radio": (quiz_form(KEY | {"q1": ["a", "b"]}), "only one option"),
    "two values for true/false": (quiz_form(KEY | {"q3": ["a", "b"]}), "only one option"),
    "missing shown field": (
        {k: v for k, v in quiz_form(KEY).items() if k != "q2__shown"},
        "question q2 is missing from the form",
    ),
    "unknown extra field": (quiz_form(KEY, score=["100"]), "unknown field 'score'"),
    "over-long short answer": (quiz_form(KEY | {"q4": ["x" * 501]}), "longer than 500"),
    "two short answers": (quiz_form(KEY | {"q4": ["a", "b"]}), "more than one answer"),
}


@pytest.mark.parametrize(("fields", "reason"), FORGED.values(), ids=FORGED.keys())
def test_a_forged_form_is_refused_and_nothing_is_graded(
    tmp_path: Path, client: FlaskClient, login_as, fields: dict, reason: str
) -> None:
    quiz = make_quiz(tmp_path)
    learner = login_as("learner")
    start(client)
    attempt = only_attempt(learner, quiz)
    response = submit(client, attempt.id, fields)
    assert response.status_code == 400
    assert "Risposte non valide" in plain(text(response))
    assert reason in plain(text(response))
    attempt = only_attempt(learner, quiz)
    assert (attempt.submitted_at, attempt.score_pct, attempt.passed) == (None, None, None)
    assert (attempt.responses, attempt.results) == (None, None)
    progress = progress_of(learner, quiz)
    assert progress is None or progress.completed_at is None
    # The attempt is still open: the honest form is graded.
    assert submit(client, attempt.id, quiz_form(KEY)).status_code == 302
    assert only_attempt(learner, quiz).score_pct == 100


# Attempts: limit, double click, double submission -------------------------------------------


def test_the_attempt_limit_refuses_a_third_start(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=2)
    learner = login_as("learner")
    for _ in range(2):
        start(client)
        attempt = attempts_of(learner, quiz)[-1]
        assert submit(client, attempt.id, quiz_form(WRONG)).status_code == 302
    page = text(client.get(QUIZ_URL))
    assert "Tentativi rimasti: 0 su 2." in plain(page)
    assert f'action="{START_URL}"' not in page  # no start button
    assert "Hai esaurito i tentativi disponibili." in plain(page)
    response = start(client, follow_redirects=True)
    assert response.request.path == QUIZ_URL
    assert NO_ATTEMPTS_LEFT in flashes(text(response))
    assert [a.number for a in attempts_of(learner, quiz)] == [1, 2]


def test_a_double_click_on_start_opens_one_attempt(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=3)
    learner = login_as("learner")
    first, second = start(client), start(client)
    assert (first.status_code, second.status_code) == (302, 302)
    attempt = only_attempt(learner, quiz)
    page = text(client.get(QUIZ_URL))
    assert f'action="{START_URL}/{attempt.id}"' in page
    assert "Tentativi rimasti: 2 su 3." in plain(page)


def test_a_second_submission_goes_to_the_review_of_the_first(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path)
    learner = login_as("learner")
    start(client)
    attempt = only_attempt(learner, quiz)
    first = submit(client, attempt.id, quiz_form(SIXTY))
    assert first.headers["Location"] == review_url(attempt.id)
    second = submit(client, attempt.id, quiz_form(KEY))  # replayed, with better answers
    assert second.status_code == 302
    assert second.headers["Location"] == review_url(attempt.id)
    page = text(client.get(review_url(attempt.id)))
    assert ALREADY_SUBMITTED in flashes(page)
    assert "Verifica superata con il 60,0 % (3 punti su 5)." in plain(page)
    graded = only_attempt(learner, quiz)
    assert (graded.score_pct, graded.earned) == (Decimal("60.00"), 3)
    # A forged replay is not even read: the attempt is closed.
    forged = submit(client, attempt.id, quiz_form(KEY, score=["100"]))
    assert forged.headers["Location"] == review_url(attempt.id)
    assert only_attempt(learner, quiz).score_pct == Decimal("60.00")


@postgresql_only
def test_simultaneous_submissions_from_several_browsers_grade_once(
    tmp_path: Path, web_app: Flask, make_user: Callable[..., User]
) -> None:
    quiz = make_quiz(tmp_path)
    learner = make_user("learner")
    browsers = [web_app.test_client() for _ in range(THREADS)]
    for browser in browsers:
        assert login(browser, learner.email).status_code == 302
    start(browsers[0])
    attempt = only_attempt(learner, quiz)
    posts = [
        {"csrf_token": csrf_token(browser, "/courses/")} | quiz_form(KEY if i % 2 else SIXTY)
        for i, browser in enumerate(browsers)
    ]
    barrier = threading.Barrier(THREADS, timeout=30)
    statuses: list[int | None] = [None] * THREADS

    def post(index: int) -> None:
        barrier.wait()
        response = browsers[index].post(f"{START_URL}/{attempt.id}", data=posts[index])
        statuses[index] = response.status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * THREADS
    told_closed = [
        ALREADY_SUBMITTED in flashes(text(browser.get(review_url(attempt.id))))
        for browser in browsers
    ]
    assert told_closed.count(False) == 1, told_closed
    winner = told_closed.index(False)
    graded = only_attempt(learner, quiz)
    assert graded.score_pct == (Decimal("100.00") if winner % 2 else Decimal("60.00"))


@postgresql_only
def test_simultaneous_starts_from_several_browsers_open_one_attempt(
    tmp_path: Path, web_app: Flask, make_user: Callable[..., User]
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=1)
    learner = make_user("learner")
    browsers = [web_app.test_client() for _ in range(THREADS)]
    tokens = []
    for browser in browsers:
        login(browser, learner.email)
        tokens.append(csrf_token(browser, "/courses/"))
    barrier = threading.Barrier(THREADS, timeout=30)
    statuses: list[int | None] = [None] * THREADS

    def post(index: int) -> None:
        barrier.wait()
        statuses[index] = browsers[index].post(START_URL, data={"csrf_token": tokens[index]})
        statuses[index] = statuses[index].status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * THREADS
    attempt = only_attempt(learner, quiz)
    assert attempt.submitted_at is None


# Time limits ----------------------------------------------------------------------------------


def move_deadline(attempt: QuizAttempt, deadline: datetime) -> None:
    """Pretend the attempt started long enough ago for *deadline* (and commit)."""
    attempt.started_at = deadline - timedelta(minutes=10)
    attempt.deadline_at = deadline
    _db.session.commit()


def test_a_submission_after_the_deadline_and_grace_is_refused_and_scores_zero(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, time_limit=10)
    learner = login_as("learner")
    start(client)
    deadline = (utcnow() - GRACE - timedelta(minutes=1)).replace(microsecond=0)
    move_deadline(only_attempt(learner, quiz), deadline)
    attempt_id = only_attempt(learner, quiz).id
    response = submit(client, attempt_id, quiz_form(KEY))
    assert response.headers["Location"] == review_url(attempt_id)
    page = text(client.get(review_url(attempt_id)))
    assert TIME_UP in flashes(page)
    assert "SPIEGAZIONE-SEGRETA-UNO" not in page  # an expired attempt shows no questions
    attempt = only_attempt(learner, quiz)
    assert (attempt.expired, attempt.score_pct, attempt.passed) == (True, Decimal("0.00"), False)
    assert attempt.submitted_at == deadline
    progress = progress_of(learner, quiz)
    assert progress is None or progress.completed_at is None
    assert "tempo scaduto" in plain(text(client.get(QUIZ_URL)))


def test_a_submission_within_the_grace_is_graded(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, time_limit=10)
    learner = login_as("learner")
    start(client)
    move_deadline(only_attempt(learner, quiz), utcnow() - GRACE / 2)
    attempt_id = only_attempt(learner, quiz).id
    submit(client, attempt_id, quiz_form(KEY))
    attempt = only_attempt(learner, quiz)
    assert (attempt.expired, attempt.score_pct, attempt.passed) == (False, 100, True)
    assert attempt.submitted_at > attempt.deadline_at


def test_an_overdue_attempt_is_closed_when_the_quiz_page_is_opened(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, time_limit=10, max_attempts=2)
    learner = login_as("learner")
    start(client)
    deadline = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    move_deadline(only_attempt(learner, quiz), deadline)
    page = text(client.get(QUIZ_URL))
    assert quiz_form_html(page) == ""
    assert "Inizia un nuovo tentativo" in plain(page)
    attempt = only_attempt(learner, quiz)
    assert (attempt.expired, attempt.submitted_at, attempt.score_pct) == (True, deadline, 0)
    # The submission that arrives afterwards finds the attempt closed.
    response = submit(client, attempt.id, quiz_form(KEY), follow_redirects=True)
    assert ALREADY_SUBMITTED in flashes(text(response))
    assert only_attempt(learner, quiz).score_pct == 0


# Shuffling -------------------------------------------------------------------------------------


def shown_order(page: str) -> list[tuple[str, list[str]]]:
    """(question id, option values) in the order the form shows them."""
    order: list[tuple[str, list[str]]] = []
    for tag, attrs in tags(quiz_form_html(page)):
        if tag != "input" or attrs["name"] == "csrf_token":
            continue
        name = attrs["name"]
        if name.endswith("__shown"):
            order.append((name.removesuffix("__shown"), []))
        elif attrs["type"] in {"radio", "checkbox"}:
            order[-1][1].append(attrs["value"])
    return order


def test_a_shuffled_attempt_shows_the_same_order_on_every_visit(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, shuffle=True)
    learner = login_as("learner")
    start(client)
    first = shown_order(text(client.get(QUIZ_URL)))
    start(client)  # a double click: same attempt, same order
    second = shown_order(text(client.get(QUIZ_URL)))
    assert first == second
    layout = only_attempt(learner, quiz).layout
    assert [qid for qid, _ in first] == layout["questions"]
    assert dict(first) == layout["options"]
    assert sorted(qid for qid, _ in first) == list(QUESTION_IDS)
    submit(client, only_attempt(learner, quiz).id, quiz_form(KEY))
    assert only_attempt(learner, quiz).score_pct == 100


# Quiz versions ---------------------------------------------------------------------------------


def test_a_past_attempt_s_review_shows_the_questions_it_answered(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=3)
    learner = login_as("learner")
    start(client)
    old = only_attempt(learner, quiz)
    submit(client, old.id, quiz_form(KEY))
    write_course(tmp_path / "content", quiz_md(EDITED_BODY, max_attempts=3))
    sync_content(tmp_path / "content")

    page = text(client.get(review_url(old.id)))
    assert "Verifica superata con il 100,0 % (5 punti su 5)." in plain(page)
    assert "PRIMA domanda" in page
    assert "RISCRITTA" not in page

    start(client)
    new = attempts_of(learner, quiz)[-1]
    assert new.number == 2
    assert new.quiz_version_id != old.quiz_version_id
    page = text(client.get(QUIZ_URL))
    assert "RISCRITTA" in page
    assert "PRIMA domanda" not in page
    submit(client, new.id, quiz_form(KEY))
    assert attempts_of(learner, quiz)[-1].score_pct == Decimal("80.00")  # q1's key changed
    assert attempts_of(learner, quiz)[0].score_pct == Decimal("100.00")


# Locked quizzes ----------------------------------------------------------------------------------


def test_a_locked_quiz_cannot_be_started_or_submitted(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    sync_content(write_course(tmp_path / "content", quiz_md(), sequential=True))
    quiz = get_module("verifica")
    learner = login_as("learner")
    assert start(client).status_code == 403
    assert attempts_of(learner, quiz) == []
    assert submit(client, 1, quiz_form(KEY)).status_code == 403


def test_a_page_module_takes_no_attempts(tmp_path: Path, client: FlaskClient, login_as) -> None:
    make_quiz(tmp_path)
    login_as("learner")
    assert start(client, "/courses/corso/lettura/tentativi").status_code == 404
    assert client.get("/courses/corso/lettura/tentativi/1").status_code == 404


# The shipped final quizzes ----------------------------------------------------------------------


def shipped_quizzes() -> list[str]:
    return sorted(p.parent.name for p in REPO_CONTENT.glob("*/course.md"))


def test_the_three_shipped_courses_are_all_tested() -> None:
    assert {"appalti-pubblici", "fondamenti-coesione", "monitoraggio-controlli"} <= set(
        shipped_quizzes()
    )


@pytest.mark.parametrize("course", shipped_quizzes())
def test_each_shipped_final_quiz_can_be_passed_with_its_key(
    course: str, client: FlaskClient, login_as
) -> None:
    sync_content(REPO_CONTENT)
    learner = login_as("learner")
    modules = list(
        _db.session.scalars(
            select(Module)
            .where(Module.course.has(slug=course), Module.retired_at.is_(None))
            .where(Module.required.is_(True))  # not the optional survey after the quiz
            .order_by(Module.position)
        )
    )
    *before, final = modules
    assert final.kind is ModuleKind.QUIZ
    for module in before:  # sequential courses open the quiz only after the other modules
        # A live module counts as attended (tests/test_live.py has the attendance rules).
        if module.kind in (ModuleKind.PAGE, ModuleKind.LIVE):
            complete_module(learner, module)
    _db.session.commit()
    url = f"/courses/{course}/{final.slug}/"

    assert start(client, f"{url}tentativi").status_code == 302
    page = text(client.get(url))
    attempt = only_attempt(learner, final)
    questions = {q["id"]: q for q in attempt.quiz_version.questions}
    # Nothing of the key is on the page.
    assert "correct" not in page.casefold()
    for question in questions.values():
        if question["explanation_html"]:
            assert plain(question["explanation_html"])[:60] not in plain(page)
    fields = controls(page)
    answers: dict[str, list[str]] = {}
    for qid, question in questions.items():
        assert f"{qid}__shown" in fields
        if question["kind"] == "short":
            assert [f["type"] for f in fields[qid]] == ["text"]
            answers[qid] = [question["answers"][0]]
        else:
            kind = "checkbox" if question["kind"] == "multiple" else "radio"
            assert {f["type"] for f in fields[qid]} == {kind}
            offered = [f["value"] for f in fields[qid]]
            right = [o["id"] for o in question["options"] if o["correct"]]
            assert set(right) <= set(offered)
            answers[qid] = [v for v in offered if v in right]
    form = {name: ["1"] for name in fields if name.endswith("__shown")} | answers
    response = submit(client, attempt.id, form, url=f"{url}tentativi")
    assert response.headers["Location"] == f"{url}tentativi/{attempt.id}"
    review = plain(text(client.get(response.headers["Location"])))
    assert "Verifica superata con il 100,0 %" in review
    attempt = only_attempt(learner, final)
    assert (attempt.passed, attempt.score_pct) == (True, Decimal("100.00"))
    assert attempt.possible == sum(q["points"] for q in questions.values())
    assert completion_of(learner, course) is not None
