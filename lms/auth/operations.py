"""Business rules for accounts: creation, scopes, sign-in, one-time links."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.auth.models import PasswordToken, Role, User, UserScope
from lms.auth.passwords import hash_password, needs_rehash, verify_password
from lms.core.types import utcnow
from lms.extensions import db
from lms.register.codice_fiscale import check_codice_fiscale
from lms.register.models import Authority, Region, StaffMember

#: Accounts per statement when links are issued or cancelled for many at once
#: (well under SQLite's parameter limit).
TOKEN_CHUNK = 5000


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
    by: User | None = None,
) -> User:
    """Create an account; every code is checked before anything is added.

    *by* is the account doing it (None from the command line), for the audit log.
    """
    role = parse_role(role) if isinstance(role, str) else role
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user with e-mail {email} already exists")
    authorities, regions = _scope_targets(role, scope_authorities, scope_regions)
    if password is not None:
        check_password_strength(password)
    user = User(
        email=email,
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        password_hash=hash_password(password) if password else None,
    )
    user.scopes = [UserScope(authority=a) for a in authorities] + [
        UserScope(region=r) for r in regions
    ]
    db.session.add(user)
    db.session.flush()
    # The scope is the entry's area: an HR manager sees who was given their authorities.
    audit.record(
        audit.Action.USER_CREATE,
        actor_id=_actor_id(by),
        objects=[(audit.ObjectKind.USER, user.id)],
        authority_ids=[a.id for a in authorities],
        region_ids=[r.id for r in regions],
        summary={"role": role, "password_set": password is not None},
    )
    return user


def _scope_targets(
    role: Role, scope_authorities: Iterable[str], scope_regions: Iterable[str]
) -> tuple[list[Authority], list[Region]]:
    """The authorities and regions named by code, once each; checked against *role*."""
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
    # The same authority may be named twice (by ISTAT and IPA code): keep one scope each.
    return list({a.id: a for a in authorities}.values()), list({r.id: r for r in regions}.values())


def _actor_id(by: User | None) -> int | None:
    return by.id if by is not None else None


def find_user(email: str) -> User:
    """The account with *email* (any case), or :class:`AccountError`."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no user with e-mail {email.strip()!r}")
    return user


def change_role(
    user: User,
    role: Role | str,
    *,
    scope_authorities: Iterable[str] = (),
    scope_regions: Iterable[str] = (),
    by: User | None = None,
) -> bool:
    """Give *user* another role; an HR manager's scope comes with it, and goes without it.

    Returns whether anything changed. Becoming an HR manager needs a scope;
    leaving the role removes the scope (both are audited).
    """
    role = parse_role(role) if isinstance(role, str) else role
    if role is user.role:
        if role is Role.HR and (scope_authorities or scope_regions):
            return set_scope(
                user, scope_authorities=scope_authorities, scope_regions=scope_regions, by=by
            )
        if role is not Role.HR:
            _scope_targets(role, scope_authorities, scope_regions)  # refuses a scope
        return False  # the same role (an HR manager keeps the scope)
    authorities, regions = _scope_targets(role, scope_authorities, scope_regions)
    previous = user.role
    user.role = role
    revoke_links_and_sessions(user)
    db.session.flush()
    audit.record(
        audit.Action.USER_ROLE,
        actor_id=_actor_id(by),
        objects=[(audit.ObjectKind.USER, user.id)],
        summary={"from": previous, "to": role},
    )
    _replace_scope(user, authorities, regions, by)
    return True


def set_scope(
    user: User,
    *,
    scope_authorities: Iterable[str] = (),
    scope_regions: Iterable[str] = (),
    by: User | None = None,
) -> bool:
    """Make the named authorities and regions an HR manager's whole scope; whether it changed."""
    if user.role is not Role.HR:
        raise AccountError("only HR managers (role hr) have a scope of authorities or regions")
    authorities, regions = _scope_targets(user.role, scope_authorities, scope_regions)
    return _replace_scope(user, authorities, regions, by)


