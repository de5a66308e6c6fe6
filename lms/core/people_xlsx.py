"""The XLSX for people: the file a person downloads from a page and opens in Excel.

The programme's CSV (:mod:`lms.core.export`) is for scripts: English headers
and values (``not_started``, ``true``, ``new_hire``), dots for decimals. The
same rows reach a person as this workbook instead, one :class:`Column` per
column of the programme's file saying how its cells read in the interface's
language:

- headers and values in words (*Stato*: Completato, In corso; Sì/No);
- numbers as numbers, dates as dates shown ``dd/mm/yyyy``, moments in Italian
  time, percentages stored as fractions shown ``66,7 %`` (the pages' format);
- codes (ISTAT, codice fiscale, CAP) as text, so ``063049`` keeps its zero;
- text never a formula: a cell that begins with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return gets the programme CSV's leading ``'``;
- above the table, its title, the filters and the as-of date (*Situazione al*)
  and when the file was made; the header row frozen, with an autofilter and
  column widths; printed landscape on A4, one page wide, the header row on
  every page, pages numbered.

Written by XlsxWriter in ``constant_memory`` mode (each row flushed to disk as
it is written), so memory stays flat for a million rows; past Excel's row limit
the table goes on to another sheet with the same heading.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from flask_babel import get_locale
from flask_babel import gettext as _
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from lms.core import export
from lms.core.export import escape_text
from lms.core.types import ROME, utcnow


class Kind(enum.Enum):
    """How a column's cells are written and shown."""

    TEXT = "text"  #: words; escaped against formulas
    CODE = "code"  #: an identifier kept exactly as written (leading zeros), as text
    COUNT = "count"  #: a whole number with the thousands separator (12.345)
    NUMBER = "number"  #: a number as it is (an id, a year, a point of a scale: no separator)
    DECIMAL = "decimal"  #: a number with decimals shown as needed (hours: 8, 1,5)
    PERCENT = "percent"  #: the programme's 0-100 value, stored as a fraction (66,7 %)
    DATE = "date"  #: a day, dd/mm/yyyy
    MOMENT = "moment"  #: a point in time, in Italian time, dd/mm/yyyy hh:mm
    YES_NO = "yes_no"  #: a boolean as Sì / No


#: Number formats (Excel's codes; shown in the reader's locale: ``,`` for decimals in Italy).
FORMATS: Mapping[Kind, str] = {
    Kind.CODE: "@",
    Kind.COUNT: "#,##0",
    Kind.NUMBER: "0",
    Kind.DECIMAL: "General",
    Kind.PERCENT: "0.0 %",  # the pages' Italian format (83,3 %); in English 0.0%
    Kind.DATE: "dd/mm/yyyy",
    Kind.MOMENT: "dd/mm/yyyy hh:mm",
}
#: Columns as wide as their kind needs at least (characters).
MIN_WIDTHS: Mapping[Kind, int] = {
    Kind.DATE: 12,
    Kind.MOMENT: 17,
    Kind.PERCENT: 9,
    Kind.YES_NO: 6,
}
MIN_WIDTH = 6
MAX_WIDTH = 60
#: A header wider than this wraps on two lines instead of widening its column.
HEADER_WIDTH = 22
SAMPLE_ROWS = 200
#: The filters' labels widen column A up to this; their values span columns B to D.
ABOUT_LABEL_WIDTH = 30
ABOUT_VALUE_COLUMNS = 3
#: Excel's limit on a sheet name's length, and the characters it refuses in one.
SHEET_NAME_LENGTH = 31
_SHEET_NAME_REFUSED = re.compile(r"[\[\]:*?/\\]")
NUMBERS = (int, float, Decimal)
NUMERIC = frozenset({Kind.COUNT, Kind.NUMBER, Kind.DECIMAL, Kind.PERCENT})


@dataclass(frozen=True)
class Column:
    """One column as a person reads it.

    *labels* turns the programme's values into words (``"completed"`` →
    "Completato"), for a column of any kind (the TOTAL row's code, a status);
    a value without a label is written as its kind says. *num_format* replaces
    the kind's number format (``"0.0"`` for a mean with one decimal).
    """

    label: str
    kind: Kind = Kind.TEXT
    labels: Mapping[Any, Any] | None = None
    num_format: str | None = None
    wrap: bool = False
    width: int | None = None


@dataclass(frozen=True)
class PeopleSheet:
    """The workbook's heading: a title, and the rows above the table (label, value).

    *about* holds the filters and the as-of date, e.g. ``("Situazione al",
    date(2026, 3, 1))``; a date is written as a date. The moment the file was
    made is added after them.
    """

    title: str
    columns: Sequence[Column]
    about: Sequence[tuple[str, object]] = ()
    sheet_name: str = ""
    made_at: datetime | None = field(default=None, compare=False)


def _english() -> bool:
    """Whether the file is written in English (the pages' percentages have no space there)."""
    locale = get_locale()
    return locale is not None and locale.language == "en"


