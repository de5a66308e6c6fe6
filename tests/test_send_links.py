"""``lms staff send-links``: one-time links e-mailed (or printed) to staff without a password."""

from __future__ import annotations

import smtplib
from typing import ClassVar, Self

import pytest
from sqlalchemy import select

from lms.auth.models import PasswordToken
from lms.core.demo import load_demo_staff


class FakeSMTP:
    """Stands in for smtplib.SMTP and keeps what would have been sent."""

    sent: ClassVar[list] = []

    def __init__(self, host: str, port: int, timeout: int) -> None:
        self.address = (host, port, timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def starttls(self) -> None:
        return None

    def login(self, user: str, password: str) -> None:
        self.credentials = (user, password)

    def send_message(self, message: object) -> None:
        FakeSMTP.sent.append(message)


@pytest.fixture(name="staff")
def _staff(make_authority, db):
    make_authority(istat_code="063049", name="Napoli")
    load_demo_staff()
    db.session.commit()


@pytest.mark.usefixtures("staff")
def test_without_smtp_it_refuses_and_sends_nothing(runner, db):
    result = runner.invoke(args=["staff", "send-links"])
    assert result.exit_code == 1
    assert "e-mail is not configured" in result.stderr
    assert db.session.scalar(select(PasswordToken.id)) is None


@pytest.mark.usefixtures("staff")
def test_with_smtp_every_person_without_password_gets_a_link(runner, db, app, monkeypatch):
    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.org")
    result = runner.invoke(args=["staff", "send-links", "--authority", "063049"])
    assert result.exit_code == 0, result.output
    # The five demo people of Napoli (the demo learner has no password here either).
    assert "links: 5 e-mailed, 0 failed" in result.stdout
    recipients = sorted(m["To"] for m in FakeSMTP.sent)
    assert "ciro.russo@demo.example" in recipients
    assert len(recipients) == 5
    body = FakeSMTP.sent[0].get_content()
    assert "http://localhost/password/" in body
    assert len(db.session.scalars(select(PasswordToken)).all()) == 5


@pytest.mark.usefixtures("staff")
def test_print_lists_codice_fiscale_email_and_link(runner):
    result = runner.invoke(args=["staff", "send-links", "--print"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 5
    codice_fiscale, email, link = lines[0].split(",")
    assert len(codice_fiscale) == 16
    assert email.endswith("@demo.example")
    assert link.startswith("http://localhost/password/")