def _replace_scope(
    user: User, authorities: list[Authority], regions: list[Region], by: User | None
) -> bool:
    """Set *user*'s scope; audit it (added and removed are the entry's area) if it changed."""
    before = user_scope(user)
    after = Scope(frozenset(a.id for a in authorities), frozenset(r.id for r in regions))
    if before == after:
        return False
    kept = [
        s
        for s in user.scopes
        if s.authority_id in after.authority_ids or s.region_id in after.region_ids
    ]
    user.scopes = [
        *kept,
        *(UserScope(authority=a) for a in authorities if a.id not in before.authority_ids),
        *(UserScope(region=r) for r in regions if r.id not in before.region_ids),
    ]
    revoke_links_and_sessions(user)
    db.session.flush()
    audit.record(
        audit.Action.USER_SCOPE,
        actor_id=_actor_id(by),
        objects=[(audit.ObjectKind.USER, user.id)],
        authority_ids=sorted(before.authority_ids | after.authority_ids),
        region_ids=sorted(before.region_ids | after.region_ids),
        summary={
            "authorities_added": after.authority_ids - before.authority_ids,
            "authorities_removed": before.authority_ids - after.authority_ids,
            "regions_added": after.region_ids - before.region_ids,
            "regions_removed": before.region_ids - after.region_ids,
        },
    )
    return True


def revoke_links_and_sessions(user: User) -> None:
    """After a change of what *user* may do: unused links stop working, sessions end.

    A link is handed out for the account as it was (an HR manager downloads the
    links of learners): once the account is given another role or scope, a copy
    of it must not open the new account, nor an old session keep the old rights.
    """
    _cancel_unused_tokens([user.id], utcnow())
    user.session_version += 1


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


def token_hash(token: str) -> str:
    """What is stored of a secret token (a link's, an upload's): its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def left_staff_on(user_id: int, today: date) -> tuple[User, date | None] | None:
    """The account *user_id* and, if its staff record says it has left by *today*, that day.

    One query (the account joined with its staff record): it runs on every
    request of a signed-in person. None when there is no such account.
    """
    row = db.session.execute(
        select(User, StaffMember.left_on, StaffMember.has_left(today))
        .outerjoin(StaffMember, StaffMember.user_id == User.id)
        .where(User.id == user_id)
    ).first()
    if row is None:
        return None
    user, left_on, has_left = row
    return user, left_on if has_left else None


def issue_password_tokens(
    user_ids: Sequence[int], *, hours: int, now: datetime | None = None
) -> dict[int, str]:
    """A new one-time token for each of *user_ids*; their earlier unused tokens stop working.

    Set-based, for a whole list at once: one UPDATE, one multi-row INSERT.
    Returns each account's token (the link's secret; only its hash is stored).
    """
    if not user_ids:
        return {}
    now = now or utcnow()
    _cancel_unused_tokens(user_ids, now)
    tokens = {user_id: secrets.token_urlsafe(32) for user_id in user_ids}
    rows = [
        {
            "user_id": user_id,
            "token_hash": token_hash(token),
            "created_at": now,
            "expires_at": now + timedelta(hours=hours),
        }
        for user_id, token in tokens.items()
    ]
    for start in range(0, len(rows), TOKEN_CHUNK):
        db.session.execute(insert(PasswordToken), rows[start : start + TOKEN_CHUNK])
    return tokens


def _cancel_unused_tokens(user_ids: Sequence[int], now: datetime) -> None:
    """Mark the unused links of *user_ids* as used: they stop working."""
    for start in range(0, len(user_ids), TOKEN_CHUNK):
        db.session.execute(
            update(PasswordToken)
            .where(
                PasswordToken.user_id.in_(list(user_ids[start : start + TOKEN_CHUNK])),
                PasswordToken.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )


def issue_password_token(user: User, *, hours: int) -> str:
    """Create a one-time link token for *user*; earlier unused tokens stop working."""
    return issue_password_tokens([user.id], hours=hours)[user.id]


def find_valid_token(token: str, now: datetime | None = None) -> PasswordToken | None:
    """Return the unused, unexpired token record for *token*, if any."""
    now = now or utcnow()
    record = db.session.scalar(
        select(PasswordToken).where(PasswordToken.token_hash == token_hash(token))
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


def deactivate_user(user: User, *, by: User | None = None) -> bool:
    """Stop the account from signing in and end its open sessions; whether it was active."""
    if not user.active:
        return False
    user.active = False
    user.session_version += 1
    db.session.flush()
    _record_status(audit.Action.USER_DEACTIVATE, user, by)
    return True


def reactivate_user(user: User, *, by: User | None = None) -> bool:
    """Let a deactivated account sign in again; whether it was deactivated.

    The sessions ended by the deactivation stay ended: the person signs in anew.
    """
    if user.active:
        return False
    user.active = True
    db.session.flush()
    _record_status(audit.Action.USER_REACTIVATE, user, by)
    return True


def _record_status(action: audit.Action, user: User, by: User | None) -> None:
    """Audit a (de)activation: the account, and its staff record with its authority, if any."""
    staff = db.session.execute(
        select(StaffMember.id, StaffMember.authority_id).where(StaffMember.user_id == user.id)
    ).first()
    objects = [(audit.ObjectKind.USER, user.id)]
    if staff is not None:
        objects.append((audit.ObjectKind.STAFF, staff.id))
    audit.record(
        action,
        actor_id=_actor_id(by),
        objects=objects,
        authority_ids=[staff.authority_id] if staff is not None else [],
    )


# Accounts run from the web: the administrators' Utenti pages ---------------------------


class FiscalCodeError(AccountError):
    """A codice fiscale that is not valid; *reason* says why (a translatable message)."""

    def __init__(self, reason: object) -> None:
        super().__init__(f"invalid codice fiscale: {reason}")
        self.reason = reason


class StaffIdentityError(AccountError):
    """The codice fiscale is a staff member's, whose own account is another one."""

    def __init__(self, staff_id: int, learner_id: int | None) -> None:
        super().__init__(
            f"the codice fiscale is that of staff record {staff_id}, whose account is another:"
            " binding it needs an explicit confirmation"
        )
        self.staff_id = staff_id
        self.learner_id = learner_id


