"""The roster upload: every bad row listed, or a preview to confirm, then the import."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.permissions import Capability, require
from lms.core import transaction
from lms.core.export import CSV_MIMETYPE
from lms.enrolments.blueprint import bp
from lms.enrolments.forms import CATEGORY_NAMES, ConfirmImportForm, UploadForm
from lms.enrolments.import_flow import ImportOutcome, as_written, run_import
from lms.enrolments.roster import TEMPLATE_HEADER, column_guide
from lms.enrolments.uploads import drop_upload, load_upload, store_upload
from lms.extensions import db
from lms.register.models import Authority, StaffMember

#: How many new and updated people the preview lists.
PREVIEW_ROWS = 50
#: How many problems of a bad file the page lists (it counts the rest).
MAX_ERRORS = 200


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
