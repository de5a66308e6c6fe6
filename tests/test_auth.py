"""Signing in and out, throttling, and one-time links to set a password."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import TEST_PASSWORD, csrf_token, login
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from lms.auth.models import PasswordToken, User
from lms.auth.operations import deactivate_user, issue_password_token
from lms.auth.passwords import verify_password
from lms.core.redirects import safe_next
from lms.core.types import utcnow
from lms.extensions import limiter

BAD_CREDENTIALS = "E-mail o password non corretti."
NEW_PASSWORD = "Nuova-password-2026"


def text(response) -> str:
    return response.get_data(as_text=True)


def neutral(html: str, *values: str) -> str:
    """*html* without CSRF tokens and the given submitted values, for comparing pages."""
    html = re.sub(r'value="[\w.-]{40,}"', 'value=""', html)
    for value in values:
        html = html.replace(value, "")
    return html


# Sign in -------------------------------------------------------------------------


def test_login_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = text(response)
    assert 'name="email"' in html
    assert 'name="password"' in html
    assert 'name="csrf_token"' in html


def test_login_success_redirects_home_and_home_shows_the_name(client, db, make_user):
    user = make_user(first_name="Giulia", last_name="Esposito")
    response = login(client, user.email)
    assert response.status_code == 302
    assert response.location == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Giulia Esposito" in text(home)
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_login_email_is_case_insensitive(client, make_user):
    make_user(email="anna.russo@example.org")
    assert login(client, "  Anna.Russo@EXAMPLE.org ").status_code == 302


def test_wrong_password_and_unknown_email_look_the_same(client, make_user):
    user = make_user(email="maria@example.org")
    wrong = login(client, user.email, "Password-sbagliata-1")
    unknown = login(client, "nessuno@example.org", TEST_PASSWORD)
    assert wrong.status_code == unknown.status_code == 200
    assert BAD_CREDENTIALS in text(wrong)
    assert BAD_CREDENTIALS in text(unknown)
    assert neutral(text(wrong), user.email) == neutral(text(unknown), "nessuno@example.org")
    assert client.get("/").status_code == 302  # still signed out


def test_inactive_user_cannot_sign_in(client, make_user):
    user = make_user(active=False)
    response = login(client, user.email)
    assert response.status_code == 200
    assert BAD_CREDENTIALS in text(response)
    assert client.get("/").status_code == 302


def test_user_without_password_cannot_sign_in(client, make_user):
    user = make_user(password_hash=None)
    response = login(client, user.email, TEST_PASSWORD)
    assert response.status_code == 200
    assert BAD_CREDENTIALS in text(response)
    assert client.get("/").status_code == 302


def test_empty_fields_are_asked_for(client, make_user):
    user = make_user()
    response = login(client, user.email, "")
    assert response.status_code == 200
    assert "Inserisci e-mail e password." in text(response)
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_a_400_page(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    html = text(response)
    assert "Richiesta non valida" in html
    assert "Traceback" not in html
    assert "<html" in html
    assert client.get("/").status_code == 302


def test_login_with_a_forged_csrf_token_is_refused(client, make_user):
    user = make_user()
    client.get("/login")
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_signed_in_user_visiting_login_goes_home(client, login_as):
    login_as("learner")
    response = client.get("/login")
    assert response.status_code == 302
    assert response.location == "/"


def test_session_cookie_flags(client, make_user):
    response = login(client, make_user().email)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("lms_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags
    assert "samesite=lax" in flags


# Sign out ------------------------------------------------------------------------


def test_logout_by_get_is_not_allowed(client, login_as):
    login_as("learner")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200  # still signed in


def test_logout_without_csrf_is_refused(client, login_as):
    login_as("learner")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_logout_with_csrf_signs_out(client, login_as):
    login_as("learner")
    token = csrf_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.location == "/login"
    assert "Sei uscito dal servizio." in text(client.get("/login"))
    home = client.get("/")
    assert home.status_code == 302
    assert home.location.startswith("/login")


def test_logout_ends_every_copy_of_the_session_cookie(client, login_as, web_app: Flask):
    login_as("learner")
    copy = web_app.test_client()
    copy.set_cookie("lms_session", client.get_cookie("lms_session").value)
    assert copy.get("/").status_code == 200  # a copy of the cookie is the same session
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    home = copy.get("/")
    assert home.status_code == 302
    assert home.location.startswith("/login")


# Redirect after sign-in ----------------------------------------------------------------


def login_with_next(client, email, next_url):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        query_string={"next": next_url},
        data={"email": email, "password": TEST_PASSWORD, "csrf_token": token, "next": next_url},
    )


def test_next_local_path_is_followed(client, make_user):
    response = login_with_next(client, make_user("admin").email, "/admin/utenti?q=rossi")
    assert response.status_code == 302
    assert response.location == "/admin/utenti?q=rossi"


def test_next_is_kept_in_the_login_form(client):
    html = text(client.get("/login?next=/enti/"))
    assert re.search(r'name="next"[^>]*value="/enti/"|value="/enti/"[^>]*name="next"', html)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/login",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_next_to_another_site_goes_home(client, make_user, target):
    response = login_with_next(client, make_user().email, target)
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",  # browsers read a backslash as a slash: //evil.example
        "/\t/evil.example",  # browsers drop tabs and newlines from URLs
    ],
)
def test_safe_next_refuses_browser_quirks(app, target):
    with app.test_request_context():
        assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/enti/", "/enti/?q=napoli", "/password/x#top"])
def test_safe_next_keeps_local_paths(app, target):
    with app.test_request_context():
        assert safe_next(target) == target


# Throttling ----------------------------------------------------------------------


@pytest.fixture
def limited(new_app, monkeypatch):
    """Build a rate-limited app; the shared limiter is put back as it was afterwards.

    Flask-Limiter's ``limiter`` is one module-level object whose ``enabled`` flag
    is set by the last app initialised, and whose memory storage is shared.
    """
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    apps = []

    def factory(**overrides) -> Flask:
        app = new_app(RATELIMIT_ENABLED=True, **overrides)
        limiter.reset()
        apps.append(app)
        return app

    yield factory
    if apps:
        limiter.reset()


def test_sixth_failed_attempt_for_an_account_is_throttled(limited, make_user):
    app = limited()
    client = app.test_client()
    user = make_user(email="bersaglio@example.org")
    for _ in range(5):
        assert login(client, user.email, "Sbagliata-123").status_code == 200
    throttled = login(client, user.email, "Sbagliata-123")
    assert throttled.status_code == 429
    assert "Troppi tentativi" in text(throttled)
    assert "<html" in text(throttled)
    # Even the right password is refused now, and case does not get around it.
    assert login(client, user.email, TEST_PASSWORD).status_code == 429
    assert login(client, "BERSAGLIO@example.org", TEST_PASSWORD).status_code == 429
    # Another account from the same address is not affected.
    other = make_user(email="altro@example.org")
    assert login(app.test_client(), other.email).status_code == 302


def test_successful_sign_ins_do_not_count(limited, make_user):
    app = limited()
    user = make_user(email="assidua@example.org")
    client = app.test_client()
    for _ in range(4):
        assert login(client, user.email, "Sbagliata-123").status_code == 200
    for _ in range(3):
        assert login(app.test_client(), user.email).status_code == 302
    assert login(client, user.email, "Sbagliata-123").status_code == 200  # 5th failure
    assert login(client, user.email, "Sbagliata-123").status_code == 429  # 6th


def test_sign_in_still_works_and_is_limited_when_redis_does_not_answer(
    new_app, make_user, monkeypatch
):
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    # (Not the ``limited`` fixture: it resets the counters, which would ask Redis.)
    app = new_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    user = make_user(email="senza-redis@example.org")
    assert login(app.test_client(), user.email).status_code == 302
    client = app.test_client()
    for _ in range(5):
        assert login(client, user.email, "Sbagliata-123").status_code == 200
    assert login(client, user.email, "Sbagliata-123").status_code == 429  # counted in memory


def test_per_address_limit(limited):
    app = limited(LOGIN_LIMIT_PER_ADDRESS="3 per minute")
    client = app.test_client()
    for n in range(3):
        assert login(client, f"sconosciuto{n}@example.org", "Sbagliata-123").status_code == 200
    throttled = login(client, "ancora@example.org", "Sbagliata-123")
    assert throttled.status_code == 429
    assert "Troppi tentativi" in text(throttled)
    # Another address is unaffected.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert login(other, "sconosciuto0@example.org", "Sbagliata-123").status_code == 200


def test_forwarded_for_is_ignored_without_a_trusted_proxy(limited):
    """A client cannot dodge the per-address limit by inventing X-Forwarded-For."""
    app = limited(LOGIN_LIMIT_PER_ADDRESS="2 per minute")
    client = app.test_client()
    statuses = []
    for n in range(3):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n}"
        statuses.append(login(client, f"p{n}@example.org", "Sbagliata-123").status_code)
    assert statuses == [200, 200, 429]


def test_forwarded_for_is_the_address_behind_a_trusted_proxy(limited):
    app = limited(LOGIN_LIMIT_PER_ADDRESS="2 per minute", PROXY_COUNT=1)
    first = app.test_client()
    first.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    second = app.test_client()
    second.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.2"
    assert login(first, "a@example.org", "Sbagliata-123").status_code == 200
    assert login(first, "b@example.org", "Sbagliata-123").status_code == 200
    assert login(first, "c@example.org", "Sbagliata-123").status_code == 429
    assert login(second, "d@example.org", "Sbagliata-123").status_code == 200


def test_get_of_login_page_is_not_throttled(limited):
    app = limited(LOGIN_LIMIT_PER_ADDRESS="2 per minute")
    client = app.test_client()
    for _ in range(5):
        assert client.get("/login").status_code == 200


# One-time links to set a password ---------------------------------------------------------


@pytest.fixture
def newcomer(make_user) -> User:
    return make_user(email="nuova@example.org", password_hash=None)


def issue(db, user, hours=72) -> str:
    token = issue_password_token(user, hours=hours)
    db.session.commit()
    return token


def set_password(client, token, password=NEW_PASSWORD, confirm=None):
    url = f"/password/{token}"
    data = {
        "password": password,
        "confirm": password if confirm is None else confirm,
        "csrf_token": csrf_token(client, url),
    }
    return client.post(url, data=data)


def test_link_page_shows_the_form(client, db, newcomer):
    token = issue(db, newcomer)
    response = client.get(f"/password/{token}")
    assert response.status_code == 200
    html = text(response)
    assert "nuova@example.org" in html
    assert 'name="password"' in html
    assert 'name="confirm"' in html


def test_link_sets_the_password_once(client, db, newcomer):
    token = issue(db, newcomer)
    response = set_password(client, token)
    assert response.status_code == 302
    assert response.location == "/login"
    assert "Password impostata. Ora puoi accedere." in text(client.get("/login"))
    db.session.refresh(newcomer)
    assert newcomer.password_hash.startswith("$argon2id$")
    assert verify_password(newcomer.password_hash, NEW_PASSWORD)

    assert login(client, newcomer.email, NEW_PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    reused = client.get(f"/password/{token}")
    assert reused.status_code == 404
    assert "<html" in text(reused)
    again = client.post(
        f"/password/{token}",
        data={
            "password": "Altra-password-99",
            "confirm": "Altra-password-99",
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert again.status_code == 404
    db.session.refresh(newcomer)
    assert verify_password(newcomer.password_hash, NEW_PASSWORD)


def test_expired_link(client, db, newcomer):
    token = issue(db, newcomer)
    record = db.session.scalar(select(PasswordToken).where(PasswordToken.user_id == newcomer.id))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/password/{token}").status_code == 404


def test_link_expires_after_the_configured_hours(client, db, newcomer, monkeypatch):
    token = issue(db, newcomer, hours=72)
    assert client.get(f"/password/{token}").status_code == 200
    later = utcnow() + timedelta(hours=72, seconds=1)
    monkeypatch.setattr("lms.auth.operations.utcnow", lambda: later)
    assert client.get(f"/password/{token}").status_code == 404


def test_wrong_token(client, db, newcomer):
    issue(db, newcomer)
    response = client.get("/password/not-a-real-token")
    assert response.status_code == 404
    assert "<html" in text(response)


def test_new_link_invalidates_the_older_one(client, db, newcomer):
    first = issue(db, newcomer)
    second = issue(db, newcomer)
    assert client.get(f"/password/{first}").status_code == 404
    assert client.get(f"/password/{second}").status_code == 200


def test_link_of_a_deactivated_account_does_not_work(client, db, newcomer):
    token = issue(db, newcomer)
    newcomer.active = False
    db.session.commit()
    assert client.get(f"/password/{token}").status_code == 404


def test_only_the_hash_of_the_token_is_stored(db, newcomer):
    token = issue(db, newcomer)
    record = db.session.scalar(select(PasswordToken).where(PasswordToken.user_id == newcomer.id))
    assert token not in record.token_hash
    assert len(record.token_hash) == 64


@pytest.mark.parametrize(
    ("password", "confirm"),
    [
        ("Corta-1", "Corta-1"),  # too short
        ("solamentelettere", "solamentelettere"),  # letters only
        (NEW_PASSWORD, NEW_PASSWORD + "x"),  # not confirmed
    ],
    ids=["short", "letters-only", "mismatch"],
)
def test_bad_password_shows_an_error_and_keeps_the_link(client, db, newcomer, password, confirm):
    token = issue(db, newcomer)
    response = set_password(client, token, password, confirm)
    assert response.status_code == 200
    html = text(response)
    assert 'name="password"' in html  # the form again, with its error
    # The error is shown (an alert, or the field marked invalid for assistive technology).
    assert re.search(r'role="alert"|aria-invalid="true"', html), html
    db.session.refresh(newcomer)
    assert newcomer.password_hash is None
    assert client.get(f"/password/{token}").status_code == 200  # not used up
    assert set_password(client, token).status_code == 302


def test_password_change_signs_out_existing_sessions(web_app, db, make_user):
    user = make_user(email="cambio@example.org")
    old_session = web_app.test_client()
    assert login(old_session, user.email).status_code == 302
    assert old_session.get("/").status_code == 200

    token = issue(db, user)
    assert set_password(web_app.test_client(), token).status_code == 302

    home = old_session.get("/")
    assert home.status_code == 302
    assert home.location.startswith("/login")
    fresh = web_app.test_client()
    assert login(fresh, user.email, TEST_PASSWORD).status_code == 200  # old password gone
    assert login(fresh, user.email, NEW_PASSWORD).status_code == 302


def test_deactivation_signs_out_existing_sessions(web_app, db, make_user):
    user = make_user()
    browser = web_app.test_client()
    assert login(browser, user.email).status_code == 302
    deactivate_user(user)
    db.session.commit()
    assert browser.get("/").status_code == 302


# Forgotten password --------------------------------------------------------------------


def test_forgot_password_without_mail_says_to_ask_hr(client):
    """Without e-mail the page names who can give a new link, and where they do it."""
    response = client.get("/password/dimenticata")
    assert response.status_code == 200
    html = text(response)
    assert "ufficio del personale della tua amministrazione" in html
    assert "«Personale»" in html  # the HR office, from the person's record
    assert "amministratore della piattaforma" in html
    assert "«Utenti»" in html  # an administrator, from the account
    assert "Entra con SPID" not in html  # SPID is not configured here


def test_forgot_password_without_mail_points_to_spid_when_it_is_configured(new_app):
    app = new_app(SPID_IDP_METADATA="/some/folder")
    html = text(app.test_client().get("/password/dimenticata"))
    assert "«Entra con SPID»" in html


def test_forgot_password_post_without_mail_is_400(client, db, make_user):
    user = make_user()
    token = csrf_token(client, "/login")
    response = client.post("/password/dimenticata", data={"email": user.email, "csrf_token": token})
    assert response.status_code == 400
    assert db_tokens_of(db, user) == 0


def db_tokens_of(db, user) -> int:
    query = select(PasswordToken).where(PasswordToken.user_id == user.id)
    return len(db.session.scalars(query).all())


def test_forgot_password_with_mail_sends_a_link_only_to_known_accounts(
    new_app, make_user, smtp_server, smtp_settings
):
    app = new_app(**smtp_settings)
    client = app.test_client()
    user = make_user(email="smemorata@example.org")
    html = text(client.get("/password/dimenticata"))
    assert 'name="email"' in html

    known = client.post(
        "/password/dimenticata",
        data={"email": "Smemorata@example.org", "csrf_token": csrf_token(client, "/login")},
    )
    unknown = client.post(
        "/password/dimenticata",
        data={"email": "ignoto@example.org", "csrf_token": csrf_token(client, "/login")},
    )
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location == "/login"
    assert [m["To"] for m in smtp_server.messages] == [user.email]
    link = re.search(r"http://localhost(/password/[\w-]+)", smtp_server.messages[0].get_content())
    assert link
    assert client.get(link.group(1)).status_code == 200


def test_the_forgotten_password_e_mail_leaves_after_the_commit_and_the_answer(
    new_app, make_user, smtp_server, smtp_settings, db
):
    """The link exists before it is e-mailed, and the page does not wait for the SMTP server."""
    app = new_app(**smtp_settings)
    client = app.test_client()
    user = make_user(email="smemorata@example.org")
    token = csrf_token(client, "/login")
    response = client.post(
        "/password/dimenticata",
        data={"email": user.email, "csrf_token": token},
        buffered=False,  # answered, not yet closed by the server
    )
    assert response.status_code == 302
    assert smtp_server.messages == []  # nothing sent while the page answers
    db.session.rollback()
    assert db_tokens_of(db, user) == 1  # already committed
    response.close()  # the server has sent the answer: now the e-mail leaves
    assert [m["To"] for m in smtp_server.messages] == [user.email]


def test_no_e_mail_leaves_when_the_commit_fails(
    new_app, make_user, smtp_server, smtp_settings, db, monkeypatch
):
    app = new_app(**smtp_settings)
    client = app.test_client()
    user = make_user(email="smemorata@example.org")
    token = csrf_token(client, "/login")

    def failing_commit() -> None:
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(type(db.session()), "commit", lambda _session: failing_commit())
    # The testing app lets the error through instead of answering 500.
    with pytest.raises(OperationalError):
        client.post("/password/dimenticata", data={"email": user.email, "csrf_token": token})
    monkeypatch.undo()
    assert smtp_server.messages == []
    db.session.rollback()
    assert db_tokens_of(db, user) == 0
