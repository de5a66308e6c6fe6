"""Regions and authorities: who the programme's staff work for."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db

LESS_DEVELOPED_REGION_CODES = frozenset({"14", "15", "16", "17", "18", "19", "20"})


class AuthorityKind(enum.StrEnum):
    """Kinds of public authority, as ``staff-and-reports.md`` names them."""

    REGIONE = "regione"
    PROVINCIA = "provincia"
    CITTA_METROPOLITANA = "citta_metropolitana"
    COMUNE = "comune"
    UNIONE_DI_COMUNI = "unione_di_comuni"
    ALTRO = "altro"


class Region(db.Model):
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


class Authority(db.Model):
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
