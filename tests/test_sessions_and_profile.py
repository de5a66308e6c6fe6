"""Sessions kept on the server, and the self-service profile (issue #15).

A cookie names a session row: signing out ends that session (and every copy
of its cookie) but not the account's other browsers; "sign out of the others"
and a password change end the others and keep this one; one person cannot end
or see another's sessions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import TEST_PASSWORD, csrf_token, login, open_session_cookie_id
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.audit.models import AuditEntry
from lms.auth.models import PasswordToken, Role, SignInMethod, User, UserSession
from lms.auth.operations import issue_password_token
from lms.auth.passwords import verify_password
from lms.auth.sessions import describe_browser, open_sessions
from lms.core.types import utcnow
from lms.extensions import db as _db
from lms.register.codice_fiscale import mask_codice_fiscale
from lms.register.models import StaffCategory, StaffMember

NEW_PASSWORD = "Un-altra-password-7"


def browser(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


def signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def fresh(model: type, ident: int) -> object:
    _db.session.expire_all()
    return _db.session.get(model, ident)


def open_rows(user: User) -> list[UserSession]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        )
    )


def actions(user: User) -> list[str]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def two_browsers(
    web_app: Flask, make_user: Callable[..., User]
) -> tuple[User, FlaskClient, FlaskClient]:
    user = make_user(Role.TRAINER)
    one, two = browser(web_app), browser(web_app)
    assert login(one, user.email).status_code == 302
    assert login(two, user.email).status_code == 302
    return user, one, two


# Sessions ------------------------------------------------------------------


def test_each_sign_in_is_a_session_row_with_its_browser(two_browsers) -> None:
    user, _one, _two = two_browsers
    rows = open_rows(user)
    assert len(rows) == 2
    assert {row.method for row in rows} == {SignInMethod.PASSWORD}
    assert all(len(row.key_hash) == 64 for row in rows)  # only a hash is stored
    assert fresh(User, user.id).last_login_at is not None


def test_the_cookie_does_not_carry_the_stored_hash(web_app: Flask, make_user) -> None:
    user = make_user(Role.LEARNER)
    client = browser(web_app)
    login(client, user.email)
    (row,) = open_rows(user)
    cookie = client.get_cookie("lms_session")
    assert cookie is not None
    assert row.key_hash not in cookie.value


def test_signing_out_ends_this_session_only(two_browsers) -> None:
    user, one, two = two_browsers
    token = csrf_token(one, "/")
    assert one.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not signed_in(one)
    assert signed_in(two)
    assert len(open_rows(user)) == 1


def test_a_copied_cookie_dies_with_its_session(web_app: Flask, make_user) -> None:
    user = make_user(Role.LEARNER)
    original = browser(web_app)
    login(original, user.email)
    copy = browser(web_app)
    copy.set_cookie("lms_session", original.get_cookie("lms_session").value)
    assert signed_in(copy)
    original.post("/logout", data={"csrf_token": csrf_token(original, "/")})
    assert not signed_in(copy)


def test_an_old_two_part_cookie_signs_nobody_in(web_app: Flask, make_user) -> None:
    """The format before server-side sessions (``id:version``) names no session."""
    from flask_login.utils import encode_cookie  # noqa: PLC0415 - only this test forges cookies

    user = make_user(Role.ADMIN)
    client = browser(web_app)
    client.set_cookie("remember_token", encode_cookie(f"{user.id}:{user.session_version}"))
    assert not signed_in(client)
    client = browser(web_app)
    client.set_cookie("remember_token", encode_cookie(open_session_cookie_id(user)))
    assert signed_in(client)


def test_a_forged_key_or_another_account_s_key_opens_nothing(web_app: Flask, make_user) -> None:
    from flask_login.utils import encode_cookie  # noqa: PLC0415

    victim = make_user(Role.ADMIN)
    attacker = make_user(Role.LEARNER)
    own = open_session_cookie_id(attacker)
    key = own.rsplit(":", 1)[1]
    for forged in (
        f"{victim.id}:{victim.session_version}:{key}",  # my key, their account
        f"{victim.id}:{victim.session_version}:x",
        f"{victim.id}:{victim.session_version}:",
        f"{victim.id}:{victim.session_version}:{key}:extra",
    ):
        client = browser(web_app)
        client.set_cookie("remember_token", encode_cookie(forged))
        assert not signed_in(client), forged


def test_a_version_bump_ends_every_session(two_browsers) -> None:
    user, one, two = two_browsers
    account = fresh(User, user.id)
    account.session_version += 1
    _db.session.commit()
    assert not signed_in(one)
    assert not signed_in(two)


def test_a_deactivated_account_s_open_session_ends(two_browsers) -> None:
    user, one, _two = two_browsers
    account = fresh(User, user.id)
    account.active = False
    _db.session.commit()
    assert not signed_in(one)


# The sessions page -----------------------------------------------------------


def test_the_sessions_page_lists_mine_and_marks_this_one(two_browsers) -> None:
    _user, one, _two = two_browsers
    html = one.get("/profilo/sessioni").get_data(as_text=True)
    assert html.count("questa sessione") == 1
    assert html.count('name="session_id"') == 1  # the other one can be ended; this one not here
    assert "Esci da tutte le altre sessioni" in html


def test_signing_out_of_the_others_keeps_this_one(two_browsers) -> None:
    user, one, two = two_browsers
    token = csrf_token(one, "/profilo/sessioni")
    response = one.post("/profilo/sessioni/chiudi", data={"csrf_token": token})
    assert response.status_code == 302
    assert signed_in(one)
    assert not signed_in(two)
    assert len(open_rows(user)) == 1
    assert actions(user) == ["user.sessions_end"]  # a trainer's change is in the log


def test_ending_one_other_session(two_browsers) -> None:
    _user, one, two = two_browsers
    html = one.get("/profilo/sessioni").get_data(as_text=True)
    other = re.search(r'name="session_id" value="(\d+)"', html).group(1)
    token = csrf_token(one, "/profilo/sessioni")
    assert (
        one.post(
            "/profilo/sessioni/chiudi", data={"csrf_token": token, "session_id": other}
        ).status_code
        == 302
    )
    assert signed_in(one)
    assert not signed_in(two)


def test_nobody_ends_another_person_s_session(web_app: Flask, make_user) -> None:
    victim = make_user(Role.ADMIN)
    victim_client = browser(web_app)
    login(victim_client, victim.email)
    (victim_row,) = open_rows(victim)
    attacker = make_user(Role.LEARNER)
    client = browser(web_app)
    login(client, attacker.email)
    token = csrf_token(client, "/profilo/sessioni")
    for value in (str(victim_row.id), "999999", "abc", "-1"):
        response = client.post(
            "/profilo/sessioni/chiudi", data={"csrf_token": token, "session_id": value}
        )
        assert response.status_code == 404, value
    assert signed_in(victim_client)
    # and my page does not list theirs
    html = client.get("/profilo/sessioni").get_data(as_text=True)
    assert f'value="{victim_row.id}"' not in html


def test_ending_this_session_from_the_list_is_refused(web_app: Flask, make_user) -> None:
    """This browser signs out with the Esci button; the list's id of it is a 404."""
    user = make_user(Role.LEARNER)
    client = browser(web_app)
    login(client, user.email)
    (row,) = open_rows(user)
    token = csrf_token(client, "/profilo/sessioni")
    response = client.post(
        "/profilo/sessioni/chiudi", data={"csrf_token": token, "session_id": str(row.id)}
    )
    assert response.status_code == 404
    assert signed_in(client)


