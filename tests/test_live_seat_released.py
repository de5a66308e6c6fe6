"""The notice of a seat released: given up, or taken away by HR (lms/notifications, issue #17).

A seat given up after its invitation went leaves the event in the person's mail
program's calendar: the notice of the release withdraws it (``METHOD:CANCEL``, the
invitation's UID, a higher ``SEQUENCE``) and says who released it. Every message
goes through the real SMTP server on loopback and is read back; what each
person's calendar ends up holding is replayed from the ``.ics`` parts they got,
in order. Seats are booked and given up at given moments (a few days apart where
a test needs another day); HR's removals go through the web.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage

import pytest
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from live_world import LiveWorld, build_live_world
from sqlalchemy import select, update

from lms.auth.models import Role, User
from lms.core.types import ROME, today_in_italy, utcnow
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.live.models import LiveEdition, LiveSignup, SignupStatus
from lms.live.operations import cancel_edition, give_up, rome_start, sign_up
from lms.notifications.jobs import run_events
from lms.notifications.models import Kind, Notification, Status, session_kind
from lms.notifications.plan import plan_events
from lms.notifications.send import send_pending
from lms.register.models import StaffMember

HOST = "formazione.example.it"
ORGANIZER = "formazione@coesione.example.it"
SESSION = "Webinar di progettazione"
COURSE = "Laboratorio di prova"


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

    def plan(self, now: datetime | None = None) -> None:
        """Plan the events' messages and commit, sending nothing (a sender not yet run)."""
        with self.app.app_context():
            plan_events(now or utcnow())
            _db.session.commit()

    def send(self, now: datetime | None = None) -> list[EmailMessage]:
        before = len(self.inbox)
        with self.app.app_context():
            send_pending(now or utcnow())
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
    """A person enrolled in the course weeks ago (their enrolment's message is old news)."""
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


def book(edition: LiveEdition, staff: StaffMember, at: datetime | None = None) -> LiveSignup:
    signup = sign_up(edition, staff, account(staff), now=at)
    _db.session.commit()
    return signup


def leave(edition: LiveEdition, staff: StaffMember, at: datetime | None = None) -> None:
    """*staff* gives their own seat up (at *at*)."""
    give_up(edition, staff, account(staff), now=at)
    _db.session.commit()


def edition_on(w: LiveWorld, day: date, **kwargs: object) -> LiveEdition:
    return w.edition(starts_at=rome_start(day, time(10)), **kwargs)  # type: ignore[arg-type]


