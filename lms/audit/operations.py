"""Writing the audit log: one :func:`record` call per action, in the action's transaction.

The entry is flushed, never committed: it is written with the change it
describes and rolled back with it. Big sets of objects (a roster import of
100,000 people) go in with one INSERT … SELECT, never a statement per row.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, cast

from flask import has_request_context
from sqlalchemy import Select, Table, exists, insert, literal, select

from lms.audit.models import Action, AuditEntry, AuditObject, ObjectKind, Via
from lms.core.sql import copy_rows
from lms.core.types import utcnow
from lms.extensions import db

#: A text value of a summary is an identifier or a code, never prose.
MAX_TEXT = 200
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_CODICE_FISCALE = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]",
    re.IGNORECASE,
)


def record(
    action: str,
    *,
    actor_id: int | None,
    objects: Iterable[tuple[str, int]] = (),
    summary: Mapping[str, Any] | None = None,
    via: str | None = None,
    authority_ids: Iterable[int] = (),
    region_ids: Iterable[int] = (),
    objects_select: Select | Iterable[Select] = (),
    at: datetime | None = None,
) -> AuditEntry:
    """Add an entry for *action* by *actor_id* about *objects*; flush, do not commit.

    - *objects*: ``(kind, id)`` pairs (kinds of :class:`ObjectKind`).
    - *authority_ids*, *region_ids*: the entry's area, the same as objects of
      kind ``authority`` and ``region``; HR managers see the entries of their area.
    - *objects_select*: one or more SELECTs of two columns, a kind (a literal)
      and an id, for large sets: ``select(literal("staff"), StaffMember.id)…``.
      They are inserted server-side, once each (duplicates are dropped).
    - *summary*: counts and identifiers only; a value that looks like an
      e-mail address or a codice fiscale raises :class:`ValueError`.
    - *via*: ``web`` or ``cli``; by default ``web`` inside a request, else ``cli``.
    """
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor_id,
        via=Via(via) if via is not None else (Via.WEB if has_request_context() else Via.CLI),
        action=Action(action).value,  # ValueError for a code nobody defined
        summary=checked_summary(summary or {}),
    )
    pairs = [(ObjectKind(kind), int(object_id)) for kind, object_id in objects]
    pairs += [(ObjectKind.AUTHORITY, int(i)) for i in authority_ids]
    pairs += [(ObjectKind.REGION, int(i)) for i in region_ids]
    db.session.add(entry)
    db.session.flush()
    rows = [
        {"entry_id": entry.id, "kind": kind, "object_id": object_id}
        for kind, object_id in dict.fromkeys(pairs)  # once each, in the order given
    ]
    # COPY on PostgreSQL: an import's entry names its 100,000 people.
    copy_rows(cast("Table", AuditObject.__table__), rows)
    selects = [objects_select] if isinstance(objects_select, Select) else list(objects_select)
    for number, query in enumerate(selects):
        # Only a set that may overlap what is already there needs the check.
        _insert_selected(entry.id, query, dedupe=bool(rows) or number > 0)
    return entry


def amend_summary(entry: AuditEntry, summary: Mapping[str, Any]) -> None:
    """Add *summary*'s values to *entry*'s (counts known only after the change); flush."""
    entry.summary = {**entry.summary, **checked_summary(summary)}
    db.session.flush()


def _insert_selected(entry_id: int, query: Select, *, dedupe: bool) -> None:
    """INSERT … SELECT the (kind, id) rows of *query* as objects of the entry.

    With *dedupe*, pairs the entry already has are left out (they are its key).
    """
    selected = query.subquery()
    columns = list(selected.c)
    if len(columns) != 2:  # noqa: PLR2004 - a kind and an id
        raise ValueError("objects_select must select two columns: a kind and an id")
    kind, object_id = columns
    rows = select(literal(entry_id), kind, object_id).distinct().where(object_id.is_not(None))
    if dedupe:
        rows = rows.where(
            ~exists().where(
                AuditObject.entry_id == entry_id,
                AuditObject.kind == kind,
                AuditObject.object_id == object_id,
            )
        )
    db.session.execute(insert(AuditObject).from_select(["entry_id", "kind", "object_id"], rows))


def checked_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """*summary* as JSON values (dates as ISO text), refusing anything like personal data."""
    return {str(key): _checked(value, str(key)) for key, value in summary.items()}


def _checked(value: object, key: str) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _checked(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [_checked(item, key) for item in items]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _checked(value.value, key)
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, str):
        raise TypeError(f"summary[{key!r}]: {type(value).__name__} is not a JSON value")
    if len(value) > MAX_TEXT or _EMAIL.search(value) or _CODICE_FISCALE.fullmatch(value.strip()):
        # The log keeps identifiers: a person's data stays in its own table.
        raise ValueError(f"summary[{key!r}] looks like personal data or prose: not stored")
    return value
