"""Live sessions: recording attendance, scheduling editions, sign-ups and the waiting list."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from live_world import PAST, LiveWorld, build_live_world
from sqlalchemy import func, select
from test_quiz_attempts import THREADS, in_threads

from lms.audit import Action, AuditEntry, AuditObject, ObjectKind
from lms.auth.models import Role, User
from lms.core.types import rome_date, utcnow
from lms.courses.models import CourseCompletion, ModuleProgress
from lms.courses.progress import complete_module
from lms.extensions import db as _db
from lms.live.attendance import attendable_by_email, record_attendance
from lms.live.errors import LiveError, NotAttendable
from lms.live.models import (
    AttendanceSource,
    LiveAttendance,
    LiveEdition,
    LiveSignup,
    SignupStatus,
)
from lms.live.operations import (
    EditionDetails,
    cancel_edition,
    give_up,
    rome_start,
    rome_wall_clock,
    schedule_edition,
    sign_up,
    status_counts,
    update_edition,
    waiting_position,
)
from lms.register.models import StaffMember


def progress_of(user_id: int, module_id: int) -> ModuleProgress | None:
    _db.session.expire_all()
    return _db.session.scalar(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user_id, ModuleProgress.module_id == module_id
        )
    )


def attendance_minutes(edition_id: int) -> dict[int, int]:
    return dict(
        _db.session.execute(
            select(LiveAttendance.staff_id, LiveAttendance.minutes).where(
                LiveAttendance.edition_id == edition_id
            )
        ).all()
    )


def entries(action: str) -> list[AuditEntry]:
    return list(_db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def objects_of(entry: AuditEntry, kind: ObjectKind) -> set[int]:
    return set(
        _db.session.scalars(
            select(AuditObject.object_id).where(
                AuditObject.entry_id == entry.id, AuditObject.kind == kind
            )
        )
    )


@pytest.fixture
def w(make_user, make_authority, make_region) -> LiveWorld:
    return build_live_world(make_user, make_authority, make_region)


# Recording attendance ------------------------------------------------------------------


def test_attendance_at_or_above_the_threshold_completes_the_module_and_below_does_not(
    w: LiveWorld,
) -> None:
    edition = w.edition(starts_at=PAST, minutes=120)  # 75 %: 90 minutes
    exactly, above, below, absent = (w.person() for _ in range(4))
    result = record_attendance(
        edition,
        {exactly.id: 90, above.id: 130, below.id: 89, absent.id: 0},
        AttendanceSource.REGISTER,
        w.trainer,
        now=PAST + timedelta(hours=3),
    )
    _db.session.commit()
    assert (result.recorded, result.completed, result.below) == (4, 2, 2)
    assert result.newly_completed == 2
    # Minutes beyond the session's length are the session's length.
    assert attendance_minutes(edition.id) == {
        exactly.id: 90,
        above.id: 120,
        below.id: 89,
        absent.id: 0,
    }
    assert progress_of(exactly.user_id, w.live.id).completed_at == PAST + timedelta(hours=3)
    assert progress_of(above.user_id, w.live.id).completed_at is not None
    assert progress_of(below.user_id, w.live.id) is None
    assert progress_of(absent.user_id, w.live.id) is None


def test_a_lower_figure_later_never_uncompletes_and_the_last_figure_is_kept(
    w: LiveWorld,
) -> None:
    edition = w.edition(starts_at=PAST)
    person = w.person()
    record_attendance(edition, {person.id: 120}, AttendanceSource.TEAMS, w.trainer)
    record_attendance(edition, {person.id: 10}, AttendanceSource.REGISTER, w.trainer)
    _db.session.commit()
    assert attendance_minutes(edition.id) == {person.id: 10}
    row = _db.session.scalar(select(LiveAttendance))
    assert row.source is AttendanceSource.REGISTER
    assert progress_of(person.user_id, w.live.id).completed_at is not None
    assert (
        _db.session.scalar(select(LiveAttendance.id).where(LiveAttendance.minutes == 120)) is None
    )


def test_the_last_module_missing_completes_the_course(w: LiveWorld) -> None:
    edition = w.edition(starts_at=PAST)
    person = w.person()
    user = _db.session.get(type(w.trainer), person.user_id)
    complete_module(user, w.first_page)
    complete_module(user, w.last_page)
    _db.session.commit()
    record_attendance(edition, {person.id: 100}, AttendanceSource.ZOOM, w.trainer)
    _db.session.commit()
    assert _db.session.scalar(select(CourseCompletion).where(CourseCompletion.user_id == user.id))


def test_people_without_an_account_are_recorded_not_completed(w: LiveWorld) -> None:
    edition = w.edition(starts_at=PAST)
    person = w.person(account=False)
    result = record_attendance(edition, {person.id: 120}, AttendanceSource.REGISTER, w.trainer)
    assert (result.recorded, result.completed, result.without_account) == (1, 1, 1)
    assert result.newly_completed == 0
    assert attendance_minutes(edition.id) == {person.id: 120}


def test_people_who_may_not_attend_refuse_the_lot(w: LiveWorld) -> None:
    edition = w.edition(starts_at=PAST)
    enrolled = w.person()
    stranger = w.person(enrolled=False)
    with pytest.raises(NotAttendable) as refused:
        record_attendance(
            edition, {enrolled.id: 120, stranger.id: 120}, AttendanceSource.REGISTER, w.trainer
        )
    assert refused.value.staff_ids == [stranger.id]
    assert "1 persone" in str(refused.value)
    _db.session.rollback()
    assert attendance_minutes(edition.id) == {}
    assert entries(Action.ATTENDANCE_RECORD) == []


def test_someone_signed_up_may_attend_without_an_enrolment(w: LiveWorld) -> None:
    edition = w.edition(starts_at=PAST)
    booked = w.person(enrolled=False)
    _db.session.add(
        LiveSignup(
            edition_id=edition.id,
            module_id=w.live.id,
            staff_id=booked.id,
            status=SignupStatus.BOOKED,
        )
    )
    _db.session.commit()
    result = record_attendance(edition, {booked.id: 90}, AttendanceSource.REGISTER, w.trainer)
    assert result.completed == 1


@pytest.mark.parametrize("minutes", [-1, 1.5, "90", True])
def test_bad_minutes_are_refused(w: LiveWorld, minutes: object) -> None:
    edition = w.edition(starts_at=PAST)
    person = w.person()
    with pytest.raises(LiveError, match="numero intero"):
        record_attendance(edition, {person.id: minutes}, AttendanceSource.REGISTER, w.trainer)


def test_no_attendance_before_the_start_or_on_a_cancelled_edition(w: LiveWorld) -> None:
    person = w.person()
    future = w.edition()
    with pytest.raises(LiveError, match="non è ancora iniziata"):
        record_attendance(future, {person.id: 90}, AttendanceSource.REGISTER, w.trainer)
    cancelled = w.edition(starts_at=PAST)
    cancelled.cancelled_at = PAST
    _db.session.commit()
    with pytest.raises(LiveError, match="annullata"):
        record_attendance(cancelled, {person.id: 90}, AttendanceSource.REGISTER, w.trainer)


def test_one_audit_entry_with_counts_edition_people_and_authorities(
    w: LiveWorld,
) -> None:
    edition = w.edition(starts_at=PAST)
    here, there = w.person(), w.person(authority=w.catanzaro)
    record_attendance(edition, {here.id: 100, there.id: 10}, AttendanceSource.REGISTER, w.trainer)
    record_attendance(edition, {here.id: 100}, AttendanceSource.TEAMS, w.trainer)
    _db.session.commit()
    (entry,) = entries(Action.ATTENDANCE_RECORD)
    assert entry.actor_id == w.trainer.id
    assert entry.summary["recorded"] == 2
    assert entry.summary["completed"] == 1
    assert entry.summary["below"] == 1
    assert entry.summary["edition"] == edition.id
    assert entry.summary["source"] == "register"
    assert objects_of(entry, ObjectKind.EDITION) == {edition.id}
    assert objects_of(entry, ObjectKind.STAFF) == {here.id, there.id}
    assert objects_of(entry, ObjectKind.AUTHORITY) == {w.napoli.id, w.catanzaro.id}
    (imported,) = entries(Action.ATTENDANCE_IMPORT)
    assert imported.summary["source"] == "teams"
    assert imported.summary["newly_completed"] == 0  # completed by the register already


def test_attendable_people_by_email(w: LiveWorld) -> None:
    edition = w.edition(starts_at=PAST)
    enrolled = w.person(email="anna.bianchi@example.org")
    w.person(email="non.iscritto@example.org", enrolled=False)
    found = attendable_by_email(
        edition, ["  Anna.Bianchi@Example.org ", "non.iscritto@example.org", "nessuno@example.org"]
    )
    assert found == {"anna.bianchi@example.org": enrolled}


# Scheduling --------------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def details(**changes: object) -> EditionDetails:
    values: dict[str, object] = {
        "starts_at": datetime(2026, 4, 15, 8, 0, tzinfo=UTC),
        "minutes": 120,
        "meeting_url": "https://teams.example.org/l/meetup-join/abc",
        "capacity": 2,
    }
    return EditionDetails(**{**values, **changes})


def test_times_are_entered_on_italys_clocks_across_the_change_to_summer_time() -> None:
    # Saturday 28 March 2026 is still winter time (UTC+1), Monday 30 March summer (UTC+2).
    assert rome_start(date(2026, 3, 28), time(10, 0)) == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
    assert rome_start(date(2026, 3, 30), time(10, 0)) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    # 02:30 on 29 March does not exist in Italy; on 25 October it happens twice (first taken).
    with pytest.raises(LiveError, match="non esistono"):
        rome_start(date(2026, 3, 29), time(2, 30))
    assert rome_start(date(2026, 10, 25), time(2, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert rome_wall_clock(datetime(2026, 3, 30, 8, 0, tzinfo=UTC)).hour == 10


def test_schedule_an_edition_in_italian_time_and_audit_it(w: LiveWorld) -> None:
    starts = rome_start(date(2026, 3, 30), time(10, 0))
    edition = schedule_edition(
        w.live,
        details(starts_at=starts, trainer=w.trainer, notes="  Portare il PC.  ", place=""),
        w.trainer,
        now=NOW,
    )
    _db.session.commit()
    assert edition.starts_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert edition.notes == "Portare il PC."
    assert edition.trainer_id == w.trainer.id
    (entry,) = entries(Action.EDITION_CREATE)
    assert entry.summary["course"] == "webinar-prova"
    assert objects_of(entry, ObjectKind.EDITION) == {edition.id}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"starts_at": datetime(2026, 2, 1, 8, tzinfo=UTC)}, "nel futuro"),
        ({"minutes": 0}, "durata"),
        ({"minutes": 24 * 60 + 1}, "durata"),
        ({"meeting_url": "javascript:alert(1)"}, "https://"),
        ({"meeting_url": "ftp://example.org/x"}, "https://"),
        ({"meeting_url": "https://"}, "https://"),
        ({"meeting_url": "", "place": "   "}, "luogo"),
        ({"capacity": 0}, "posti"),
        ({"place": "x" * 301}, "luogo"),
    ],
)
def test_bad_edition_details_are_refused(w: LiveWorld, changes: dict, message: str) -> None:
    with pytest.raises(LiveError, match=message):
        schedule_edition(w.live, details(**changes), w.trainer, now=NOW)
    assert entries(Action.EDITION_CREATE) == []


def test_the_trainer_must_be_an_active_trainer(w: LiveWorld) -> None:
    learner = w.make_user(Role.LEARNER)
    with pytest.raises(LiveError, match="formatore"):
        schedule_edition(w.live, details(trainer=learner), w.trainer, now=NOW)
    retired = w.make_user(Role.TRAINER, active=False)
    with pytest.raises(LiveError, match="formatore"):
        schedule_edition(w.live, details(trainer=retired), w.trainer, now=NOW)


def test_only_live_modules_get_editions(w: LiveWorld) -> None:
    with pytest.raises(LiveError, match="moduli dal vivo"):
        schedule_edition(w.first_page, details(), w.trainer, now=NOW)


# Sign-ups and the waiting list ---------------------------------------------------------


def status_of(edition: LiveEdition, staff: StaffMember) -> SignupStatus | None:
    _db.session.expire_all()
    return _db.session.scalar(
        select(LiveSignup.status).where(
            LiveSignup.edition_id == edition.id, LiveSignup.staff_id == staff.id
        )
    )


def account(staff: StaffMember) -> User:
    return _db.session.get(User, staff.user_id)


def test_a_full_edition_takes_a_waiting_list_and_a_freed_seat_goes_to_the_first(
    w: LiveWorld,
) -> None:
    edition = w.edition(capacity=2)
    a, b, c, d = (w.person() for _ in range(4))
    for person in (a, b, c, d):
        sign_up(edition, person, account(person))
        _db.session.commit()
    assert [status_of(edition, p) for p in (a, b, c, d)] == [
        SignupStatus.BOOKED,
        SignupStatus.BOOKED,
        SignupStatus.WAITING,
        SignupStatus.WAITING,
    ]
    signup_c = _db.session.scalar(select(LiveSignup).where(LiveSignup.staff_id == c.id))
    signup_d = _db.session.scalar(select(LiveSignup).where(LiveSignup.staff_id == d.id))
    assert (waiting_position(signup_c), waiting_position(signup_d)) == (1, 2)

    promoted = give_up(edition, a, account(a))
    _db.session.commit()
    assert promoted.staff_id == c.id
    assert status_of(edition, a) is SignupStatus.CANCELLED
    assert status_of(edition, c) is SignupStatus.BOOKED
    assert status_of(edition, d) is SignupStatus.WAITING
    # Someone who gives up a waiting place frees no seat.
    assert give_up(edition, d, account(d)) is None
    # Booking again after giving up: the end of the queue (here a free seat? no: full).
    sign_up(edition, a, account(a))
    _db.session.commit()
    assert status_of(edition, a) is SignupStatus.WAITING
    # The learner's own actions are not audited.
    assert entries(Action.SIGNUP_CREATE) == entries(Action.SIGNUP_CANCEL) == []


def test_booking_twice_changes_nothing_and_one_booking_per_module(w: LiveWorld) -> None:
    first, second = w.edition(), w.edition(starts_at=utcnow() + timedelta(days=14))
    person = w.person()
    signup = sign_up(first, person, account(person))
    assert sign_up(first, person, account(person)).id == signup.id
    with pytest.raises(LiveError, match="già un posto"):
        sign_up(second, person, account(person))
    give_up(first, person, account(person))
    assert sign_up(second, person, account(person)).status is SignupStatus.BOOKED


def test_a_booking_in_an_edition_held_or_cancelled_does_not_block_another(
    w: LiveWorld,
) -> None:
    """Absent or under the threshold at one edition, a person books the next one.

    The trial's finding: a seat in an edition already held (which can no longer be
    given up) blocked every later edition of the module for good; so did a seat in
    an edition called off.
    """
    held = w.edition(starts_at=utcnow() + timedelta(days=1))
    later = w.edition(starts_at=utcnow() + timedelta(days=14))
    person = w.person()
    sign_up(held, person, account(person))
    _db.session.commit()
    with pytest.raises(LiveError, match="già un posto"):
        sign_up(later, person, account(person))  # both ahead: one booking per module
    # The first edition is held (its seat stays on the record, booked).
    assert sign_up(later, person, account(person), now=held.starts_at + timedelta(hours=3))
    assert status_of(held, person) is SignupStatus.BOOKED
    assert status_of(later, person) is SignupStatus.BOOKED

    other = w.person()
    called_off = w.edition(starts_at=utcnow() + timedelta(days=2))
    sign_up(called_off, other, account(other))
    cancel_edition(called_off, w.trainer)
    _db.session.commit()
    assert sign_up(later, other, account(other)).status is SignupStatus.BOOKED


def test_who_may_not_book(w: LiveWorld) -> None:
    edition = w.edition()
    outsider = w.person(enrolled=False)
    with pytest.raises(LiveError, match="iscrizione al corso"):
        sign_up(edition, outsider, account(outsider))
    leaver = w.person()
    leaver.left_on = rome_date(edition.starts_at)
    _db.session.commit()
    with pytest.raises(LiveError, match="non è più in servizio"):
        sign_up(edition, leaver, account(leaver))
    person = w.person()
    past = w.edition(starts_at=PAST)
    with pytest.raises(LiveError, match="già iniziata"):
        sign_up(past, person, account(person))
    cancelled = w.edition()
    cancel_edition(cancelled, w.trainer)
    with pytest.raises(LiveError, match="annullata"):
        sign_up(cancelled, person, account(person))
    assert _db.session.scalar(select(func.count(LiveSignup.id))) == 0


def test_giving_up_after_the_start_or_without_a_seat_is_refused(w: LiveWorld) -> None:
    person = w.person()
    edition = w.edition()
    with pytest.raises(LiveError, match="Non c'è una prenotazione"):
        give_up(edition, person, account(person))
    sign_up(edition, person, account(person))
    with pytest.raises(LiveError, match="già iniziata"):
        give_up(edition, person, account(person), now=edition.starts_at)


def test_hr_booking_and_removal_are_audited_with_the_persons_area(w: LiveWorld) -> None:
    hr = w.make_user(Role.HR, scope=[w.campania])
    edition = w.edition(capacity=1)
    first, second = w.person(), w.person()
    sign_up(edition, first, hr)
    sign_up(edition, second, hr)
    give_up(edition, first, hr)
    _db.session.commit()
    created = entries(Action.SIGNUP_CREATE)
    assert [e.summary["status"] for e in created] == ["booked", "waiting"]
    assert all(objects_of(e, ObjectKind.AUTHORITY) == {w.napoli.id} for e in created)
    (cancelled,) = entries(Action.SIGNUP_CANCEL)
    assert cancelled.actor_id == hr.id
    assert cancelled.summary["promoted"] is True
    assert objects_of(cancelled, ObjectKind.STAFF) == {first.id}
    assert status_of(edition, second) is SignupStatus.BOOKED


# Editing and cancelling ----------------------------------------------------------------


def test_a_capacity_cut_below_the_booked_seats_is_refused_and_a_rise_fills_seats(
    w: LiveWorld,
) -> None:
    edition = w.edition(capacity=2)
    people = [w.person() for _ in range(4)]
    for person in people:
        sign_up(edition, person, account(person))
    _db.session.commit()
    same = {
        "starts_at": edition.starts_at,
        "minutes": edition.minutes,
        "meeting_url": edition.meeting_url,
        "trainer": w.trainer,
    }
    with pytest.raises(LiveError, match="2 persone hanno già un posto"):
        update_edition(edition, EditionDetails(**same, capacity=1), w.trainer)
    _db.session.rollback()
    assert entries(Action.EDITION_UPDATE) == []
    changed = update_edition(edition, EditionDetails(**same, capacity=3), w.trainer)
    _db.session.commit()
    assert changed == ["capacity"]
    assert [status_of(edition, p) for p in people] == [SignupStatus.BOOKED] * 3 + [
        SignupStatus.WAITING
    ]
    (entry,) = entries(Action.EDITION_UPDATE)
    assert entry.summary["promoted"] == 1
    assert objects_of(entry, ObjectKind.AUTHORITY) == {w.napoli.id}
    # No limit: everyone waiting gets a seat.
    update_edition(edition, EditionDetails(**same, capacity=None), w.trainer)
    assert status_of(edition, people[3]) is SignupStatus.BOOKED
    # Nothing changed: nothing audited.
    assert update_edition(edition, EditionDetails(**same, capacity=None), w.trainer) == []
    assert len(entries(Action.EDITION_UPDATE)) == 2


def test_cancelling_keeps_the_edition_and_its_signups(w: LiveWorld) -> None:
    edition = w.edition()
    person = w.person(authority=w.catanzaro)
    sign_up(edition, person, account(person))
    cancel_edition(edition, w.trainer)
    _db.session.commit()
    assert edition.cancelled_at is not None
    assert status_of(edition, person) is SignupStatus.BOOKED
    (entry,) = entries(Action.EDITION_CANCEL)
    assert entry.summary["booked"] == 1
    assert objects_of(entry, ObjectKind.AUTHORITY) == {w.catanzaro.id}
    with pytest.raises(LiveError, match="già stata annullata"):
        cancel_edition(edition, w.trainer)
    with pytest.raises(LiveError, match="annullata"):
        update_edition(
            edition,
            EditionDetails(starts_at=edition.starts_at, minutes=60, place="Aula 1"),
            w.trainer,
        )


# Races ---------------------------------------------------------------------------------


def test_two_people_taking_the_last_seat_at_once_do_not_overbook(
    w: LiveWorld, web_app: Flask
) -> None:
    edition = w.edition(capacity=1)
    people = [w.person() for _ in range(THREADS)]
    edition_id = edition.id
    pairs = [(p.id, p.user_id) for p in people]
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def book(barrier: threading.Barrier) -> object:
        with lock:
            staff_id, user_id = pairs[next(counter)]
        mine = _db.session.get(LiveEdition, edition_id)
        staff = _db.session.get(StaffMember, staff_id)
        user = _db.session.get(User, user_id)
        _ = (mine.module.course, staff.authority)
        _db.session.commit()  # nothing held before the race
        barrier.wait()
        signup = sign_up(mine, staff, user)
        status = signup.status
        _db.session.commit()
        return status

    results = in_threads(web_app, book)
    assert sorted(map(str, results)) == ["booked"] + ["waiting"] * (THREADS - 1), results
    _db.session.expire_all()
    assert status_counts(edition) == {
        SignupStatus.BOOKED: 1,
        SignupStatus.WAITING: THREADS - 1,
    }


def test_one_person_booking_two_editions_at_once_gets_one_and_a_message(
    w: LiveWorld, web_app: Flask
) -> None:
    editions = [w.edition(starts_at=utcnow() + timedelta(days=d)) for d in range(1, THREADS + 1)]
    person = w.person()
    ids = [e.id for e in editions]
    staff_id, user_id = person.id, person.user_id
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def book(barrier: threading.Barrier) -> object:
        with lock:
            edition_id = ids[next(counter)]
        mine = _db.session.get(LiveEdition, edition_id)
        staff = _db.session.get(StaffMember, staff_id)
        user = _db.session.get(User, user_id)
        _ = mine.module.course
        _db.session.commit()
        barrier.wait()
        try:
            sign_up(mine, staff, user)
        except LiveError as error:
            _db.session.rollback()
            return str(error)
        _db.session.commit()
        return "booked"

    results = in_threads(web_app, book)
    assert results.count("booked") == 1, results
    assert all("già un posto" in r for r in results if r != "booked"), results
    _db.session.expire_all()
    assert _db.session.scalar(select(func.count(LiveSignup.id))) == 1


# The demo --------------------------------------------------------------------------------


def test_the_demo_schedules_four_editions_once_one_almost_full(make_region, make_authority) -> None:
    """Two held (8 days ago, yesterday), two ahead; tests/test_demo_data.py has the rest."""
    from pathlib import Path  # noqa: PLC0415

    from lms.courses.content import load_tree  # noqa: PLC0415
    from lms.courses.sync import sync_courses  # noqa: PLC0415
    from lms.live.queries import editions_of, live_modules, upcoming_bookings  # noqa: PLC0415
    from lms.site.demo import load_demo, load_demo_staff  # noqa: PLC0415

    make_region("18")
    make_authority(istat_code="063049", name="Napoli", region_code="15")
    for code in ("079023", "078045", "080063"):  # Catanzaro, Cosenza, Reggio Calabria
        make_authority(istat_code=code, region_code="18")
    sources, errors = load_tree(Path(__file__).resolve().parent.parent / "content")
    assert errors == []
    sync_courses(sources)
    load_demo()
    load_demo_staff()
    _db.session.commit()
    trainer = _db.session.scalar(select(User).where(User.email == "formatore@demo.example"))
    (module,) = live_modules(trainer, "laboratorio-progetti")
    rows = editions_of([module])[module.id]
    assert [(r.booked, r.seats_left) for r in rows] == [(6, 6), (4, 8), (4, 1), (1, 19)]
    learner = _db.session.scalar(select(User).where(User.email == "discente@demo.example"))
    assert [b.edition.id for b in upcoming_bookings(learner)] == [rows[3].edition.id]
    assert len(entries(Action.EDITION_CREATE)) == 4
    load_demo_staff()
    _db.session.commit()
    assert _db.session.scalar(select(func.count(LiveEdition.id))) == 4


def test_attendable_people_by_their_account_email_too(w: LiveWorld) -> None:
    edition = w.edition(starts_at=PAST)
    person = w.person(email="ufficio@example.org")
    user = _db.session.get(User, person.user_id)
    user.email = "nome.cognome@example.org"  # the meeting platform knows the account's address
    _db.session.commit()
    assert attendable_by_email(edition, ["NOME.COGNOME@example.org"]) == {
        "nome.cognome@example.org": person
    }
    assert attendable_by_email(edition, ["ufficio@example.org"]) == {"ufficio@example.org": person}
    assert attendable_by_email(edition, ["", "  "]) == {}
