"""Who needs which message today: one INSERT … SELECT per kind, never a loop per person.

The planner writes the outbox (:class:`~lms.notifications.models.Notification`):
each statement selects the enrolments (or people) that a kind of message is due
for today and inserts one ``pending`` row each, skipping the rows a unique index
already holds (:func:`lms.core.sql.insert_new`). Planning twice the same day, or
on two workers, inserts nothing the second time; the sender sends what is
pending once the planner's transaction is committed.

When a message is due (all days are Italian days):

- **enrolled**: an enrolment made in the last :data:`EVENT_DAYS` days.
- **due:N**: N days before the due date (``REMINDER_DAYS``, or the standing
  rule's own days). A planner that missed a day catches up: the reminder of N
  days goes while fewer than N and more than the next threshold are left.
- **overdue:0**: the day after the due date (within a week, if a day was missed);
  **overdue:K**: each week after that, K = 1 … ``REMINDER_OVERDUE_REPEATS``.
- **completed**: a completion of the last :data:`EVENT_DAYS` days, of a course
  the person is enrolled in.
- **digest**: once a week (``DIGEST_WEEKDAY``) for people who chose it and have
  something due within :data:`~lms.notifications.due.NOTICE_DAYS` days or overdue;
  they get no ``due:N`` nor ``overdue:K`` for K > 0 (the first overdue notice
  cannot be switched off).
- **hr-digest**: once a week for every active HR manager; the sender finds what
  changed in their area, and sends nothing when nothing did.
- **invite:E**: a seat in the live session's edition E (booked, or moved up from
  the waiting list), for an edition ahead and not cancelled: the invitation with
  its ``.ics``. One per seat: the date is the day the seat was taken.
- **remind:E**: the day before edition E (Italian days), for those holding a seat
  taken before today (who booked today just had the invitation).
- **moved:E:C**: change C (the audit entry of an edition's change of time, length,
  place or link) of edition E, for seat holders who had been sent an invitation
  (or a change) before it; whoever has not yet been sent one gets the new details
  in it. Changes of the last :data:`EVENT_DAYS` days.
- **cancel:E**: edition E was called off (in the last :data:`EVENT_DAYS` days),
  for those holding a seat or waiting for one.
- **freed:E:M**: the seat in edition E was given up (or taken away by an HR
  manager) in the last :data:`EVENT_DAYS` days, and the last message with the
  edition's event sent to the person is M, an invitation or a change sent before
  the release: the event is withdrawn. Whoever's invitation had not yet gone
  gets nothing (the invitation is dropped when its turn comes). The date is the
  day of the release.
- **rebook:E:M**: the seat booked again after the notice M of its release went,
  when that day's ``invite:E`` is taken (it went earlier the same day): the event
  comes back. Another day's booking gets its own ``invite:E``.

A seat's notice cancelled when its turn came because the seat had changed
(released before its invitation went; booked again before the notice of its
release went) is planned again, the same row, when the seat changes back the
same day (:func:`rearm`): the unique index holds one row per kind and day.

Nobody who has left, no deactivated account, no completed course, no retired
course gets a reminder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Date,
    Exists,
    Select,
    String,
    and_,
    cast,
    exists,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from lms.audit.models import Action, AuditEntry, AuditObject, ObjectKind
from lms.auth.models import Role, User
from lms.core.sql import custom_plans, insert_new, rowcount, utc_day
from lms.core.types import UTCDateTime, rome_date, rome_midnight, utcnow
from lms.courses.models import Course, CourseCompletion
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.enrolments.reminder_days import (  # noqa: F401 - MAX and format re-exported
    MAX_REMINDER_DAYS,
    ReminderDaysError,
    format_reminder_days,
    parse_reminder_days,
)
from lms.extensions import db
from lms.live.models import LiveEdition, LiveSignup, SignupStatus
from lms.notifications.due import NOTICE_DAYS
from lms.notifications.models import Kind, Notification, Status
from lms.notifications.sessions import SEAT_CHANGED
from lms.register.models import StaffMember

#: Enrolments and completions this recent get their message (a planner that was
#: down for a few days still sends them; older ones are history, not news).
EVENT_DAYS = 3
#: The overdue notice goes within this many days of the due date (catching up
#: missed days); the weekly repeats within a week of theirs.
WEEK = 7

_COLUMNS = [
    "kind",
    "staff_id",
    "user_id",
    "enrolment_id",
    "on_date",
    "status",
    "created_at",
    "next_attempt_at",
    "attempts",
]


def overdue_horizon(today: date, repeats: int) -> date:
    """The earliest due date still reminded of today: the last weekly repeat's week.

    A weekly digest lists overdue courses as long as the single reminders would
    have gone on; after that the home page and the HR manager keep track.
    """
    return today - timedelta(days=WEEK * (repeats + 1))


def week_start(today: date, weekday: int) -> date:
    """The last *weekday* (0 Monday) on or before *today*: the digests' week."""
    return today - timedelta(days=(today.weekday() - weekday) % 7)


