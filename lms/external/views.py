"""A learner's training done elsewhere: their list, the declaration form, withdrawing, the PDF.

Thin views: load, check the person and the object, validate, call one operation
of :mod:`lms.external.operations`. Someone else's record, or an id that names
nothing, is a 404 alike.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.permissions import Capability, authority_in_scope, can, require
from lms.core.types import today_in_italy
from lms.extensions import db
from lms.external.blueprint import bp
from lms.external.forms import ActionForm, DeclarationForm
from lms.external.models import ExternalTraining
from lms.external.operations import (
    Declaration,
    TrainingError,
    declarant,
    declare,
    is_own,
    withdraw,
)
from lms.external.queries import own_trainings, training_by_id
from lms.external.values import PROVIDER_SUGGESTIONS
from lms.register.models import StaffMember


@bp.get("/")
@require(Capability.LEARN)
def mine() -> str:
    """The page "La mia formazione esterna": one's records, their status, why refused."""
    staff = db.session.scalar(select(StaffMember).where(StaffMember.user_id == current_user.id))
    return render_template(
        "external/mine.html",
        staff=staff,
        trainings=own_trainings(staff) if staff is not None else [],
        may_declare=staff is not None and not staff.has_left(today_in_italy()),
        form=ActionForm(),
    )


@bp.route("/dichiara", methods=["GET", "POST"])
@require(Capability.LEARN)
def declare_training() -> str | tuple[str, int] | BaseResponse:
    """Declare a course taken elsewhere; it waits for the HR manager's approval."""
    staff = declarant(current_user, today_in_italy())
    if staff is None:
        abort(
            403,
            description=_(
                "Può dichiarare una formazione esterna solo chi fa parte del personale "
                "di un ente registrato sulla piattaforma."
            ),
        )
    form = DeclarationForm()
    if not form.validate_on_submit():
        return _declare_page(form), 400 if form.is_submitted() else 200
    completed_on = form.completed_on.data
    if completed_on is None:  # pragma: no cover - InputRequired refused an empty day
        abort(400)
    declaration = Declaration(
        title=form.title.data,
        provider=form.provider.data,
        completed_on=completed_on,
        hours=form.parsed_hours,
        certificate=form.certificate_data,
        certificate_filename=form.certificate_filename,
    )
    try:
        declare(staff, declaration, user=current_user)
    except TrainingError as error:
        return _declare_page(form, problem=str(error)), 409
    flash(
        _("Formazione dichiarata: conterà nelle tue ore quando sarà approvata."),
        "success",
    )
    return redirect(url_for("external.mine"))


def _declare_page(form: DeclarationForm, problem: str | None = None) -> str:
    return render_template(
        "external/declare.html",
        form=form,
        problem=problem,
        providers=PROVIDER_SUGGESTIONS,
        today=today_in_italy(),
    )


def _own(training_id: int) -> ExternalTraining:
    """*training_id* if it is the signed-in person's own record; otherwise a 404."""
    training = training_by_id(training_id)
    if training is None or not is_own(current_user, training):
        abort(404)
    return training


@bp.post("/<int:training_id>/ritira")
@require(Capability.LEARN)
def withdraw_training(training_id: int) -> BaseResponse:
    """Delete one's own declaration while it is still pending."""
    training = _own(training_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        withdraw(training, user=current_user)
    except TrainingError as error:
        flash(str(error), "warning")
        return redirect(url_for("external.mine"))
    flash(_("Dichiarazione ritirata."), "success")
    return redirect(url_for("external.mine"))


@bp.get("/<int:training_id>/attestato.pdf")
@require(Capability.LEARN)
def certificate(training_id: int) -> Response:
    """The certificate attached to a record: for its person, or their HR manager."""
    training = training_by_id(training_id)
    if training is None or training.certificate_filename is None:
        abort(404)
    allowed = is_own(current_user, training) or (
        can(current_user, Capability.MANAGE_STAFF)
        and authority_in_scope(current_user, training.staff.authority)
    )
    if not allowed:
        abort(404)
    data = training.certificate_pdf
    if data is None:  # pragma: no cover - the name and the file are set together
        abort(404)
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="attestato-{training.id}.pdf"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
