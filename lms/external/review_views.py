"""HR managers and administrators: the queue of declarations, a decision, the records.

Every record is resolved and checked against the reader's scope: one of another
area is a 404, like one that does not exist (the page, its certificate, its
decision). One's own declaration is shown but never decided by oneself (403).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.permissions import Capability, require, require_authority_in_scope
from lms.core.downloads import table_download
from lms.core.people_xlsx import Column, Kind, PeopleSheet
from lms.core.sql import MAX_ROW_ID, paginate
from lms.extensions import db
from lms.external.blueprint import bp
from lms.external.forms import ActionForm, RefuseForm
from lms.external.models import ExternalTraining, TrainingStatus
from lms.external.operations import TrainingError, approve, is_own, may_decide, refuse
from lms.external.queries import (
    RECORD_COLUMNS,
    queue,
    record_rows,
    records,
    training_by_id,
)
from lms.register.models import StaffMember

PER_PAGE = 25
MAX_PER_PAGE = 100
FORMATS = ("csv", "xlsx")
#: The years the records' filter accepts (the declarations' own range, and room after).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _in_scope(training_id: int) -> ExternalTraining:
    """The record *training_id* if its person is in the reader's scope; otherwise a 404."""
    training = training_by_id(training_id)
    if training is None:
        abort(404)
    require_authority_in_scope(current_user, training.staff.authority)
    return training


@bp.get("/richieste")
@require(Capability.MANAGE_STAFF)
def review_queue() -> str:
    """Declarations waiting for a decision, in the reader's scope, oldest first."""
    page = paginate(queue(current_user), per_page=PER_PAGE, max_per_page=MAX_PER_PAGE)
    return render_template("external/queue.html", page=page)


@bp.get("/richieste/<int:training_id>")
@require(Capability.MANAGE_STAFF)
def review(training_id: int) -> str:
    """One record: what was declared, the certificate, the decision forms."""
    return _review_page(_in_scope(training_id))


def _review_page(training: ExternalTraining, refuse_form: RefuseForm | None = None) -> str:
    return render_template(
        "external/review.html",
        training=training,
        may_decide=may_decide(current_user, training),
        own=is_own(current_user, training),
        approve_form=ActionForm(),
        refuse_form=refuse_form or RefuseForm(),
    )


def _check_decider(training: ExternalTraining) -> None:
    if is_own(current_user, training):
        abort(403, description=_("Non puoi valutare una tua dichiarazione."))


