"""Whatever bytes are uploaded, the roster reader answers with its own error, never a crash.

``read_roster`` then ``validate_rows`` (the path of the upload page and of
``lms staff import``) may only raise :class:`~lms.core.tabular.TableError`;
problems of single rows are :class:`~lms.core.tabular.RowError` values in the
result. Both must word themselves (``str()``) without failing, and no valid
row may hold a NUL character, which PostgreSQL cannot store.

What these properties found, now fixed in ``lms.enrolments.roster``:

- a CSV of blank rows only (``;;;;;;`` lines, as Excel saves them) escaped as
  ``StopIteration`` (a 500 on the upload page and in ``lms staff import``);
- an XLSX number cell of 309 digits or more: ``OverflowError`` (``float()``
  of it) while the cell was turned into text;
- a damaged ZIP directory: ``NotImplementedError`` ("zip file version 18.7")
  from :mod:`zipfile`, not only ``BadZipFile``;
- a NUL byte past the first 4 KiB of a CSV reached the rows (the csv module
  keeps it) and a valid row, to fail on PostgreSQL at the import.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date
from xml.sax.saxutils import escape

import pytest
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lms.core.messages import english
from lms.core.tabular import RowError, TableError
from lms.enrolments.roster import read_roster, validate_rows

CODES = {"063049": 1, "15": 2}
TODAY = date(2026, 1, 15)
HEADERS = [
    "codice_fiscale;first_name;last_name;email;authority_code;category;profile;hired_on;left_on",
    "Codice fiscale,Nome,Cognome,E-mail,Codice ente,Categoria",
    "cf;nome;cognome;mail;ente;categoria",
]
VALID_ROW = "SPSNCL85C12F839V;Niccolò;Esposito;n@comune.napoli.it;063049;neoassunto;;;"
FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(data: bytes, filename: str) -> None:
    """The property: only TableError escapes; every message words itself; no NUL gets by."""
    try:
        roster = read_roster(data, filename)
        result = validate_rows(roster.rows, authority_codes=CODES, today=TODAY)
    except TableError as exc:
        problem = exc
    else:
        problem = None
    if problem is not None:
        assert str(problem)
        with english():
            assert str(problem)
        return
    assert all(isinstance(error, RowError) for error in result.errors)
    with english():
        assert all(str(error) for error in result.errors)
    for row in result.rows:
        texts = (row.codice_fiscale, row.first_name, row.last_name, row.email, row.profile or "")
        assert not any("\x00" in text for text in texts), row


NAMES = st.sampled_from(["personale.csv", "personale.xlsx", "personale.xls", ""])


@FUZZ
@given(st.binary(max_size=3000), NAMES)
@example(b";;;;;;\n;;;;;;\n", "personale.csv")
@example(b",,,\r\n,,,\r\n", "personale.csv")
@example(b"\xef\xbb\xbf;;;\n", "personale.csv")
@example(b'"";"";""\n', "personale.csv")
@example(b"PK\x03\x04", "personale.xlsx")
def test_any_bytes_get_the_readers_own_error(data: bytes, filename: str) -> None:
    check(data, filename)


# CSV-like text ------------------------------------------------------------------

CELL = st.text(
    alphabet=st.sampled_from([*"aZ09 ;,\"'\t\r\n\x00\x1a\ufeff\u00e8\u2028@.-/_%€"]),
    max_size=12,
)


@FUZZ
@given(
    st.sampled_from(["", *HEADERS]),
    st.lists(st.lists(CELL, max_size=10), max_size=12),
    st.sampled_from([";", ","]),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    st.integers(0, 900),
    st.booleans(),
)
def test_any_csv_like_text_gets_the_readers_own_error(
    header: str,
    rows: list[list[str]],
    separator: str,
    newline: str,
    encoding: str,
    blank_rows: int,
    valid_first: bool,  # noqa: FBT001 - drawn by hypothesis
) -> None:
    """Text around a real header, blank ``;;;;`` rows pushing the rest past 4 KiB."""
    lines = [header] if header else []
    if valid_first:
        lines.append(VALID_ROW.replace(";", separator))
    lines.extend([separator * 6] * blank_rows)
    lines.extend(separator.join(cells) for cells in rows)
    check(newline.join(lines).encode(encoding, errors="replace"), "personale.csv")


@pytest.mark.parametrize("separator", [";", ","])
def test_blank_rows_are_skipped_and_a_file_of_them_has_no_header(separator: str) -> None:
    blank = separator * 8
    with pytest.raises(TableError) as excinfo:
        read_roster(f"{blank}\n{blank}\r\n\n{blank}\n".encode(), "personale.csv")
    with english():
        assert str(excinfo.value) == (
            "the file has no header row: it only has blank rows (or rows of separators only)"
        )
    header = HEADERS[0].replace(";", separator)
    valid = VALID_ROW.replace(";", separator)
    data = "\n".join([blank, header, blank, valid, blank, blank, valid.replace("N", "X", 1)])
    rows = list(read_roster(data.encode(), "personale.csv"))
    assert [row.line for row in rows] == [4, 7]


def test_a_nul_further_down_a_csv_is_the_files_error_on_its_line() -> None:
    padding = [";;;;;;"] * 1000  # 7 KiB of blank rows: past the first 4 KiB
    data = "\n".join([HEADERS[0], *padding, VALID_ROW.replace("Niccolò", "Nicc\x00olò")])
    with pytest.raises(TableError) as excinfo:
        validate_rows(read_roster(data.encode()), authority_codes=CODES, today=TODAY)
    assert excinfo.value.line == 1002
    with english():
        assert "null (NUL) characters" in str(excinfo.value)


# XLSX -------------------------------------------------------------------------------


def _workbook() -> dict[str, bytes]:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, HEADERS[0].split(";"))
    sheet.write_row(1, 0, VALID_ROW.split(";")[:6])
    sheet.write_number(1, 7, 45000, dates)
    book.close()
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


MEMBERS = _workbook()
SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD, _, _ = MEMBERS[SHEET].partition(b"<sheetData>")
_, _, SHEET_TAIL = MEMBERS[SHEET].partition(b"</sheetData>")


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


VALUES = st.one_of(
    st.sampled_from(
        [
            "1e400",
            "-1e400",
            "9" * 400,
            "9" * 5000,
            "nan",
            "inf",
            "-0",
            "1E+20",
            "2958466",
            "45000.5",
            "-1",
            "0",
            "1",
            "99999999999999999999",
            "0x1F",
            "",
            " ",
            "TRUE",
            "#N/A",
            "_x0000_",
            "a_x0041_b",
            "&amp;",
            "2024-02-30T00:00:00",
        ]
    ),
    st.text(max_size=20).map(escape),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@st.composite
def cells(draw: Callable) -> bytes:
    """One XML cell of any type and style, with a value that may mean nothing."""
    column = draw(st.sampled_from("ABCDEFGHIJZ"))
    kind = draw(st.sampled_from(["n", "s", "b", "e", "str", "inlineStr", "d", "zz", None]))
    style = draw(st.sampled_from(["0", "1", "2", "99", "x", None]))
    value = draw(VALUES)
    attributes = f' r="{column}{{row}}"'
    attributes += f' t="{kind}"' if kind else ""
    attributes += f' s="{style}"' if style else ""
    inner = f"<is><t>{value}</t></is>" if kind == "inlineStr" else f"<v>{value}</v>"
    return f"<c{attributes}>{inner}</c>".encode()


@st.composite
def sheets(draw: Callable) -> bytes:
    """The header row, then rows of odd cells (row numbers in order, or not)."""
    rows = [b'<row r="1">' + _header_cells() + b"</row>"]
    for number in draw(st.lists(st.integers(0, 1_100_000), max_size=6)):
        row_cells = b"".join(
            c.replace(b"{row}", str(number).encode()) for c in draw(st.lists(cells(), max_size=8))
        )
        rows.append(f'<row r="{number}">'.encode() + row_cells + b"</row>")
    return SHEET_HEAD + b"<sheetData>" + b"".join(rows) + b"</sheetData>" + SHEET_TAIL


def _header_cells() -> bytes:
    names = HEADERS[0].split(";")
    return b"".join(
        f'<c r="{chr(65 + n)}1" t="inlineStr"><is><t>{name}</t></is></c>'.encode()
        for n, name in enumerate(names)
    )


@FUZZ
@given(sheets())
@example(
    SHEET_HEAD
    + b'<sheetData><row r="1">'
    + _header_cells()
    + b'</row><row r="2"><c r="A2"><v>'
    + b"9" * 400
    + b"</v></c></row></sheetData>"
    + SHEET_TAIL
)
def test_any_cells_of_a_workbook_get_the_readers_own_error(sheet: bytes) -> None:
    check(_zip({**MEMBERS, SHEET: sheet}), "personale.xlsx")


@FUZZ
@given(
    st.sampled_from(sorted(MEMBERS)),
    st.binary(max_size=600) | st.text(max_size=300).map(str.encode),
)
def test_any_member_of_a_workbook_replaced_gets_the_readers_own_error(
    member: str, data: bytes
) -> None:
    check(_zip({**MEMBERS, member: data}), "personale.xlsx")


WORKBOOK = _zip(MEMBERS)


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(WORKBOOK) - 1), st.integers(0, 255)), min_size=1, max_size=6
    ),
    st.integers(1, len(WORKBOOK)),
)
def test_any_damage_to_a_workbook_gets_the_readers_own_error(
    changes: list[tuple[int, int]], length: int
) -> None:
    damaged = bytearray(WORKBOOK)
    for position, value in changes:
        damaged[position] = value
    check(bytes(damaged[:length]), "personale.xlsx")
    check(bytes(damaged), "personale.xlsx")
