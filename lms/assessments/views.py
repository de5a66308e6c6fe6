"""Taking a quiz: start an attempt, answer, submit, review."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.assessments.models import QuizAttempt
from lms.assessments.operations import (
    AttemptClosed,
    AttemptLimitReached,
    ForgedAnswer,
    quiz_state,
    start_attempt,
    submit_attempt,
)
from lms.assessments.sheets import question_sheet, review_sheet
from lms.auth.permissions import Capability, require
from lms.core import transaction
from lms.courses.models import Course, ModuleKind
from lms.courses.queries import ModuleState
from lms.extensions import db

bp = Blueprint("quiz", __name__, url_prefix="/courses")


def render_quiz(course: Course, state: ModuleState, **context: object) -> str:
    """The quiz module's page: rules, attempts so far, and the open attempt's questions."""
    module = state.module
    quiz = quiz_state(current_user, module)  # may close an overdue attempt
    attempt = quiz.open_attempt
    return render_template(
        "assessments/quiz.html",
        course=course,
        state=state,
        module=module,
        quiz=quiz,
        attempt=attempt,
        sheet=question_sheet(attempt) if attempt else None,
        **context,
    )


def _quiz_module(course_slug: str, module_slug: str):  # noqa: ANN202 - (course, ModuleState)
    from lms.courses.views import module_context  # noqa: PLC0415 - avoid an import cycle

    course, outline, index = module_context(course_slug, module_slug)
    state = outline[index]
    if state.locked:
        abort(403)
    if state.module.kind is not ModuleKind.QUIZ:
        abort(404)
    return course, state


@bp.post("/<course_slug>/<module_slug>/tentativi")
@require(Capability.LEARN)
def start(course_slug: str, module_slug: str) -> Response:
    """Start an attempt (or go back to the open one)."""
    course, state = _quiz_module(course_slug, module_slug)
    try:
        start_attempt(current_user, state.module)
    except AttemptLimitReached:
        transaction.rollback()
        flash(_("Hai esaurito i tentativi disponibili per questa verifica."), "warning")
    return redirect(
        url_for("courses.module_page", course_slug=course.slug, module_slug=state.module.slug)
    )


def _own_attempt(state: ModuleState, attempt_id: int) -> QuizAttempt:
    attempt = db.session.scalar(
        select(QuizAttempt).where(
            QuizAttempt.id == attempt_id,
            QuizAttempt.user_id == current_user.id,
            QuizAttempt.module_id == state.module.id,
        )
    )
    if attempt is None:
        abort(404)
    return attempt


@bp.post("/<course_slug>/<module_slug>/tentativi/<int:attempt_id>")
@require(Capability.LEARN)
def submit(course_slug: str, module_slug: str, attempt_id: int) -> Response:
    """Grade the attempt; a forged form is a 400 and records nothing."""
    course, state = _quiz_module(course_slug, module_slug)
    attempt = _own_attempt(state, attempt_id)
    review_url = url_for(
        "quiz.review", course_slug=course.slug, module_slug=state.module.slug, attempt_id=attempt.id
    )
    try:
        result = submit_attempt(current_user, attempt, request.form.to_dict(flat=False))
    except ForgedAnswer as exc:
        abort(400, description=_("Risposte non valide: %(reason)s", reason=str(exc)))
    except AttemptClosed:
        transaction.rollback()
        flash(_("Questo tentativo era già stato consegnato: ecco il suo esito."), "info")
        return redirect(review_url)
    if result is None:
        flash(
            _("Il tempo a disposizione era scaduto: il tentativo è stato chiuso senza punteggio."),
            "warning",
        )
    return redirect(review_url)


@bp.get("/<course_slug>/<module_slug>/tentativi/<int:attempt_id>")
@require(Capability.LEARN)
def review(course_slug: str, module_slug: str, attempt_id: int) -> str | Response:
    """A graded attempt: score, per question right or wrong, explanations."""
    course, state = _quiz_module(course_slug, module_slug)
    attempt = _own_attempt(state, attempt_id)
    if attempt.submitted_at is None:
        return redirect(
            url_for("courses.module_page", course_slug=course.slug, module_slug=state.module.slug)
        )
    return render_template(
        "assessments/review.html",
        course=course,
        module=state.module,
        attempt=attempt,
        review=review_sheet(attempt),
        quiz=quiz_state(current_user, state.module),
    )
