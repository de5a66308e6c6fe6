"""The HR managers' staff pages share one blueprint (``/personale``, endpoints ``staff.*``).

Its pages are in three modules by subject: :mod:`lms.enrolments.views` (the staff
list, a person, enrolment), :mod:`lms.enrolments.import_views` (the roster
upload) and :mod:`lms.enrolments.link_views` (set-password links);
:func:`lms.create_app` imports all three before registering it.
"""

from __future__ import annotations

from flask import Blueprint, g
from flask_login import current_user
from sqlalchemy import select

from lms.courses.pages import register_due_date
from lms.enrolments.queries import due_date
from lms.extensions import db
from lms.register.models import StaffMember

bp = Blueprint("staff", __name__, url_prefix="/personale")

# The course page shows the reader's due date, which enrolments set.
register_due_date(due_date)


@bp.app_template_global()
def on_staff() -> bool:
    """For templates: whether the signed-in person has a staff record (read once a request).

    Yearly training hours and certificates are for the people of the staff register,
    not for trainers, HR managers or administrators trying a course.
    """
    if not current_user.is_authenticated:
        return False
    if "on_staff" not in g:
        g.on_staff = (
            db.session.scalar(select(StaffMember.id).where(StaffMember.user_id == current_user.id))
            is not None
        )
    return g.on_staff
