"""Surveys on the web: the survey module's page and its answers; results for trainers.

The survey page is a module page (drawn here, registered with
:func:`register_module_page`); answers are POSTed to ``/questionari/…/risposte``.
Trainers read the results under ``/questionari/`` (VIEW_COURSE_STATS), as pages
and as CSV or XLSX downloads, with the same rule for groups of five.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import exists, select
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.permissions import Capability, require
from lms.core import transaction
from lms.core.downloads import FORMATS, table_download
from lms.core.people_xlsx import Column, Kind, PeopleSheet
from lms.core.types import ROME
from lms.courses.models import Course, CourseCompletion, Module, ModuleKind
from lms.courses.pages import course_or_404, module_context, register_module_page
from lms.courses.queries import ModuleState, outline_progress, visible_courses_clause
from lms.extensions import db
from lms.surveys.blueprint import bp
from lms.surveys.operations import (
    ANSWERING_ROLES,
    MAX_TEXT,
    AlreadySubmitted,
    CheckedAnswers,
    check_answers,
    has_answered,
    submit_survey,
)
from lms.surveys.results import (
    COLUMNS,
    MIN_GROUP,
    SurveyResults,
    download_rows,
    response_counts,
    survey_results,
)


def render_survey(
    course: Course,
    state: ModuleState,
    checked: CheckedAnswers | None = None,
    notice: str | None = None,
    **context: object,
) -> str:
    """The survey module's page: the questions as a form, or thanks once answered."""
    module = state.module
    return render_template(
        "surveys/survey.html",
        course=course,
        state=state,
        module=module,
        questions=module.survey_questions or [],
        answered=has_answered(current_user, module),
        may_answer=current_user.role in ANSWERING_ROLES,
        checked=checked,
        notice=notice,
        max_text=MAX_TEXT,
        min_group=MIN_GROUP,
        **context,
    )


register_module_page(ModuleKind.SURVEY, render_survey)


@bp.post("/<course_slug>/<module_slug>/risposte")
@require(Capability.LEARN)
def answer(course_slug: str, module_slug: str) -> str | BaseResponse | tuple[str, int]:
    """Store the answers (once per person), then thank; errors shown on the form (400)."""
    course, outline, index = module_context(course_slug, module_slug)
    state = outline[index]
    module = state.module
    if module.kind is not ModuleKind.SURVEY:
        abort(404)
    if state.locked or current_user.role not in ANSWERING_ROLES:
        abort(403)
    page_url = url_for("courses.module_page", course_slug=course.slug, module_slug=module.slug)
    if has_answered(current_user, module):
        flash(_("Hai già inviato le tue risposte a questo questionario: grazie."), "info")
        return redirect(page_url)
    checked = check_answers(module.survey_questions or [], request.form.to_dict(flat=False))
    notice = None
    if request.form.get("versione") != str(module.version):
        notice = _(
            "Il questionario è stato aggiornato mentre lo compilavi: controlla le risposte"
            " e invialo di nuovo."
        )
    if notice is not None or not checked.valid:
        context = {
            "previous": outline[index - 1] if index > 0 else None,
            "following": outline[index + 1] if index + 1 < len(outline) else None,
            "position": index + 1,
            "total": len(outline),
            "progress": outline_progress(outline),
        }
        return render_survey(course, state, checked=checked, notice=notice, **context), 400
    # Completed before (an optional survey answered weeks later): nothing to announce.
    was_done = db.session.scalar(
        select(
            exists().where(
                CourseCompletion.user_id == current_user.id,
                CourseCompletion.course_id == course.id,
            )
        )
    )
    try:
        course_done = submit_survey(current_user, module, checked.answers)
    except AlreadySubmitted:
        transaction.rollback()
        flash(_("Hai già inviato le tue risposte a questo questionario: grazie."), "info")
        return redirect(page_url)
    flash(_("Grazie: le tue risposte sono state registrate in forma anonima."), "success")
    if course_done and not was_done:
        flash(_("Hai completato il corso «%(title)s».", title=course.title), "success")
    return redirect(page_url)


# Results for trainers ------------------------------------------------------------------


def _survey_modules(course: Course) -> list[Module]:
    return list(
        db.session.scalars(
            select(Module)
            .where(Module.course_id == course.id, Module.kind == ModuleKind.SURVEY)
            .order_by(Module.retired_at.is_not(None), Module.position, Module.id)
        )
    )


def _survey_or_404(course: Course, module_slug: str) -> Module:
    module = db.session.scalar(
        select(Module).where(
            Module.course_id == course.id,
            Module.slug == module_slug,
            Module.kind == ModuleKind.SURVEY,
        )
    )
    if module is None:
        abort(404)
    return module


