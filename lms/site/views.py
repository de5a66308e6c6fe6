"""The home page: the signed-in person's required courses, progress and yearly hours."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from lms.core.types import today_in_italy
from lms.courses.queries import catalogue
from lms.enrolments.queries import enrolled_courses
from lms.live.queries import upcoming_bookings
from lms.notifications.due import due_items, notices
from lms.reports.hours import YearHours, hours_per_year

bp = Blueprint("site", __name__)


@bp.get("/")
@login_required
def home() -> str:
    """The signed-in person's home page: the courses they follow, their sections."""
    today = today_in_italy()
    entries = catalogue(current_user)  # once, for both lists
    enrolled = enrolled_courses(current_user, today, entries)
    enrolled_ids = {c.entry.course.id for c in enrolled}
    started = [
        e for e in entries if (e.completed or e.completed_at) and e.course.id not in enrolled_ids
    ]
    target = Decimal(current_app.config["ANNUAL_HOURS_TARGET"])
    years = hours_per_year(current_user.id, target)
    this_year = next(
        (y for y in years if y.year == today.year), YearHours(today.year, Decimal(0), target)
    )
    return render_template(
        "site/home.html",
        enrolled=enrolled,
        my_courses=started,
        this_year=this_year,
        # Past years with hours earned (not those with only a declaration pending).
        past_years=[y for y in years if y.year < today.year and y.hours][:4],
        notices=notices(due_items(current_user, today, entries)),
        sessions=upcoming_bookings(current_user),
    )