@dataclass
class PlanReport:
    """How many messages of each kind one plan inserted."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int) -> None:
        """Count *count* new rows of *kind*."""
        if count:
            self.counts[kind] = self.counts.get(kind, 0) + count

    @property
    def total(self) -> int:
        """All new rows."""
        return sum(self.counts.values())


def _outbox_rows(
    kind: str | ColumnElement[str],
    now: datetime,
    *,
    on_date: Any,
    staff_id: Any = None,
    user_id: Any = None,
    enrolment_id: Any = None,
) -> Select:
    """SELECT of the outbox's columns (:data:`_COLUMNS`, in order): new pending rows of *kind*.

    The recipient and the enrolment are columns of the caller's FROM, or NULL.
    """
    return select(
        (literal(kind) if isinstance(kind, str) else kind).label("kind"),
        (null() if staff_id is None else staff_id).label("staff_id"),
        (null() if user_id is None else user_id).label("user_id"),
        (null() if enrolment_id is None else enrolment_id).label("enrolment_id"),
        on_date.label("on_date"),
        literal(Status.PENDING.value).label("status"),
        literal(now, UTCDateTime()).label("created_at"),
        literal(now, UTCDateTime()).label("next_attempt_at"),
        literal(0).label("attempts"),
    )


def _learner_rows(kind: str, on_date: Any, now: datetime) -> Select:
    """The outbox rows of *kind* for enrolments, FROM enrolments JOIN staff."""
    return (
        _outbox_rows(kind, now, on_date=on_date, staff_id=StaffMember.id, enrolment_id=Enrolment.id)
        .select_from(Enrolment)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
    )


def _reachable(today: date) -> ColumnElement[bool]:
    """Employed people with no deactivated account, enrolled in a course still offered."""
    account_active = or_(
        StaffMember.user_id.is_(None),
        exists().where(User.id == StaffMember.user_id, User.active.is_(True)),
    )
    return and_(
        StaffMember.still_employed(today),
        account_active,
        exists().where(Course.id == Enrolment.course_id, Course.retired_at.is_(None)),
    )


def completed_course() -> Exists:
    """EXISTS: the staff member has completed the enrolment's course (both in the outer query)."""
    return exists().where(
        CourseCompletion.user_id == StaffMember.user_id,
        CourseCompletion.course_id == Enrolment.course_id,
    )


def _open() -> ColumnElement[bool]:
    """The enrolment's course is not completed by its person."""
    return ~completed_course()


def _takes_digest() -> ColumnElement[bool]:
    return exists().where(User.id == StaffMember.user_id, User.reminder_digest.is_(True))


def _insert(select_rows: Select) -> int:
    statement = insert_new(Notification.__table__, _COLUMNS, select_rows)  # type: ignore[arg-type]
    return rowcount(db.session.execute(statement))


def plan_enrolled(today: date, now: datetime) -> int:
    """The enrolment message for enrolments of the last :data:`EVENT_DAYS` days."""
    rows = _learner_rows(Kind.ENROLLED.value, utc_day(Enrolment.enrolled_at), now).where(
        _reachable(today),
        _open(),
        Enrolment.enrolled_at >= now - timedelta(days=EVENT_DAYS),
    )
    return _insert(rows)


