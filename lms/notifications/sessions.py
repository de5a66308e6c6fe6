"""Live sessions in the mail and in the calendar: what a notice says, and its iCalendar part.

The planner (:mod:`lms.notifications.plan`) decides who is due an invitation, a
reminder, the notice of a change or of a cancellation; here each planned row is
checked again when its turn comes (is the seat still held? the edition still on
that day? not called off?) and given what the message shows.

**The invitation** (``METHOD:REQUEST``) and **the notice of a change** (the same,
with a higher ``SEQUENCE``) carry one event whose UID is the edition's and the
person's (:func:`invitation_uid`), so that a mail program updates the event it
added from the invitation rather than adding another; **a cancellation** carries
``METHOD:CANCEL`` with the same UID, and so does **the notice of a seat released**
(given up by the person, or taken away by their HR manager): it answers the last
invitation or change sent (its kind names it, ``freed:<edition>:<message>``) and
goes only while that message is still the last the person's mail program had
about the event; **booking again the same day** after it went brings
``rebook:<edition>:<message>``, an invitation again (another day's booking has
its own ``invite:``). Times are Italy's (``TZID=Europe/Rome``, with
its ``VTIMEZONE``). The organiser is the programme's address (``LMS_MAIL_FROM``);
replies are not read (``RSVP=FALSE``).

**The calendar feed** lists the person's booked editions (:func:`booked_sessions`)
under UIDs of its own (``session-<edition>@host``): a subscribed calendar and the
invitations in the mailbox's calendar are two calendars.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import Final

from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from lms.audit.models import Action, AuditEntry, AuditObject, ObjectKind
from lms.auth.models import Role, User
from lms.core.types import ROME, rome_date
from lms.courses.models import Course, Module
from lms.extensions import db
from lms.live.models import LiveEdition, LiveSignup, SignupStatus
from lms.notifications.models import Kind, Notification, Status, session_kind
from lms.register.models import StaffMember

#: How far back the calendar feed shows sessions held.
FEED_PAST_DAYS: Final = 30
#: Why a notice of a seat was cancelled when its turn came because the seat had
#: changed (released; booked again): the planner plans it again when the seat
#: changes back the same day (:func:`lms.notifications.plan.rearm`).
NO_LONGER_BOOKED: Final = "no longer booked"
BOOKED_AGAIN: Final = "booked again"
SEAT_CHANGED: Final = (NO_LONGER_BOOKED, BOOKED_AGAIN)


class Release(enum.StrEnum):
    """Who released a seat, as the notice of its release tells it."""

    SELF = "self"  # the person gave it up
    HR = "hr"  # an HR manager took it away (audited ``signup.cancel``)
    OTHER = "other"  # an administrator (or a trainer) did
    WAITING = "waiting"  # given up, and the person is on the waiting list again


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
    #: For the notice of a seat released: who released it.
    released_by: Release | None = None


def invitation_uid(edition_id: int, staff_id: int, host: str) -> str:
    """The UID of *staff_id*'s event for the edition: the same in every notice about it."""
    return f"edition-{edition_id}-staff-{staff_id}@{host}"


def carries_event(kind: InstrumentedAttribute[str], edition_id: int) -> ColumnElement[bool]:
    """*kind* is one of the notices about *edition_id* that carry its event (either method)."""
    return or_(
        kind == f"{Kind.SESSION_INVITE.value}:{edition_id}",
        kind.like(f"{Kind.SESSION_MOVED.value}:{edition_id}:%"),
        kind.like(f"{Kind.SESSION_REBOOKED.value}:{edition_id}:%"),
        kind.like(f"{Kind.SESSION_RELEASED.value}:{edition_id}:%"),
        kind == f"{Kind.SESSION_CANCELLED.value}:{edition_id}",
    )


def _sent_before(notification: Notification, edition_id: int) -> int:
    """How many notices with the edition's event went to the person before *notification*."""
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.staff_id == notification.staff_id,
                Notification.enrolment_id.is_(None),
                Notification.status == Status.SENT,
                Notification.id != notification.id,
                carries_event(Notification.kind, edition_id),
            )
        )
        or 0
    )


def _last_told(notification: Notification, edition_id: int) -> int | None:
    """The id of the last notice with the edition's event sent to the person, if any."""
    return db.session.scalar(
        select(Notification.id)
        .where(
            Notification.staff_id == notification.staff_id,
            Notification.enrolment_id.is_(None),
            Notification.status == Status.SENT,
            carries_event(Notification.kind, edition_id),
        )
        .order_by(Notification.sent_at.desc(), Notification.id.desc())
        .limit(1)
    )


