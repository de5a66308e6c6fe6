"""Writing the programme's CSV and XLSX files (``staff-and-reports.md``), streamed.

These are the files for scripts and the command line; a person downloading
from a page gets the XLSX for people first (:mod:`lms.core.people_xlsx`),
which reuses :func:`escape_text` and :func:`file_chunks`.

- CSV: UTF-8 with a BOM (so Excel shows accents right), comma-separated, CRLF;
  a text cell that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets a leading ``'`` so that a spreadsheet never runs it as a formula.
- XLSX (XlsxWriter in ``constant_memory`` mode, rows flushed to disk as they
  are written): numbers as numbers, dates as dates, text always as text (never a
  formula), the header row frozen, an autofilter and column widths.

Both produce chunks of bytes from an iterator of rows, so memory stays flat
however many rows there are. The standard library and XlsxWriter do the
writing; only the cell conversions are ours.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_FLUSH_ROWS = 500
FILE_CHUNK = 64 * 1024
#: Excel's limit per sheet; longer reports go on to a second sheet.
XLSX_MAX_ROWS = 1_048_576
XLSX_SAMPLE_ROWS = 200
XLSX_MAX_WIDTH = 60

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def escape_text(text: str) -> str:
    """*text* made safe to open in a spreadsheet: formula starts get a leading ``'``."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text(value: object) -> str:
    return escape_text(str(value))


#: How each type of cell is written; looked up by exact type (a million rows
#: go through here), anything else is text.
_CSV_WRITERS: dict[type, Callable[[Any], str]] = {
    str: escape_text,
    int: str,
    float: str,
    bool: lambda value: "true" if value else "false",
    Decimal: lambda value: format(value, "f"),
    date: date.isoformat,
    datetime: lambda value: value.isoformat(timespec="seconds"),
    type(None): lambda _value: "",
}


def csv_value(value: object) -> str:
    """One cell as CSV text: dates ISO, decimals without exponent, booleans true/false."""
    return _CSV_WRITERS.get(type(value), _text)(value)


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The CSV file, BOM first, in chunks of a few hundred rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([csv_value(cell) for cell in row])
        if count % CSV_FLUSH_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def csv_header(header: Sequence[str]) -> bytes:
    """The CSV file's start: the BOM and the header line (the first chunk of :func:`csv_chunks`)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(header)
    return "\ufeff".encode() + buffer.getvalue().encode()


def csv_line_chunks(header: Sequence[str], batches: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """The CSV file from lines already written (escaped and quoted), a batch at a time.

    For a report whose database writes each line as :func:`csv_chunks` would
    (the learner detail as of today): the BOM and header, then each batch of
    lines joined with CRLF, encoded once.
    """
    yield csv_header(header)
    for lines in batches:
        if lines:
            yield ("\r\n".join(lines) + "\r\n").encode()


def csv_line(cells: Sequence[object]) -> str:
    """One CSV line (CRLF), cells escaped as in :func:`csv_chunks`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([csv_value(c) for c in cells])
    return buffer.getvalue()


class _Sheets:
    """Worksheets of one workbook, a new one each time Excel's row limit is reached."""

    def __init__(self, workbook: xlsxwriter.Workbook, title: str, header: Sequence[str]) -> None:
        self.workbook = workbook
        self.title = title[:25]
        self.header = list(header)
        self.bold = workbook.add_format({"bold": True, "bg_color": "#E6EEF7", "bottom": 1})
        self.date = workbook.add_format({"num_format": "dd/mm/yyyy"})
        self.widths = [len(name) + 2 for name in self.header]
        self.sheets: list[tuple[Worksheet, int]] = []
        self.sheet: Worksheet | None = None
        self.row = 0
        self.rows_seen = 0

    def new_sheet(self) -> Worksheet:
        if self.sheet is not None:
            self.sheets.append((self.sheet, self.row))
        number = len(self.sheets) + 1
        name = self.title if number == 1 else f"{self.title} ({number})"
        sheet = self.sheet = self.workbook.add_worksheet(name)
        sheet.freeze_panes(1, 0)
        for column, name in enumerate(self.header):
            sheet.write_string(0, column, name, self.bold)
        self.row = 1
        return sheet

    def write(self, cells: Sequence[object]) -> None:
        sheet = self.sheet
        if sheet is None or self.row >= XLSX_MAX_ROWS:
            sheet = self.new_sheet()
        row = self.row
        for column, value in enumerate(cells):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row, column, value)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(row, column, float(value))
            elif isinstance(value, date):
                sheet.write_datetime(row, column, value, self.date)
            else:
                # write_string, never write(): a text is never read as a formula.
                sheet.write_string(row, column, str(value))
            if self.rows_seen < XLSX_SAMPLE_ROWS:
                shown = 10 if isinstance(value, date) else len(str(value))
                self.widths[column] = min(max(self.widths[column], shown + 2), XLSX_MAX_WIDTH)
        self.rows_seen += 1
        self.row += 1

    def finish(self) -> None:
        sheet = self.sheet if self.sheet is not None else self.new_sheet()
        self.sheets.append((sheet, self.row))
        last_column = len(self.header) - 1
        for sheet, rows in self.sheets:
            for column, width in enumerate(self.widths):
                sheet.set_column(column, column, width)
            sheet.autofilter(0, 0, max(rows - 1, 0), last_column)


def write_xlsx(
    target: str | os.PathLike[str],
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str = "report",
) -> int:
    """Write the rows to an XLSX file at *target*; return how many data rows."""
    workbook = xlsxwriter.Workbook(
        os.fspath(target),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheets = _Sheets(workbook, title, header)
    for cells in rows:
        sheets.write(cells)
    sheets.finish()
    workbook.close()
    return sheets.rows_seen


def file_chunks(write: Callable[[Path], object], suffix: str = ".xlsx") -> Iterator[bytes]:
    """What *write* writes to a temporary file, in chunks, the file removed afterwards.

    For the XLSX files: a ZIP needs its end before it can be sent. Nothing is
    written until the first chunk is asked for (the download streams).
    """
    handle, name = tempfile.mkstemp(suffix=suffix, prefix="lms-report-")
    os.close(handle)
    path = Path(name)
    try:
        write(path)
        with path.open("rb") as file:
            while chunk := file.read(FILE_CHUNK):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


def xlsx_chunks(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = "report"
) -> Iterator[bytes]:
    """The programme's XLSX file in chunks (see :func:`file_chunks`)."""

    def write(path: Path) -> None:
        write_xlsx(path, header, rows, title=title)

    return file_chunks(write)