def test_the_sessions_forms_need_csrf_and_a_post(two_browsers) -> None:
    _user, one, two = two_browsers
    assert one.post("/profilo/sessioni/chiudi", data={}).status_code == 400
    assert one.get("/profilo/sessioni/chiudi").status_code == 405
    assert signed_in(two)


def test_a_learner_s_own_session_changes_are_not_in_the_log(web_app: Flask, make_user) -> None:
    user = make_user(Role.LEARNER)
    one, two = browser(web_app), browser(web_app)
    login(one, user.email)
    login(two, user.email)
    one.post("/profilo/sessioni/chiudi", data={"csrf_token": csrf_token(one, "/profilo/sessioni")})
    assert not signed_in(two)
    assert actions(user) == []


# The profile page ------------------------------------------------------------


def test_the_profile_shows_a_staff_member_s_data_with_the_fiscal_code_masked(
    web_app: Flask, make_user, make_authority
) -> None:
    user = make_user(Role.LEARNER, first_name="Anna", last_name="Verdi")
    authority = make_authority()
    _db.session.add(
        StaffMember(
            codice_fiscale="VRDNNA80A41F839W",
            first_name="Anna",
            last_name="Verdi",
            email=user.email,
            authority_id=authority.id,
            category=StaffCategory.NEW_HIRE,
            user_id=user.id,
        )
    )
    _db.session.commit()
    client = browser(web_app)
    login(client, user.email)
    html = client.get("/profilo/").get_data(as_text=True)
    assert "VRDNNA80A41F839W" not in html
    assert mask_codice_fiscale("VRDNNA80A41F839W") in html
    assert authority.name in html
    assert "ufficio del personale" in html
    assert 'action="/profilo/nome"' not in html  # the HR office keeps a staff member's name
    token = csrf_token(client, "/profilo/")
    response = client.post(
        "/profilo/nome", data={"csrf_token": token, "first_name": "X", "last_name": "Y"}
    )
    assert response.status_code == 403
    assert fresh(User, user.id).first_name == "Anna"


