"""Taking a quiz: start an attempt, answer, submit, review."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from lms.assessments.models import QuizAttempt
from lms.assessments.operations import (
    AttemptClosed,
    AttemptLimitReached,
    ForgedAnswer,
    graded_attempts,
    graded_attempts_per_version,
    key_visible,
    quiz_state,
    review_policy,
    start_attempt,
    submit_attempt,
)
from lms.assessments.sheets import question_sheet, review_sheet
from lms.assessments.statistics import FEW_ATTEMPTS
from lms.assessments.statistics import quiz_statistics as compute
from lms.auth.permissions import Capability, require
from lms.core import transaction
from lms.core.filters import format_pct_range
from lms.courses.models import Course, Module, ModuleKind
from lms.courses.pages import course_or_404, module_context, register_module_page
from lms.courses.queries import ModuleState
from lms.extensions import db

bp = Blueprint("quiz", __name__, url_prefix="/courses")
#: Trainers' pages about quizzes, beside the courses' own (``/formatori/``).
stats_bp = Blueprint("quiz_stats", __name__, url_prefix="/formatori")


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


register_module_page(ModuleKind.QUIZ, render_quiz)


def _quiz_module(course_slug: str, module_slug: str) -> tuple[Course, ModuleState]:
    course, outline, index = module_context(course_slug, module_slug)
    state = outline[index]
    if state.locked:
        abort(403)
    if state.module.kind is not ModuleKind.QUIZ:
        abort(404)
    return course, state


@bp.post("/<course_slug>/<module_slug>/tentativi")
@require(Capability.LEARN)
def start(course_slug: str, module_slug: str) -> BaseResponse:
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
def submit(course_slug: str, module_slug: str, attempt_id: int) -> BaseResponse:
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
def review(course_slug: str, module_slug: str, attempt_id: int) -> str | BaseResponse:
    """A graded attempt: score, per question right or wrong, explanations."""
    course, state = _quiz_module(course_slug, module_slug)
    attempt = _own_attempt(state, attempt_id)
    if attempt.submitted_at is None:
        return redirect(
            url_for("courses.module_page", course_slug=course.slug, module_slug=state.module.slug)
        )
    quiz = quiz_state(current_user, state.module)
    # The key leaves the server only when the quiz's review option allows it.
    show_key = key_visible(state.module, quiz)
    return render_template(
        "assessments/review.html",
        course=course,
        module=state.module,
        attempt=attempt,
        review=review_sheet(attempt, show_key=show_key),
        quiz=quiz,
        show_key=show_key,
        policy=review_policy(state.module).value,
    )


# Trainers' statistics of a quiz -------------------------------------------------


@stats_bp.get("/<course_slug>/<module_slug>/")
@require(Capability.VIEW_COURSE_STATS)
def quiz_statistics(course_slug: str, module_slug: str) -> str:
    """A quiz's attempts, pass rate, score distribution and per-question indices."""
    course = course_or_404(course_slug)
    module = db.session.scalar(
        select(Module).where(
            Module.course_id == course.id,
            Module.slug == module_slug,
            Module.kind == ModuleKind.QUIZ,
        )
    )
    if module is None or not module.quiz_versions:
        abort(404)
    versions = {v.version: v for v in module.quiz_versions}
    wanted = request.args.get("versione", type=int) or max(versions)
    version = versions.get(wanted) or abort(404)
    stats = compute(version.questions, graded_attempts(version))
    # After an edit (a typo fixed makes a new version) the newest version starts
    # at zero: point at the latest earlier one that has attempts.
    earlier = None
    if not stats.attempts and len(versions) > 1:
        counts = graded_attempts_per_version(versions.values())
        with_attempts = [v for v in counts if v < version.version and counts[v]]
        if with_attempts:
            earlier = (max(with_attempts), counts[max(with_attempts)])
    chart = {
        "labels": [format_pct_range(low, low + 9) for low in range(0, 90, 10)]
        + [format_pct_range(90, 100)],
        "attempts": stats.distribution,
        "label": _("Tentativi"),
    }
    return render_template(
        "assessments/quiz_statistics.html",
        course=course,
        module=module,
        version=version,
        versions=sorted(versions),
        stats=stats,
        chart=chart,
        few_attempts=FEW_ATTEMPTS,
        earlier=earlier,
    )
