"""Editions and sign-ups: scheduling, editing, cancelling; booking, giving up, the waiting list.

Plain functions that take objects and values, flush, never commit, and write the
audit entry of what they change (trainers' and HR managers' actions; a learner
booking or giving up their own seat is not audited, like reading a page).
Refusals raise :class:`~lms.live.errors.LiveError` before anything is written.

Seats. An edition with a capacity has that many *booked* seats; who signs up when
it is full joins the *waiting* list, first come first served (``signed_up_at``).
A seat given up, or added by a larger capacity, goes at once, in the same
transaction, to the first on the waiting list. Two people taking the last seat at
the same moment must not both get it: every change of an edition's seats first
locks the edition's row (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite, which
lets one writer at a time, a no-op UPDATE that takes the write lock), then counts.

One open booking (booked or waiting) per person and live module, among the
editions still ahead and not called off (a seat in an edition already held stays
on the record and does not block the next one): the person's row is locked too
(:func:`lock_person`), so two bookings by the same person are checked one after
the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Select, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from lms.audit import Action, ObjectKind, record
from lms.auth.models import Role, User
from lms.core.messages import _l
from lms.core.types import ROME, rome_date, utcnow
from lms.courses.models import Module, ModuleKind
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.live.errors import LiveError
from lms.live.models import LiveEdition, LiveSignup, SignupStatus
from lms.register.models import StaffMember

#: The longest edition (a day of classroom with breaks counted).
MAX_MINUTES = 24 * 60
MAX_CAPACITY = 100_000
MAX_PLACE = 300
MAX_URL = 500
MAX_NOTES = 4000
#: Open sign-ups: those that hold a seat or a place in the queue.
OPEN = (SignupStatus.BOOKED, SignupStatus.WAITING)


# Times in Italy ---------------------------------------------------------------------


def rome_start(day: date, at: time) -> datetime:
    """The moment (UTC) of *day* at *at* on Italy's clocks.

    On the last Sunday of March the clocks go from 02:00 to 03:00: a time in
    between does not exist and is refused. On the last Sunday of October 02:00 to
    03:00 happens twice: the first (summer time) is taken.
    """
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=ROME)
    moment = local.astimezone(UTC)
    if moment.astimezone(ROME).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise LiveError(
            _l(
                "Le %(time)s del %(day)s non esistono in Italia: quella notte gli orologi"
                " passano dalle 2 alle 3. Scegli un altro orario.",
                time=at.strftime("%H:%M"),
                day=day.strftime("%d/%m/%Y"),
            )
        )
    return moment


def rome_wall_clock(moment: datetime) -> datetime:
    """*moment* on Italy's clocks (for forms and pages)."""
    return moment.astimezone(ROME)


# Editions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionDetails:
    """What a trainer enters for an edition (times already turned into a UTC moment)."""

    starts_at: datetime
    minutes: int
    place: str = ""
    meeting_url: str = ""
    capacity: int | None = None
    trainer: User | None = None
    notes: str = ""


