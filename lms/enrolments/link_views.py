"""Set-password links for the staff in scope: what a download does, and the POST issuing them."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.auth.permissions import Capability, require
from lms.core.downloads import FORMATS, table_download
from lms.core.people_xlsx import Column, Kind, PeopleSheet
from lms.core.types import today_in_italy
from lms.enrolments.blueprint import bp
from lms.enrolments.forms import ActionForm
from lms.enrolments.links import LINK_COLUMNS, count_waiting, issue_links


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
    if kind not in FORMATS:
        abort(400, description=_("Formato sconosciuto: %(value)s.", value=kind))
    links = issue_links(current_user, today_in_italy())
    sheet = PeopleSheet(
        _("Link per impostare la password"),
        LINK_SHEET_COLUMNS,
        [
            (_("Link creati"), len(links)),
            (_("Validità"), _("una sola volta, per %(hours)d ore", hours=_hours())),
            (_("Attenzione"), _("Consegna a ciascuno il proprio link in modo riservato.")),
        ],
        sheet_name=_("Link"),
    )
    return table_download(
        "link-password", kind, LINK_COLUMNS, (link.cells() for link in links), sheet=sheet
    )


#: The XLSX's columns, one per column of :data:`LINK_COLUMNS`.
LINK_SHEET_COLUMNS = (
    Column(_l("Codice fiscale"), Kind.CODE, width=19),
    Column(_l("Cognome")),
    Column(_l("Nome")),
    Column(_l("E-mail")),
    Column(_l("Codice ente"), Kind.CODE),
    Column(_l("Link"), width=60),
    Column(_l("Scade il"), Kind.MOMENT),
)


def _hours() -> int:
    return int(current_app.config["PASSWORD_TOKEN_HOURS"])
