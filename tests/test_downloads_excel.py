"""The XLSX for people (lms/core/people_xlsx.py, lms/core/downloads.py), read back with openpyxl.

Types (numbers are numbers, dates are dates, codes are strings with their
leading zero), Italian headers and values, the as-of and filter rows above the
table, the print settings, the escaping of text, the sheets past Excel's limit,
flat memory; then the pages: the XLSX is the first download offered everywhere,
the programme's CSV second, and a hostile reader gets nothing more from the
file than from the page.
"""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import csrf_token
from flask import Flask
from flask.testing import FlaskClient
from people_sheets import read_people_xlsx, read_sheet
from report_world import world_fixture  # noqa: F401 - the reports' world fixture
from test_password_links import person

from lms.auth.models import Role, User
from lms.core import export
from lms.core.downloads import table_download
from lms.core.messages import _l, english
from lms.core.people_xlsx import (
    Column,
    Kind,
    PeopleSheet,
    people_xlsx_chunks,
    sheet_name,
    write_people_xlsx,
)
from lms.register.models import Authority


def naive(text: str) -> datetime:
    """A spreadsheet's date or date and time, as openpyxl reads it (no time zone)."""
    return datetime.fromisoformat(text)


COLUMNS = (
    Column("Codice fiscale", Kind.CODE),
    Column("Codice ente", Kind.CODE),
    Column("Cognome"),
    Column("Personale", Kind.COUNT),
    Column("Copertura", Kind.PERCENT),
    Column("Ore", Kind.DECIMAL),
    Column("Iscritto il", Kind.DATE),
    Column("Scade il", Kind.MOMENT),
    Column("Meno sviluppata", Kind.YES_NO),
    Column("Stato", labels={"completed": "Completato", "overdue": "In ritardo"}),
)
SHEET = PeopleSheet(
    "Iscrizioni del personale",
    COLUMNS,
    [("Situazione al", date(2026, 3, 1)), ("Corso", "Tutti i corsi")],
    made_at=datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
)
ROWS = [
    (
        "RSSMRA80A01F839X",
        "063049",
        "D'Ambrosio",
        12345,
        Decimal("66.7"),
        Decimal("7.5"),
        date(2026, 1, 5),
        "2026-03-01T09:00:00Z",
        True,
        "completed",
    ),
    (
        "VRDGPP80A01F839W",
        "015146",
        '=HYPERLINK("http://x")',
        0,
        None,
        8,
        None,
        datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        False,
        "overdue",
    ),
    ("X", "00100", "@SUM(A1)", 1, Decimal("0.0"), Decimal("0.25"), None, None, None, "altro"),
]


@pytest.fixture
def written(app: Flask, tmp_path: Path):
    path = tmp_path / "persone.xlsx"
    with app.test_request_context():
        assert write_people_xlsx(path, SHEET, ROWS) == len(ROWS)
    return read_sheet(openpyxl.load_workbook(path).worksheets[0])


def test_headers_heading_and_values_in_words(written) -> None:
    assert written.title == "Iscrizioni del personale"
    assert written.sheet.title == "Iscrizioni del personale"
    assert written.header == [column.label for column in COLUMNS]
    assert written.about["Situazione al"] == naive("2026-03-01")  # a date cell
    assert written.about["Corso"] == "Tutti i corsi"
    assert written.about["File creato il"] == naive("2026-03-02 09:30")  # Italian time
    assert written.sheet.cell(2, 2).number_format == "dd/mm/yyyy"
    first, second, third = written.records()
    assert first["Meno sviluppata"] == "Sì"
    assert second["Meno sviluppata"] == "No"
    assert third["Meno sviluppata"] is None
    assert first["Stato"] == "Completato"
    assert second["Stato"] == "In ritardo"
    assert third["Stato"] == "altro"  # a value without words is written as it is