def trainers() -> list[User]:
    """The accounts an edition may name as its trainer: active trainers, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.TRAINER, User.active.is_(True))
            .order_by(User.last_name, User.first_name, User.id)
        )
    )


def _check_texts(place: str, url: str, notes: str) -> None:
    if len(place) > MAX_PLACE:
        raise LiveError(
            _l("Il luogo è troppo lungo (al massimo %(max)d caratteri).", max=MAX_PLACE)
        )
    if len(url) > MAX_URL:
        raise LiveError(_l("Il link è troppo lungo (al massimo %(max)d caratteri).", max=MAX_URL))
    if url:
        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
            raise LiveError(
                _l("Il link della riunione deve essere un indirizzo che inizia con https://.")
            )
    if not place and not url:
        raise LiveError(_l("Indica il luogo (in aula) o il link della riunione (webinar)."))
    if len(notes) > MAX_NOTES:
        raise LiveError(
            _l("Le note sono troppo lunghe (al massimo %(max)d caratteri).", max=MAX_NOTES)
        )


def _check_details(details: EditionDetails) -> EditionDetails:
    """*details* trimmed, or a LiveError that says what is wrong."""
    place = details.place.strip()
    url = details.meeting_url.strip()
    notes = details.notes.strip()
    if details.starts_at.tzinfo is None:
        raise ValueError("starts_at must be an aware datetime")
    if not 1 <= details.minutes <= MAX_MINUTES:
        raise LiveError(_l("La durata va da 1 a %(max)d minuti.", max=MAX_MINUTES))
    _check_texts(place, url, notes)
    if details.capacity is not None and not 1 <= details.capacity <= MAX_CAPACITY:
        raise LiveError(_l("I posti vanno da 1 a %(max)d (vuoto: senza limite).", max=MAX_CAPACITY))
    trainer = details.trainer
    if trainer is not None and (trainer.role is not Role.TRAINER or not trainer.active):
        raise LiveError(
            _l("Il formatore scelto non è un account attivo con il ruolo di formatore.")
        )
    return EditionDetails(
        starts_at=details.starts_at.astimezone(UTC),
        minutes=details.minutes,
        place=place,
        meeting_url=url,
        capacity=details.capacity,
        trainer=trainer,
        notes=notes,
    )


def _summary_of(edition: LiveEdition) -> dict[str, object]:
    return {
        "edition": edition.id,
        "course": edition.module.course.slug,
        "module": edition.module.slug,
        "starts_at": edition.starts_at,
        "minutes": edition.minutes,
        "capacity": edition.capacity,
    }


def _people_of(edition: LiveEdition) -> list[Select[str, int]]:
    """The audit objects of the people with an open sign-up: them and their authorities."""
    people = select(LiveSignup.staff_id).where(
        LiveSignup.edition_id == edition.id, LiveSignup.status.in_(OPEN)
    )
    return [
        select(literal(ObjectKind.STAFF.value), StaffMember.id).where(StaffMember.id.in_(people)),
        select(literal(ObjectKind.AUTHORITY.value), StaffMember.authority_id).where(
            StaffMember.id.in_(people)
        ),
    ]


def schedule_edition(
    module: Module, details: EditionDetails, actor: User, *, now: datetime | None = None
) -> LiveEdition:
    """A new edition of the live *module*, starting in the future; audited."""
    now = now or utcnow()
    if module.kind is not ModuleKind.LIVE or module.retired_at is not None:
        raise LiveError(_l("Si programmano sessioni solo per i moduli dal vivo in uso."))
    checked = _check_details(details)
    if checked.starts_at <= now:
        raise LiveError(_l("La data e l'ora di inizio devono essere nel futuro."))
    edition = LiveEdition(
        module_id=module.id,
        module=module,
        starts_at=checked.starts_at,
        minutes=checked.minutes,
        place=checked.place,
        meeting_url=checked.meeting_url,
        capacity=checked.capacity,
        trainer_id=checked.trainer.id if checked.trainer else None,
        notes=checked.notes,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(edition)
    db.session.flush()
    record(
        Action.EDITION_CREATE,
        actor_id=actor.id,
        objects=[(ObjectKind.EDITION, edition.id), (ObjectKind.COURSE, module.course_id)],
        summary=_summary_of(edition),
    )
    return edition


def update_edition(
    edition: LiveEdition, details: EditionDetails, actor: User, *, now: datetime | None = None
) -> list[str]:
    """Change *edition*; return the names of the fields that changed (audited when any).

    A cancelled edition is not changed. A new start must be in the future. The
    capacity may not fall below the seats already booked (nobody loses a seat
    without being told: HR or the people themselves free seats first); a larger
    one gives the new seats to the waiting list, in order.
    """
    now = now or utcnow()
    if edition.cancelled_at is not None:
        raise LiveError(_l("La sessione è stata annullata: non si modifica più."))
    checked = _check_details(details)
    lock_edition(edition)
    if checked.starts_at != edition.starts_at and checked.starts_at <= now:
        raise LiveError(_l("La data e l'ora di inizio devono essere nel futuro."))
    booked = booked_count(edition)
    if checked.capacity is not None and checked.capacity < booked:
        raise LiveError(
            _l(
                "%(booked)d persone hanno già un posto: i posti non possono scendere sotto"
                " %(booked)d. Libera prima dei posti (rinuncia o rimozione).",
                booked=booked,
            )
        )
    values = {
        "starts_at": checked.starts_at,
        "minutes": checked.minutes,
        "place": checked.place,
        "meeting_url": checked.meeting_url,
        "capacity": checked.capacity,
        "trainer_id": checked.trainer.id if checked.trainer else None,
        "notes": checked.notes,
    }
    changed = [name for name, value in values.items() if getattr(edition, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(edition, name, values[name])
    edition.updated_at = now
    db.session.flush()
    promoted = _fill_seats(edition, now)
    record(
        Action.EDITION_UPDATE,
        actor_id=actor.id,
        objects=[(ObjectKind.EDITION, edition.id), (ObjectKind.COURSE, edition.module.course_id)],
        objects_select=_people_of(edition),
        summary={**_summary_of(edition), "changed": changed, "promoted": promoted},
    )
    return changed


def cancel_edition(edition: LiveEdition, actor: User, *, now: datetime | None = None) -> None:
    """Call *edition* off: it stays, with its sign-ups, marked cancelled; audited."""
    now = now or utcnow()
    if edition.cancelled_at is not None:
        raise LiveError(_l("La sessione era già stata annullata."))
    lock_edition(edition)
    counts = status_counts(edition)
    edition.cancelled_at = now
    edition.updated_at = now
    db.session.flush()
    record(
        Action.EDITION_CANCEL,
        actor_id=actor.id,
        objects=[(ObjectKind.EDITION, edition.id), (ObjectKind.COURSE, edition.module.course_id)],
        objects_select=_people_of(edition),
        summary={
            **_summary_of(edition),
            "booked": counts.get(SignupStatus.BOOKED, 0),
            "waiting": counts.get(SignupStatus.WAITING, 0),
        },
    )


# Seats ------------------------------------------------------------------------------


def lock_edition(edition: LiveEdition) -> None:
    """Hold *edition*'s row until the transaction ends, so seats are counted one at a time."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(LiveEdition.id).where(LiveEdition.id == edition.id).with_for_update()
        )
    else:
        # SQLite has no row locks: the first write of a transaction takes the
        # database's write lock, and later writers wait for the commit.
        db.session.execute(
            update(LiveEdition)
            .where(LiveEdition.id == edition.id)
            .values(id=LiveEdition.id)
            .execution_options(synchronize_session=False)
        )


