"""Attacks on the account features of issue #15: sessions, the profile, the Utenti pages.

Written as a hostile reviewer: an HR manager, a learner and a stranger crafting
requests, and a careless or malicious administrator. Each test's docstring says
the attack and why it must fail. The tests that failed on the code they were
written against are the holes the review found (fixed with them); the others
pin attacks that were already defended, as regression tests.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

import pytest
from conftest import TEST_PASSWORD, csrf_token, login, open_session_cookie_id
from flask import Flask
from flask.testing import FlaskClient
from flask_login.utils import encode_cookie
from sqlalchemy import func, select
from test_admin_users_web import CF_ANNA, CF_LUCA, CF_MARIO, NAPOLI, staff_for

from lms.audit import Action, AuditEntry, AuditObject
from lms.auth.models import PasswordToken, Role, SignInMethod, User, UserSession
from lms.auth.operations import issue_password_token, token_hash
from lms.core.types import today_in_italy, utcnow
from lms.extensions import db as _db
from lms.register.models import Authority

NEW_PASSWORD = "Un-altra-password-7"
XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


# Helpers ---------------------------------------------------------------------------------


def browser(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


def signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def fresh(user_id: int) -> User:
    _db.session.expire_all()
    user = _db.session.get(User, user_id)
    assert user is not None
    return user


def count(model: type) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def entries(action: Action | None = None) -> list[AuditEntry]:
    _db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(_db.session.scalars(query))


def objects(entry: AuditEntry) -> set[tuple[str, int]]:
    rows = _db.session.execute(
        select(AuditObject.kind, AuditObject.object_id).where(AuditObject.entry_id == entry.id)
    )
    return {(kind, object_id) for kind, object_id in rows}


def open_rows(user: User) -> list[UserSession]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        )
    )


def snapshot(user_id: int) -> tuple[object, ...]:
    """What an attack on an account could change."""
    user = fresh(user_id)
    return (
        user.email,
        user.first_name,
        user.last_name,
        user.role,
        user.active,
        user.fiscal_code,
        user.password_hash,
        user.session_version,
        sorted((s.authority_id, s.region_id) for s in user.scopes),
    )


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("lms_session")
    assert cookie is not None
    return cookie.value


def flask_session(web_app: Flask, client: FlaskClient) -> dict[str, object]:
    """The data of *client*'s signed Flask session cookie."""
    serializer = web_app.session_interface.get_signing_serializer(web_app)  # type: ignore[attr-defined]
    return dict(serializer.loads(session_cookie(client)))


def admin_token(client: FlaskClient) -> str:
    return csrf_token(client, "/admin/utenti/nuovo")


def change_urls(user_id: int) -> list[tuple[str, dict[str, str]]]:
    """Every POST of the Utenti pages, with data that would change something."""
    return [
        ("/admin/utenti/nuovo", {"email": "nuovo@example.org", "role": "admin"}),
        (f"/admin/utenti/{user_id}/ruolo", {"role": "admin"}),
        (f"/admin/utenti/{user_id}/competenza", {"authorities": NAPOLI}),
        (f"/admin/utenti/{user_id}/disattiva", {}),
        (f"/admin/utenti/{user_id}/riattiva", {}),
        (f"/admin/utenti/{user_id}/codice-fiscale", {"fiscal_code": CF_LUCA}),
        (f"/admin/utenti/{user_id}/codice-fiscale/rimuovi", {}),
        (f"/admin/utenti/{user_id}/link", {"delivery": "page"}),
    ]


@pytest.fixture
def napoli(db, make_authority) -> Authority:
    authority = make_authority(istat_code=NAPOLI, name="Napoli", region_code="15")
    make_authority(istat_code="079023", name="Catanzaro", region_code="18")
    db.session.commit()
    return authority


@pytest.fixture
def admin_browser(web_app: Flask, make_user, napoli) -> tuple[User, FlaskClient]:  # noqa: ARG001
    admin = make_user(Role.ADMIN, email="capo@example.org")
    client = browser(web_app)
    assert login(client, admin.email).status_code == 302
    return admin, client


# Other roles and strangers on the Utenti pages ---------------------------------------------


@pytest.mark.parametrize("role", ["learner", "trainer", "hr"])
def test_a_crafted_admin_post_from_another_role_is_403_and_writes_nothing(
    web_app: Flask, make_user, napoli, role
):
    """An HR manager, trainer or learner with a valid CSRF token of their own session POSTs
    every Utenti change, on a victim and on themselves: only the role decides (403), and
    nothing is written (no account, no link, no audit entry, no change to either account)."""
    victim = make_user(Role.HR, scope=[napoli], email="vittima@example.org")
    victim.fiscal_code = CF_ANNA
    _db.session.commit()
    attacker = make_user(role, scope=[napoli] if role == "hr" else ())
    client = browser(web_app)
    assert login(client, attacker.email).status_code == 302
    before = (snapshot(victim.id), snapshot(attacker.id), count(User), count(PasswordToken))
    token = csrf_token(client, "/profilo/")
    for target in (victim.id, attacker.id):
        for url, data in change_urls(target):
            response = client.post(url, data={"csrf_token": token, **data})
            assert response.status_code == 403, url
    assert (snapshot(victim.id), snapshot(attacker.id), count(User), count(PasswordToken)) == (
        before
    )
    assert entries() == []