def test_codes_stay_text_with_their_zeros(written) -> None:
    first, second, third = written.records()
    assert first["Codice ente"] == "063049"
    assert second["Codice ente"] == "015146"
    assert third["Codice ente"] == "00100"  # a CAP
    for row in range(3):
        cell = written.cell(row, "Codice ente")
        assert cell.data_type == "s"
        assert cell.number_format == "@"  # stays text when someone edits it


def test_numbers_dates_moments_and_percentages_are_typed(written) -> None:
    first, second, third = written.records()
    assert first["Personale"] == 12345
    assert written.cell(0, "Personale").number_format == "#,##0"  # 12.345 in Italy
    assert first["Ore"] == 7.5
    assert third["Ore"] == 0.25
    assert written.cell(0, "Ore").data_type == "n"
    # a percentage is the fraction it means, shown with the pages' format (66,7 %)
    assert first["Copertura"] == pytest.approx(0.667)
    assert written.cell(0, "Copertura").number_format == "0.0 %"
    assert third["Copertura"] == 0
    assert second["Copertura"] is None  # empty, like the CSV's empty cell
    assert first["Iscritto il"] == naive("2026-01-05")
    assert written.cell(0, "Iscritto il").is_date
    assert written.cell(0, "Iscritto il").number_format == "dd/mm/yyyy"
    # moments in Italian time: winter (UTC+1) and summer (UTC+2)
    assert first["Scade il"] == naive("2026-03-01 10:00")
    assert second["Scade il"] == naive("2026-07-01 12:00")
    assert written.cell(0, "Scade il").number_format == "dd/mm/yyyy hh:mm"


def test_in_english_the_headers_and_the_percentages_are_english(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "en.xlsx"
    sheet = PeopleSheet("Copertura", (Column(_l("Copertura"), Kind.PERCENT),))
    with app.test_request_context(), english():
        write_people_xlsx(path, sheet, [(Decimal("83.3"),)])
    table = read_sheet(openpyxl.load_workbook(path).worksheets[0])
    assert table.header == ["Coverage"]
    assert "File created on" in table.about
    assert table.cell(0, "Coverage").number_format == "0.0%"  # 83.3%, as the pages write it


def test_text_is_never_a_formula_and_is_escaped_like_the_csv(written) -> None:
    first, second, third = written.records()
    assert first["Cognome"] == "D'Ambrosio"
    assert second["Cognome"] == '\'=HYPERLINK("http://x")'
    assert third["Cognome"] == "'@SUM(A1)"
    for row in range(3):
        assert written.cell(row, "Cognome").data_type == "s"


def test_a_heading_that_looks_like_a_formula_is_escaped_too(app: Flask, tmp_path: Path) -> None:
    sheet = PeopleSheet("=titolo", COLUMNS[:1], [("Corso", "=cmd|' /C calc'!A0")])
    path = tmp_path / "t.xlsx"
    with app.test_request_context():
        write_people_xlsx(path, sheet, [])
    table = read_sheet(openpyxl.load_workbook(path).worksheets[0])
    assert table.title == "'=titolo"
    assert table.about["Corso"] == "'=cmd|' /C calc'!A0"
    assert table.rows == []


def test_the_print_layout(written) -> None:
    sheet = written.sheet
    header_row = written.header_row
    assert sheet.freeze_panes == f"A{header_row + 1}"  # the header row frozen
    assert sheet.auto_filter.ref == f"A{header_row}:J{header_row + len(ROWS)}"
    setup = sheet.page_setup
    assert setup.orientation == "landscape"
    assert setup.paperSize == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert setup.fitToWidth in (None, 1)  # one page wide (1 is the default, left out)
    assert setup.fitToHeight == 0  # as many pages tall as needed
    assert sheet.print_title_rows == f"${header_row}:${header_row}"  # repeated on each page
    assert sheet.print_options.gridLines is True
    assert "Iscrizioni del personale" in sheet.oddHeader.left.text
    assert sheet.oddFooter.right.text == "Pagina &P di &N"
    widths = {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()}
    assert widths["A"] >= len("RSSMRA80A01F839X")  # a codice fiscale fits
    assert all(6 <= width <= 62 for width in widths.values()), widths
    # the filters' values span B to D (a date never shows ###), their labels fit in A
    assert {str(cells) for cells in sheet.merged_cells.ranges} >= {"B2:D2", "B3:D3", "B4:D4"}
    assert widths["A"] >= len("File creato il")
    header_cell = sheet.cell(header_row, 1)
    assert header_cell.font.b
    assert header_cell.alignment.wrap_text


def test_the_table_goes_on_to_another_sheet_with_its_heading(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # title, 2 filters, when it was made, a blank row, the header: 3 data rows in 9
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 9)
    path = tmp_path / "lungo.xlsx"
    rows = [(f"CF{i:04d}", "063049", f"P{i}", i, *[None] * 6) for i in range(7)]
    with app.test_request_context():
        assert write_people_xlsx(path, SHEET, rows) == 7
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Iscrizioni del personale",
        "Iscrizioni del personale (2)",
        "Iscrizioni del personale (3)",
    ]
    tables = [read_sheet(sheet) for sheet in book.worksheets]
    assert all(table.about["Situazione al"] == naive("2026-03-01") for table in tables)
    assert all(table.header == [c.label for c in COLUMNS] for table in tables)
    assert [row[0] for table in tables for row in table.rows] == [f"CF{i:04d}" for i in range(7)]