@bp.post("/richieste/<int:training_id>/approva")
@require(Capability.MANAGE_STAFF)
def approve_training(training_id: int) -> BaseResponse:
    """Approve a record: its hours count in the person's year."""
    training = _in_scope(training_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    _check_decider(training)
    try:
        approve(training, actor=current_user)
    except TrainingError as error:
        flash(str(error), "warning")
        return redirect(url_for("external.review", training_id=training.id))
    flash(_("Formazione approvata: le sue ore contano da ora."), "success")
    return redirect(url_for("external.review_queue"))


@bp.post("/richieste/<int:training_id>/rifiuta")
@require(Capability.MANAGE_STAFF)
def refuse_training(training_id: int) -> str | tuple[str, int] | BaseResponse:
    """Refuse a record, with the reason the person will read."""
    training = _in_scope(training_id)
    form = RefuseForm()
    valid = form.validate_on_submit()
    if "csrf_token" in form.errors:
        abort(400)
    _check_decider(training)
    if not valid:
        return _review_page(training, refuse_form=form), 400
    try:
        refuse(training, actor=current_user, reason=form.reason.data)
    except TrainingError as error:
        flash(str(error), "warning")
        return redirect(url_for("external.review", training_id=training.id))
    flash(_("Formazione rifiutata: la persona vedrà il motivo."), "success")
    return redirect(url_for("external.review_queue"))


@dataclass(frozen=True)
class RecordFilters:
    """The records list's filters: a status, a year of completion, one person."""

    status: TrainingStatus | None = None
    year: int | None = None
    staff: StaffMember | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as the query string writes them (for links and downloads)."""
        args: dict[str, str] = {}
        if self.status is not None:
            args["status"] = self.status.value
        if self.year is not None:
            args["year"] = str(self.year)
        if self.staff is not None:
            args["persona"] = str(self.staff.id)
        return args

    def query(self) -> Select[ExternalTraining]:
        """The reader's records under these filters."""
        return records(current_user, status=self.status, year=self.year, staff=self.staff)


def _record_filters() -> RecordFilters:
    """The records' filters from the query string; 400 for a value that means nothing.

    A person (``persona``, a staff id) outside the reader's scope is a 404, like
    one that does not exist.
    """
    status_text = request.args.get("status", "").strip()
    status = None
    if status_text:
        try:
            status = TrainingStatus(status_text)
        except ValueError:
            abort(400, description=_("Stato sconosciuto: %(value)s.", value=status_text[:40]))
    year_text = request.args.get("year", "").strip()
    year = None
    if year_text:
        if not (
            year_text.isascii()
            and year_text.isdigit()
            and FIRST_YEAR <= int(year_text) <= LAST_YEAR
        ):
            abort(400, description=_("Anno non valido: %(value)s.", value=year_text[:10]))
        year = int(year_text)
    staff = None
    staff_text = request.args.get("persona", "").strip()
    if staff_text:
        staff_id = int(staff_text) if staff_text.isascii() and staff_text.isdigit() else 0
        staff = db.session.get(StaffMember, staff_id) if 0 < staff_id <= MAX_ROW_ID else None
        if staff is None:
            abort(404)
        require_authority_in_scope(current_user, staff.authority)
    return RecordFilters(status, year, staff)


@bp.get("/registro")
@require(Capability.MANAGE_STAFF)
def record_list() -> str:
    """Every record of the reader's scope (declared and imported), filtered, a page at a time."""
    filters = _record_filters()
    page = paginate(filters.query(), per_page=PER_PAGE, max_per_page=MAX_PER_PAGE)
    return render_template(
        "external/records.html", page=page, filters=filters, args=filters.query_args()
    )


@bp.get("/registro.<fmt>")
@require(Capability.MANAGE_STAFF)
def record_download(fmt: str) -> Response:
    """The records of the list's filters as CSV or XLSX (text cells escaped)."""
    if fmt not in FORMATS:
        abort(404)
    filters = _record_filters()
    return table_download(
        "formazione-esterna",
        fmt,
        RECORD_COLUMNS,
        record_rows(filters.query()),
        sheet=_record_sheet(filters),
    )


TRAINING_STATUS_LABELS = {
    TrainingStatus.PENDING.value: _l("In attesa di approvazione"),
    TrainingStatus.APPROVED.value: _l("Approvata"),
    TrainingStatus.REFUSED.value: _l("Rifiutata"),
}
TRAINING_SOURCE_LABELS = {
    "declared": _l("Dichiarata dalla persona"),
    "imported": _l("Importata da file"),
}
#: The XLSX's columns, one per column of :data:`RECORD_COLUMNS`.
RECORD_SHEET_COLUMNS = (
    Column(_l("N."), Kind.NUMBER),
    Column(_l("Codice fiscale"), Kind.CODE, width=19),
    Column(_l("Cognome")),
    Column(_l("Nome")),
    Column(_l("Codice ente"), Kind.CODE),
    Column(_l("Corso"), wrap=True, width=40),
    Column(_l("Ente erogatore"), wrap=True, width=30),
    Column(_l("Conclusa il"), Kind.DATE),
    Column(_l("Ore"), Kind.DECIMAL),
    Column(_l("Stato"), labels=TRAINING_STATUS_LABELS),
    Column(_l("Provenienza"), labels=TRAINING_SOURCE_LABELS),
    Column(_l("Dichiarata il"), Kind.DATE),
    Column(_l("Decisa il"), Kind.DATE),
    Column(_l("Motivo del rifiuto"), wrap=True, width=40),
)


def _record_sheet(filters: RecordFilters) -> PeopleSheet:
    """The XLSX for people: the list's filters above the records."""
    status = str(TRAINING_STATUS_LABELS[filters.status.value]) if filters.status else _("Tutti")
    about: list[tuple[str, object]] = [
        (_("Stato"), status),
        (_("Anno di conclusione"), filters.year if filters.year is not None else _("Tutti")),
    ]
    if filters.staff is not None:
        about.append((_("Persona"), filters.staff.full_name))
    return PeopleSheet(
        _("Formazione esterna"), RECORD_SHEET_COLUMNS, about, sheet_name=_("Formazione esterna")
    )