def status_counts(edition: LiveEdition) -> dict[SignupStatus, int]:
    """How many sign-ups of *edition* are in each status."""
    return {
        SignupStatus(status): count
        for status, count in db.session.execute(
            select(LiveSignup.status, func.count(LiveSignup.id))
            .where(LiveSignup.edition_id == edition.id)
            .group_by(LiveSignup.status)
        ).all()
    }


def booked_count(edition: LiveEdition) -> int:
    """Seats taken in *edition*."""
    return (
        db.session.scalar(
            select(func.count(LiveSignup.id)).where(
                LiveSignup.edition_id == edition.id, LiveSignup.status == SignupStatus.BOOKED
            )
        )
        or 0
    )


def _fill_seats(edition: LiveEdition, now: datetime) -> int:
    """Give free seats to the first on the waiting list; return how many moved up."""
    waiting = select(LiveSignup).where(
        LiveSignup.edition_id == edition.id, LiveSignup.status == SignupStatus.WAITING
    )
    if edition.capacity is not None:
        free = edition.capacity - booked_count(edition)
        if free <= 0:
            return 0
        waiting = waiting.order_by(LiveSignup.signed_up_at, LiveSignup.id).limit(free)
    moved = 0
    for signup in db.session.scalars(waiting):
        signup.status = SignupStatus.BOOKED
        signup.updated_at = now
        moved += 1
    db.session.flush()
    return moved


def is_enrolled(staff: StaffMember, module: Module) -> bool:
    """Whether *staff* is enrolled in *module*'s course."""
    return (
        db.session.scalar(
            select(Enrolment.id).where(
                Enrolment.staff_id == staff.id, Enrolment.course_id == module.course_id
            )
        )
        is not None
    )


