"""Business rules for accounts: creation, scopes, sign-in, one-time links."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select

from lms.auth.models import PasswordToken, Role, User, UserScope
from lms.auth.passwords import hash_password, needs_rehash, verify_password
from lms.core.types import utcnow
from lms.extensions import db
from lms.register.models import Authority, Region


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says why."""


def normalise_email(email: str) -> str:
    """Validate an e-mail address's syntax and return it in lower case."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"invalid e-mail address {email!r}: {exc}") from None
    return result.normalized.lower()


def parse_role(value: str) -> Role:
    """Return the role called *value*, or raise with the list of valid roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role {value!r}: use one of {valid}") from None


def find_authority(code: str) -> Authority | None:
    """Find an authority by its code, ISTAT code or IPA code (case-insensitive for IPA)."""
    code = code.strip()
    return db.session.scalar(
        select(Authority).where(
            or_(
                Authority.code == code,
                Authority.istat_code == code,
                func.lower(Authority.ipa_code) == code.lower(),
            )
        )
    )


def find_region(code: str) -> Region | None:
    """Find a region by its two-digit ISTAT code (``1`` is read as ``01``)."""
    code = code.strip()
    if code.isdigit():
        code = code.zfill(2)
    return db.session.scalar(select(Region).where(Region.code == code))


@dataclass(frozen=True)
class Scope:
    """The authorities and regions a user is responsible for."""

    authority_ids: frozenset[int]
    region_ids: frozenset[int]


def create_user(
    *,
    email: str,
    role: Role | str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    scope_authorities: Iterable[str] = (),
    scope_regions: Iterable[str] = (),
) -> User:
    """Create an account; every code is checked before anything is added."""
    role = parse_role(role) if isinstance(role, str) else role
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user with e-mail {email} already exists")
    authorities, regions = [], []
    for code in scope_authorities:
        authority = find_authority(code)
        if authority is None:
            raise AccountError(f"unknown authority code {code!r}")
        authorities.append(authority)
    for code in scope_regions:
        region = find_region(code)
        if region is None:
            raise AccountError(f"unknown region code {code!r}")
        regions.append(region)
    if (authorities or regions) and role is not Role.HR:
        raise AccountError("only HR managers (role hr) have a scope of authorities or regions")
    if role is Role.HR and not (authorities or regions):
        raise AccountError("an HR manager needs at least one --scope-authority or --scope-region")
    if password is not None:
        check_password_strength(password)
    user = User(
        email=email,
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        password_hash=hash_password(password) if password else None,
    )
    # The same authority may be named twice (by ISTAT and IPA code): keep one scope each.
    authorities = list({a.id: a for a in authorities}.values())
    regions = list({r.id: r for r in regions}.values())
    user.scopes = [UserScope(authority=a) for a in authorities] + [
        UserScope(region=r) for r in regions
    ]
    db.session.add(user)
    db.session.flush()
    return user


def check_password_strength(password: str, min_length: int = 10) -> None:
    """Refuse passwords that are too short or only one kind of character."""
    if len(password) < min_length:
        raise AccountError(f"the password must be at least {min_length} characters long")
    if password.isdigit() or password.isalpha():
        raise AccountError("the password must mix letters with digits or symbols")


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (for any reason)."""
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        verify_password(None, password)  # same time as a wrong password
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def user_scope(user: User) -> Scope:
    """The authorities and regions *user* is responsible for."""
    return Scope(
        authority_ids=frozenset(s.authority_id for s in user.scopes if s.authority_id),
        region_ids=frozenset(s.region_id for s in user.scopes if s.region_id),
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_token(user: User, *, hours: int) -> str:
    """Create a one-time link token for *user*; earlier unused tokens stop working."""
    now = utcnow()
    for old in db.session.scalars(
        select(PasswordToken).where(
            PasswordToken.user_id == user.id, PasswordToken.used_at.is_(None)
        )
    ):
        old.used_at = now
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordToken(
            user=user,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    db.session.flush()
    return token


def find_valid_token(token: str, now: datetime | None = None) -> PasswordToken | None:
    """Return the unused, unexpired token record for *token*, if any."""
    now = now or utcnow()
    record = db.session.scalar(
        select(PasswordToken).where(PasswordToken.token_hash == _token_hash(token))
    )
    if record is None or record.used_at is not None or record.expires_at <= now:
        return None
    if not record.user.active:
        return None
    return record


def set_password_with_token(token: str, password: str, *, min_length: int = 10) -> User:
    """Set the password of the token's owner and use the token up."""
    record = find_valid_token(token)
    if record is None:
        raise AccountError("link not valid")
    check_password_strength(password, min_length)
    user = record.user
    user.password_hash = hash_password(password)
    user.session_version += 1
    record.used_at = utcnow()
    db.session.flush()
    return user


def deactivate_user(user: User) -> None:
    """Stop the account from signing in and end its open sessions."""
    user.active = False
    user.session_version += 1
    db.session.flush()
