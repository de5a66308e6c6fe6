"""Loading the register and adding authorities: set-based, idempotent, all or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import InstrumentedAttribute

from lms.core.messages import _l, english
from lms.core.search import fold
from lms.core.tabular import TableError, read_csv
from lms.extensions import db
from lms.register.istat import AuthorityRecord, Register
from lms.register.models import Authority, AuthorityKind, Region


@dataclass
class LoadResult:
    """What a load or import changed."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    #: ``line N, column: reason``, in English: authorities are added from the
    #: command line only.
    errors: list[str] = field(default_factory=list)


def load_register(register: Register) -> LoadResult:
    """Insert or update regions, provinces, metropolitan cities and municipalities.

    Matches on ISTAT codes, so running it again changes nothing; authorities
    added by hand are left alone.
    """
    result = LoadResult()
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    for record in register.regions:
        region = regions.get(record.code)
        values = {
            "name": record.name,
            "nuts2": record.nuts2,
            "less_developed": record.less_developed,
        }
        if region is None:
            region = Region(code=record.code, **values)
            db.session.add(region)
            regions[record.code] = region
            result.added += 1
        elif any(getattr(region, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(region, key, value)
            result.updated += 1
        else:
            result.unchanged += 1
    db.session.flush()
    region_ids = {code: region.id for code, region in regions.items()}

    region_authorities = [
        AuthorityRecord(
            istat_code=r.code,
            kind=AuthorityKind.REGIONE,
            name=f"Regione {r.name}",
            region_code=r.code,
            parent_istat_code=None,
        )
        for r in register.regions
    ]
    _upsert_authorities(region_authorities, region_ids, result)
    _upsert_authorities(register.supra_municipal, region_ids, result)
    _upsert_authorities(register.municipalities, region_ids, result)
    return result


def _upsert_authorities(
    records: list[AuthorityRecord], region_ids: dict[str, int], result: LoadResult
) -> None:
    existing = {
        row.istat_code: row
        for row in db.session.execute(
            select(
                Authority.id,
                Authority.istat_code,
                Authority.kind,
                Authority.name,
                Authority.region_id,
                Authority.parent_id,
            ).where(Authority.istat_code.is_not(None))
        )
    }
    parents = {code: row.id for code, row in existing.items()}
    to_insert, to_update = [], []
    for record in records:
        values = {
            "kind": record.kind,
            "name": record.name,
            "region_id": region_ids[record.region_code],
            "parent_id": parents.get(record.parent_istat_code)
            if record.parent_istat_code
            else None,
        }
        row = existing.get(record.istat_code)
        # Bulk statements fire no ORM events: the folded name goes with the name.
        folded = fold(record.name)
        if row is None:
            to_insert.append(
                {
                    "code": record.istat_code,
                    "istat_code": record.istat_code,
                    **values,
                    "search_name": folded,
                }
            )
        elif any(getattr(row, k) != v for k, v in values.items()):
            to_update.append({"id": row.id, **values, "search_name": folded})
        else:
            result.unchanged += 1
    if to_insert:
        db.session.execute(insert(Authority), to_insert)
    if to_update:
        db.session.execute(update(Authority), to_update)
    result.added += len(to_insert)
    result.updated += len(to_update)
    db.session.flush()


_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
_KINDS = {k.value for k in AuthorityKind}


@dataclass(frozen=True)
class _AuthorityRow:
    """A row of an authorities CSV, trimmed."""

    line: int
    code: str
    kind: str
    name: str
    region_code: str
    istat_code: str


def _row_errors(
    row: _AuthorityRow, regions: dict[str, int], first_seen: dict[str, int]
) -> list[str]:
    """Every problem of one row, as ``column: reason``."""
    errors = []
    if not _CODE_PATTERN.match(row.code):
        errors.append("code: required, up to 32 letters, digits, '.', '_' or '-'")
    elif first_seen.setdefault(row.code, row.line) != row.line:
        errors.append(f"code: {row.code} appears again (first on line {first_seen[row.code]})")
    if row.kind not in _KINDS:
        errors.append(f"kind: {row.kind or '(empty)'} is not one of {', '.join(sorted(_KINDS))}")
    if not row.name:
        errors.append("name: required")
    elif len(row.name) > 200:  # noqa: PLR2004
        errors.append("name: longer than 200 characters")
    if row.region_code not in regions:
        errors.append(f"region_code: {row.region_code or '(empty)'} is not a region code (01-20)")
    if row.istat_code and not (row.istat_code.isdigit() and len(row.istat_code) in {2, 3, 6}):
        errors.append("istat_code: must be 2, 3 or 6 digits")
    elif row.code.isdigit() and row.code != row.istat_code:
        errors.append("code: an all-digit code must be the authority's ISTAT code")
    return errors


def _read_authority_rows(data: bytes) -> list[_AuthorityRow]:
    """Parse the CSV into trimmed rows; a file without rows is an error."""
    _header, raw_rows = read_csv(
        data, required={"code", "kind", "name", "region_code"}, optional={"istat_code"}
    )
    rows = [
        _AuthorityRow(
            line=r.line,
            code=r.get("code"),
            kind=r.get("kind").lower(),
            name=r.get("name"),
            region_code=r.get("region_code").zfill(2) if r.get("region_code") else "",
            istat_code=r.get("istat_code"),
        )
        for r in raw_rows
    ]
    if not rows:
        raise TableError(_l("il file ha l'intestazione ma nessuna riga"))
    return rows


@dataclass(frozen=True)
class _Known:
    """The authorities an import's rows refer to, by code, ISTAT code and IPA code."""

    by_code: dict[str, Authority]
    by_istat: dict[str, Authority]
    by_ipa: dict[str, Authority]

    @classmethod
    def for_rows(cls, rows: list[_AuthorityRow]) -> _Known:
        codes = {r.code for r in rows}
        istat_codes = {r.istat_code for r in rows if r.istat_code}

        def index(
            column: InstrumentedAttribute[str | None], values: set[str], key: str
        ) -> dict[str, Authority]:
            found = db.session.scalars(select(Authority).where(column.in_(values)))
            return {getattr(a, key): a for a in found}

        return cls(
            by_code=index(Authority.code, codes, "code"),
            by_istat=index(Authority.istat_code, istat_codes, "istat_code"),
            by_ipa=index(Authority.ipa_code, codes, "ipa_code"),
        )

    def target(self, row: _AuthorityRow) -> Authority | None:
        """The authority the row updates: same code, else same ISTAT code."""
        return self.by_code.get(row.code) or (
            self.by_istat.get(row.istat_code) if row.istat_code else None
        )


def _apply_row(row: _AuthorityRow, region_id: int, known: _Known, result: LoadResult) -> None:
    values = {"kind": AuthorityKind(row.kind), "name": row.name, "region_id": region_id}
    target = known.target(row)
    if target is None:
        db.session.add(
            Authority(
                code=row.code,
                istat_code=row.istat_code or None,
                ipa_code=None if row.code.isdigit() else row.code,
                **values,
            )
        )
        result.added += 1
    elif target.code != row.code:
        # A register authority under another code: the row gives its IPA code.
        if target.ipa_code == row.code:
            result.unchanged += 1
        else:
            target.ipa_code = row.code
            result.updated += 1
    elif any(getattr(target, k) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(target, key, value)
        result.updated += 1
    else:
        result.unchanged += 1


def import_authorities(data: bytes) -> LoadResult:
    """Add or update authorities from CSV ``code,kind,name,region_code,istat_code``.

    Every row is checked first; on any error nothing is written and every bad
    row is reported as ``line N, column: reason``. A row whose ``istat_code`` is
    already in the register (under another code) records ``code`` as that
    authority's IPA code and changes nothing else.
    """
    result = LoadResult()
    try:
        rows = _read_authority_rows(data)
    except TableError as exc:
        with english():  # the shared reader's messages, worded as the rows' errors are
            result.errors.append(str(exc))
        return result

    regions = {r.code: r.id for r in db.session.scalars(select(Region))}
    first_seen: dict[str, int] = {}
    for row in rows:
        result.errors.extend(f"line {row.line}, {e}" for e in _row_errors(row, regions, first_seen))
    if result.errors:
        return result

    known = _Known.for_rows(rows)
    for row in rows:
        owner = known.by_ipa.get(row.code)
        if owner is not None and owner is not known.target(row):
            result.errors.append(
                f"line {row.line}, code: {row.code} is already the IPA code of "
                f"{owner.name} ({owner.code})"
            )
    if result.errors:
        return result
    for row in rows:
        _apply_row(row, regions[row.region_code], known, result)
    db.session.flush()
    return result
