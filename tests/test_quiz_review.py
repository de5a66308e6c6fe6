"""Review options (front matter ``review:``): when the review of an attempt shows the right
answers and the explanations. The key is checked where it would leak: the review page
(which is also the page a submission lands on) and what the server puts in it at all.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from test_quiz_attempts import KEY, SECRETS, make_quiz, quiz_md, sync_content, write_course
from test_quiz_pages import plain, review_url, start, submit, text

from lms.assessments.models import QuizAttempt
from lms.assessments.operations import QuizState, key_visible, quiz_state, review_policy
from lms.auth.models import User
from lms.content.quiz import DEFAULT_REVIEW, ReviewPolicy
from lms.courses.content import load_tree
from lms.courses.models import Module
from lms.extensions import db as _db

#: Every question wrong, and no right option chosen (so no right text is the learner's own).
ALL_WRONG = {"q1": ["a"], "q2": ["b"], "q3": ["b"], "q4": ["sbagliata"]}
#: The right options' texts of the test quiz (its other secrets are in SECRETS).
RIGHT_OPTIONS = ("OPZIONE-GIUSTA-UNO", "OPZIONE-GIUSTA-DUE", "OPZIONE-GIUSTA-TRE")
HIDDEN_NOTE = {
    "when_done": "Le risposte corrette e le spiegazioni si vedono quando avrai superato la"
    " verifica o esaurito i tentativi.",
    "when_passed": "Le risposte corrette e le spiegazioni si vedono quando avrai superato la"
    " verifica.",
    "never": "Questa verifica non mostra le risposte corrette né le spiegazioni",
}


def quiz_fields(answers: dict[str, list[str]]) -> dict[str, list[str]]:
    return {f"q{n}__shown": ["1"] for n in range(1, 5)} | answers


def take_on_the_web(client: FlaskClient, learner: User, quiz: Module, answers: dict) -> str:
    """Start, submit *answers*, follow the redirect: the page the learner lands on."""
    start(client)
    attempt = next(a for a in attempts(learner, quiz) if a.submitted_at is None)
    response = submit(client, attempt.id, quiz_fields(answers), follow_redirects=True)
    assert response.status_code == 200
    return text(response)


def attempts(learner: User, quiz: Module) -> list[QuizAttempt]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.user_id == learner.id, QuizAttempt.module_id == quiz.id)
            .order_by(QuizAttempt.number)
        )
    )


def assert_no_key(page: str) -> None:
    words = html.unescape(page).casefold()
    for secret in (*SECRETS, *RIGHT_OPTIONS, "(corretta)", "risposte accettate"):
        assert secret.casefold() not in words, secret


def assert_key(page: str) -> None:
    words = plain(page)
    for explanation in [s for s in SECRETS if s.startswith("SPIEGAZIONE")]:
        assert explanation in words
    assert "Risposte accettate: RISPOSTA-ACCETTATA-UNO, risposta accettata due" in words
    assert "OPZIONE-GIUSTA-UNO (corretta)" in words


# The default: no key while attempts remain ----------------------------------------------------


def test_a_failed_first_attempt_with_attempts_left_shows_the_score_not_the_key(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=3)  # no review key: the default
    learner = login_as("learner")
    page = take_on_the_web(client, learner, quiz, ALL_WRONG)
    words = plain(page)
    assert "Verifica non superata: 0,0 % (0 punti su 5); serve almeno il 60 %." in words
    assert words.count("Risposta errata:") == 4  # which questions were wrong, in words
    assert "La tua risposta: sbagliata" in words
    assert "Le tue scelte: Opzione sbagliata A" in words  # the learner's own choice
    assert HIDDEN_NOTE["when_done"] in words
    assert_no_key(page)
    # The page reached later by its address is the same.
    assert_no_key(text(client.get(review_url(attempts(learner, quiz)[0].id))))


def test_the_key_shows_once_no_attempt_is_left_on_every_review(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=2)
    learner = login_as("learner")
    take_on_the_web(client, learner, quiz, ALL_WRONG)
    last = take_on_the_web(client, learner, quiz, ALL_WRONG)
    assert_key(last)
    first = attempts(learner, quiz)[0]
    assert_key(text(client.get(review_url(first.id))))


def test_the_key_shows_once_passed(tmp_path: Path, client: FlaskClient, login_as) -> None:
    quiz = make_quiz(tmp_path)  # unlimited attempts
    learner = login_as("learner")
    take_on_the_web(client, learner, quiz, ALL_WRONG)
    assert_no_key(text(client.get(review_url(attempts(learner, quiz)[0].id))))
    assert_key(take_on_the_web(client, learner, quiz, KEY))
    assert_key(text(client.get(review_url(attempts(learner, quiz)[0].id))))


def test_no_key_while_the_last_attempt_is_open(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    """Two attempts, the first failed, the second open: none left, yet the key would help."""
    quiz = make_quiz(tmp_path, max_attempts=2)
    learner = login_as("learner")
    take_on_the_web(client, learner, quiz, ALL_WRONG)
    start(client)
    state = quiz_state(learner, quiz)
    assert (state.attempts_left, state.open_attempt is not None) == (0, True)
    assert_no_key(text(client.get(review_url(attempts(learner, quiz)[0].id))))


# The other options -------------------------------------------------------------------------


def test_after_each_shows_the_key_after_a_failed_attempt(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, review="after_each")
    learner = login_as("learner")
    page = take_on_the_web(client, learner, quiz, ALL_WRONG)
    assert_key(page)
    assert "Le risposte corrette e le spiegazioni si vedono" not in page


def test_when_passed_keeps_the_key_after_the_last_failed_attempt(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, review="when_passed", max_attempts=1)
    learner = login_as("learner")
    page = take_on_the_web(client, learner, quiz, ALL_WRONG)
    assert_no_key(page)
    assert HIDDEN_NOTE["when_passed"] in plain(page)


def test_when_passed_shows_the_key_once_passed(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, review="when_passed", max_attempts=2)
    learner = login_as("learner")
    assert_no_key(take_on_the_web(client, learner, quiz, ALL_WRONG))
    assert_key(take_on_the_web(client, learner, quiz, KEY))


def test_never_shows_no_key_even_when_passed_and_done(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    quiz = make_quiz(tmp_path, review="never", max_attempts=1)
    learner = login_as("learner")
    page = take_on_the_web(client, learner, quiz, KEY)
    words = plain(page)
    assert "Verifica superata con il 100,0 % (5 punti su 5)." in words
    assert words.count("Risposta corretta:") == 4
    assert HIDDEN_NOTE["never"] in words
    # The learner's own right answer is theirs to see; the accepted list and the
    # explanations are not.
    for secret in [s for s in SECRETS if s.startswith("SPIEGAZIONE")]:
        assert secret not in words
    assert "Risposte accettate" not in words
    assert "(corretta)" not in words


# The rule itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "passed", "left", "open_attempt", "visible"),
    [
        ("after_each", False, 2, False, True),
        ("after_each", False, 0, True, True),
        ("when_done", False, 2, False, False),
        ("when_done", False, None, False, False),  # unlimited attempts
        ("when_done", False, 0, False, True),
        ("when_done", True, 2, False, True),
        ("when_done", True, 1, True, False),  # passed, but retaking now
        ("when_done", False, 0, True, False),
        ("when_passed", False, 0, False, False),
        ("when_passed", True, 2, False, True),
        ("when_passed", True, 1, True, False),
        ("never", True, 0, False, False),
        (None, False, 0, False, True),  # a quiz synchronised before the option: when_done
        (None, False, 1, False, False),
    ],
)
def test_key_visible(
    policy: str | None, left: int | None, *, passed: bool, open_attempt: bool, visible: bool
) -> None:
    module = Module(review=policy, max_attempts=None if left is None else 3)
    used = 0 if left is None else 3 - left
    state = QuizState(
        attempts=[QuizAttempt() for _ in range(used)],
        open_attempt=QuizAttempt() if open_attempt else None,
        best_score=None,
        passed=passed,
        max_attempts=module.max_attempts,
    )
    assert key_visible(module, state) is visible


def test_the_default_review_option_is_when_done() -> None:
    assert DEFAULT_REVIEW is ReviewPolicy.WHEN_DONE
    assert review_policy(Module(review=None)) is ReviewPolicy.WHEN_DONE
    assert review_policy(Module(review="never")) is ReviewPolicy.NEVER


def test_the_review_option_is_synchronised(tmp_path: Path) -> None:
    quiz = make_quiz(tmp_path, review="when_passed")
    assert quiz.review == "when_passed"
    write_course(tmp_path / "content", quiz_md())
    sync_content(tmp_path / "content")
    _db.session.expire_all()
    assert _db.session.get(Module, quiz.id).review == "when_done"  # the default, written out


# Errors in the front matter --------------------------------------------------------------------


def errors_of(tmp_path: Path, quiz: str, page: str | None = None) -> list[str]:
    root = write_course(tmp_path / "content", quiz)
    if page is not None:
        (root / "corso" / "01-lettura.md").write_text(page, encoding="utf-8")
    _, errors = load_tree(root)
    return [f"{e.path.name}:{e.line}: {e.message}" for e in errors if e.path]


def test_a_misspelt_review_option_is_an_error_on_its_line(tmp_path: Path) -> None:
    expected = (
        "02-verifica.md:4: 'review' must be after_each, when_passed, when_done or never,"
        " not 'sempre'"
    )
    assert errors_of(tmp_path, quiz_md(review="sempre")) == [expected]


def test_review_on_a_page_is_an_error(tmp_path: Path) -> None:
    page = "---\ntitle: Lettura\nreview: never\n---\n\nTesto.\n"
    (message,) = errors_of(tmp_path, quiz_md(), page)
    assert message.startswith("01-lettura.md:3: 'review'")
    assert "quiz" in message


def test_every_shipped_quiz_declares_its_review_option() -> None:
    content = Path(__file__).resolve().parent.parent / "content"
    sources, errors = load_tree(content)
    assert errors == []
    quizzes = [m for course in sources for m in course.modules if m.type.value == "quiz"]
    assert len(quizzes) >= 3
    for module in quizzes:
        assert "\nreview: " in module.path.read_text(encoding="utf-8"), module.path
        assert module.review is ReviewPolicy.WHEN_DONE


def test_the_review_s_breadcrumb_starts_at_the_courses(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    """A finding of the trial (issue #18): the trail began at the course."""
    quiz = make_quiz(tmp_path)
    learner = login_as("learner")
    page = take_on_the_web(client, learner, quiz, ALL_WRONG)
    trail = re.search(r'<ol class="breadcrumb">(.*?)</ol>', page, flags=re.DOTALL)
    assert trail is not None
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', trail.group(1)) == [
        ("/courses/", "Corsi"),
        ("/courses/corso/", "Corso con verifica"),
        ("/courses/corso/verifica/", "Verifica finale"),
    ]
    assert plain(trail.group(1)).endswith("Tentativo 1")
