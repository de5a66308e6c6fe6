"""Importing a roster into the staff register: plan (preview), then apply, all or nothing.

The pure reading and row validation is in :mod:`lms.enrolments.roster`; this
module adds what needs the database: authority codes, the importer's scope,
people already known (upsert by codice fiscale) and who manages them, e-mail
addresses used by someone else, learner accounts, and the standing enrolment
rules. Queries are chunked and set-based, so 100,000 rows take seconds, not a
query per row: planning costs four queries a chunk, whatever its size.

Ownership rules (see :meth:`_Known.problem`): an importer changes only people
of the authorities in their scope, and an e-mail binds a staff record only to a
learner account that has no other staff record; trainer, HR and admin accounts
are never bound, renamed or switched off by an import.

New people are written once: their learner accounts are created first, so each
staff record is inserted with its ``user_id`` instead of being updated after.
On PostgreSQL (psycopg) the new rows go in with ``COPY`` and lookups pass one
array parameter instead of a long ``IN`` list; elsewhere a multi-row ``INSERT
… RETURNING`` and ``IN`` do the same job, with the same result.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import aliased

from lms.auth.models import Role, User
from lms.auth.permissions import authority_scope_clause
from lms.core.messages import _l
from lms.core.search import name_key
from lms.core.sql import among, copy_rows, custom_plans, on_psycopg, rowcount
from lms.core.tabular import RowError
from lms.core.types import rome_date, utcnow
from lms.enrolments import facts
from lms.enrolments.enrol import apply_rules
from lms.extensions import Base, db
from lms.register.models import Authority, StaffCategory, StaffMember, left_by

#: Rows per lookup and per write: large enough to amortise a round trip,
#: small enough that SQLite's IN lists stay well under its parameter limit.
CHUNK = 5000
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


def authority_codes(candidates: Collection[str] | None = None) -> dict[str, int]:
    """Every code an authority may be named by (code, ISTAT code, IPA code) → its id.

    With *candidates*, only the authorities named by one of them (one person's
    edit looks up the code typed, not the whole register).
    """
    codes: dict[str, int] = {}
    query = select(Authority.id, Authority.code, Authority.istat_code, Authority.ipa_code)
    if candidates is not None:
        lowered = sorted({c.lower() for c in candidates})
        query = query.where(
            or_(
                Authority.code.in_(sorted(candidates)),
                Authority.istat_code.in_(sorted(candidates)),
                func.lower(Authority.ipa_code).in_(lowered),
            )
        )
    for authority_id, code, istat, ipa in db.session.execute(query):
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
    errors: list[RowError] = field(default_factory=list)

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
    #: E-mail addresses of trainer, HR and admin accounts (never bound to a staff record).
    privileged: set[str] = field(default_factory=set)
    #: Codice fiscale -> the id of the person's existing account.
    account_of: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_rows(cls, rows: Sequence[Any]) -> _Known:
        """What is known about *rows* (one chunk: four queries, whatever its size)."""
        known = cls()
        cfs = [r.codice_fiscale for r in rows]
        emails = [r.email for r in rows]
        staff, users = StaffMember.__table__.c, User.__table__.c  # Core: no ORM row overhead
        columns = [staff[name] for name in FIELDS]  # record[3:] are the FIELDS
        for record in db.session.execute(
            select(staff.id, staff.codice_fiscale, staff.user_id, *columns).where(
                among(staff.codice_fiscale, cfs)
            )
        ):
            known.staff[record.codice_fiscale] = record
            if record.user_id is not None:
                known.account_of[record.codice_fiscale] = record.user_id
        known.email_owner.update(
            db.session.execute(
                select(staff.email, staff.codice_fiscale).where(among(staff.email, emails))
            ).all()
        )
        # Two index lookups, not a join: the plan must not depend on fresh statistics.
        accounts = {}
        for email, user_id, role in db.session.execute(
            select(users.email, users.id, users.role).where(among(users.email, emails))
        ):
            accounts[email] = user_id
            if role != Role.LEARNER:
                known.privileged.add(email)
        owners = dict(
            db.session.execute(
                select(staff.user_id, staff.codice_fiscale).where(
                    among(staff.user_id, list(accounts.values()))
                )
            ).all()
        )
        known.account_owner.update(
            (email, owners.get(user_id)) for email, user_id in accounts.items()
        )
        return known

    def problem(self, row: Any, scope: Container[int] | None) -> RowError | None:
        """Why *row* may not be imported by an importer of *scope*, if not: the ownership rules.

        *scope* holds the authority ids the importer may import into; None (an
        admin, the command line) is no limit. The row's own authority code has
        already been checked against *scope* by
        :func:`lms.enrolments.roster.validate_rows`; this adds what only the
        register knows. At most one error a row, in this order:

        1. A codice fiscale of someone already on the staff of an authority
           outside *scope* is an error on ``codice_fiscale`` ("managed by another
           authority"), and the only one for that row: the e-mail is not checked
           against that person, so that nothing of them (e-mail, authority, name,
           dates) shows in the errors or in a preview. Moving someone between two
           authorities both in *scope* is an ordinary update.
        2. An e-mail on another person's staff record is an error on ``email``.
        3. An e-mail of a trainer, HR or admin account is an error on ``email``,
           worded without the account's role: an import never binds a staff
           record to such an account, nor changes its e-mail, name or state.
        4. An e-mail of a learner account that belongs to another staff record,
           or, for someone who has an account already, of another account, is an
           error on ``email``. Otherwise a learner account with the row's e-mail
           and no staff record is the person's account.

        Set-based: everything it reads was fetched for the whole chunk by
        :meth:`for_rows`; it runs no query.
        """
        record = self.staff.get(row.codice_fiscale)
        if scope is not None and record is not None and record.authority_id not in scope:
            return RowError(
                row.line,
                "codice_fiscale",
                _l("%(code)s è gestito da un altro ente", code=row.codice_fiscale),
            )
        owner = self.email_owner.get(row.email)
        if owner is not None and owner != row.codice_fiscale:
            return RowError(
                row.line,
                "email",
                _l("%(email)s appartiene a un'altra persona", email=row.email),
            )
        if row.email in self.privileged:
            return RowError(
                row.line,
                "email",
                _l("%(email)s è già usato da un altro account", email=row.email),
            )
        owner = self.account_owner.get(row.email, row.codice_fiscale)
        if owner not in (None, row.codice_fiscale) or (
            # The person has an account already; the address is someone else's account.
            owner is None and row.codice_fiscale in self.account_of
        ):
            return RowError(
                row.line,
                "email",
                _l("%(email)s è l'account di un'altra persona", email=row.email),
            )
        return None


def scope_ids(importer: User | None) -> set[int] | None:
    """Authority ids *importer* may import into; None: anywhere (admins, the CLI)."""
    if importer is None or importer.role is Role.ADMIN:
        return None
    return set(db.session.scalars(select(Authority.id).where(authority_scope_clause(importer))))


def plan_import(rows: Sequence[Any], *, scope: Container[int] | None) -> ImportPlan:
    """Compare validated rows with the register: new, updated, unchanged, conflicts.

    *rows* are :class:`lms.enrolments.roster.StaffRow`, already checked (the
    row's authority code against the importer's scope included) by
    :func:`lms.enrolments.roster.validate_rows`. *scope* is the same scope
    (:func:`scope_ids`; None: no limit), given explicitly so that no caller
    forgets it: the ownership rules of :meth:`_Known.problem` need it.
    """
    custom_plans()  # lookups of thousands of codes at once (lms.core.sql.custom_plans)
    plan = ImportPlan()
    # Chunk by chunk, so that only one chunk's records are held at a time.
    for chunk in _chunks(rows):
        known = _Known.for_rows(chunk)
        for row in chunk:
            problem = known.problem(row, scope)
            if problem:
                plan.errors.append(problem)
                continue
            record = known.staff.get(row.codice_fiscale)
            if record is None:
                plan.new.append({"codice_fiscale": row.codice_fiscale, **_values(row)})
            # Tuples first, dicts only for changes: most rows of a re-import are unchanged.
            # (A StaffCategory equals its value, so the row's plain string compares.)
            elif record[3:] == tuple(getattr(row, name) for name in FIELDS):
                plan.unchanged += 1
            else:
                old = dict(zip(FIELDS, record[3:], strict=True))
                plan.updated.append((record.id, _values(row), old))
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
    #: Accounts switched on again for people the file brings back on the staff.
    accounts_reactivated: int = 0
    #: Of the accounts created, those created switched off: people who had already left.
    accounts_created_inactive: int = 0
    #: The staff records added or changed, for the audit log.
    staff_ids: tuple[int, ...] = ()
    #: The authorities they are in, or were in before a move.
    authority_ids: frozenset[int] = frozenset()


def apply_import(plan: ImportPlan, now: datetime | None = None) -> ImportResult:
    """Write the plan: staff records, learner accounts, standing enrolments. Flushes only."""
    if plan.errors:
        raise ValueError("an import with errors cannot be applied")
    custom_plans()
    now = now or utcnow()
    new_ids: list[int] = []
    created = inactive = 0
    for chunk in _chunks(plan.new):
        ids, accounts, switched_off = _add_staff(chunk, now)
        new_ids.extend(ids)
        created += accounts
        inactive += switched_off
    for chunk in _chunks(plan.updated):
        db.session.execute(
            update(StaffMember),
            [
                {
                    "id": staff_id,
                    **values,
                    "search_name": name_key(values["first_name"], values["last_name"]),
                    "updated_at": now,
                    **_refusal_cleared(values, old),
                }
                for staff_id, values, old in chunk
            ],
        )
    # Records left without an account by anything else (none after a normal import).
    more, more_inactive = _create_accounts(now)
    created += more
    inactive += more_inactive
    today = rome_date(now)
    returning = [
        staff_id
        for staff_id, values, old in plan.updated
        if left_by(old["left_on"], today) and not left_by(values["left_on"], today)
    ]
    staff_ids = [*new_ids, *(staff_id for staff_id, _values, _old in plan.updated)]
    deactivated, reactivated = _sync_account_status(now, staff_ids, returning)
    touched = [
        staff_id
        for staff_id, values, old in plan.updated
        if values["authority_id"] != old["authority_id"] or values["category"] != old["category"]
    ]
    enrolled = apply_rules(new_ids + touched, now=now) if (new_ids or touched) else 0
    db.session.flush()
    return ImportResult(
        added=len(plan.new),
        updated=len(plan.updated),
        unchanged=plan.unchanged,
        accounts_created=created,
        accounts_deactivated=deactivated,
        accounts_reactivated=reactivated,
        accounts_created_inactive=inactive,
        enrolled_by_rules=enrolled,
        staff_ids=tuple(staff_ids),
        authority_ids=frozenset(
            {values["authority_id"] for values in plan.new}
            | {values["authority_id"] for _id, values, _old in plan.updated}
            | {old["authority_id"] for _id, _values, old in plan.updated}
        ),
    )


#: A new e-mail address is not the one the mail server refused: the reminders resume.
_NOT_REFUSED = {"email_refused_at": None, "email_refused_reason": None}


def _refusal_cleared(values: dict, old: dict) -> dict:
    """The columns to add to a record's UPDATE: the refusal cleared when the e-mail changes.

    Rows with and without them go in the same executemany: SQLAlchemy groups the
    rows by the columns they set, one statement each.
    """
    return _NOT_REFUSED if values["email"] != old["email"] else {}


def _add_staff(new: Sequence[dict], now: datetime) -> tuple[list[int], int, int]:
    """Insert new people with their accounts; their staff ids, accounts created, inactive ones.

    An existing learner account with the same e-mail and no staff record is
    linked rather than duplicated; someone whose e-mail has no account gets a
    learner account, inactive if they already left. An e-mail of any other
    account (trainer, HR, admin, or a learner's bound to another record) binds
    nothing, even outside a plan (which refuses such rows): the record is left
    without an account.
    """
    today = rome_date(now)
    emails = [values["email"] for values in new]
    accounts, taken = _bindable_accounts(emails)
    missing = [values for values in new if values["email"] not in taken]
    created = _insert_rows(
        User,
        [
            {
                "email": values["email"],
                "first_name": values["first_name"],
                "last_name": values["last_name"],
                "search_name": name_key(values["first_name"], values["last_name"]),
                "role": Role.LEARNER,
                "active": not left_by(values["left_on"], today),
                "session_version": 1,
                "created_at": now,
            }
            for values in missing
        ],
        key="email",
    )
    accounts.update(created)
    staff = _insert_rows(
        StaffMember,
        [
            {
                **values,
                # COPY writes only the columns given: no default fills this one.
                "search_name": name_key(values["first_name"], values["last_name"]),
                "user_id": accounts.get(values["email"]),
                "created_at": now,
                "updated_at": now,
            }
            for values in new
        ],
        key="codice_fiscale",
    )
    inactive = sum(1 for values in missing if left_by(values["left_on"], today))
    return list(staff.values()), len(created), inactive


def _bindable_accounts(emails: Sequence[str]) -> tuple[dict[str, int], set[str]]:
    """The learner accounts among *emails* a new staff record may take, and every e-mail taken.

    One query: an account may be bound only if it is a learner's and no staff
    record has it.
    """
    users = User.__table__.c
    bound = exists().where(StaffMember.__table__.c.user_id == users.id)
    bindable: dict[str, int] = {}
    taken: set[str] = set()
    for email, user_id, role, has_staff in db.session.execute(
        select(users.email, users.id, users.role, bound).where(among(users.email, emails))
    ):
        taken.add(email)
        if role == Role.LEARNER and not has_staff:
            bindable[email] = user_id
    return bindable, taken


def _insert_rows(model: type[Base], rows: list[dict], key: str) -> dict[Any, int]:
    """Insert *rows* (dicts with the same keys) into *model*'s table; their ids by *key*.

    By key, not in order: SQLAlchemy inserts one row at a time on SQLite when
    RETURNING must follow the order of the rows, and many at a time otherwise.
    """
    if not rows:
        return {}
    # The table, not the model: the ORM's bulk path costs more than the insert itself.
    table = model.__table__
    if not isinstance(table, Table):  # a model mapped to a join or a select
        raise TypeError(f"{model.__name__} is not mapped to one table")
    if on_psycopg():
        ids = _copy_rows(table, rows)
        # COPY goes past the session's events: the reports' facts hear of it here.
        facts.note_inserted(model, rows)
        return {row[key]: row_id for row, row_id in zip(rows, ids, strict=True)}
    returned = db.session.execute(insert(table).returning(table.c[key], table.c.id), rows)
    return dict(returned.all())


def _copy_rows(table: Table, rows: list[dict]) -> list[int]:
    """PostgreSQL: take ids from the table's sequence, then ``COPY`` the rows with them.

    COPY returns nothing, hence the ids drawn first (:func:`lms.core.sql.copy_rows`).
    """
    ids = list(
        db.session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": len(rows)},
        )
    )
    copy_rows(table, [{"id": row_id, **row} for row_id, row in zip(ids, rows, strict=True)])
    return ids


def _link_accounts() -> None:
    """Link staff records without an account to the learner account with their e-mail.

    Only a learner account that no staff record has: never a trainer, HR or
    admin account, whoever calls this.
    """
    other = aliased(StaffMember)
    account = select(User.id).where(
        User.email == StaffMember.email,
        User.role == Role.LEARNER,
        ~exists().where(other.user_id == User.id),
    )
    db.session.execute(
        update(StaffMember)
        # Only rows that have an account to link: rewriting the others (to NULL)
        # would cost a row version each on PostgreSQL.
        .where(StaffMember.user_id.is_(None), account.exists())
        .values(user_id=account.scalar_subquery())
        .execution_options(synchronize_session=False)
    )


def _create_accounts(now: datetime) -> tuple[int, int]:
    """Give every staff record without an account one (set-based), and link them.

    Returns the accounts created and how many of them were created switched off.

    An existing learner account with the same e-mail and no staff record is
    linked rather than duplicated (:func:`_link_accounts`). A record whose
    e-mail is any other account's (which a plan refuses) stays without one.
    """
    _link_accounts()
    missing = select(
        StaffMember.email,
        StaffMember.first_name,
        StaffMember.last_name,
        StaffMember.still_employed(rome_date(now)),
    ).where(
        StaffMember.user_id.is_(None),
        ~exists().where(User.email == StaffMember.email),
    )
    rows = [
        {
            "email": email,
            "first_name": first,
            "last_name": last,
            "search_name": name_key(first, last),
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
    return len(rows), sum(1 for row in rows if not row["active"])


def _sync_account_status(
    now: datetime, staff_ids: Sequence[int], returning: Sequence[int]
) -> tuple[int, int]:
    """Accounts of this import's records follow them; (switched off, switched back on).

    Only the records the import added or changed (*staff_ids*), never the rest
    of the register: an import by one authority must not touch the accounts of
    another, nor undo an administrator's deactivation. Whoever has left has
    their account switched off; only the people the file brings back
    (*returning*: their leaving day moved from past to future or cleared) get
    theirs switched on again. Every statement is limited to learner accounts: a
    trainer, HR or admin account bound to a staff record (which no import does
    any more) is never switched off or on, renamed or given the record's e-mail.
    """
    today = rome_date(now)
    off = on = 0
    for chunk in _chunks(staff_ids):
        left = select(StaffMember.user_id).where(
            among(StaffMember.id, chunk), StaffMember.has_left(today)
        )
        off += (
            rowcount(
                db.session.execute(
                    update(User)
                    .where(User.id.in_(left), User.active.is_(True), User.role == Role.LEARNER)
                    .values(active=False, session_version=User.session_version + 1)
                    .execution_options(synchronize_session=False)
                )
            )
            or 0
        )
        # Names and e-mail of learner accounts follow the staff record.
        db.session.execute(
            update(User)
            .where(
                User.role == Role.LEARNER,
                User.id == StaffMember.user_id,
                among(StaffMember.id, chunk),
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
                search_name=StaffMember.search_name,  # the same key (name_key)
            )
            .execution_options(synchronize_session=False)
        )
    for chunk in _chunks(returning):
        back = select(StaffMember.user_id).where(
            among(StaffMember.id, chunk), StaffMember.still_employed(today)
        )
        on += (
            rowcount(
                db.session.execute(
                    update(User)
                    .where(User.id.in_(back), User.active.is_(False), User.role == Role.LEARNER)
                    .values(active=True)
                    .execution_options(synchronize_session=False)
                )
            )
            or 0
        )
    return off, on


__all__ = [
    "ImportPlan",
    "ImportResult",
    "apply_import",
    "authority_codes",
    "plan_import",
    "scope_ids",
]