def plan_completed(today: date, now: datetime) -> int:
    """The completion message for completions of the last :data:`EVENT_DAYS` days."""
    rows = (
        _outbox_rows(
            Kind.COMPLETED.value,
            now,
            on_date=utc_day(CourseCompletion.completed_at),
            staff_id=StaffMember.id,
            enrolment_id=Enrolment.id,
        )
        .select_from(CourseCompletion)
        .join(StaffMember, StaffMember.user_id == CourseCompletion.user_id)
        .join(
            Enrolment,
            and_(
                Enrolment.staff_id == StaffMember.id,
                Enrolment.course_id == CourseCompletion.course_id,
            ),
        )
        .where(
            CourseCompletion.completed_at >= now - timedelta(days=EVENT_DAYS),
            StaffMember.still_employed(today),
            exists().where(User.id == StaffMember.user_id, User.active.is_(True)),
        )
    )
    return _insert(rows)


def _rule_days(configured: tuple[int, ...]) -> list[tuple[tuple[int, ...], ColumnElement[bool]]]:
    """Each list of reminder days in use, with the clause that picks its enrolments.

    The deployment's list for enrolments made by hand or by a rule without its own;
    each rule's own list for its enrolments. (A few lists: one query per day each.)
    """
    own = sorted(
        {
            text
            for text in db.session.scalars(
                select(EnrolmentRule.reminder_days)
                .where(EnrolmentRule.reminder_days.is_not(None))
                .distinct()
            )
            if text is not None
        }
    )
    default_clause = or_(
        Enrolment.rule_id.is_(None),
        exists().where(
            EnrolmentRule.id == Enrolment.rule_id, EnrolmentRule.reminder_days.is_(None)
        ),
    )
    groups = [(configured, default_clause)]
    for text in own:
        try:
            days = parse_reminder_days(text)
        except ReminderDaysError:  # stored by the form's own check: cannot happen
            continue
        clause = exists().where(
            EnrolmentRule.id == Enrolment.rule_id, EnrolmentRule.reminder_days == text
        )
        groups.append((days, clause))
    return groups


def plan_due(today: date, now: datetime, configured: tuple[int, ...]) -> dict[str, int]:
    """The reminders N days before a due date, for every list of days in use."""
    counts: dict[str, int] = {}
    for days, picks in _rule_days(configured):
        for index, n in enumerate(days):
            following = days[index + 1] if index + 1 < len(days) else -1
            # Due in at most n days and more than the next reminder's (or today).
            latest, earliest = today + timedelta(days=n), today + timedelta(days=following + 1)
            rows = _learner_rows(f"{Kind.DUE.value}:{n}", Enrolment.due_on, now).where(
                picks,
                _reachable(today),
                _open(),
                ~_takes_digest(),
                Enrolment.due_on.between(earliest, latest),
                # Enrolled today or yesterday: the enrolment message just gave the date.
                Enrolment.enrolled_at < now - timedelta(days=1),
            )
            kind = f"{Kind.DUE.value}:{n}"
            counts[kind] = counts.get(kind, 0) + _insert(rows)
    return counts


def plan_overdue(today: date, now: datetime, repeats: int) -> dict[str, int]:
    """The overdue notice the day after the due date, then weekly *repeats* times."""
    counts: dict[str, int] = {}
    for step in range(repeats + 1):
        # Step K goes from 7K + 1 days after the due date, for a week.
        latest = today - timedelta(days=WEEK * step + 1)
        earliest = latest - timedelta(days=WEEK - 1)
        conditions = [_reachable(today), _open(), Enrolment.due_on.between(earliest, latest)]
        if step:
            conditions.append(~_takes_digest())
        rows = _learner_rows(f"{Kind.OVERDUE.value}:{step}", Enrolment.due_on, now).where(
            *conditions
        )
        counts[f"{Kind.OVERDUE.value}:{step}"] = _insert(rows)
    return counts