def _refuse_admin_lockout(user: User, by: User | None, *, deactivating: bool) -> None:
    """An administrator keeps the platform run: refuse losing oneself or the last admin.

    Called before *user* (an active admin) is deactivated or given another role.
    The active admins' rows are locked in one order, so that two admins demoting
    each other at the same time cannot both succeed (PostgreSQL; SQLite writes
    one transaction at a time).
    """
    if user.role is not Role.ADMIN or not user.active:
        return
    if by is not None and by.id == user.id:
        raise AccountError(
            "you cannot deactivate your own account"
            if deactivating
            else "you cannot remove your own administrator role"
        )
    admins = db.session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN, User.active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    if not set(admins) - {user.id}:
        raise AccountError(
            "the last active administrator cannot be "
            + ("deactivated" if deactivating else "given another role")
        )


def deactivate_account(user: User, *, by: User | None) -> bool:
    """Deactivate *user* from the web: sessions end and unused links are cancelled.

    Refused for oneself and for the last active administrator. Whether it was active.
    """
    _refuse_admin_lockout(user, by, deactivating=True)
    if not user.active:
        return False
    # A link would not work while the account is off; it must not work after a reactivation.
    _cancel_unused_tokens([user.id], utcnow())
    return deactivate_user(user, by=by)


def change_account_role(
    user: User,
    role: Role | str,
    *,
    scope_authorities: Iterable[str] = (),
    scope_regions: Iterable[str] = (),
    by: User | None,
) -> bool:
    """:func:`change_role`, refused when it would remove one's own or the last admin role."""
    role = parse_role(role) if isinstance(role, str) else role
    if role is not Role.ADMIN:
        _refuse_admin_lockout(user, by, deactivating=False)
    return change_role(
        user, role, scope_authorities=scope_authorities, scope_regions=scope_regions, by=by
    )


def _staff_of(user_id: int) -> StaffMember | None:
    return db.session.scalar(select(StaffMember).where(StaffMember.user_id == user_id))


