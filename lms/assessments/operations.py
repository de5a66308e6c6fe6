"""Attempt rules: start, submit, time limits, attempt limits, completion.

Time-limit rule (documented in the README): an attempt may be submitted up to
``GRACE`` after its deadline, to allow for a slow network; a submission that
arrives later is refused, and the attempt is closed as expired, with score 0,
as submitted at its deadline. An open attempt found past its deadline plus the
grace is closed the same way.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from lms.assessments.grading import ForgedAnswer, Grade, grade, parse_responses
from lms.assessments.models import QuizAttempt
from lms.auth.models import User
from lms.content.quiz import DEFAULT_REVIEW, ReviewPolicy
from lms.core.sql import rowcount
from lms.core.types import utcnow
from lms.courses.models import Module, ModuleKind, QuizVersion
from lms.courses.progress import complete_module
from lms.extensions import db

GRACE = timedelta(seconds=60)

__all__ = [
    "GRACE",
    "AttemptClosed",
    "AttemptLimitReached",
    "ForgedAnswer",
    "QuizState",
    "current_version",
    "key_visible",
    "quiz_state",
    "review_policy",
    "start_attempt",
    "submit_attempt",
]


class AttemptLimitReached(Exception):
    """No attempts left on this quiz."""


class AttemptClosed(Exception):
    """The attempt was already submitted (or expired): nothing is graded twice."""

    def __init__(self, attempt: QuizAttempt) -> None:
        super().__init__(f"attempt {attempt.id} is closed")
        self.attempt = attempt


def current_version(module: Module) -> QuizVersion:
    """The latest version of a quiz module's questions."""
    version = db.session.scalar(
        select(QuizVersion)
        .where(QuizVersion.module_id == module.id)
        .order_by(QuizVersion.version.desc())
        .limit(1)
    )
    if version is None or module.kind is not ModuleKind.QUIZ:
        raise LookupError(f"module {module.id} is not a synchronised quiz")
    return version


@dataclass(frozen=True)
class QuizState:
    """One person's standing on one quiz."""

    attempts: list[QuizAttempt]
    open_attempt: QuizAttempt | None
    best_score: Decimal | None
    passed: bool
    max_attempts: int | None

    @property
    def attempts_used(self) -> int:
        """Attempts started, open or closed."""
        return len(self.attempts)

    @property
    def attempts_left(self) -> int | None:
        """Attempts still available; None when unlimited."""
        if self.max_attempts is None:
            return None
        return max(0, self.max_attempts - self.attempts_used)

    @property
    def can_start(self) -> bool:
        """Whether a new attempt may begin now."""
        return self.open_attempt is None and self.attempts_left != 0


def review_policy(module: Module) -> ReviewPolicy:
    """The quiz's review option (the default for quizzes synchronised before it existed)."""
    return ReviewPolicy(module.review) if module.review else DEFAULT_REVIEW


def key_visible(module: Module, state: QuizState) -> bool:
    """Whether reviews of *module* may now show this person the right answers and explanations.

    *state* is the person's :func:`quiz_state`. The review option decides; except
    with ``after_each``, never while an attempt is open (the key of an earlier
    attempt would help with the open one).
    """
    policy = review_policy(module)
    if policy is ReviewPolicy.AFTER_EACH:
        return True
    if policy is ReviewPolicy.NEVER or state.open_attempt is not None:
        return False
    if policy is ReviewPolicy.WHEN_PASSED:
        return state.passed
    return state.passed or state.attempts_left == 0


def _expire_if_overdue(attempt: QuizAttempt, now: datetime) -> bool:
    """Close an open attempt whose deadline (plus grace) has passed; return whether it did."""
    if attempt.deadline_at is None or now <= attempt.deadline_at + GRACE:
        return False
    closed = rowcount(
        db.session.execute(
            update(QuizAttempt)
            .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
            .values(
                submitted_at=attempt.deadline_at,
                expired=True,
                responses={},
                results={},
                earned=0,
                possible=0,
                score_pct=Decimal(0),
                passed=False,
            )
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(attempt)
    return bool(closed)


def quiz_state(user: User, module: Module, now: datetime | None = None) -> QuizState:
    """The person's attempts at *module*, closing an overdue open one first."""
    now = now or utcnow()
    attempts = list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.user_id == user.id, QuizAttempt.module_id == module.id)
            .order_by(QuizAttempt.number)
        )
    )
    open_attempt = next((a for a in attempts if a.submitted_at is None), None)
    if open_attempt is not None and _expire_if_overdue(open_attempt, now):
        open_attempt = None
    scores = [a.score_pct for a in attempts if a.score_pct is not None]
    return QuizState(
        attempts=attempts,
        open_attempt=open_attempt,
        best_score=max(scores) if scores else None,
        passed=any(a.passed for a in attempts),
        max_attempts=module.max_attempts,
    )