def test_a_stranger_s_crafted_admin_posts_write_nothing(web_app: Flask, make_user):
    """Without a session the POSTs are sent to sign in (302 to /login) and change nothing."""
    victim = make_user(Role.LEARNER)
    client = browser(web_app)
    token = csrf_token(client, "/login")
    before = (snapshot(victim.id), count(User), count(PasswordToken))
    for url, data in change_urls(victim.id):
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 302, url
        assert response.location.startswith("/login"), url
    assert (snapshot(victim.id), count(User), count(PasswordToken)) == before
    assert entries() == []


def test_get_on_every_post_only_url_is_405(admin_browser, make_user):
    """A link (GET) must never change anything: each POST-only URL refuses GET with 405
    (the deactivation's GET is its confirmation page, which changes nothing)."""
    admin, client = admin_browser
    victim = make_user(Role.TRAINER)
    before = snapshot(victim.id)
    for url, _data in change_urls(victim.id):
        if url.endswith(("/disattiva", "/nuovo")):
            continue  # their GET is a page (checked below: nothing changes)
        assert client.get(url).status_code == 405, url
    for url in ("/profilo/nome", "/profilo/sessioni/chiudi", "/logout"):
        assert client.get(url).status_code == 405, url
    assert client.get(f"/admin/utenti/{victim.id}/disattiva").status_code == 200
    assert snapshot(victim.id) == before
    assert fresh(admin.id).active
    assert entries() == []


def test_a_csrf_token_of_another_session_is_refused(web_app: Flask, admin_browser, make_user):
    """A token taken from the attacker's own (signed-in) browser is not valid in the admin's:
    each token is bound to its session's secret (400, nothing written)."""
    _admin, client = admin_browser
    victim = make_user(Role.TRAINER)
    attacker = make_user(Role.LEARNER)
    other = browser(web_app)
    login(other, attacker.email)
    foreign = csrf_token(other, "/profilo/")
    before = snapshot(victim.id)
    for url, data in change_urls(victim.id):
        response = client.post(url, data={"csrf_token": foreign, **data})
        assert response.status_code == 400, url
    for url, data in (
        ("/profilo/nome", {"first_name": "X", "last_name": "Y"}),
        ("/profilo/sessioni/chiudi", {}),
        ("/profilo/password", {"current": TEST_PASSWORD, "password": NEW_PASSWORD}),
        ("/logout", {}),
    ):
        response = client.post(url, data={"csrf_token": foreign, **data})
        assert response.status_code == 400, url
    assert snapshot(victim.id) == before
    assert signed_in(client)
    assert entries() == []


# The Flask session across a sign-in ---------------------------------------------------------


def test_a_sign_in_gives_a_new_csrf_secret(web_app: Flask, make_user):
    """Session fixation of the CSRF secret: an attacker who planted their anonymous session
    cookie (a sibling subdomain, a shared computer) knows its CSRF secret and can mint
    valid tokens from it. After the victim signs in, the tokens of the anonymous session
    must not work: a sign-in starts a new Flask session (the language choice is kept)."""
    user = make_user(Role.ADMIN)
    victim = browser(web_app)
    planted_token = csrf_token(victim, "/login")
    victim.post("/lingua", data={"csrf_token": planted_token, "lang": "en"})
    planted_token = csrf_token(victim, "/login")
    before = flask_session(web_app, victim)
    # The attacker keeps a copy of the planted cookie, and the token of its form.
    attacker = browser(web_app)
    attacker.set_cookie("lms_session", session_cookie(victim))
    assert (
        victim.post(
            "/login",
            data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": planted_token},
        ).status_code
        == 302
    )
    after = flask_session(web_app, victim)
    assert after.get("csrf_token") != before.get("csrf_token")
    assert after.get("lang") == "en"  # the visitor's own choice survives
    response = victim.post(
        "/admin/utenti/nuovo",
        data={"csrf_token": planted_token, "email": "intruso@example.org", "role": "admin"},
    )
    assert response.status_code == 400
    assert count(User) == 1
    assert not signed_in(attacker)  # the planted copy never becomes signed in


def test_signing_out_forgets_the_session_s_data(web_app: Flask, make_user):
    """On a shared computer, the next person must not inherit the previous one's CSRF secret
    (nor anything else kept in their Flask session) after "Esci"."""
    user = make_user(Role.TRAINER)
    client = browser(web_app)
    login(client, user.email)
    token = csrf_token(client, "/profilo/")
    secret = flask_session(web_app, client).get("csrf_token")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert secret
    assert flask_session(web_app, client).get("csrf_token") != secret
    assert not signed_in(client)


# Cookies: forged, old, tampered, remembered ----------------------------------------------------


