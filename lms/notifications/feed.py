"""The private calendar feed: its address (a MAC, not stored) and its iCalendar text.

It lists the person's open due dates (all-day events) and the live sessions they
hold a seat in (:func:`lms.notifications.sessions.booked_sessions`, timed events).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event

from lms import audit
from lms.auth.models import Role, User
from lms.auth.operations import left_staff_on
from lms.core.types import today_in_italy, utcnow
from lms.extensions import db
from lms.notifications.due import DueItem
from lms.notifications.sessions import BookedSession, session_event

#: Hex digits of the MAC kept in the address (128 bits).
MAC_LENGTH = 32


def _mac(secret: str, user_id: int, version: int) -> str:
    message = f"calendar-feed:{user_id}:{version}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:MAC_LENGTH]


def feed_token(secret: str, user: User) -> str:
    """The secret part of *user*'s feed address: their id and a MAC over it and the version."""
    return f"{user.id}-{_mac(secret, user.id, user.calendar_version)}"


def user_for_token(secret: str, token: str) -> User | None:
    """The account whose current feed address *token* is, if it may still read it.

    None for a malformed or old token (compared in constant time), a deactivated
    account, or a person whose leaving day has come.
    """
    user_part, _sep, mac = token.partition("-")
    if not user_part.isdigit() or len(user_part) > 18 or len(mac) != MAC_LENGTH:  # noqa: PLR2004
        return None
    found = left_staff_on(int(user_part), today_in_italy())
    if found is None:
        return None
    user, left_on = found
    expected = _mac(secret, user.id, user.calendar_version)
    if not hmac.compare_digest(expected.encode(), mac.encode("ascii", "replace")):
        return None
    if not user.active or left_on is not None:
        return None
    return user


def reset_feed(user: User) -> None:
    """Give *user* a new feed address: the old one stops working. Flushes.

    Recorded in the audit log for HR managers, trainers and admins, like their
    other own changes (the address is a credential: whoever holds it reads the
    person's due dates and sessions).
    """
    user.calendar_version += 1
    db.session.flush()
    if user.role is not Role.LEARNER:
        audit.record(
            audit.Action.USER_CALENDAR,
            actor_id=user.id,
            objects=[(audit.ObjectKind.USER, user.id)],
            summary={"version": user.calendar_version},
        )


def build_calendar(
    items: list[DueItem],
    *,
    host: str,
    course_url: Callable[[DueItem], str],
    now: datetime | None = None,
    sessions: Sequence[BookedSession] = (),
    session_url: Callable[[BookedSession], str] | None = None,
) -> bytes:
    """The feed as iCalendar bytes: due dates, and the live sessions the person is booked in.

    One all-day event per due date, with a reminder the day before; one event per
    live session the person holds a seat in, at its Italian times, with a
    reminder half an hour before.
    """
    stamp = now or utcnow()
    calendar = Calendar()
    calendar.add("prodid", "-//Formazione Coesione//Scadenze//IT")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Scadenze della formazione"))
    calendar.add("x-published-ttl", "PT6H")
    for item in items:
        url = course_url(item)
        event = Event()
        event.add("uid", f"enrolment-{item.enrolment_id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_on)
        event.add("dtend", item.due_on + timedelta(days=1))
        event.add("summary", _("Scadenza: %(course)s", course=item.course_title))
        event.add(
            "description",
            _(
                "Completa il corso «%(course)s» entro oggi: %(url)s",
                course=item.course_title,
                url=url,
            ),
        )
        event.add("url", url)
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("Domani scade il corso «%(course)s»", course=item.course_title))
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
        calendar.add_component(event)
    for session in sessions:
        url = session_url(session) if session_url is not None else ""
        event = session_event(
            session.edition,
            uid=f"session-{session.edition.id}@{host}",
            summary=_("Sessione: %(session)s", session=session.module.title),
            description=_(
                "Sessione dal vivo del corso «%(course)s»: %(url)s",
                course=session.course.title,
                url=url,
            ),
            url=url,
            now=stamp,
        )
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("Tra mezz'ora: %(session)s", session=session.module.title))
        alarm.add("trigger", timedelta(minutes=-30))
        event.add_component(alarm)
        calendar.add_component(event)
    if sessions:
        calendar.add_missing_timezones()
    return calendar.to_ical()
