"""Accounts, roles, HR scopes and one-time password links."""

from __future__ import annotations

import enum
from datetime import datetime

from flask import g, has_request_context
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from lms.core.search import name_key
from lms.core.types import UTCDateTime, utcnow
from lms.extensions import Model
from lms.register.models import Authority, Region, folded_person

#: Where the signed-in request keeps its session's key (see lms.auth.sessions).
SESSION_KEY_ATTRIBUTE = "lms_user_session_key"


class Role(enum.StrEnum):
    """What a person may do; each role includes nothing of the others implicitly."""

    LEARNER = "learner"
    TRAINER = "trainer"
    HR = "hr"
    ADMIN = "admin"


class User(UserMixin, Model):
    """A person who signs in."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(
            "fiscal_code IS NULL"
            " OR (length(fiscal_code) = 16 AND fiscal_code = upper(fiscal_code))",
            name="fiscal_code_form",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored in lower case: e-mail addresses are compared case-insensitively.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: A codice fiscale an administrator bound to this account, so that SPID or
    #: CIE sign it in (trainer, HR and admin accounts have no staff record to
    #: carry one). Learners are found through their staff record instead.
    fiscal_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    #: Both orders of the name, folded for searches (lms.core.search.name_key).
    search_name: Mapped[str] = mapped_column(Text, default=folded_person, server_default=text("''"))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            name="role",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda roles: [r.value for r in roles],
        )
    )
    #: Argon2id hash; empty until the person sets a password through a one-time link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped when the password changes or the account is deactivated, which
    #: signs out every session and "remember me" cookie issued before.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    #: Bumped to give a new private calendar address (lms.notifications.feed).
    calendar_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: Preferred interface language ("it" or "en"); empty means Italian.
    locale: Mapped[str | None] = mapped_column(String(5))
    #: The person takes one weekly digest of due dates instead of each reminder
    #: (never instead of the notice that a course is overdue: lms.notifications).
    reminder_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Loaded when used (HR and admin pages), not with every signed-in request.
    scopes: Mapped[list[UserScope]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login -------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        """Whether the account may sign in."""
        return self.active

    def get_id(self) -> str:
        """What the cookies carry: account, session version and the session's key.

        The key is the signed-in request's (lms.auth.sessions keeps it in ``g``);
        only its hash is stored, in ``user_sessions``.
        """
        key = g.get(SESSION_KEY_ATTRIBUTE, "") if has_request_context() else ""
        return f"{self.id}:{self.session_version}:{key}"

    # Display -----------------------------------------------------------------
    @property
    def full_name(self) -> str:
        """Name and surname, or the e-mail when no name is known."""
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _fold_user_name(_mapper: Mapper[User], _connection: object, target: User) -> None:
    target.search_name = name_key(target.first_name or "", target.last_name or "")


class SignInMethod(enum.StrEnum):
    """How a session was opened."""

    PASSWORD = "password"  # noqa: S105 - a method's name, not a secret
    SPID = "spid"
    CIE = "cie"


class UserSession(Model):
    """One signed-in browser: what the session cookie names, kept on the server.

    The cookie carries a random key whose SHA-256 is stored here, so a session
    can be listed ("where am I signed in"), ended alone (signing out, signing
    out the others, single logout from an identity provider), and a stolen
    copy of a cookie dies with the session it belongs to.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    method: Mapped[SignInMethod] = mapped_column(
        Enum(
            SignInMethod,
            name="sign_in_method",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda methods: [m.value for m in methods],
        )
    )
    #: The account's session version when the session opened: a later bump (a
    #: password set, a deactivation, a role change) ends it, listed or not.
    user_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Refreshed at most every few minutes, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The browser's own description (User-Agent), cut short; shown to its owner only.
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    # What single logout needs to find the session again (SPID and CIE only).
    saml_idp: Mapped[str | None] = mapped_column(String(1024))
    saml_name_id: Mapped[str | None] = mapped_column(String(1024))
    saml_name_id_format: Mapped[str | None] = mapped_column(String(256))
    saml_session_index: Mapped[str | None] = mapped_column(String(256), index=True)

    user: Mapped[User] = relationship()


class UserScope(Model):
    """One authority or one region an HR manager is responsible for."""

    __tablename__ = "user_scopes"
    __table_args__ = (
        CheckConstraint("(authority_id IS NULL) <> (region_id IS NULL)", name="exactly_one_target"),
        UniqueConstraint("user_id", "authority_id"),
        UniqueConstraint("user_id", "region_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), index=True
    )
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("regions.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(back_populates="scopes")
    authority: Mapped[Authority | None] = relationship(lazy="joined")
    region: Mapped[Region | None] = relationship(lazy="joined")


class PasswordToken(Model):
    """A one-time, expiring link to set a password. Only its hash is stored."""

    __tablename__ = "password_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token in the link: a database leak does not leak usable links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
