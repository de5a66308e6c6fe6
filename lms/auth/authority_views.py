"""Browse the register of authorities (``/enti/``): HR managers within their scope, admins.

The register's pages live with the scopes (auth), not in the register: the
register is below accounts, and every one of these pages is the register as a
reader's scope shows it.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from lms.auth.permissions import Capability, require, require_authority_in_scope
from lms.auth.scope_queries import authorities_in_scope, regions_in_scope
from lms.core.sql import paginate
from lms.extensions import db
from lms.register.models import Authority, AuthorityKind

bp = Blueprint("register", __name__, url_prefix="/enti")

KIND_LABELS = {
    AuthorityKind.REGIONE: _l("Regione"),
    AuthorityKind.PROVINCIA: _l("Provincia"),
    AuthorityKind.CITTA_METROPOLITANA: _l("Città metropolitana"),
    AuthorityKind.COMUNE: _l("Comune"),
    AuthorityKind.UNIONE_DI_COMUNI: _l("Unione di comuni"),
    AuthorityKind.ALTRO: _l("Altro ente"),
}


@bp.get("/")
@require(Capability.MANAGE_STAFF)
def authorities() -> str:
    """Authorities in the reader's scope, searchable by name or code."""
    search = request.args.get("q", "").strip()[:100]
    kind_value = request.args.get("kind", "")
    region_code = request.args.get("region", "")
    try:
        kind = AuthorityKind(kind_value) if kind_value else None
    except ValueError:
        abort(400, description=_("Tipo di ente sconosciuto: %(value)s.", value=kind_value))
    page = paginate(
        authorities_in_scope(current_user, search=search, kind=kind, region_code=region_code),
        per_page=50,
        max_per_page=200,  # a page past the last is a 404
    )
    return render_template(
        "register/authorities.html",
        page=page,
        search=search,
        kind=kind_value,
        region_code=region_code,
        regions=[(region.code, region.name) for region in regions_in_scope(current_user)],
        kinds=KIND_LABELS,
    )


@bp.get("/<code>")
@require(Capability.MANAGE_STAFF)
def authority(code: str) -> str:
    """One authority; outside the reader's scope it does not exist (404)."""
    found = db.session.scalar(select(Authority).where(Authority.code == code))
    found = require_authority_in_scope(current_user, found)
    return render_template("register/authority.html", authority=found, kinds=KIND_LABELS)
