"""HR managers' staff pages: roster upload, staff list, person, enrolment, links."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from lms.auth.models import User
from lms.auth.permissions import (
    Capability,
    authority_scope_clause,
    require,
    require_authority_in_scope,
    require_region_in_scope,
)
from lms.core import transaction
from lms.core.export import CSV_MIMETYPE, XLSX_MIMETYPE, csv_chunks, xlsx_chunks
from lms.core.sql import LIKE_ESCAPE, contains_pattern, paginate
from lms.core.types import rome_date, today_in_italy
from lms.courses.models import Course, CourseStatus
from lms.courses.queries import progress_on
from lms.enrolments.enrol import delete_rule, enrol, remove_enrolment
from lms.enrolments.forms import (
    CATEGORY_LABELS,
    CATEGORY_NAMES,
    ActionForm,
    ConfirmImportForm,
    EnrolGroupForm,
    EnrolPersonForm,
    UploadForm,
)
from lms.enrolments.import_flow import ImportOutcome, as_written, run_import
from lms.enrolments.links import LINK_COLUMNS, count_waiting, issue_links
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.enrolments.queries import (
    enrolment_authorities,
    enrolment_regions,
    rules_in_scope,
)
from lms.enrolments.roster import TEMPLATE_HEADER, column_guide
from lms.enrolments.uploads import drop_upload, load_upload, store_upload
from lms.extensions import db
from lms.register.models import Authority, Region, StaffCategory, StaffMember

bp = Blueprint("staff", __name__, url_prefix="/personale")

#: How many new and updated people the preview lists.
PREVIEW_ROWS = 50
#: How many problems of a bad file the page lists (it counts the rest).
MAX_ERRORS = 200


@bp.app_template_global()
def on_staff() -> bool:
    """For templates: whether the signed-in person has a staff record (read once a request).

    Yearly training hours and certificates are for the people of the staff register,
    not for trainers, HR managers or administrators trying a course.
    """
    if not current_user.is_authenticated:
        return False
    if "on_staff" not in g:
        g.on_staff = (
            db.session.scalar(select(StaffMember.id).where(StaffMember.user_id == current_user.id))
            is not None
        )
    return g.on_staff


FIELD_LABELS = {
    "first_name": _l("Nome"),
    "last_name": _l("Cognome"),
    "email": _l("E-mail"),
    "authority_id": _l("Ente"),
    "category": _l("Categoria"),
    "profile": _l("Profilo"),
    "hired_on": _l("Data di assunzione"),
    "left_on": _l("Data di cessazione"),
}


# Upload --------------------------------------------------------------------


def _preview(outcome: ImportOutcome) -> dict:
    """New and updated people for the preview table, with authority codes and changed fields."""
    plan = outcome.plan
    if plan is None:  # run_import plans every roster it found valid
        raise ValueError("no import plan to preview: the roster was not valid")
    new = plan.new[:PREVIEW_ROWS]
    updated = plan.updated[:PREVIEW_ROWS]
    authority_ids = {values["authority_id"] for values in new}
    for _staff_id, values, old in updated:
        authority_ids.update((values["authority_id"], old["authority_id"]))
    codes = dict(
        db.session.execute(
            select(Authority.id, Authority.code).where(Authority.id.in_(authority_ids))
        ).all()
    )
    staff_ids = [staff_id for staff_id, _values, _old in updated]
    cfs = dict(
        db.session.execute(
            select(StaffMember.id, StaffMember.codice_fiscale).where(StaffMember.id.in_(staff_ids))
        ).all()
    )

    def shown(name: str, value: object) -> str:
        if value is None:
            return ""
        if name == "authority_id" and isinstance(value, int):
            return codes.get(value, str(value))
        if name == "category":
            return str(CATEGORY_NAMES.get(str(value), value))
        if isinstance(value, date):
            return value.strftime("%d/%m/%Y")
        return str(value)

    return {
        "new": [
            {
                "codice_fiscale": values["codice_fiscale"],
                "name": f"{values['first_name']} {values['last_name']}",
                "authority": codes.get(values["authority_id"], ""),
                "category": shown("category", values["category"]),
            }
            for values in new
        ],
        "updated": [
            {
                "codice_fiscale": cfs.get(staff_id, ""),
                "name": f"{values['first_name']} {values['last_name']}",
                "changes": [
                    (FIELD_LABELS[name], shown(name, old[name]), shown(name, values[name]))
                    for name in FIELD_LABELS
                    if values[name] != old[name]
                ],
            }
            for staff_id, values, old in updated
        ],
    }


@bp.route("/importa", methods=["GET", "POST"])
@require(Capability.MANAGE_STAFF)
def upload() -> str:
    """Upload a roster: every bad row listed, or a preview to confirm."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form)
    storage = form.roster.data
    filename = storage.filename or "roster.csv"
    data = storage.read()
    outcome = run_import(data, filename, importer=current_user, apply=False, max_errors=MAX_ERRORS)
    transaction.rollback()
    if not outcome.ok:
        return _upload_page(form, outcome)
    confirm = ConfirmImportForm(token=store_upload(current_user, session, data, filename))
    return _upload_page(form, outcome, preview=_preview(outcome), confirm=confirm)


