"""Importing a roster into the staff register: plan (preview), then apply, all or nothing.

The pure reading and row validation is in :mod:`lms.enrolments.roster`; this
module adds what needs the database: authority codes, the importer's scope,
people already known (upsert by codice fiscale), e-mail addresses used by
someone else, learner accounts, and the standing enrolment rules. Queries are
chunked and set-based, so 100,000 rows take seconds, not a query per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update

from lms.auth.models import Role, User
from lms.auth.permissions import authority_scope_clause
from lms.core.types import rome_date, utcnow
from lms.enrolments.enrol import apply_rules
from lms.extensions import db
from lms.register.models import Authority, StaffCategory, StaffMember

CHUNK = 1000
#: Staff fields an import sets (codice_fiscale is the key).
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "authority_id",
    "category",
    "profile",
    "hired_on",
    "left_on",
)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def authority_codes() -> dict[str, int]:
    """Every code an authority may be named by (code, ISTAT code, IPA code) → its id."""
    codes: dict[str, int] = {}
    for authority_id, code, istat, ipa in db.session.execute(
        select(Authority.id, Authority.code, Authority.istat_code, Authority.ipa_code)
    ):
        codes[code] = authority_id
        codes[code.lower()] = authority_id
        if istat:
            codes[istat] = authority_id
        if ipa:
            codes[ipa.lower()] = authority_id
    return codes


@dataclass
class ImportPlan:
    """What an import would do; nothing is written until :func:`apply_import`."""

    new: list[dict] = field(default_factory=list)
    #: (staff id, new values, old values) of people whose record changes.
    updated: list[tuple[int, dict, dict]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the import may be applied."""
        return not self.errors


def _values(row: Any) -> dict:
    values = {name: getattr(row, name) for name in FIELDS}
    values["category"] = StaffCategory(values["category"])
    return values


@dataclass
class _Known:
    """What the register already holds about the rows' people and e-mail addresses."""

    staff: dict[str, Any] = field(default_factory=dict)  # codice fiscale -> record
    email_owner: dict[str, str] = field(default_factory=dict)  # staff e-mail -> codice fiscale
    #: Account e-mail -> codice fiscale of the staff record it belongs to (None: no staff).
    account_owner: dict[str, str | None] = field(default_factory=dict)
    #: Codice fiscale -> the id of the person's existing account.
    account_of: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_rows(cls, rows: Sequence[Any]) -> _Known:
        known = cls()
        columns = [getattr(StaffMember, name) for name in FIELDS]
        for chunk in _chunks(rows):
            cfs = [r.codice_fiscale for r in chunk]
            emails = [r.email for r in chunk]
            known.staff.update(
                (record.codice_fiscale, record)
                for record in db.session.execute(
                    select(StaffMember.id, StaffMember.codice_fiscale, *columns).where(
                        StaffMember.codice_fiscale.in_(cfs)
                    )
                )
            )
            known.email_owner.update(
                db.session.execute(
                    select(StaffMember.email, StaffMember.codice_fiscale).where(
                        StaffMember.email.in_(emails)
                    )
                ).all()
            )
            # Two index lookups, not a join: the plan must not depend on fresh statistics.
            accounts = dict(
                db.session.execute(select(User.email, User.id).where(User.email.in_(emails))).all()
            )
            owners = dict(
                db.session.execute(
                    select(StaffMember.user_id, StaffMember.codice_fiscale).where(
                        StaffMember.user_id.in_(list(accounts.values()))
                    )
                ).all()
            )
            known.account_owner.update(
                (email, owners.get(user_id)) for email, user_id in accounts.items()
            )
            known.account_of.update(
                db.session.execute(
                    select(StaffMember.codice_fiscale, StaffMember.user_id).where(
                        StaffMember.codice_fiscale.in_(cfs), StaffMember.user_id.is_not(None)
                    )
                ).all()
            )
        return known

    def problem(self, row: Any) -> str | None:
        """Why *row*'s e-mail cannot be used, if it cannot."""
        owner = self.email_owner.get(row.email)
        if owner is not None and owner != row.codice_fiscale:
            return f"line {row.line}, email: {row.email} belongs to another person"
        owner = self.account_owner.get(row.email, row.codice_fiscale)
        if owner not in (None, row.codice_fiscale):
            return f"line {row.line}, email: {row.email} is another person's account"
        if owner is None and row.codice_fiscale in self.account_of:
            # The person has an account already; the address is someone else's account.
            return f"line {row.line}, email: {row.email} is another person's account"
        return None


def scope_ids(importer: User | None) -> set[int] | None:
    """Authority ids *importer* may import into; None: anywhere (admins, the CLI)."""
    if importer is None or importer.role is Role.ADMIN:
        return None
    return set(db.session.scalars(select(Authority.id).where(authority_scope_clause(importer))))


