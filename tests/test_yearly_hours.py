"""Yearly training hours: a course counts in the Italian calendar year it was completed in."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lms.auth.models import User
from lms.core.types import rome_date, utcnow
from lms.courses.models import Course, CourseCompletion
from lms.extensions import db
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
