"""HR managers' staff pages: the staff list, a person and their enrolments, group enrolment.

Removing an enrolment or a standing rule goes through a confirmation page.
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from lms.auth.models import Role, User
from lms.auth.permissions import (
    Capability,
    authority_scope_clause,
    require,
    require_authority_in_scope,
    require_region_in_scope,
)
from lms.core.search import fold
from lms.core.sql import LIKE_ESCAPE, MAX_ROW_ID, contains_pattern, paginate
from lms.core.types import ROME, rome_date, today_in_italy
from lms.courses.models import Course, CourseStatus
from lms.courses.queries import progress_on
from lms.enrolments.blueprint import bp
from lms.enrolments.enrol import delete_rule, enrol, remove_enrolment
from lms.enrolments.forms import (
    CATEGORY_LABELS,
    CATEGORY_NAMES,
    ActionForm,
    EnrolGroupForm,
    EnrolPersonForm,
    PersonEditForm,
)
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.enrolments.person_edit import EditPlan, form_values
from lms.enrolments.queries import enrolment_authorities, enrolment_regions, rules_in_scope
from lms.enrolments.reminder_days import (
    ReminderDaysError,
    describe_days,
    describe_rule_days,
    parse_reminder_days,
)
from lms.extensions import db
from lms.register.models import Authority, Region, StaffCategory, StaffMember


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
        # Name then surname or surname then name, accents and case aside
        # ("esposito nicolo" finds Nicolò Esposito): one folded column (lms.core.search).
        query = query.where(
            or_(
                StaffMember.codice_fiscale == search.upper(),
                StaffMember.search_name.like(contains_pattern(fold(search)), escape=LIKE_ESCAPE),
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
    # An id past any INTEGER (the int converter takes any length) is a 404, not a
    # database error.
    staff = db.session.get(StaffMember, staff_id) if staff_id <= MAX_ROW_ID else None
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
    return render_person(_staff_in_scope(staff_id))


def _enrol_person_form() -> EnrolPersonForm:
    form = EnrolPersonForm()
    form.course.choices = [SelectChoice(c.id, c.title) for c in _published_courses()]
    return form


#: Above this many authorities in scope, the edit form asks for a code instead of a choice.
MAX_AUTHORITY_CHOICES = 500


def _authority_choices() -> list[tuple[str, str]] | None:
    """The authorities in the reader's scope as (code, name), or None when there are too many."""
    rows = db.session.execute(
        select(Authority.code, Authority.name)
        .where(authority_scope_clause(current_user))
        .order_by(Authority.name, Authority.code)
        .limit(MAX_AUTHORITY_CHOICES + 1)
    ).all()
    if len(rows) > MAX_AUTHORITY_CHOICES:
        return None
    return [(code, f"{name} ({code})") for code, name in rows]


def render_person(
    staff: StaffMember,
    *,
    form: EnrolPersonForm | None = None,
    edit_form: PersonEditForm | None = None,
    edit_errors: list[str] | None = None,
    leave_plan: EditPlan | None = None,
    link_error: str | None = None,
) -> str:
    """The person page: record, last sign-in, the edit form, the link, enrolments."""
    account = db.session.get(User, staff.user_id) if staff.user_id else None
    today = today_in_italy()
    if edit_form is None:
        edit_form = PersonEditForm(formdata=None, data=form_values(staff))
    return render_template(
        "staff/person.html",
        staff=staff,
        account=account,
        last_login=account.last_login_at.astimezone(ROME)
        if account is not None and account.last_login_at
        else None,
        # When the mail server refused the address for good (the reminders' sender notes it).
        email_refused_at=staff.email_refused_at.astimezone(ROME)
        if staff.email_refused_at is not None
        else None,
        enrolments=_enrolments_with_progress(staff),
        form=form or _enrol_person_form(),
        edit_form=edit_form,
        edit_errors=edit_errors or [],
        authority_choices=_authority_choices(),
        leave_plan=leave_plan,
        link_refusal=link_error or link_refusal(staff, account, today),
        link_error=link_error is not None,
        hours=current_app.config["PASSWORD_TOKEN_HOURS"],
        action_form=ActionForm(),
        category_names=CATEGORY_NAMES,
        today=today,
    )


def link_refusal(staff: StaffMember, account: User | None, today: date) -> str | None:
    """Why no set-password link can be issued for *staff* (None: it can).

    What the page says; issuing itself follows :func:`lms.enrolments.links.issue_links`.
    """
    if staff.has_left(today):
        return _("Ha lasciato il servizio: non si creano link per impostare la password.")
    if account is None:
        return _("Questa persona non ha ancora un account.")
    if account.role is not Role.LEARNER:
        return _("Il link per questo account può crearlo solo un amministratore.")
    if not account.active:
        return _("L'account è disattivato: non si creano link per impostare la password.")
    return None


