"""Outgoing e-mail through the SMTP server in the configuration, when there is one."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def mail_configured() -> bool:
    """Whether an SMTP host is configured."""
    return bool(current_app.config.get("SMTP_HOST"))


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send a plain-text message; return False (and log, without the address) on failure."""
    if not mail_configured():
        return False
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USER"]:
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send e-mail %r", subject)
        return False
    return True