def _upload_page(
    form: UploadForm,
    outcome: ImportOutcome | None = None,
    *,
    preview: dict | None = None,
    confirm: ConfirmImportForm | None = None,
) -> str:
    """The upload page: the form and its guide, then a file's problems or its preview."""
    errors: list = []
    if outcome is not None and not outcome.ok:
        errors = [as_written(error, outcome.written) for error in outcome.errors]
        form.roster.errors = [
            _("Il file contiene errori: non è stato importato nulla. Vedi l'elenco qui sotto.")
        ]
    return render_template(
        "staff/upload.html",
        form=form,
        errors=errors,
        outcome=outcome,
        preview=preview,
        confirm=confirm,
        columns=column_guide(),
    )


@bp.get("/importa/modello.csv")
@require(Capability.MANAGE_STAFF)
def upload_template() -> Response:
    """An empty roster to fill in: the Italian header row, ``;``-separated as Excel saves it."""
    body = "\ufeff" + ";".join(TEMPLATE_HEADER) + "\r\n"
    return Response(
        body.encode(),
        content_type=CSV_MIMETYPE,
        headers={
            "Content-Disposition": 'attachment; filename="modello-personale.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/importa/conferma")
@require(Capability.MANAGE_STAFF)
def confirm_upload() -> str | BaseResponse:
    """Apply a previewed upload (stored server-side, bound to this user's session)."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    stored = load_upload(current_user, session, form.token.data)
    if stored is None:
        transaction.rollback()
        flash(_("Il file caricato non è più disponibile: caricalo di nuovo."), "warning")
        return redirect(url_for("staff.upload"))
    data, filename = stored.data, stored.filename
    outcome = run_import(data, filename, importer=current_user, apply=True, max_errors=MAX_ERRORS)
    if not outcome.ok:  # something changed since the preview (an e-mail taken meanwhile)
        transaction.rollback()  # nothing of the import; the upload is forgotten
        drop_upload(current_user, session, form.token.data)
        return _upload_page(UploadForm(), outcome)
    drop_upload(current_user, session, form.token.data)  # in the import's transaction: applied once
    return render_template("staff/import_done.html", result=outcome.result)


# Staff list and person ------------------------------------------------------


@bp.get("/")
@require(Capability.MANAGE_STAFF)
def staff_list() -> str:
    """Staff of the authorities in the reader's scope, searchable and filtered."""
    search = request.args.get("q", "").strip()[:100]
    authority_code = request.args.get("authority", "").strip()[:32]
    category = request.args.get("category", "")
    status = request.args.get("status", "")
    today = today_in_italy()
    query = (
        select(StaffMember)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .options(contains_eager(StaffMember.authority))
        .where(authority_scope_clause(current_user))
        .order_by(StaffMember.last_name, StaffMember.first_name, StaffMember.id)
    )
    if search:
        pattern = contains_pattern(search.lower())
        first_last = func.lower(StaffMember.first_name + " " + StaffMember.last_name)
        last_first = func.lower(StaffMember.last_name + " " + StaffMember.first_name)
        query = query.where(
            or_(
                StaffMember.codice_fiscale == search.upper(),
                first_last.like(pattern, escape=LIKE_ESCAPE),
                last_first.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    if authority_code:
        query = query.where(
            or_(
                Authority.code == authority_code,
                func.lower(Authority.ipa_code) == authority_code.lower(),
            )
        )
    if category:
        try:
            query = query.where(StaffMember.category == StaffCategory(category))
        except ValueError:
            abort(400, description=_("Categoria sconosciuta: %(value)s.", value=category))
    if status == "active":
        query = query.where(StaffMember.still_employed(today))
    elif status == "left":
        query = query.where(StaffMember.has_left(today))
    elif status:
        abort(400, description=_("Stato sconosciuto: %(value)s.", value=status))
    page = paginate(query, per_page=50, max_per_page=200)  # a page past the last is a 404
    return render_template(
        "staff/list.html",
        page=page,
        search=search,
        authority_code=authority_code,
        category=category,
        status=status,
        categories=CATEGORY_LABELS,
        category_names=CATEGORY_NAMES,
        today=today,
    )


def _staff_in_scope(staff_id: int) -> StaffMember:
    staff = db.session.get(StaffMember, staff_id)
    if staff is None:
        abort(404)
    require_authority_in_scope(current_user, staff.authority)
    return staff


def _published_courses() -> list[Course]:
    return list(
        db.session.scalars(
            select(Course)
            .where(Course.retired_at.is_(None), Course.status == CourseStatus.PUBLISHED)
            .order_by(Course.title)
        )
    )


def _enrolments_with_progress(staff: StaffMember) -> list[dict]:
    """The person's enrolments with course, progress and completion (four queries)."""
    rows = db.session.execute(
        select(Enrolment, Course)
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.staff_id == staff.id)
        .order_by(Course.title)
    ).all()
    progress = {e.course.id: e for e in progress_on(staff.user_id, [c for _e, c in rows])}
    entries = []
    for enrolment, course in rows:
        completed_at = progress[course.id].completed_at
        pct = progress[course.id].progress_pct
        entries.append(
            {
                "enrolment": enrolment,
                "course": course,
                "progress_pct": 100 if completed_at else min(pct, 100),
                "completed_on": rome_date(completed_at) if completed_at else None,
                "overdue": completed_at is None
                and enrolment.due_on is not None
                and enrolment.due_on < today_in_italy(),
            }
        )
    return entries


@bp.get("/<int:staff_id>")
@require(Capability.MANAGE_STAFF)
def person(staff_id: int) -> str:
    """One person's record and enrolments; outside the reader's scope, 404."""
    staff = _staff_in_scope(staff_id)
    form = EnrolPersonForm()
    form.course.choices = [SelectChoice(c.id, c.title) for c in _published_courses()]
    return _render_person(staff, form)


def _render_person(staff: StaffMember, form: EnrolPersonForm) -> str:
    account = db.session.get(User, staff.user_id) if staff.user_id else None
    return render_template(
        "staff/person.html",
        staff=staff,
        account=account,
        enrolments=_enrolments_with_progress(staff),
        form=form,
        action_form=ActionForm(),
        category_names=CATEGORY_NAMES,
        today=today_in_italy(),
    )


@bp.post("/<int:staff_id>/iscrivi")
@require(Capability.ENROL)
def enrol_person(staff_id: int) -> str | tuple[str, int] | BaseResponse:
    """Enrol one person in a published course."""
    staff = _staff_in_scope(staff_id)
    form = EnrolPersonForm()
    form.course.choices = [SelectChoice(c.id, c.title) for c in _published_courses()]
    if not form.validate_on_submit():
        return _render_person(staff, form), 400
    if staff.left_on is not None and staff.has_left(today_in_italy()):
        # enrol() passes over people who have left; say so rather than "already enrolled".
        flash(
            _(
                "Non è possibile iscrivere chi ha lasciato il servizio (dal %(day)s).",
                day=staff.left_on.strftime("%d/%m/%Y"),
            ),
            "warning",
        )
        return redirect(url_for("staff.person", staff_id=staff.id))
    course = db.session.get(Course, form.course.data)
    if course is None:  # a choice validated above, then deleted meanwhile
        abort(404)
    result = enrol(
        course, staff_ids=[staff.id], due_on=form.due_on.data, by=current_user, standing=False
    )
    if result.enrolled:
        flash(_("Iscrizione a «%(course)s» registrata.", course=course.title), "success")
    else:
        flash(_("La persona era già iscritta a «%(course)s».", course=course.title), "info")
    return redirect(url_for("staff.person", staff_id=staff.id))


@bp.post("/<int:staff_id>/iscrizioni/<int:enrolment_id>/rimuovi")
@require(Capability.ENROL)
def unenrol(staff_id: int, enrolment_id: int) -> BaseResponse:
    """Remove one enrolment of a person in scope."""
    staff = _staff_in_scope(staff_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.id == enrolment_id, Enrolment.staff_id == staff.id)
    )
    if enrolment is None:
        abort(404)
    title = enrolment.course.title
    remove_enrolment(enrolment, by=current_user)
    flash(_("Iscrizione a «%(course)s» rimossa.", course=title), "success")
    return redirect(url_for("staff.person", staff_id=staff.id))


# Enrolment by authority or region ------------------------------------------------


def _enrol_form() -> EnrolGroupForm:
    form = EnrolGroupForm()
    form.course.choices = [SelectChoice(c.id, c.title) for c in _published_courses()]
    form.target.choices = [
        *(
            SelectChoice(
                f"r:{target.id}",
                _("Tutta la regione %(name)s (%(code)s)", name=target.name, code=target.code),
            )
            for target in enrolment_regions(current_user)
        ),
        *(
            SelectChoice(f"a:{target.id}", f"{target.name} ({target.code})")
            for target in enrolment_authorities(current_user)
        ),
    ]
    return form


def _resolve_target(value: str) -> tuple[list[int], list[int]]:
    """(authority ids, region ids) for a target value; 404 outside the reader's scope."""
    kind, _sep, raw = (value or "").partition(":")
    if not raw.isdigit():
        abort(404)
    if kind == "a":
        authority = require_authority_in_scope(current_user, db.session.get(Authority, int(raw)))
        return [authority.id], []
    if kind == "r":
        region = require_region_in_scope(current_user, db.session.get(Region, int(raw)))
        return [], [region.id]
    raise NotFound


@bp.route("/iscrizioni", methods=["GET", "POST"])
@require(Capability.ENROL)
def enrolments() -> tuple[str, int] | BaseResponse:
    """Enrol an authority or a region in a course; the standing rules in scope."""
    form = _enrol_form()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            authority_ids, region_ids = _resolve_target(form.target.data)
            course = db.session.get(Course, form.course.data)
            if course is None:  # a choice validated above, then deleted meanwhile
                abort(404)
            result = enrol(
                course,
                authority_ids=authority_ids,
                region_ids=region_ids,
                category=StaffCategory(form.category.data) if form.category.data else None,
                due_on=form.due_on.data,
                by=current_user,
                standing=form.standing.data,
            )
            message = _("%(n)d iscritti, %(m)d già iscritti.", n=result.enrolled, m=result.already)
            if result.rules_added:
                message += " " + _("Regola di iscrizione permanente creata.")
            flash(message, "success")
            return redirect(url_for("staff.enrolments"))
        status = 400
    rules = db.session.execute(rules_in_scope(current_user)).all()
    return render_template(
        "staff/enrolments.html",
        form=form,
        rules=rules,
        action_form=ActionForm(),
        categories=CATEGORY_LABELS,
    ), status


@bp.post("/iscrizioni/regole/<int:rule_id>/rimuovi")
@require(Capability.ENROL)
def remove_rule(rule_id: int) -> BaseResponse:
    """Delete a standing rule; the enrolments it made stay."""
    if not ActionForm().validate_on_submit():
        abort(400)
    rule = db.session.scalar(rules_in_scope(current_user).where(EnrolmentRule.id == rule_id))
    if rule is None:
        abort(404)
    delete_rule(rule, by=current_user)
    flash(_("Regola rimossa; le iscrizioni già fatte restano."), "success")
    return redirect(url_for("staff.enrolments"))


# One-time links ---------------------------------------------------------------------

#: The two formats of the links download, with their content types.
LINK_FORMATS = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE}


@bp.get("/link")
@require(Capability.MANAGE_STAFF)
def links_page() -> str:
    """How many people wait for a set-password link, and the form that issues them."""
    return render_template(
        "staff/links.html",
        waiting=count_waiting(current_user, today_in_italy()),
        form=ActionForm(),
        hours=current_app.config["PASSWORD_TOKEN_HOURS"],
    )


@bp.post("/link")
@require(Capability.MANAGE_STAFF)
def issue_links_download() -> Response:
    """Issue new links for everyone waiting in scope, and answer with them as a file.

    A POST: issuing cancels each person's earlier unused links. The links are
    issued in the request's transaction, committed before the file is sent.
    """
    if not ActionForm().validate_on_submit():
        abort(400)
    kind = request.form.get("format", "csv")
    if kind not in LINK_FORMATS:
        abort(400, description=_("Formato sconosciuto: %(value)s.", value=kind))
    links = issue_links(current_user, today_in_italy())
    rows = (link.cells() for link in links)
    body = (
        csv_chunks(LINK_COLUMNS, rows)
        if kind == "csv"
        else xlsx_chunks(LINK_COLUMNS, rows, title="link")
    )
    return Response(
        stream_with_context(body),
        content_type=LINK_FORMATS[kind],
        headers={
            "Content-Disposition": f'attachment; filename="link-password.{kind}"',
            "Cache-Control": "no-store",
        },
    )
