"""Live sessions: recording attendance, scheduling editions, sign-ups and the waiting list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from live_world import PAST, LiveWorld, build_live_world
from sqlalchemy import select

from lms.audit import Action, AuditEntry, AuditObject, ObjectKind
from lms.courses.models import CourseCompletion, ModuleProgress
from lms.courses.progress import complete_module
from lms.extensions import db as _db
from lms.live.attendance import attendable_by_email, record_attendance
from lms.live.errors import LiveError, NotAttendable
from lms.live.models import AttendanceSource, LiveAttendance, LiveSignup, SignupStatus


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
