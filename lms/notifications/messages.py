"""The text of each message: what it says, in the person's language, plain text and HTML.

:func:`compose` turns one outbox row into a message, or into the reason it should
no longer go (the course was completed, the person left, the due date moved):
the planner decides who is due a message, but the world may change before the
sender's turn, and a reminder must be true when it leaves. A live session's
notice (:mod:`lms.notifications.sessions`) carries the edition's event as an
``.ics`` attachment (``text/calendar; method=REQUEST`` or ``CANCEL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.core.mail import make_message
from lms.core.types import ROME, utcnow
from lms.courses.models import CourseCompletion
from lms.extensions import db
from lms.notifications.digest import hr_digest
from lms.notifications.due import due_items, notices
from lms.notifications.models import Kind, Notification, kind_of, session_kind
from lms.notifications.plan import Settings, overdue_horizon
from lms.notifications.sessions import (
    Release,
    SessionNotice,
    invitation_ics,
    invitation_uid,
    session_notice,
)
from lms.register.models import StaffMember


@dataclass(frozen=True)
class Cancel:
    """Why a planned message is no longer to be sent (stored in ``last_error``)."""

    reason: str
    #: A digest with nothing to say (status EMPTY rather than CANCELLED).
    empty: bool = False


def absolute_url(endpoint: str, **values: Any) -> str:
    """The address of *endpoint* on the site's public address (``BASE_URL``), outside a request."""
    base = urlsplit(str(current_app.config["BASE_URL"]))
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _render(template: str, **context: Any) -> tuple[str, str]:
    context.setdefault("home_url", absolute_url("site.home"))
    context.setdefault("preferences_url", absolute_url("profile.profile") + "#promemoria")
    context["day"] = _day
    context["lang"] = str(get_locale() or "it")
    text = render_template(f"notifications/mail/{template}.txt", **context)
    html = render_template(f"notifications/mail/{template}.html", **context)
    return text, html


def _completed(staff: StaffMember, course_id: int) -> bool:
    if staff.user_id is None:
        return False
    return (
        db.session.scalar(
            select(CourseCompletion.id).where(
                CourseCompletion.user_id == staff.user_id, CourseCompletion.course_id == course_id
            )
        )
        is not None
    )


def _unreachable(staff: StaffMember, user: User | None, today: date) -> Cancel | None:
    """Why nothing may be sent to *staff* any more, if anything."""
    if staff.has_left(today):
        return Cancel("left")
    if user is not None and not user.active:
        return Cancel("account deactivated")
    if staff.email_refused_at is not None:
        return Cancel("address refused before")
    return None


def _reminder(
    kind: Kind, step: int, notification: Notification, user: User | None, today: date
) -> tuple[str, str, dict[str, Any]] | Cancel:
    """Subject, template and context of a due or overdue reminder, or why it is stale."""
    enrolment = notification.enrolment
    assert enrolment is not None  # noqa: S101 - checked by the caller
    course, due_on = enrolment.course, enrolment.due_on
    if due_on is None or due_on != notification.on_date:
        return Cancel("due date changed")
    if step and user is not None and user.reminder_digest:
        return Cancel("takes the weekly digest")
    if kind is Kind.OVERDUE:
        subject = (
            _("Il corso «%(course)s» è scaduto", course=course.title)
            if step == 0
            else _(
                "Promemoria: il corso «%(course)s» è scaduto dal %(date)s",
                course=course.title,
                date=_day(due_on),
            )
        )
        return subject, "overdue", {}
    left = (due_on - today).days
    if left < 0:
        return Cancel("due date passed")
    subject = (
        _("Il corso «%(course)s» scade oggi", course=course.title)
        if left == 0
        else ngettext(
            "Il corso «%(course)s» scade tra %(num)d giorno",
            "Il corso «%(course)s» scade tra %(num)d giorni",
            left,
            course=course.title,
        )
    )
    return subject, "due", {"days_left": left}


def _about_enrolment(
    notification: Notification, staff: StaffMember, user: User | None, today: date
) -> tuple[str, str, dict[str, Any]] | Cancel:
    """Subject, template and context of a message about one enrolment, or why it is stale."""
    kind, step = kind_of(notification.kind)
    enrolment = notification.enrolment
    if enrolment is None:  # pragma: no cover - cascaded with the enrolment
        return Cancel("no enrolment")
    course = enrolment.course
    if course.retired_at is not None:
        return Cancel("course retired")
    if kind is Kind.COMPLETED:
        url = absolute_url("certificates.download", course_slug=course.slug)
        subject = _("Hai completato il corso «%(course)s»", course=course.title)
        return subject, "completed", {"certificate_url": url}
    if _completed(staff, course.id):
        return Cancel("completed")
    if kind is Kind.ENROLLED:
        return _("Iscrizione al corso «%(course)s»", course=course.title), "enrolled", {}
    return _reminder(kind, step, notification, user, today)


