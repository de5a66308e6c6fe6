"""Signed-in sessions, kept on the server.

Flask's session cookie is signed, not stored: on its own, a copy of it stays
valid until it expires and nobody can list or end one browser's session. So
each sign-in makes a :class:`~lms.auth.models.UserSession` row, and the cookie
(and the "remember me" cookie) carries ``<account>:<session version>:<key>``
where only the key's SHA-256 is stored. A request is signed in only while its
row is open and has not been idle for longer than any cookie lives, the account
active and the version current:

- signing out ends this session only (its copies in other browsers die with it);
- "sign out of the other sessions" ends every other row of the account;
- a SPID or CIE single logout finds the session by the identity provider's
  NameID and SessionIndex;
- a password change or a deactivation bumps the version, which ends them all.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import Date, Integer, Select, String, and_, bindparam, select, update

from lms.auth.models import SESSION_KEY_ATTRIBUTE as _G_KEY
from lms.auth.models import SignInMethod, User, UserSession
from lms.auth.operations import token_hash
from lms.core.sql import parse_row_id
from lms.core.types import utcnow
from lms.extensions import db
from lms.register.models import StaffMember

__all__ = [
    "SamlLink",
    "SignInMethod",
    "current_session",
    "end_current_session",
    "end_other_sessions",
    "end_saml_sessions",
    "end_session",
    "load_session",
    "open_sessions",
    "parse_row_id",
    "staff_id_of",
    "start_session",
]

#: How often a session's "last seen" is written: at most once in this long, not
#: on every request.
SEEN_EVERY = timedelta(minutes=5)
#: Where the signed-in request's session row is kept for the request.
_G_SESSION = "lms_user_session"
#: Where the signed-in person's (account id, staff record id) is kept for the request.
_G_STAFF = "lms_staff_id"
#: What a browser's Flask session keeps across a sign-in and a sign-out: the visitor's
#: own choice of language (lms.core.views). Everything else starts anew.
_KEPT_ACROSS_SIGN_IN = ("lang",)


@dataclass(frozen=True)
class SamlLink:
    """What single logout needs to find a SPID or CIE session again."""

    idp_entity_id: str
    name_id: str
    name_id_format: str
    session_index: str | None


def start_session(
    user: User,
    *,
    method: SignInMethod,
    saml: SamlLink | None = None,
    remember: bool = False,
) -> UserSession:
    """Record a new session for *user* and sign them in on this browser."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        user=user,
        key_hash=token_hash(key),
        method=method,
        user_version=user.session_version,
        created_at=now,
        last_seen_at=now,
        user_agent=(request.user_agent.string or "")[:200],
    )
    if saml is not None:
        row.saml_idp = saml.idp_entity_id
        row.saml_name_id = saml.name_id
        row.saml_name_id_format = saml.name_id_format
        row.saml_session_index = saml.session_index
    db.session.add(row)
    db.session.flush()
    user.last_login_at = now
    setattr(g, _G_SESSION, row)
    setattr(g, _G_KEY, key)
    _renew_flask_session()
    login_user(user, remember=remember)
    return row


def _renew_flask_session() -> None:
    """Empty the browser's Flask session but for the language: a new CSRF secret above all.

    Whoever planted an anonymous session cookie in this browser (a sibling subdomain, a
    shared computer) knows its CSRF secret and could mint valid tokens with it; the next
    person at a shared computer must not inherit the previous one's either.
    """
    kept = {name: session[name] for name in _KEPT_ACROSS_SIGN_IN if name in session}
    session.clear()
    session.update(kept)
    # Flask-WTF keeps this request's token in g too: forget it with its secret.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def load_session(session_cookie_id: str, today: date) -> tuple[User, date | None] | None:
    """The account a cookie names and, if its staff record has left by *today*, that day.

    One query (account, staff record and session row): it runs on every request
    of a signed-in person. The staff record's id is kept for the request
    (:func:`staff_id_of`). None when the cookie names no open session of an
    active account at its current version.
    """
    raw_id, raw_version, key = [*session_cookie_id.split(":"), "", ""][:3]
    user_id, version = parse_row_id(raw_id), parse_row_id(raw_version)
    if user_id is None or version is None or not key:
        return None
    now = utcnow()
    row = db.session.execute(
        _session_statement(),
        {
            "session_user": user_id,
            "session_version": version,
            "session_key_hash": token_hash(key),
            # Idle for longer than any cookie lives: a copy of a "remember me" cookie
            # (which carries no date of its own) must not bring it back.
            "session_seen_after": now - _longest_life(),
            "session_today": today,
        },
    ).first()
    if row is None:
        return None
    user, user_session, staff_id, left_on, has_left = row
    if not user.active:
        return None
    if now - user_session.last_seen_at >= SEEN_EVERY:
        user_session.last_seen_at = now
    setattr(g, _G_SESSION, user_session)
    setattr(g, _G_KEY, key)
    setattr(g, _G_STAFF, (user.id, staff_id))
    return user, left_on if has_left else None