def open_signup_for_module(
    staff: StaffMember, module: Module, now: datetime | None = None
) -> LiveSignup | None:
    """The person's open sign-up (booked or waiting) in an edition of *module* still ahead.

    Editions already started (held: the seat stays on the record) or called off
    do not count: the person may book another edition.
    """
    now = now or utcnow()
    return db.session.scalar(
        select(LiveSignup)
        .join(LiveEdition, LiveEdition.id == LiveSignup.edition_id)
        .where(
            LiveSignup.staff_id == staff.id,
            LiveSignup.module_id == module.id,
            LiveSignup.status.in_(OPEN),
            LiveEdition.starts_at > now,
            LiveEdition.cancelled_at.is_(None),
        )
        .limit(1)
    )


def lock_person(staff: StaffMember) -> None:
    """Hold *staff*'s row until the transaction ends: their bookings are checked one at a time.

    Two bookings of two editions by the same person (two tabs, or the person and
    their HR manager) lock two different editions; this makes the second wait for
    the first and then see its seat. An UPDATE that changes nothing locks the row
    on PostgreSQL and takes the database's write lock on SQLite.
    """
    db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff.id)
        .values(id=StaffMember.id)
        .execution_options(synchronize_session=False)
    )


def _already_elsewhere(other: LiveSignup) -> LiveError:
    day = rome_wall_clock(other.edition.starts_at)
    return LiveError(
        _l(
            "C'è già un posto (o un posto in lista d'attesa) per questo modulo nella sessione"
            " del %(day)s alle %(time)s: rinuncia a quello per prenotarne un altro.",
            day=day.strftime("%d/%m/%Y"),
            time=day.strftime("%H:%M"),
        )
    )


def check_may_book(edition: LiveEdition, staff: StaffMember, now: datetime) -> None:
    """Refuse (LiveError) when *staff* may not book *edition* at *now*, whoever asks."""
    module = edition.module
    if edition.cancelled_at is not None:
        raise LiveError(_l("La sessione è stata annullata."))
    if edition.starts_at <= now:
        raise LiveError(_l("La sessione è già iniziata: le prenotazioni sono chiuse."))
    if not is_enrolled(staff, module):
        raise LiveError(
            _l(
                "Per prenotare serve l'iscrizione al corso «%(course)s».",
                course=module.course.title,
            )
        )
    if staff.has_left(rome_date(edition.starts_at)):
        raise LiveError(_l("Il giorno della sessione la persona non è più in servizio."))


def sign_up(
    edition: LiveEdition, staff: StaffMember, actor: User, *, now: datetime | None = None
) -> LiveSignup:
    """Book a seat in *edition* for *staff* (or a place on its waiting list when full).

    *actor* is the person themselves (their own account) or an HR manager or
    administrator booking for them (audited ``signup.create``); the caller has
    checked that they may. The edition must be ahead and not cancelled; the person
    enrolled in its course, still on the staff on its day, and without another
    open booking for the same module. Booking again what one holds changes nothing.
    """
    now = now or utcnow()
    module = edition.module
    check_may_book(edition, staff, now)
    lock_edition(edition)
    lock_person(staff)
    existing = db.session.scalar(
        select(LiveSignup).where(
            LiveSignup.edition_id == edition.id, LiveSignup.staff_id == staff.id
        )
    )
    if existing is not None and existing.status in OPEN:
        return existing
    other = open_signup_for_module(staff, module, now)
    if other is not None:
        raise _already_elsewhere(other)
    full = edition.capacity is not None and booked_count(edition) >= edition.capacity
    status = SignupStatus.WAITING if full else SignupStatus.BOOKED
    signup = _take_place(edition, staff, existing, status, actor, now)
    if actor.id != staff.user_id:
        _record_for_someone(
            Action.SIGNUP_CREATE, edition, staff, actor, {"status": status, "promoted": False}
        )
    return signup