def _session_subject(notice: SessionNotice, starts: datetime) -> tuple[str, str]:
    """Subject and template of a live session's notice."""
    title, day, at = notice.module.title, starts.strftime("%d/%m/%Y"), starts.strftime("%H:%M")
    if notice.kind in (Kind.SESSION_INVITE, Kind.SESSION_REBOOKED):
        if notice.promoted:
            subject = _(
                "Si è liberato un posto per te: «%(session)s», %(date)s alle %(time)s",
                session=title,
                date=day,
                time=at,
            )
        else:
            subject = _(
                "Posto confermato: «%(session)s», %(date)s alle %(time)s",
                session=title,
                date=day,
                time=at,
            )
        return subject, "session_invite"
    if notice.kind is Kind.SESSION_REMINDER:
        return _("Domani: «%(session)s» alle %(time)s", session=title, time=at), "session_reminder"
    if notice.kind is Kind.SESSION_MOVED:
        subject = _(
            "Sessione modificata: «%(session)s», ora il %(date)s alle %(time)s",
            session=title,
            date=day,
            time=at,
        )
        return subject, "session_moved"
    if notice.kind is Kind.SESSION_RELEASED:
        if notice.released_by is Release.SELF:
            subject = _(
                "Hai rinunciato al posto: «%(session)s» del %(date)s", session=title, date=day
            )
        elif notice.released_by is Release.WAITING:
            subject = _(
                "Sei in lista d'attesa: «%(session)s» del %(date)s", session=title, date=day
            )
        else:
            subject = _(
                "Il tuo posto è stato annullato: «%(session)s» del %(date)s",
                session=title,
                date=day,
            )
        return subject, "session_released"
    subject = _("Sessione annullata: «%(session)s» del %(date)s", session=title, date=day)
    return subject, "session_cancelled"


def _session(
    notification: Notification, staff: StaffMember, now: datetime
) -> EmailMessage | Cancel:
    """A live session's notice, with the edition's event attached when it carries one."""
    notice = session_notice(notification, now)
    if isinstance(notice, str):
        return Cancel(notice)
    edition, module, course = notice.edition, notice.module, notice.course
    starts = edition.starts_at.astimezone(ROME)
    ends = (edition.starts_at + timedelta(minutes=edition.minutes)).astimezone(ROME)
    module_url = absolute_url(
        "courses.module_page", course_slug=course.slug, module_slug=module.slug
    )
    subject, template = _session_subject(notice, starts)
    text, html = _render(
        template,
        person=staff,
        notice=notice,
        edition=edition,
        module=module,
        course=course,
        starts=starts,
        ends=ends,
        module_url=module_url,
        release=Release,
    )
    message = make_message(staff.email, subject, text, html)
    if notice.method is not None:
        host = urlsplit(str(current_app.config["BASE_URL"])).hostname or "localhost"
        summary = f"{module.title} – {course.title}"
        ics = invitation_ics(
            notice,
            uid=invitation_uid(edition.id, staff.id, host),
            organizer=str(current_app.config["MAIL_FROM"]),
            attendee=staff,
            summary=summary,
            description=f"{summary}\n{module_url}"
            + (f"\n\n{edition.notes}" if edition.notes else ""),
            url=module_url,
            now=now,
        )
        filename = "annullamento.ics" if notice.method == "CANCEL" else "invito.ics"
        message.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename=filename,
            params={"method": notice.method, "charset": "utf-8"},
        )
    return message


def _learner(
    notification: Notification, today: date, now: datetime | None = None
) -> EmailMessage | Cancel:
    staff = notification.staff
    if staff is None:  # pragma: no cover - the check constraint
        return Cancel("no recipient")
    user = db.session.get(User, staff.user_id) if staff.user_id is not None else None
    stop = _unreachable(staff, user, today)
    if stop is not None:
        return stop
    locale = (user.locale if user is not None else None) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]
    with force_locale(locale):
        if session_kind(notification.kind) is not None:
            return _session(notification, staff, now or utcnow())
        if notification.kind == Kind.DIGEST.value:
            return _learner_digest(staff, user, today)
        about = _about_enrolment(notification, staff, user, today)
        if isinstance(about, Cancel):
            return about
        subject, template, extra = about
        enrolment = notification.enrolment
        assert enrolment is not None  # noqa: S101 - _about_enrolment checked it
        text, html = _render(
            template,
            person=staff,
            course=enrolment.course,
            due_on=enrolment.due_on,
            course_url=absolute_url("courses.overview", course_slug=enrolment.course.slug),
            **extra,
        )
    return make_message(staff.email, subject, text, html)


def _learner_digest(staff: StaffMember, user: User | None, today: date) -> EmailMessage | Cancel:
    if user is None or not user.reminder_digest:
        return Cancel("no longer takes the digest")
    horizon = overdue_horizon(today, Settings.from_config().overdue_repeats)
    items = [i for i in notices(due_items(user, today)) if i.due_on >= horizon]
    if not items:
        return Cancel("nothing due", empty=True)
    urls = {
        i.course_slug: absolute_url("courses.overview", course_slug=i.course_slug) for i in items
    }
    text, html = _render("digest", person=staff, items=items, urls=urls)
    subject = ngettext(
        "Le tue scadenze: %(num)d corso da completare",
        "Le tue scadenze: %(num)d corsi da completare",
        len(items),
    )
    return make_message(staff.email, subject, text, html)


def _manager(notification: Notification, today: date) -> EmailMessage | Cancel:
    user = notification.user
    if user is None or not user.active or user.role is not Role.HR:
        return Cancel("no longer an active HR manager")
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        digest = hr_digest(user, notification, today)
        if digest.empty:
            return Cancel("nothing changed", empty=True)
        text, html = _render(
            "hr_digest",
            manager=user,
            digest=digest,
            reports_url=absolute_url("reports.home"),
            person_url=lambda staff_id: absolute_url("staff.person", staff_id=staff_id),
        )
        subject = _("Riepilogo settimanale della formazione: %(area)s", area=digest.area)
    return make_message(user.email, subject, text, html)


def compose(
    notification: Notification, today: date, now: datetime | None = None
) -> EmailMessage | Cancel:
    """The message for *notification* as things stand *today* (at *now*), or why not to send it."""
    if notification.user_id is not None:
        return _manager(notification, today)
    return _learner(notification, today, now)
