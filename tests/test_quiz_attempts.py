"""Attempt rules (lms.assessments.operations): limits, best score, completion, shuffling,
time limits, double submissions and their races, quiz versions.

The helpers at the top (a small course with a quiz, written into ``tmp_path`` and
synchronised) are shared with test_quiz_pages.py and test_quiz_statistics.py.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from lms.assessments.models import QuizAttempt
from lms.assessments.operations import (
    GRACE,
    AttemptClosed,
    AttemptLimitReached,
    ForgedAnswer,
    current_version,
    quiz_state,
    start_attempt,
    submit_attempt,
)
from lms.assessments.sheets import question_sheet, review_sheet
from lms.auth.models import User
from lms.courses.content import load_tree
from lms.courses.models import Course, CourseCompletion, Module, ModuleProgress, QuizVersion
from lms.courses.progress import complete_module
from lms.courses.sync import sync_courses
from lms.extensions import db as _db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# A small course with a quiz --------------------------------------------------------------

#: Distinctive strings that must never reach the browser before grading.
SECRETS = (
    "RISPOSTA-ACCETTATA-UNO",
    "risposta accettata due",
    "SPIEGAZIONE-SEGRETA-UNO",
    "SPIEGAZIONE-SEGRETA-DUE",
    "SPIEGAZIONE-SEGRETA-TRE",
    "SPIEGAZIONE-SEGRETA-QUATTRO",
)

#: Five points: single (q1, 1), multiple (q2, 2), true/false (q3, 1), short answer (q4, 1).
QUIZ_BODY = """\
Rispondi con calma: ISTRUZIONI-VERIFICA.

## Quale opzione è giusta nella PRIMA domanda?
- [ ] Opzione sbagliata A
- [x] OPZIONE-GIUSTA-UNO
- [ ] Opzione sbagliata B

> SPIEGAZIONE-SEGRETA-UNO

## Quali opzioni sono giuste nella SECONDA domanda? {points=2}
- [x] OPZIONE-GIUSTA-DUE
- [ ] Opzione sbagliata C
- [x] OPZIONE-GIUSTA-TRE
- [ ] Opzione sbagliata D

> SPIEGAZIONE-SEGRETA-DUE

## La TERZA domanda è un'affermazione vera.
- [x] Vero
- [ ] Falso

> SPIEGAZIONE-SEGRETA-TRE

## Scrivi la parola d'ordine della QUARTA domanda.
= RISPOSTA-ACCETTATA-UNO
= risposta accettata due