def staff_id_of(user: User) -> int | None:
    """The id of *user*'s staff record (None: they have none), read once a request.

    The signed-in person's was read with their session (:func:`load_session`): no
    statement for them; anyone else's is one query.
    """
    known: tuple[int, int | None] | None = g.get(_G_STAFF) if has_request_context() else None
    if known is not None and known[0] == user.id:
        return known[1]
    return db.session.scalar(select(StaffMember.id).where(StaffMember.user_id == user.id))


@cache
def _session_statement() -> Select[User, UserSession, int, date | None, bool]:
    """:func:`load_session`'s statement, built once (every signed-in request runs it)."""
    # The hybrid's SQL side compares with whatever it is given: here a bound parameter
    # (its Python side, which mypy reads, takes a date).
    today: Any = bindparam("session_today", type_=Date)
    return (
        select(User, UserSession, StaffMember.id, StaffMember.left_on, StaffMember.has_left(today))
        .join(
            UserSession,
            and_(
                UserSession.user_id == User.id,
                UserSession.key_hash == bindparam("session_key_hash", type_=String),
                UserSession.user_version == User.session_version,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at
                > bindparam("session_seen_after", type_=UserSession.last_seen_at.type),
            ),
        )
        .outerjoin(StaffMember, StaffMember.user_id == User.id)
        .where(
            User.id == bindparam("session_user", type_=Integer),
            User.session_version == bindparam("session_version", type_=Integer),
        )
    )


def current_session() -> UserSession | None:
    """The signed-in request's session row."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    row: UserSession | None = g.get(_G_SESSION)
    return row


def end_session(row: UserSession) -> None:
    """End one session: its cookies stop working at their next request."""
    if row.ended_at is None:
        row.ended_at = utcnow()


def end_current_session() -> UserSession | None:
    """Sign out this browser: end its session and clear its cookies. Returns the ended row."""
    row = current_session()
    if row is not None:
        end_session(row)
    _renew_flask_session()  # first: logout_user marks the "remember me" cookie for deletion
    logout_user()
    g.pop(_G_SESSION, None)
    g.pop(_G_KEY, None)
    return row


def open_sessions(user: User) -> Sequence[UserSession]:
    """*user*'s sessions that still work, the most recently seen first.

    A session whose cookies have expired ("remember me" included) is left out:
    it cannot be used again.
    """
    return db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            # Opened before the account's last version bump: ended with it.
            UserSession.user_version == user.session_version,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > utcnow() - _longest_life(),
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()


def end_other_sessions(user: User, keep: UserSession | None) -> int:
    """End every open session of *user* but *keep*; the number ended."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    result = db.session.execute(query.values(ended_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def end_saml_sessions(idp_entity_id: str, name_id: str, session_index: str | None) -> int:
    """End the sessions an identity provider's logout request names; the number ended.

    With a SessionIndex only that session ends; without one, every session of
    that NameID at that identity provider (SAML 2 core, 3.7.3.2).
    """
    query = update(UserSession).where(
        UserSession.saml_idp == idp_entity_id,
        UserSession.saml_name_id == name_id,
        UserSession.ended_at.is_(None),
    )
    if session_index:
        query = query.where(UserSession.saml_session_index == session_index)
    result = db.session.execute(query.values(ended_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def _longest_life() -> timedelta:
    config = current_app.config
    lifetimes: list[timedelta] = [
        config["PERMANENT_SESSION_LIFETIME"],
        config.get("REMEMBER_COOKIE_DURATION") or timedelta(0),
    ]
    return max(lifetimes)


def describe_browser(user_agent: str) -> str:
    """A short name for a browser from its User-Agent ("Firefox · Linux"), or the raw text.

    Written here rather than with a User-Agent database (ua-parser): it only
    labels a row its owner reads, and a dozen tokens name every browser our
    users have; a wrong guess shows the raw text, never hides a session.
    """
    ua = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "",
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("iPad", "iPadOS"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    return " · ".join(part for part in (browser, system) if part) or ua[:60]