def test_an_account_without_staff_record_corrects_its_name(web_app: Flask, make_user) -> None:
    user = make_user(Role.HR, first_name="Mario", last_name="Bianchi")
    client = browser(web_app)
    login(client, user.email)
    html = client.get("/profilo/").get_data(as_text=True)
    assert "nessuno: non puoi accedere con SPID o CIE" in html
    token = csrf_token(client, "/profilo/")
    response = client.post(
        "/profilo/nome", data={"csrf_token": token, "first_name": " Mario ", "last_name": "Rossi"}
    )
    assert response.status_code == 302
    assert (fresh(User, user.id).first_name, fresh(User, user.id).last_name) == ("Mario", "Rossi")
    assert actions(user) == ["user.names"]
    for bad in (
        {"first_name": "", "last_name": "Rossi"},
        {"first_name": "x" * 101, "last_name": "R"},
    ):
        response = client.post("/profilo/nome", data={"csrf_token": token, **bad})
        assert response.status_code == 400, bad
    assert fresh(User, user.id).last_name == "Rossi"


def test_a_bound_fiscal_code_is_shown_masked(web_app: Flask, make_user) -> None:
    user = make_user(Role.ADMIN)
    account = fresh(User, user.id)
    account.fiscal_code = "RSSMRA80A01H501U"
    _db.session.commit()
    client = browser(web_app)
    login(client, user.email)
    html = client.get("/profilo/").get_data(as_text=True)
    assert "RSSMRA80A01H501U" not in html
    assert "RSSMRA" + "•" * 9 + "U" in html


