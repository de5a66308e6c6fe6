"""Live sessions in the mail and in the calendar: what a notice says, and its iCalendar part.

The planner (:mod:`lms.notifications.plan`) decides who is due an invitation, a
reminder, the notice of a change or of a cancellation; here each planned row is
checked again when its turn comes (is the seat still held? the edition still on
that day? not called off?) and given what the message shows.

**The invitation** (``METHOD:REQUEST``) and **the notice of a change** (the same,
with a higher ``SEQUENCE``) carry one event whose UID is the edition's and the
person's (:func:`invitation_uid`), so that a mail program updates the event it
added from the invitation rather than adding another; **a cancellation** carries
``METHOD:CANCEL`` with the same UID. Times are Italy's (``TZID=Europe/Rome``, with
its ``VTIMEZONE``). The organiser is the programme's address (``LMS_MAIL_FROM``);
replies are not read (``RSVP=FALSE``).

**The calendar feed** lists the person's booked editions (:func:`booked_sessions`)
under UIDs of its own (``session-<edition>@host``): a subscribed calendar and the
invitations in the mailbox's calendar are two calendars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import Final

from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import func, or_, select

from lms.auth.models import User
from lms.core.types import ROME, rome_date
from lms.courses.models import Course, Module
from lms.extensions import db
from lms.live.models import LiveEdition, LiveSignup, SignupStatus
from lms.notifications.models import Kind, Notification, Status, session_kind
from lms.register.models import StaffMember

#: How far back the calendar feed shows sessions held.
FEED_PAST_DAYS: Final = 30


@dataclass(frozen=True)
class SessionNotice:
    """What one planned notice about an edition is to say, as things stand now."""

    kind: Kind
    edition: LiveEdition
    module: Module
    course: Course
    signup: LiveSignup
    #: The seat came from the waiting list (an invitation's wording).
    promoted: bool
    #: ``REQUEST`` or ``CANCEL`` for a notice that carries the event; None: no attachment.
    method: str | None
    #: The event's revision: how many of its notices went to the person before.
    sequence: int


def invitation_uid(edition_id: int, staff_id: int, host: str) -> str:
    """The UID of *staff_id*'s event for the edition: the same in every notice about it."""
    return f"edition-{edition_id}-staff-{staff_id}@{host}"


def _sent_before(notification: Notification, edition_id: int) -> int:
    """How many notices with the edition's event went to the person before *notification*."""
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.staff_id == notification.staff_id,
                Notification.enrolment_id.is_(None),
                Notification.status == Status.SENT,
                Notification.id != notification.id,
                or_(
                    Notification.kind == f"{Kind.SESSION_INVITE.value}:{edition_id}",
                    Notification.kind.like(f"{Kind.SESSION_MOVED.value}:{edition_id}:%"),
                    Notification.kind == f"{Kind.SESSION_CANCELLED.value}:{edition_id}",
                ),
            )
        )
        or 0
    )


def _superseded(notification: Notification, edition_id: int) -> bool:
    """A later change of the same edition is planned for the same person."""
    return (
        db.session.scalar(
            select(Notification.id).where(
                Notification.staff_id == notification.staff_id,
                Notification.enrolment_id.is_(None),
                Notification.id > notification.id,
                Notification.kind.like(f"{Kind.SESSION_MOVED.value}:{edition_id}:%"),
                Notification.status.in_((Status.PENDING, Status.SENT)),
            )
        )
        is not None
    )


def _stale(
    kind: Kind,
    edition: LiveEdition,
    signup: LiveSignup | None,
    notification: Notification,
    now: datetime,
) -> str | None:
    """Why a notice of a seat (not a cancellation) is no longer true, if it is not."""
    if edition.starts_at <= now:
        return "edition started"
    if edition.cancelled_at is not None:
        return "edition cancelled"
    if signup is None or signup.status is not SignupStatus.BOOKED:
        return "no longer booked"
    if kind is Kind.SESSION_REMINDER and rome_date(edition.starts_at) != notification.on_date:
        return "edition moved to another day"
    if kind is Kind.SESSION_MOVED and _superseded(notification, edition.id):
        return "superseded by a later change"
    return None


