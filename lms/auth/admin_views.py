"""Administrators' view of the accounts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from lms.auth.models import Role, User
from lms.auth.permissions import Capability, require
from lms.core.sql import LIKE_ESCAPE, contains_pattern, paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/utenti")
@require(Capability.MANAGE_USERS)
def users() -> str:
    """Every account, searchable by name or e-mail and filterable by role."""
    search = request.args.get("q", "").strip()[:100]
    role_value = request.args.get("role", "")
    query = (
        select(User)
        .options(selectinload(User.scopes))
        .order_by(User.last_name, User.first_name, User.email)
    )
    if role_value:
        try:
            query = query.where(User.role == Role(role_value))
        except ValueError:
            abort(400, description=_("Ruolo sconosciuto: %(value)s.", value=role_value))
    if search:
        pattern = contains_pattern(search.lower())
        query = query.where(
            or_(
                User.email.like(pattern, escape=LIKE_ESCAPE),
                func.lower(User.first_name + " " + User.last_name).like(
                    pattern, escape=LIKE_ESCAPE
                ),
            )
        )
    page = paginate(query, per_page=50, max_per_page=200)  # a page past the last is a 404
    return render_template("admin/users.html", page=page, search=search, role=role_value)