def sheet_name(text: str, number: int = 1) -> str:
    """*text* as a sheet name Excel takes (31 characters, none of ``[]:*?/``), numbered."""
    clean = _SHEET_NAME_REFUSED.sub(" ", text).strip(" '") or "Foglio"
    suffix = f" ({number})" if number > 1 else ""
    return clean[: SHEET_NAME_LENGTH - len(suffix)].rstrip() + suffix


def moment_in_italy(value: object) -> datetime | None:
    """A moment (aware, or an ISO 8601 text with its offset) as Italian wall-clock time."""
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ROME).replace(tzinfo=None)


class _Writer:
    """The cells of one workbook, a new sheet each time Excel's row limit is reached."""

    def __init__(self, workbook: xlsxwriter.Workbook, sheet: PeopleSheet) -> None:
        self.workbook = workbook
        self.sheet = sheet
        self.columns = list(sheet.columns)
        self.title_format = workbook.add_format({"bold": True, "font_size": 14})
        self.label_format = workbook.add_format({"bold": True})
        self.about_date = workbook.add_format({"num_format": FORMATS[Kind.DATE], "align": "left"})
        self.about_moment = workbook.add_format(
            {"num_format": FORMATS[Kind.MOMENT], "align": "left"}
        )
        self.about_text = workbook.add_format({"align": "left"})
        self.header_format = workbook.add_format(
            {
                "bold": True,
                "text_wrap": True,
                "valign": "top",
                "bg_color": "#E6EEF7",
                "bottom": 1,
            }
        )
        self.formats: list[Format | None] = [self._format(column) for column in self.columns]
        self.text_formats: list[Format | None] = [
            workbook.add_format({"text_wrap": True, "valign": "top"}) if column.wrap else None
            for column in self.columns
        ]
        self.widths = [self._start_width(column) for column in self.columns]
        # The words, translated and escaped once (not once a cell: a million rows).
        self.labels: list[dict[Any, str] | None] = [
            None
            if column.labels is None
            else {value: escape_text(str(label)) for value, label in column.labels.items()}
            for column in self.columns
        ]
        self.yes_no = (_("Sì"), _("No"))
        made = moment_in_italy(sheet.made_at or utcnow())
        self.made_at = made.replace(microsecond=0) if made else None
        self.sheets: list[tuple[Worksheet, int, int]] = []
        self.current: Worksheet | None = None
        self.header_row = 0
        self.row = 0
        self.rows_written = 0

    def _format(self, column: Column) -> Format | None:
        code = column.num_format or FORMATS.get(column.kind)
        if column.kind is Kind.PERCENT and column.num_format is None and _english():
            code = "0.0%"  # as the pages write it in English: 83.3%
        properties: dict[str, object] = {}
        if code and code != "General":
            properties["num_format"] = code
        if column.wrap:
            properties.update(text_wrap=True, valign="top")
        return self.workbook.add_format(properties) if properties else None

    @staticmethod
    def _start_width(column: Column) -> int:
        if column.width is not None:
            return column.width
        header = min(len(str(column.label)) + 2, HEADER_WIDTH)
        return max(header, MIN_WIDTHS.get(column.kind, MIN_WIDTH))

    # The sheets ----------------------------------------------------------------------

    def new_sheet(self) -> Worksheet:
        if self.current is not None:
            self.sheets.append((self.current, self.header_row, self.row))
        number = len(self.sheets) + 1
        name = sheet_name(self.sheet.sheet_name or self.sheet.title, number)
        sheet = self.current = self.workbook.add_worksheet(name)
        sheet.write_string(0, 0, escape_text(str(self.sheet.title)), self.title_format)
        row = 1
        about = [*self.sheet.about, (_("File creato il"), self.made_at)]
        for label, value in about:
            text = str(label)
            sheet.write_string(row, 0, escape_text(text), self.label_format)
            # the labels' column as wide as the longest label, up to a point
            self.widths[0] = max(self.widths[0], min(len(text) + 2, ABOUT_LABEL_WIDTH))
            self._write_about(sheet, row, value)
            row += 1
        self.header_row = row + 1  # a blank row between the heading and the table
        for column, spec in enumerate(self.columns):
            sheet.write_string(
                self.header_row, column, escape_text(str(spec.label)), self.header_format
            )
        self.row = self.header_row + 1
        return sheet

    def _write_about(self, sheet: Worksheet, row: int, value: object) -> None:
        """A filter's value in B, merged over the next columns (a date never shows ###)."""
        if value is None or value == "":
            return
        if isinstance(value, datetime):
            cell_format = self.about_moment
        elif isinstance(value, date):
            cell_format = self.about_date
        else:
            cell_format = self.about_text
        last = min(ABOUT_VALUE_COLUMNS, len(self.columns) - 1)
        if last > 1:
            sheet.merge_range(row, 1, row, last, "", cell_format)
        if isinstance(value, datetime):
            moment = moment_in_italy(value) if value.tzinfo is not None else value
            sheet.write_datetime(row, 1, moment, cell_format)
        elif isinstance(value, date):
            sheet.write_datetime(row, 1, value, cell_format)
        elif isinstance(value, bool):
            sheet.write_string(row, 1, self.yes_no[0] if value else self.yes_no[1], cell_format)
        elif isinstance(value, NUMBERS):
            sheet.write_number(row, 1, float(value), cell_format)
        else:
            sheet.write_string(row, 1, escape_text(str(value)), cell_format)

    def write(self, cells: Sequence[object]) -> None:
        sheet = self.current
        if sheet is None or self.row >= export.XLSX_MAX_ROWS:
            sheet = self.new_sheet()
        for index, value in enumerate(cells):
            if value is not None and value != "":
                self._cell(sheet, index, value)
        if self.rows_written < SAMPLE_ROWS:  # the widths from the first rows
            for index, value in enumerate(cells):
                shown = self._shown_width(index, value)
                self.widths[index] = min(max(self.widths[index], shown + 2), MAX_WIDTH)
        self.rows_written += 1
        self.row += 1

    def _cell(self, sheet: Worksheet, index: int, value: object) -> None:
        """Write one cell (not empty): in words, typed, or as text."""
        labels = self.labels[index]
        if labels is not None and (label := labels.get(value)) is not None:
            sheet.write_string(self.row, index, label, self.text_formats[index])
            return
        kind = self.columns[index].kind
        if self._typed(sheet, index, kind, value):
            return
        # write_string, never write(): a text is never read as a formula, and
        # escaped like the CSV's cells, so that it stays text however it is copied on.
        text_format = self.formats[index] if kind is Kind.CODE else self.text_formats[index]
        sheet.write_string(self.row, index, escape_text(str(value)), text_format)

    def _typed(self, sheet: Worksheet, index: int, kind: Kind, value: object) -> bool:
        """Write a number, a date, a moment or a yes/no as one; False for anything else (text)."""
        row, cell_format = self.row, self.formats[index]
        if kind is Kind.YES_NO and isinstance(value, bool):
            sheet.write_string(row, index, self.yes_no[0] if value else self.yes_no[1])
        elif kind in NUMERIC and isinstance(value, NUMBERS) and not isinstance(value, bool):
            # A percentage as the fraction it means (66.7 → 0.667), shifted in decimal.
            number = float(Decimal(str(value)).scaleb(-2)) if kind is Kind.PERCENT else float(value)
            sheet.write_number(row, index, number, cell_format)
        elif kind is Kind.DATE and isinstance(value, date):
            day = value.date() if isinstance(value, datetime) else value
            sheet.write_datetime(row, index, day, cell_format)
        elif kind is Kind.MOMENT and (moment := moment_in_italy(value)) is not None:
            sheet.write_datetime(row, index, moment, cell_format)
        else:
            return False
        return True

    def _shown_width(self, index: int, value: object) -> int:
        """About how many characters a cell shows (for the column's width)."""
        if value is None or value == "":
            return 0
        labels = self.labels[index]
        if labels is not None and (label := labels.get(value)) is not None:
            return len(label)
        kind = self.columns[index].kind
        if isinstance(value, NUMBERS) and kind in NUMERIC:
            return len(f"{float(value):,}") + (2 if kind is Kind.PERCENT else 0)
        if kind is Kind.DATE:
            return 10
        if kind is Kind.MOMENT:
            return 19
        return max((len(line) for line in str(value).splitlines()), default=0)

    def finish(self) -> None:
        sheet = self.current if self.current is not None else self.new_sheet()
        self.sheets.append((sheet, self.header_row, self.row))
        last_column = max(len(self.columns) - 1, 0)
        title = str(self.sheet.title).replace("&", "&&")
        for sheet, header_row, end in self.sheets:
            for column, width in enumerate(self.widths):
                sheet.set_column(column, column, width)
            sheet.freeze_panes(header_row + 1, 0)
            sheet.autofilter(header_row, 0, max(end - 1, header_row), last_column)
            sheet.set_landscape()
            sheet.set_paper(9)  # A4
            sheet.fit_to_pages(1, 0)  # one page wide, as many tall as needed
            sheet.repeat_rows(header_row)
            sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
            sheet.set_header(f"&L&8{title[:200]}")
            page = _("Pagina %(n)s di %(total)s", n="&P", total="&N")
            sheet.set_footer(f"&R&8{page}")
            sheet.hide_gridlines(0)  # gridlines on screen and on paper


def write_people_xlsx(
    target: str | os.PathLike[str], sheet: PeopleSheet, rows: Iterable[Sequence[object]]
) -> int:
    """Write *rows* (the programme's cells, one per column) at *target*; return how many."""
    workbook = xlsxwriter.Workbook(
        os.fspath(target),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties({"title": str(sheet.title), "author": "Formazione Coesione"})
    writer = _Writer(workbook, sheet)
    for cells in rows:
        writer.write(cells)
    writer.finish()
    workbook.close()
    return writer.rows_written


def people_xlsx_chunks(sheet: PeopleSheet, rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The workbook in chunks (written to a temporary file first: a ZIP needs its end)."""

    def write(path: Path) -> None:
        write_people_xlsx(path, sheet, rows)

    return export.file_chunks(write)
