"""Training done elsewhere, loaded in bulk from a CSV by an HR manager: all or nothing.

The file: a header row and one row per course a person took,
``codice_fiscale, title, provider, completed_on, hours`` (Italian headers such
as ``titolo``, ``ente_erogatore``, ``data``, ``ore`` are accepted too). It is
read with :mod:`lms.core.tabular`, as the roster is: UTF-8 with or without BOM or
Windows-1252, ``;`` or ``,``. The cells are checked as the learner's form
checks them (:mod:`lms.external.values`); dates as the roster writes them
(``GG/MM/AAAA`` or ``AAAA-MM-GG``).

Every problem is listed as ``riga N, colonna: motivo`` and then nothing is
written. A codice fiscale of a person outside the importer's scope gets the
very message an unknown one gets, so that a file cannot tell whether someone
exists in another area. A row naming a course the person already has (same
title in any case and spacing, same day, whatever its status) is skipped and
counted, not loaded twice; the same course twice in the file is an error.

Rows loaded are approved at once (source ``imported``), decided by the
importer; one audit entry (``training.import``) gives the file's SHA-256 and the
counts, with the people's authorities as its area.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final, TypeVar

from sqlalchemy import select

from lms import audit
from lms.auth.models import User
from lms.auth.permissions import authority_scope_clause
from lms.core.messages import Message, _l
from lms.core.tabular import (
    NUL,
    Header,
    RowError,
    TableError,
    check_header,
    decode,
    detect_delimiter,
    first_line,
    normalise_header,
    read_table,
)
from lms.core.types import utcnow
from lms.enrolments.roster.values import CellError, parse_date
from lms.extensions import db
from lms.external.models import ExternalTraining, TrainingSource, TrainingStatus
from lms.external.values import (
    ValueProblem,
    check_completed_on,
    clean_provider,
    clean_title,
    parse_hours,
    same_course_key,
    shown,
)
from lms.register.codice_fiscale import check_codice_fiscale
from lms.register.models import Authority, StaffMember

COLUMNS: Final = ("codice_fiscale", "title", "provider", "completed_on", "hours")
#: Other headers accepted for each column (after :func:`normalise_header`).
ALIASES: Final[Mapping[str, str]] = {
    "cf": "codice_fiscale",
    "titolo": "title",
    "titolo_corso": "title",
    "corso": "title",
    "ente_erogatore": "provider",
    "erogatore": "provider",
    "soggetto_erogatore": "provider",
    "data": "completed_on",
    "data_completamento": "completed_on",
    "data_fine": "completed_on",
    "completato_il": "completed_on",
    "ore": "hours",
    "durata_ore": "hours",
}
#: The header of the template file offered for download.
TEMPLATE_HEADER: Final = COLUMNS
#: An example row, for the guide and the documentation.
EXAMPLE_ROW: Final = (
    "RSSMRA80A41F839W",
    "Il nuovo codice dei contratti pubblici",
    "SNA",
    "15/03/2026",
    "7,5",
)
T = TypeVar("T")

#: Staff looked up per query (codici fiscali in one IN list).
CHUNK: Final = 1000


def _canonical(cell: str) -> str:
    name = normalise_header(cell)
    return ALIASES.get(name, name)


def _checked_header(raw: list[str], line: int) -> Header:
    if "\x00" in "".join(raw):
        raise TableError(NUL, line)
    return check_header(
        raw,
        line,
        required=COLUMNS,
        canonical=_canonical,
        italian_names="codice_fiscale, titolo, ente_erogatore, data, ore",
    )


@dataclass(frozen=True)
class TrainingRow:
    """One checked row, ready to load."""

    line: int
    staff_id: int
    authority_id: int
    title: str
    provider: str
    completed_on: date
    hours: Decimal


@dataclass
class ImportOutcome:
    """What a file holds and, once applied, what was loaded."""

    errors: list[RowError | TableError] = field(default_factory=list)
    more_errors: int = 0
    rows: int = 0
    #: Rows to load (all of them checked), in file order.
    new: list[TrainingRow] = field(default_factory=list)
    #: Rows naming a course the person already has: not loaded again.
    skipped: int = 0
    #: Each column's header as the file writes it.
    written: Mapping[str, str] = field(default_factory=dict)
    #: New rows per authority code, for the preview.
    by_authority: dict[str, int] = field(default_factory=dict)
    #: Ids of the records written (after :func:`run_import` with ``apply``).
    training_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file had no problem at all."""
        return not self.errors and not self.more_errors

    @property
    def hours(self) -> Decimal:
        """The hours of the rows to load."""
        return sum((row.hours for row in self.new), Decimal(0))