def ics(message: EmailMessage) -> tuple[Calendar, str]:
    """The message's calendar part, parsed, and its Content-Type's method."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    return Calendar.from_ical(parts[0].get_content()), str(parts[0].get_param("method"))


def event_of(message: EmailMessage):
    calendar, method = ics(message)
    assert str(calendar["METHOD"]) == method
    [event] = calendar.walk("VEVENT")
    return event, method


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def html(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return body.get_content()


def uid(edition: LiveEdition, staff: StaffMember) -> str:
    return f"edition-{edition.id}-staff-{staff.id}@{HOST}"


def calendar_after(messages: list[EmailMessage], address: str) -> dict[str, tuple[str, int]]:
    """What *address*'s mail program holds after reading *messages* in order: UID → (method, seq).

    A REQUEST adds or updates the event (when its SEQUENCE is not lower), a CANCEL of
    a higher SEQUENCE removes it, as RFC 5546 asks a calendar to do.
    """
    held: dict[str, tuple[str, int]] = {}
    last_sequence: dict[str, int] = {}
    for message in messages:
        if message["To"] != address:
            continue
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        for part in parts:
            calendar = Calendar.from_ical(part.get_content())
            for event in calendar.walk("VEVENT"):
                key, sequence = str(event["UID"]), int(event.decoded("SEQUENCE"))
                assert sequence >= last_sequence.get(key, -1), (key, sequence)
                if sequence == last_sequence.get(key) and str(calendar["METHOD"]) == "CANCEL":
                    raise AssertionError(f"a CANCEL of {key} with the same SEQUENCE {sequence}")
                last_sequence[key] = sequence
                if str(calendar["METHOD"]) == "CANCEL":
                    held.pop(key, None)
                else:
                    held[key] = ("REQUEST", sequence)
    return held


def rows(kind_prefix: str) -> list[Notification]:
    return list(
        _db.session.scalars(
            select(Notification)
            .where(Notification.kind.like(f"{kind_prefix}%"))
            .order_by(Notification.id)
        )
    )


def status(edition: LiveEdition, staff: StaffMember) -> SignupStatus:
    signup = _db.session.scalar(
        select(LiveSignup).where(
            LiveSignup.edition_id == edition.id, LiveSignup.staff_id == staff.id
        )
    )
    assert signup is not None
    return signup.status


# Given up by the person ------------------------------------------------------------------


def test_a_seat_given_up_after_the_invitation_withdraws_the_event(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_on(w, day)
    person = someone(w, first_name="Lucia", last_name="Ferri")
    book(edition, person)
    [invitation] = mail.events()
    invited, method = event_of(invitation)
    assert (method, str(invited["UID"]), invited.decoded("SEQUENCE")) == (
        "REQUEST",
        uid(edition, person),
        0,
    )

    leave(edition, person)
    [message] = mail.events()
    assert message["To"] == person.email
    on = day.strftime("%d/%m/%Y")
    assert str(message["Subject"]) == f"Hai rinunciato al posto: «{SESSION}» del {on}"
    body = text(message)
    assert (
        f"hai rinunciato al tuo posto nella sessione «{SESSION}» del corso «{COURSE}»,"
        f" prevista il {on} alle 10:00." in body
    )
    assert "annullamento.ics" in body
    assert f"https://{HOST}/courses/webinar-prova/webinar/" in body  # to book again
    assert "ufficio del personale" not in body.split("-- ")[0]  # nobody else did it
    assert "hai rinunciato al tuo posto" in html(message)
    event, method = event_of(message)
    assert method == "CANCEL"
    assert str(event["UID"]) == str(invited["UID"])
    assert event.decoded("SEQUENCE") == 1
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("DTSTART") == datetime.combine(day, time(10), tzinfo=ROME)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "annullamento.ics"

    assert mail.events() == []  # once
    [row] = rows("freed:")
    assert row.kind == f"freed:{edition.id}:{rows('invite:')[0].id}"
    assert session_kind(row.kind) == (Kind.SESSION_RELEASED, edition.id, rows("invite:")[0].id)
    assert (row.status, row.on_date, row.enrolment_id) == (Status.SENT, utcnow().date(), None)
    assert calendar_after(mail.inbox, person.email) == {}


def test_planning_twice_sends_one_notice(w: LiveWorld, mail: Mail):
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    book(edition, person)
    mail.events()
    leave(edition, person)
    mail.plan()
    mail.plan()
    with mail.app.app_context():  # and a second worker's plan, in its own transaction
        assert plan_events().counts == {}
        _db.session.commit()
    assert len(rows("freed:")) == 1
    assert [event_of(m)[1] for m in mail.send()] == ["CANCEL"]
    assert mail.events() == []
    assert mail.send() == []


def test_given_up_before_the_invitation_went_sends_nothing(w: LiveWorld, mail: Mail):
    edition = edition_on(w, next_date(7, 15))
    quick, planned = someone(w), someone(w)
    # Booked and given up between two runs: nothing planned, nothing sent.
    book(edition, quick)
    leave(edition, quick)
    # Booked, the invitation planned, given up before the sender's turn.
    book(edition, planned)
    mail.plan()
    leave(edition, planned)
    assert mail.events() == []
    assert mail.events() == []
    [invitation] = rows("invite:")
    assert invitation.staff_id == planned.id
    assert (invitation.status, invitation.last_error) == (Status.CANCELLED, "no longer booked")
    assert rows("freed:") == []
    assert rows("rebook:") == []


def test_the_waiting_list_person_moved_up_gets_the_invitation(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_on(w, day, capacity=1)
    holder, waiting = someone(w), someone(w)
    book(edition, holder)
    assert book(edition, waiting).status is SignupStatus.WAITING
    assert [m["To"] for m in mail.events()] == [holder.email]

    leave(edition, holder)
    assert status(edition, waiting) is SignupStatus.BOOKED
    sent = {m["To"]: m for m in mail.events()}
    assert set(sent) == {holder.email, waiting.email}
    on = day.strftime("%d/%m/%Y")
    assert str(sent[holder.email]["Subject"]) == f"Hai rinunciato al posto: «{SESSION}» del {on}"
    assert str(sent[waiting.email]["Subject"]) == (
        f"Si è liberato un posto per te: «{SESSION}», {on} alle 10:00"
    )
    released, method = event_of(sent[holder.email])
    assert (method, str(released["UID"]), released.decoded("SEQUENCE")) == (
        "CANCEL",
        uid(edition, holder),
        1,
    )
    invited, method = event_of(sent[waiting.email])
    assert (method, str(invited["UID"]), invited.decoded("SEQUENCE")) == (
        "REQUEST",
        uid(edition, waiting),
        0,
    )
    assert mail.events() == []
    assert calendar_after(mail.inbox, holder.email) == {}
    assert calendar_after(mail.inbox, waiting.email) == {uid(edition, waiting): ("REQUEST", 0)}


# Taken away by HR, or by an administrator -------------------------------------------------


def test_an_hr_removal_is_told_with_the_event_withdrawn(
    w: LiveWorld, mail: Mail, client: FlaskClient
):
    day = next_date(7, 15)
    edition = edition_on(w, day)
    person = someone(w, first_name="Gina", last_name="Campana")
    book(edition, person)
    [invitation] = mail.events()
    hr = w.make_user(Role.HR, scope=[w.campania])
    login(client, hr.email)
    token = csrf_token(client, f"/sessioni/{edition.id}/")
    response = client.post(
        f"/sessioni/{edition.id}/rimuovi", data={"csrf_token": token, "staff_id": person.id}
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert status(edition, person) is SignupStatus.CANCELLED

    [message] = mail.events()
    assert message["To"] == person.email
    on = day.strftime("%d/%m/%Y")
    assert str(message["Subject"]) == f"Il tuo posto è stato annullato: «{SESSION}» del {on}"
    body = text(message)
    assert (
        f"il tuo ufficio del personale ha annullato il tuo posto nella sessione «{SESSION}»" in body
    )
    assert "Se pensi che sia un errore, rivolgiti al tuo ufficio del personale." in body
    assert "hai rinunciato" not in body
    assert "il tuo ufficio del personale ha annullato" in html(message)
    event, method = event_of(message)
    assert method == "CANCEL"
    assert str(event["UID"]) == str(event_of(invitation)[0]["UID"]) == uid(edition, person)
    assert event.decoded("SEQUENCE") == 1
    assert mail.events() == []
    assert calendar_after(mail.inbox, person.email) == {}


def test_an_administrators_removal_names_the_platform(w: LiveWorld, mail: Mail):
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    book(edition, person)
    mail.events()
    admin = w.make_user(Role.ADMIN)
    give_up(edition, person, admin)
    _db.session.commit()
    [message] = mail.events()
    assert "l'amministrazione della piattaforma ha annullato il tuo posto" in text(message)
    assert event_of(message)[1] == "CANCEL"


def test_booked_by_hr_and_given_up_by_oneself_is_ones_own(w: LiveWorld, mail: Mail):
    """Who booked does not say who released: an HR booking given up by the person."""
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    hr = w.make_user(Role.HR, scope=[w.campania])
    sign_up(edition, person, hr)
    _db.session.commit()
    mail.events()
    leave(edition, person)
    [message] = mail.events()
    assert str(message["Subject"]).startswith("Hai rinunciato al posto")


def test_removed_by_hr_then_booked_again_and_given_up_by_oneself(w: LiveWorld, mail: Mail):
    """An earlier removal by HR is not this release's: each notice tells its own."""
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    hr = w.make_user(Role.HR, scope=[w.campania])
    book(edition, person)
    mail.events()
    give_up(edition, person, hr)
    _db.session.commit()
    [first] = mail.events()
    assert str(first["Subject"]).startswith("Il tuo posto è stato annullato")
    book(edition, person)  # booked again after the removal (audited before this booking)
    [again] = mail.events()
    assert str(again["Subject"]).startswith("Posto confermato")
    leave(edition, person)
    [second] = mail.events()
    assert str(second["Subject"]).startswith("Hai rinunciato al posto")
    assert calendar_after(mail.inbox, person.email) == {}


