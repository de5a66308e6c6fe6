"""Administrators' Utenti pages: the accounts, and every change the command line makes.

Each view loads the account, validates its form, calls one operation of
:mod:`lms.auth.operations` (the same rules and audit entries as ``lms users``)
and redirects, or re-renders the page with the errors and a 400 (nothing is
written: the request is rolled back). Only administrators (MANAGE_USERS).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field

from lms.auth.admin_forms import (
    ActionForm,
    CreateUserForm,
    FiscalCodeForm,
    LinkForm,
    RoleForm,
    ScopeForm,
    split_codes,
)
from lms.auth.links import link_message, link_url
from lms.auth.models import Role, User
from lms.auth.operations import (
    AccountError,
    FiscalCodeError,
    StaffIdentityError,
    bind_fiscal_code,
    change_account_role,
    create_user,
    deactivate_account,
    issue_account_link,
    reactivate_user,
    set_scope,
    unbind_fiscal_code,
)
from lms.auth.permissions import Capability, require
from lms.core.filters import format_moment
from lms.core.mail import Outbox, mail_configured
from lms.core.search import fold
from lms.core.sql import LIKE_ESCAPE, MAX_ROW_ID, contains_pattern, paginate
from lms.core.transaction import pending
from lms.extensions import db
from lms.register.codice_fiscale import mask_codice_fiscale
from lms.register.models import StaffMember

bp = Blueprint("admin", __name__, url_prefix="/admin")

Page = str | tuple[str, int] | BaseResponse


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
        query = query.where(
            or_(
                User.email.like(contains_pattern(search.lower()), escape=LIKE_ESCAPE),
                # Accents and case aside, either order: "nicolo" finds Nicolò.
                User.search_name.like(contains_pattern(fold(search)), escape=LIKE_ESCAPE),
            )
        )
    page = paginate(query, per_page=50, max_per_page=200)  # a page past the last is a 404
    return render_template("admin/users.html", page=page, search=search, role=role_value)


# The operations' errors, in the reader's language ------------------------------------

#: An operation's error (its English text, the command line's) -> the field it is about
#: and the message of the page. Every error the views below can meet is here; an
#: unknown one is shown as it is, at the top of the form.
_ERRORS: list[tuple[re.Pattern[str], str | None, Callable[[re.Match[str]], str]]] = [
    (re.compile(r"invalid e-mail address "), "email", lambda _m: _("Indirizzo e-mail non valido.")),
    (
        re.compile(r"a user with e-mail .+ already exists"),
        "email",
        lambda _m: _("Esiste già un account con questo indirizzo e-mail."),
    ),
    (
        re.compile(r"unknown role (?P<value>.+): use one of"),
        "role",
        lambda m: _("Ruolo sconosciuto: %(value)s.", value=_quoted(m["value"])),
    ),
    (
        re.compile(r"unknown authority code (?P<code>.+)"),
        "authorities",
        lambda m: _("Codice ente sconosciuto: %(code)s.", code=_quoted(m["code"])),
    ),
    (
        re.compile(r"unknown region code (?P<code>.+)"),
        "regions",
        lambda m: _("Codice regione sconosciuto: %(code)s.", code=_quoted(m["code"])),
    ),
    (
        re.compile(r"only HR managers \(role hr\) have a scope"),
        "authorities",
        lambda _m: _(
            "Solo i responsabili del personale hanno enti o regioni di competenza: "
            "lascia vuoti questi campi."
        ),
    ),
    (
        re.compile(r"an HR manager needs at least one"),
        "authorities",
        lambda _m: _(
            "Un responsabile del personale deve avere almeno un ente o una regione di competenza."
        ),
    ),
    (
        re.compile(r"you cannot deactivate your own account"),
        None,
        lambda _m: _("Non puoi disattivare il tuo account."),
    ),
    (
        re.compile(r"you cannot remove your own administrator role"),
        "role",
        lambda _m: _("Non puoi togliere a te stesso il ruolo di amministratore."),
    ),
    (
        re.compile(r"the last active administrator cannot be deactivated"),
        None,
        lambda _m: _(
            "È l'ultimo amministratore attivo: non può essere disattivato. "
            "Nomina prima un altro amministratore."
        ),
    ),
    (
        re.compile(r"the last active administrator cannot be given another role"),
        "role",
        lambda _m: _(
            "È l'ultimo amministratore attivo: non può cambiare ruolo. "
            "Nomina prima un altro amministratore."
        ),
    ),
    (
        re.compile(r"the account is deactivated"),
        None,
        lambda _m: _("L'account è disattivato: riattivalo prima di emettere un link."),
    ),
    (
        re.compile(r"already bound to account (?P<id>\d+)"),
        "fiscal_code",
        lambda m: _(
            "Questo codice fiscale è già associato a un altro account (n. %(id)s).", id=m["id"]
        ),
    ),
    (
        re.compile(r"already bound to another account"),
        "fiscal_code",
        lambda _m: _("Questo codice fiscale è già associato a un altro account."),
    ),
    (
        re.compile(r"belongs to a staff record with another codice fiscale"),
        "fiscal_code",
        lambda _m: _(
            "Questo account è di un dipendente con un altro codice fiscale: "
            "SPID e CIE vi entrano già con il suo."
        ),
    ),
]


def _quoted(value: str) -> str:
    """A value the operation wrote with ``!r``, as it was typed."""
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    return parsed if isinstance(parsed, str) else value


def explain(exc: AccountError) -> tuple[str | None, str]:
    """The field *exc* is about (None: the whole form) and its message for the page."""
    if isinstance(exc, FiscalCodeError):
        return "fiscal_code", _("Codice fiscale non valido: %(reason)s.", reason=str(exc.reason))
    if isinstance(exc, StaffIdentityError):
        return "over_staff_account", _(
            "È il codice fiscale di un dipendente (scheda n. %(staff)s) il cui account è un "
            "altro: con SPID o CIE entrerebbe in questo account invece che nel suo. "
            "Se è quello che vuoi, conferma con la casella qui sotto.",
            staff=exc.staff_id,
        )
    text = str(exc)
    for pattern, field, message in _ERRORS:
        match = pattern.search(text)
        if match:
            return field, message(match)
    return None, text


def _attach(form: FlaskForm, exc: AccountError) -> None:
    """Put *exc*'s message on its field of *form* (or on the form as a whole)."""
    name, message = explain(exc)
    field: Field | None = form[name] if name is not None and name in form else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


