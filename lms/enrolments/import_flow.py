"""One roster import, start to finish, shared by ``lms staff import`` and the upload page.

The outcome's errors are not text yet: ``str()`` words each in the current
language, so the page shows them in the reader's language and the command line,
rendering them under ``force_locale("en")``, in English.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from lms import audit
from lms.auth.models import User
from lms.core.tabular import RowError, TableError
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

    #: Every problem listed (``line N, column: reason`` once shown), or the one
    #: problem of a file that is not a roster.
    errors: list[RowError | TableError] = field(default_factory=list)
    #: Problems found beyond the ``max_errors`` listed.
    more_errors: int = 0
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Each column's header as the file writes it (see :func:`as_written`).
    written: Mapping[str, str] = field(default_factory=dict)
    plan: ImportPlan | None = None
    result: ImportResult | None = None

    @property
    def ok(self) -> bool:
        """Whether the file had no problem at all."""
        return not self.errors and not self.more_errors


def as_written(error: RowError | TableError, written: Mapping[str, str]) -> RowError | TableError:
    """*error* naming its column as the file's header writes it ("Data Assunzione").

    For the upload page, where a person reads the list beside their spreadsheet;
    the command line keeps the spec's column names (``codice_fiscale``), a
    stable format for scripts.
    """
    if isinstance(error, RowError) and isinstance(error.column, str) and error.column in written:
        return replace(error, column=written[error.column])
    return error


def run_import(
    data: bytes, filename: str, *, importer: User | None, apply: bool, max_errors: int | None = None
) -> ImportOutcome:
    """Read, validate, plan and (when *apply*) write a roster; all or nothing.

    Nothing is written when anything is wrong: the outcome lists every problem as
    ``line N, column: reason`` (or one line for a file that is not a roster).
    *importer* None (the command line) or an admin may import anywhere; anyone
    else only rows, and people, of the authorities in their scope.
    The caller commits or rolls back.
    """
    outcome = ImportOutcome()
    # One scope for both checks: the rows' authority codes, and who manages the
    # people they name (the ownership rules of plan_import).
    scope = scope_ids(importer)
    try:
        roster = read_roster(data, filename)
        checked = validate_rows(
            roster.rows,
            authority_codes=authority_codes(),
            scope=scope,
            max_errors=max_errors,
        )
    except TableError as exc:
        outcome.errors = [exc]
        return outcome
    outcome.rows = checked.rows_read
    outcome.written = roster.written
    if not checked.ok:
        outcome.errors = list(checked.errors)
        outcome.more_errors = checked.more_errors
        return outcome
    plan = plan_import(checked.rows, scope=scope)
    outcome.plan = plan
    outcome.new, outcome.updated, outcome.unchanged = (
        len(plan.new),
        len(plan.updated),
        plan.unchanged,
    )
    if plan.errors:
        outcome.errors = list(plan.errors)
        return outcome
    if apply:
        outcome.result = apply_import(plan)
        _record(outcome.result, data, filename, importer, rows=checked.rows_read)
    return outcome


def _record(
    result: ImportResult, data: bytes, filename: str, importer: User | None, *, rows: int
) -> None:
    """Add the import's audit entry: the file's SHA-256, its counts, the records touched.

    The file by its digest, not its name, which may name a person.
    """
    audit.record(
        audit.Action.STAFF_IMPORT,
        actor_id=importer.id if importer is not None else None,
        objects=[(audit.ObjectKind.STAFF, staff_id) for staff_id in result.staff_ids],
        authority_ids=sorted(result.authority_ids),
        summary={
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "format": "xlsx" if filename.lower().endswith(".xlsx") else "csv",
            "rows": rows,
            "added": result.added,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "accounts_created": result.accounts_created,
            "accounts_created_inactive": result.accounts_created_inactive,
            "accounts_deactivated": result.accounts_deactivated,
            "accounts_reactivated": result.accounts_reactivated,
            "enrolled_by_rules": result.enrolled_by_rules,
        },
    )
