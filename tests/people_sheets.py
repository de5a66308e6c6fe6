"""Reading back an XLSX for people (lms/core/people_xlsx.py) in the tests, with openpyxl.

The sheet has its title in A1, then one (label, value) row per filter (the
as-of date, the moment the file was made), a blank row, the header row (frozen:
the freeze pane is the row below it) and the table.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class PeopleTable:
    """One sheet of the file: its heading and its table."""

    sheet: Worksheet
    title: str
    about: dict[str, object]
    header_row: int  #: 1-based, as openpyxl counts
    header: list[str]
    rows: list[list[object]]

    def column(self, label: str) -> int:
        """The 1-based column of the header *label*."""
        return self.header.index(label) + 1

    def cell(self, row: int, label: str) -> object:
        """The cell of data row *row* (0-based) under *label*."""
        return self.sheet.cell(self.header_row + 1 + row, self.column(label))

    def records(self) -> list[dict[str, object]]:
        """The rows as header → value."""
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


def read_sheet(sheet: Worksheet) -> PeopleTable:
    """*sheet*'s heading and table (the header row is the one above the freeze pane)."""
    frozen = sheet.freeze_panes
    assert frozen is not None
    assert frozen.startswith("A"), frozen
    header_row = int(frozen[1:]) - 1
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    title = values[0][0]
    assert isinstance(title, str)
    about = {
        str(row[0]): row[1] for row in values[1 : header_row - 2] if row and row[0] is not None
    }
    assert all(cell is None for cell in values[header_row - 2]), "a blank row before the table"
    width = len([v for v in values[header_row - 1] if v is not None])
    header = [str(v) for v in values[header_row - 1][:width]]
    rows = [row[:width] for row in values[header_row:]]
    return PeopleTable(sheet, title, about, header_row, header, rows)


def read_people_xlsx(data: bytes) -> PeopleTable:
    """The first sheet of an XLSX for people."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return read_sheet(book.worksheets[0])