def test_the_profile_needs_a_sign_in(client: FlaskClient) -> None:
    for url in ("/profilo/", "/profilo/password", "/profilo/sessioni"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.location


def test_the_language_choice_on_the_profile_is_saved(web_app: Flask, make_user) -> None:
    user = make_user(Role.LEARNER)
    client = browser(web_app)
    login(client, user.email)
    token = csrf_token(client, "/profilo/")
    response = client.post("/lingua", data={"csrf_token": token, "lang": "en", "next": "/profilo/"})
    assert response.status_code == 302
    assert response.location.endswith("/profilo/")
    assert fresh(User, user.id).locale == "en"
    assert "My profile" in client.get("/profilo/").get_data(as_text=True)


# Changing one's password -----------------------------------------------------


def change(client: FlaskClient, current: str, new: str, confirm: str | None = None):
    token = csrf_token(client, "/profilo/password")
    return client.post(
        "/profilo/password",
        data={
            "csrf_token": token,
            "current": current,
            "password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def test_changing_the_password_keeps_this_session_and_ends_the_others(two_browsers) -> None:
    user, one, two = two_browsers
    link = issue_password_token(fresh(User, user.id), hours=24)
    _db.session.commit()
    response = change(one, TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in(one)
    assert not signed_in(two)
    account = fresh(User, user.id)
    assert verify_password(account.password_hash, NEW_PASSWORD)
    # the unused link no longer works
    assert one.get(f"/password/{link}").status_code == 404
    assert actions(user)[-1] == "user.password"
    # the old password no longer signs in, the new one does
    assert login(browser(two.application), user.email).status_code == 200
    assert login(browser(two.application), user.email, NEW_PASSWORD).status_code == 302


def test_a_wrong_current_password_changes_nothing(two_browsers) -> None:
    user, one, two = two_browsers
    before = fresh(User, user.id).password_hash
    response = change(one, "not-the-password-1", NEW_PASSWORD)
    assert response.status_code == 400
    assert "La password attuale non è corretta." in response.get_data(as_text=True)
    assert fresh(User, user.id).password_hash == before
    assert signed_in(two)
    assert "user.password" not in actions(user)


@pytest.mark.parametrize(
    ("new", "confirm"),
    [
        ("corta1", None),
        ("solamentelettere", None),
        ("1234567890123", None),
        (NEW_PASSWORD, "altra"),
    ],
)
def test_a_weak_or_mismatched_new_password_is_refused(two_browsers, new, confirm) -> None:
    user, one, _two = two_browsers
    before = fresh(User, user.id).password_hash
    response = change(one, TEST_PASSWORD, new, confirm)
    assert response.status_code == 400
    assert fresh(User, user.id).password_hash == before


def test_an_account_without_password_sets_a_first_one_without_the_old(
    web_app: Flask, make_user
) -> None:
    """An account that signs in with SPID only: no current password to ask."""
    user = make_user(Role.LEARNER)
    client = browser(web_app)
    login(client, user.email)
    account = fresh(User, user.id)
    account.password_hash = None
    _db.session.commit()
    html = client.get("/profilo/password").get_data(as_text=True)
    assert 'name="current"' not in html
    assert change(client, "", NEW_PASSWORD).status_code == 302
    assert verify_password(fresh(User, user.id).password_hash, NEW_PASSWORD)


def test_the_password_change_needs_csrf(two_browsers) -> None:
    user, one, _two = two_browsers
    before = fresh(User, user.id).password_hash
    response = one.post(
        "/profilo/password",
        data={"current": TEST_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert fresh(User, user.id).password_hash == before


def test_no_password_or_key_in_the_log(two_browsers, caplog) -> None:
    _user, one, _two = two_browsers
    with caplog.at_level("DEBUG"):
        change(one, TEST_PASSWORD, NEW_PASSWORD)
    assert NEW_PASSWORD not in caplog.text
    assert TEST_PASSWORD not in caplog.text


# Pieces ----------------------------------------------------------------------


def test_mask_codice_fiscale() -> None:
    assert mask_codice_fiscale(None) is None
    assert mask_codice_fiscale("RSSMRA80A01H501U") == "RSSMRA" + "•" * 9 + "U"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox · Linux",
        ),
        (
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/120.0 Safari/537.36 Edg/120.0"
            ),
            "Edge · Windows",
        ),
        ("curl/8.5.0", "curl/8.5.0"),
        ("", ""),
    ],
)
def test_describe_browser(agent: str, expected: str) -> None:
    assert describe_browser(agent) == expected


def test_sessions_count_stays_one_query_per_request(web_app: Flask, make_user) -> None:
    """The loader reads account, staff record and session in one statement."""
    from sqlalchemy import event  # noqa: PLC0415

    user = make_user(Role.LEARNER)
    client = browser(web_app)
    login(client, user.email)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with web_app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/healthz")
        statements.clear()
        client.get("/profilo/sessioni")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    loads = [s for s in statements if "user_sessions" in s and "JOIN" in s.upper()]
    assert len(loads) == 1
    assert _db.session.scalar(select(func.count()).select_from(PasswordToken)) == 0


def test_a_first_password_needs_a_recent_sign_in(web_app: Flask, make_user) -> None:
    """A stolen session of a SPID-only account cannot set a password and keep the account."""
    user = make_user(Role.LEARNER)
    client = browser(web_app)
    login(client, user.email)
    (row,) = open_rows(user)
    row.created_at = utcnow() - timedelta(minutes=11)
    row.user.password_hash = None
    _db.session.commit()
    response = change(client, "", NEW_PASSWORD)
    assert response.status_code == 400
    assert "devi essere entrato da meno di 10 minuti" in response.get_data(as_text=True)
    assert fresh(User, user.id).password_hash is None


def test_a_version_bump_takes_the_sessions_off_the_list(two_browsers) -> None:
    """Sessions a password set by link or a deactivation ended are not listed as open."""
    user, _one, _two = two_browsers
    account = fresh(User, user.id)
    assert len(open_sessions(account)) == 2
    account.session_version += 1
    _db.session.commit()
    assert open_sessions(fresh(User, user.id)) == []