# Booking again, releasing again ------------------------------------------------------------


def test_another_day_brings_a_new_invitation_and_a_new_notice(w: LiveWorld, mail: Mail):
    start = utcnow()
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    book(edition, person, start)
    assert len(mail.events(start)) == 1
    sequences = []
    for step in range(4):  # released, booked again, released, booked again: a day each
        at = start + timedelta(days=step + 1)
        if step % 2 == 0:
            leave(edition, person, at)
        else:
            book(edition, person, at)
        sent = mail.events(at + timedelta(minutes=5))
        assert len(sent) == 1, step
        event, method = event_of(sent[0])
        assert str(event["UID"]) == uid(edition, person)
        assert method == ("CANCEL" if step % 2 == 0 else "REQUEST")
        sequences.append(event.decoded("SEQUENCE"))
        assert mail.events(at + timedelta(minutes=10)) == []
    assert sequences == [1, 2, 3, 4]
    assert [r.on_date for r in rows("invite:")] == [
        (start + timedelta(days=n)).date() for n in (0, 2, 4)
    ]
    assert len(rows("freed:")) == 2
    assert rows("rebook:") == []
    assert calendar_after(mail.inbox, person.email) == {uid(edition, person): ("REQUEST", 4)}


def test_the_same_day_ends_in_the_right_state(w: LiveWorld, mail: Mail):
    """Booked, given up, booked again, given up again, booked again: each step told."""
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    book(edition, person)
    assert [event_of(m)[1] for m in mail.events()] == ["REQUEST"]
    methods = []
    for step in range(4):
        if step % 2 == 0:
            leave(edition, person)
        else:
            book(edition, person)
        sent = mail.events()
        methods += [event_of(m)[1] for m in sent]
        held = calendar_after(mail.inbox, person.email)
        assert (uid(edition, person) in held) == (step % 2 == 1), step
        assert mail.events() == []
    assert methods == ["CANCEL", "REQUEST", "CANCEL", "REQUEST"]
    subjects = [str(m["Subject"]).split(":")[0] for m in mail.inbox]
    assert subjects == ["Posto confermato", *["Hai rinunciato al posto", "Posto confermato"] * 2]
    # One invitation a day; the next ones of the same day answer the notices of release.
    assert len(rows("invite:")) == 1
    freed, rebooked = rows("freed:"), rows("rebook:")
    assert [r.kind for r in rebooked] == [f"rebook:{edition.id}:{r.id}" for r in freed]
    assert calendar_after(mail.inbox, person.email) == {uid(edition, person): ("REQUEST", 4)}


