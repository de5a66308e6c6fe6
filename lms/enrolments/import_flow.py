"""One roster import, start to finish, shared by ``lms staff import`` and the upload page."""

from __future__ import annotations

from dataclasses import dataclass, field

from lms.auth.models import User
from lms.core.tabular import TableError
from lms.enrolments.roster import read_roster, validate_rows
from lms.enrolments.staff_import import (
    ImportPlan,
    ImportResult,
    apply_import,
    authority_codes,
    plan_import,
    scope_ids,
)


@dataclass
class ImportOutcome:
    """What an import found and, when applied, did."""

    errors: list[str] = field(default_factory=list)
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    plan: ImportPlan | None = None
    result: ImportResult | None = None


def run_import(
    data: bytes, filename: str, *, importer: User | None, apply: bool, max_errors: int | None = None
) -> ImportOutcome:
    """Read, validate, plan and (when *apply*) write a roster; all or nothing.

    Nothing is written when anything is wrong: the outcome lists every problem as
    ``line N, column: reason`` (or one line for a file that is not a roster).
    The caller commits or rolls back.
    """
    outcome = ImportOutcome()
    try:
        roster = read_roster(data, filename)
        checked = validate_rows(
            roster.rows,
            authority_codes=authority_codes(),
            scope=scope_ids(importer),
            max_errors=max_errors,
        )
    except TableError as exc:
        outcome.errors = [str(exc)]
        return outcome
    outcome.rows = checked.rows_read
    if checked.errors:
        outcome.errors = checked.errors
        return outcome
    plan = plan_import(checked.rows)
    outcome.plan = plan
    outcome.new, outcome.updated, outcome.unchanged = (
        len(plan.new),
        len(plan.updated),
        plan.unchanged,
    )
    if plan.errors:
        outcome.errors = plan.errors
        return outcome
    if apply:
        outcome.result = apply_import(plan)
    return outcome
