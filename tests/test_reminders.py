"""Reminders by e-mail (issue #16): the right message on the right day, exactly once.

Every test sends through a real SMTP server on loopback (aiosmtpd) and reads
the messages back with the standard library's parser. The clock is moved by
passing the moment to the jobs, never by sleeping.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient

from lms.audit.models import AuditEntry
from lms.auth.models import Role, User
from lms.core.mail import Delivery, Outcome
from lms.core.types import ROME
from lms.courses.models import Course, CourseCompletion
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.notifications.jobs import run_day
from lms.notifications.models import Notification, Status
from lms.notifications.plan import ReminderDaysError, parse_reminder_days, plan_day
from lms.notifications.send import SendReport, _record, retry_delay, send_pending
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


def _sent_kinds() -> list[str]:
    return [
        n.kind
        for n in _db.session.query(Notification)
        .filter(Notification.status == Status.SENT)
        .order_by(Notification.id)
    ]


def test_completing_the_course_sends_the_certificate_link_and_stops_the_reminders(world):
    world.run(D0)
    _db.session.add(
        CourseCompletion(
            user_id=world.user.id,
            course_id=world.course.id,
            completed_at=morning(D0 + timedelta(days=5)),
        )
    )
    _db.session.commit()
    (message,) = world.run(D0 + timedelta(days=5))
    assert str(message["Subject"]) == f"Hai completato il corso «{TITLE}»"
    assert "https://formazione.example.it/courses/etica/attestato.pdf" in _text(message)
    assert "singoli promemoria" not in _text(message)  # nothing to choose: it is not a reminder
    for offset in range(6, 70):
        assert world.run(D0 + timedelta(days=offset)) == []
    assert _sent_kinds() == ["enrolled", "completed"]


def test_a_reminder_planned_before_the_course_was_completed_is_not_sent(world):
    world.run(D0)
    with world.mail_app.app_context():
        plan_day(morning(D0 + timedelta(days=16)))  # due:14 planned...
        _db.session.commit()
    _db.session.add(
        CourseCompletion(
            user_id=world.user.id,
            course_id=world.course.id,
            completed_at=morning(D0 + timedelta(days=16)) - timedelta(minutes=5),
        )
    )
    _db.session.commit()
    sent = world.run(D0 + timedelta(days=16))  # ... but the course was completed since
    assert [str(m["Subject"]).startswith("Hai completato") for m in sent] == [True]
    cancelled = _db.session.query(Notification).filter_by(kind="due:14").one()
    assert (cancelled.status, cancelled.last_error) == (Status.CANCELLED, "completed")


def test_a_new_due_date_makes_new_reminders_and_the_old_ones_are_dropped(world):
    world.run(D0)
    world.run(D0 + timedelta(days=16))  # due:14 for the 31st
    enrolment = _db.session.get(Enrolment, world.enrolment.id)
    enrolment.due_on = D0 + timedelta(days=45)  # moved by two weeks
    _db.session.commit()
    assert world.run(D0 + timedelta(days=27)) == []  # no due:3 for the old date
    (message,) = world.run(D0 + timedelta(days=31))  # 14 days before the new date
    assert str(message["Subject"]) == f"Il corso «{TITLE}» scade tra 14 giorni"
    assert "15/04/2027" in _text(message)
    assert _sent_kinds() == ["enrolled", "due:14", "due:14"]
    dates = [n.on_date for n in _db.session.query(Notification).filter_by(kind="due:14")]
    assert sorted(dates) == [D0 + timedelta(days=30), D0 + timedelta(days=45)]


def test_a_planner_that_missed_days_catches_up_once(world):
    # Down from the day after the enrolment to the day before the due date: the
    # next run sends the last reminder due, not every reminder it missed.
    world.run(D0)
    sent = world.run(D0 + timedelta(days=29))
    assert _kinds(sent) == [f"Il corso «{TITLE}» scade tra 1 giorno"]
    assert _sent_kinds() == ["enrolled", "due:3"]


def test_the_weekly_digest_replaces_the_reminders_but_never_the_overdue_notice(
    world, make_authority, make_user
):
    user = _db.session.get(User, world.user.id)
    user.reminder_digest = True
    # Someone else completed the same course: it stays due for Lucia.
    other, _staff = _person(make_user, make_authority(), "VRDGPP80A01H501X", "giuseppe@example.org")
    _db.session.add(CourseCompletion(user_id=other.id, course_id=world.course.id))
    _db.session.commit()
    received: dict[date, list[str]] = {}
    for offset in range(57):
        day = D0 + timedelta(days=offset)
        sent = world.run(day)
        if sent:
            received[day] = _kinds(sent)
    digest = "Le tue scadenze: 1 corso da completare"
    # Due within 14 days, then overdue for as long as the weekly repeats would go on.
    mondays = [D0 + timedelta(days=d) for d in (21, 28, 35, 42, 49, 56)]
    assert received == {
        D0: [f"Iscrizione al corso «{TITLE}»"],
        D0 + timedelta(days=16): [digest],  # the first day something is due within 14 days
        mondays[0]: [digest],
        mondays[1]: [digest],
        D0 + timedelta(days=31): [f"Il corso «{TITLE}» è scaduto"],  # cannot be switched off
        mondays[2]: [digest],
        mondays[3]: [digest],
        mondays[4]: [digest],
        mondays[5]: [digest],
    }
    # Then it stops, as the weekly overdue repeats would (REMINDER_OVERDUE_REPEATS = 3).
    for offset in range(57, 90):
        assert world.run(D0 + timedelta(days=offset)) == []
    last_digest = world.inbox[-1]
    assert "scaduto dal 31/03/2027" in _text(last_digest)
    assert "hai scelto un riepilogo settimanale" in _text(last_digest)


def test_leavers_and_deactivated_accounts_get_nothing(world, make_authority, make_user):
    staff = _db.session.get(StaffMember, world.staff.id)
    staff.left_on = D0
    _, other = _person(
        make_user, make_authority(), "VRDGPP80A01H501X", "giuseppe@example.org", active=False
    )
    _enrol(other, world.course, D0 + timedelta(days=30))
    for offset in range(40):
        assert world.run(D0 + timedelta(days=offset)) == []


def test_messages_are_in_the_persons_language(world):
    user = _db.session.get(User, world.user.id)
    user.locale = "en"
    _db.session.commit()
    (message,) = world.run(D0)
    assert str(message["Subject"]) == f"Enrolment in the course “{TITLE}”"
    assert "Dear Lucia D'Àngelo," in _text(message)
    assert 'lang="en"' in _html(message)


def test_reminder_days_are_checked():
    assert parse_reminder_days("3, 14,14") == (14, 3)
    assert parse_reminder_days("") == ()
    for bad in ("0", "366", "tre", "1.5", "²"):
        with pytest.raises(ReminderDaysError):
            parse_reminder_days(bad)


def test_a_deployment_with_no_reminder_days_sends_only_the_other_messages(
    world, new_app, smtp_settings
):
    world.mail_app = new_app(**smtp_settings, REMINDER_DAYS="", REMINDER_OVERDUE_REPEATS=0)
    for offset in range(60):
        world.run(D0 + timedelta(days=offset))
    assert _sent_kinds() == ["enrolled", "overdue:0"]


# --- SMTP down, deferrals and refusals -------------------------------------------------------


class _Picky:
    """An SMTP server that refuses one address for good and defers another."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_RCPT(self, _server, _session, envelope, address, _options):  # noqa: N802
        if address == "nobody@example.org":
            return "550 5.1.1 <nobody@example.org>: user unknown"
        if address == "later@example.org":
            return "451 4.7.1 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_smtp_down_sends_nothing_marks_nothing_and_retries_later(world, new_app, smtp_settings):
    down = new_app(**{**smtp_settings, "SMTP_PORT": _free_port()})  # nobody listens there
    with down.app_context():
        report = run_day(morning(D0))
    assert report.sent.server_down
    assert report.sent.sent == 0
    row = _db.session.query(Notification).one()
    _db.session.refresh(row)
    assert (row.status, row.sent_at, row.claimed_until) == (Status.PENDING, None, None)
    assert row.next_attempt_at > morning(D0)  # back off before the next try
    assert world.run(D0) == []  # too early: still backing off
    (message,) = world.run(D0 + timedelta(days=1))  # the server is back
    assert str(message["Subject"]).startswith("Iscrizione al corso")
    assert _sent_kinds() == ["enrolled"]


