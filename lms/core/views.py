"""Home page, language switch, health check, error pages and security headers."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException
from werkzeug.wrappers import Response as BaseResponse

from lms.core.forms import LanguageForm
from lms.core.redirects import safe_next
from lms.extensions import db, login_manager

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)

ROLE_LABELS = {
    "learner": _l("Discente"),
    "trainer": _l("Formatore"),
    "hr": _l("Responsabile del personale"),
    "admin": _l("Amministratore"),
}


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
def set_language() -> BaseResponse:
    """Switch the interface language for this session (and the account)."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
    return redirect(safe_next(request.form.get("next")))


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


#: Errors that mean the database cannot be reached now (down, restarting, its file
#: unreadable, every pooled connection busy), not a fault of the request: 503.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
#: Seconds a client is asked to wait before trying again when the database is down.
RETRY_AFTER_SECONDS = 30


def database_unavailable(error: BaseException | None) -> bool:
    """Whether *error* says the database cannot be reached (see :data:`DATABASE_UNAVAILABLE`)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, DATABASE_UNAVAILABLE)


def _forget_unreadable_user() -> None:
    """Go on as an anonymous visitor when the signed-in account cannot be read.

    Error pages, the language and the security headers all ask for the current
    user, and Flask-Login loads it from the database each time it has not been
    loaded yet: with the database down, every one of them would fail again (and
    a failure in an error handler leaves the server's bare "Internal Server
    Error"). Once loading fails, the rest of the request is anonymous.
    """
    try:
        getattr(current_user, "is_authenticated", False)
    except SQLAlchemyError:
        g._login_user = login_manager.anonymous_user()  # noqa: SLF001 - Flask-Login's cache


def _render_error(code: int, title: str, message: str, detail: str | None = None) -> str:
    """The site's error page; :data:`FALLBACK_ERROR_PAGE` if even that cannot be rendered.

    Callers first call :func:`_forget_unreadable_user`: the texts they pass are
    translated before this runs, and the language reads the account.
    """
    try:
        return render_template(
            "errors/error.html", code=code, title=title, message=message, detail=detail
        )
    except Exception:
        log.exception("the error page could not be rendered")
        return FALLBACK_ERROR_PAGE


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone: nothing left to undo
        log.warning("rollback after an error failed", exc_info=True)


def unavailable_page(error: BaseException) -> tuple[str, int, dict[str, str]]:
    """503 with ``Retry-After``: a page built without the database nor the layout.

    Only the error's class and its driver's first line are logged (not the SQL,
    whose parameters may hold personal data).
    """
    driver_error = getattr(error, "orig", None) or error
    first_line = (str(driver_error).splitlines() or [""])[0][:200]
    log.error(
        "database unavailable on %s %s: %s: %s",
        request.method,
        request.path,
        type(driver_error).__name__,
        first_line,
    )
    _rollback_quietly()
    _forget_unreadable_user()
    try:
        locale = get_locale()
        language = locale.language if locale is not None else "it"
        title = _("Servizio temporaneamente non disponibile")
        message = _(
            "Il servizio non riesce a raggiungere i propri dati in questo momento. "
            "Riprova tra qualche minuto."
        )
        page = UNAVAILABLE_PAGE.format(
            lang=escape(language),
            title=escape(title),
            message=escape(message),
            css=escape(url_for("static", filename="css/lms.css")),
        )
    except Exception:
        log.exception("the unavailable page could not be worded")
        page = FALLBACK_UNAVAILABLE_PAGE
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    return page, 503, headers


def register_error_handlers(app: Flask) -> None:
    """Render every HTTP error in the site's own look, without a traceback.

    None of them needs the database: when it cannot be reached the answer is a
    503 (:func:`unavailable_page`); for any other error the page is rendered for
    an anonymous visitor if the signed-in account cannot be read.
    """

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        _forget_unreadable_user()  # before any translation: the language reads the account
        return _render_error(
            400,
            _("Richiesta non valida"),
            _("Il modulo è scaduto o non proviene da questo sito. Ricarica la pagina e riprova."),
            _csrf_reason(error.description),
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
        # An exception outside the view (an after_request hook) reaches Flask's last
        # resort, which hands over a 500 that carries it.
        original = getattr(error, "original_exception", None)
        if original is not None and database_unavailable(original):
            return unavailable_page(original)
        _forget_unreadable_user()
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
        return _render_error(code, titles.get(code, error.name), messages.get(code, "")), code

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return http_error(error)
        if database_unavailable(error):
            return unavailable_page(error)
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
        _rollback_quietly()
        _forget_unreadable_user()
        page = _render_error(
            500,
            _("Errore del server"),
            _("Si è verificato un errore imprevisto. Riprova più tardi."),
        )
        return page, 500


#: Shown when even the error page cannot be rendered (the layout needs the database).
FALLBACK_ERROR_PAGE = (
    '<!doctype html><html lang="it"><meta charset="utf-8"><title>Errore del server</title>'
    "<h1>Errore del server</h1><p>Si è verificato un errore imprevisto. Riprova più tardi.</p>"
    '<p lang="en">Server error: please try again later.</p></html>'
)

#: The 503 page: no layout (it reads the signed-in user and the menu), only the stylesheet.
UNAVAILABLE_PAGE = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<title>{title}</title><link rel="stylesheet" href="{css}"></head>'
    '<body><main class="container my-5"><h1>{title}</h1><p class="lead">{message}</p>'
    "</main></body></html>"
)
FALLBACK_UNAVAILABLE_PAGE = (
    '<!doctype html><html lang="it"><meta charset="utf-8">'
    "<title>Servizio temporaneamente non disponibile</title>"
    "<h1>Servizio temporaneamente non disponibile</h1>"
    "<p>Riprova tra qualche minuto.</p>"
    '<p lang="en">Service temporarily unavailable: please try again in a few minutes.</p></html>'
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
    _forget_unreadable_user()  # the database is down: this page has no account's data
    if request.endpoint != "static" and not getattr(current_user, "is_anonymous", True):
        # Pages with personal data must not be kept by shared caches or the back button.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