def session_notice(notification: Notification, now: datetime) -> SessionNotice | str:
    """What *notification* is to say, or why it should no longer go (a short reason)."""
    parsed = session_kind(notification.kind)
    edition = db.session.get(LiveEdition, parsed[1]) if parsed is not None else None
    if parsed is None or edition is None:
        return "no such edition"
    kind = parsed[0]
    signup = db.session.scalar(
        select(LiveSignup).where(
            LiveSignup.edition_id == edition.id, LiveSignup.staff_id == notification.staff_id
        )
    )
    module = edition.module
    if module.retired_at is not None or module.course.retired_at is not None:
        return "course retired"
    if kind is Kind.SESSION_CANCELLED:
        # Cancelling is for good; who gave the seat up before is not told.
        if signup is None or signup.status is SignupStatus.CANCELLED:
            return "no longer signed up"
        booked = signup.status is SignupStatus.BOOKED
        method = "CANCEL" if booked else None
        sequence = _sent_before(notification, edition.id)
        return SessionNotice(
            kind,
            edition,
            module,
            module.course,
            signup,
            promoted=False,
            method=method,
            sequence=sequence,
        )
    stale = _stale(kind, edition, signup, notification, now)
    if stale is not None or signup is None:
        return stale or "no longer booked"
    carries = kind in (Kind.SESSION_INVITE, Kind.SESSION_MOVED)
    return SessionNotice(
        kind,
        edition,
        module,
        module.course,
        signup,
        promoted=signup.updated_at > signup.signed_up_at,
        method="REQUEST" if carries else None,
        sequence=_sent_before(notification, edition.id) if carries else 0,
    )


def session_event(
    edition: LiveEdition,
    *,
    uid: str,
    summary: str,
    description: str,
    url: str,
    now: datetime,
    sequence: int = 0,
    cancelled: bool = False,
) -> Event:
    """The VEVENT of *edition*: its Italian start and end, place or link, address."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", edition.starts_at.astimezone(ROME))
    event.add("dtend", (edition.starts_at + timedelta(minutes=edition.minutes)).astimezone(ROME))
    event.add("summary", summary)
    event.add("description", description)
    location = edition.place or edition.meeting_url
    if location:
        event.add("location", location)
    event.add("url", edition.meeting_url or url)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["cn"] = vText(name)
    return address


def invitation_ics(
    notice: SessionNotice,
    *,
    uid: str,
    organizer: str,
    attendee: StaffMember,
    summary: str,
    description: str,
    url: str,
    now: datetime,
) -> bytes:
    """The ``.ics`` of an invitation (``REQUEST``) or a cancellation (``CANCEL``)."""
    method = notice.method or "REQUEST"
    calendar = Calendar()
    calendar.add("prodid", "-//Formazione Coesione//Sessioni dal vivo//IT")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = session_event(
        notice.edition,
        uid=uid,
        summary=summary,
        description=description,
        url=url,
        now=now,
        sequence=notice.sequence,
        cancelled=method == "CANCEL",
    )
    name, email = parseaddr(organizer)
    event.add("organizer", _address(email or organizer, name))
    guest = _address(attendee.email, f"{attendee.first_name} {attendee.last_name}")
    guest.params["role"] = vText("REQ-PARTICIPANT")
    guest.params["partstat"] = vText("NEEDS-ACTION")
    guest.params["rsvp"] = vText("FALSE")
    event.add("attendee", guest)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


@dataclass(frozen=True)
class BookedSession:
    """A seat the person holds, for the calendar feed."""

    edition: LiveEdition
    module: Module
    course: Course


def booked_sessions(user: User, today: date) -> list[BookedSession]:
    """*user*'s seats in editions not cancelled, from :data:`FEED_PAST_DAYS` days ago on."""
    since = today - timedelta(days=FEED_PAST_DAYS)
    rows = db.session.execute(
        select(LiveEdition, Module, Course)
        .join(LiveSignup, LiveSignup.edition_id == LiveEdition.id)
        .join(StaffMember, StaffMember.id == LiveSignup.staff_id)
        .join(Module, Module.id == LiveEdition.module_id)
        .join(Course, Course.id == Module.course_id)
        .where(
            StaffMember.user_id == user.id,
            LiveSignup.status == SignupStatus.BOOKED,
            LiveEdition.cancelled_at.is_(None),
            LiveEdition.starts_at >= datetime.combine(since, datetime.min.time(), tzinfo=ROME),
            Module.retired_at.is_(None),
            Course.retired_at.is_(None),
        )
        .order_by(LiveEdition.starts_at, LiveEdition.id)
    ).all()
    return [BookedSession(edition, module, course) for edition, module, course in rows]
