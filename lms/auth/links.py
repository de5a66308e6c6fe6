"""One-time password links: build the URL and the message that carries it.

E-mail leaves only after the token it carries is committed: a view queues the
message (:func:`queue_password_link`), a command commits, then sends
(:func:`link_message` with :func:`lms.core.mail.send_messages`).
"""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app
from flask_babel import gettext as _

from lms.auth.models import User
from lms.auth.operations import issue_password_token
from lms.core.mail import make_message, queue_mail


def link_url(token: str) -> str:
    """The full address of the set-password page for *token*."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/password/{token}"


def password_link(user: User) -> str:
    """Issue a token for *user* and return the full link to set a password."""
    return link_url(issue_password_token(user, hours=current_app.config["PASSWORD_TOKEN_HOURS"]))


def _subject_and_body(name: str, link: str) -> tuple[str, str]:
    hours = current_app.config["PASSWORD_TOKEN_HOURS"]
    body = _(
        "Buongiorno %(name)s,\n\n"
        "per impostare la password della piattaforma di formazione apri questo link "
        "entro %(hours)d ore:\n\n%(link)s\n\n"
        "Il link si può usare una sola volta. Se non hai chiesto tu questo messaggio, ignoralo.\n",
        name=name,
        hours=hours,
        link=link,
    )
    return _("Imposta la tua password"), body


def link_message(to: str, name: str, link: str) -> EmailMessage:
    """The e-mail that gives *name* at *to* their link (send it only after the commit)."""
    return make_message(to, *_subject_and_body(name, link))


def queue_password_link(user: User) -> bool:
    """Issue a link for *user* and e-mail it once the request is committed.

    False when e-mail is not configured (the link is then only in the database).
    """
    link = password_link(user)
    return queue_mail(user.email, *_subject_and_body(user.full_name, link))
