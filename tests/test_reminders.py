"""Reminders by e-mail (issue #16): the right message on the right day, exactly once.

Every test sends through a real SMTP server on loopback (aiosmtpd) and reads
the messages back with the standard library's parser. The clock is moved by
passing the moment to the jobs, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from conftest import login
from flask import Flask
from flask.testing import FlaskClient

from lms.auth.models import Role, User
from lms.core.types import ROME
from lms.courses.models import Course
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.notifications.jobs import run_day
from lms.notifications.models import Notification, Status
from lms.register.models import Authority, StaffCategory, StaffMember

D0 = date(2027, 3, 1)  # a Monday
TITLE = "Etica pubblica: perché è così (àèìòù)"


def morning(day: date) -> datetime:
    """07:00 in Italy on *day*, in UTC: when the daily job runs."""
    return datetime.combine(day, time(7), tzinfo=ROME).astimezone(UTC)


@dataclass
class World:
    mail_app: Flask
    course: Course
    staff: StaffMember
    user: User
    enrolment: Enrolment
    inbox: list[EmailMessage]

    def run(self, day: date) -> list[EmailMessage]:
        """Run the daily job as on *day* in the mail app; the messages it sent."""
        before = len(self.inbox)
        with self.mail_app.app_context():
            run_day(morning(day))
        return self.inbox[before:]


def _course(slug: str = "etica", title: str = TITLE) -> Course:
    course = Course(slug=slug, title=title, hours=Decimal("2.5"), source_hash="x")
    _db.session.add(course)
    _db.session.flush()
    return course


def _person(
    make_user: Callable[..., User], authority: Authority, cf: str, email: str, **kwargs: object
) -> tuple[User, StaffMember]:
    user = make_user(Role.LEARNER, email=email, first_name="Lucia", last_name="D'Àngelo", **kwargs)
    staff = StaffMember(
        codice_fiscale=cf,
        first_name="Lucia",
        last_name="D'Àngelo",
        email=email,
        authority_id=authority.id,
        category=StaffCategory.NEW_HIRE,
        user_id=user.id,
    )
    _db.session.add(staff)
    _db.session.flush()
    return user, staff


def _enrol(staff: StaffMember, course: Course, due_on: date | None, day: date = D0) -> Enrolment:
    enrolment = Enrolment(
        staff_id=staff.id,
        course_id=course.id,
        due_on=due_on,
        enrolled_at=morning(day) - timedelta(hours=1),
    )
    _db.session.add(enrolment)
    _db.session.commit()
    return enrolment


@pytest.fixture
def world(
    make_authority: Callable[..., Authority],
    make_user: Callable[..., User],
    new_app: Callable[..., Flask],
    smtp_server,
    smtp_settings: dict[str, object],
) -> Iterator[World]:
    authority = make_authority()
    course = _course()
    user, staff = _person(make_user, authority, "RSSMRA80A01H501U", "lucia@example.org")
    enrolment = _enrol(staff, course, D0 + timedelta(days=30))
    mail_app = new_app(**smtp_settings, BASE_URL="https://formazione.example.it")
    return World(mail_app, course, staff, user, enrolment, smtp_server.messages)


def _kinds(messages: list[EmailMessage]) -> list[str]:
    return [str(m["Subject"]) for m in messages]


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def _html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return part.get_content()


def test_the_whole_timeline_of_one_enrolment_arrives_on_the_right_days_and_never_twice(world):
    received: dict[date, list[str]] = {}
    for offset in range(70):
        day = D0 + timedelta(days=offset)
        sent = world.run(day)
        assert world.run(day) == []  # a second run the same day sends nothing
        if sent:
            received[day] = _kinds(sent)
    due = D0 + timedelta(days=30)
    assert received == {
        D0: [f"Iscrizione al corso «{TITLE}»"],
        due - timedelta(days=14): [f"Il corso «{TITLE}» scade tra 14 giorni"],
        due - timedelta(days=3): [f"Il corso «{TITLE}» scade tra 3 giorni"],
        due + timedelta(days=1): [f"Il corso «{TITLE}» è scaduto"],
        due + timedelta(days=8): [f"Promemoria: il corso «{TITLE}» è scaduto dal 31/03/2027"],
        due + timedelta(days=15): [f"Promemoria: il corso «{TITLE}» è scaduto dal 31/03/2027"],
        due + timedelta(days=22): [f"Promemoria: il corso «{TITLE}» è scaduto dal 31/03/2027"],
    }
    rows = _db.session.query(Notification).order_by(Notification.id).all()
    assert [r.kind for r in rows] == [
        "enrolled",
        "due:14",
        "due:3",
        "overdue:0",
        "overdue:1",
        "overdue:2",
        "overdue:3",
    ]
    assert {r.status for r in rows} == {Status.SENT}


def test_a_message_has_its_headers_both_parts_and_working_links(world, client: FlaskClient):
    (message,) = world.run(D0)
    assert message["To"] == "lucia@example.org"
    assert message["From"] == "formazione@example.invalid"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"]
    assert message["Date"]
    assert message.is_multipart()
    text, html = _text(message), _html(message)
    assert "Gentile Lucia D'Àngelo," in text
    assert "2,5 ore" in text
    assert "31/03/2027" in text
    assert "perché il tuo ufficio del personale ti ha iscritto" in text
    assert "https://formazione.example.it/courses/etica/" in text
    assert "https://formazione.example.it/profilo/#promemoria" in text
    assert 'href="https://formazione.example.it/courses/etica/"' in html
    assert "D&#39;Àngelo" in html or "D&#x27;Àngelo" in html  # escaped in HTML
    # The links open the course and the preferences for the signed-in person.
    login(client, world.user.email)
    for url in (
        "https://formazione.example.it/courses/etica/",
        "https://formazione.example.it/profilo/",
    ):
        assert client.get(urlsplit(url).path).status_code == 200


def test_accents_survive_the_encoding(world):
    (message,) = world.run(D0)
    raw = message.as_bytes()
    assert b"\xc3" not in raw.split(b"\n\n", 1)[0]  # headers are encoded, not raw UTF-8
    assert TITLE in str(message["Subject"])