def test_booked_again_before_the_notice_went_sends_nothing_until_released_again(
    w: LiveWorld, mail: Mail
):
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    book(edition, person)
    mail.events()
    leave(edition, person)
    mail.plan()  # the notice planned...
    book(edition, person)  # ... and the seat taken back before it went
    assert mail.send() == []
    [row] = rows("freed:")
    assert (row.status, row.last_error) == (Status.CANCELLED, "booked again")
    assert mail.events() == []  # the event the invitation added is still right
    assert calendar_after(mail.inbox, person.email) == {uid(edition, person): ("REQUEST", 0)}

    leave(edition, person)  # given up again, the same day: the same notice goes now
    [message] = mail.events()
    assert event_of(message)[1] == "CANCEL"
    [row] = rows("freed:")
    assert row.status is Status.SENT
    assert mail.events() == []
    assert calendar_after(mail.inbox, person.email) == {}


def test_an_invitation_dropped_the_same_day_goes_when_booked_again(w: LiveWorld, mail: Mail):
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    book(edition, person)
    mail.plan()
    leave(edition, person)
    assert mail.send() == []  # the invitation dropped: the seat was given up
    book(edition, person)  # booked again the same day
    [message] = mail.events()
    assert str(message["Subject"]).startswith("Posto confermato")
    assert event_of(message)[1] == "REQUEST"
    [row] = rows("invite:")
    assert row.status is Status.SENT
    assert rows("freed:") == []
    assert calendar_after(mail.inbox, person.email) == {uid(edition, person): ("REQUEST", 0)}


