"""``lms.core.export``: the CSV and XLSX writers behind every download, on their own."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from lms.core import export
from lms.core.export import csv_chunks, csv_line, csv_value, escape_text, write_xlsx, xlsx_chunks

BOM = "\ufeff".encode()


def cell_time(text: str) -> datetime:
    """A naive date and time, as openpyxl reads a date cell."""
    return datetime.fromisoformat(text)


HEADER = ("name", "count", "score", "day")


def test_csv_value_of_each_type() -> None:
    assert csv_value(None) == ""
    assert csv_value(True) == "true"  # noqa: FBT003 - the value under test
    assert csv_value(False) == "false"  # noqa: FBT003
    assert csv_value(date(2026, 3, 1)) == "2026-03-01"
    assert csv_value(cell_time("2026-03-01 09:05:07.123456")) == "2026-03-01T09:05:07"
    assert csv_value(Decimal("1E+2")) == "100"  # no exponent
    assert csv_value(Decimal("66.70")) == "66.70"
    assert csv_value(Decimal("0.0")) == "0.0"
    assert csv_value(Decimal("-1.5")) == "-1.5"  # numbers are never escaped
    assert csv_value(42) == "42"
    assert csv_value(-3) == "-3"
    assert csv_value(2.5) == "2.5"
    assert csv_value("Niccolò") == "Niccolò"
    assert csv_value("") == ""


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("'quoted", "'quoted"),
    ],
)
def test_formula_starts_are_escaped(text: str, written: str) -> None:
    assert escape_text(text) == written
    assert csv_value(text) == written


def test_csv_line() -> None:
    assert csv_line(["a,b", 1, None, "=x", date(2026, 1, 2)]) == '"a,b",1,,\'=x,2026-01-02\r\n'


def test_csv_chunks_bom_once_header_and_crlf() -> None:
    rows = [("Niccolò D'Ambrosio", 3, Decimal("66.7"), date(2026, 3, 1)), ("-x", 0, None, None)]
    chunks = list(csv_chunks(HEADER, rows))
    data = b"".join(chunks)
    assert data.startswith(BOM)
    assert data.count(BOM) == 1
    text = data.decode("utf-8-sig")
    assert text == ("name,count,score,day\r\nNiccolò D'Ambrosio,3,66.7,2026-03-01\r\n'-x,0,,\r\n")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        list(HEADER),
        ["Niccolò D'Ambrosio", "3", "66.7", "2026-03-01"],
        ["'-x", "0", "", ""],
    ]


def test_csv_chunks_of_no_rows_is_the_header() -> None:
    assert list(csv_chunks(HEADER, iter(()))) == [BOM + b"name,count,score,day\r\n"]


def test_csv_chunks_flush_every_few_hundred_rows() -> None:
    count = 2 * export.CSV_FLUSH_ROWS + 1
    chunks = list(csv_chunks(HEADER, ((f"n{i}", i, None, None) for i in range(count))))
    # the header, two full batches, and the last row
    assert len(chunks) == 4
    assert chunks[1].count(b"\r\n") == export.CSV_FLUSH_ROWS
    assert chunks[2].count(b"\r\n") == export.CSV_FLUSH_ROWS
    assert chunks[3] == f"n{count - 1},{count - 1},,\r\n".encode()
    assert BOM not in b"".join(chunks[1:])
    lines = b"".join(chunks).decode("utf-8-sig").split("\r\n")
    assert len(lines) == count + 2  # header, rows, and the empty string after the last CRLF


def test_csv_chunks_is_lazy() -> None:
    """Rows are read only as chunks are asked for (so a download streams)."""
    consumed = []

    def rows():
        for i in range(3 * export.CSV_FLUSH_ROWS):
            consumed.append(i)
            yield (i,)

    chunks = csv_chunks(("n",), rows())
    next(chunks)
    assert consumed == []
    next(chunks)
    assert len(consumed) == export.CSV_FLUSH_ROWS


def _open(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def test_write_xlsx_typed_cells(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    rows = [
        ('=HYPERLINK("http://x")', 3, Decimal("66.7"), date(2026, 3, 1)),
        ("Niccolò D'Ambrosio", 0, None, None),
        ("+1", -2, Decimal("1E+2"), cell_time("2026-01-02 03:04:05")),
        ("@SUM(A1)", True, "", None),
    ]
    assert write_xlsx(path, HEADER, rows, title="prova") == 4
    book = _open(path)
    assert book.sheetnames == ["prova"]
    sheet = book["prova"]
    assert sheet.freeze_panes == "A2"
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == list(HEADER)
    assert values[1] == ['=HYPERLINK("http://x")', 3, 66.7, cell_time("2026-03-01")]
    assert values[2] == ["Niccolò D'Ambrosio", 0, None, None]
    assert values[3] == ["+1", -2, 100, cell_time("2026-01-02 03:04:05")]
    assert values[4] == ["@SUM(A1)", True, None, None]
    # text that looks like a formula is stored as text, not as a formula
    for row in (2, 4, 5):
        assert sheet.cell(row, 1).data_type == "s"
    assert sheet.cell(2, 2).data_type == "n"
    assert isinstance(sheet.cell(2, 2).value, int | float)
    assert isinstance(sheet.cell(2, 3).value, float)
    assert sheet.cell(2, 4).is_date
    assert sheet.cell(5, 2).data_type == "b"
    assert sheet.auto_filter.ref == "A1:D5"


def test_write_xlsx_without_rows_has_the_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    assert write_xlsx(path, HEADER, []) == 0
    sheet = _open(path).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [list(HEADER)]
    assert sheet.freeze_panes == "A2"


def test_write_xlsx_goes_on_to_a_second_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 5)  # header + 4 rows per sheet
    path = tmp_path / "long.xlsx"
    assert write_xlsx(path, HEADER, [(f"n{i}", i, None, None) for i in range(10)], title="t") == 10
    book = _open(path)
    assert book.sheetnames == ["t", "t (2)", "t (3)"]
    got = []
    for sheet in book.worksheets:
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert rows[0] == list(HEADER)
        assert sheet.freeze_panes == "A2"
        assert len(rows) <= 5
        got += [row[:2] for row in rows[1:]]
    assert [len(list(s.iter_rows())) for s in book.worksheets] == [5, 5, 3]
    assert got == [[f"n{i}", i] for i in range(10)]


def test_write_xlsx_exactly_full_sheet_has_no_empty_second_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 5)
    path = tmp_path / "full.xlsx"
    write_xlsx(path, HEADER, [(f"n{i}", i, None, None) for i in range(4)])
    assert _open(path).sheetnames == ["report"]


def test_long_title_is_cut_to_a_valid_sheet_name(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_xlsx(path, HEADER, [], title="copertura-regioni-corso-molto-lungo-2026-03-01")
    (name,) = _open(path).sheetnames
    assert len(name) <= 31
    assert name == "copertura-regioni-corso-m"


def test_xlsx_chunks_make_one_file_and_leave_no_temporary_file(tmp_path: Path) -> None:
    before = set(Path(export.tempfile.gettempdir()).glob("lms-report-*.xlsx"))
    data = b"".join(xlsx_chunks(HEADER, [("a", 1, None, date(2026, 3, 1))], title="x"))
    assert data.startswith(b"PK")
    assert set(Path(export.tempfile.gettempdir()).glob("lms-report-*.xlsx")) == before
    path = tmp_path / "x.xlsx"
    path.write_bytes(data)
    sheet = _open(path)["x"]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        list(HEADER),
        ["a", 1, None, cell_time("2026-03-01")],
    ]


def test_xlsx_chunks_of_a_large_file_come_in_pieces() -> None:
    rows = ((f"persona {i:06d} con un nome lungo", i, Decimal(i) / 7, None) for i in range(20_000))
    chunks = list(xlsx_chunks(HEADER, rows))
    assert len(chunks) > 1
    assert all(len(chunk) <= export.FILE_CHUNK for chunk in chunks)