def test_sheet_names_are_ones_excel_takes() -> None:
    assert sheet_name("Corso: appalti [2026]/bis?") == "Corso  appalti  2026  bis"
    assert len(sheet_name("x" * 40, 12)) <= 31
    assert sheet_name("x" * 40, 12).endswith(" (12)")
    assert sheet_name("''") == "Foglio"


def rows_counted(n: int, seen: list[int]) -> Iterator[tuple[object, ...]]:
    for i in range(n):
        seen.append(i)
        yield (f"RSSMRA80A01F{i:04d}", "063049", f"Persona {i}", i, Decimal("66.7"), 8,
               date(2026, 3, 1), None, True, "completed")  # fmt: skip


def test_the_file_streams_and_memory_stays_flat(app: Flask) -> None:
    with app.test_request_context():
        seen: list[int] = []
        chunks = people_xlsx_chunks(SHEET, rows_counted(10, seen))
        assert seen == []  # nothing is read before the download starts
        data = b"".join(chunks)
        assert seen == list(range(10))
        assert data.startswith(b"PK")
        peaks = []
        for n in (1_000, 10_000):
            tracemalloc.start()
            size = sum(len(chunk) for chunk in people_xlsx_chunks(SHEET, rows_counted(n, [])))
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            assert size > n * 10
    # ten times the rows: the peak grows by less than half a megabyte (rows go to disk)
    assert peaks[1] - peaks[0] < 512 * 1024, peaks


def test_table_download_checks_its_sheet(app: Flask) -> None:
    with app.test_request_context():
        with pytest.raises(ValueError, match="2 columns for 3 names"):
            table_download("x", "xlsx", ("a", "b", "c"), [], sheet=PeopleSheet("x", COLUMNS[:2]))
        with pytest.raises(ValueError, match="unknown download format"):
            table_download("x", "ods", ("a",), [], sheet=PeopleSheet("x", COLUMNS[:1]))
        response = table_download("x", "xlsx", ("a",), [("063049",)], sheet=SHEET_ONE)
        assert response.is_streamed
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"] == 'attachment; filename="x.xlsx"'
        table = read_people_xlsx(b"".join(response.response))
        assert table.rows == [["063049"]]


SHEET_ONE = PeopleSheet("Uno", (Column("Codice", Kind.CODE),))


# The pages: the XLSX first, the programme's CSV second ------------------------------------


def download_links(html: str) -> list[str]:
    return [
        href.replace("&amp;", "&")
        for href in re.findall(r'<a class="btn[^"]*" href="([^"]+)" download>', html)
    ]


