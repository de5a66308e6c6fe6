"""Yearly training hours: a course counts in the Italian calendar year it was completed in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.core.types import rome_date, utcnow
from lms.courses.models import Course, CourseCompletion, Module, ModuleKind
from lms.extensions import db
from lms.external.models import ExternalTraining, TrainingSource, TrainingStatus
from lms.live.models import AttendanceSource, LiveAttendance, LiveEdition
from lms.register.models import Authority, StaffCategory, StaffMember
from lms.reports.hours import YearHours, hours_per_year

TARGET = Decimal(40)


def course(slug: str, hours: str) -> Course:
    made = Course(slug=slug, title=f"Corso {slug}", hours=Decimal(hours), source_hash="0" * 64)
    db.session.add(made)
    db.session.commit()
    return made


def complete(user: User, done: Course, at: datetime) -> None:
    db.session.add(CourseCompletion(user_id=user.id, course_id=done.id, completed_at=at))
    db.session.commit()


def test_hours_are_summed_per_italian_year_newest_first(make_user) -> None:
    user = make_user()
    complete(user, course("a", "8"), datetime(2025, 3, 1, 10, tzinfo=UTC))
    # 23:30 UTC on 31 December 2025 is 00:30 on 1 January 2026 in Italy
    complete(user, course("b", "1.5"), datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    complete(user, course("c", "6"), datetime(2026, 5, 1, 10, tzinfo=UTC))
    assert hours_per_year(user.id, TARGET) == [
        YearHours(2026, Decimal("7.5"), TARGET),
        YearHours(2025, Decimal(8), TARGET),
    ]


def test_reached_and_percent_of_the_target() -> None:
    assert YearHours(2026, Decimal(20), TARGET).pct == 50
    assert not YearHours(2026, Decimal("39.5"), TARGET).reached
    assert YearHours(2026, Decimal(40), TARGET).reached
    assert YearHours(2026, Decimal(60), TARGET).pct == 100


def put_on_staff(user: User, authority: Authority) -> None:
    db.session.add(
        StaffMember(
            codice_fiscale="RSSMRA80A41F839W",
            first_name="Maria",
            last_name="Rossi",
            email="maria.rossi@comune.example.it",
            authority_id=authority.id,
            category=StaffCategory.NEW_HIRE,
            user_id=user.id,
        )
    )
    db.session.commit()


def test_the_home_page_shows_this_years_hours_against_the_target(
    client, login_as, make_authority
) -> None:
    user = login_as("learner")
    put_on_staff(user, make_authority())
    year = rome_date(utcnow()).year
    page = client.get("/").get_data(as_text=True)
    assert f"Le tue ore di formazione nel {year}" in page
    assert "0 ore su 40" in page
    complete(user, course("lunga", "32"), utcnow())
    complete(user, course("breve", "8"), utcnow())
    complete(user, course("vecchia", "6"), datetime(year - 1, 6, 1, 10, tzinfo=UTC))
    page = client.get("/").get_data(as_text=True)
    assert "40 ore su 40" in page
    assert "obiettivo annuale raggiunto" in page
    assert "lms-pct-100" in page
    assert f"{year - 1}: 6 ore" in page


@pytest.mark.parametrize("role", ["learner", "trainer", "hr", "admin"])
def test_no_hours_card_for_accounts_without_a_staff_record(client, login_as, role) -> None:
    # Hours count for the people of the staff register: a trainer, an HR manager, an
    # administrator (or a learner account nobody put on the staff) has no target to meet.
    login_as(role)
    page = client.get("/").get_data(as_text=True)
    assert "Le tue ore di formazione" not in page
    assert "ore su 40" not in page


# Platform, live and external hours (issue #17) ---------------------------------------------


def live_course(slug: str, hours: str, live_hours: str, percent: int = 75) -> tuple[Course, Module]:
    """A course of *hours* with a page and a live module of *live_hours*."""
    made = course(slug, hours)
    db.session.add(
        Module(
            course_id=made.id,
            slug="intro",
            position=0,
            title="Introduzione",
            kind=ModuleKind.PAGE,
            filename="01-intro.md",
            source_hash="0" * 64,
        )
    )
    live = Module(
        course_id=made.id,
        slug="webinar",
        position=1,
        title="Webinar",
        kind=ModuleKind.LIVE,
        filename="02-webinar.md",
        source_hash="0" * 64,
        live_hours=Decimal(live_hours),
        attendance_percent=percent,
    )
    db.session.add(live)
    db.session.commit()
    return made, live


def attend(staff: StaffMember, module: Module, starts_at: datetime, minutes: int) -> None:
    """*staff* present *minutes* at a new two-hour edition of *module* starting *starts_at*."""
    edition = LiveEdition(module_id=module.id, starts_at=starts_at, minutes=120)
    db.session.add(edition)
    db.session.flush()
    db.session.add(
        LiveAttendance(
            edition_id=edition.id,
            staff_id=staff.id,
            minutes=minutes,
            source=AttendanceSource.REGISTER,
        )
    )
    db.session.commit()


def external(
    staff: StaffMember, hours: str, completed_on: date, status: TrainingStatus
) -> ExternalTraining:
    record = ExternalTraining(
        staff_id=staff.id,
        title=f"Corso esterno {hours}",
        provider="SNA",
        completed_on=completed_on,
        hours=Decimal(hours),
        status=status,
        source=TrainingSource.DECLARED,
        refusal_reason="Manca l'attestato" if status is TrainingStatus.REFUSED else None,
    )
    db.session.add(record)
    db.session.commit()
    return record


def on_staff(user: User, authority: Authority) -> StaffMember:
    put_on_staff(user, authority)
    staff = db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))
    assert staff is not None
    return staff


def test_platform_live_and_external_hours_add_up_to_the_target(make_user, make_authority) -> None:
    user = make_user()
    staff = on_staff(user, make_authority())
    course_with_live, webinar = live_course("mista", "13", "3")
    # 13 course hours, 3 of them the webinar's: 10 on the platform, earned on completion
    complete(user, course_with_live, datetime(2026, 4, 10, 10, tzinfo=UTC))
    # present 90 of 120 minutes: exactly 75 %, enough
    attend(staff, webinar, datetime(2026, 3, 5, 9, tzinfo=UTC), 90)
    external(staff, "27", date(2026, 6, 30), TrainingStatus.APPROVED)
    # pending and refused hours do not count
    external(staff, "5", date(2026, 7, 1), TrainingStatus.PENDING)
    refused = external(staff, "4", date(2026, 7, 2), TrainingStatus.REFUSED)
    (year,) = hours_per_year(user.id, TARGET)
    assert year == YearHours(
        2026, Decimal(40), TARGET, live=Decimal(3), external=Decimal(27), pending=Decimal(5)
    )
    assert year.platform == Decimal(10)
    assert year.reached
    assert year.pct == 100
    # the refused one approved later counts
    refused.status = TrainingStatus.APPROVED
    refused.refusal_reason = None
    db.session.commit()
    (year,) = hours_per_year(user.id, TARGET)
    assert (year.hours, year.external, year.pending) == (Decimal(44), Decimal(31), Decimal(5))


def test_a_live_module_counts_once_in_the_year_of_its_first_edition_attended_enough(
    make_user, make_authority
) -> None:
    user = make_user()
    staff = on_staff(user, make_authority())
    _course, webinar = live_course("webinar", "6", "2.5")
    _other, short = live_course("breve", "2", "2", percent=100)
    # 89 of 120 minutes: under 75 %, does not count
    attend(staff, webinar, datetime(2025, 11, 10, 9, tzinfo=UTC), 89)
    # 22:30 UTC on 31 December 2025 is 23:30 in Italy: 2025; enough
    attend(staff, webinar, datetime(2025, 12, 31, 22, 30, tzinfo=UTC), 120)
    # attended enough again in 2026: the module is not counted twice
    attend(staff, webinar, datetime(2026, 2, 1, 9, tzinfo=UTC), 120)
    # 100 % required: 119 minutes is not enough
    attend(staff, short, datetime(2026, 2, 2, 9, tzinfo=UTC), 119)
    assert hours_per_year(user.id, TARGET) == [
        YearHours(2025, Decimal("2.5"), TARGET, live=Decimal("2.5")),
    ]


def test_a_course_whose_live_hours_exceed_its_own_earns_no_platform_hours(
    make_user, make_authority
) -> None:
    user = make_user()
    on_staff(user, make_authority())
    odd, _webinar = live_course("strano", "2", "3")
    complete(user, odd, datetime(2026, 5, 1, 10, tzinfo=UTC))
    (year,) = hours_per_year(user.id, TARGET)
    assert (year.hours, year.platform, year.live) == (Decimal(0), Decimal(0), Decimal(0))


def test_the_home_page_shows_the_three_parts(client, login_as, make_authority) -> None:
    user = login_as("learner")
    staff = on_staff(user, make_authority())
    year = rome_date(utcnow()).year
    mixed, webinar = live_course("mista", "13", "3")
    complete(user, mixed, utcnow())
    attend(staff, webinar, utcnow(), 120)
    external(staff, "27", rome_date(utcnow()), TrainingStatus.APPROVED)
    external(staff, "7.5", rome_date(utcnow()), TrainingStatus.PENDING)
    external(staff, "6", date(year - 1, 3, 1), TrainingStatus.PENDING)  # pending only: no line
    page = client.get("/").get_data(as_text=True)
    assert f"Le tue ore di formazione nel {year}" in page
    assert "40 ore su 40" in page
    assert "obiettivo annuale raggiunto" in page
    assert "Corsi sulla piattaforma: 10 ore" in page
    assert "Sessioni dal vivo: 3 ore" in page
    assert "Formazione esterna approvata: 27 ore" in page
    assert "altre 7,5 ore in attesa di approvazione" in page
    assert f"{year - 1}:" not in page
    assert 'href="/formazione-esterna/dichiara"' in page
    assert 'href="/formazione-esterna/"' in page
