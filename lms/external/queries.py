"""Set-based reads of training done elsewhere: one's own, an HR manager's queue and records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from lms.auth.models import User
from lms.auth.permissions import authority_scope_clause
from lms.core.sql import MAX_ROW_ID
from lms.core.types import rome_date
from lms.extensions import db
from lms.external.models import ExternalTraining, TrainingStatus
from lms.register.models import Authority, StaffMember

#: The columns of the records' download, in order.
RECORD_COLUMNS = (
    "id",
    "codice_fiscale",
    "last_name",
    "first_name",
    "authority_code",
    "title",
    "provider",
    "completed_on",
    "hours",
    "status",
    "source",
    "declared_on",
    "decided_on",
    "refusal_reason",
)


def own_trainings(staff: StaffMember) -> list[ExternalTraining]:
    """*staff*'s records, the newest course first."""
    return list(
        db.session.scalars(
            select(ExternalTraining)
            .where(ExternalTraining.staff_id == staff.id)
            .order_by(ExternalTraining.completed_on.desc(), ExternalTraining.id.desc())
        )
    )


def training_by_id(training_id: int) -> ExternalTraining | None:
    """The record *training_id* with its person and their authority, or None."""
    if training_id > MAX_ROW_ID:
        return None
    return db.session.scalar(
        select(ExternalTraining)
        .join(StaffMember, StaffMember.id == ExternalTraining.staff_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .options(contains_eager(ExternalTraining.staff).contains_eager(StaffMember.authority))
        .where(ExternalTraining.id == training_id)
    )


def people_in_scope(reader: User, staff_ids: Iterable[int]) -> dict[int, StaffMember]:
    """The staff records *staff_ids* that are in *reader*'s scope, by id (an import's preview)."""
    wanted = sorted(set(staff_ids))
    if not wanted:
        return {}
    return {
        member.id: member
        for member in db.session.scalars(
            select(StaffMember)
            .join(Authority, Authority.id == StaffMember.authority_id)
            .where(StaffMember.id.in_(wanted), authority_scope_clause(reader))
        )
    }


def in_scope(reader: User) -> Select[ExternalTraining]:
    """Records of the people of *reader*'s scope, with person and authority loaded."""
    return (
        select(ExternalTraining)
        .join(StaffMember, StaffMember.id == ExternalTraining.staff_id)
        .join(Authority, Authority.id == StaffMember.authority_id)
        .options(contains_eager(ExternalTraining.staff).contains_eager(StaffMember.authority))
        .where(authority_scope_clause(reader))
    )


def queue(reader: User) -> Select[ExternalTraining]:
    """Pending declarations in *reader*'s scope, oldest first; never the reader's own."""
    query = in_scope(reader).where(ExternalTraining.status == TrainingStatus.PENDING)
    own = select(StaffMember.id).where(StaffMember.user_id == reader.id)
    query = query.where(ExternalTraining.staff_id.not_in(own))
    return query.order_by(ExternalTraining.declared_at, ExternalTraining.id)


def pending_count(reader: User) -> int:
    """How many declarations wait for *reader*'s decision."""
    return int(db.session.scalar(select(func.count()).select_from(queue(reader).subquery())) or 0)


def records(
    reader: User,
    *,
    status: TrainingStatus | None = None,
    staff: StaffMember | None = None,
    year: int | None = None,
) -> Select[ExternalTraining]:
    """Every record in *reader*'s scope, filtered; the newest course first."""
    query = in_scope(reader)
    if status is not None:
        query = query.where(ExternalTraining.status == status)
    if staff is not None:
        query = query.where(ExternalTraining.staff_id == staff.id)
    if year is not None:
        query = query.where(
            ExternalTraining.completed_on >= date(year, 1, 1),
            ExternalTraining.completed_on < date(year + 1, 1, 1),
        )
    return query.order_by(
        ExternalTraining.completed_on.desc(),
        StaffMember.last_name,
        StaffMember.first_name,
        ExternalTraining.id,
    )


def record_rows(query: Select[ExternalTraining]) -> Iterator[Sequence[object]]:
    """The cells of :data:`RECORD_COLUMNS` for each record of *query*, streamed."""
    result = db.session.execute(query.execution_options(yield_per=500))
    for training in result.scalars():
        staff = training.staff
        yield [
            training.id,
            staff.codice_fiscale,
            staff.last_name,
            staff.first_name,
            staff.authority.code,
            training.title,
            training.provider,
            training.completed_on,
            training.hours,
            training.status.value,
            training.source.value,
            rome_date(training.declared_at),
            rome_date(training.decided_at) if training.decided_at else None,
            training.refusal_reason,
        ]