@pytest.mark.usefixtures("world")
def test_every_report_page_offers_the_xlsx_first(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    query = "as_of=2026-03-01"
    for url in (
        f"/reports/?{query}",
        f"/reports/regioni/15?{query}",
        f"/reports/enti/063049?{query}",
        f"/reports/ore?{query}",
        "/audit/",
    ):
        html = client.get(url).get_data(as_text=True)
        links = download_links(html)
        assert links, url
        # in pairs: the XLSX, then the same table as the programme's CSV
        assert [".xlsx" in link for link in links] == [True, False] * (len(links) // 2), url
        for xlsx, csv in zip(links[::2], links[1::2], strict=True):
            assert csv == xlsx.replace(".xlsx", ".csv", 1), url
        assert "CSV (formato del programma)" in html
        assert "Il file Excel è quello da aprire" in html


def test_the_links_page_and_the_records_page_offer_the_xlsx_first(
    client: FlaskClient, login_as: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    napoli = make_authority("063049", name="Comune di Napoli")
    login_as(Role.HR, scope=[napoli])
    person(napoli, "VRDGPP80A01F839W")  # waiting for a link
    html = client.get("/personale/link").get_data(as_text=True)
    buttons = re.findall(r'name="format" value="([a-z]+)"', html)
    assert buttons == ["xlsx", "csv"]
    assert "CSV (formato del programma)" in html
    links = download_links(client.get("/formazione-esterna/registro").get_data(as_text=True))
    assert [link.split("?")[0] for link in links] == [
        "/formazione-esterna/registro.xlsx",
        "/formazione-esterna/registro.csv",
    ]


# Attacks ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
def test_an_hr_manager_s_file_says_their_scope_and_holds_nothing_else(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    napoli = Authority.query.filter_by(code="063049").one()
    login_as(Role.HR, scope=[napoli])
    table = read_people_xlsx(client.get("/reports/learners.xlsx?as_of=2026-03-01").data)
    assert {row["Codice ente"] for row in table.records()} == {"063049"}
    assert table.about["Ente"] == "Tutti quelli del proprio ambito"
    # another area's authority, or one that does not exist: the file is refused, never empty
    assert client.get("/reports/learners.xlsx?authority=079023").status_code == 403
    response = client.get("/reports/learners.xlsx?authority=999999")
    assert response.status_code == 400
    assert b"Traceback" not in response.data
    assert client.get("/reports/coverage.xlsx?by=region&as_of=2026-13-45").status_code == 400


@pytest.mark.usefixtures("world")
def test_filters_written_above_the_table_are_escaped(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    table = read_people_xlsx(client.get("/audit/registro.xlsx?actor=%3Dcmd%40x.it").data)
    assert table.about["Autore"] == "'=cmd@x.it"  # as typed, and never a formula
    assert table.sheet.cell(2, 2).data_type == "s"


def test_a_learner_and_a_stranger_get_no_file(
    client: FlaskClient, login_as: Callable[..., User], web_app: Flask
) -> None:
    stranger = web_app.test_client()
    for url in (
        "/reports/learners.xlsx",
        "/audit/registro.xlsx",
        "/formazione-esterna/registro.xlsx",
    ):
        assert stranger.get(url).status_code == 302, url  # to sign in
    login_as(Role.LEARNER)
    for url in (
        "/reports/learners.xlsx",
        "/audit/registro.xlsx",
        "/formazione-esterna/registro.xlsx",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/accessibilita")
    response = client.post("/personale/link", data={"csrf_token": token, "format": "xlsx"})
    assert response.status_code == 403


def test_the_workbook_is_one_file_of_its_own(app: Flask) -> None:
    """Bytes a ZIP reader opens: the temporary file is gone once sent."""
    before = set(Path(export.tempfile.gettempdir()).glob("lms-report-*.xlsx"))
    with app.test_request_context():
        data = b"".join(people_xlsx_chunks(SHEET, ROWS))
    assert set(Path(export.tempfile.gettempdir()).glob("lms-report-*.xlsx")) == before
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["Iscrizioni del personale"]
