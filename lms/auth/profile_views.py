"""One's own account: the profile page, the password, the open sessions."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.forms import ChangePasswordForm, EndSessionForm, NamesForm
from lms.auth.models import User
from lms.auth.operations import AccountError
from lms.auth.self_service import (
    FIRST_PASSWORD_WINDOW,
    RecentSignInRequiredError,
    WrongPasswordError,
    change_own_names,
    change_own_password,
    end_own_session,
    end_own_sessions,
    identity,
)
from lms.auth.sessions import current_session, describe_browser, open_sessions
from lms.core.sql import parse_row_id
from lms.extensions import limiter
from lms.register.codice_fiscale import mask_codice_fiscale

bp = Blueprint("profile", __name__, url_prefix="/profilo")
log = logging.getLogger(__name__)

Page = str | tuple[str, int] | BaseResponse


def _me() -> User:
    user: User = current_user._get_current_object()  # noqa: SLF001 - the real object, typed
    return user


@bp.get("/")
@login_required
def profile() -> Page:
    """Who I am here: name, e-mail, role, language, codice fiscale (masked), how I sign in."""
    return _render_profile(NamesForm(obj=_me()))


def _render_profile(names: NamesForm, status: int = 200) -> Page:
    me = _me()
    found = identity(me)
    page = render_template(
        "auth/profile.html",
        me=me,
        staff=found.staff,
        fiscal_code=mask_codice_fiscale(found.fiscal_code),
        names=names,
        language=me.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
        sessions=len(open_sessions(me)),
    )
    return (page, status) if status != 200 else page  # noqa: PLR2004


@bp.post("/nome")
@login_required
def names() -> Page:
    """Correct one's own name (not for staff: their HR office keeps it)."""
    form = NamesForm()
    if not form.validate_on_submit():
        return _render_profile(form, 400)
    try:
        changed = change_own_names(_me(), form.first_name.data or "", form.last_name.data or "")
    except AccountError:
        abort(403, description=_("Il tuo nome è quello registrato dal tuo ufficio del personale."))
    if changed:
        flash(_("Nome aggiornato."), "success")
    return redirect(url_for("profile.profile"))


def _account_key() -> str:
    """Rate-limit key of the signed-in account.

    A guess of the current password counts against the account whatever the
    address, as failed sign-ins do.
    """
    return f"password-change:{getattr(current_user, 'id', 'anonymous')}"


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"])
@limiter.limit("10 per hour", methods=["POST"], key_func=_account_key)
def password() -> Page:
    """Change one's password: the current one is asked; the other sessions end."""
    me = _me()
    form = ChangePasswordForm()
    error = None
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if form.validate_on_submit():
        try:
            ended = change_own_password(
                me,
                form.current.data,
                form.password.data or "",
                keep=current_session(),
                min_length=min_length,
            )
        except RecentSignInRequiredError:
            error = _(
                "Per impostare una prima password devi essere entrato da meno di %(n)d "
                "minuti: esci, rientra con SPID o CIE e riprova.",
                n=int(FIRST_PASSWORD_WINDOW.total_seconds() // 60),
            )
        except WrongPasswordError:
            log.info("password change refused: user %s gave a wrong current password", me.id)
            error = _("La password attuale non è corretta.")
        except AccountError:
            error = _(
                "La password deve avere almeno %(n)d caratteri e mescolare lettere "
                "con cifre o simboli.",
                n=min_length,
            )
        else:
            log.info("password changed: user %s", me.id)
            message = _("Password cambiata.")
            if ended:
                message += " " + ngettext(
                    "È stata chiusa %(num)d altra sessione.",
                    "Sono state chiuse %(num)d altre sessioni.",
                    ended,
                )
            flash(message, "success")
            return redirect(url_for("profile.profile"))
    status = 400 if error or form.errors else 200
    page = render_template("auth/change_password.html", form=form, error=error, me=me)
    return (page, status) if status != 200 else page  # noqa: PLR2004


@bp.get("/sessioni")
@login_required
def sessions() -> str:
    """Where I am signed in, this browser first marked, with a way to end the others."""
    me = _me()
    this = current_session()
    rows = [
        {
            "id": row.id,
            "browser": describe_browser(row.user_agent),
            "method": row.method,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "current": this is not None and row.id == this.id,
        }
        for row in open_sessions(me)
    ]
    return render_template("auth/sessions.html", rows=rows, form=EndSessionForm())


@bp.post("/sessioni/chiudi")
@login_required
def end_sessions() -> BaseResponse:
    """End one other session (``session_id``) or, without one, all the others."""
    form = EndSessionForm()
    if not form.validate_on_submit():
        abort(400)
    me = _me()
    raw = (form.session_id.data or "").strip()
    if raw:
        session_id = parse_row_id(raw)
        if session_id is None or not end_own_session(me, session_id, current_session()):
            abort(404)
        flash(_("Sessione chiusa."), "success")
    else:
        ended = end_own_sessions(me, current_session())
        flash(
            ngettext(
                "È stata chiusa %(num)d sessione.", "Sono state chiuse %(num)d sessioni.", ended
            )
            if ended
            else _("Non c'erano altre sessioni aperte."),
            "success",
        )
    return redirect(url_for("profile.sessions"))
