"""A person's page, the changes: edit their record, issue their set-password link.

Both are POSTs with the CSRF token, on a person in the reader's scope (404
otherwise, as for the page). The rules are the import's and the links' own
(:mod:`lms.enrolments.person_edit`, :func:`lms.enrolments.links.issue_links`).
"""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.links import link_message
from lms.auth.models import User
from lms.auth.permissions import Capability, require
from lms.core.mail import Outbox, mail_configured
from lms.core.transaction import pending
from lms.core.types import ROME, today_in_italy
from lms.enrolments.blueprint import bp
from lms.enrolments.forms import ActionForm, PersonEditForm
from lms.enrolments.links import issue_links
from lms.enrolments.person_edit import FORM_FIELDS, apply_edit, plan_edit
from lms.enrolments.views import _staff_in_scope, link_refusal, render_person
from lms.extensions import db


@bp.post("/<int:staff_id>/modifica")
@require(Capability.MANAGE_STAFF)
def edit_person(staff_id: int) -> str | tuple[str, int] | BaseResponse:
    """Change a person's record with the import's checks; every error on its field, 400.

    An edit that ends the person's access (a leaving day of today or earlier)
    first shows what it will do; the confirmation posts the same values again
    with ``confirm_leave=1``.
    """
    staff = _staff_in_scope(staff_id)
    form = PersonEditForm()
    if not form.validate_on_submit():  # the CSRF token: the fields have no validators
        abort(400)
    values = {name: form[name].data or "" for name in FORM_FIELDS}
    plan = plan_edit(staff, values, editor=current_user, today=today_in_italy())
    if not plan.ok:
        general: list[str] = []
        for name, messages in plan.errors.items():
            if name:
                form[name].errors = [str(message) for message in messages]
            else:
                general.extend(str(message) for message in messages)
        return render_person(staff, edit_form=form, edit_errors=general), 400
    if not plan.changed:
        flash(_("Nessuna modifica: i dati erano già questi."), "info")
        return redirect(url_for("staff.person", staff_id=staff.id))
    if plan.leaves and form.confirm_leave.data != "1":
        return render_person(staff, edit_form=form, leave_plan=plan)
    name = staff.full_name
    outcome = apply_edit(plan, editor=current_user)
    flash(_("Dati di %(name)s aggiornati.", name=name), "success")
    if plan.leaves:
        flash(_("Ha lasciato il servizio: il suo account non può più accedere."), "info")
    if outcome.result is not None and outcome.result.enrolled_by_rules:
        flash(
            _(
                "Iscrizioni dalle regole permanenti: %(n)d.",
                n=outcome.result.enrolled_by_rules,
            ),
            "info",
        )
    return redirect(url_for("staff.person", staff_id=staff.id))


@bp.post("/<int:staff_id>/link")
@require(Capability.MANAGE_STAFF)
def issue_person_link(staff_id: int) -> str | tuple[str, int] | BaseResponse:
    """A new set-password link for one person: e-mailed when e-mail is set up, else shown once.

    The links' rules (an active learner account of someone still on the staff in
    the reader's scope); unlike the page for many people, it also reaches someone
    who has a password and forgot it. Earlier unused links stop working.
    """
    staff = _staff_in_scope(staff_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    today = today_in_italy()
    links = (
        issue_links(current_user, today, user_ids=[staff.user_id], with_password=True)
        if staff.user_id is not None
        else []
    )
    if not links:
        account = db.session.get(User, staff.user_id) if staff.user_id else None
        reason = link_refusal(staff, account, today) or _(
            "Non è possibile creare un link per questa persona."
        )
        return render_person(staff, link_error=reason), 409
    (link,) = links
    hours = current_app.config["PASSWORD_TOKEN_HOURS"]
    if mail_configured():
        message = link_message(link.email, f"{link.first_name} {link.last_name}", link.link)
        pending("mail", Outbox).messages.append(message)
        flash(
            _(
                "Link inviato a %(email)s: vale %(hours)d ore; "
                "i link precedenti non funzionano più.",
                email=link.email,
                hours=hours,
            ),
            "success",
        )
        return redirect(url_for("staff.person", staff_id=staff.id))
    response = make_response(
        render_template("staff/person_link.html", staff=staff, link=link, hours=hours, rome=ROME)
    )
    response.headers["Cache-Control"] = "no-store"
    return response
