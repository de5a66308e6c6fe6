"""Sign in, sign out, and set a password through a one-time link."""

from __future__ import annotations

import logging
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.forms import ForgotPasswordForm, LoginForm, SetPasswordForm
from lms.auth.links import queue_password_link
from lms.auth.models import SignInMethod, User
from lms.auth.operations import (
    AccountError,
    authenticate,
    find_valid_token,
    left_staff_on,
    set_password_with_token,
)
from lms.auth.sessions import current_session, end_current_session, load_session, start_session
from lms.core.mail import mail_configured
from lms.core.redirects import safe_next
from lms.core.types import today_in_italy
from lms.extensions import db, limiter, login_account_key

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


#: Where the loader leaves the day someone's access ended, for the sign-in page to say.
ACCESS_ENDED_KEY = "access_ended_on"


def load_user(session_id: str) -> User | None:
    """Flask-Login loader: the account, if its session is open and its version current.

    Read on every request of a signed-in person (and for a "remember me"
    cookie): someone whose leaving day has come is signed out at their next
    request, and the sign-in page says why.
    """
    found = load_session(session_id, today_in_italy())
    if found is None:
        return None
    user, left_on = found
    if left_on is not None:
        session[ACCESS_ENDED_KEY] = left_on.isoformat()
        return None
    return user


def _access_ended_message(left_on: date) -> str:
    return _(
        "Il tuo accesso è terminato: dal %(day)s non risulti più in servizio presso il tuo "
        "ente. Se è un errore, rivolgiti all'ufficio del personale della tua amministrazione.",
        day=left_on.strftime("%d/%m/%Y"),
    )


def _only_failures(response: Response) -> bool:
    """Count a sign-in attempt against the limit unless it succeeded (a redirect)."""
    return response.status_code != 302  # noqa: PLR2004


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_only_failures,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=login_account_key,
    methods=["POST"],
    deduct_when=_only_failures,
)
def login() -> str | tuple[str, int] | BaseResponse:
    """Sign-in form; the same neutral message for an unknown e-mail and a wrong password."""
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = LoginForm(next=request.args.get("next", ""))
    error = None
    ended = session.pop(ACCESS_ENDED_KEY, None)
    if ended:
        error = _access_ended_message(date.fromisoformat(ended))
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            # Only a person who gave the right password learns that their access ended.
            _user, left_on = left_staff_on(user.id, today_in_italy()) or (user, None)
            if left_on is not None:
                log.info("sign-in refused: user %s has left the staff", user.id)
                error = _access_ended_message(left_on)
                return render_template("auth/login.html", form=form, error=error), 403
            start_session(user, method=SignInMethod.PASSWORD)
            log.info("sign-in: user %s", user.id)
            return redirect(safe_next(form.next.data))
        log.info("sign-in failed")
        error = _("E-mail o password non corretti.")
    elif request.method == "POST":
        error = _("Inserisci e-mail e password.")
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout() -> BaseResponse:
    """Sign out (a POST with the CSRF token: a link cannot sign anyone out).

    Ends this browser's session on the server, so a copy of its cookie stops
    working too; the account's other sessions stay open (the profile page ends
    them). A SPID or CIE session is sent on to single logout (``spid.logout``,
    with this POST and its CSRF token: a 307 keeps both), which also tells the
    identity provider, so the person is not left signed in there.
    """
    opened = current_session()
    if opened is not None and opened.saml_idp and "spid.logout" in current_app.view_functions:
        return redirect(url_for("spid.logout"), code=307)
    end_current_session()
    flash(_("Sei uscito dal servizio."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def set_password(token: str) -> str | tuple[str, int] | BaseResponse:
    """Choose a password with a one-time link."""
    record = find_valid_token(token)
    if record is None:
        return render_template("auth/link_invalid.html", mail=mail_configured()), 404
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            set_password_with_token(
                token,
                form.password.data or "",
                min_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except AccountError:
            error = _(
                "La password deve avere almeno %(n)d caratteri e mescolare lettere "
                "con cifre o simboli.",
                n=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        else:
            flash(_("Password impostata. Ora puoi accedere."), "success")
            return redirect(url_for("auth.login"))
    page = make_response(
        render_template("auth/set_password.html", form=form, error=error, email=record.user.email)
    )
    # It names the account's e-mail to whoever holds the link: keep it out of caches.
    page.headers["Cache-Control"] = "no-store"
    return page


@bp.route("/password/dimenticata", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"])
def forgot_password() -> str | BaseResponse:
    """Send a new one-time link by e-mail, when e-mail is configured."""
    form = ForgotPasswordForm()
    if form.validate_on_submit() and mail_configured():
        email = (form.email.data or "").strip().lower()
        user = db.session.scalar(select(User).where(User.email == email, User.active.is_(True)))
        if user is not None:
            # Queued: the e-mail leaves after the token is committed and the page
            # has answered, so known and unknown addresses answer alike.
            queue_password_link(user)
        # Same answer whether or not the address is known.
        flash(_("Se l'indirizzo è registrato, riceverai a breve un'e-mail con il link."), "info")
        return redirect(url_for("auth.login"))
    if request.method == "POST" and not mail_configured():
        abort(400)
    return render_template("auth/forgot_password.html", form=form, mail=mail_configured())
