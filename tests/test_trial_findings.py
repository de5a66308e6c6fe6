"""The trial's findings (#18), each with the test that failed before its fix.

A new HR manager, a learner and a trainer tried the product; these are the places
where it fell short. Searches without accents have their own file
(test_search_folding.py); the browser's part (focus on the error summary, axe) is in
tests/e2e/test_trial_findings.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from test_staff_pages import make_course

from lms.auth.models import Role, User
from lms.core.types import today_in_italy, utcnow
from lms.courses.models import Course, CourseCompletion
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember


def plain(page: str) -> str:
    """The text of a page, tags dropped and spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))).strip()


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    authority = make_authority("063049", name="Comune di Napoli", region_code="15")
    _db.session.commit()
    return authority


def enrolled_learner(
    login_as: Callable[..., User], napoli: Authority, course: Course, due_on: date | None
) -> User:
    """A learner signed in, on Napoli's staff, enrolled in *course* with *due_on*."""
    learner = login_as(Role.LEARNER, first_name="Anna", last_name="Verdi")
    member = StaffMember(
        codice_fiscale="VRDNNA80A41F839X",
        first_name="Anna",
        last_name="Verdi",
        email=learner.email,
        authority_id=napoli.id,
        category=StaffCategory.EXISTING,
        user_id=learner.id,
    )
    _db.session.add(member)
    _db.session.flush()
    _db.session.add(Enrolment(staff_id=member.id, course_id=course.id, due_on=due_on))
    _db.session.commit()
    return learner


# The course page shows the learner's due date and whether it has passed ----------------


def test_the_course_page_shows_the_due_date(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    course = make_course()
    due = today_in_italy() + timedelta(days=10)
    enrolled_learner(login_as, napoli, course, due)
    page = plain(client.get(f"/courses/{course.slug}/").get_data(as_text=True))
    assert "Da completare entro" in page
    assert "mancano 10 giorni" in page
    assert "Scaduto" not in page


def test_the_course_page_says_the_course_is_overdue(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    course = make_course()
    enrolled_learner(login_as, napoli, course, today_in_italy() - timedelta(days=3))
    response = client.get(f"/courses/{course.slug}/")
    page = response.get_data(as_text=True)
    assert 'class="alert alert-danger' in page
    assert "Scaduto: andava completato entro" in plain(page)
    assert "3 giorni fa" in plain(page)


def test_a_completed_or_unassigned_course_shows_no_due_date(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    course = make_course()
    other = make_course("altro")
    learner = enrolled_learner(login_as, napoli, course, today_in_italy() - timedelta(days=3))
    _db.session.add(
        CourseCompletion(user_id=learner.id, course_id=course.id, completed_at=utcnow())
    )
    _db.session.commit()
    page = plain(client.get(f"/courses/{course.slug}/").get_data(as_text=True))
    assert "Scaduto" not in page
    assert "Da completare entro" not in page
    page = plain(client.get(f"/courses/{other.slug}/").get_data(as_text=True))
    assert "Da completare entro" not in page
    assert "Scaduto" not in page


def test_the_due_date_is_the_readers_own(
    client: FlaskClient,
    login_as: Callable[..., User],
    napoli: Authority,
) -> None:
    """Another person's enrolment never shows on my page of the course."""
    course = make_course()
    member = StaffMember(
        codice_fiscale="BNCLCU88H14Z133N",
        first_name="Luca",
        last_name="Bianchi",
        email="luca@example.it",
        authority_id=napoli.id,
        category=StaffCategory.EXISTING,
    )
    _db.session.add(member)
    _db.session.flush()
    _db.session.add(Enrolment(staff_id=member.id, course_id=course.id, due_on=date(2020, 1, 1)))
    _db.session.commit()
    login_as(Role.LEARNER)
    page = plain(client.get(f"/courses/{course.slug}/").get_data(as_text=True))
    assert "Scaduto" not in page
    assert "Da completare entro" not in page