def issue_account_link(user: User, *, hours: int, by: User | None, delivery: str) -> str:
    """A new set-password token for one account (earlier unused ones stop working); audited.

    *delivery* (``email`` or ``page``) is recorded: whether the link went to the
    account's own address or was shown to the administrator who issued it.
    """
    if not user.active:
        raise AccountError("the account is deactivated: reactivate it before issuing a link")
    now = utcnow()
    token = issue_password_tokens([user.id], hours=hours, now=now)[user.id]
    staff = _staff_of(user.id)
    objects = [(audit.ObjectKind.USER, user.id)]
    if staff is not None:
        objects.append((audit.ObjectKind.STAFF, staff.id))
    audit.record(
        audit.Action.LINKS_ISSUE,
        actor_id=_actor_id(by),
        objects=objects,
        authority_ids=[staff.authority_id] if staff is not None else [],
        summary={"links": 1, "hours": hours, "delivery": delivery},
        at=now,
    )
    return token


def clean_fiscal_code(code: str) -> str:
    """*code* stripped and upper-cased, checked as the roster import checks it (FiscalCodeError)."""
    code = code.strip().upper()
    problem = check_codice_fiscale(code)
    if problem is not None:
        raise FiscalCodeError(problem)
    return code


def bind_fiscal_code(
    user: User, code: str, *, by: User | None, over_staff_account: bool = False
) -> bool:
    """Bind codice fiscale *code* to *user*, so that SPID and CIE sign that person in here.

    The rules (SPID picks the account bound to a codice fiscale first, then the
    learner account of the staff record with it):

    - the code is checked as the roster import checks it, and stored upper case;
    - a code bound to another account is refused;
    - an account with a staff record is reached through that record: another
      code is refused (one person, one codice fiscale);
    - a code of a staff record whose account is another (or that has none yet)
      would take that person's SPID sign-in away from their own account: refused
      unless *over_staff_account* (the administrator confirmed it), and then the
      entry names the staff record and its account and has its authority as area,
      so the HR manager of that authority sees it, and both account pages say so.

    Replacing a code ends the account's sessions (the other identity's may be
    open). Whether anything changed.
    """
    code = clean_fiscal_code(code)
    if user.fiscal_code == code:
        return False
    other = db.session.scalar(select(User.id).where(User.fiscal_code == code, User.id != user.id))
    if other is not None:
        raise AccountError(f"the codice fiscale is already bound to account {other}")
    own = _staff_of(user.id)
    if own is not None and own.codice_fiscale != code:
        raise AccountError("this account belongs to a staff record with another codice fiscale")
    holder = db.session.scalar(select(StaffMember).where(StaffMember.codice_fiscale == code))
    shadowed = holder is not None and holder.user_id != user.id
    if shadowed and holder is not None and not over_staff_account:
        raise StaffIdentityError(holder.id, holder.user_id)
    replaced = user.fiscal_code is not None
    try:
        # The change is made inside the savepoint: made before it, it would be flushed by
        # begin_nested() itself, outside the savepoint, and a clash would break the whole
        # transaction (a 500) instead of rolling back to here.
        with db.session.begin_nested():
            user.fiscal_code = code
            if replaced:
                user.session_version += 1
            db.session.flush()
    except IntegrityError:  # bound to another account meanwhile
        raise AccountError("the codice fiscale is already bound to another account") from None
    objects = [(audit.ObjectKind.USER, user.id)]
    area = [own.authority_id] if own is not None else []
    if shadowed and holder is not None:
        objects.append((audit.ObjectKind.STAFF, holder.id))
        if holder.user_id is not None:
            objects.append((audit.ObjectKind.USER, holder.user_id))
        area = [holder.authority_id]
    audit.record(
        audit.Action.USER_FISCAL_CODE,
        actor_id=_actor_id(by),
        objects=objects,
        authority_ids=area,
        summary={"bound": True, "replaced": replaced, "over_staff_account": shadowed},
    )
    return True


def unbind_fiscal_code(user: User, *, by: User | None) -> bool:
    """Remove *user*'s codice fiscale (SPID and CIE no longer sign in here); its sessions end."""
    if user.fiscal_code is None:
        return False
    user.fiscal_code = None
    user.session_version += 1
    db.session.flush()
    own = _staff_of(user.id)
    audit.record(
        audit.Action.USER_FISCAL_CODE,
        actor_id=_actor_id(by),
        objects=[(audit.ObjectKind.USER, user.id)],
        authority_ids=[own.authority_id] if own is not None else [],
        summary={"bound": False},
    )
    return True