# Creating an account ---------------------------------------------------------------


@bp.get("/utenti/nuovo")
@require(Capability.MANAGE_USERS)
def new_user() -> str:
    """The form for a new account."""
    return render_template("admin/new_user.html", form=CreateUserForm())


@bp.post("/utenti/nuovo")
@require(Capability.MANAGE_USERS)
def create() -> Page:
    """Create the account, then hand out its set-password link (e-mailed or shown once)."""
    form = CreateUserForm()
    if not form.validate_on_submit():
        return _bad_form(form)
    try:
        user = create_user(
            email=form.email.data or "",
            role=form.role.data or "",
            first_name=form.first_name.data or "",
            last_name=form.last_name.data or "",
            scope_authorities=split_codes(form.authorities.data),
            scope_regions=split_codes(form.regions.data),
            by=current_user,
        )
    except AccountError as exc:
        _attach(form, exc)
        return render_template("admin/new_user.html", form=form), 400
    flash(_("Account creato per %(email)s.", email=user.email), "success")
    return _hand_out_link(user, "email" if mail_configured() else "page")


def _bad_form(form: CreateUserForm) -> tuple[str, int]:
    if form.csrf_token.errors:
        abort(400)
    return render_template("admin/new_user.html", form=form), 400


# One account -----------------------------------------------------------------------


def _account(user_id: int) -> User:
    # A number past any id (the URL converter takes any length) must not reach the query.
    user = db.session.get(User, user_id) if user_id <= MAX_ROW_ID else None
    if user is None:
        abort(404)
    return user


