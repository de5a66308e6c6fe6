"""Site-wide behaviour: health check, headers, error pages, language, demo data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from conftest import csrf_token, dispose_app, login
from flask import abort, request
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import lms
from config import ProductionConfig
from lms.assessments.models import QuizAttempt
from lms.auth.models import User
from lms.core.views import CONTENT_SECURITY_POLICY
from lms.courses.content import load_tree
from lms.courses.models import CourseCompletion, Module, ModuleProgress
from lms.courses.sync import sync_courses
from lms.enrolments.models import Enrolment
from lms.register.models import StaffMember
from lms.site.demo import DEMO_USERS

TRANSLATIONS = Path(lms.__file__).parent / "translations"


def text(response) -> str:
    return response.get_data(as_text=True)


# Health check ----------------------------------------------------------------------


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert text(response) == "ok"
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_when_the_database_fails(client, db, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert text(response) == "database unavailable"
    assert response.headers["Cache-Control"] == "no-store"


# Security headers --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/login", "/healthz", "/non-esiste"])
def test_security_headers(client, url):
    headers = client.get(url).headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def test_content_security_policy_allows_no_inline_script_or_framing():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_script(client, login_as):
    """The CSP forbids inline scripts, so the pages must not rely on any."""
    pages = [text(client.get("/login"))]
    login_as("admin")
    pages += [text(client.get(url)) for url in ("/", "/enti/", "/admin/utenti", "/non-esiste")]
    for html in pages:
        for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL):
            assert "src=" in attributes, attributes
            assert not body.strip()
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"
        assert "style=" not in html, "inline style attribute (style-src 'self')"


def test_signed_in_pages_are_not_cached(client, login_as):
    login_as("learner")
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_are_served(client):
    response = client.get("/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


# Error pages ---------------------------------------------------------------------------


def test_404_page_uses_the_site_layout(client):
    login_page = text(client.get("/login"))
    response = client.get("/questa/pagina/non-esiste")
    assert response.status_code == 404
    html = text(response)
    assert "Pagina non trovata" in html
    assert "Traceback" not in html
    # Same layout as every page: the stylesheet and the page header.
    stylesheet = re.search(r"<link[^>]+bootstrap-italia[^>]+>", login_page)
    assert stylesheet
    assert stylesheet.group(0) in html
    assert "<header" in html
    assert "<footer" in html


def test_error_details_are_escaped(client, login_as):
    login_as("admin")
    response = client.get("/enti/", query_string={"kind": "<script>alert(1)</script>"})
    assert response.status_code == 400
    html = text(response)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_405_page(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Metodo non consentito" in text(response)


def test_a_bare_400_speaks_the_readers_language(new_app):
    app = new_app()

    @app.get("/richiesta-rotta")
    def bare_400():
        abort(400)

    client = app.test_client()
    page = text(client.get("/richiesta-rotta"))
    assert "La richiesta non è valida. Ricarica la pagina e riprova." in page
    assert "The browser (or proxy)" not in page  # Werkzeug's English default
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = text(client.get("/richiesta-rotta"))
    assert "The request is not valid. Reload the page and try again." in english


def test_werkzeugs_own_400s_do_not_show_their_english_detail(new_app):
    app = new_app()

    @app.get("/modulo-incompleto")
    def missing_key():
        return request.args["manca"]  # BadRequestKeyError

    page = text(app.test_client().get("/modulo-incompleto"))
    assert "La richiesta non è valida. Ricarica la pagina e riprova." in page
    assert "KeyError" not in page
    assert "The browser" not in page


def test_a_refused_form_says_why_in_italian(new_app):
    app = new_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"email": "a@b.it", "password": "x"})
    assert response.status_code == 400
    page = text(response)
    assert "Il modulo è scaduto o non proviene da questo sito." in page
    assert "Manca il codice di sicurezza del modulo." in page
    assert "CSRF" not in page


@pytest.fixture
def fragile_app(new_app):
    app = new_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/guasto")
    def broken():
        raise RuntimeError("secret internal detail")

    return app


def test_unhandled_exception_gives_the_500_page(fragile_app):
    response = fragile_app.test_client().get("/guasto")
    assert response.status_code == 500
    html = text(response)
    assert "Errore del server" in html
    assert "secret internal detail" not in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html
    assert "<footer" in html  # the site's layout
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unhandled_exception_is_logged(fragile_app, caplog):
    fragile_app.test_client().get("/guasto")
    logged = [r for r in caplog.records if "unhandled error on GET /guasto" in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


# Language ------------------------------------------------------------------------------


@pytest.fixture
def english_compiled():
    mo = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
    po = mo.with_suffix(".po")
    assert po.exists(), f"{po} is missing"
    assert mo.exists(), f"{mo} is missing: run `make translations` (pybabel compile)"
    assert mo.stat().st_mtime >= po.stat().st_mtime, f"{mo} is older than {po}: recompile"


def switch_language(client, lang, next_url="/login"):
    token = csrf_token(client, next_url)
    return client.post("/lingua", data={"lang": lang, "csrf_token": token, "next": next_url})


def html_lang(html: str) -> str:
    match = re.search(r'<html[^>]*\slang="([^"]+)"', html)
    assert match, "no lang attribute on <html>"
    return match.group(1)


def test_italian_by_default(client):
    html = text(client.get("/login"))
    assert html_lang(html) == "it"
    assert "Accedi" in html


@pytest.mark.usefixtures("english_compiled")
def test_switch_to_english(client):
    response = switch_language(client, "en")
    assert response.status_code == 302
    assert response.location == "/login"
    html = text(client.get("/login"))
    assert html_lang(html) == "en"
    assert "Sign in" in html
    assert "Accedi" not in html
    # Error pages follow too.
    assert "Page not found" in text(client.get("/non-esiste"))

    switch_language(client, "it")
    assert html_lang(text(client.get("/login"))) == "it"


@pytest.mark.usefixtures("english_compiled")
def test_the_certificate_check_button_is_a_verb_in_both_languages(client):
    # "Verifica" alone is the quiz (the noun, "Assessment"); the button says what it does.
    button = r'<button type="submit" class="btn btn-primary">([^<]+)</button>'
    assert re.findall(button, text(client.get("/certificates/"))) == ["Verifica l'attestato"]
    switch_language(client, "en")
    assert re.findall(button, text(client.get("/certificates/"))) == ["Check the certificate"]


@pytest.mark.usefixtures("english_compiled")
def test_wrong_credentials_message_in_english(client, make_user):
    switch_language(client, "en")
    response = login(client, make_user().email, "Sbagliata-123")
    assert "Incorrect e-mail or password." in text(response)
    assert "E-mail o password non corretti." not in text(response)
    assert html_lang(text(response)) == "en"


def test_unknown_language_is_ignored(client):
    response = switch_language(client, "de")
    assert response.status_code == 302
    assert html_lang(text(client.get("/login"))) == "it"


def test_language_switch_redirects_only_locally(client):
    token = csrf_token(client, "/login")
    response = client.post(
        "/lingua", data={"lang": "it", "csrf_token": token, "next": "//evil.example/"}
    )
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.usefixtures("english_compiled")
def test_language_is_remembered_on_the_account(web_app, client, db, login_as):
    user = login_as("learner")
    assert switch_language(client, "en", next_url="/").status_code == 302
    db.session.refresh(user)
    assert user.locale == "en"
    elsewhere = web_app.test_client()
    login(elsewhere, user.email)
    html = text(elsewhere.get("/"))
    assert html_lang(html) == "en"
    assert "Sign out" in html
    assert "Esci" not in html


def english_catalog():
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def test_english_catalog_is_complete_and_consistent():
    catalog = english_catalog()
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    # Placeholders (%(name)s, %(n)d) agree between Italian and English.
    assert [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()] == []


#: Source files of the parts of the product that are finished; their strings
#: must all be in the English catalogue.
TRANSLATED_SOURCES = re.compile(
    r"lms/[a-z_]+/(?:[a-z_]+/)?[^/]+\.py$"
    r"|lms/templates/[a-z_]+/[^/]+\.html$"
    r"|lms/templates/(base|macros)\.html$"
)


def test_every_string_of_the_finished_pages_is_in_the_english_catalog():
    root = Path(lms.__file__).parent.parent
    with (root / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    catalog = english_catalog()
    missing = []
    for filename, lineno, message, *_ in extract_from_dir(
        str(root), method_map, options_map, keywords=keywords
    ):
        if not TRANSLATED_SOURCES.match(filename):
            continue
        msgid = message if isinstance(message, str) else message[0]
        if msgid not in catalog or not catalog[msgid].string:
            missing.append(f"{filename}:{lineno}: {msgid}")
    assert missing == []


# lms demo ----------------------------------------------------------------------------


@pytest.fixture
def minimal_register(db, make_region, make_authority, app, tmp_path, monkeypatch):
    """Just what the demo accounts refer to (the full register takes seconds to load).

    ``lms demo`` writes a Teams report under the instance folder: here, a temporary one.
    """
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    make_region("18")
    make_authority(istat_code="063049", name="Napoli", region_code="15")
    db.session.commit()


@pytest.mark.usefixtures("minimal_register")
def test_demo_creates_its_accounts_once(runner, db, client):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert f"demo: {len(DEMO_USERS)} new account(s)" in first.stdout
    for demo in DEMO_USERS:
        assert demo.email in first.stdout
        assert demo.password in first.stdout
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert {d.email for d in DEMO_USERS} <= set(users)
    assert {u.role.value for u in users.values()} == {"learner", "trainer", "hr", "admin"}
    # Every other account is a demo staff member's learner account (no password yet).
    others = [u for email, u in users.items() if email not in {d.email for d in DEMO_USERS}]
    assert all(u.role.value == "learner" and u.password_hash is None for u in others)
    napoli_hr = users["hr.napoli@demo.example"]
    assert [s.authority.code for s in napoli_hr.scopes] == ["063049"]
    calabria_hr = users["hr.calabria@demo.example"]
    assert [s.region.code for s in calabria_hr.scopes] == ["18"]

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "demo: 0 new account(s)" in second.stdout
    assert db.session.scalar(select(func.count()).select_from(User)) == len(users)  # no new one

    admin = next(d for d in DEMO_USERS if d.role == "admin")
    assert login(client, admin.email, admin.password).status_code == 302


@pytest.mark.usefixtures("minimal_register")
def test_demo_gives_people_progress_and_completions_once(runner, db):
    # With the shipped courses synchronised, some demo people read, pass quizzes
    # and complete courses through the real operations (reports and certificates
    # then have data); running it again adds nothing.
    sources, errors = load_tree(Path(lms.__file__).resolve().parent.parent / "content")
    assert errors == []
    sync_courses(sources)
    db.session.commit()
    assert runner.invoke(args=["demo"]).exit_code == 0

    def counts() -> tuple[int, int, int]:
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (ModuleProgress, QuizAttempt, CourseCompletion)
        )

    first = counts()
    learner = db.session.scalar(select(User).where(User.email == "discente@demo.example"))
    completed = db.session.scalars(
        select(CourseCompletion.course_id).where(CourseCompletion.user_id == learner.id)
    ).all()
    assert len(completed) == 1  # appalti-pubblici; the other courses are left to try
    assert all(n > 0 for n in first), first
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert counts() == first


@pytest.fixture
def demo_with_courses(runner, db, minimal_register):
    """`lms demo` with the shipped courses synchronised, as `make run` does."""
    del minimal_register  # only the register it makes
    sources, errors = load_tree(Path(lms.__file__).resolve().parent.parent / "content")
    assert errors == []
    sync_courses(sources)
    db.session.commit()
    assert runner.invoke(args=["demo"]).exit_code == 0


@pytest.mark.usefixtures("demo_with_courses")
def test_demo_learner_has_one_overdue_course_on_the_home_page(client):
    # The README's tour: the learner's required courses come first, one overdue and
    # highlighted (Fondamenti, not started: the browser tests follow it to the end).
    assert login(client, "discente@demo.example", "Discente-2026").status_code == 302
    page = client.get("/").get_data(as_text=True)
    overdue = re.findall(r'<li class="mb-3 lms-overdue">\s*<a href="([^"]+)"', page)
    assert overdue == ["/courses/fondamenti-coesione/"]
    # The article before the day: "il 30 nov"; elided before a vowel: "l'1", "l'8", "l'11".
    article = r" (?:il |l(?:'|&#39;|\u2019)(?=1 |8 |11 ))"
    assert re.search("scaduto" + article, page)
    completed = re.findall("completato" + article, page)
    assert len(completed) == 1  # Appalti, completed before its due date
    assert "/courses/appalti-pubblici/attestato.pdf" in page


@pytest.mark.usefixtures("demo_with_courses")
def test_demo_people_were_enrolled_before_their_progress(db):
    enrolments = db.session.execute(
        select(StaffMember.user_id, Enrolment.course_id, Enrolment.enrolled_at).join(
            StaffMember, StaffMember.id == Enrolment.staff_id
        )
    ).all()
    assert enrolments
    enrolled = {(user_id, course_id): at for user_id, course_id, at in enrolments}
    completions = db.session.execute(
        select(CourseCompletion.user_id, CourseCompletion.course_id, CourseCompletion.completed_at)
    ).all()
    progress = db.session.execute(
        select(ModuleProgress.user_id, Module.course_id, ModuleProgress.started_at).join(
            Module, Module.id == ModuleProgress.module_id
        )
    ).all()
    assert completions
    assert progress
    for user_id, course_id, at in [*completions, *progress]:
        assert enrolled[user_id, course_id] < at


def test_demo_on_an_empty_register_fails_clearly(runner, db):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: the register is empty: run `lms register load` first"
    assert "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.usefixtures("minimal_register")
def test_demo_refuses_to_run_in_production(database_url, db):
    config = type(
        "ProdOnTestDb",
        (ProductionConfig,),
        {
            "SECRET_KEY": "production-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ALLOW_SQLITE_IN_PRODUCTION": True,
            "RATELIMIT_ENABLED": False,
        },
    )
    production = lms.create_app(config)
    try:
        with production.app_context():  # else the command runs in the test's (testing) app
            result = production.test_cli_runner().invoke(args=["demo"])
    finally:
        dispose_app(production)
    assert result.exit_code == 1
    assert "refuses to run in production" in result.stderr
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_english_readers_get_european_dates_and_the_english_catalogue(app):
    from datetime import UTC, date, datetime  # noqa: PLC0415

    from flask import session  # noqa: PLC0415
    from flask_babel import format_date, format_datetime, get_locale, gettext  # noqa: PLC0415

    with app.test_request_context("/"):
        session["lang"] = "en"
        assert get_locale().language == "en"
        assert format_date(date(2026, 11, 25), "short") == "25/11/2026"
        evening = datetime(2026, 11, 25, 18, 53, tzinfo=UTC)  # 19:53 in Rome
        assert format_datetime(evening, "short") == "25/11/2026, 19:53"
        assert gettext("Pagina non trovata") == "Page not found"