def test_odd_cookie_ids_sign_nobody_in_and_never_500(web_app: Flask, make_user):
    """A session id with non-ASCII digits ("²" passes str.isdigit but not int()), a number
    past any integer column, a negative or empty part: nobody signed in, and no 500."""
    user = make_user(Role.ADMIN)
    own = open_session_cookie_id(user)
    _id, version, key = own.split(":")
    for forged in (
        f"²:{version}:{key}",
        f"{user.id}:²:{key}",
        f"{'9' * 30}:{version}:{key}",
        f"{user.id}:{'9' * 30}:{key}",
        f"-{user.id}:{version}:{key}",
        f"{user.id}:-{version}:{key}",
        f" {user.id}:{version}:{key}",
        f"{user.id}:{version}:{key}\u00a0",
        "::",
        "",
        "x" * 3000,
    ):
        client = browser(web_app)
        client.set_cookie("remember_token", encode_cookie(forged))
        response = client.get("/")
        assert response.status_code == 302, forged  # to the sign-in page
    client = browser(web_app)
    client.set_cookie("remember_token", encode_cookie(own))
    assert signed_in(client)  # the genuine one works: the test can fail


def test_a_remember_cookie_past_its_life_is_refused(web_app: Flask, make_user):
    """A "remember me" cookie carries no date of its own (Flask-Login signs it without one):
    a copy taken from a backup or an old disk must die once its session has been idle for
    longer than any cookie lives, as the sessions page (which no longer lists it) says."""
    user = make_user(Role.ADMIN)
    cookie_id = open_session_cookie_id(user)
    row = _db.session.scalar(
        select(UserSession).where(UserSession.key_hash == token_hash(cookie_id.split(":")[2]))
    )
    assert row is not None
    row.last_seen_at = utcnow() - timedelta(days=15)
    _db.session.commit()
    client = browser(web_app)
    client.set_cookie("remember_token", encode_cookie(cookie_id))
    assert not signed_in(client)
    # Just within its life, it works (so the test can fail).
    row = _db.session.get(UserSession, row.id)
    row.last_seen_at = utcnow() - timedelta(days=13)
    _db.session.commit()
    client = browser(web_app)
    client.set_cookie("remember_token", encode_cookie(cookie_id))
    assert signed_in(client)


def test_signing_out_clears_the_remember_cookie_and_ends_its_session(web_app: Flask, make_user):
    """Signed in by a "remember me" cookie, "Esci" must delete that cookie and end its
    session: a copy of the cookie kept by an attacker opens nothing afterwards."""
    user = make_user(Role.TRAINER)
    client = browser(web_app)
    login(client, user.email)
    # The browser also holds a "remember me" cookie of the same session.
    value = encode_cookie(str(flask_session(web_app, client)["_user_id"]))
    client.set_cookie("remember_token", value)
    assert signed_in(client)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/profilo/")})
    assert response.status_code == 302
    assert any(
        header.startswith("remember_token=;") for header in response.headers.getlist("Set-Cookie")
    )
    assert client.get_cookie("remember_token") is None
    assert open_rows(user) == []
    copy = browser(web_app)
    copy.set_cookie("remember_token", value)
    assert not signed_in(copy)


def test_a_reactivation_does_not_revive_old_cookies(web_app: Flask, admin_browser, make_user):
    """A careless admin deactivates then reactivates an account whose laptop was stolen:
    the cookies issued before the deactivation stay dead (the person signs in anew)."""
    _admin, client = admin_browser
    victim = make_user(Role.TRAINER)
    stolen = browser(web_app)
    login(stolen, victim.email)
    remembered = encode_cookie(open_session_cookie_id(victim))
    token = admin_token(client)
    assert (
        client.post(f"/admin/utenti/{victim.id}/disattiva", data={"csrf_token": token}).status_code
        == 302
    )
    assert (
        client.post(f"/admin/utenti/{victim.id}/riattiva", data={"csrf_token": token}).status_code
        == 302
    )
    assert fresh(victim.id).active
    assert not signed_in(stolen)
    copy = browser(web_app)
    copy.set_cookie("remember_token", remembered)
    assert not signed_in(copy)


def test_a_deactivated_admin_s_open_session_can_change_nothing(
    web_app: Flask, admin_browser, make_user
):
    """Admin B is deactivated by admin A while B's browser is open: B's next crafted POSTs
    (with the token B's page gave before) are sent to sign in, and write nothing."""
    _admin, client = admin_browser
    other_admin = make_user(Role.ADMIN, email="secondo@example.org")
    b = browser(web_app)
    login(b, other_admin.email)
    b_token = admin_token(b)
    victim = make_user(Role.TRAINER)
    assert (
        client.post(
            f"/admin/utenti/{other_admin.id}/disattiva", data={"csrf_token": admin_token(client)}
        ).status_code
        == 302
    )
    before = (snapshot(victim.id), count(User), len(entries()))
    for url, data in change_urls(victim.id):
        response = b.post(url, data={"csrf_token": b_token, **data})
        assert response.status_code in {302, 400}, url
        assert "/admin/utenti" not in (response.location or ""), url
    assert (snapshot(victim.id), count(User), len(entries())) == before