def plan_learner_digests(today: date, now: datetime, weekday: int, repeats: int) -> int:
    """This week's digest for the people who chose it and have something due or overdue."""
    week = week_start(today, weekday)
    soon = today + timedelta(days=NOTICE_DAYS)
    # Correlated by hand: the inner tests are about this person's own enrolment.
    something_due = (
        exists()
        .where(
            Enrolment.staff_id == StaffMember.id,
            Enrolment.due_on.between(overdue_horizon(today, repeats), soon),
            ~completed_course().correlate(StaffMember, Enrolment),
            exists()
            .where(Course.id == Enrolment.course_id, Course.retired_at.is_(None))
            .correlate(Enrolment),
        )
        .correlate(StaffMember)
    )
    rows = (
        _outbox_rows(Kind.DIGEST.value, now, on_date=literal(week, Date()), staff_id=StaffMember.id)
        .select_from(StaffMember)
        .join(User, User.id == StaffMember.user_id)
        .where(
            User.reminder_digest.is_(True),
            User.active.is_(True),
            StaffMember.still_employed(today),
            something_due,
        )
    )
    return _insert(rows)


def plan_hr_digests(today: date, now: datetime, weekday: int) -> int:
    """This week's digest for every active HR manager (the sender drops the empty ones)."""
    week = week_start(today, weekday)
    rows = (
        _outbox_rows(Kind.HR_DIGEST.value, now, on_date=literal(week, Date()), user_id=User.id)
        .select_from(User)
        .where(User.role == Role.HR, User.active.is_(True))
    )
    return _insert(rows)


# Live sessions -----------------------------------------------------------------------

#: The changes of an edition that its seat holders are told of (the names the
#: edition's audit entry lists in ``changed``): when, how long, where.
SCHEDULE_FIELDS = frozenset({"starts_at", "minutes", "place", "meeting_url"})
#: The kind column's width.
KIND_LENGTH = 24


def _session_kind(kind: Kind) -> ColumnElement[str]:
    """``"<kind>:<edition id>"`` in SQL, for the sign-up in the FROM."""
    return literal(f"{kind.value}:", String) + cast(LiveSignup.edition_id, String)


def _seat_rows(
    kind: str | ColumnElement[str],
    on_date: Any,
    today: date,
    now: datetime,
    statuses: tuple[SignupStatus, ...] = (SignupStatus.BOOKED,),
) -> Select:
    """Outbox rows for the sign-ups of *statuses* of editions ahead, to people still reachable.

    FROM live_signups JOIN staff_members JOIN live_editions.
    """
    return (
        _outbox_rows(kind, now, on_date=on_date, staff_id=StaffMember.id)
        .select_from(LiveSignup)
        .join(StaffMember, StaffMember.id == LiveSignup.staff_id)
        .join(LiveEdition, LiveEdition.id == LiveSignup.edition_id)
        .where(
            LiveSignup.status.in_(statuses),
            LiveEdition.starts_at > now,
            StaffMember.still_employed(today),
            or_(
                StaffMember.user_id.is_(None),
                exists().where(User.id == StaffMember.user_id, User.active.is_(True)),
            ),
        )
    )


