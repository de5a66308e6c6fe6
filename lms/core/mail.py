"""Outgoing e-mail through the SMTP server in the configuration, when there is one.

Messages leave only after the change that produced them is committed: a view
queues them with :func:`queue_mail` (they are sent after the response, see
:mod:`lms.core.transaction`); a command commits first, then sends a batch over
one connection with :func:`send_messages`.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Self

from flask import current_app

from lms.core.transaction import pending

log = logging.getLogger(__name__)


def mail_configured() -> bool:
    """Whether an SMTP host is configured."""
    return bool(current_app.config.get("SMTP_HOST"))


def make_message(to: str, subject: str, body: str, html: str | None = None) -> EmailMessage:
    """A message from the configured sender: plain text, and HTML beside it if given.

    With a Date and a Message-ID of the sender's domain (some servers refuse mail
    without them) and ``Auto-Submitted: auto-generated`` (RFC 3834), so that
    out-of-office replies do not answer it.
    """
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


class Outcome(enum.Enum):
    """What the mail server did with one message."""

    SENT = "sent"  # accepted
    REFUSED = "refused"  # refused for good (a 5xx answer): sending it again cannot help
    DEFERRED = "deferred"  # refused for now (a 4xx answer): try again later
    DOWN = "down"  # no server answered: this message and the ones after it wait


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one message, with the server's answer (never the address)."""

    outcome: Outcome
    reason: str = ""


def _answer(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(said.split())}"[:200]


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
        return self.deliver(message).outcome is Outcome.SENT

    def deliver(self, message: EmailMessage) -> Delivery:  # noqa: PLR0911 - one per outcome
        """Send *message*; what the server did with it (see :class:`Outcome`).

        A lost connection is opened again once. Only the message's kind of
        failure is logged, never its addresses.
        """
        if not mail_configured():
            return Delivery(Outcome.DOWN, "no SMTP server configured")
        for attempt in (1, 2):
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                refused = self._smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as error:
                code, text = next(iter(error.recipients.values()), (550, b""))
                return self._refused(code, text)
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
                return self._refused(error.smtp_code, error.smtp_error)
            except (OSError, smtplib.SMTPException) as error:
                self.close()
                if attempt == 2:  # noqa: PLR2004 - the second try
                    log.warning("could not reach the SMTP server: %s", type(error).__name__)
                    return Delivery(Outcome.DOWN, type(error).__name__)
            else:
                if refused:  # some of several recipients refused: ours have one each
                    code, text = next(iter(refused.values()))
                    return self._refused(code, text)
                return Delivery(Outcome.SENT)
        return Delivery(Outcome.DOWN)  # pragma: no cover - the loop always returns

    @staticmethod
    def _refused(code: int, text: bytes | str) -> Delivery:
        permanent = 500 <= code < 600  # noqa: PLR2004 - SMTP's permanent failures
        log.warning("e-mail refused by the server (%s)", code)
        return Delivery(Outcome.REFUSED if permanent else Outcome.DEFERRED, _answer(code, text))

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
