"""Editing one person of the staff register from their page: the import's rules, for one row.

An edit is a roster of one row: the form's values go through the import's row
check (:func:`lms.enrolments.roster.check_row`, the checker of every row of a
file) and its ownership rules and writes (:func:`plan_import` and
:func:`apply_import`), so that the page refuses what an import refuses, with
the same reasons, and does what an import does: the learner account's e-mail
and names follow the record, leaving ends the account's access (switched off,
sessions ended), coming back switches it on again, a move or a new category
lets the standing rules enrol the person, a new e-mail clears the note that the
mail server refused the old one (so the reminders resume).

The codice fiscale is the key: it is the record's own and not editable. What an
edit adds to an import's rules:

- a changed e-mail, or leaving, cancels the person's unused set-password links
  and ends their sessions (a link e-mailed to a wrong address must not open the
  account);
- its audit entry (``staff.update``) names the fields changed, never their values.

Plain functions: :func:`plan_edit` writes nothing; :func:`apply_edit` flushes,
never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from lms import audit
from lms.auth.models import Role, User
from lms.auth.operations import revoke_links_and_sessions
from lms.core.messages import Message
from lms.core.tabular import Row, RowError
from lms.core.types import utcnow
from lms.enrolments.roster import check_row
from lms.enrolments.staff_import import (
    FIELDS,
    ImportPlan,
    ImportResult,
    apply_import,
    authority_codes,
    plan_import,
    scope_ids,
)
from lms.extensions import db
from lms.register.models import StaffMember, left_by

#: The form's fields, named as the roster's columns (the codice fiscale is not one).
FORM_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "authority_code",
    "category",
    "profile",
    "hired_on",
    "left_on",
)
#: The name of each staff field in the audit entry (and the form field its errors go to).
CHANGED_NAMES = {name: name for name in FIELDS} | {"authority_id": "authority"}
#: Where an error on a column is shown: the form field, or "" (the record as a whole).
ERROR_FIELDS = {name: name for name in FORM_FIELDS}


@dataclass
class EditPlan:
    """What an edit would do; nothing is written until :func:`apply_edit`."""

    staff_id: int
    #: Messages by form field ("" for the record as a whole); empty when the edit is valid.
    errors: dict[str, list[Message]] = field(default_factory=dict)
    #: The names of the fields that change (:data:`CHANGED_NAMES`), in form order.
    changed: tuple[str, ...] = ()
    #: Whether the edit ends the person's access (a leaving day reached, not reached before).
    leaves: bool = False
    #: The leaving day, when the edit sets one.
    left_on: date | None = None
    import_plan: ImportPlan | None = None
    #: The authority before and after (the audit entry's area).
    authority_ids: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the edit may be applied."""
        return not self.errors


def form_values(staff: StaffMember) -> dict[str, str]:
    """The record as the form shows it (dates in ISO, as a date input sends them)."""
    return {
        "first_name": staff.first_name,
        "last_name": staff.last_name,
        "email": staff.email,
        "authority_code": staff.authority.code,
        "category": staff.category.value,
        "profile": staff.profile or "",
        "hired_on": staff.hired_on.isoformat() if staff.hired_on else "",
        "left_on": staff.left_on.isoformat() if staff.left_on else "",
    }


def _code_candidates(code: str) -> set[str]:
    """The codes to look up for *code*: as typed, and with the zeros a spreadsheet drops."""
    code = code.strip()
    candidates = {code, code.lower()}
    if code.isascii() and code.isdigit():
        candidates |= {code.zfill(n) for n in (2, 3, 6) if n > len(code)}
    return candidates


def _by_field(errors: list[RowError]) -> dict[str, list[Message]]:
    by_field: dict[str, list[Message]] = {}
    for error in errors:
        column = error.column if isinstance(error.column, str) else ""
        by_field.setdefault(ERROR_FIELDS.get(column, ""), []).append(error.reason)
    return by_field


def plan_edit(
    staff: StaffMember, values: Mapping[str, str], *, editor: User, today: date
) -> EditPlan:
    """Check *values* for *staff* as the import checks a row, and say what would change.

    *editor*'s scope bounds both the record (its current authority, by the
    import's ownership rules) and the authority it is moved to. Runs a few
    lookups; writes nothing.
    """
    cells = {name: str(values.get(name) or "") for name in FORM_FIELDS}
    cells["codice_fiscale"] = staff.codice_fiscale
    scope = scope_ids(editor)
    row, errors = check_row(
        Row(line=1, cells=cells),
        authority_codes=authority_codes(_code_candidates(cells["authority_code"])),
        scope=scope,
        today=today,
    )
    plan = EditPlan(staff_id=staff.id)
    if row is None or errors:
        plan.errors = _by_field(errors)
        return plan
    import_plan = plan_import([row], scope=scope)
    if import_plan.errors:
        plan.errors = _by_field(import_plan.errors)
        return plan
    if import_plan.new:  # the row carries the record's own codice fiscale
        raise RuntimeError("an edit cannot add a person")
    plan.import_plan = import_plan
    plan.authority_ids = (staff.authority_id,)
    if import_plan.updated:
        _staff_id, new, old = import_plan.updated[0]
        plan.changed = tuple(CHANGED_NAMES[name] for name in FIELDS if new[name] != old[name])
        plan.leaves = left_by(new["left_on"], today) and not left_by(old["left_on"], today)
        plan.left_on = new["left_on"]
        plan.authority_ids = tuple(sorted({old["authority_id"], new["authority_id"]}))
    return plan


@dataclass(frozen=True)
class EditResult:
    """What an applied edit changed."""

    changed: tuple[str, ...]
    result: ImportResult | None = None


def apply_edit(plan: EditPlan, *, editor: User, now: datetime | None = None) -> EditResult:
    """Write a valid plan and its audit entry (when something changed). Flushes only."""
    if not plan.ok or plan.import_plan is None:
        raise ValueError("an edit with errors cannot be applied")
    if not plan.changed:
        return EditResult(changed=())
    now = now or utcnow()
    staff = db.session.get(StaffMember, plan.staff_id)
    if staff is None:
        raise ValueError("the person is gone")
    account = db.session.get(User, staff.user_id) if staff.user_id else None
    # The import clears it with the new e-mail (:func:`apply_import`); the entry says so.
    refusal_cleared = "email" in plan.changed and staff.email_refused_at is not None
    if (
        account is not None
        and account.role is Role.LEARNER
        and ("email" in plan.changed or plan.leaves)
    ):
        revoke_links_and_sessions(account)
        db.session.flush()
    result = apply_import(plan.import_plan, now)
    # The import writes with bulk statements: read the record and account afresh.
    db.session.expire(staff)
    if account is not None:
        db.session.expire(account)
    user_id = staff.user_id
    audit.record(
        audit.Action.STAFF_UPDATE,
        actor_id=editor.id,
        objects=[
            (audit.ObjectKind.STAFF, plan.staff_id),
            *([(audit.ObjectKind.USER, user_id)] if user_id is not None else []),
        ],
        authority_ids=plan.authority_ids,
        summary={
            "fields": list(plan.changed),
            "accounts_created": result.accounts_created,
            "account_deactivated": result.accounts_deactivated,
            "account_reactivated": result.accounts_reactivated,
            "enrolled_by_rules": result.enrolled_by_rules,
            "ends_access": plan.leaves,
            "email_refusal_cleared": refusal_cleared,
        },
        at=now,
    )
    return EditResult(changed=plan.changed, result=result)
