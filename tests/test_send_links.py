"""``lms staff send-links``: one-time links e-mailed (or printed) to staff without a password."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.auth.models import PasswordToken
from lms.auth.operations import token_hash
from lms.core.mail import Mailer
from lms.site.demo import load_demo_staff


@pytest.fixture
def mail_on(app, monkeypatch, smtp_settings):
    """The test app sends e-mail to the loopback SMTP server."""
    for key, value in smtp_settings.items():
        monkeypatch.setitem(app.config, key, value)


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


@pytest.mark.usefixtures("staff", "mail_on")
def test_with_smtp_every_person_without_password_gets_a_link(runner, db, smtp_server):
    result = runner.invoke(args=["staff", "send-links", "--authority", "063049"])
    assert result.exit_code == 0, result.output
    # The five demo people of Napoli (the demo learner has no password here either).
    assert "links: 5 e-mailed, 0 failed" in result.stdout
    recipients = sorted(m["To"] for m in smtp_server.messages)
    assert "ciro.russo@demo.example" in recipients
    assert len(recipients) == 5
    body = smtp_server.messages[0].get_content()
    assert "http://localhost/password/" in body
    assert len(db.session.scalars(select(PasswordToken)).all()) == 5


@pytest.mark.usefixtures("staff", "mail_on")
def test_links_are_committed_before_they_are_mailed_over_one_connection(
    runner, db, smtp_server, monkeypatch
):
    """A crash half-way leaves only e-mailed links that exist; one SMTP connection serves all."""
    monkeypatch.setattr("lms.enrolments.cli.SEND_LINKS_BATCH", 2)
    connections = []
    real_connect = Mailer._connect

    def counting_connect(self):
        connections.append(1)
        return real_connect(self)

    real_send = Mailer.send

    def crash_on_the_fourth(self, message):
        if len(smtp_server.messages) == 3:
            raise RuntimeError("the worker died")
        return real_send(self, message)

    monkeypatch.setattr(Mailer, "_connect", counting_connect)
    monkeypatch.setattr(Mailer, "send", crash_on_the_fourth)
    result = runner.invoke(args=["staff", "send-links"])
    assert isinstance(result.exception, RuntimeError)
    assert len(smtp_server.messages) == 3
    assert connections == [1]
    db.session.rollback()
    stored = set(db.session.scalars(select(PasswordToken.token_hash)))
    for message in smtp_server.messages:
        token = re.search(r"/password/([\w-]+)", message.get_content()).group(1)
        assert token_hash(token) in stored  # every e-mailed link exists
    # The batches committed so far (two of two people) are stored, nothing more.
    assert len(stored) == 4


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