> SPIEGAZIONE-SEGRETA-QUATTRO
"""

QUESTION_IDS = ("q1", "q2", "q3", "q4")
#: The answer key, as option ids and a short answer (written with other case and spaces).
KEY: dict[str, list[str]] = {
    "q1": ["b"],
    "q2": ["a", "c"],
    "q3": ["a"],
    "q4": ["  Risposta   ACCETTATA due "],
}
#: Every question wrong (q2: a partial set).
WRONG: dict[str, list[str]] = {"q1": ["a"], "q2": ["a"], "q3": ["b"], "q4": ["sbagliata"]}
#: q1, q3 and q4 right, q2 wrong: 3 of 5 points, 60%.
SIXTY: dict[str, list[str]] = KEY | {"q2": ["a", "b", "c"]}


def quiz_md(body: str = QUIZ_BODY, **settings: object) -> str:
    """A quiz module with front matter *settings* (pass_mark, max_attempts, time_limit, …)."""
    lines = ["title: Verifica finale", "type: quiz"]
    for key, value in settings.items():
        if value is not None:
            lines.append(f"{key}: {str(value).lower() if isinstance(value, bool) else value}")
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body


def course_files(quiz: str, *, sequential: bool = False) -> dict[str, str]:
    """Course "corso": a page ("lettura") then the quiz ("verifica")."""
    return {
        "course.md": "---\ntitle: Corso con verifica\nhours: 3\n"
        f"sequential: {str(sequential).lower()}\n---\n\nPanoramica del corso.\n",
        "01-lettura.md": "---\ntitle: Lettura\n---\n\nTesto da leggere.\n",
        "02-verifica.md": quiz,
    }


def write_course(root: Path, quiz: str, *, slug: str = "corso", sequential: bool = False) -> Path:
    """Write (or rewrite) the course under *root* and return *root*."""
    for name, text in course_files(quiz, sequential=sequential).items():
        path = root / slug / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def sync_content(root: Path) -> None:
    """Validate *root* (it must be clean), synchronise it and commit."""
    sources, errors = load_tree(root)
    assert errors == [], [str(e) for e in errors]
    sync_courses(sources)
    _db.session.commit()


def make_quiz(tmp_path: Path, **settings: object) -> Module:
    """Course "corso" with the test quiz (and *settings*), synchronised; its quiz module."""
    sync_content(write_course(tmp_path / "content", quiz_md(**settings)))
    return get_module("verifica")


def get_module(slug: str, course: str = "corso") -> Module:
    return _db.session.scalar(
        select(Module).join(Course).where(Course.slug == course, Module.slug == slug)
    )


def quiz_form(answers: Mapping[str, list[str]], **extra: list[str]) -> dict[str, list[str]]:
    """The fields our quiz page submits: every ``<id>__shown`` plus the *answers*."""
    fields = {f"{qid}__shown": ["1"] for qid in QUESTION_IDS}
    return fields | {qid: list(values) for qid, values in answers.items()} | extra


def attempts_of(user: User, module: Module) -> list[QuizAttempt]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.user_id == user.id, QuizAttempt.module_id == module.id)
            .order_by(QuizAttempt.number)
        )
    )


def progress_of(user: User, module: Module) -> ModuleProgress | None:
    _db.session.expire_all()
    return _db.session.scalar(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user.id, ModuleProgress.module_id == module.id
        )
    )


def completion_of(user: User, slug: str = "corso") -> CourseCompletion | None:
    _db.session.expire_all()
    return _db.session.scalar(
        select(CourseCompletion)
        .join(Course)
        .where(CourseCompletion.user_id == user.id, Course.slug == slug)
    )


def take(
    user: User, module: Module, answers: Mapping[str, list[str]], now: datetime = T0
) -> QuizAttempt:
    """Start an attempt at *now*, submit *answers* a minute later, commit."""
    attempt = start_attempt(user, module, now=now)
    submit_attempt(user, attempt, quiz_form(answers), now=now + timedelta(minutes=1))
    _db.session.commit()
    return attempt


# Fixtures ------------------------------------------------------------------------------


@pytest.fixture
def learner(make_user: Callable[..., User]) -> User:
    return make_user("learner")


# Starting, the attempt limit, the best score ------------------------------------------------


def test_an_attempt_records_the_current_version_and_the_source_order(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path)
    attempt = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    version = current_version(quiz)
    assert (attempt.number, attempt.quiz_version_id, attempt.started_at) == (1, version.id, T0)
    assert attempt.deadline_at is None  # no time limit
    assert (attempt.submitted_at, attempt.score_pct, attempt.passed) == (None, None, None)
    assert attempt.layout == {
        "questions": ["q1", "q2", "q3", "q4"],
        "options": {"q1": ["a", "b", "c"], "q2": ["a", "b", "c", "d"], "q3": ["a", "b"], "q4": []},
    }


def test_starting_twice_returns_the_same_open_attempt(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path, max_attempts=2)
    first = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    again = start_attempt(learner, quiz, now=T0 + timedelta(seconds=1))
    _db.session.commit()
    assert again.id == first.id
    assert len(attempts_of(learner, quiz)) == 1
    state = quiz_state(learner, quiz)
    assert (state.attempts_used, state.attempts_left, state.can_start) == (1, 1, False)


def test_the_attempt_limit_is_enforced(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path, max_attempts=2)
    assert quiz_state(learner, quiz).attempts_left == 2
    take(learner, quiz, WRONG)
    assert quiz_state(learner, quiz).attempts_left == 1
    take(learner, quiz, WRONG, now=T0 + timedelta(hours=1))
    state = quiz_state(learner, quiz)
    assert (state.attempts_used, state.attempts_left, state.can_start) == (2, 0, False)
    with pytest.raises(AttemptLimitReached):
        start_attempt(learner, quiz, now=T0 + timedelta(hours=2))
    _db.session.rollback()
    assert [a.number for a in attempts_of(learner, quiz)] == [1, 2]


def test_without_max_attempts_attempts_are_unlimited(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path)
    for hour in range(4):
        take(learner, quiz, WRONG, now=T0 + timedelta(hours=hour))
    state = quiz_state(learner, quiz)
    assert (state.attempts_used, state.attempts_left, state.can_start) == (4, None, True)


def test_the_best_score_counts_and_a_later_failure_keeps_the_module_completed(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=3)
    take(learner, quiz, SIXTY)  # 60%: passes the default pass mark of 60
    completed_at = progress_of(learner, quiz).completed_at
    assert completed_at == T0 + timedelta(minutes=1)
    take(learner, quiz, WRONG, now=T0 + timedelta(hours=1))
    state = quiz_state(learner, quiz)
    assert [a.score_pct for a in state.attempts] == [Decimal("60.00"), Decimal("0.00")]
    assert [a.passed for a in state.attempts] == [True, False]
    assert (state.best_score, state.passed) == (Decimal("60.00"), True)
    assert progress_of(learner, quiz).completed_at == completed_at


def test_a_failure_then_a_pass_completes_the_module_at_the_pass(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path, pass_mark=80)
    take(learner, quiz, SIXTY)  # 60% < 80%
    progress = progress_of(learner, quiz)
    assert progress is None or progress.completed_at is None
    assert quiz_state(learner, quiz).passed is False
    take(learner, quiz, KEY, now=T0 + timedelta(hours=1))
    state = quiz_state(learner, quiz)
    assert (state.best_score, state.passed) == (Decimal("100.00"), True)
    assert progress_of(learner, quiz).completed_at == T0 + timedelta(hours=1, minutes=1)


def test_passing_the_last_module_completes_the_course(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path)
    complete_module(learner, get_module("lettura"), now=T0 - timedelta(days=1))
    _db.session.commit()
    assert completion_of(learner) is None
    take(learner, quiz, KEY)
    assert completion_of(learner).completed_at == T0 + timedelta(minutes=1)


def test_a_passed_quiz_with_an_unread_page_completes_the_course_only_with_the_page(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path)
    take(learner, quiz, KEY)
    assert progress_of(learner, quiz).completed_at is not None
    assert completion_of(learner) is None
    complete_module(learner, get_module("lettura"), now=T0 + timedelta(hours=1))
    _db.session.commit()
    assert completion_of(learner).completed_at == T0 + timedelta(hours=1)


def test_a_failed_quiz_completes_nothing(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path)
    complete_module(learner, get_module("lettura"), now=T0)
    _db.session.commit()
    attempt = take(learner, quiz, WRONG)
    assert (attempt.score_pct, attempt.passed) == (Decimal("0.00"), False)
    progress = progress_of(learner, quiz)
    assert progress is None or progress.completed_at is None
    assert completion_of(learner) is None


def test_the_grade_is_recorded_per_question(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path)
    attempt = take(learner, quiz, SIXTY)
    assert attempt.submitted_at == T0 + timedelta(minutes=1)
    assert (attempt.earned, attempt.possible, attempt.score_pct) == (3, 5, Decimal("60.00"))
    assert attempt.results == {
        "q1": {"correct": True, "earned": 1, "points": 1},
        "q2": {"correct": False, "earned": 0, "points": 2},
        "q3": {"correct": True, "earned": 1, "points": 1},
        "q4": {"correct": True, "earned": 1, "points": 1},
    }
    assert attempt.responses == {
        "q1": ["b"],
        "q2": ["a", "b", "c"],
        "q3": ["a"],
        "q4": ["  Risposta   ACCETTATA due "],
    }


def test_a_forged_form_records_nothing_and_leaves_the_attempt_open(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path)
    attempt = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    with pytest.raises(ForgedAnswer):
        submit_attempt(learner, attempt, quiz_form(KEY | {"q1": ["a", "b"]}), now=T0)
    _db.session.rollback()
    (attempt,) = attempts_of(learner, quiz)
    assert (attempt.submitted_at, attempt.score_pct, attempt.results) == (None, None, None)
    # The honest form that follows is graded.
    assert submit_attempt(learner, attempt, quiz_form(KEY), now=T0).score_pct == 100


def test_someone_else_s_attempt_cannot_be_submitted(
    tmp_path: Path, learner: User, make_user: Callable[..., User]
) -> None:
    quiz = make_quiz(tmp_path)
    attempt = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    with pytest.raises(ForgedAnswer, match="not your attempt"):
        submit_attempt(make_user("learner"), attempt, quiz_form(KEY), now=T0)
    assert attempts_of(learner, quiz)[0].submitted_at is None


# Shuffling -----------------------------------------------------------------------------------


class Reverse(random.Random):
    """A "shuffle" that reverses: a predictable permutation."""

    def shuffle(self, x: list) -> None:  # type: ignore[override]
        x.reverse()


def test_a_shuffled_attempt_keeps_its_layout_and_is_graded_by_option_id(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path, shuffle=True)
    attempt = start_attempt(learner, quiz, now=T0, rng=Reverse())
    _db.session.commit()
    layout = {
        "questions": ["q4", "q3", "q2", "q1"],
        "options": {"q1": ["c", "b", "a"], "q2": ["d", "c", "b", "a"], "q3": ["b", "a"], "q4": []},
    }
    assert attempts_of(learner, quiz)[0].layout == layout
    sheet = question_sheet(attempt)
    assert [(q["number"], q["id"]) for q in sheet] == [(1, "q4"), (2, "q3"), (3, "q2"), (4, "q1")]
    assert [o["html"] for o in sheet[3]["options"]] == [
        "Opzione sbagliata B",
        "OPZIONE-GIUSTA-UNO",
        "Opzione sbagliata A",
    ]
    # Starting again (a second tab) gives the same attempt, in the same order.
    again = start_attempt(learner, quiz, now=T0 + timedelta(seconds=5), rng=random.SystemRandom())
    assert again.id == attempt.id
    assert again.layout == layout
    result = submit_attempt(learner, attempt, quiz_form(KEY), now=T0 + timedelta(minutes=1))
    assert (result.score_pct, result.passed) == (Decimal("100.00"), True)
    assert [q["number"] for q in review_sheet(attempt, show_key=True)] == [1, 2, 3, 4]
    assert [q["text_html"][:6] for q in review_sheet(attempt, show_key=True)] == [
        "Scrivi",
        "La TER",
        "Quali ",
        "Quale ",
    ]


def test_a_random_shuffle_is_a_permutation_stored_with_the_attempt(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path, shuffle=True)
    attempt = start_attempt(learner, quiz, now=T0, rng=random.SystemRandom())
    _db.session.commit()
    layout = attempts_of(learner, quiz)[0].layout
    assert sorted(layout["questions"]) == ["q1", "q2", "q3", "q4"]
    assert sorted(layout["options"]["q2"]) == ["a", "b", "c", "d"]
    assert quiz_state(learner, quiz).open_attempt.layout == layout
    assert [q["id"] for q in question_sheet(attempt)] == layout["questions"]


def test_without_shuffle_the_rng_is_not_used(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path, shuffle=False)
    attempt = start_attempt(learner, quiz, now=T0, rng=Reverse())
    assert attempt.layout["questions"] == ["q1", "q2", "q3", "q4"]
    assert attempt.layout["options"]["q2"] == ["a", "b", "c", "d"]


# Time limits ----------------------------------------------------------------------------------


def test_the_deadline_is_the_start_plus_the_time_limit(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path, time_limit=10)
    attempt = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    assert attempts_of(learner, quiz)[0].deadline_at == T0 + timedelta(minutes=10)
    assert attempt.deadline_at == T0 + timedelta(minutes=10)


def test_a_submission_up_to_the_grace_after_the_deadline_is_graded(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path, time_limit=10)
    attempt = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    late = T0 + timedelta(minutes=10) + GRACE
    result = submit_attempt(learner, attempt, quiz_form(KEY), now=late)
    _db.session.commit()
    assert result is not None
    assert result.score_pct == 100
    (attempt,) = attempts_of(learner, quiz)
    assert (attempt.submitted_at, attempt.expired, attempt.passed) == (late, False, True)


def test_a_later_submission_closes_the_attempt_as_expired_with_score_zero(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path, time_limit=10)
    attempt = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    deadline = T0 + timedelta(minutes=10)
    too_late = deadline + GRACE + timedelta(seconds=1)
    assert submit_attempt(learner, attempt, quiz_form(KEY), now=too_late) is None
    _db.session.commit()
    (attempt,) = attempts_of(learner, quiz)
    assert attempt.submitted_at == deadline
    assert (attempt.expired, attempt.score_pct, attempt.passed) == (True, Decimal("0.00"), False)
    assert (attempt.earned, attempt.possible) == (0, 0)
    progress = progress_of(learner, quiz)
    assert progress is None or progress.completed_at is None
    # The attempt is closed: a replay is not graded.
    with pytest.raises(AttemptClosed):
        submit_attempt(learner, attempt, quiz_form(KEY), now=too_late)


def test_an_overdue_open_attempt_is_closed_when_the_quiz_is_next_looked_at(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path, time_limit=10, max_attempts=2)
    start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    deadline = T0 + timedelta(minutes=10)
    state = quiz_state(learner, quiz, now=deadline + GRACE)
    assert state.open_attempt is not None  # still within the grace
    state = quiz_state(learner, quiz, now=deadline + GRACE + timedelta(microseconds=1))
    _db.session.commit()
    assert state.open_attempt is None
    assert (state.attempts_used, state.attempts_left, state.best_score) == (1, 1, Decimal(0))
    (attempt,) = attempts_of(learner, quiz)
    assert (attempt.expired, attempt.submitted_at, attempt.score_pct) == (True, deadline, 0)
    # The next start opens attempt 2 with a deadline of its own.
    later = T0 + timedelta(hours=1)
    second = start_attempt(learner, quiz, now=later)
    assert (second.number, second.deadline_at) == (2, later + timedelta(minutes=10))


def test_an_expired_attempt_uses_up_an_attempt(tmp_path: Path, learner: User) -> None:
    quiz = make_quiz(tmp_path, time_limit=5, max_attempts=1)
    start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    with pytest.raises(AttemptLimitReached):
        start_attempt(learner, quiz, now=T0 + timedelta(hours=1))


# Double submission ----------------------------------------------------------------------------


def test_a_second_submission_is_refused_and_the_first_score_stands(
    tmp_path: Path, learner: User
) -> None:
    quiz = make_quiz(tmp_path)
    attempt = start_attempt(learner, quiz, now=T0)
    submit_attempt(learner, attempt, quiz_form(SIXTY), now=T0 + timedelta(minutes=1))
    _db.session.commit()
    with pytest.raises(AttemptClosed) as closed:
        submit_attempt(learner, attempt, quiz_form(KEY), now=T0 + timedelta(minutes=2))
    assert closed.value.attempt.id == attempt.id
    _db.session.rollback()
    (attempt,) = attempts_of(learner, quiz)
    assert (attempt.score_pct, attempt.submitted_at) == (
        Decimal("60.00"),
        T0 + timedelta(minutes=1),
    )


def test_a_stale_copy_of_an_open_attempt_is_not_graded_twice(
    tmp_path: Path, learner: User, web_app: Flask
) -> None:
    """Two tabs: each loaded the attempt while it was open; only one submission counts."""
    quiz = make_quiz(tmp_path)
    attempt = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    assert attempt.submitted_at is None  # loaded here: this copy says "open"
    attempt_id, user_id = attempt.id, learner.id
    with web_app.app_context():  # the other tab: a session of its own
        other = _db.session.get(QuizAttempt, attempt_id)
        submit_attempt(_db.session.get(User, user_id), other, quiz_form(SIXTY))
        _db.session.commit()
        _db.session.remove()
    assert attempt.submitted_at is None  # still stale
    with pytest.raises(AttemptClosed):
        submit_attempt(learner, attempt, quiz_form(KEY))
    _db.session.rollback()
    (attempt,) = attempts_of(learner, quiz)
    assert attempt.score_pct == Decimal("60.00")


# Quiz versions -------------------------------------------------------------------------------

#: The edited quiz: q1's text and key change (now "Opzione sbagliata A", id "a", is right).
EDITED_BODY = QUIZ_BODY.replace(
    "## Quale opzione è giusta nella PRIMA domanda?\n- [ ] Opzione sbagliata A\n"
    "- [x] OPZIONE-GIUSTA-UNO",
    "## Domanda RISCRITTA nella nuova versione?\n- [x] Opzione sbagliata A\n"
    "- [ ] OPZIONE-GIUSTA-UNO",
)


def test_editing_a_quiz_keeps_past_attempts_on_their_version(
    tmp_path: Path, learner: User, make_user: Callable[..., User]
) -> None:
    assert EDITED_BODY != QUIZ_BODY
    quiz = make_quiz(tmp_path, max_attempts=3)
    root = tmp_path / "content"
    first = take(learner, quiz, KEY)
    other = make_user("learner")
    open_on_v1 = start_attempt(other, quiz, now=T0)
    _db.session.commit()
    v1 = current_version(quiz)

    write_course(root, quiz_md(EDITED_BODY, max_attempts=3))
    sync_content(root)
    _db.session.expire_all()
    quiz = get_module("verifica")
    v2 = current_version(quiz)
    assert (v1.version, v2.version, quiz.version) == (1, 2, 2)
    assert _db.session.scalar(select(func.count()).select_from(QuizVersion)) == 2

    # The past attempt keeps its version, score and questions.
    first = _db.session.get(QuizAttempt, first.id)
    assert (first.quiz_version_id, first.score_pct, first.passed) == (v1.id, 100, True)
    old_review = review_sheet(first, show_key=True)
    assert old_review[0]["text_html"] == "Quale opzione è giusta nella PRIMA domanda?"
    assert [o["correct"] for o in old_review[0]["options"]] == [False, True, False]

    # A new attempt answers the new version: the old key is now wrong on q1.
    second = take(learner, quiz, KEY, now=T0 + timedelta(hours=1))
    assert second.quiz_version_id == v2.id
    assert question_sheet(second)[0]["text_html"] == "Domanda RISCRITTA nella nuova versione?"
    assert (second.score_pct, second.results["q1"]["correct"]) == (Decimal("80.00"), False)

    # An attempt opened before the edit is graded against the questions it showed.
    open_on_v1 = _db.session.get(QuizAttempt, open_on_v1.id)
    assert open_on_v1.quiz_version_id == v1.id
    result = submit_attempt(other, open_on_v1, quiz_form(KEY), now=T0 + timedelta(hours=2))
    assert result.score_pct == 100
    assert question_sheet(open_on_v1)[0]["text_html"].startswith("Quale opzione")


# Races (PostgreSQL) ---------------------------------------------------------------------------

ON_POSTGRESQL = (
    make_url(os.environ.get("LMS_TEST_DATABASE_URL") or "sqlite://").get_backend_name()
    == "postgresql"
)
_SKIP_ON_SQLITE = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs concurrent writers: SQLite serialises them with a file lock, so the race"
    " cannot happen there (the suite runs again on PostgreSQL in CI, with LMS_TEST_DATABASE_URL)",
)


def postgresql_only(test: Callable) -> Callable:
    """Mark a race test: ``postgres`` (pyproject's marker), skipped on SQLite."""
    return pytest.mark.postgres(_SKIP_ON_SQLITE(test))


THREADS = 8


def in_threads(app: Flask, work: Callable[[threading.Barrier], object]) -> list[object]:
    """Run *work* in THREADS threads, each in an app context (so a session) of its own.

    *work* prepares, waits on the barrier, then acts; its result or exception is returned.
    """
    barrier = threading.Barrier(THREADS, timeout=30)
    results: list[object] = [None] * THREADS

    def run(index: int) -> None:
        with app.app_context():
            try:
                results[index] = work(barrier)
            except Exception as exc:  # noqa: BLE001 - reported to the test
                _db.session.rollback()
                results[index] = exc
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


@postgresql_only
def test_concurrent_submissions_of_one_attempt_grade_it_once(
    tmp_path: Path, learner: User, web_app: Flask
) -> None:
    quiz = make_quiz(tmp_path)
    attempt = start_attempt(learner, quiz, now=T0)
    _db.session.commit()
    attempt_id, user_id = attempt.id, learner.id
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def submit(barrier: threading.Barrier) -> object:
        with lock:
            index = next(counter)
        # Half the tabs send the key, half a 60% form: the score must be the winner's.
        answers = KEY if index % 2 else SIXTY
        user = _db.session.get(User, user_id)
        mine = _db.session.get(QuizAttempt, attempt_id)
        assert mine.submitted_at is None
        _ = mine.quiz_version.questions  # loaded before the race
        barrier.wait()
        try:
            result = submit_attempt(user, mine, quiz_form(answers))
        except AttemptClosed:
            _db.session.rollback()
            return "closed"
        _db.session.commit()
        return result.score_pct

    results = in_threads(web_app, submit)
    graded = [r for r in results if r != "closed"]
    assert len(graded) == 1, results
    assert results.count("closed") == THREADS - 1
    (attempt,) = attempts_of(learner, quiz)
    assert attempt.submitted_at is not None
    assert attempt.score_pct == graded[0]
    assert progress_of(learner, quiz).completed_at is not None  # both forms pass (60, 100)


@postgresql_only
def test_concurrent_starts_open_one_attempt(tmp_path: Path, learner: User, web_app: Flask) -> None:
    quiz = make_quiz(tmp_path, max_attempts=1)
    module_id, user_id = quiz.id, learner.id

    def start(barrier: threading.Barrier) -> object:
        user = _db.session.get(User, user_id)
        module = _db.session.get(Module, module_id)
        _ = (module.max_attempts, module.course)
        barrier.wait()
        try:
            attempt = start_attempt(user, module)
        except AttemptLimitReached:
            _db.session.rollback()
            return "limit"
        _db.session.commit()
        return attempt.id

    results = in_threads(web_app, start)
    assert not [r for r in results if isinstance(r, Exception)], results
    (attempt,) = attempts_of(learner, quiz)
    # Every click got the one open attempt (or, at worst, was told no attempt is left).
    assert set(results) - {"limit"} == {attempt.id}


@postgresql_only
def test_concurrent_starts_take_the_last_attempt_once(
    tmp_path: Path, learner: User, web_app: Flask
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=2)
    take(learner, quiz, WRONG)
    module_id, user_id = quiz.id, learner.id

    def start(barrier: threading.Barrier) -> object:
        user = _db.session.get(User, user_id)
        module = _db.session.get(Module, module_id)
        _ = (module.max_attempts, module.course)
        barrier.wait()
        try:
            attempt = start_attempt(user, module)
        except AttemptLimitReached:
            _db.session.rollback()
            return "limit"
        _db.session.commit()
        return attempt.number

    results = in_threads(web_app, start)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert set(results) - {"limit"} == {2}
    assert [a.number for a in attempts_of(learner, quiz)] == [1, 2]