def test_given_up_and_back_on_the_waiting_list(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_on(w, day, capacity=1)
    person, other = someone(w), someone(w)
    book(edition, person)
    mail.events()
    leave(edition, person)
    book(edition, other)  # takes the free seat
    assert book(edition, person).status is SignupStatus.WAITING  # and the person queues
    sent = {m["To"]: m for m in mail.events()}
    assert set(sent) == {person.email, other.email}
    message = sent[person.email]
    on = day.strftime("%d/%m/%Y")
    assert str(message["Subject"]) == f"Sei in lista d'attesa: «{SESSION}» del {on}"
    assert "ora sei in lista d'attesa" in text(message)
    assert event_of(message)[1] == "CANCEL"
    assert calendar_after(mail.inbox, person.email) == {}


# Other states of the edition ----------------------------------------------------------------


def test_an_edition_called_off_after_the_release_still_withdraws_the_event(
    w: LiveWorld, mail: Mail
):
    edition = edition_on(w, next_date(7, 15))
    person, holder = someone(w), someone(w)
    book(edition, person)
    book(edition, holder)
    mail.events()
    leave(edition, person)
    cancel_edition(edition, w.trainer)
    _db.session.commit()
    sent = {m["To"]: m for m in mail.events()}
    # The seat holder hears of the cancellation; who gave the seat up, of their release.
    assert str(sent[holder.email]["Subject"]).startswith("Sessione annullata")
    assert str(sent[person.email]["Subject"]).startswith("Hai rinunciato al posto")
    assert "prenotare di nuovo" not in text(sent[person.email])
    for address in (person.email, holder.email):
        assert event_of(sent[address])[1] == "CANCEL"
        assert calendar_after(mail.inbox, address) == {}
    assert mail.events() == []


def test_told_of_the_cancellation_then_given_up_gets_no_second_notice(w: LiveWorld, mail: Mail):
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    book(edition, person)
    mail.events()
    cancel_edition(edition, w.trainer)
    _db.session.commit()
    [cancelled] = mail.events()
    assert event_of(cancelled)[1] == "CANCEL"
    leave(edition, person)
    assert mail.events() == []
    assert rows("freed:") == []


def test_nothing_after_the_edition_started(w: LiveWorld, mail: Mail):
    edition = edition_on(w, next_date(7, 15))
    person = someone(w)
    book(edition, person)
    mail.events()
    leave(edition, person)
    mail.plan()
    started = edition.starts_at + timedelta(minutes=1)
    assert mail.send(started) == []
    [row] = rows("freed:")
    assert (row.status, row.last_error) == (Status.CANCELLED, "edition started")


def test_nobody_unreachable_is_told(w: LiveWorld, mail: Mail):
    edition = edition_on(w, next_date(7, 15))
    gone, off = someone(w), someone(w)
    book(edition, gone)
    book(edition, off)
    mail.events()
    leave(edition, gone)
    leave(edition, off)
    _db.session.get(StaffMember, gone.id).left_on = today_in_italy()
    account(off).active = False
    _db.session.commit()
    assert mail.events() == []
    assert rows("freed:") == []


def test_the_notice_is_in_the_readers_language(w: LiveWorld, mail: Mail):
    day = next_date(7, 15)
    edition = edition_on(w, day)
    person = someone(w)
    account(person).locale = "en"
    _db.session.commit()
    book(edition, person)
    mail.events()
    leave(edition, person)
    [message] = mail.events()
    on = day.strftime("%d/%m/%Y")
    assert str(message["Subject"]) == f"You gave up your seat: “{SESSION}” on {on}"
    assert "you gave up your seat in the session" in text(message)
    assert "you gave up your seat in the session" in html(message)
    assert event_of(message)[1] == "CANCEL"