@bp.post("/<int:staff_id>/iscrivi")
@require(Capability.ENROL)
def enrol_person(staff_id: int) -> str | tuple[str, int] | BaseResponse:
    """Enrol one person in a published course."""
    staff = _staff_in_scope(staff_id)
    form = _enrol_person_form()
    if not form.validate_on_submit():
        return render_person(staff, form=form), 400
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


@bp.route("/<int:staff_id>/iscrizioni/<int:enrolment_id>/rimuovi", methods=["GET", "POST"])
@require(Capability.ENROL)
def unenrol(staff_id: int, enrolment_id: int) -> str | BaseResponse:
    """Remove one enrolment of a person in scope, after a confirmation.

    The GET page only shows what will happen; its form POSTs ``confirm=1``. A
    POST without it (an old page's one-click button) shows the same page and
    removes nothing.
    """
    staff = _staff_in_scope(staff_id)
    enrolment = (
        db.session.scalar(
            select(Enrolment).where(Enrolment.id == enrolment_id, Enrolment.staff_id == staff.id)
        )
        if enrolment_id <= MAX_ROW_ID
        else None
    )
    if enrolment is None:
        abort(404)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        if request.form.get("confirm") == "1":
            title = enrolment.course.title
            remove_enrolment(enrolment, by=current_user)
            flash(_("Iscrizione a «%(course)s» rimossa.", course=title), "success")
            return redirect(url_for("staff.person", staff_id=staff.id))
    entry = next(e for e in _enrolments_with_progress(staff) if e["enrolment"].id == enrolment.id)
    return render_template(
        "staff/confirm_unenrol.html", staff=staff, entry=entry, action_form=ActionForm()
    )


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
                reminder_days=form.parsed_reminder_days,
            )
            message = _("%(n)d iscritti, %(m)d già iscritti.", n=result.enrolled, m=result.already)
            if result.rules_added:
                message += " " + _("Regola di iscrizione permanente creata.")
            flash(message, "success")
            if form.parsed_reminder_days is not None and not result.rules_added:
                flash(
                    _(
                        "La regola permanente per questo corso e questi destinatari c'era già: "
                        "i suoi promemoria non cambiano."
                    ),
                    "info",
                )
            return redirect(url_for("staff.enrolments"))
        status = 400
    rules = db.session.execute(rules_in_scope(current_user)).all()
    return render_template(
        "staff/enrolments.html",
        form=form,
        rules=rules,
        action_form=ActionForm(),
        categories=CATEGORY_LABELS,
        reminder_label=_reminder_label,
        default_reminders=_default_reminders(),
    ), status


def _reminder_label(stored: str | None) -> str:
    """A rule's reminder days as the rules' pages show them."""
    return str(describe_rule_days(stored, str(current_app.config["REMINDER_DAYS"])))


def _default_reminders() -> str:
    """The deployment's reminder days, as the form's help shows them."""
    try:
        return str(describe_days(parse_reminder_days(str(current_app.config["REMINDER_DAYS"]))))
    except ReminderDaysError:  # a bad setting stops the planner, which says why
        return str(current_app.config["REMINDER_DAYS"])


@bp.route("/iscrizioni/regole/<int:rule_id>/rimuovi", methods=["GET", "POST"])
@require(Capability.ENROL)
def remove_rule(rule_id: int) -> str | BaseResponse:
    """Delete a standing rule after a confirmation; the enrolments it made stay.

    As :func:`unenrol`: the GET page shows the rule and what removing it does,
    only a POST with ``confirm=1`` removes it.
    """
    row = (
        db.session.execute(rules_in_scope(current_user).where(EnrolmentRule.id == rule_id)).first()
        if rule_id <= MAX_ROW_ID
        else None
    )
    if row is None:
        abort(404)
    rule = row[0]
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        if request.form.get("confirm") == "1":
            delete_rule(rule, by=current_user)
            flash(_("Regola rimossa; le iscrizioni già fatte restano."), "success")
            return redirect(url_for("staff.enrolments"))
    made = (
        db.session.scalar(
            select(func.count())
            .select_from(Enrolment)
            # Those made with the rule are its own too; the page counts the later ones.
            .where(Enrolment.rule_id == rule.id, Enrolment.enrolled_at > rule.created_at)
        )
        or 0
    )
    return render_template(
        "staff/confirm_rule.html",
        rule=rule,
        course=row[1],
        authority=row[2],
        region=row[3],
        made=made,
        categories=CATEGORY_LABELS,
        reminders=_reminder_label(rule.reminder_days),
        action_form=ActionForm(),
    )
