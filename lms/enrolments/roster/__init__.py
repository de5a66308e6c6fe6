"""Staff roster files: reading the CSV or XLSX an HR office has, and checking every row.

Pure functions, no Flask and no database (``staff-and-reports.md``, "Staff roster
import"). :func:`read_roster` turns the bytes of an upload into rows keyed by the
spec's column names; :func:`validate_rows` turns those rows into :class:`StaffRow`
values or into :class:`~lms.core.tabular.RowError` errors, ``line N, column: reason``
once shown: in the reader's language on the upload page (Italian by default),
in English on the command line (see :mod:`lms.core.messages`). The database layer builds
the ``authority_codes`` mapping, writes the rows only when there is no error, and
decides what an absent optional column means for a person already known
(:attr:`RosterFile.columns` says which columns the file had).

One subject a module, each saying what it decides:

- :mod:`~lms.enrolments.roster.formats`: which kind of file it is, by content;
- :mod:`~lms.enrolments.roster.csv_reader`: a CSV (the reader of
  :mod:`lms.core.tabular`, with the roster's columns);
- :mod:`~lms.enrolments.roster.xlsx_reader`: an XLSX, in bounded memory (the
  limits are the ``MAX_XLSX_*`` below);
- :mod:`~lms.enrolments.roster.columns`: column names, Italian aliases, the
  header check, the upload page's column guide and template;
- :mod:`~lms.enrolments.roster.values`: dates, categories, names;
- :mod:`~lms.register.codice_fiscale` and
  :mod:`~lms.enrolments.roster.email_address`: those two checks;
- :mod:`~lms.enrolments.roster.rows`: :func:`validate_rows` and the row checker.

The names other modules use are imported from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Final, Literal

from lms.core.messages import _l
from lms.core.tabular import Row, TableError
from lms.enrolments.roster.columns import (
    COLUMNS,
    HEADER_ALIASES,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TEMPLATE_HEADER,
    ColumnGuide,
    canonical_column,
    column_guide,
)
from lms.enrolments.roster.csv_reader import read_csv_roster
from lms.enrolments.roster.email_address import EmailNormaliser, email_reason
from lms.enrolments.roster.formats import recognise_format
from lms.enrolments.roster.rows import StaffRow, ValidationResult, check_row, validate_rows
from lms.enrolments.roster.values import (
    CATEGORY_WORDS,
    EXISTING,
    NEW_HIRE,
    Category,
    CellError,
    parse_category,
    parse_date,
)
from lms.enrolments.roster.xlsx_reader import (
    XlsxLimits,
    authority_code_from_number,
    read_xlsx_roster,
)
from lms.register.codice_fiscale import check_codice_fiscale

__all__ = [
    "CATEGORY_WORDS",
    "COLUMNS",
    "EXISTING",
    "HEADER_ALIASES",
    "MAX_XLSX_MEMBERS",
    "MAX_XLSX_PART_BYTES",
    "MAX_XLSX_RATIO",
    "MAX_XLSX_UNPACKED_BYTES",
    "NEW_HIRE",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TEMPLATE_HEADER",
    "Category",
    "CellError",
    "ColumnGuide",
    "EmailNormaliser",
    "RosterFile",
    "StaffRow",
    "ValidationResult",
    "authority_code_from_number",
    "canonical_column",
    "check_codice_fiscale",
    "check_row",
    "column_guide",
    "email_reason",
    "parse_category",
    "parse_date",
    "read_roster",
    "validate_rows",
]

# How large a workbook may be (see :mod:`~lms.enrolments.roster.xlsx_reader`). They
# are read each time a roster is read, so that a test may lower them.

#: An XLSX file is a ZIP; refuse one that would unpack to more than this (a "ZIP bomb").
MAX_XLSX_UNPACKED_BYTES: Final = 512 * 1024 * 1024
#: What openpyxl reads while it opens a workbook (shared strings, styles, the workbook,
#: relationships) it keeps in memory: each such part may unpack to at most this. Only
#: the worksheets, read afterwards as a stream, may be larger. A 100,000-row roster's
#: shared strings are some 12 MiB.
MAX_XLSX_PART_BYTES: Final = 32 * 1024 * 1024
#: A part of more than :data:`_RATIO_FROM_BYTES` may be at most this many times its
#: compressed size: workbooks' XML shrinks 3 to 20 times, a "ZIP bomb" a thousand times.
MAX_XLSX_RATIO: Final = 100
_RATIO_FROM_BYTES: Final = 1024 * 1024
#: Entries a workbook's ZIP directory may have: Python keeps some 600 bytes for each
#: entry it lists, and a workbook has tens of them.
MAX_XLSX_MEMBERS: Final = 10_000


@dataclass(frozen=True)
class RosterFile:
    """A roster whose header has been checked; iterate it (once) for its rows."""

    format: Literal["csv", "xlsx"]
    #: The spec's names of the columns the file has, required ones included.
    columns: frozenset[str]
    rows: Iterator[Row] = field(repr=False)
    #: Each column's header as the file writes it ("Data Assunzione" for
    #: ``hired_on``): errors name the column the way the person sees it.
    written: Mapping[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Row]:
        return self.rows


def read_roster(data: bytes, filename: str = "") -> RosterFile:
    """Recognise the format, check the header, and return the rows as a stream.

    Raises :class:`TableError` at once for a file that cannot be a roster (wrong
    format, empty, bad header, no rows under the header); a CSV syntax error
    further down is raised while the rows are read. *filename* only words messages.
    """
    file_format = recognise_format(data)
    if file_format == "xlsx":
        limits = XlsxLimits(
            members=MAX_XLSX_MEMBERS,
            unpacked_bytes=MAX_XLSX_UNPACKED_BYTES,
            part_bytes=MAX_XLSX_PART_BYTES,
            ratio=MAX_XLSX_RATIO,
            ratio_from_bytes=_RATIO_FROM_BYTES,
        )
        (header, written), rows = read_xlsx_roster(data, limits)
    else:
        (header, written), rows = read_csv_roster(data, filename)
    first = next(rows, None)
    if first is None:
        raise TableError(_l("non ci sono righe sotto l'intestazione"))
    return RosterFile(file_format, frozenset(filter(None, header)), chain([first], rows), written)