def _layout(questions: Sequence[Mapping], *, shuffle: bool, rng: random.Random) -> dict:
    """The attempt's order of questions and, per question, of options.

    A matching question's left-hand items take the place of options; its choices
    are always shuffled, or the order written would give the pairs away.
    """
    order = [q["id"] for q in questions]
    options = {
        q["id"]: [p["id"] for p in q["pairs"]]
        if q["kind"] == "matching"
        else [o["id"] for o in q["options"]]
        for q in questions
    }
    choices = {q["id"]: [c["id"] for c in q["choices"]] for q in questions if "choices" in q}
    if shuffle:
        rng.shuffle(order)
        for ids in options.values():
            rng.shuffle(ids)
    for ids in choices.values():
        rng.shuffle(ids)
    layout: dict = {"questions": order, "options": options}
    if choices:
        layout["choices"] = choices
    return layout


def _json_number(value: Decimal) -> int | float:
    """Points as stored in an attempt's results: a whole number when they are one."""
    return int(value) if value == value.to_integral_value() else float(value)


def start_attempt(
    user: User, module: Module, now: datetime | None = None, rng: random.Random | None = None
) -> QuizAttempt:
    """Open a new attempt, or return the one already open (a double click starts one).

    Raises :class:`AttemptLimitReached` when no attempt is left. Concurrent
    starts are settled by the database's unique constraints.
    """
    now = now or utcnow()
    state = quiz_state(user, module, now)
    if state.open_attempt is not None:
        return state.open_attempt
    if not state.can_start:
        raise AttemptLimitReached
    version = current_version(module)
    attempt = QuizAttempt(
        user_id=user.id,
        module_id=module.id,
        quiz_version_id=version.id,
        number=state.attempts_used + 1,
        started_at=now,
        deadline_at=now + timedelta(minutes=module.time_limit) if module.time_limit else None,
        layout=_layout(version.questions, shuffle=module.shuffle, rng=rng or random.SystemRandom()),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # A concurrent request opened an attempt (or took the same number) first.
        state = quiz_state(user, module, now)
        if state.open_attempt is not None:
            return state.open_attempt
        raise AttemptLimitReached from None
    return attempt


def submit_attempt(
    user: User, attempt: QuizAttempt, form: Mapping[str, Sequence[str]], now: datetime | None = None
) -> Grade | None:
    """Grade *attempt* with the submitted *form*; complete the module when passed.

    Returns the grade, or None when the submission came too late (the attempt
    is then closed as expired). Raises :class:`ForgedAnswer` for a form our page
    could not have produced (nothing is recorded) and :class:`AttemptClosed`
    when the attempt was already graded (a second tab, a double click, a replay).
    """
    now = now or utcnow()
    if attempt.user_id != user.id:
        raise ForgedAnswer("not your attempt")
    if attempt.submitted_at is not None:
        raise AttemptClosed(attempt)
    version = attempt.quiz_version
    responses = parse_responses(version.questions, form)
    if _expire_if_overdue(attempt, now):
        return None
    result = grade(version.questions, responses, version.pass_mark)
    # Only one submission can turn an open attempt into a graded one.
    updated = rowcount(
        db.session.execute(
            update(QuizAttempt)
            .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
            .values(
                submitted_at=now,
                responses={qid: list(values) for qid, values in responses.items()},
                results={
                    r.question_id: {
                        "correct": r.correct,
                        "earned": _json_number(r.earned),
                        "points": r.points,
                    }
                    for r in result.results
                },
                earned=result.earned,
                possible=result.possible,
                score_pct=result.score_pct,
                passed=result.passed,
            )
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(attempt)
    if not updated:
        raise AttemptClosed(attempt)
    if result.passed:
        complete_module(user, attempt.module, now)
    return result


def graded_attempts_per_version(versions: Iterable[QuizVersion]) -> dict[int, int]:
    """Version number → how many graded attempts it has (the same attempts as below)."""
    by_id = {version.id: version.version for version in versions}
    rows = db.session.execute(
        select(QuizAttempt.quiz_version_id, func.count())
        .where(
            QuizAttempt.quiz_version_id.in_(list(by_id)),
            QuizAttempt.submitted_at.is_not(None),
            QuizAttempt.expired.is_(False),
        )
        .group_by(QuizAttempt.quiz_version_id)
    )
    return {by_id[version_id]: int(count) for version_id, count in rows}


def graded_attempts(version: QuizVersion) -> list[tuple[Decimal, bool, dict, dict]]:
    """(score, passed, results, responses) of every graded, not expired attempt of *version*.

    In the order they were submitted: the statistics break ties by first sight, and
    without an ORDER BY PostgreSQL returns rows in whatever order it finds them.
    """
    return list(
        db.session.execute(
            select(
                QuizAttempt.score_pct,
                QuizAttempt.passed,
                QuizAttempt.results,
                QuizAttempt.responses,
            )
            .where(
                QuizAttempt.quiz_version_id == version.id,
                QuizAttempt.submitted_at.is_not(None),
                QuizAttempt.expired.is_(False),
            )
            .order_by(QuizAttempt.submitted_at, QuizAttempt.id)
        ).all()
    )
