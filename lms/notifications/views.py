"""The calendar feed (its token is the credential) and the reset of its address."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.models import User
from lms.core.types import today_in_italy
from lms.notifications.due import DueItem, due_items
from lms.notifications.feed import build_calendar, feed_token, reset_feed, user_for_token
from lms.notifications.preferences import set_reminder_digest
from lms.notifications.sessions import BookedSession, booked_sessions

bp = Blueprint("notifications", __name__)
log = logging.getLogger(__name__)

#: A feed address in a log line: its token is a credential.
_FEED_PATH = re.compile(r"/calendario/[^/\s?\"]+\.ics")


class RedactFeedTokens(logging.Filter):
    """Rewrite feed addresses in a record (the development server logs every request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, with ``/calendario/….ics`` in place of any feed address."""
        message = record.getMessage()
        if "/calendario/" in message:
            record.msg, record.args = _FEED_PATH.sub("/calendario/….ics", message), None
        return True


@bp.record_once
def _redact_request_log(_state: object) -> None:
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactFeedTokens) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactFeedTokens())


#: Calendar programs poll; an hour keeps the load low and a new due date near.
FEED_MAX_AGE = 3600


def _me() -> User:
    user: User = current_user._get_current_object()  # noqa: SLF001 - the real object, typed
    return user


def feed_url(user: User) -> str:
    """*user*'s private calendar address (absolute)."""
    token = feed_token(current_app.config["SECRET_KEY"], user)
    return url_for("notifications.feed", token=token, _external=True)


@bp.app_template_global()
def calendar_feed_url() -> str:
    """The signed-in person's calendar address, for the profile page."""
    return feed_url(_me())


def _course_url(item: DueItem) -> str:
    return url_for("courses.overview", course_slug=item.course_slug, _external=True)


def _session_url(session: BookedSession) -> str:
    return url_for(
        "courses.module_page",
        course_slug=session.course.slug,
        module_slug=session.module.slug,
        _external=True,
    )


@bp.get("/calendario/<token>.ics")
def feed(token: str) -> Response:
    """The person's open due dates and booked sessions as iCalendar; 404 for a stale address."""
    user = user_for_token(current_app.config["SECRET_KEY"], token)
    if user is None:
        abort(404)
    today = today_in_italy()
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = build_calendar(
            due_items(user, today),
            host=request.host.split(":")[0],
            course_url=_course_url,
            sessions=booked_sessions(user, today),
            session_url=_session_url,
        )
    log.info("calendar feed read by user %d", user.id)
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = f"private, max-age={FEED_MAX_AGE}"
    response.headers["Content-Disposition"] = 'inline; filename="scadenze.ics"'
    return response


@bp.post("/profilo/calendario/cambia-indirizzo")
@login_required
def reset() -> BaseResponse:
    """A new calendar address for the signed-in person; the old one stops working."""
    reset_feed(_me())
    flash(_("Nuovo indirizzo del calendario creato: quello di prima non funziona più."), "success")
    return redirect(url_for("profile.profile") + "#calendar")


@bp.post("/profilo/promemoria")
@login_required
def preferences() -> BaseResponse:
    """One weekly digest of due dates, or each reminder (the overdue notice goes either way)."""
    choice = request.form.get("reminders")
    if choice not in {"each", "digest"}:
        abort(400)
    if set_reminder_digest(_me(), digest=choice == "digest"):
        flash(_("Preferenza dei promemoria salvata."), "success")
    return redirect(url_for("profile.profile") + "#promemoria")
