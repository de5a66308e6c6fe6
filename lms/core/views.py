"""Home page, language switch, health check, error pages and security headers."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException

from lms.core.forms import LanguageForm
from lms.extensions import db

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)

ROLE_LABELS = {
    "learner": _l("Discente"),
    "trainer": _l("Formatore"),
    "hr": _l("Responsabile del personale"),
    "admin": _l("Amministratore"),
}


@bp.get("/")
@login_required
def home() -> str:
    """The signed-in person's home page: the courses they follow, their sections."""
    from lms.core.types import today_in_italy  # noqa: PLC0415
    from lms.courses.queries import catalogue, enrolled_courses  # noqa: PLC0415
    from lms.reports.hours import YearHours, hours_per_year  # noqa: PLC0415

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
        "core/home.html",
        enrolled=enrolled,
        my_courses=started,
        this_year=this_year,
        past_years=[y for y in years if y.year < today.year][:4],
    )


#: When the accessibility statement was written (a self-assessment; see the template).
ACCESSIBILITY_STATEMENT_DATE = date(2026, 11, 25)
#: AgID's form for reporting an unsatisfactory answer (procedura di attuazione).
AGID_FORM_URL = "https://form.agid.gov.it"
_VERSIONS_FILE = Path(__file__).resolve().parent.parent / "static" / "vendor" / "VERSIONS.txt"


def vendored_version(package: str) -> str | None:
    """The version of a vendored front-end package, as recorded in VERSIONS.txt."""
    try:
        lines = _VERSIONS_FILE.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _sep, rest = line.partition(" ")
        if name == package and rest.strip():
            return rest.split()[0]
    return None


@bp.get("/accessibilita")
def accessibility() -> str:
    """The accessibility statement (dichiarazione di accessibilità), in AgID's form."""
    config = current_app.config
    return render_template(
        "core/accessibilita.html",
        organisation=config.get("ACCESSIBILITY_ORGANISATION") or None,
        contact=config.get("ACCESSIBILITY_CONTACT") or config["MAIL_FROM"],
        site_url=config["BASE_URL"],
        statement_date=ACCESSIBILITY_STATEMENT_DATE,
        agid_form_url=AGID_FORM_URL,
        axe_version=vendored_version("axe-core"),
    )


@bp.post("/lingua")
def set_language() -> Response:
    """Switch the interface language for this session (and the account)."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
    return redirect(_safe_next(request.form.get("next")))


def _safe_next(target: str | None) -> str:
    r"""Only follow a redirect target on this site (no open redirects).

    Browsers read a backslash as a slash and drop tabs and newlines, so
    ``/\\evil.example`` or ``/\t/evil.example`` would leave the site: refuse them.
    """
    if target and target.startswith("/") and target.isprintable():
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target and "//" not in target[:2]:
            return target
    return url_for("core.home")


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """Liveness: ``ok`` when the database answers."""
    headers = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: database unreachable")
        return "database unavailable", 503, headers
    return "ok", 200, headers


def _csrf_reason(description: str | None) -> str | None:
    """Flask-WTF's English reason for a refused form, in the reader's language."""
    reasons = {
        "The CSRF token is missing.": _("Manca il codice di sicurezza del modulo."),
        "The CSRF session token is missing.": _(
            "La sessione è scaduta: il codice di sicurezza del modulo non è più valido."
        ),
        "The CSRF token has expired.": _("Il codice di sicurezza del modulo è scaduto."),
        "The CSRF tokens do not match.": _(
            "Il codice di sicurezza del modulo non corrisponde a questa sessione."
        ),
        "The CSRF token is invalid.": _("Il codice di sicurezza del modulo non è valido."),
        "The referrer header is missing.": _("La richiesta non dice da quale pagina proviene."),
        "The referrer does not match the host.": _("La richiesta proviene da un altro sito."),
    }
    return reasons.get(description or "")


def register_error_handlers(app: Flask) -> None:
    """Render every HTTP error in the site's own look, without a traceback."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template(
            "errors/error.html",
            code=400,
            title=_("Richiesta non valida"),
            message=_(
                "Il modulo è scaduto o non proviene da questo sito. Ricarica la pagina e riprova."
            ),
            detail=_csrf_reason(error.description),
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        titles = {
            400: _("Richiesta non valida"),
            403: _("Accesso non consentito"),
            404: _("Pagina non trovata"),
            405: _("Metodo non consentito"),
            413: _("File troppo grande"),
            429: _("Troppi tentativi"),
        }
        messages = {
            400: _("La richiesta non è valida. Ricarica la pagina e riprova."),
            403: _("Non hai i permessi per vedere questa pagina."),
            404: _("La pagina che cerchi non esiste o è stata spostata."),
            429: _("Hai fatto troppi tentativi in poco tempo. Attendi qualche minuto e riprova."),
        }
        # Our own abort(400 or 403, description=...) says what was wrong, in the
        # reader's language; Werkzeug's defaults and its subclasses (a missing form
        # key, bad JSON) would show English.
        plain = {400: BadRequest, 403: Forbidden}.get(code)
        if plain is not None and type(error) is plain and error.description != plain.description:
            messages[code] = error.description
        return render_template(
            "errors/error.html",
            code=code,
            title=titles.get(code, error.name),
            message=messages.get(code, ""),
            detail=None,
        ), code

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[str, int]:
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return http_error(error)
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
        db.session.rollback()
        try:
            page = render_template(
                "errors/error.html",
                code=500,
                title=_("Errore del server"),
                message=_("Si è verificato un errore imprevisto. Riprova più tardi."),
                detail=None,
            )
        except Exception:
            log.exception("the error page could not be rendered")
            page = FALLBACK_ERROR_PAGE
        return page, 500


#: Shown when even the error page cannot be rendered (the layout needs the database).
FALLBACK_ERROR_PAGE = (
    '<!doctype html><html lang="it"><meta charset="utf-8"><title>Errore del server</title>'
    "<h1>Errore del server</h1><p>Si è verificato un errore imprevisto. Riprova più tardi.</p>"
    '<p lang="en">Server error: please try again later.</p></html>'
)


#: Scripts and styles come only from this site: no inline script anywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def security_headers(response: Response) -> Response:
    """Add the headers every page should carry."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # is_anonymous, not is_authenticated: after a view's commit the latter reads the
    # expired account again (2 queries); a loaded user is always an active one.
    if request.endpoint != "static" and not getattr(current_user, "is_anonymous", True):
        # Pages with personal data must not be kept by shared caches or the back button.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