def _take_place(
    edition: LiveEdition,
    staff: StaffMember,
    existing: LiveSignup | None,
    status: SignupStatus,
    actor: User,
    now: datetime,
) -> LiveSignup:
    """Write the sign-up (a new row, or the cancelled one again), in a savepoint."""
    try:
        with db.session.begin_nested():
            signup = existing
            if signup is None:
                signup = LiveSignup(
                    edition_id=edition.id, module_id=edition.module_id, staff_id=staff.id
                )
                db.session.add(signup)
            signup.status = status
            signup.signed_up_at = now  # a new place at the end of the queue
            signup.signed_up_by_id = actor.id
            signup.updated_at = now
    except IntegrityError:
        # The (edition, person) row appeared meanwhile: the locks make it unlikely.
        db.session.expire_all()
        raise LiveError(_l("La prenotazione non è riuscita: riprova.")) from None
    return signup


def _record_for_someone(
    action: Action,
    edition: LiveEdition,
    staff: StaffMember,
    actor: User,
    summary: dict[str, object],
) -> None:
    """The audit entry of a seat booked or given up for someone else (their area included)."""
    record(
        action,
        actor_id=actor.id,
        objects=[
            (ObjectKind.EDITION, edition.id),
            (ObjectKind.COURSE, edition.module.course_id),
            (ObjectKind.STAFF, staff.id),
        ],
        authority_ids=[staff.authority_id],
        summary={"edition": edition.id, "course": edition.module.course.slug, **summary},
    )


def give_up(
    edition: LiveEdition, staff: StaffMember, actor: User, *, now: datetime | None = None
) -> LiveSignup | None:
    """Free *staff*'s seat (or waiting place) in *edition*; return who got the seat, if anyone.

    Before the edition starts only. The first on the waiting list takes a freed
    seat in the same transaction. Done for someone else, it is audited
    (``signup.cancel``). Giving up what one does not hold is refused.
    """
    now = now or utcnow()
    if edition.starts_at <= now:
        raise LiveError(_l("La sessione è già iniziata: la prenotazione resta agli atti."))
    lock_edition(edition)
    signup = db.session.scalar(
        select(LiveSignup).where(
            LiveSignup.edition_id == edition.id,
            LiveSignup.staff_id == staff.id,
            LiveSignup.status.in_(OPEN),
        )
    )
    if signup is None:
        raise LiveError(_l("Non c'è una prenotazione da annullare per questa sessione."))
    was = signup.status
    signup.status = SignupStatus.CANCELLED
    signup.updated_at = now
    db.session.flush()
    promoted: LiveSignup | None = None
    if was is SignupStatus.BOOKED and edition.cancelled_at is None:
        promoted = _first_waiting(edition)
        if promoted is not None and (
            edition.capacity is None or booked_count(edition) < edition.capacity
        ):
            promoted.status = SignupStatus.BOOKED
            promoted.updated_at = now
            db.session.flush()
        else:
            promoted = None
    if actor.id != staff.user_id:
        _record_for_someone(
            Action.SIGNUP_CANCEL,
            edition,
            staff,
            actor,
            {"status": was, "promoted": promoted is not None},
        )
    return promoted


def _first_waiting(edition: LiveEdition) -> LiveSignup | None:
    return db.session.scalar(
        select(LiveSignup)
        .where(LiveSignup.edition_id == edition.id, LiveSignup.status == SignupStatus.WAITING)
        .order_by(LiveSignup.signed_up_at, LiveSignup.id)
        .limit(1)
    )


def waiting_position(signup: LiveSignup) -> int | None:
    """1 for the first on the waiting list, …; None when *signup* is not waiting."""
    if signup.status is not SignupStatus.WAITING:
        return None
    ahead = db.session.scalar(
        select(func.count(LiveSignup.id)).where(
            LiveSignup.edition_id == signup.edition_id,
            LiveSignup.status == SignupStatus.WAITING,
            (LiveSignup.signed_up_at < signup.signed_up_at)
            | ((LiveSignup.signed_up_at == signup.signed_up_at) & (LiveSignup.id < signup.id)),
        )
    )
    return (ahead or 0) + 1


def ends_at(edition: LiveEdition) -> datetime:
    """When *edition* ends."""
    return edition.starts_at + timedelta(minutes=edition.minutes)