def _render_account(user: User, status: int = 200, **forms: FlaskForm) -> Page:
    """The account page; *forms* replace the blank forms (one of them has errors)."""
    staff = db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))
    # SPID picks the account bound to a codice fiscale before the staff record's account:
    # say on both pages when one shadows the other.
    shadows = (
        db.session.scalar(
            select(StaffMember).where(
                StaffMember.codice_fiscale == user.fiscal_code,
                or_(StaffMember.user_id.is_(None), StaffMember.user_id != user.id),
            )
        )
        if user.fiscal_code
        else None
    )
    shadowed_by = (
        db.session.scalar(
            select(User).where(User.fiscal_code == staff.codice_fiscale, User.id != user.id)
        )
        if staff is not None
        else None
    )
    scope = ScopeForm(
        formdata=None,
        authorities=" ".join(s.authority.code for s in user.scopes if s.authority),
        regions=" ".join(s.region.code for s in user.scopes if s.region),
    )
    context = {
        "role_form": RoleForm(formdata=None, role=user.role.value),
        "scope_form": scope,
        "fiscal_code_form": FiscalCodeForm(formdata=None),
        "link_form": LinkForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        **forms,
    }
    page = render_template(
        "admin/user.html",
        user=user,
        staff=staff,
        shadows=shadows,
        shadowed_by=shadowed_by,
        masked_fiscal_code=mask_codice_fiscale(user.fiscal_code),
        created=format_moment(user.created_at) or None,
        last_login=format_moment(user.last_login_at) or None,
        mail=mail_configured(),
        hours=current_app.config["PASSWORD_TOKEN_HOURS"],
        is_self=user.id == current_user.id,
        **context,
    )
    return (page, status) if status != 200 else page  # noqa: PLR2004 - the normal page


@bp.get("/utenti/<int:user_id>")
@require(Capability.MANAGE_USERS)
def account(user_id: int) -> Page:
    """One account: its details, and the forms that change it."""
    return _render_account(_account(user_id))


def _back(user: User) -> BaseResponse:
    return redirect(url_for("admin.account", user_id=user.id))


def _checked(form: FlaskForm) -> bool:
    """Whether *form* validates; a missing or wrong CSRF token is a plain 400."""
    if form.validate_on_submit():
        return True
    if "csrf_token" in form.errors:
        abort(400)
    return False


@bp.post("/utenti/<int:user_id>/ruolo")
@require(Capability.MANAGE_USERS)
def change_role_view(user_id: int) -> Page:
    """Give the account another role (an HR manager's scope comes with the form)."""
    user = _account(user_id)
    form = RoleForm()
    if not _checked(form):
        return _render_account(user, 400, role_form=form)
    try:
        changed = change_account_role(
            user,
            form.role.data or "",
            scope_authorities=split_codes(form.authorities.data),
            scope_regions=split_codes(form.regions.data),
            by=current_user,
        )
    except AccountError as exc:
        _attach(form, exc)
        return _render_account(user, 400, role_form=form)
    if changed:
        flash(
            _("Ruolo cambiato: le sessioni aperte sono chiuse e i link inutilizzati annullati."),
            "success",
        )
    else:
        flash(_("Nessuna modifica: l'account aveva già questo ruolo."), "info")
    return _back(user)


@bp.post("/utenti/<int:user_id>/competenza")
@require(Capability.MANAGE_USERS)
def change_scope(user_id: int) -> Page:
    """Replace an HR manager's scope with the authorities and regions given."""
    user = _account(user_id)
    form = ScopeForm()
    if not _checked(form):
        return _render_account(user, 400, scope_form=form)
    try:
        changed = set_scope(
            user,
            scope_authorities=split_codes(form.authorities.data),
            scope_regions=split_codes(form.regions.data),
            by=current_user,
        )
    except AccountError as exc:
        _attach(form, exc)
        return _render_account(user, 400, scope_form=form)
    if changed:
        flash(_("Competenza aggiornata: le sessioni aperte sono chiuse."), "success")
    else:
        flash(_("Nessuna modifica alla competenza."), "info")
    return _back(user)


