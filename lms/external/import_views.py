"""The bulk import of training done elsewhere: check and preview, then confirm.

Two steps, as the roster's upload: the file is checked whole and, when it has no
problem, a preview gives the rows to load, the rows skipped (already loaded) and
the counts per authority; nothing is written until the HR manager confirms.
Rows loaded are approved at once and count in official hours reports, so the
count is worth a look first (a file sent twice, a wrong year). The previewed
file waits in the database, bound to the uploader's session
(:mod:`lms.enrolments.uploads`), and is checked again, whole, on confirmation.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.permissions import Capability, require
from lms.core import transaction
from lms.core.export import CSV_MIMETYPE
from lms.core.tabular import RowError, TableError
from lms.core.types import today_in_italy
from lms.enrolments.uploads import drop_upload, load_upload, store_upload
from lms.external.blueprint import bp
from lms.external.forms import ConfirmImportForm, UploadForm
from lms.external.imports import COLUMNS, EXAMPLE_ROW, TEMPLATE_HEADER, ImportOutcome, run_import
from lms.external.queries import people_in_scope

#: How many problems of a bad file the page lists (it counts the rest).
MAX_ERRORS = 200
#: How many rows to load the preview shows.
PREVIEW_ROWS = 50
#: The name the stored upload is kept under (it never names a person).
UPLOAD_NAME = "formazione-esterna.csv"


def _as_written(error: RowError | TableError, outcome: ImportOutcome) -> RowError | TableError:
    """*error* naming its column as the file's header writes it ("Titolo")."""
    if isinstance(error, RowError) and isinstance(error.column, str):
        written = outcome.written.get(error.column)
        if written:
            return RowError(error.line, written, error.reason)
    return error


@bp.route("/importa", methods=["GET", "POST"])
@require(Capability.MANAGE_STAFF)
def import_upload() -> str | tuple[str, int]:
    """Upload a CSV: every bad row listed, or a preview to confirm."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form), 400 if form.is_submitted() else 200
    storage = form.file.data
    try:
        data = storage.read()
    finally:
        storage.close()
    outcome = run_import(
        data, importer=current_user, today=today_in_italy(), apply=False, max_errors=MAX_ERRORS
    )
    if not outcome.ok:
        return _upload_page(form, outcome), 400
    confirm = None
    if outcome.new:
        confirm = ConfirmImportForm(token=store_upload(current_user, session, data, UPLOAD_NAME))
    return _upload_page(form, outcome, confirm=confirm)


def _upload_page(
    form: UploadForm,
    outcome: ImportOutcome | None = None,
    *,
    confirm: ConfirmImportForm | None = None,
) -> str:
    errors: list[RowError | TableError] = []
    if outcome is not None and not outcome.ok:
        errors = [_as_written(error, outcome) for error in outcome.errors]
        form.file.errors = [
            _("Il file contiene errori: non è stato importato nulla. Vedi l'elenco qui sotto.")
        ]
    preview = outcome.new[:PREVIEW_ROWS] if outcome is not None and outcome.ok else []
    return render_template(
        "external/upload.html",
        form=form,
        errors=errors,
        outcome=outcome,
        preview=preview,
        people=people_in_scope(current_user, (row.staff_id for row in preview)),
        confirm=confirm,
        columns=COLUMNS,
        example=EXAMPLE_ROW,
    )


@bp.post("/importa/conferma")
@require(Capability.MANAGE_STAFF)
def import_confirm() -> str | tuple[str, int] | BaseResponse:
    """Load a previewed file (stored server-side, bound to this session), checked again."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    stored = load_upload(current_user, session, form.token.data)
    if stored is None:
        transaction.rollback()
        flash(_("Il file caricato non è più disponibile: caricalo di nuovo."), "warning")
        return redirect(url_for("external.import_upload"))
    data = stored.data
    outcome = run_import(
        data, importer=current_user, today=today_in_italy(), apply=True, max_errors=MAX_ERRORS
    )
    if not outcome.ok:  # something changed since the preview (a person moved away)
        transaction.rollback()  # nothing of the import; the stale upload is forgotten
        drop_upload(current_user, session, form.token.data)
        return _upload_page(UploadForm(), outcome)
    drop_upload(current_user, session, form.token.data)  # in the import's transaction
    return render_template("external/import_done.html", outcome=outcome)


@bp.get("/importa/modello.csv")
@require(Capability.MANAGE_STAFF)
def import_template() -> Response:
    """An empty file to fill in: the header row, ``;``-separated as Excel saves it."""
    body = "\ufeff" + ";".join(TEMPLATE_HEADER) + "\r\n"
    return Response(
        body.encode(),
        content_type=CSV_MIMETYPE,
        headers={
            "Content-Disposition": 'attachment; filename="modello-formazione-esterna.csv"',
            "Cache-Control": "no-store",
        },
    )
