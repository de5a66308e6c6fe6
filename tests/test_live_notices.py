"""Live sessions' notices by e-mail and in the calendar feed (lms/notifications, issue #17).

Every message goes through a real SMTP server on loopback (aiosmtpd) and is read
back with the standard library's parser; the ``.ics`` parts and the feed are read
with icalendar and their times checked in Europe/Rome. The jobs are given the
moment to run at; an edition's changes are the audit entries of
:func:`lms.live.operations.update_edition`, written at the real moment, so the
tests run around the real clock (editions some weeks ahead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from icalendar import Calendar
from live_world import LiveWorld, build_live_world
from sqlalchemy import select, update

from lms.auth.models import User
from lms.core.types import ROME, today_in_italy, utcnow
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.live.models import LiveEdition, LiveSignup, SignupStatus
from lms.live.operations import (
    EditionDetails,
    cancel_edition,
    give_up,
    rome_start,
    sign_up,
    update_edition,
)
from lms.notifications.feed import feed_token
from lms.notifications.jobs import run_day, run_events
from lms.notifications.models import Notification, Status, kind_of, session_kind
from lms.notifications.plan import plan_day
from lms.notifications.send import send_pending
from lms.register.models import StaffMember

HOST = "formazione.example.it"
ORGANIZER = "formazione@coesione.example.it"
MEETING = "https://teams.example.org/l/meetup-join/prova"
SESSION = "Webinar di progettazione"


def morning(day: date) -> datetime:
    """07:00 in Italy on *day*: when the daily job runs."""
    return datetime.combine(day, time(7), tzinfo=ROME).astimezone(UTC)


def next_date(month: int, day: int) -> date:
    """The next *month*/*day* at least three weeks ahead."""
    today = today_in_italy()
    for year in (today.year, today.year + 1, today.year + 2):
        candidate = date(year, month, day)
        if candidate > today + timedelta(days=21):
            return candidate
    raise AssertionError("unreachable")


@dataclass
class Mail:
    app: Flask
    inbox: list[EmailMessage]

    def events(self, now: datetime | None = None) -> list[EmailMessage]:
        """Run the five-minute job at *now* (by default the real moment); the messages sent."""
        before = len(self.inbox)
        with self.app.app_context():
            run_events(now or utcnow())
        _db.session.expire_all()
        return self.inbox[before:]

    def day(self, day: date) -> list[EmailMessage]:
        """Run the daily job on the morning of *day*; the messages sent."""
        before = len(self.inbox)
        with self.app.app_context():
            run_day(morning(day))
        _db.session.expire_all()
        return self.inbox[before:]


@pytest.fixture
def w(make_user, make_authority, make_region) -> LiveWorld:
    return build_live_world(make_user, make_authority, make_region)


@pytest.fixture
def mail(new_app: Callable[..., Flask], smtp_server, smtp_settings) -> Mail:
    app = new_app(
        **smtp_settings,
        BASE_URL=f"https://{HOST}",
        MAIL_FROM=f"Formazione Coesione <{ORGANIZER}>",
    )
    return Mail(app, smtp_server.messages)


def someone(w: LiveWorld, **kwargs: object) -> StaffMember:
    """A person enrolled in the course weeks ago (their enrolment's own message is old news)."""
    staff = w.person(**kwargs)  # type: ignore[arg-type]
    _db.session.execute(
        update(Enrolment)
        .where(Enrolment.staff_id == staff.id)
        .values(enrolled_at=utcnow() - timedelta(days=30))
    )
    _db.session.commit()
    return staff


def account(staff: StaffMember) -> User:
    user = _db.session.get(User, staff.user_id)
    assert user is not None
    return user


def book(edition: LiveEdition, staff: StaffMember) -> LiveSignup:
    signup = sign_up(edition, staff, account(staff))
    _db.session.commit()
    return signup


def edition_at(w: LiveWorld, day: date, at: time = time(10), **kwargs: object) -> LiveEdition:
    return w.edition(starts_at=rome_start(day, at), **kwargs)


def details(edition: LiveEdition, **changes: object) -> EditionDetails:
    values: dict[str, object] = {
        "starts_at": edition.starts_at,
        "minutes": edition.minutes,
        "place": edition.place,
        "meeting_url": edition.meeting_url,
        "capacity": edition.capacity,
        "trainer": edition.trainer,
        "notes": edition.notes,
    }
    values.update(changes)
    return EditionDetails(**values)  # type: ignore[arg-type]


def ics(message: EmailMessage) -> tuple[Calendar, str]:
    """The message's calendar part, parsed, and its Content-Type's method."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    part = parts[0]
    return Calendar.from_ical(part.get_content()), str(part.get_param("method"))


def only_event(calendar: Calendar):
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def rows(kind_prefix: str) -> list[Notification]:
    return list(
        _db.session.scalars(
            select(Notification)
            .where(Notification.kind.like(f"{kind_prefix}%"))
            .order_by(Notification.id)
        )
    )


# The invitation ------------------------------------------------------------------------


def test_a_seat_brings_an_invitation_with_its_event_once(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)  # summer time: 10:00 in Italy is 08:00 UTC
    edition = edition_at(w, day, minutes=90)
    person = someone(w, first_name="Lucia", last_name="D'Àngelo")
    book(edition, person)

    [message] = mail.events()
    assert message["To"] == person.email
    assert str(message["Subject"]) == (
        f"Posto confermato: «{SESSION}», {day.strftime('%d/%m/%Y')} alle 10:00"
    )
    body = text(message)
    assert "la tua prenotazione è confermata" in body
    assert f"{day.strftime('%d/%m/%Y')}, dalle 10:00 alle 11:30 (ora italiana)" in body
    assert MEETING in body
    assert f"https://{HOST}/courses/webinar-prova/webinar/" in body

    calendar, method = ics(message)
    assert method == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = only_event(calendar)
    assert str(event["UID"]) == f"edition-{edition.id}-staff-{person.id}@{HOST}"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime.combine(day, time(10), tzinfo=ROME)
    assert str(start.tzinfo) == "Europe/Rome"
    assert start.utcoffset() == timedelta(hours=2)
    assert end - start == timedelta(minutes=90)
    assert event["DTSTART"].params["TZID"] == "Europe/Rome"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Rome"]
    assert str(event["LOCATION"]) == MEETING
    assert str(event["URL"]) == MEETING
    assert str(event["ORGANIZER"]) == f"mailto:{ORGANIZER}"
    assert str(event["ORGANIZER"].params["CN"]) == "Formazione Coesione"
    assert str(event["ATTENDEE"]) == f"mailto:{person.email}"
    assert event.decoded("SEQUENCE") == 0
    assert str(event["STATUS"]) == "CONFIRMED"

    assert mail.events() == []  # exactly once
    assert mail.day(today_in_italy()) == []
    [row] = rows("invite:")
    assert row.status is Status.SENT
    assert row.enrolment_id is None


def test_a_winter_edition_is_at_its_italian_time_too(w: LiveWorld, mail: Mail):
    day = next_date(1, 20)  # CET: UTC+1
    edition = edition_at(w, day, time(9, 30), place="Aula 3, via Roma 1, Napoli", meeting_url="")
    book(edition, someone(w))
    [message] = mail.events()
    event = only_event(ics(message)[0])
    start = event.decoded("DTSTART")
    assert start == datetime.combine(day, time(9, 30), tzinfo=ROME)
    assert start.utcoffset() == timedelta(hours=1)
    assert str(event["LOCATION"]) == "Aula 3, via Roma 1, Napoli"
    assert str(event["URL"]) == f"https://{HOST}/courses/webinar-prova/webinar/"


def test_a_seat_from_the_waiting_list_is_announced_as_such(w: LiveWorld, mail: Mail):
    edition = edition_at(w, next_date(7, 15), capacity=1)
    first, second = someone(w), someone(w)
    book(edition, first)
    assert book(edition, second).status is SignupStatus.WAITING
    assert [m["To"] for m in mail.events()] == [first.email]  # nobody invites the waiting

    give_up(edition, first, account(first))
    _db.session.commit()
    sent = {m["To"]: m for m in mail.events()}
    assert set(sent) == {first.email, second.email}
    assert ics(sent[first.email])[1] == "CANCEL"  # the seat given up leaves their calendar
    message = sent[second.email]
    assert str(message["Subject"]).startswith(f"Si è liberato un posto per te: «{SESSION}»")
    assert "si è liberato un posto e ora è tuo" in text(message)
    assert ics(message)[1] == "REQUEST"
    assert mail.events() == []


def test_a_seat_given_up_before_its_invitation_went_sends_nothing(w: LiveWorld, mail: Mail):
    edition = edition_at(w, next_date(7, 15))
    person = someone(w)
    book(edition, person)
    with mail.app.app_context():
        plan_day()  # planned, not yet sent
        _db.session.commit()
    give_up(edition, person, account(person))
    _db.session.commit()
    with mail.app.app_context():
        send_pending()
    _db.session.expire_all()
    assert mail.inbox == []
    [row] = rows("invite:")
    assert (row.status, row.last_error) == (Status.CANCELLED, "no longer booked")


def test_nobody_unreachable_is_invited(w: LiveWorld, mail: Mail):
    edition = edition_at(w, next_date(7, 15))
    gone, off = someone(w), someone(w)
    book(edition, gone)
    book(edition, off)
    _db.session.get(StaffMember, gone.id).left_on = today_in_italy()
    account(off).active = False
    _db.session.commit()
    assert mail.events() == []
    assert rows("invite:") == []


def test_the_invitation_is_in_the_readers_language(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_at(w, day)
    person = someone(w)
    account(person).locale = "en"
    _db.session.commit()
    book(edition, person)
    [message] = mail.events()
    assert str(message["Subject"]) == (
        f"Seat confirmed: “{SESSION}”, {day.strftime('%d/%m/%Y')} at 10:00"
    )
    assert "your booking is confirmed" in text(message)


# The reminder the day before ----------------------------------------------------------


def test_the_reminder_comes_the_day_before_once(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_at(w, day)
    person = someone(w)
    book(edition, person)
    assert len(mail.events()) == 1  # the invitation
    received = {}
    for offset in range(5, -2, -1):
        on = day - timedelta(days=offset)
        sent = mail.day(on)
        assert mail.day(on) == []
        if sent:
            received[on] = [str(m["Subject"]) for m in sent]
    assert received == {day - timedelta(days=1): [f"Domani: «{SESSION}» alle 10:00"]}
    [row] = rows("remind:")
    assert row.on_date == day
    assert row.kind == f"remind:{edition.id}"


def test_who_books_the_day_before_gets_the_invitation_and_no_reminder(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_at(w, day)
    person = someone(w)
    signup = book(edition, person)
    # The seat taken on the day before, after the morning's run.
    taken = morning(day - timedelta(days=1)) + timedelta(hours=3)
    signup.updated_at = signup.signed_up_at = taken
    _db.session.commit()
    assert mail.day(day - timedelta(days=1)) != []  # the invitation only
    assert rows("remind:") == []


def test_an_edition_moved_to_another_day_moves_its_reminder(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_at(w, day)
    person = someone(w)
    book(edition, person)
    mail.events()
    # The reminder is planned on the day before, and the edition moves before it is sent.
    with mail.app.app_context():
        plan_day(morning(day - timedelta(days=1)))
        _db.session.commit()
    later = day + timedelta(days=2)
    update_edition(edition, details(edition, starts_at=rome_start(later, time(10))), w.trainer)
    _db.session.commit()
    with mail.app.app_context():
        send_pending(morning(day - timedelta(days=1)))
    _db.session.expire_all()
    [stale] = rows("remind:")
    assert (stale.status, stale.last_error) == (Status.CANCELLED, "edition moved to another day")
    sent = mail.day(later - timedelta(days=1))
    assert [str(m["Subject"]) for m in sent] == [f"Domani: «{SESSION}» alle 10:00"]


# Changes and cancellations ---------------------------------------------------------------


def test_a_change_of_time_is_told_once_with_the_updated_event(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_at(w, day)
    person = someone(w)
    book(edition, person)
    [invitation] = mail.events()
    uid = str(only_event(ics(invitation)[0])["UID"])

    update_edition(edition, details(edition, starts_at=rome_start(day, time(14, 30))), w.trainer)
    _db.session.commit()
    [message] = mail.events()
    assert str(message["Subject"]) == (
        f"Sessione modificata: «{SESSION}», ora il {day.strftime('%d/%m/%Y')} alle 14:30"
    )
    calendar, method = ics(message)
    event = only_event(calendar)
    assert method == "REQUEST"
    assert str(event["UID"]) == uid
    assert event.decoded("SEQUENCE") == 1
    assert event.decoded("DTSTART") == datetime.combine(day, time(14, 30), tzinfo=ROME)
    assert mail.events() == []

    # The number of seats is no news to the seat holders.
    update_edition(edition, details(edition, capacity=30), w.trainer)
    _db.session.commit()
    assert mail.events() == []

    # A second change: a second notice, a higher sequence.
    update_edition(edition, details(edition, minutes=180), w.trainer)
    _db.session.commit()
    [again] = mail.events()
    event = only_event(ics(again)[0])
    assert event.decoded("SEQUENCE") == 2
    assert event.decoded("DTEND") == datetime.combine(day, time(17, 30), tzinfo=ROME)
    assert [session_kind(r.kind)[0].value for r in rows("moved:")] == ["moved", "moved"]
    assert {kind_of(r.kind)[1] for r in rows("moved:")} == {edition.id}


def test_a_change_before_the_invitation_went_is_in_the_invitation_only(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_at(w, day)
    early, late = someone(w), someone(w)
    book(edition, early)
    mail.events()  # early's invitation
    update_edition(edition, details(edition, starts_at=rome_start(day, time(11))), w.trainer)
    _db.session.commit()
    book(edition, late)  # after the change
    sent = {m["To"]: str(m["Subject"]) for m in mail.events()}
    on = day.strftime("%d/%m/%Y")
    assert sent == {
        early.email: f"Sessione modificata: «{SESSION}», ora il {on} alle 11:00",
        late.email: f"Posto confermato: «{SESSION}», {on} alle 11:00",
    }


def test_a_cancellation_is_told_to_seat_holders_and_the_waiting(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_at(w, day, capacity=1)
    holder, waiting = someone(w), someone(w)
    book(edition, holder)
    book(edition, waiting)
    [invitation] = mail.events()
    uid = str(only_event(ics(invitation)[0])["UID"])

    cancel_edition(edition, w.trainer)
    _db.session.commit()
    sent = {m["To"]: m for m in mail.events()}
    assert set(sent) == {holder.email, waiting.email}
    subject = f"Sessione annullata: «{SESSION}» del {day.strftime('%d/%m/%Y')}"
    assert {str(m["Subject"]) for m in sent.values()} == {subject}
    calendar, method = ics(sent[holder.email])
    assert method == "CANCEL"
    assert str(calendar["METHOD"]) == "CANCEL"
    event = only_event(calendar)
    assert str(event["UID"]) == uid
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("SEQUENCE") == 1
    assert not [
        p for p in sent[waiting.email].walk() if p.get_content_type() == "text/calendar"
    ]  # the waiting had no event to take away
    assert "è stata annullata" in text(sent[waiting.email])
    assert mail.events() == []
    assert mail.day(day - timedelta(days=1)) == []  # no reminder of a cancelled session


# The calendar feed ----------------------------------------------------------------------


def test_the_feed_lists_the_booked_sessions_at_their_times(w: LiveWorld, web_app: Flask):
    day = next_date(7, 15)
    booked = edition_at(w, day, time(9, 15), minutes=45)
    cancelled = edition_at(w, day + timedelta(days=1))
    person, other = someone(w), someone(w)
    book(booked, person)
    book(cancelled, other)
    user = account(person)
    response = web_app.test_client().get(
        f"/calendario/{feed_token(web_app.config['SECRET_KEY'], user)}.ics"
    )
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.get_data())
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [f"Sessione: {SESSION}"]
    [event] = events
    assert str(event["UID"]) == f"session-{booked.id}@localhost"
    assert event.decoded("DTSTART") == datetime.combine(day, time(9, 15), tzinfo=ROME)
    assert event.decoded("DTEND") == datetime.combine(day, time(10, 0), tzinfo=ROME)
    assert str(event["LOCATION"]) == MEETING
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Rome"]
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-30)

    cancel_edition(booked, w.trainer)
    _db.session.commit()
    again = web_app.test_client().get(
        f"/calendario/{feed_token(web_app.config['SECRET_KEY'], user)}.ics"
    )
    assert Calendar.from_ical(again.get_data()).walk("VEVENT") == []
