"""Due dates in a browser: the home page's notices and the profile's calendar address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from e2e.conftest import Browser, LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "Calendario-2026"
EMAIL = "calendario.scadenze@e2e.example"


def _learner_with_due_dates(live_server: LiveServer) -> str:
    """A learner of this test's own, on the staff, due tomorrow and overdue by a day.

    Returns the title of the course due tomorrow.
    """
    from sqlalchemy import select  # noqa: PLC0415

    from lms.auth.models import User  # noqa: PLC0415
    from lms.auth.operations import create_user  # noqa: PLC0415
    from lms.core.types import today_in_italy  # noqa: PLC0415
    from lms.courses.models import Course, CourseStatus  # noqa: PLC0415
    from lms.enrolments.models import Enrolment  # noqa: PLC0415
    from lms.extensions import db  # noqa: PLC0415
    from lms.register.models import Authority, StaffCategory, StaffMember  # noqa: PLC0415

    with live_server.app.app_context():
        user: User = create_user(
            email=EMAIL, role="learner", password=PASSWORD, first_name="Carla", last_name="Neri"
        )
        authority = db.session.scalars(select(Authority).order_by(Authority.id)).first()
        assert authority is not None
        member = StaffMember(
            codice_fiscale="NRECRL80A41H501Q",
            first_name="Carla",
            last_name="Neri",
            email=EMAIL,
            authority_id=authority.id,
            category=StaffCategory.EXISTING,
            user_id=user.id,
        )
        db.session.add(member)
        db.session.flush()
        courses = db.session.scalars(
            select(Course)
            .where(Course.status == CourseStatus.PUBLISHED, Course.retired_at.is_(None))
            .order_by(Course.title)
            .limit(2)
        ).all()
        assert len(courses) == 2
        today = today_in_italy()
        db.session.add_all(
            [
                Enrolment(staff_id=member.id, course_id=courses[0].id, due_on=today + timedelta(1)),
                Enrolment(staff_id=member.id, course_id=courses[1].id, due_on=today - timedelta(1)),
            ]
        )
        db.session.commit()
        title = courses[0].title
        db.session.remove()
    return title


def test_notices_on_the_home_page_and_the_calendar_address_on_the_profile(
    open_browser: Callable[..., Browser], live_server: LiveServer
) -> None:
    title = _learner_with_due_dates(live_server)
    browser = open_browser()
    page = browser.page
    browser.sign_in(EMAIL, PASSWORD)  # runs axe on the home page, notices included
    notices = page.locator("section[aria-labelledby=notices-title]")
    expect(notices.get_by_role("heading", name="Scadenze")).to_be_visible()
    expect(notices.locator("li")).to_have_count(2)
    expect(notices.locator("li").first).to_contain_text("Scaduto dal")
    expect(notices.locator("li").nth(1)).to_contain_text(f"{title}: Scade domani")
    browser.shot("home-notices")

    browser.goto("/profilo/")  # axe on the profile page, the calendar section included
    address = page.get_by_label("Indirizzo del tuo calendario")
    old = address.input_value()
    assert old.startswith(live_server.url + "/calendario/")
    assert old.endswith(".ics")
    feed = page.request.get(old)
    assert feed.status == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert f"SUMMARY:Scadenza: {title}" in feed.text().replace("\r\n ", "")

    page.get_by_role("button", name="Cambia indirizzo").click()
    expect(page.locator(".alert")).to_contain_text("Nuovo indirizzo del calendario creato")
    browser.check("/profilo/ (calendar address changed)")
    new = page.get_by_label("Indirizzo del tuo calendario").input_value()
    assert new != old
    assert page.request.get(old).status == 404
    assert page.request.get(new).status == 200
