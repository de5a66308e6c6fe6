"""One-time password links: build the URL, and send it when e-mail is configured."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from lms.auth.models import User
from lms.auth.operations import issue_password_token
from lms.core.mail import send_mail


def password_link(user: User) -> str:
    """Issue a token for *user* and return the full link to set a password."""
    token = issue_password_token(user, hours=current_app.config["PASSWORD_TOKEN_HOURS"])
    return f"{current_app.config['BASE_URL'].rstrip('/')}/password/{token}"


def send_password_link(user: User) -> tuple[str, bool]:
    """Issue a link for *user*, e-mail it if possible; return the link and whether it was sent."""
    link = password_link(user)
    hours = current_app.config["PASSWORD_TOKEN_HOURS"]
    body = _(
        "Buongiorno %(name)s,\n\n"
        "per impostare la password della piattaforma di formazione apri questo link "
        "entro %(hours)d ore:\n\n%(link)s\n\n"
        "Il link si può usare una sola volta. Se non hai chiesto tu questo messaggio, ignoralo.\n",
        name=user.full_name,
        hours=hours,
        link=link,
    )
    sent = send_mail(user.email, _("Imposta la tua password"), body)
    return link, sent
