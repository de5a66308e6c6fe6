"""The home page: the signed-in person's required courses, progress and yearly hours."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, g, render_template
from flask_login import current_user, login_required

from lms.auth.models import User
from lms.auth.sessions import staff_id_of
from lms.core.types import today_in_italy
from lms.courses.queries import CatalogueEntry
from lms.enrolments.queries import home_courses
from lms.live.queries import upcoming_bookings
from lms.notifications.due import due_items, notices
from lms.reports.hours import YearHours, hours_per_year
from lms.site.course_lines import enrolled_lines, started_lines

bp = Blueprint("site", __name__)


@bp.get("/")
@login_required
def home() -> str:
    """The signed-in person's home page: the courses they follow, their sections.

    At most four statements, the signed-in person's load included (issue #19;
    tests/test_page_statements.py): the courses with the person's progress and
    enrolments, their hours, their seats in live sessions. What the template
    asks of the person beyond them is answered from these (see
    :func:`_answer_the_templates_questions`).
    """
    user: User = current_user._get_current_object()  # noqa: SLF001 - the real object, typed
    today = today_in_italy()
    staff_id = staff_id_of(user)  # read with the session: no statement
    entries, enrolled = home_courses(user, today)  # one statement for both lists
    certificates = _answer_the_templates_questions(staff_id, entries)
    enrolled_ids = {c.entry.course.id for c in enrolled}
    started = [
        e for e in entries if (e.completed or e.completed_at) and e.course.id not in enrolled_ids
    ]
    target = Decimal(current_app.config["ANNUAL_HOURS_TARGET"])
    # Hours and live seats are those of a person on the staff register: the page shows
    # no hours to anyone else, and only a staff record books seats.
    years = hours_per_year(user.id, target) if staff_id is not None else []
    this_year = next(
        (y for y in years if y.year == today.year), YearHours(today.year, Decimal(0), target)
    )
    return render_template(
        "site/home.html",
        # The person itself, not current_user's proxy: the page reads it a few times.
        user=user,
        enrolled=enrolled,
        enrolled_lines=enrolled_lines(enrolled, certificates),
        my_courses=started,
        started_lines=started_lines(started, certificates),
        this_year=this_year,
        # Past years with hours earned (not those with only a declaration pending).
        past_years=[y for y in years if y.year < today.year and y.hours][:4],
        notices=notices(due_items(user, today, entries, enrolled)),
        sessions=upcoming_bookings(user) if staff_id is not None else [],
    )


def _answer_the_templates_questions(
    staff_id: int | None, entries: list[CatalogueEntry]
) -> frozenset[int]:
    """Seed what the template reads once a request; the courses whose certificate is due.

    ``on_staff()`` (lms.enrolments.blueprint) keeps its answer in ``g`` under that
    name, and would otherwise run a query. A certificate is due for a completed
    course when the person is on the staff register
    (lms.certificates.operations.certificate_due): the courses the page lists are
    all in *entries*, with their completion (the course lines link them).
    """
    g.on_staff = staff_id is not None
    if staff_id is None:
        return frozenset()
    return frozenset(e.course.id for e in entries if e.completed_at is not None)