def test_a_refused_address_is_recorded_and_a_deferred_one_retried_with_back_off(
    world, make_authority, make_user
):

    authority = make_authority()
    _, nobody = _person(make_user, authority, "VRDGPP80A01H501X", "nobody@example.org")
    _, later = _person(make_user, authority, "BNCLRA80A41H501Y", "later@example.org")
    _enrol(nobody, world.course, D0 + timedelta(days=30))
    _enrol(later, world.course, D0 + timedelta(days=30))
    # Ids read here: an object of the test's session touched inside the mail app's
    # context would be loaded through that app's engine and hold its connection.
    later_id = later.id
    picky = _Picky()
    controller = Controller(picky, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        mail = world.mail_app
        port, mail.config["SMTP_PORT"] = mail.config["SMTP_PORT"], controller.port
        with mail.app_context():
            first = run_day(morning(D0)).sent
            assert (first.sent, first.refused, first.deferred) == (1, 1, 1)
            row = _db.session.query(Notification).filter_by(staff_id=later_id).one()
            first_wait = row.next_attempt_at - morning(D0)
            send_pending(row.next_attempt_at)  # deferred again
            _db.session.refresh(row)
            attempts = row.attempts
        assert first_wait == timedelta(minutes=5)
        assert attempts == 2
        # Each retry waits twice as long: 5, 10, 20 … minutes, at most a day.
        assert [retry_delay(n) for n in (1, 2, 3, 12)] == [
            timedelta(minutes=5),
            timedelta(minutes=10),
            timedelta(minutes=20),
            timedelta(days=1),
        ]
    finally:
        mail.config["SMTP_PORT"] = port
        controller.stop()
    refused = _db.session.query(Notification).filter_by(staff_id=nobody.id).one()
    assert refused.status is Status.REFUSED
    assert refused.last_error.startswith("550 5.1.1")
    staff = _db.session.get(StaffMember, nobody.id)
    _db.session.refresh(staff)
    assert staff.email_refused_at is not None
    assert staff.email_refused_reason.startswith("550 5.1.1")
    assert len(picky.messages) == 1  # only Lucia's got through
    # Nothing more goes to a refused address until it is corrected.
    for offset in range(1, 40):
        world.run(D0 + timedelta(days=offset))
    assert not [m for m in world.inbox if m["To"] == "nobody@example.org"]


@pytest.mark.usefixtures("world")
def test_giving_up_after_the_last_attempt(new_app, smtp_settings):
    flaky = new_app(**{**smtp_settings, "SMTP_PORT": _free_port()}, NOTIFY_MAX_ATTEMPTS=2)

    with flaky.app_context():
        plan_day(morning(D0))
        _db.session.commit()
        row = _db.session.query(Notification).one()
        report = SendReport()
        for _ in range(2):
            _record(row, Delivery(Outcome.DEFERRED, "451 later"), morning(D0), report)
    assert (row.status, row.attempts, report.failed) == (Status.FAILED, 2, 1)


# --- The HR manager's weekly digest -----------------------------------------------------------


def test_each_hr_manager_digest_lists_exactly_their_areas_changes(
    world, make_authority, make_user, make_region
):
    calabria = make_region("18")
    cosenza = make_authority(region_code="18", name="Comune di Cosenza")
    palermo = make_authority(region_code="19", name="Comune di Palermo")
    course = _course("appalti", "Appalti pubblici")
    people = {}
    for cf, email, authority, due in (
        ("AAAAAA80A01H501A", "a@example.org", cosenza, D0 + timedelta(days=3)),  # overdue in week 1
        ("BBBBBB80A01H501B", "b@example.org", cosenza, D0 + timedelta(days=40)),  # completes
        ("CCCCCC80A01H501C", "c@example.org", palermo, D0 + timedelta(days=4)),  # overdue, Sicily
    ):
        user, staff = _person(make_user, authority, cf, email)
        _enrol(staff, course, due)
        people[email] = (user, staff)
    _db.session.add(
        CourseCompletion(
            user_id=people["b@example.org"][0].id,
            course_id=course.id,
            completed_at=morning(D0 + timedelta(days=2)),
        )
    )
    make_user(Role.HR, email="hr.cal@example.org", scope=[calabria], first_name="Carla")
    make_user(Role.HR, email="hr.sic@example.org", scope=[palermo])
    make_user(Role.HR, email="hr.quiet@example.org", scope=[make_authority(name="Comune Quieto")])
    _db.session.commit()
    next_monday = D0 + timedelta(days=7)
    sent = world.run(next_monday)
    digests = {m["To"]: m for m in sent if "Riepilogo settimanale" in str(m["Subject"])}
    assert set(digests) == {"hr.cal@example.org", "hr.sic@example.org"}  # not the quiet area
    text = _text(digests["hr.cal@example.org"])
    assert "Corsi scaduti senza essere completati: 1" in text
    assert "Corsi completati: 1" in text
    assert "dal 01/03/2027 al 07/03/2027" in text
    assert "Comune di Cosenza" in text
    assert "Palermo" not in text
    assert "https://formazione.example.it/reports/" in text
    assert f"https://formazione.example.it/personale/{people['a@example.org'][1].id}" in text
    sicily = _text(digests["hr.sic@example.org"])
    assert "Corsi scaduti senza essere completati: 1" in sicily
    assert "Cosenza" not in sicily
    assert "Corsi completati: 0" in sicily
    quiet = _db.session.query(Notification).filter_by(kind="hr-digest", status=Status.EMPTY).one()
    assert quiet.user.email == "hr.quiet@example.org"
    # The next week covers only the next week: nothing new for Sicily, so no digest.
    sent = world.run(next_monday + timedelta(days=7))
    assert [m["To"] for m in sent if "Riepilogo" in str(m["Subject"])] == []


def test_lms_notify_run_sends_in_each_readers_language_and_refuses_bad_settings(world):
    runner = world.mail_app.test_cli_runner()
    with world.mail_app.app_context():
        result = runner.invoke(args=["notify", "run", "--date", D0.isoformat()])
    assert result.exit_code == 0, result.output
    assert "enrolled 1" in result.output
    (message,) = world.inbox
    assert str(message["Subject"]) == f"Iscrizione al corso «{TITLE}»"  # the learner's Italian
    world.mail_app.config["REMINDER_DAYS"] = "14,abc"
    try:
        with world.mail_app.app_context():
            result = runner.invoke(args=["notify", "run", "--plan-only"])
    finally:
        world.mail_app.config["REMINDER_DAYS"] = "14,3"
    assert result.exit_code == 1
    assert "“abc” is not a number of days between 1 and 365" in result.output


def test_the_reminder_preference_is_ones_own_and_checked(client: FlaskClient, login_as):
    learner = login_as(Role.LEARNER)
    token = csrf_token(client, "/profilo/")
    bad = client.post("/profilo/promemoria", data={"csrf_token": token, "reminders": "never"})
    assert bad.status_code == 400
    ok = client.post("/profilo/promemoria", data={"csrf_token": token, "reminders": "digest"})
    assert ok.status_code == 302
    assert ok.headers["Location"].endswith("/profilo/#promemoria")
    _db.session.expire_all()
    assert _db.session.get(User, learner.id).reminder_digest is True
    assert 'id="reminders-digest" value="digest" checked' in client.get("/profilo/").get_data(
        as_text=True
    )
    assert _db.session.query(AuditEntry).count() == 0  # a learner's own choice
    client.post("/logout", data={"csrf_token": csrf_token(client, "/profilo/")})
    manager = login_as(Role.HR)
    token = csrf_token(client, "/profilo/")
    client.post("/profilo/promemoria", data={"csrf_token": token, "reminders": "digest"})
    (entry,) = _db.session.query(AuditEntry).all()
    assert (entry.action, entry.actor_id) == ("user.reminders", manager.id)
