"""Reading the audit log: filters, who may see which entries, and the objects of a page.

Like the rest of the package this imports no other domain: the reader's area
comes in as ids (and a SELECT of authority ids) from the view, which knows scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, false, func, or_, select, true

from lms.audit.models import AuditEntry, AuditObject, ObjectKind
from lms.extensions import db

#: The order an entry's objects are listed in: its area first, the people last.
KIND_ORDER = (
    ObjectKind.AUTHORITY,
    ObjectKind.REGION,
    ObjectKind.COURSE,
    ObjectKind.RULE,
    ObjectKind.EDITION,
    ObjectKind.ENROLMENT,
    ObjectKind.TRAINING,
    ObjectKind.USER,
    ObjectKind.STAFF,
)


@dataclass(frozen=True)
class Visibility:
    """The entries a reader may see: all of them, or those of an area.

    An entry is in the area when one of its ``authority`` objects is among
    *authority_ids* (a SELECT of ids) or one of its ``region`` objects is among
    *region_ids*. An entry without area objects is seen by nobody but an admin.
    """

    everything: bool = False
    authority_ids: Select | None = None
    region_ids: frozenset[int] = frozenset()

    def clause(self) -> ColumnElement[bool]:
        """A WHERE clause on :class:`AuditEntry` keeping what the reader may see."""
        if self.everything:
            return true()
        area = []
        if self.authority_ids is not None:
            area.append(
                (AuditObject.kind == ObjectKind.AUTHORITY)
                & AuditObject.object_id.in_(self.authority_ids)
            )
        if self.region_ids:
            area.append(
                (AuditObject.kind == ObjectKind.REGION)
                & AuditObject.object_id.in_(sorted(self.region_ids))
            )
        if not area:
            return false()
        return AuditEntry.id.in_(select(AuditObject.entry_id).where(or_(*area)))


@dataclass(frozen=True)
class AuditFilters:
    """What the reader asked for; each filter left empty keeps every entry."""

    action: str | None = None
    actor_id: int | None = None
    #: An actor was typed that names no account: nothing matches.
    actor_unknown: bool = False
    #: From this moment (inclusive) to *until* (exclusive), in UTC.
    since: datetime | None = None
    until: datetime | None = None
    object_kind: ObjectKind | None = None
    object_id: int | None = None
    authority_id: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses on :class:`AuditEntry` of these filters."""
        where: list[ColumnElement[bool]] = []
        if self.actor_unknown:
            where.append(false())
        if self.action:
            where.append(AuditEntry.action == self.action)
        if self.actor_id is not None:
            where.append(AuditEntry.actor_id == self.actor_id)
        if self.since is not None:
            where.append(AuditEntry.at >= self.since)
        if self.until is not None:
            where.append(AuditEntry.at < self.until)
        if self.object_kind is not None:
            where.append(_about(self.object_kind, self.object_id))
        if self.authority_id is not None:
            where.append(_about(ObjectKind.AUTHORITY, self.authority_id))
        return where


def _about(kind: ObjectKind, object_id: int | None) -> ColumnElement[bool]:
    """Entries with an object of *kind* (and *object_id*): the (kind, object_id) index."""
    objects = select(AuditObject.entry_id).where(AuditObject.kind == kind)
    if object_id is not None:
        objects = objects.where(AuditObject.object_id == object_id)
    return AuditEntry.id.in_(objects)


def entries_query(filters: AuditFilters, visibility: Visibility, *columns: Any) -> Select:
    """The entries the reader may see that match *filters*, newest first.

    Selects :class:`AuditEntry` unless *columns* are given.
    """
    query = select(*columns) if columns else select(AuditEntry)
    return query.where(visibility.clause(), *filters.where()).order_by(
        AuditEntry.at.desc(), AuditEntry.id.desc()
    )


@dataclass(frozen=True)
class EntryObjects:
    """The first objects of an entry (area first) and how many it has in all."""

    pairs: list[tuple[ObjectKind, int]]
    total: int

    @property
    def more(self) -> int:
        """How many are not listed."""
        return self.total - len(self.pairs)


def objects_of(entry_ids: Iterable[int], limit: int) -> dict[int, EntryObjects]:
    """The first *limit* objects of each entry, in one query (an import may have 100,000)."""
    entry_ids = list(entry_ids)
    if not entry_ids:
        return {}
    order = case({kind: rank for rank, kind in enumerate(KIND_ORDER)}, value=AuditObject.kind)
    ranked = (
        select(
            AuditObject.entry_id,
            AuditObject.kind,
            AuditObject.object_id,
            func.row_number()
            .over(partition_by=AuditObject.entry_id, order_by=(order, AuditObject.object_id))
            .label("number"),
            func.count().over(partition_by=AuditObject.entry_id).label("total"),
        )
        .where(AuditObject.entry_id.in_(entry_ids))
        .subquery()
    )
    result: dict[int, EntryObjects] = {}
    rows = db.session.execute(
        select(ranked).where(ranked.c.number <= limit).order_by(ranked.c.entry_id, ranked.c.number)
    )
    for entry_id, kind, object_id, _number, total in rows:
        objects = result.setdefault(entry_id, EntryObjects([], total))
        objects.pairs.append((ObjectKind(kind), object_id))
    return result