def read_rows(data: bytes) -> tuple[Header, Iterator[tuple[int, list[str]]]]:
    """The file's checked header and its rows as (line, cells); TableError if unreadable."""
    text, encoding = decode(data)
    line = first_line(text)
    del text
    if line.startswith("<"):
        raise TableError(_l("il file è una pagina web o un file XML, non un CSV"))
    return read_table(data, encoding, detect_delimiter(line), _checked_header)


def _scope_staff(codes: set[str], importer: User) -> dict[str, tuple[int, int]]:
    """Codice fiscale → (staff id, authority id) of the people in *importer*'s scope only."""
    found: dict[str, tuple[int, int]] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        for code, staff_id, authority_id in db.session.execute(
            select(StaffMember.codice_fiscale, StaffMember.id, StaffMember.authority_id)
            .join(Authority, Authority.id == StaffMember.authority_id)
            .where(StaffMember.codice_fiscale.in_(chunk), authority_scope_clause(importer))
        ):
            found[code] = (staff_id, authority_id)
    return found


def _existing_keys(staff_ids: set[int]) -> set[tuple[int, tuple[str, date]]]:
    """(staff id, course key) of every record the people already have, whatever its status."""
    keys: set[tuple[int, tuple[str, date]]] = set()
    ordered = sorted(staff_ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        for staff_id, title, completed_on in db.session.execute(
            select(
                ExternalTraining.staff_id, ExternalTraining.title, ExternalTraining.completed_on
            ).where(ExternalTraining.staff_id.in_(chunk))
        ):
            keys.add((staff_id, same_course_key(title, completed_on)))
    return keys


UNKNOWN_PERSON: Final = _l(
    "nessuna persona con questo codice fiscale nel personale degli enti di tua competenza"
)


class _Errors:
    """The problems found, at most *limit* listed and the rest counted."""

    def __init__(self, limit: int | None) -> None:
        self.listed: list[RowError] = []
        self.more = 0
        self.limit = limit

    def add(self, line: int, column: str | Message, reason: Message) -> None:
        if self.limit is not None and len(self.listed) >= self.limit:
            self.more += 1
        else:
            self.listed.append(RowError(line, column, reason))


def check_file(
    data: bytes, *, importer: User, today: date, max_errors: int | None = 200
) -> ImportOutcome:
    """Read and check every row of *data*; nothing is written."""
    outcome = ImportOutcome()
    try:
        header, lines = read_rows(data)
        raw_rows = list(lines)
    except TableError as exc:
        outcome.errors = [exc]
        return outcome
    outcome.written = header.written
    names = header.names
    outcome.rows = len(raw_rows)
    if not raw_rows:
        outcome.errors = [
            TableError(_l("il file ha solo la riga di intestazione: nessuna riga da importare"))
        ]
        return outcome
    rows = [(line, dict(zip(names, values, strict=False)), values) for line, values in raw_rows]
    codes = {(cells.get("codice_fiscale") or "").strip().upper() for _line, cells, _v in rows}
    people = _scope_staff(codes - {""}, importer)
    errors = _Errors(max_errors)
    seen: dict[tuple[int, tuple[str, date]], int] = {}
    checked: list[TrainingRow] = []
    for line, cells, values in rows:
        row = _check_row(line, cells, values[len(names) :], people, today, errors)
        if row is None:
            continue
        key = (row.staff_id, same_course_key(row.title, row.completed_on))
        if key in seen:
            errors.add(
                line,
                "title",
                _l(
                    "la stessa formazione (persona, titolo e data) è già alla riga %(line)d",
                    line=seen[key],
                ),
            )
            continue
        seen[key] = line
        checked.append(row)
    if errors.listed or errors.more:
        outcome.errors = list(errors.listed)
        outcome.more_errors = errors.more
        return outcome
    existing = _existing_keys({row.staff_id for row in checked})
    outcome.new = [
        row
        for row in checked
        if (row.staff_id, same_course_key(row.title, row.completed_on)) not in existing
    ]
    outcome.skipped = len(checked) - len(outcome.new)
    codes_by_id = dict(
        db.session.execute(
            select(Authority.id, Authority.code).where(
                Authority.id.in_({row.authority_id for row in outcome.new})
            )
        ).all()
    )
    counts = Counter(codes_by_id[row.authority_id] for row in outcome.new)
    outcome.by_authority = dict(sorted(counts.items()))
    return outcome


def _check_row(
    line: int,
    cells: Mapping[str, str],
    extra: list[str],
    people: Mapping[str, tuple[int, int]],
    today: date,
    errors: _Errors,
) -> TrainingRow | None:
    """One row's checks, every column's problem added to *errors*; the row if it has none."""

    def fail(column: str | Message, reason: Message) -> None:
        errors.add(line, column, reason)

    code = (cells.get("codice_fiscale") or "").strip().upper()
    person = people.get(code)
    if person is None:
        if not code:
            fail("codice_fiscale", _l("manca il codice fiscale"))
        else:
            fail("codice_fiscale", check_codice_fiscale(code) or UNKNOWN_PERSON)
    title = _cell(cells, "title", clean_title, fail)
    provider = _cell(cells, "provider", clean_provider, fail)
    completed_on = _day(cells.get("completed_on") or "", today, fail)
    hours = _cell(cells, "hours", parse_hours, fail)
    if "".join(extra).strip():
        fail(
            _l("celle in più"),
            _l(
                "«%(values)s» è oltre l'ultima colonna dell'intestazione",
                values=shown(",".join(extra)),
            ),
        )
    if person is None or title is None or provider is None:
        return None
    if completed_on is None or hours is None:
        return None
    staff_id, authority_id = person
    return TrainingRow(line, staff_id, authority_id, title, provider, completed_on, hours)


def _cell(
    cells: Mapping[str, str],
    column: str,
    parse: Callable[[str], T],
    fail: Callable[[str, Message], None],
) -> T | None:
    try:
        return parse(cells.get(column) or "")
    except ValueProblem as problem:
        fail(column, problem.message)
        return None


def _day(text: str, today: date, fail: Callable[[str, Message], None]) -> date | None:
    if not text.strip():
        fail("completed_on", _l("manca la data in cui il corso è finito"))
        return None
    try:
        return check_completed_on(parse_date(text), today)
    except CellError as problem:
        fail("completed_on", problem.message)
    except ValueProblem as problem:
        fail("completed_on", problem.message)
    return None


def run_import(
    data: bytes, *, importer: User, today: date, apply: bool, max_errors: int | None = 200
) -> ImportOutcome:
    """Check *data* and, when *apply* and it has no problem, load its new rows; flush only."""
    outcome = check_file(data, importer=importer, today=today, max_errors=max_errors)
    if not outcome.ok or not apply or not outcome.new:
        return outcome
    now = utcnow()
    records = [
        ExternalTraining(
            staff_id=row.staff_id,
            title=row.title,
            provider=row.provider,
            completed_on=row.completed_on,
            hours=row.hours,
            status=TrainingStatus.APPROVED,
            source=TrainingSource.IMPORTED,
            declared_by_id=importer.id,
            declared_at=now,
            decided_by_id=importer.id,
            decided_at=now,
        )
        for row in outcome.new
    ]
    db.session.add_all(records)
    db.session.flush()
    outcome.training_ids = [record.id for record in records]
    audit.record(
        audit.Action.TRAINING_IMPORT,
        actor_id=importer.id,
        objects=[(audit.ObjectKind.TRAINING, training_id) for training_id in outcome.training_ids],
        authority_ids=sorted({row.authority_id for row in outcome.new}),
        summary={
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "rows": outcome.rows,
            "imported": len(outcome.new),
            "skipped": outcome.skipped,
            "people": len({row.staff_id for row in outcome.new}),
            "hours": format(outcome.hours, "f"),
        },
    )
    return outcome