def test_a_leaver_s_remember_cookie_and_open_session_are_refused(web_app: Flask, make_user, napoli):
    """A staff member whose leaving day has come is out, by session cookie or by "remember
    me" cookie alike, even with their session still open on the server."""
    leaver = make_user(Role.LEARNER, email="uscente@example.org")
    member = staff_for(leaver, napoli, CF_MARIO, leaver.email)
    client = browser(web_app)
    login(client, leaver.email)
    remembered = encode_cookie(open_session_cookie_id(leaver))
    member = _db.session.merge(member)
    member.left_on = today_in_italy() - timedelta(days=1)
    _db.session.commit()
    assert not signed_in(client)
    copy = browser(web_app)
    copy.set_cookie("remember_token", remembered)
    assert not signed_in(copy)
    assert copy.post(
        "/profilo/password", data={"current": TEST_PASSWORD, "password": NEW_PASSWORD}
    ).status_code in {302, 400}
    assert fresh(leaver.id).password_hash is not None
    assert count(PasswordToken) == 0


def test_a_password_set_with_a_link_ends_every_open_session(web_app: Flask, make_user):
    """Someone who suspects a stolen session asks for a new link (or an admin issues one):
    choosing the password with /password/<token> must end every open session, the
    browser that used the link included (it was not signed in by it)."""
    user = make_user(Role.TRAINER)
    one, two = browser(web_app), browser(web_app)
    login(one, user.email)
    login(two, user.email)
    remembered = encode_cookie(open_session_cookie_id(user))
    token = issue_password_token(user, hours=24)
    _db.session.commit()
    third = browser(web_app)
    form = csrf_token(third, f"/password/{token}")
    response = third.post(
        f"/password/{token}",
        data={"csrf_token": form, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert not signed_in(one)
    assert not signed_in(two)
    copy = browser(web_app)
    copy.set_cookie("remember_token", remembered)
    assert not signed_in(copy)
    assert third.get(f"/password/{token}").status_code == 404  # used up


# The session-ending form ---------------------------------------------------------------------


def test_the_session_id_field_takes_no_odd_value(web_app: Flask, make_user):
    """Crafted session_id values: another account's session, this session, an ended one, a
    negative number, "²" (str.isdigit but not int), a number past any integer column,
    two ids at once. Each is a 404 (or ends nothing), never a 500, and no other account's
    session ends."""
    me = make_user(Role.TRAINER)
    victim = make_user(Role.ADMIN)
    client = browser(web_app)
    login(client, me.email)
    theirs = browser(web_app)
    login(theirs, victim.email)
    (their_row,) = open_rows(victim)
    (my_row,) = open_rows(me)
    ended = UserSession(
        user_id=me.id,
        key_hash="0" * 64,
        method=SignInMethod.PASSWORD,
        user_version=1,
        ended_at=utcnow(),
    )
    _db.session.add(ended)
    _db.session.commit()
    token = csrf_token(client, "/profilo/sessioni")
    for value in (
        str(their_row.id),
        str(my_row.id),
        str(ended.id),
        "-1",
        "²",
        "9" * 30,
        "1e3",
        " ",
        "٣",
        f"{their_row.id}.0",
    ):
        response = client.post(
            "/profilo/sessioni/chiudi", data={"csrf_token": token, "session_id": value}
        )
        assert response.status_code in {302, 400, 404}, value
        assert len(open_rows(victim)) == 1, value
        assert signed_in(client), value
    # Two values: the first is taken, the victim's row is untouched either way.
    response = client.post(
        "/profilo/sessioni/chiudi",
        data={"csrf_token": token, "session_id": [str(their_row.id), str(my_row.id)]},
    )
    assert response.status_code in {302, 404}
    assert len(open_rows(victim)) == 1
    assert signed_in(theirs)


# Mass assignment, redirects -------------------------------------------------------------------


def test_extra_fields_on_the_name_form_change_only_the_name(web_app: Flask, make_user):
    """A learner adds role=admin, email, active, fiscal_code, user_id (another account) to
    the name form: only their own name changes."""
    me = make_user(Role.LEARNER, email="io@example.org")
    other = make_user(Role.LEARNER, email="altro@example.org")
    client = browser(web_app)
    login(client, me.email)
    before_other = snapshot(other.id)
    response = client.post(
        "/profilo/nome",
        data={
            "csrf_token": csrf_token(client, "/profilo/"),
            "first_name": "Nuovo",
            "last_name": "Nome",
            "role": "admin",
            "email": "capo@example.org",
            "active": "0",
            "fiscal_code": CF_LUCA,
            "session_version": "1",
            "user_id": str(other.id),
            "id": str(other.id),
        },
    )
    assert response.status_code == 302
    user = fresh(me.id)
    assert (user.first_name, user.last_name) == ("Nuovo", "Nome")
    assert (user.role, user.email, user.active, user.fiscal_code) == (
        Role.LEARNER,
        "io@example.org",
        True,
        None,
    )
    assert snapshot(other.id) == before_other


def test_a_staff_member_cannot_rename_themselves_with_a_crafted_post(
    web_app: Flask, make_user, napoli
):
    """The name of a staff member is their HR office's: a crafted POST is 403, no change."""
    me = make_user(Role.LEARNER, email="dip@example.org")
    staff_for(me, napoli, CF_MARIO, me.email)
    client = browser(web_app)
    login(client, me.email)
    response = client.post(
        "/profilo/nome",
        data={"csrf_token": csrf_token(client, "/profilo/"), "first_name": "A", "last_name": "B"},
    )
    assert response.status_code == 403
    assert (fresh(me.id).first_name, fresh(me.id).last_name) == ("Maria", "Rossi")


def test_a_next_parameter_on_the_new_forms_redirects_nowhere_else(admin_browser, make_user):
    """?next=//evil.example on the profile, sessions, logout and Utenti forms: each
    redirect stays on this site."""
    _admin, client = admin_browser
    victim = make_user(Role.TRAINER)
    token = admin_token(client)
    evil = "?next=//evil.example/&next_url=https://evil.example/"
    for url, data in (
        ("/profilo/nome", {"first_name": "A", "last_name": "B"}),
        ("/profilo/sessioni/chiudi", {}),
        (f"/admin/utenti/{victim.id}/ruolo", {"role": "trainer"}),
        (f"/admin/utenti/{victim.id}/riattiva", {}),
        (f"/admin/utenti/{victim.id}/codice-fiscale/rimuovi", {}),
        (f"/admin/utenti/{victim.id}/disattiva", {}),
        ("/logout", {}),
    ):
        response = client.post(
            url + evil, data={"csrf_token": token, "next": "//evil.example/", **data}
        )
        assert response.status_code == 302, url
        assert response.location.startswith("/"), url
        assert not response.location.startswith("//"), url
        assert "evil" not in response.location, url


# The Utenti pages: odd input -------------------------------------------------------------------


def test_odd_account_ids_in_urls_are_404_not_500(admin_browser):
    """/admin/utenti/abc, a number past any integer column, negative, unicode digits: 404,
    for the pages and for every POST."""
    _admin, client = admin_browser
    token = admin_token(client)
    for ident in ("abc", "9" * 20, "9" * 40, "-1", "0", "²", "١٢", "1.5", "%20"):
        assert client.get(f"/admin/utenti/{ident}").status_code == 404, ident
        assert client.get(f"/admin/utenti/{ident}/disattiva").status_code == 404, ident
        for action in ("ruolo", "competenza", "disattiva", "riattiva", "codice-fiscale", "link"):
            response = client.post(f"/admin/utenti/{ident}/{action}", data={"csrf_token": token})
            assert response.status_code == 404, (ident, action)
    assert entries() == []


def test_odd_list_parameters_are_4xx_not_500(admin_browser):
    """Huge, unicode and markup values in the list's search, role and page."""
    _admin, client = admin_browser
    for query in (
        "?q=" + "ä" * 10_000,
        "?q=%F0%9F%98%80%25_%5C",
        "?role=" + "x" * 10_000,
        "?role=%3Cscript%3E",
        "?page=abc",
        "?page=-1",
        "?page=" + "9" * 40,
        "?per_page=" + "9" * 40,
    ):
        response = client.get("/admin/utenti" + query)
        assert response.status_code in {200, 400, 404}, query
        assert "<script>" not in response.get_data(as_text=True), query


@pytest.mark.parametrize(
    "code",
    [
        "RSSMRA80A01F839",  # 15 characters
        "RSSMRA80A01F839WX",
        "RSSMRA80 A01F839W",
        "RSSMRA80A01F839X",  # wrong check character
        "X" * 32,
        "ＲＳＳＭＲＡ８０Ａ０１Ｆ８３９Ｗ",  # full-width: looks right, is not
        "RSSMRA80A01F839W\u200b",  # a zero-width space
        "<script>alert(1)</script>",
        "' OR 1=1 --",
    ],
)
def test_a_malformed_codice_fiscale_is_refused_with_400(admin_browser, make_user, code):
    """Malformed codici fiscali, with look-alike characters or markup, are refused with the
    import's message on the field (400), nothing bound, nothing audited."""
    _admin, client = admin_browser
    target = make_user(Role.TRAINER)
    response = client.post(
        f"/admin/utenti/{target.id}/codice-fiscale",
        data={"csrf_token": admin_token(client), "fiscal_code": code},
    )
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert fresh(target.id).fiscal_code is None
    assert entries() == []


def test_a_very_long_codice_fiscale_is_a_400(admin_browser, make_user):
    """100,000 characters in the codice fiscale field: a 400 from the form, no 500."""
    _admin, client = admin_browser
    target = make_user(Role.TRAINER)
    response = client.post(
        f"/admin/utenti/{target.id}/codice-fiscale",
        data={"csrf_token": admin_token(client), "fiscal_code": "A" * 100_000},
    )
    assert response.status_code == 400
    assert fresh(target.id).fiscal_code is None


def test_a_nul_byte_anywhere_in_an_admin_form_is_a_400(admin_browser, make_user):
    """NUL bytes in each field (PostgreSQL refuses them in text): 400, nothing written."""
    _admin, client = admin_browser
    target = make_user(Role.TRAINER)
    token = admin_token(client)
    for url, data in (
        (f"/admin/utenti/{target.id}/codice-fiscale", {"fiscal_code": CF_LUCA + "\x00"}),
        ("/admin/utenti/nuovo", {"email": "a@example.org", "first_name": "A\x00", "role": "hr"}),
        (f"/admin/utenti/{target.id}/ruolo", {"role": "hr", "authorities": "063049\x00"}),
        ("/profilo/nome", {"first_name": "A\x00", "last_name": "B"}),
    ):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 400, url
    assert fresh(target.id).fiscal_code is None
    assert count(User) == 2
    assert entries() == []


def test_a_lower_case_codice_fiscale_is_stored_upper_case_and_matches_the_other(
    admin_browser, make_user
):
    """The same code typed in lower case (or with surrounding spaces, or 'ſ' that upper-cases
    to 'S') is the same code: bound upper case, and refused on a second account."""
    _admin, client = admin_browser
    first, second = make_user(Role.TRAINER), make_user(Role.HR)
    token = admin_token(client)
    response = client.post(
        f"/admin/utenti/{first.id}/codice-fiscale",
        data={"csrf_token": token, "fiscal_code": "  " + CF_LUCA.lower() + " "},
    )
    assert response.status_code == 302
    assert fresh(first.id).fiscal_code == CF_LUCA
    for variant in (CF_LUCA.lower(), CF_LUCA):
        response = client.post(
            f"/admin/utenti/{second.id}/codice-fiscale",
            data={"csrf_token": token, "fiscal_code": variant},
        )
        assert response.status_code == 400
    assert fresh(second.id).fiscal_code is None


def test_binding_a_staff_member_s_codice_fiscale_needs_the_explicit_confirmation(
    admin_browser, make_user, napoli
):
    """A malicious admin binds a Napoli learner's codice fiscale to their own trainer account
    to take over that person's SPID sign-in: refused without the confirmation box (400);
    with it, the entry names the staff record and its account and is in Napoli's area,
    so Napoli's HR manager sees it."""
    admin, client = admin_browser
    learner = make_user(Role.LEARNER, email="discente@example.org")
    member = staff_for(learner, napoli, CF_MARIO, learner.email)
    token = admin_token(client)
    response = client.post(
        f"/admin/utenti/{admin.id}/codice-fiscale",
        data={"csrf_token": token, "fiscal_code": CF_MARIO.lower()},
    )
    assert response.status_code == 400
    assert fresh(admin.id).fiscal_code is None
    assert entries() == []
    response = client.post(
        f"/admin/utenti/{admin.id}/codice-fiscale",
        data={"csrf_token": token, "fiscal_code": CF_MARIO, "over_staff_account": "y"},
    )
    assert response.status_code == 302
    assert fresh(admin.id).fiscal_code == CF_MARIO
    (entry,) = entries(Action.USER_FISCAL_CODE)
    assert entry.actor_id == admin.id
    assert {("staff", member.id), ("user", learner.id), ("authority", napoli.id)} <= objects(entry)


def test_the_same_codice_fiscale_twice_at_once_ends_as_one_binding(
    web_app: Flask, admin_browser, make_user
):
    """Two admins bind one codice fiscale to two accounts at once. The second finds the
    first already committed (its check) or meets the unique index (its flush): a 400,
    never a 500, and the code is bound to one account only."""
    _admin, client = admin_browser
    first, second = make_user(Role.TRAINER), make_user(Role.TRAINER)
    # The other admin's binding lands between this request's check and its flush: simulated
    # by binding it from another connection as the check runs.
    from lms.auth import operations  # noqa: PLC0415 - patched for this test only

    real_staff_of = operations._staff_of
    done = []

    def staff_of_then_race(user_id: int):
        if not done:
            done.append(True)
            with web_app.app_context():
                other = _db.session.get(User, first.id)
                assert other is not None
                other.fiscal_code = CF_LUCA
                _db.session.commit()
        return real_staff_of(user_id)

    operations._staff_of = staff_of_then_race  # type: ignore[assignment]
    try:
        response = client.post(
            f"/admin/utenti/{second.id}/codice-fiscale",
            data={"csrf_token": admin_token(client), "fiscal_code": CF_LUCA},
        )
    finally:
        operations._staff_of = real_staff_of  # type: ignore[assignment]
    assert done
    assert response.status_code == 400
    assert "già associato" in html.unescape(response.get_data(as_text=True))
    assert fresh(first.id).fiscal_code == CF_LUCA
    assert fresh(second.id).fiscal_code is None


# The admin's lock-out rules through crafted POSTs ---------------------------------------------


def test_an_admin_cannot_demote_or_deactivate_themselves_with_crafted_posts(admin_browser):
    """The page hides the deactivation of one's own account, but a crafted POST reaches the
    view: every role other than admin, spelled in any case, and the deactivation are
    refused (400), and the admin stays signed in."""
    admin, client = admin_browser
    token = admin_token(client)
    for role in ("learner", "TRAINER", " hr ", "Learner"):
        response = client.post(
            f"/admin/utenti/{admin.id}/ruolo",
            data={"csrf_token": token, "role": role, "authorities": NAPOLI},
        )
        assert response.status_code == 400, role
    assert (
        client.post(f"/admin/utenti/{admin.id}/disattiva", data={"csrf_token": token}).status_code
        == 400
    )
    user = fresh(admin.id)
    assert (user.role, user.active) == (Role.ADMIN, True)
    assert signed_in(client)
    assert entries() == []


def test_the_last_admin_stays_when_the_other_is_deactivated(admin_browser, make_user):
    """With a second, deactivated admin, the first is still the last active one: an
    inactive admin does not count, so demoting the active one is still refused."""
    admin, client = admin_browser
    make_user(Role.ADMIN, active=False)
    other = make_user(Role.ADMIN)
    token = admin_token(client)
    # Demoting the other active admin is allowed; then admin is the last one.
    assert (
        client.post(
            f"/admin/utenti/{other.id}/ruolo", data={"csrf_token": token, "role": "trainer"}
        ).status_code
        == 302
    )
    assert fresh(other.id).role is Role.TRAINER
    assert (
        client.post(f"/admin/utenti/{admin.id}/disattiva", data={"csrf_token": token}).status_code
        == 400
    )
    assert fresh(admin.id).active


# Markup in names on the new pages --------------------------------------------------------------


def test_markup_in_names_is_escaped_on_every_new_page(web_app: Flask, admin_browser, make_user):
    """A name (or a browser's User-Agent) holding markup is shown as text on the Utenti list,
    the account page, its deactivation page, its link page, the profile and the sessions
    page: no script tag, no attribute broken out of."""
    _admin, client = admin_browser
    victim = make_user(Role.TRAINER, first_name=XSS, last_name=XSS, email="x@example.org")
    token = admin_token(client)
    pages = [
        client.get("/admin/utenti"),
        client.get("/admin/utenti?q=script"),
        client.get(f"/admin/utenti/{victim.id}"),
        client.get(f"/admin/utenti/{victim.id}/disattiva"),
        client.post(
            f"/admin/utenti/{victim.id}/link", data={"csrf_token": token, "delivery": "page"}
        ),
        client.post(
            f"/admin/utenti/{victim.id}/codice-fiscale",
            data={"csrf_token": token, "fiscal_code": XSS[:32]},
        ),
    ]
    own = browser(web_app)
    own.environ_base["HTTP_USER_AGENT"] = XSS + " Firefox/1 <b onmouseover=alert(3)>"
    login(own, victim.email)
    pages += [own.get("/profilo/"), own.get("/profilo/sessioni"), own.get("/profilo/password")]
    for page in pages:
        body = page.get_data(as_text=True)
        assert page.status_code in {200, 400}, page.request.path
        assert "<script>alert(1)</script>" not in body, page.request.path
        assert "<img src=x" not in body, page.request.path
        assert "<b onmouseover" not in body, page.request.path
        assert '"><script' not in body, page.request.path


# Personal data in logs and in the audit log ----------------------------------------------------


def test_no_e_mail_codice_fiscale_password_token_or_session_key_in_the_logs(
    web_app: Flask, admin_browser, caplog
):
    """Through every admin action and the self-service ones, the log records never carry an
    e-mail address, a codice fiscale, a password, a set-password token or a session key;
    the audit entries' payloads carry none either."""
    admin, client = admin_browser
    with caplog.at_level(logging.DEBUG):
        token = admin_token(client)
        created = client.post(
            "/admin/utenti/nuovo",
            data={
                "csrf_token": token,
                "email": "segreta.persona@example.org",
                "first_name": "Segreta",
                "last_name": "Persona",
                "role": "trainer",
            },
        )
        assert created.status_code == 200
        link = re.search(r"/password/([\w-]+)", created.get_data(as_text=True))
        assert link is not None
        user = _db.session.scalar(select(User).where(User.email == "segreta.persona@example.org"))
        assert user is not None
        base = f"/admin/utenti/{user.id}"
        client.post(f"{base}/codice-fiscale", data={"csrf_token": token, "fiscal_code": CF_ANNA})
        client.post(
            f"{base}/ruolo", data={"csrf_token": token, "role": "hr", "authorities": NAPOLI}
        )
        client.post(f"{base}/competenza", data={"csrf_token": token, "regions": "15"})
        client.post(f"{base}/codice-fiscale/rimuovi", data={"csrf_token": token})
        client.post(f"{base}/disattiva", data={"csrf_token": token})
        client.post(f"{base}/riattiva", data={"csrf_token": token})
        again = client.post(f"{base}/link", data={"csrf_token": token, "delivery": "page"})
        second = re.search(r"/password/([\w-]+)", again.get_data(as_text=True))
        assert second is not None
        other = browser(web_app)
        form = csrf_token(other, f"/password/{second.group(1)}")
        other.post(
            f"/password/{second.group(1)}",
            data={"csrf_token": form, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        login(other, "segreta.persona@example.org", NEW_PASSWORD)
        other.post(
            "/profilo/password",
            data={
                "csrf_token": csrf_token(other, "/profilo/password"),
                "current": NEW_PASSWORD,
                "password": NEW_PASSWORD + "x",
                "confirm": NEW_PASSWORD + "x",
            },
        )
        other.post("/profilo/sessioni/chiudi", data={"csrf_token": csrf_token(other, "/profilo/")})
        login(browser(web_app), "segreta.persona@example.org", "Sbagliata-123")
    keys = [r.key_hash for r in _db.session.scalars(select(UserSession))]
    secrets_ = [
        "segreta.persona",
        "capo@example.org",
        CF_ANNA,
        CF_ANNA.lower(),
        NEW_PASSWORD,
        TEST_PASSWORD,
        "Sbagliata-123",
        link.group(1),
        second.group(1),
        *keys,
    ]
    cookie = other.get_cookie("lms_session")
    assert cookie is not None
    for record in caplog.records:
        message = record.getMessage()
        for secret in secrets_:
            assert secret not in message, (secret, message)
    for entry in entries():
        payload = repr((entry.summary, entry.via))
        for secret in secrets_:
            assert secret not in payload, (entry.action, secret)
    assert {e.action for e in entries()} >= {
        Action.USER_CREATE,
        Action.USER_FISCAL_CODE,
        Action.USER_ROLE,
        Action.USER_SCOPE,
        Action.USER_DEACTIVATE,
        Action.USER_REACTIVATE,
        Action.LINKS_ISSUE,
        Action.USER_PASSWORD,
    }
    assert admin.id in {e.actor_id for e in entries()}


def test_every_admin_change_is_audited_once_with_its_actor(admin_browser, make_user):
    """Every change an admin makes on the Utenti pages leaves exactly one entry (two for a
    role change that brings a scope), with the admin as actor and the account as object."""
    admin, client = admin_browser
    target = make_user(Role.TRAINER)
    token = admin_token(client)
    base = f"/admin/utenti/{target.id}"
    steps = [
        (f"{base}/codice-fiscale", {"fiscal_code": CF_LUCA}, {Action.USER_FISCAL_CODE}),
        (
            f"{base}/ruolo",
            {"role": "hr", "authorities": NAPOLI},
            {Action.USER_ROLE, Action.USER_SCOPE},
        ),
        (f"{base}/competenza", {"regions": "15"}, {Action.USER_SCOPE}),
        (f"{base}/codice-fiscale/rimuovi", {}, {Action.USER_FISCAL_CODE}),
        (f"{base}/link", {"delivery": "page"}, {Action.LINKS_ISSUE}),
        (f"{base}/disattiva", {}, {Action.USER_DEACTIVATE}),
        (f"{base}/riattiva", {}, {Action.USER_REACTIVATE}),
    ]
    seen = 0
    for url, data, actions in steps:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code in {200, 302}, url
        new = entries()[seen:]
        seen += len(new)
        assert {e.action for e in new} == actions, url
        assert len(new) == len(actions), url
        assert {e.actor_id for e in new} == {admin.id}, url
    # Doing nothing (the same again) writes nothing.
    for url, data in (
        (f"{base}/competenza", {"regions": "15"}),
        (f"{base}/codice-fiscale/rimuovi", {}),
        (f"{base}/riattiva", {}),
    ):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 302
    assert len(entries()) == seen


# Caching -----------------------------------------------------------------------------------


def test_pages_with_a_link_or_personal_data_are_never_cached(
    web_app: Flask, admin_browser, make_user
):
    """The admin's link page (created account or new link), and the set-password page a link
    opens (it names the account's e-mail, to whoever is at that browser), must carry
    Cache-Control: no-store: neither the back button nor a shared cache keeps them."""
    _admin, client = admin_browser
    target = make_user(Role.TRAINER, email="da.non.tenere@example.org")
    token = admin_token(client)
    issued = client.post(
        f"/admin/utenti/{target.id}/link", data={"csrf_token": token, "delivery": "page"}
    )
    assert issued.status_code == 200
    assert "no-store" in issued.headers.get("Cache-Control", "")
    created = client.post(
        "/admin/utenti/nuovo",
        data={"csrf_token": token, "email": "nuova@example.org", "role": "learner"},
    )
    assert "no-store" in created.headers.get("Cache-Control", "")
    link = re.search(r"/password/[\w-]+", issued.get_data(as_text=True))
    assert link is not None
    anonymous = browser(web_app)
    page = anonymous.get(link.group(0))
    assert page.status_code == 200
    assert "da.non.tenere@example.org" in page.get_data(as_text=True)
    assert "no-store" in page.headers.get("Cache-Control", "")


# Guessing the current password ----------------------------------------------------------------


def test_the_password_change_is_no_password_oracle_across_addresses(new_app, make_user):
    """With a stolen session, the password change page answers whether a guess of the current
    password is right. Sign-in counts failures per account; here, an attacker who changes
    address after every 10 guesses must be throttled too: the limit is per account as well."""
    from lms.extensions import limiter  # noqa: PLC0415 - its counters are reset around the test

    app = new_app(RATELIMIT_ENABLED=True)
    limiter.reset()
    try:
        user = make_user(Role.TRAINER)
        statuses = []
        for n in range(12):
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"127.0.0.{n + 2}"
            login(client, user.email)
            response = client.post(
                "/profilo/password",
                data={
                    "csrf_token": csrf_token(client, "/profilo/password"),
                    "current": f"Tentativo-{n}",
                    "password": NEW_PASSWORD,
                    "confirm": NEW_PASSWORD,
                },
            )
            statuses.append(response.status_code)
        assert statuses[:10] == [400] * 10
        assert statuses[10:] == [429, 429]
        # Another account is not throttled by it.
        other = make_user(Role.TRAINER)
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.0.99"
        login(client, other.email)
        response = client.post(
            "/profilo/password",
            data={
                "csrf_token": csrf_token(client, "/profilo/password"),
                "current": "Tentativo-x",
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
            },
        )
        assert response.status_code == 400
    finally:
        limiter.reset()
