"""Outgoing e-mail through the SMTP server in the configuration, when there is one.

Messages leave only after the change that produced them is committed: a view
queues them with :func:`queue_mail` (they are sent after the response, see
:mod:`lms.core.transaction`); a command commits first, then sends a batch over
one connection with :func:`send_messages`.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Self

from flask import current_app

from lms.core.transaction import pending

log = logging.getLogger(__name__)


def mail_configured() -> bool:
    """Whether an SMTP host is configured."""
    return bool(current_app.config.get("SMTP_HOST"))


def make_message(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


class Mailer:
    """One SMTP connection for many messages: ``with Mailer() as mailer: mailer.send(m)``.

    A refused recipient fails only its own message; a lost connection is opened
    again once for the next message. Failures are logged without the addresses.
    """

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        config = current_app.config
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20)
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        return smtp

    def send(self, message: EmailMessage) -> bool:
        """Send *message*; whether the server accepted it."""
        if not mail_configured():
            return False
        for attempt in (1, 2):
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                self._smtp.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError):
                log.warning("e-mail %r refused by the server", message["Subject"])
                return False
            except (OSError, smtplib.SMTPException):
                self.close()
                if attempt == 2:  # noqa: PLR2004 - the second try
                    log.exception("could not send e-mail %r", message["Subject"])
                    return False
            else:
                return True
        return False  # pragma: no cover - the loop always returns

    def close(self) -> None:
        """Close the connection, if one is open."""
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


def send_messages(messages: Sequence[EmailMessage]) -> list[bool]:
    """Send *messages* over one SMTP connection; whether each was accepted."""
    with Mailer() as mailer:
        return [mailer.send(message) for message in messages]


class Outbox:
    """The messages of one transaction, sent together once it is committed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def __call__(self) -> None:
        """Send them, over one connection."""
        send_messages(self.messages)


def queue_mail(to: str, subject: str, body: str) -> bool:
    """Send a message once the current transaction is committed; False if e-mail is off.

    The messages queued during one request or command share one connection.
    """
    if not mail_configured():
        return False
    pending("mail", Outbox).messages.append(make_message(to, subject, body))
    return True