def rearm(rows: Select, now: datetime) -> int:
    """Plan again the notices *rows* would insert that were cancelled as the seat changed.

    A notice of a seat is cancelled when its turn comes if the seat changed
    meanwhile (:data:`~lms.notifications.sessions.SEAT_CHANGED`: released before
    its invitation went, booked again before the notice of its release went). When
    the seat changes back the same day the planner wants the same row (kind,
    person, day) again, which the unique index holds: it is set pending again.
    Never a row that was sent. Of the last :data:`EVENT_DAYS` days only.
    """
    planned = rows.subquery()
    statement = (
        update(Notification)
        .where(
            Notification.status == Status.CANCELLED,
            Notification.last_error.in_(SEAT_CHANGED),
            Notification.enrolment_id.is_(None),
            Notification.staff_id.is_not(None),  # the unique index's rows: found by it
            Notification.on_date >= (now - timedelta(days=EVENT_DAYS)).date(),
            exists().where(
                planned.c.staff_id == Notification.staff_id,
                planned.c.kind == Notification.kind,
                planned.c.on_date == Notification.on_date,
            ),
        )
        .values(status=Status.PENDING, next_attempt_at=now, claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(db.session.execute(statement))


def plan_session_invites(today: date, now: datetime) -> int:
    """The invitation for every seat held in an edition ahead and not cancelled.

    Its date is the (UTC) day the seat was taken: giving the seat up and booking
    again another day brings a new invitation; planning again brings none. An
    invitation dropped because the seat was given up before it went is planned
    again when the seat is taken again the same day (:func:`rearm`).
    """
    rows = _seat_rows(
        _session_kind(Kind.SESSION_INVITE), utc_day(LiveSignup.updated_at), today, now
    ).where(LiveEdition.cancelled_at.is_(None))
    return rearm(rows, now) + _insert(rows)


def plan_session_reminders(today: date, now: datetime) -> int:
    """The reminder for the editions held tomorrow (in Italy), to seats taken before today."""
    tomorrow = today + timedelta(days=1)
    rows = _seat_rows(
        _session_kind(Kind.SESSION_REMINDER), literal(tomorrow, Date()), today, now
    ).where(
        LiveEdition.cancelled_at.is_(None),
        LiveEdition.starts_at >= rome_midnight(tomorrow),
        LiveEdition.starts_at < rome_midnight(tomorrow + timedelta(days=1)),
        LiveSignup.updated_at < rome_midnight(today),
    )
    return _insert(rows)


def schedule_changes(since: datetime) -> list[tuple[int, int, datetime]]:
    """(edition id, audit entry id, moment) of the changes of time, length, place or link.

    An edition's change is recorded once, in the audit log, in the transaction
    that made it (``edition.update``, naming the changed fields): that entry is
    the event the seat holders are told of. Few rows (the edition changes of a
    few days); the fields are read here rather than in SQL (a JSON list).
    """
    rows = db.session.execute(
        select(AuditObject.object_id, AuditEntry.id, AuditEntry.at, AuditEntry.summary)
        .join(AuditEntry, AuditEntry.id == AuditObject.entry_id)
        .where(
            AuditEntry.action == Action.EDITION_UPDATE.value,
            AuditEntry.at >= since,
            AuditObject.kind == ObjectKind.EDITION,
        )
        .order_by(AuditEntry.id)
    ).all()
    return [
        (edition_id, entry_id, at)
        for edition_id, entry_id, at, summary in rows
        if SCHEDULE_FIELDS & set((summary or {}).get("changed") or ())
    ]


def plan_session_changes(today: date, now: datetime) -> int:
    """The notice of each recent change, to seat holders sent an invitation before it.

    One INSERT … SELECT per change (a handful a day). Whoever's invitation is
    still to be sent gets the new details in it, and no notice of the change.
    """
    told = aliased(Notification)
    total = 0
    for edition_id, entry_id, at in schedule_changes(now - timedelta(days=EVENT_DAYS)):
        kind = f"{Kind.SESSION_MOVED.value}:{edition_id}:{entry_id}"
        if len(kind) > KIND_LENGTH:  # pragma: no cover - ids of more than 8 digits each
            continue
        rows = _seat_rows(kind, literal(rome_date(at), Date()), today, now).where(
            LiveSignup.edition_id == edition_id,
            LiveEdition.cancelled_at.is_(None),
            exists().where(
                told.staff_id == StaffMember.id,
                told.enrolment_id.is_(None),
                or_(
                    told.kind == f"{Kind.SESSION_INVITE.value}:{edition_id}",
                    told.kind.like(f"{Kind.SESSION_MOVED.value}:{edition_id}:%"),
                    told.kind.like(f"{Kind.SESSION_REBOOKED.value}:{edition_id}:%"),
                ),
                told.status == Status.SENT,
                told.sent_at < at,
            ),
        )
        total += _insert(rows)
    return total


def plan_session_cancellations(today: date, now: datetime) -> int:
    """The notice of an edition called off in the last days, to seat holders and the waiting."""
    rows = _seat_rows(
        _session_kind(Kind.SESSION_CANCELLED),
        utc_day(LiveEdition.cancelled_at),
        today,
        now,
        (SignupStatus.BOOKED, SignupStatus.WAITING),
    ).where(LiveEdition.cancelled_at >= now - timedelta(days=EVENT_DAYS))
    return _insert(rows)


#: A kind naming an edition and a message fits the kind column for ids below this.
ID_LIMIT = 10**8
#: The notices that put the edition's event in the mail program's calendar, and all
#: those that carry it (either method): (kinds ``k:E``, kinds ``k:E:…``).
_REQUESTS = ((Kind.SESSION_INVITE,), (Kind.SESSION_MOVED, Kind.SESSION_REBOOKED))
_EVENTS = (
    (Kind.SESSION_INVITE, Kind.SESSION_CANCELLED),
    (Kind.SESSION_MOVED, Kind.SESSION_REBOOKED, Kind.SESSION_RELEASED),
)
_RELEASES: tuple[tuple[Kind, ...], tuple[Kind, ...]] = ((), (Kind.SESSION_RELEASED,))


def _about_seat(message: Any, kinds: tuple[tuple[Kind, ...], tuple[Kind, ...]]) -> list[Any]:
    """*message* (a Notification alias) is one of *kinds* about the sign-up of the FROM."""
    edition = cast(LiveSignup.edition_id, String)
    exact, prefixed = kinds
    return [
        message.staff_id == LiveSignup.staff_id,
        message.enrolment_id.is_(None),
        or_(
            *(message.kind == literal(f"{kind.value}:", String) + edition for kind in exact),
            *(
                message.kind.like(literal(f"{kind.value}:", String) + edition + literal(":%"))
                for kind in prefixed
            ),
        ),
    ]


def _last_sent(message: Any, kinds: tuple[tuple[Kind, ...], tuple[Kind, ...]]) -> list[Any]:
    """*message* is of *kinds*, sent, and the last notice with the event sent to the person."""
    later = aliased(Notification)
    return [
        *_about_seat(message, kinds),
        message.status == Status.SENT,
        message.id < ID_LIMIT,
        ~exists().where(
            *_about_seat(later, _EVENTS),
            later.status == Status.SENT,
            or_(
                later.sent_at > message.sent_at,
                and_(later.sent_at == message.sent_at, later.id > message.id),
            ),
        ),
    ]


def _none_pending(kinds: tuple[tuple[Kind, ...], tuple[Kind, ...]]) -> ColumnElement[bool]:
    """No notice of *kinds* about the sign-up of the FROM waits to be sent."""
    pending = aliased(Notification)
    return ~exists().where(*_about_seat(pending, kinds), pending.status == Status.PENDING)


def _answering(kind: Kind, message: Any) -> ColumnElement[str]:
    """``"<kind>:<edition>:<message>"`` in SQL, for the sign-up in the FROM."""
    return (
        literal(f"{kind.value}:", String)
        + cast(LiveSignup.edition_id, String)
        + literal(":", String)
        + cast(message.id, String)
    )


def plan_session_releases(today: date, now: datetime) -> int:
    """The notice of a seat released, to people whose calendar has the event.

    For the sign-ups given up (or taken away) in the last :data:`EVENT_DAYS` days
    of editions ahead (called off too: whoever gave the seat up is not told of a
    cancellation), on the waiting list again too, when the last message with the
    event sent to the person is an invitation or a change, sent before the
    release: the kind names it, so that a seat taken and released again gets a
    notice of its own. Its date is the (UTC) day of the release.
    """
    told = aliased(Notification)
    rows = (
        _seat_rows(
            _answering(Kind.SESSION_RELEASED, told),
            utc_day(LiveSignup.updated_at),
            today,
            now,
            (SignupStatus.CANCELLED, SignupStatus.WAITING),
        )
        .join(told, told.staff_id == LiveSignup.staff_id)
        .where(
            LiveSignup.updated_at >= now - timedelta(days=EVENT_DAYS),
            LiveSignup.edition_id < ID_LIMIT,
            *_last_sent(told, _REQUESTS),
            told.sent_at < LiveSignup.updated_at,
            _none_pending(_RELEASES),
        )
    )
    return rearm(rows, now) + _insert(rows)


def plan_session_rebookings(today: date, now: datetime) -> int:
    """The invitation again for a seat booked after the notice of its release went.

    Only when no invitation is waiting to go (booking again another day plans that
    day's ``invite:E``); so, in practice, when the seat is taken again the day its
    invitation went. The kind names the notice of the release.
    """
    told = aliased(Notification)
    rows = (
        _seat_rows(
            _answering(Kind.SESSION_REBOOKED, told), utc_day(LiveSignup.updated_at), today, now
        )
        .join(told, told.staff_id == LiveSignup.staff_id)
        .where(
            LiveEdition.cancelled_at.is_(None),
            LiveSignup.updated_at >= now - timedelta(days=EVENT_DAYS),
            LiveSignup.edition_id < ID_LIMIT,
            *_last_sent(told, _RELEASES),
            told.sent_at < LiveSignup.updated_at,
            _none_pending(((Kind.SESSION_INVITE,), (Kind.SESSION_REBOOKED,))),
        )
    )
    return rearm(rows, now) + _insert(rows)


@dataclass(frozen=True)
class Settings:
    """The deployment's reminder settings (config: REMINDER_DAYS and the rest)."""

    reminder_days: tuple[int, ...]
    overdue_repeats: int
    digest_weekday: int

    @classmethod
    def from_config(cls) -> Settings:
        """Read and check the app's configuration (a bad value: ReminderDaysError)."""
        config = current_app.config
        weekday = int(config["DIGEST_WEEKDAY"])
        if not 0 <= weekday <= 6:  # noqa: PLR2004 - Sunday
            raise ReminderDaysError("LMS_DIGEST_WEEKDAY must be 0 (Monday) to 6 (Sunday)")
        repeats = int(config["REMINDER_OVERDUE_REPEATS"])
        if not 0 <= repeats <= 52:  # noqa: PLR2004 - a year of weeks
            raise ReminderDaysError("LMS_REMINDER_OVERDUE_REPEATS must be 0 to 52")
        return cls(parse_reminder_days(str(config["REMINDER_DAYS"])), repeats, weekday)


def plan_events(now: datetime | None = None) -> PlanReport:
    """The messages that follow an event (cheap; run often, so they come at once).

    Enrolments and completions; a live session's seats (taken, released, taken
    again), changes and cancellations. The invitations are planned before the
    invitations again (which go only when no invitation waits).
    """
    custom_plans()  # a whole programme's enrolments at once (lms.core.sql.custom_plans)
    now = now or utcnow()
    today = rome_date(now)
    report = PlanReport()
    report.add(Kind.ENROLLED.value, plan_enrolled(today, now))
    report.add(Kind.COMPLETED.value, plan_completed(today, now))
    report.add(Kind.SESSION_INVITE.value, plan_session_invites(today, now))
    report.add(Kind.SESSION_REBOOKED.value, plan_session_rebookings(today, now))
    report.add(Kind.SESSION_MOVED.value, plan_session_changes(today, now))
    report.add(Kind.SESSION_CANCELLED.value, plan_session_cancellations(today, now))
    report.add(Kind.SESSION_RELEASED.value, plan_session_releases(today, now))
    return report


def plan_day(now: datetime | None = None, settings: Settings | None = None) -> PlanReport:
    """Everything due today: events, reminders, overdue notices and the week's digests.

    Flushes, never commits: the caller commits, then sends
    (:func:`lms.notifications.jobs.run`).
    """
    custom_plans()
    now = now or utcnow()
    settings = settings or Settings.from_config()
    today = rome_date(now)
    report = plan_events(now)
    for kind, count in plan_due(today, now, settings.reminder_days).items():
        report.add(kind, count)
    for kind, count in plan_overdue(today, now, settings.overdue_repeats).items():
        report.add(kind, count)
    report.add(
        Kind.DIGEST.value,
        plan_learner_digests(today, now, settings.digest_weekday, settings.overdue_repeats),
    )
    report.add(Kind.HR_DIGEST.value, plan_hr_digests(today, now, settings.digest_weekday))
    report.add(Kind.SESSION_REMINDER.value, plan_session_reminders(today, now))
    return report