@bp.get("/utenti/<int:user_id>/disattiva")
@require(Capability.MANAGE_USERS)
def confirm_deactivation(user_id: int) -> Page:
    """What deactivating will do, with the button that does it and a way back."""
    user = _account(user_id)
    if not user.active:
        return _back(user)
    return render_template("admin/deactivate.html", user=user, form=ActionForm())


@bp.post("/utenti/<int:user_id>/disattiva")
@require(Capability.MANAGE_USERS)
def deactivate(user_id: int) -> Page:
    """Deactivate the account: it cannot sign in, its sessions end, its links stop working."""
    user = _account(user_id)
    form = ActionForm()
    _checked(form)
    try:
        changed = deactivate_account(user, by=current_user)
    except AccountError as exc:
        _attach(form, exc)
        return render_template("admin/deactivate.html", user=user, form=form), 400
    if changed:
        flash(_("Account disattivato."), "success")
    else:
        flash(_("L'account era già disattivato."), "info")
    return _back(user)


@bp.post("/utenti/<int:user_id>/riattiva")
@require(Capability.MANAGE_USERS)
def reactivate(user_id: int) -> Page:
    """Let a deactivated account sign in again (it signs in anew)."""
    user = _account(user_id)
    _checked(ActionForm())
    if reactivate_user(user, by=current_user):
        flash(_("Account riattivato."), "success")
    else:
        flash(_("L'account era già attivo."), "info")
    return _back(user)


@bp.post("/utenti/<int:user_id>/codice-fiscale")
@require(Capability.MANAGE_USERS)
def bind_fiscal_code_view(user_id: int) -> Page:
    """Bind a codice fiscale to the account, so that SPID and CIE sign its owner in here."""
    user = _account(user_id)
    form = FiscalCodeForm()
    if not _checked(form):
        return _render_account(user, 400, fiscal_code_form=form)
    try:
        changed = bind_fiscal_code(
            user,
            form.fiscal_code.data or "",
            by=current_user,
            over_staff_account=bool(form.over_staff_account.data),
        )
    except AccountError as exc:
        _attach(form, exc)
        return _render_account(user, 400, fiscal_code_form=form)
    if changed:
        flash(_("Codice fiscale associato all'account."), "success")
    else:
        flash(_("L'account aveva già questo codice fiscale."), "info")
    return _back(user)


@bp.post("/utenti/<int:user_id>/codice-fiscale/rimuovi")
@require(Capability.MANAGE_USERS)
def unbind_fiscal_code_view(user_id: int) -> Page:
    """Remove the account's codice fiscale: SPID and CIE no longer sign in here."""
    user = _account(user_id)
    _checked(ActionForm())
    if unbind_fiscal_code(user, by=current_user):
        flash(_("Codice fiscale rimosso dall'account."), "success")
    else:
        flash(_("L'account non aveva un codice fiscale."), "info")
    return _back(user)


@bp.post("/utenti/<int:user_id>/link")
@require(Capability.MANAGE_USERS)
def issue_link(user_id: int) -> Page:
    """A new set-password link for the account: e-mailed, or shown on this response only."""
    user = _account(user_id)
    form = LinkForm()
    if not _checked(form):
        return _render_account(user, 400, link_form=form)
    delivery = form.delivery.data if mail_configured() else "page"
    try:
        return _hand_out_link(user, delivery or "page")
    except AccountError as exc:
        _attach(form, exc)
        return _render_account(user, 400, link_form=form)


def _hand_out_link(user: User, delivery: str) -> Page:
    """Issue *user*'s link: e-mail it after the commit, or answer with it (never cached)."""
    hours = current_app.config["PASSWORD_TOKEN_HOURS"]
    link = link_url(issue_account_link(user, hours=hours, by=current_user, delivery=delivery))
    if delivery == "email":
        pending("mail", Outbox).messages.append(link_message(user.email, user.full_name, link))
        flash(
            _(
                "Link per impostare la password inviato a %(email)s; i link precedenti non "
                "funzionano più.",
                email=user.email,
            ),
            "success",
        )
        return _back(user)
    response = make_response(render_template("admin/link.html", user=user, link=link, hours=hours))
    response.headers["Cache-Control"] = "no-store"
    return response