def released_by(signup: LiveSignup) -> Release:
    """Who released *signup*'s seat (its status cancelled, or waiting again).

    A seat given up for someone else is audited (``signup.cancel``, naming the
    edition and the person); one's own is not. Since the last booking (which
    sets ``signed_up_at``) a seat is released once: an entry after it is that
    release's. On the waiting list again the person signed up after the release.
    """
    if signup.status is SignupStatus.WAITING:
        return Release.WAITING
    edition_object, staff_object = aliased(AuditObject), aliased(AuditObject)
    actor = db.session.scalar(
        select(AuditEntry.actor_id)
        .join(edition_object, edition_object.entry_id == AuditEntry.id)
        .join(staff_object, staff_object.entry_id == AuditEntry.id)
        .where(
            AuditEntry.action == Action.SIGNUP_CANCEL.value,
            AuditEntry.at >= signup.signed_up_at,
            edition_object.kind == ObjectKind.EDITION,
            edition_object.object_id == signup.edition_id,
            staff_object.kind == ObjectKind.STAFF,
            staff_object.object_id == signup.staff_id,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if actor is None:
        return Release.SELF
    user = db.session.get(User, actor)
    return Release.HR if user is not None and user.role is Role.HR else Release.OTHER


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
        return NO_LONGER_BOOKED
    if kind is Kind.SESSION_REMINDER and rome_date(edition.starts_at) != notification.on_date:
        return "edition moved to another day"
    return _outdated(kind, edition, notification)


def _outdated(kind: Kind, edition: LiveEdition, notification: Notification) -> str | None:
    """Why a notice carrying the event is no longer the one to send, if it is not."""
    if kind is Kind.SESSION_MOVED and _superseded(notification, edition.id):
        return "superseded by a later change"
    if kind is Kind.SESSION_REBOOKED and not _answers_last(notification, edition.id):
        return "superseded"  # the notice of the release it answers is no longer the last
    return None


def _answers_last(notification: Notification, edition_id: int) -> bool:
    """The message *notification*'s kind names is still the last one with the event sent."""
    parsed = session_kind(notification.kind)
    answered = parsed[2] if parsed is not None else None
    return answered is not None and _last_told(notification, edition_id) == answered


def _released_notice(
    notification: Notification,
    edition: LiveEdition,
    module: Module,
    signup: LiveSignup | None,
    now: datetime,
) -> SessionNotice | str:
    """The notice of a seat released, or why it should no longer go.

    It goes while the seat is not held (cancelled, or waiting again), the edition
    is ahead (called off too: whoever gave the seat up is not told of that) and
    the invitation it withdraws is still the last event the person was sent.
    """
    if edition.starts_at <= now:
        return "edition started"
    if signup is None:
        return "no such seat"
    if signup.status is SignupStatus.BOOKED:
        return BOOKED_AGAIN
    if not _answers_last(notification, edition.id):
        return "superseded"
    return SessionNotice(
        Kind.SESSION_RELEASED,
        edition,
        module,
        module.course,
        signup,
        promoted=False,
        method="CANCEL",
        sequence=_sent_before(notification, edition.id),
        released_by=released_by(signup),
    )


def _cancelled_notice(
    notification: Notification, edition: LiveEdition, module: Module, signup: LiveSignup | None
) -> SessionNotice | str:
    """The notice of the edition called off: the event withdrawn for a seat holder."""
    # Cancelling is for good; who gave the seat up before is not told (the notice
    # of the release, planned while their invitation was the last, withdraws it).
    if signup is None or signup.status is SignupStatus.CANCELLED:
        return "no longer signed up"
    booked = signup.status is SignupStatus.BOOKED
    return SessionNotice(
        Kind.SESSION_CANCELLED,
        edition,
        module,
        module.course,
        signup,
        promoted=False,
        method="CANCEL" if booked else None,
        sequence=_sent_before(notification, edition.id),
    )


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
        return _cancelled_notice(notification, edition, module, signup)
    if kind is Kind.SESSION_RELEASED:
        return _released_notice(notification, edition, module, signup, now)
    stale = _stale(kind, edition, signup, notification, now)
    if stale is not None or signup is None:
        return stale or NO_LONGER_BOOKED
    carries = kind in (Kind.SESSION_INVITE, Kind.SESSION_MOVED, Kind.SESSION_REBOOKED)
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
