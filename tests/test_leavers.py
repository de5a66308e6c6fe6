"""Leaving is enforced on the day, everywhere: one definition, sign-in and every request.

``left_on`` is the first day out (staff-and-reports.md). These tests pin the
leaving day itself, the day before and the day after, in Python and in SQL.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from conftest import login
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.core.types import today_in_italy
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

#: Day D of the definition tests, which give it to the hybrids themselves; the
#: tests through the app take today's date (in Italy) when they run.
D = date(2026, 6, 15)
DAY = timedelta(days=1)


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("063049", istat_code="063049", region_code="15", name="Comune di Napoli")


def staff_with_account(
    make_user: Callable[..., User], authority: Authority, *, left_on: date | None, cf: str
) -> tuple[User, StaffMember]:
    user = make_user(Role.LEARNER, email=f"{cf.lower()}@example.it")
    member = StaffMember(
        codice_fiscale=cf,
        first_name="Anna",
        last_name="Verdi",
        email=user.email,
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        hired_on=date(2020, 1, 1),
        left_on=left_on,
        user_id=user.id,
    )
    _db.session.add(member)
    _db.session.commit()
    return user, member


def page(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("left_on", "expected"),
    [(None, False), (D + DAY, False), (D, True), (D - DAY, True)],
)
def test_has_left_agrees_in_python_and_in_sql(
    make_authority: Callable, left_on: date | None, *, expected: bool
) -> None:
    authority = make_authority()
    member = StaffMember(
        codice_fiscale="VRDGPP80A01F839W",
        first_name="A",
        last_name="B",
        email="a@example.it",
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        left_on=left_on,
    )
    _db.session.add(member)
    _db.session.flush()
    assert member.has_left(D) is expected
    assert member.still_employed(D) is not expected
    in_sql = _db.session.scalar(select(StaffMember.id).where(StaffMember.has_left(D)))
    assert (in_sql is not None) is expected
    employed = _db.session.scalar(select(StaffMember.id).where(StaffMember.still_employed(D)))
    assert (employed is not None) is not expected


@pytest.mark.parametrize(
    ("hired_on", "left_on", "expected"),
    [
        (None, None, True),
        (D, None, True),  # the hiring day counts
        (D + DAY, None, False),  # not hired yet
        (D - DAY * 10, D, False),  # the leaving day does not
        (D - DAY * 10, D + DAY, True),
    ],
)
def test_on_staff_agrees_in_python_and_in_sql(
    make_authority: Callable, hired_on: date | None, left_on: date | None, *, expected: bool
) -> None:
    authority = make_authority()
    member = StaffMember(
        codice_fiscale="VRDGPP80A01F839W",
        first_name="A",
        last_name="B",
        email="a@example.it",
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        hired_on=hired_on,
        left_on=left_on,
    )
    _db.session.add(member)
    _db.session.flush()
    assert member.on_staff(D) is expected
    found = _db.session.scalar(select(StaffMember.id).where(StaffMember.on_staff(D)))
    assert (found is not None) is expected


def test_a_leaver_cannot_sign_in_from_the_leaving_day_and_is_told_why(
    client: FlaskClient, make_user: Callable, napoli: Authority
) -> None:
    today = today_in_italy()
    user, _member = staff_with_account(make_user, napoli, left_on=today, cf="VRDGPP80A01F839W")
    response = login(client, user.email)
    assert response.status_code == 403
    text = page(response)
    assert "Il tuo accesso è terminato" in text
    assert today.strftime("%d/%m/%Y") in text
    assert client.get("/").status_code == 302  # not signed in


def test_the_day_before_leaving_the_person_still_signs_in(
    client: FlaskClient, make_user: Callable, napoli: Authority
) -> None:
    today = today_in_italy()
    user, _member = staff_with_account(
        make_user, napoli, left_on=today + DAY, cf="VRDGPP80A01F839W"
    )
    assert login(client, user.email).status_code == 302
    assert client.get("/").status_code == 200


def test_a_wrong_password_of_a_leaver_gets_the_neutral_message(
    client: FlaskClient, make_user: Callable, napoli: Authority
) -> None:
    today = today_in_italy()
    """Only the owner of the password learns that the access ended."""
    user, _member = staff_with_account(make_user, napoli, left_on=today, cf="VRDGPP80A01F839W")
    response = login(client, user.email, password="sbagliata-123")
    text = page(response)
    assert "E-mail o password non corretti." in text
    assert "accesso è terminato" not in text


def test_a_session_opened_before_ends_at_the_next_request_with_a_clear_page(
    client: FlaskClient, make_user: Callable, napoli: Authority
) -> None:
    today = today_in_italy()
    user, member = staff_with_account(make_user, napoli, left_on=None, cf="VRDGPP80A01F839W")
    assert login(client, user.email).status_code == 302
    assert client.get("/").status_code == 200
    # The roster is not imported again: the leaving day simply comes.
    member.left_on = today
    _db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.location
    text = page(client.get(response.location))
    assert "Il tuo accesso è terminato" in text
    assert client.get("/").status_code == 302  # still out, the account unchanged
    assert _db.session.get(User, user.id).active


def test_enrolment_refuses_a_leaver_on_the_leaving_day(
    client: FlaskClient, login_as: Callable, make_user: Callable, napoli: Authority
) -> None:
    today = today_in_italy()
    _user, member = staff_with_account(make_user, napoli, left_on=today, cf="VRDGPP80A01F839W")
    login_as(Role.HR, scope=[napoli])
    text = page(client.get(f"/personale/{member.id}"))
    assert "non sono possibili nuove iscrizioni" in text
    listed = page(client.get("/personale/?status=left"))
    assert "VRDGPP80A01F839W" in listed
    assert "VRDGPP80A01F839W" not in page(client.get("/personale/?status=active"))
