"""Regions and authorities: who the programme's staff work for."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    event,
    func,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from lms.core.search import fold, name_key
from lms.core.types import UTCDateTime, utcnow
from lms.extensions import Model

LESS_DEVELOPED_REGION_CODES = frozenset({"14", "15", "16", "17", "18", "19", "20"})
#: Stand-ins for an empty hiring or leaving day in SQL comparisons (see StaffMember.on_staff).
EARLIEST = date(1, 1, 1)
LATEST = date(9999, 12, 31)


def left_by(left_on: date | None, day: date) -> bool:
    """Whether someone whose leaving day is *left_on* is off the staff on *day*.

    ``left_on`` is the first day out. The rule behind :meth:`StaffMember.has_left`,
    for values not (yet) in a record, such as a roster row.
    """
    return left_on is not None and left_on <= day


# The folded search columns (lms.core.search) follow the names they fold: an ORM
# flush sets them (the events below each model), a Core or bulk INSERT through the
# column's default; bulk UPDATEs and PostgreSQL's COPY (the roster import, the
# register's load) write them with the names.


def folded_name(context: DefaultExecutionContext) -> str:
    """The ``search_name`` default of an INSERT that names a row: its ``name``, folded."""
    return fold(context.get_current_parameters().get("name") or "")


def folded_person(context: DefaultExecutionContext) -> str:
    """The ``search_name`` default of an INSERT of a person: :func:`name_key` of the names."""
    parameters = context.get_current_parameters()
    return name_key(parameters.get("first_name") or "", parameters.get("last_name") or "")


class AuthorityKind(enum.StrEnum):
    """Kinds of public authority, as ``staff-and-reports.md`` names them."""

    REGIONE = "regione"
    PROVINCIA = "provincia"
    CITTA_METROPOLITANA = "citta_metropolitana"
    COMUNE = "comune"
    UNIONE_DI_COMUNI = "unione_di_comuni"
    ALTRO = "altro"


class Region(Model):
    """One of Italy's 20 regions."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ISTAT region code, two digits ("01" Piemonte … "20" Sardegna).
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    #: NUTS-2 code (2024); empty for Trentino-Alto Adige, which is two NUTS-2 areas.
    nuts2: Mapped[str | None] = mapped_column(String(4))
    #: One of the seven less developed regions of the 2021-2027 programming period.
    less_developed: Mapped[bool] = mapped_column(Boolean, default=False)

    authorities: Mapped[list[Authority]] = relationship(back_populates="region")

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class Authority(Model):
    """A public body whose staff are trained: a region, province, municipality or other."""

    __tablename__ = "authorities"
    __table_args__ = (
        CheckConstraint(
            "istat_code IS NULL OR length(istat_code) IN (2, 3, 6)", name="istat_code_length"
        ),
        Index("ix_authorities_region_kind", "region_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The code people type: the ISTAT code for authorities from ISTAT's list,
    #: otherwise the code given when the authority was added (often its IPA code).
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[AuthorityKind] = mapped_column(
        Enum(
            AuthorityKind,
            name="authority_kind",
            native_enum=False,
            create_constraint=True,
            length=24,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    name: Mapped[str] = mapped_column(String(200))
    #: ``name`` folded for searches (lms.core.search): ``ciro`` finds Cirò.
    search_name: Mapped[str] = mapped_column(Text, default=folded_name, server_default=text("''"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))  # indexed with kind below
    #: ISTAT code: 2 digits for a region, 3 for a province or metropolitan city,
    #: 6 for a municipality.
    istat_code: Mapped[str | None] = mapped_column(String(6), unique=True)
    #: Code in the Indice dei domicili digitali della PA (IndicePA), where known.
    ipa_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    #: For a municipality, the province or metropolitan city it belongs to.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("authorities.id"), index=True)

    region: Mapped[Region] = relationship(back_populates="authorities")
    parent: Mapped[Authority | None] = relationship(remote_side="Authority.id")

    def __repr__(self) -> str:
        return f"<Authority {self.code} {self.name}>"


@event.listens_for(Authority, "before_insert")
@event.listens_for(Authority, "before_update")
def _fold_authority_name(
    _mapper: Mapper[Authority], _connection: object, target: Authority
) -> None:
    target.search_name = fold(target.name or "")


class StaffCategory(enum.StrEnum):
    """Staff categories of the programme."""

    NEW_HIRE = "new_hire"
    EXISTING = "existing"


class StaffMember(Model):
    """A person on an authority's staff, as the HR manager's roster lists them."""

    __tablename__ = "staff_members"
    __table_args__ = (
        CheckConstraint("length(codice_fiscale) = 16", name="codice_fiscale_length"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("left_on IS NULL OR hired_on IS NULL OR left_on >= hired_on", name="dates"),
        Index("ix_staff_members_authority_category", "authority_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The person's key: 16 characters, upper case, checked with python-codicefiscale.
    codice_fiscale: Mapped[str] = mapped_column(String(16), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    #: Both orders of the name, folded for searches (lms.core.search.name_key).
    search_name: Mapped[str] = mapped_column(Text, default=folded_person, server_default=text("''"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    category: Mapped[StaffCategory] = mapped_column(
        Enum(
            StaffCategory,
            name="staff_category",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda members: [m.value for m in members],
        )
    )
    #: Job profile, e.g. "specialista tecnico" (free text from the roster).
    profile: Mapped[str | None] = mapped_column(String(200))
    #: Empty: on the staff since before the records start.
    hired_on: Mapped[date | None] = mapped_column(Date)
    #: From this day on the person is out of every count (the record is kept).
    left_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: The person's learner account (one per staff record).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the mail server last refused ``email`` for good (a 5xx answer to a
    #: reminder, lms.notifications.send); cleared when the address changes.
    email_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The server's answer then (its code and text, never the address).
    email_refused_reason: Mapped[str | None] = mapped_column(String(200))

    authority: Mapped[Authority] = relationship()

    @property
    def full_name(self) -> str:
        """Name and surname."""
        return f"{self.first_name} {self.last_name}"

    # "On the staff on day D", the one definition (staff-and-reports.md): hired
    # (or hired before the records start) by D, and not left by D. Each is a
    # hybrid: the same rule in Python for one record and as SQL for a query.
    # The SQL uses COALESCE rather than "IS NULL OR": SQLite would otherwise
    # drive the big report aggregates from the left_on index (a MULTI-INDEX OR,
    # then a sort) instead of scanning enrolments in their own index order.

    # Each expression is declared with ``@<name>.expression``: it sets the SQL side
    # of the hybrid in place and returns it, as ``.inplace.expression`` would
    # (a no-op for a hybrid_method), which mypy mistypes as the bound method.

    @hybrid_method
    def has_left(self, day: date) -> bool:
        """Whether the person is off the staff on *day*: ``left_on`` is the first day out.

        From that day the person's account no longer signs in, and sessions
        opened before end at their next request.
        """
        return left_by(self.left_on, day)

    @has_left.expression
    @classmethod
    def _has_left_expression(cls, day: date) -> ColumnElement[bool]:
        # No OR here: the left_on index finds the few who left among many.
        return and_(cls.left_on.is_not(None), cls.left_on <= day)

    @hybrid_method
    def still_employed(self, day: date) -> bool:
        """Whether the person has not left by *day* (a new hire not yet started is employed)."""
        return not self.has_left(day)

    @still_employed.expression
    @classmethod
    def _still_employed_expression(cls, day: date) -> ColumnElement[bool]:
        return func.coalesce(cls.left_on, LATEST) > day

    @hybrid_method
    def on_staff(self, day: date) -> bool:
        """Whether the person counts as staff on *day*: hired by then and not left."""
        return (self.hired_on is None or self.hired_on <= day) and not self.has_left(day)

    @on_staff.expression
    @classmethod
    def _on_staff_expression(cls, day: date) -> ColumnElement[bool]:
        return and_(
            func.coalesce(cls.hired_on, EARLIEST) <= day, cls._still_employed_expression(day)
        )

    def __repr__(self) -> str:
        return f"<StaffMember {self.id}>"


@event.listens_for(StaffMember, "before_insert")
@event.listens_for(StaffMember, "before_update")
def _fold_staff_name(
    _mapper: Mapper[StaffMember], _connection: object, target: StaffMember
) -> None:
    target.search_name = name_key(target.first_name or "", target.last_name or "")