def plan_import(rows: Sequence[Any]) -> ImportPlan:
    """Compare validated rows with the register: new, updated, unchanged, conflicts.

    *rows* are :class:`lms.enrolments.roster.StaffRow`, already checked (the
    importer's scope included) by :func:`lms.enrolments.roster.validate_rows`.
    """
    plan = ImportPlan()
    known = _Known.for_rows(rows)
    for row in rows:
        problem = known.problem(row)
        if problem:
            plan.errors.append(problem)
            continue
        values = _values(row)
        record = known.staff.get(row.codice_fiscale)
        if record is None:
            plan.new.append({"codice_fiscale": row.codice_fiscale, **values})
            continue
        old = {name: getattr(record, name) for name in FIELDS}
        if old == values:
            plan.unchanged += 1
        else:
            plan.updated.append((record.id, values, old))
    return plan


@dataclass(frozen=True)
class ImportResult:
    """What an applied import changed."""

    added: int
    updated: int
    unchanged: int
    accounts_created: int
    accounts_deactivated: int
    enrolled_by_rules: int


def apply_import(plan: ImportPlan, now: datetime | None = None) -> ImportResult:
    """Write the plan: staff records, learner accounts, standing enrolments. Flushes only."""
    if plan.errors:
        raise ValueError("an import with errors cannot be applied")
    now = now or utcnow()
    for chunk in _chunks(plan.new):
        db.session.execute(
            insert(StaffMember),
            [{**values, "created_at": now, "updated_at": now} for values in chunk],
        )
    for chunk in _chunks(plan.updated):
        db.session.execute(
            update(StaffMember),
            [{"id": staff_id, **values, "updated_at": now} for staff_id, values, _old in chunk],
        )
    created = _create_accounts(now)
    deactivated = _sync_account_status(now)
    touched = [
        staff_id
        for staff_id, values, old in plan.updated
        if values["authority_id"] != old["authority_id"] or values["category"] != old["category"]
    ]
    new_ids = _ids_of(c["codice_fiscale"] for c in plan.new)
    enrolled = apply_rules(new_ids + touched, now=now) if (new_ids or touched) else 0
    db.session.flush()
    return ImportResult(
        added=len(plan.new),
        updated=len(plan.updated),
        unchanged=plan.unchanged,
        accounts_created=created,
        accounts_deactivated=deactivated,
        enrolled_by_rules=enrolled,
    )


def _ids_of(codes: Iterable[str]) -> list[int]:
    codes = list(codes)
    ids: list[int] = []
    for chunk in _chunks(codes):
        ids.extend(
            db.session.scalars(select(StaffMember.id).where(StaffMember.codice_fiscale.in_(chunk)))
        )
    return ids


def _link_accounts() -> None:
    """Link staff records to the account with their e-mail, where there is one."""
    account = select(User.id).where(User.email == StaffMember.email)
    db.session.execute(
        update(StaffMember)
        # Only rows that have an account to link: rewriting the others (to NULL)
        # would cost a row version each on PostgreSQL.
        .where(StaffMember.user_id.is_(None), account.exists())
        .values(user_id=account.scalar_subquery())
        .execution_options(synchronize_session=False)
    )


def _create_accounts(now: datetime) -> int:
    """Give every staff record without an account one (set-based), and link them.

    An existing account with the same e-mail (an HR manager who is staff too)
    is linked rather than duplicated.
    """
    _link_accounts()
    missing = select(
        StaffMember.email,
        StaffMember.first_name,
        StaffMember.last_name,
        or_(StaffMember.left_on.is_(None), StaffMember.left_on > rome_date(now)),
    ).where(StaffMember.user_id.is_(None))
    rows = [
        {
            "email": email,
            "first_name": first,
            "last_name": last,
            "role": Role.LEARNER,
            "active": bool(active),
            "session_version": 1,
            "created_at": now,
        }
        for email, first, last, active in db.session.execute(missing)
    ]
    for chunk in _chunks(rows):
        db.session.execute(insert(User), list(chunk))
    if rows:
        _link_accounts()
    return len(rows)


def _sync_account_status(now: datetime) -> int:
    """Deactivate the learner accounts of people who left; return how many were switched off."""
    left = select(StaffMember.user_id).where(
        StaffMember.left_on.is_not(None), StaffMember.left_on <= rome_date(now)
    )
    result = db.session.execute(
        update(User)
        .where(User.id.in_(left), User.active.is_(True), User.role == Role.LEARNER)
        .values(active=False, session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    # Back on the staff (left_on cleared or moved ahead): the account works again.
    back = select(StaffMember.user_id).where(
        or_(StaffMember.left_on.is_(None), StaffMember.left_on > rome_date(now))
    )
    db.session.execute(
        update(User)
        .where(User.id.in_(back), User.active.is_(False), User.role == Role.LEARNER)
        .values(active=True)
        .execution_options(synchronize_session=False)
    )
    # Names and e-mail of learner accounts follow the staff record.
    db.session.execute(
        update(User)
        .where(
            User.role == Role.LEARNER,
            User.id == StaffMember.user_id,
            or_(
                User.email != StaffMember.email,
                User.first_name != StaffMember.first_name,
                User.last_name != StaffMember.last_name,
            ),
        )
        .values(
            email=StaffMember.email,
            first_name=StaffMember.first_name,
            last_name=StaffMember.last_name,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


__all__ = [
    "ImportPlan",
    "ImportResult",
    "apply_import",
    "authority_codes",
    "plan_import",
    "scope_ids",
]
