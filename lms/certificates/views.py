"""Download one's certificate; check any certificate by its code (public)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from lms.auth.permissions import Capability, require
from lms.certificates.models import Certificate, grouped_code
from lms.certificates.operations import (
    courses_with_certificate_due,
    find_certificate,
    issue_certificate,
    normalise_code,
    well_formed,
)
from lms.certificates.pdf import PROGRAMME, certificate_pdf
from lms.core.types import rome_date
from lms.courses.models import Course
from lms.extensions import db, limiter

bp = Blueprint("certificates", __name__)

#: Requests per address to the public check: plenty for people, useless for guessing
#: codes (there are 10^29 of them). ``CERTIFICATE_CHECK_LIMIT`` overrides it.
CHECK_LIMIT = "60 per minute"


def verification_url(certificate: Certificate) -> str:
    """The public page that confirms *certificate*, on the site's public address (BASE_URL).

    Built like the password links (lms.auth.links): behind a proxy the request's
    own host may be an internal name, so the configured address is used.
    """
    path = url_for("certificates.verify", code=certificate.display_code)
    if has_request_context():
        path = path.removeprefix(request.script_root)  # BASE_URL includes any prefix
    return current_app.config["BASE_URL"].rstrip("/") + path


@bp.app_template_global()
def certificate_available(course: Course) -> bool:
    """For templates: whether the signed-in person can download *course*'s certificate.

    A page lists many courses: the courses with a certificate due are read once
    a request (in ``g``), not once a course.
    """
    if not current_user.is_authenticated:
        return False
    if "certificate_courses" not in g:
        g.certificate_courses = courses_with_certificate_due(current_user)
    return course.id in g.certificate_courses


@bp.get("/courses/<course_slug>/attestato.pdf")
@require(Capability.LEARN)
def download(course_slug: str) -> Response:
    """The signed-in person's certificate for a course they completed (issued on first use)."""
    # Any course, retired ones included: a completion stands when the course goes.
    course = db.session.scalar(select(Course).where(Course.slug == course_slug))
    certificate = issue_certificate(current_user, course) if course is not None else None
    if certificate is None:
        abort(404)
    body = certificate_pdf(certificate, verification_url(certificate))
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="attestato-{certificate.course_slug}.pdf"'
    )
    return response


@bp.get("/certificates/")
def lookup() -> str | BaseResponse:
    """A form to type a code; a well-formed one leads to the code's page."""
    typed = request.args.get("code", "").strip()
    code = normalise_code(typed)
    if code and well_formed(code):
        return redirect(url_for("certificates.verify", code=grouped_code(code)))
    return render_template("certificates/lookup.html", typed=typed, malformed=bool(code))


@bp.get("/certificates/<code>")
@limiter.limit(lambda: current_app.config.get("CERTIFICATE_CHECK_LIMIT", CHECK_LIMIT))
def verify(code: str) -> tuple[str, int] | str:
    """Public check of a certificate: valid or not, and what it certifies (no codice fiscale)."""
    certificate = find_certificate(code)
    if certificate is None:
        return render_template("certificates/not_found.html", code=code), 404
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        issued_on=rome_date(certificate.issued_at),
        programme=PROGRAMME,
    )