@bp.get("/")
@require(Capability.VIEW_COURSE_STATS)
def index() -> str:
    """Every course the trainer sees (drafts included) that has surveys, with their responses."""
    modules = list(
        db.session.scalars(
            select(Module)
            .join(Course, Course.id == Module.course_id)
            .where(visible_courses_clause(current_user), Module.kind == ModuleKind.SURVEY)
            .order_by(Course.title, Course.id, Module.retired_at.is_not(None), Module.position)
        )
    )
    counts = response_counts([module.id for module in modules])
    courses: dict[int, tuple[Course, list[Module]]] = {}
    for module in modules:
        courses.setdefault(module.course_id, (module.course, []))[1].append(module)
    return render_template(
        "surveys/index.html", courses=list(courses.values()), counts=counts, min_group=MIN_GROUP
    )


@bp.get("/<course_slug>/")
@require(Capability.VIEW_COURSE_STATS)
def course_surveys(course_slug: str) -> str:
    """The surveys of one course, with how many responses each has."""
    course = course_or_404(course_slug)
    modules = _survey_modules(course)
    return render_template(
        "surveys/course.html",
        course=course,
        modules=modules,
        counts=response_counts([m.id for m in modules]),
        min_group=MIN_GROUP,
    )


@bp.get("/<course_slug>/<module_slug>/")
@require(Capability.VIEW_COURSE_STATS)
def results(course_slug: str, module_slug: str) -> str:
    """A survey's results: the whole survey, or one edition (``?edizione=<id>``)."""
    course = course_or_404(course_slug)
    module = _survey_or_404(course, module_slug)
    outcome = survey_results(module)
    edition_id = request.args.get("edizione", type=int)
    if "edizione" in request.args and edition_id is None:
        abort(404)
    group = outcome.group(edition_id)
    if group is None:
        abort(404)
    return render_template(
        "surveys/results.html",
        course=course,
        module=module,
        results=outcome,
        group=group,
        min_group=MIN_GROUP,
    )


@bp.get("/<course_slug>/<module_slug>/risultati.<fmt>")
@require(Capability.VIEW_COURSE_STATS)
def download(course_slug: str, module_slug: str, fmt: str) -> BaseResponse:
    """The results as CSV or XLSX: every group, with the same rule as the page."""
    if fmt not in FORMATS:
        abort(404)
    course = course_or_404(course_slug)
    module = _survey_or_404(course, module_slug)
    outcome = survey_results(module)
    return table_download(
        f"questionario-{course.slug}-{module.slug}",
        fmt,
        COLUMNS,
        download_rows(outcome),
        sheet=_results_sheet(course, module, outcome),
    )


QUESTION_KIND_LABELS = {"scale": _l("Scala"), "text": _l("Testo libero")}


def _results_sheet(course: Course, module: Module, outcome: SurveyResults) -> PeopleSheet:
    """The XLSX for people: one column per column of :data:`COLUMNS`, the groups named."""
    groups: dict[str, str] = {outcome.whole.key: _("Tutte le risposte")}
    for group in outcome.editions:
        if group.edition is not None:
            start = group.edition.starts_at.astimezone(ROME)
            groups[group.key] = _(
                "Edizione n. %(id)d del %(date)s",
                id=group.edition.id,
                date=start.strftime("%d/%m/%Y %H:%M"),
            )
    columns = (
        Column(_l("Gruppo"), labels=groups, width=28),
        Column(_l("Risposte al questionario"), Kind.COUNT),
        Column(_l("Codice domanda"), Kind.CODE),
        Column(_l("Domanda"), wrap=True, width=40),
        Column(_l("Tipo di domanda"), labels=QUESTION_KIND_LABELS),
        Column(_l("Hanno risposto alla domanda"), Kind.COUNT),
        Column(_l("Punto della scala"), Kind.NUMBER),
        Column(_l("Etichetta del punto"), width=20),
        Column(_l("Risposte con questo punto"), Kind.COUNT),
        Column(_l("Media"), Kind.DECIMAL, num_format="0.0"),
        Column(_l("Risposta"), wrap=True, width=60),
    )
    about: list[tuple[str, object]] = [
        (_("Corso"), course.title),
        (_("Questionario"), module.title),
        (
            _("Gruppi piccoli"),
            _("un gruppo con meno di %(n)d risposte riporta solo il loro numero", n=MIN_GROUP),
        ),
    ]
    return PeopleSheet(_("Risultati del questionario"), columns, about, sheet_name=_("Risultati"))
