"""Catalogue, course overview, module pages, media, and trainers' course statistics."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.permissions import Capability, require
from lms.core.types import today_in_italy
from lms.courses import queries
from lms.courses.content import ACTIVE_MEDIA_SUFFIXES
from lms.courses.models import Course, CourseCompletion, Module, ModuleKind
from lms.courses.pages import (
    course_and_outline,
    course_or_404,
    due_date,
    module_context,
    module_page_renderer,
)
from lms.courses.progress import complete_module, has_completed, record_visit
from lms.courses.queries import outline_progress
from lms.extensions import db

bp = Blueprint("courses", __name__, url_prefix="/courses")
trainer_bp = Blueprint("trainer", __name__, url_prefix="/formatori")

#: Media are the trainer's files: an SVG may not run script or load anything.
MEDIA_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


@bp.get("/")
@require(Capability.LEARN)
def catalogue() -> str:
    """Every course the reader may see, with their progress."""
    return render_template("courses/catalogue.html", entries=queries.catalogue(current_user))


@bp.get("/<course_slug>/")
@require(Capability.LEARN)
def overview(course_slug: str) -> str:
    """A course's page: its modules, which are done and which are locked."""
    course, outline = course_and_outline(course_slug)  # one statement
    progress = outline_progress(outline)  # required modules only
    completion = _completion(course)
    # The reader's own due date (their enrolment's), until the course is completed.
    due_on = None if completion else due_date(current_user, course)
    return render_template(
        "courses/overview.html",
        course=course,
        outline=outline,
        done=progress.done,
        required_total=progress.total,
        progress_pct=progress.pct,
        completion=completion,
        due_on=due_on,
        days_left=(due_on - today_in_italy()).days if due_on else None,
    )


def _completion(course: Course) -> CourseCompletion | None:

    return db.session.scalar(
        select(CourseCompletion).where(
            CourseCompletion.user_id == current_user.id, CourseCompletion.course_id == course.id
        )
    )


@bp.get("/<course_slug>/<module_slug>/")
@require(Capability.LEARN)
def module_page(course_slug: str, module_slug: str) -> str | BaseResponse:
    """A module: its rendered text, previous/next, and "segna come completato"."""
    course, outline, index = module_context(course_slug, module_slug)
    state = outline[index]
    if state.locked:
        flash(
            _("Completa prima i moduli precedenti: questo corso va seguito in ordine."), "warning"
        )
        return redirect(url_for("courses.overview", course_slug=course.slug))
    # The outline read the person's row: a repeat visit is one UPDATE, a first one an INSERT.
    record_visit(current_user, state.module, started=state.started)
    context = {
        "previous": outline[index - 1] if index > 0 else None,
        "following": outline[index + 1] if index + 1 < len(outline) else None,
        "position": index + 1,
        "total": len(outline),
        "progress": outline_progress(outline),  # required modules only
    }
    renderer = module_page_renderer(state.module.kind)  # a quiz: drawn by assessments
    if renderer is not None:
        return renderer(course, state, **context)
    return render_template(
        "courses/module.html",
        course=course,
        state=state,
        module=state.module,
        **context,
    )


@bp.post("/<course_slug>/<module_slug>/completa")
@require(Capability.LEARN)
def complete(course_slug: str, module_slug: str) -> BaseResponse:
    """Mark a page module as done (quizzes are completed by passing them)."""
    course, outline, index = module_context(course_slug, module_slug)
    state = outline[index]
    if state.locked:
        abort(403)
    if state.module.kind is ModuleKind.QUIZ:
        abort(400, description=_("Una verifica si completa superandola."))
    if state.module.kind is ModuleKind.LIVE:
        abort(400, description=_("Una sessione dal vivo si completa con la presenza registrata."))
    if state.module.kind is ModuleKind.SURVEY:
        abort(400, description=_("Un questionario si completa rispondendo alle domande."))
    was_done = has_completed(current_user, course)
    course_done = complete_module(current_user, state.module)
    # The next page says what happened (a module marked done again says nothing new, and a
    # course completed before, then given a new module, is not announced again).
    if course_done and not was_done:
        flash(_("Hai completato il corso «%(title)s».", title=course.title), "success")
    elif not state.completed:
        flash(_("Hai completato il modulo «%(title)s».", title=state.module.title), "success")
    following = outline[index + 1] if index + 1 < len(outline) else None
    if following is not None:
        return redirect(
            url_for(
                "courses.module_page", course_slug=course.slug, module_slug=following.module.slug
            )
        )
    return redirect(url_for("courses.overview", course_slug=course.slug))


@bp.get("/<course_slug>/media/<path:filename>")
@require(Capability.LEARN)
def media(course_slug: str, filename: str) -> Response:
    """A file from the course's own media/ folder (nothing outside it)."""
    course = course_or_404(course_slug)
    folder = (Path(current_app.config["CONTENT_DIR"]) / course.slug / "media").resolve()
    parts = Path(filename).parts
    if any(part.startswith(".") for part in parts) or Path(filename).suffix.lower() in (
        ACTIVE_MEDIA_SUFFIXES
    ):
        abort(404)  # hidden files and files a browser would run are never media
    target = (folder / filename).resolve()
    # A symbolic link may point anywhere: serve only what really lies in media/.
    if not target.is_relative_to(folder) or not target.is_file():
        abort(404)
    response = send_from_directory(folder, str(target.relative_to(folder)), max_age=3600)
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@trainer_bp.get("/")
@require(Capability.VIEW_COURSE_STATS)
def dashboard() -> str:
    """Every course (drafts included) with how many learners started and completed it."""
    return render_template(
        "courses/trainer_dashboard.html",
        entries=queries.catalogue(current_user),
        activity=queries.course_activity(),
    )


@trainer_bp.get("/<course_slug>/")
@require(Capability.VIEW_COURSE_STATS)
def course_statistics(course_slug: str) -> str:
    """Per module: learners who started and who completed it, as a chart and a table."""
    course = course_or_404(course_slug)
    stats = queries.module_statistics(course)
    chart = {
        "labels": [f"{i}. {s.module.title}" for i, s in enumerate(stats, start=1)],
        "started": [s.started for s in stats],
        "completed": [s.completed for s in stats],
        "startedLabel": _("Iniziato"),
        "completedLabel": _("Completato"),
    }
    return render_template(
        "courses/statistics.html",
        course=course,
        stats=stats,
        completions=queries.course_completions(course),
        chart=chart,
    )


__all__ = ["Module", "bp", "trainer_bp"]
