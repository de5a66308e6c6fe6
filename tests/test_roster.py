"""The staff roster engine: reading CSV/XLSX as Excel writes them, and checking every row."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import xlsxwriter
from codicefiscale import codicefiscale as cf_library
from email_validator import EmailNotValidError, validate_email
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.core.messages import english
from lms.core.tabular import Row, TableError
from lms.core.types import today_in_italy
from lms.enrolments import roster
from lms.enrolments.roster import (
    HEADER_ALIASES,
    EmailNormaliser,
    StaffRow,
    authority_code_from_number,
    canonical_column,
    check_codice_fiscale,
    parse_category,
    parse_date,
    read_roster,
    validate_rows,
)

FIXTURES = Path(__file__).parent / "fixtures" / "roster"
NOT_A_TABLE = "the file is not a CSV or XLSX file"
MONTH_LETTER = "a month letter (A B C D E H L M P R S T)"
AFTER_AT = "There must be something after the @-sign."
NAPOLI, CAMPANIA, SALERNO = 1, 2, 3
CODES = {"063049": NAPOLI, "c_f839": NAPOLI, "15": CAMPANIA, "065116": SALERNO, "063": 4}
TODAY = date(2025, 1, 15)
HEADER = (
    "codice_fiscale;first_name;last_name;email;authority_code;category;profile;hired_on;left_on"
)
VALID = "SPSNCL85C12F839V;Niccolò;Esposito;niccolo.esposito@comune.napoli.it;063049;neoassunto;;;"

# The people of the fixtures (codes from python-codicefiscale's encode).
FIXTURE_ROWS = [
    StaffRow(2, "SPSNCL85C12F839V", "Niccolò", "Esposito", "niccolo.esposito@comune.napoli.it",
             NAPOLI, "new_hire", "specialista tecnico", date(2024, 3, 1), None),
    StaffRow(3, "DNGNNA90L65H703N", "Anna", "D'Angelo", "anna.dangelo@regione.campania.it",
             CAMPANIA, "new_hire", "specialista giuridico amministrativo", date(2024, 9, 16), None),
    StaffRow(4, "DGSSVT79R05G273O", "Salvatore", "Di Gesù", "salvatore.digesu@regione.campania.it",
             CAMPANIA, "existing", "specialista economico statistico", date(2005, 2, 1), None),
    StaffRow(5, "RMNFNC78S43B963U", "Francesca", "Romano", "f.romano@comune.napoli.it", NAPOLI,
             "existing", "specialista attività culturali e sviluppo del territorio",
             date(2010, 10, 4), date(2025, 6, 30)),
    StaffRow(6, "DLCGPP82A30A509D", "Giuseppe", "De Luca", "giuseppe.deluca@comune.napoli.it",
             NAPOLI, "existing", None, None, None),
    StaffRow(7, "BNCLCU88H14Z133N", "Luca", "Bianchi", "luca.bianchi@regione.campania.it",
             CAMPANIA, "new_hire", "specialista informatico digitale", date(2024, 11, 4), None),
    StaffRow(8, "MRNCHR00B69A783V", "Chiara", "Marino", "chiara.marino@comune.napoli.it", NAPOLI,
             "new_hire", "specialista ecologico ambientale", date(2025, 1, 7), None),
    StaffRow(9, "RSSMRA75D21F839H", "Mario", "Russo", "mario.russo@comune.napoli.it", NAPOLI,
             "existing", "specialista tecnico", date(1999, 5, 3), None),
    StaffRow(10, "RSSMRA75D21F83VW", "Mario", "Russo", "mario.russo2@comune.napoli.it", NAPOLI,
             "existing", "specialista tecnico", date(2001, 9, 10), None),
]  # fmt: skip


@pytest.fixture(autouse=True)
def _in_english(db: object) -> Iterator[None]:  # noqa: ARG001 - db opens the app context
    """Messages are worded in English here, as the command line prints them.

    (The engine returns messages, not text; ``test_roster_messages_in_italian``
    and the upload page's tests check the Italian.)
    """
    with english():
        yield


def texts(errors) -> list[str]:
    """The errors as the command line prints them (each after ``FILE: ``)."""
    return [str(error) for error in errors]


def check(data: bytes, filename: str = "roster.csv", **options):
    options.setdefault("authority_codes", CODES)
    options.setdefault("today", TODAY)
    return validate_rows(read_roster(data, filename), **options)


def csv_data(*lines: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *lines]).encode()


def errors_of(*lines: str, **options) -> list[str]:
    return texts(check(csv_data(*lines), **options).errors)


def xlsx_data(rows: list[list[object]], *, date_cells: bool = True) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date) and date_cells:
                sheet.write_datetime(r, c, datetime.combine(value, time()), date_format)
            elif value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return out.getvalue()


# The fixtures: what Excel on an Italian PC writes ----------------------------


def test_fixture_windows_1252_semicolons_crlf_italian_headers():
    data = (FIXTURES / "personale_comune.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really Windows-1252
    assert data.startswith(b"Codice Fiscale;Nome;Cognome;E-mail;Codice Ente;Categoria;")
    assert data.count(b"\r\n") == 10
    roster_file = read_roster(data, "personale_comune.csv")
    assert roster_file.format == "csv"
    assert roster_file.columns == frozenset(roster.COLUMNS)
    result = validate_rows(roster_file, authority_codes=CODES, today=TODAY)
    assert result.errors == []
    assert result.ok
    assert result.rows == FIXTURE_ROWS
    assert (result.rows_read, result.invalid_rows, result.new_hires, result.existing) == (
        9,
        0,
        4,
        5,
    )


def test_fixture_utf8_with_bom_and_commas():
    data = (FIXTURES / "personale_comune_utf8.csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8 + b"Codice Fiscale,Nome,")
    assert b'"istruttore amministrativo, area funzionari"' in data
    result = check(data)
    assert result.errors == []
    # The profile with a comma inside is quoted in the file and read whole.
    assert result.rows[4].profile == "istruttore amministrativo, area funzionari"
    assert result.rows[:4] + result.rows[5:] == FIXTURE_ROWS[:4] + FIXTURE_ROWS[5:]


def test_fixture_xlsx_with_date_cells_and_a_number_typed_authority_code():
    data = (FIXTURES / "personale_comune.xlsx").read_bytes()
    roster_file = read_roster(data, "personale_comune.xlsx")
    assert roster_file.format == "xlsx"
    rows = list(roster_file)
    assert rows[0].get("authority_code") == "063049"  # the cell holds the number 63049
    assert rows[0].get("hired_on") == "2024-03-01"  # a date cell
    assert rows[1].get("authority_code") == "15"  # the number 15
    result = validate_rows(rows, authority_codes=CODES, today=TODAY)
    assert result.errors == []
    assert result.rows == FIXTURE_ROWS


def test_fixture_codes_are_valid_for_python_codicefiscale_too():
    for row in FIXTURE_ROWS:
        assert cf_library.is_valid(row.codice_fiscale)
        assert check_codice_fiscale(row.codice_fiscale) is None
    assert cf_library.is_omocode("RSSMRA75D21F83VW")


def test_fixture_with_one_error_of_each_kind():
    result = check((FIXTURES / "personale_errori.csv").read_bytes())
    accepted = "(or neoassunto, neoassunta, nuovo assunto, nuova assunta, in servizio)"
    assert texts(result.errors) == [
        "line 3, codice_fiscale: invalid check character",
        "line 4, codice_fiscale: must be 16 characters, not 15",
        (
            'line 5, codice_fiscale: character 9 is "Z" but should be a month letter '
            "(A B C D E H L M P R S T)"
        ),
        (
            "line 6, email: giuseppe.deluca@ is not a valid e-mail address: "
            "There must be something after the @-sign."
        ),
        "line 7, authority_code: 099999 is not a known authority (ISTAT or IPA code)",
        f"line 8, category: precaria is not a category: write new_hire or existing {accepted}",
        "line 9, hired_on: 31/02/2024 is not a date",
        "line 10, left_on: 31/05/2020 is before hired_on (01/06/2020)",
        "line 11, first_name: required",
        "line 12, codice_fiscale: SPSNCL85C12F839V appears again (first on line 2)",
        (
            "line 13, email: niccolo.esposito@comune.napoli.it appears again for another person "
            "(first on line 2, SPSNCL85C12F839V)"
        ),
        "line 14, extra cells: values beyond the last column of the header: nota a margine",
        "line 15, last_name: required",
        f"line 15, category: stagista is not a category: write new_hire or existing {accepted}",
        "line 15, hired_on: 2024-13-01 is not a date",
        (
            "line 16, authority_code: 63049 is not a known authority (ISTAT or IPA code); "
            "did the spreadsheet drop leading zeros? 063049 is known"
        ),
    ]
    assert not result.ok
    assert (result.rows_read, result.invalid_rows, result.error_count) == (15, 14, 16)
    assert [row.line for row in result.rows] == [2]


# Encodings, separators, line numbers ----------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
        lambda s: s.encode("cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252"],
)
@pytest.mark.parametrize("separator", [";", ","])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_every_excel_encoding_separator_and_line_ending(encode, separator, newline):
    text = newline.join([HEADER, VALID, ""]).replace(";", separator)
    result = check(encode(text))
    assert result.errors == []
    assert result.rows[0].first_name == "Niccolò"


def test_line_numbers_count_blank_lines_and_multiline_cells():
    data = csv_data(
        "",
        'SPSNCL85C12F839V;"Niccolò\nMaria";Esposito;n@comune.napoli.it;063049;neoassunto;;;',
        " ; ;",
        "DNGNNA90L65H703N;Anna;D'Angelo;x;15;neoassunta;;;",
    )
    result = check(data)
    assert result.rows[0].line == 4
    assert result.rows[0].first_name == "Niccolò Maria"
    assert str(result.errors[0]).startswith("line 6, email: x is not a valid e-mail address")


def test_a_csv_broken_half_way_down_raises_while_the_rows_are_read():
    data = csv_data(VALID) + b'\n"' + b"x" * 200_000 + b'";;\n'  # longer than csv allows
    roster_file = read_roster(data)
    with pytest.raises(TableError, match=r"^line 3: field larger than field limit"):
        validate_rows(roster_file, authority_codes=CODES, today=TODAY)


def test_trailing_separators_are_not_extra_cells():
    assert errors_of(VALID + ";;;") == []
    header = HEADER + ";"  # an empty header cell too, as Excel writes
    assert check(csv_data(VALID + ";", header=header)).errors == []


def test_cells_beyond_the_header_or_under_an_empty_header_cell_are_errors():
    assert errors_of(VALID + ";surplus;;more") == [
        "line 2, extra cells: values beyond the last column of the header: surplus, more"
    ]
    header = "codice_fiscale;;first_name;last_name;email;authority_code;category"
    row = "SPSNCL85C12F839V;oops;Niccolò;Esposito;n@comune.napoli.it;063049;neoassunto"
    assert texts(check(csv_data(row, header=header)).errors) == [
        "line 2, extra cells: values beyond the last column of the header: oops"
    ]


def test_short_rows_leave_the_missing_cells_empty():
    assert errors_of("SPSNCL85C12F839V;Niccolò;Esposito") == [
        "line 2, email: required",
        "line 2, authority_code: required",
        "line 2, category: required",
    ]


# Header ------------------------------------------------------------------------------


@pytest.mark.parametrize(("alias", "column"), sorted(HEADER_ALIASES.items()))
def test_every_italian_alias_names_its_column(alias, column):
    assert canonical_column(alias) == column


@pytest.mark.parametrize(
    ("written", "column"),
    [
        ("Codice Fiscale", "codice_fiscale"),
        ("CF", "codice_fiscale"),
        ("C.F.", "codice_fiscale"),
        (" NOME ", "first_name"),
        ("Cognome", "last_name"),
        ("E-mail", "email"),
        ("e-Mail", "email"),
        ("Posta elettronica", "email"),
        ("Mail", "email"),
        ("Codice Ente", "authority_code"),
        ("ENTE", "authority_code"),
        ("Categoria", "category"),
        ("Profilo", "profile"),
        ("Profilo professionale", "profile"),
        ("Data Assunzione", "hired_on"),
        ("Data di assunzione", "hired_on"),
        ("Assunto il", "hired_on"),
        ("Data Cessazione", "left_on"),
        ("Cessato il", "left_on"),
        ("First Name", "first_name"),
        ("authority-code", "authority_code"),
        ("Left_On", "left_on"),
    ],
)
def test_header_names_as_people_write_them(written, column):
    assert canonical_column(written) == column


def test_columns_in_any_order_and_optional_ones_absent():
    header = "Categoria;E-mail;Cognome;Nome;CF;Ente"
    row = "in servizio;n@comune.napoli.it;Esposito;Niccolò;SPSNCL85C12F839V;063049"
    roster_file = read_roster(csv_data(row, header=header))
    assert roster_file.columns == frozenset(roster.REQUIRED_COLUMNS)
    result = validate_rows(roster_file, authority_codes=CODES, today=TODAY)
    assert result.rows == [
        StaffRow(2, "SPSNCL85C12F839V", "Niccolò", "Esposito", "n@comune.napoli.it", NAPOLI,
                 "existing", None, None, None)
    ]  # fmt: skip


def test_wrong_header_names_every_problem_and_the_header_line():
    header = "\n\nCF;Codice fiscale;Nome;Cognome;Telefono;Ente;Categoria"
    with pytest.raises(TableError) as excinfo:
        read_roster(csv_data(VALID, header=header))
    message = str(excinfo.value)
    assert message.startswith(
        "line 3: missing column(s): email; unknown column(s): Telefono; "
        "repeated column(s): codice_fiscale; expected codice_fiscale, first_name, last_name, "
        "email, authority_code, category (optional: profile, hired_on, left_on); "
        "Italian names such as Codice fiscale"
    )


def test_a_header_that_is_not_a_roster_at_all():
    with pytest.raises(TableError, match=r"^line 1: missing column\(s\): codice_fiscale, first"):
        read_roster(b"Name,Surname\nMario,Rossi\n")


# Malformed files ------------------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
ODS = {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b""}


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "roster.csv", "the file is empty"),
        (b"  \r\n\n", "roster.csv", "the file is empty"),
        (codecs.BOM_UTF8, "roster.csv", "the file is empty"),
        (codecs.BOM_UTF8 + b"\r\n \n", "roster.csv", "the file is empty"),
        (HEADER.encode(), "roster.csv", "no rows under the header"),
        (HEADER.encode() + b"\r\n;;;\r\n\r\n", "roster.csv", "no rows under the header"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "roster.pdf", NOT_A_TABLE),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "roster.png", "the file is not a CSV or XLSX file"),
        (b"abc\x00def", "roster.csv", "the file is not a CSV or XLSX file"),
        (b"name\n\x81\x81\n", "roster.csv", "the file is not a CSV or XLSX file"),
        (
            OLE2 + "Workbook".encode("utf-16-le"),
            "personale.xls",
            "Excel 97-2003 (.xls) files are not supported: save it as .xlsx or CSV",
        ),
        (
            OLE2 + "EncryptedPackage".encode("utf-16-le"),
            "personale.xlsx",
            "the workbook is protected by a password: remove the password, or save it as CSV",
        ),
        (OLE2 + "WordDocument".encode("utf-16-le"), "cv.doc", NOT_A_TABLE),
        (
            _zip(ODS),
            "personale.ods",
            "OpenDocument (.ods) files are not supported: save it as .xlsx or CSV",
        ),
        (_zip({"word/document.xml": b"<w/>"}), "cv.docx", "the file is not a CSV or XLSX file"),
        (b"PK\x03\x04garbage", "personale.xlsx", "the file is not a CSV or XLSX file (it is a d"),
        (
            _zip({"xl/workbook.xml": b"not xml"}),
            "personale.xlsx",
            "the file is not a CSV or XLSX file (the workbook cannot be read",
        ),
        (b"<html><table><tr><td>CF</td></tr></table>", "export.xls", "the file is named like an"),
        (b"<?xml version='1.0'?><Workbook/>", "export.xml", "the file is not a CSV or XLSX file"),
        (  # tabs separate columns ("Testo Unicode"): the header is read, and lacks columns
            b"codice_fiscale\tfirst_name\tlast_name\nX\tY\tZ\n",
            "roster.txt",
            "line 1: missing column(s): email, authority_code, category",
        ),
        (
            codecs.BOM_UTF16_LE + b"\x00\xd8",  # half a surrogate pair
            "roster.txt",
            "the file looks like Unicode Text (UTF-16) but cannot be read",
        ),
    ],
    ids=[
        "empty", "blank", "bom-only", "bom-blank-lines", "header-only", "header-then-blank",
        "pdf", "png", "nul-bytes", "not-text", "xls", "encrypted-xlsx", "doc", "ods", "docx",
        "damaged-zip", "damaged-xlsx", "html-as-xls", "xml", "tabs", "broken-utf-16",
    ],
)  # fmt: skip
def test_files_that_cannot_be_a_roster_get_one_clear_line(data, filename, message):
    with pytest.raises(TableError) as excinfo:
        read_roster(data, filename)
    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)


def test_format_is_recognised_by_content_not_by_name():
    assert read_roster(csv_data(VALID), "personale.xlsx").format == "csv"
    xlsx = (FIXTURES / "personale_comune.xlsx").read_bytes()
    assert read_roster(xlsx, "personale.csv").format == "xlsx"
    assert read_roster(xlsx).format == "xlsx"


def test_an_oversized_workbook_is_refused_before_it_is_unpacked(monkeypatch):
    monkeypatch.setattr(roster, "MAX_XLSX_UNPACKED_BYTES", 1000)
    with pytest.raises(TableError, match="too large once unpacked"):
        read_roster((FIXTURES / "personale_comune.xlsx").read_bytes())


# XLSX ---------------------------------------------------------------------------


XLSX_HEADER = ["Codice fiscale", "Nome", "Cognome", "Email", "Codice ente", "Categoria",
               "Profilo", "Data assunzione", "Data cessazione"]  # fmt: skip


def test_xlsx_header_is_the_first_non_empty_row_and_lines_are_sheet_rows():
    data = xlsx_data([
        [],
        [None, None],
        [None, *XLSX_HEADER],  # the table starts in column B
        [None, "spsncl85c12f839v", "Niccolò", "Esposito", "N@Comune.Napoli.it", 63049,
         "Neoassunto", None, date(2024, 3, 1)],
        [],
        [None, "DNGNNA90L65H703N", "Anna", "D'Angelo", "a@regione.campania.it", "15",
         "in servizio", None, "1/9/2020", "31/12/2024"],
    ])  # fmt: skip
    result = validate_rows(read_roster(data), authority_codes=CODES, today=TODAY)
    assert result.errors == []
    assert result.rows == [
        StaffRow(4, "SPSNCL85C12F839V", "Niccolò", "Esposito", "n@comune.napoli.it", NAPOLI,
                 "new_hire", None, date(2024, 3, 1), None),
        StaffRow(6, "DNGNNA90L65H703N", "Anna", "D'Angelo", "a@regione.campania.it", CAMPANIA,
                 "existing", None, date(2020, 9, 1), date(2024, 12, 31)),
    ]  # fmt: skip


def test_xlsx_cells_of_every_kind_become_text():
    moment = datetime.combine(date(2024, 3, 1), time(9, 30))
    data = xlsx_data([
        ["codice_fiscale", "first_name", "last_name", "email", "authority_code", "category",
         "hired_on", "left_on"],
        ["SPSNCL85C12F839V", 12, True, "n@comune.napoli.it", 15.0, "neoassunto", moment, 2.5],
    ])  # fmt: skip
    (row,) = read_roster(data)
    assert row.cells == {
        "codice_fiscale": "SPSNCL85C12F839V",
        "first_name": "12",
        "last_name": "TRUE",
        "email": "n@comune.napoli.it",
        "authority_code": "15",
        "category": "neoassunto",
        "hired_on": "2024-03-01",
        "left_on": "2.5",
    }


def test_xlsx_number_in_a_date_column_is_not_taken_for_a_date():
    data = xlsx_data([XLSX_HEADER, ["SPSNCL85C12F839V", "N", "E", "n@comune.napoli.it", "063049",
                                    "neoassunto", None, 45352]])  # fmt: skip
    assert texts(validate_rows(read_roster(data), authority_codes=CODES, today=TODAY).errors) == [
        "line 2, hired_on: 45352 is not a date: write DD/MM/YYYY or YYYY-MM-DD"
    ]


def test_xlsx_extra_cells_and_errors_name_sheet_rows():
    data = xlsx_data([XLSX_HEADER[:6], ["SPSNCL85C12F839V", "N", "E", "n@comune.napoli.it",
                                        99999, "neoassunto", "nota"]])  # fmt: skip
    assert texts(validate_rows(read_roster(data), authority_codes=CODES, today=TODAY).errors) == [
        "line 2, authority_code: 099999 is not a known authority (ISTAT or IPA code)",
        "line 2, extra cells: values beyond the last column of the header: nota",
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [([], "the file is empty"), ([[], [None]], "the file is empty"), ([XLSX_HEADER], "no rows")],
)
def test_xlsx_without_header_or_rows(rows, message):
    with pytest.raises(TableError, match=message):
        read_roster(xlsx_data(rows))


def _rewrite_sheet(data: bytes, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as rewritten:
        for name in source.namelist():
            content = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                content = change(content)
            rewritten.writestr(name, content)
    return out.getvalue()


def test_xlsx_with_a_wrong_declared_dimension_is_read_whole():
    """Some programs declare the sheet as A1 only; the rows are there all the same."""
    data = (FIXTURES / "personale_comune.xlsx").read_bytes()
    wrong = _rewrite_sheet(
        data, lambda xml: xml.replace(b'<dimension ref="A1:I10"/>', b'<dimension ref="A1:B2"/>')
    )
    assert wrong != data
    result = validate_rows(read_roster(wrong), authority_codes=CODES, today=TODAY)
    assert result.errors == []
    assert result.rows == FIXTURE_ROWS


def test_xlsx_damaged_half_way_down_raises_while_the_rows_are_read():
    rows = [XLSX_HEADER] + [VALID.split(";")] * 50
    # Cut off in the middle of a row.
    damaged = _rewrite_sheet(xlsx_data(rows), lambda xml: xml[: len(xml) * 2 // 3])
    roster_file = read_roster(damaged)
    with pytest.raises(TableError, match=r"^the workbook cannot be read: "):
        list(roster_file)


def test_csv_header_too_broken_to_parse():
    with pytest.raises(TableError, match=r"^line 1: field larger than field limit"):
        read_roster(b'"' + b"x" * 200_000 + b'"\n')


def test_xlsx_wrong_header_names_its_sheet_row():
    with pytest.raises(TableError, match=r"^line 2: missing column\(s\): email"):
        read_roster(xlsx_data([[], ["CF", "Nome", "Cognome", "Ente", "Categoria"], ["x"]]))


@pytest.mark.parametrize(
    ("number", "code"),
    [
        (1, "01"),
        (9, "09"),
        (15, "15"),
        (20, "20"),
        (21, "021"),
        (63, "063"),
        (111, "111"),
        (1001, "001001"),
        (63049, "063049"),
        (999_999, "999999"),
        (1_000_000, "1000000"),
        (0, "0"),
        (-5, "-5"),
    ],
)
def test_authority_code_from_number(number, code):
    assert authority_code_from_number(number) == code


# Codice fiscale ---------------------------------------------------------------------


def with_check_character(first15: str) -> str:
    return first15 + cf_library.encode_cin(first15)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("SPSNCL85C12F839V", None),
        ("RSSMRA75D21F83VW", None),  # omocodia: one digit written as a letter
        (with_check_character("RSSMRA75D21FUPV"), None),  # every place digit as a letter
        (with_check_character("MRNCHR00B69A783"), None),  # 29 February 2000, a woman
        ("SPSNCL85C12F839X", "invalid check character"),
        ("SPSNCL85C12F839", "must be 16 characters, not 15"),
        ("SPSNCL85C12F839VV", "must be 16 characters, not 17"),
        ("SPS NCL 85C12 F839V", "must be written without spaces"),
        ("SPSNC185C12F839V", 'character 6 is "1" but should be a letter (surname and name)'),
        ("SPSNCLA5C12F839V", 'character 7 is "A" but should be a digit (year of birth)'),
        ("SPSNCL85Z12F839V", 'character 9 is "Z" but should be ' + MONTH_LETTER),
        ("SPSNCL85C1XF839V", 'character 11 is "X" but should be a digit (day of birth)'),
        ("SPSNCL85C128839V", 'character 12 is "8" but should be a letter (place of birth)'),
        ("SPSNCL85C12F8A9V", 'character 14 is "A" but should be a digit (place of birth)'),
        ("SPSNCL85C12F8391", 'character 16 is "1" but should be a letter (check character)'),
        ("SPSNCL85C12F839-", 'character 16 is "-" but should be a letter (check character)'),
        (with_check_character("SPSNCL85C32F839"), "the date of birth in it is not a date"),
        (with_check_character("SPSNCL85C00F839"), "the date of birth in it is not a date"),
        (with_check_character("SPSNCL85B30F839"), "the date of birth in it is not a date"),
        (with_check_character("SPSNCL01B69F839"), "the date of birth in it is not a date"),
        (with_check_character("SPSNCL85C72F839"), "the date of birth in it is not a date"),
        (with_check_character("SPSNCL85C12Z999"), "Z999 is not a known place of birth"),
    ],
)  # fmt: skip
def test_check_codice_fiscale(code, problem):
    assert (problem is None) == (check_codice_fiscale(code) is None)
    assert str(check_codice_fiscale(code) or "") == (problem or "")
    if problem is not None and " " not in code:  # the library drops spaces, we refuse them
        assert not cf_library.is_valid(code)


def test_codice_fiscale_is_upper_cased_and_trimmed():
    result = check(csv_data(" spsncl85c12f839v ;N;E;n@comune.napoli.it;063049;neoassunto;;;"))
    assert result.rows[0].codice_fiscale == "SPSNCL85C12F839V"


def test_two_people_with_the_same_name_and_birth_are_two_people():
    rows = [
        "RSSMRA75D21F839H;Mario;Russo;mario.russo@comune.napoli.it;063049;in servizio;;;",
        "RSSMRA75D21F83VW;Mario;Russo;mario.russo2@comune.napoli.it;063049;in servizio;;;",
    ]
    assert check(csv_data(*rows)).errors == []


def test_the_same_person_twice_is_an_error_on_the_second_row_even_in_other_case():
    rows = [VALID, VALID.lower().replace("niccolo.esposito", "other")]
    assert errors_of(*rows) == [
        "line 3, codice_fiscale: SPSNCL85C12F839V appears again (first on line 2)"
    ]


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789LMNPQRSTUV"
codici_fiscali = st.builds(
    lambda name, year, month, day, place: with_check_character(
        f"{name}{year}{month}{day:02d}{place}"
    ),
    st.text(_LETTERS, min_size=6, max_size=6),
    st.text(_DIGITS, min_size=2, max_size=2),
    st.sampled_from("ABCDEHLMPRST"),
    st.integers(1, 28).flatmap(lambda d: st.sampled_from([d, d + 40])),
    st.sampled_from(["F839", "H501", "A783", "Z133", "B963", "H703", "G273", "A509"]),
)


# The autouse `db` fixture of conftest is function-scoped; these tests never use it.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(codici_fiscali, st.integers(0, 15), st.sampled_from(_LETTERS + "0123456789"))
def test_what_python_codicefiscale_accepts_is_accepted(code, position, char):
    mutated = code[:position] + char + code[position + 1 :]
    assert check_codice_fiscale(code) is None
    assert cf_library.is_valid(code)
    if cf_library.is_valid(mutated):
        assert check_codice_fiscale(mutated) is None


# E-mail -----------------------------------------------------------------------------


def test_email_is_validated_and_lower_cased():
    result = check(
        csv_data(VALID.replace("niccolo.esposito@comune.napoli.it", "N.Esposito@Comune.Napoli.IT"))
    )
    assert result.rows[0].email == "n.esposito@comune.napoli.it"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("niccolo.esposito", "An email address must have an @-sign."),
        ("niccolò@comune.napoli.it", "Internationalized characters before the @-sign"),
        ("n..esposito@comune.napoli.it", "An email address cannot have two periods in a row."),
        ("n@comune", "The part after the @-sign is not valid. It should have a period."),
        ("n@comune..napoli.it", "An email address cannot have two periods in a row."),
        ("Mario Rossi <m@comune.napoli.it>", "A display name and angle brackets"),
    ],
)
def test_invalid_emails(address, reason):
    (error,) = errors_of(VALID.replace("niccolo.esposito@comune.napoli.it", address))
    assert error.startswith(f"line 2, email: {address} is not a valid e-mail address: {reason}")


@pytest.mark.parametrize(
    ("address", "italian"),
    [
        ("ma rio@comune.napoli.it", "prima della @ ci sono caratteri non ammessi (spazio)"),
        ('"mario"@comune.napoli.it', "non sono ammesse virgolette prima della @"),
        ("mario@[127.0.0.1]", "non sono ammessi indirizzi tra parentesi quadre dopo la @"),
        ("niccolò@comune.napoli.it", "prima della @ non sono ammessi caratteri accentati ('ò')"),
    ],
)
def test_email_reasons_in_italian_name_what_is_wrong(address, italian):
    with pytest.raises(EmailNotValidError) as refused:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    with force_locale("it"):
        assert str(roster.email_reason(refused.value)) == italian


def test_one_email_for_two_people_is_an_error_on_the_second():
    rows = [
        VALID,
        "RSSMRA75D21F839H;Mario;Russo;NICCOLO.ESPOSITO@comune.napoli.it;063049;in servizio;;;",
    ]
    assert errors_of(*rows) == [
        (
            "line 3, email: niccolo.esposito@comune.napoli.it appears again for another person "
            "(first on line 2, SPSNCL85C12F839V)"
        )
    ]


addresses = st.builds(
    "{}@{}".format,
    st.text("abcXYZ019._+-!#'àé\"@ ", min_size=0, max_size=12),
    st.sampled_from(
        ["comune.napoli.it", "Regione.Campania.IT", "pec.it", "x", "a..b.it", "-a.it", "città.it",
         "localhost", "test", "b.invalid", "1.2.3.4", "[1.2.3.4]"]
    ),
)  # fmt: skip


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(addresses, max_size=8))
def test_the_email_shortcut_agrees_with_email_validator(batch):
    normaliser = EmailNormaliser()
    normaliser.normalise("someone@comune.napoli.it")
    normaliser.normalise("someone@Regione.Campania.IT")
    for address in batch:
        try:
            expected = validate_email(
                address, check_deliverability=False, allow_smtputf8=False
            ).normalized.lower()
        except EmailNotValidError:
            expected = None
        try:
            got = normaliser.normalise(address)
        except EmailNotValidError:
            got = None
        assert got == expected


# Authority ------------------------------------------------------------------------


def test_authority_by_istat_code_or_ipa_code_in_any_case():
    rows = [
        VALID,
        VALID.replace("SPSNCL85C12F839V", "DNGNNA90L65H703N")
        .replace("063049", "C_F839")
        .replace("niccolo", "anna"),
    ]
    result = check(csv_data(*rows))
    assert result.errors == []
    assert [r.authority_id for r in result.rows] == [NAPOLI, NAPOLI]


@pytest.mark.parametrize(
    ("code", "hint"),
    [("63049", "063049"), ("63", "063"), ("99", None), ("c_x999", None)],
)
def test_unknown_authority_suggests_a_lost_leading_zero(code, hint):
    (error,) = errors_of(VALID.replace("063049", code))
    reason = f"{code} is not a known authority (ISTAT or IPA code)"
    if hint:
        reason += f"; did the spreadsheet drop leading zeros? {hint} is known"
    assert error == f"line 2, authority_code: {reason}"


def test_authority_outside_the_importers_scope():
    assert errors_of(VALID, scope={CAMPANIA}) == [
        "line 2, authority_code: 063049 is not among the authorities you may import staff for"
    ]
    assert errors_of(VALID, scope={NAPOLI}) == []


# Category, names, profile --------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "category"),
    [
        ("new_hire", "new_hire"),
        ("NEW_HIRE", "new_hire"),
        ("new hire", "new_hire"),
        ("neoassunto", "new_hire"),
        ("Neoassunta", "new_hire"),
        ("neo-assunto", "new_hire"),
        ("Nuovo  Assunto", "new_hire"),
        ("nuova assunta", "new_hire"),
        ("existing", "existing"),
        (" Existing ", "existing"),
        ("in servizio", "existing"),
        ("IN_SERVIZIO", "existing"),
        ("In Servizio", "existing"),
    ],
)
def test_parse_category(written, category):
    assert parse_category(written) == category


@pytest.mark.parametrize("written", ["", "precaria", "neo", "servizio", "existing staff", "1"])
def test_parse_category_refuses_other_words_and_lists_the_accepted_ones(written):
    with pytest.raises(ValueError, match="is not a category: write new_hire or existing") as exc:
        parse_category(written)
    assert "neoassunto" in str(exc.value)
    assert "in servizio" in str(exc.value)


def test_names_and_profile_are_trimmed_and_inner_spaces_collapsed():
    row = (
        "SPSNCL85C12F839V; Niccolò\u00a0 Maria ;  De   Luca ;n@comune.napoli.it;063049;"
        "neoassunto; specialista   tecnico ;;"
    )
    (staff,) = check(csv_data(row)).rows
    assert (staff.first_name, staff.last_name, staff.profile) == (
        "Niccolò Maria",
        "De Luca",
        "specialista tecnico",
    )


def test_long_names_and_profile_are_errors():
    row = (
        f"SPSNCL85C12F839V;{'N' * 101};{'E' * 100};n@comune.napoli.it;063049;neoassunto;"
        f"{'p' * 201};;"
    )
    assert errors_of(row) == [
        "line 2, first_name: longer than 100 characters",
        "line 2, profile: longer than 200 characters",
    ]


@pytest.mark.parametrize("column", roster.REQUIRED_COLUMNS)
def test_every_required_cell(column):
    cells = dict(zip(HEADER.split(";"), VALID.split(";"), strict=True))
    cells[column] = "   "
    assert errors_of(";".join(cells.values())) == [f"line 2, {column}: required"]


def test_every_error_of_a_row_is_reported():
    row = "SPSNCL85C12F839X;;Esposito;n@;099999;boh;;2024-02-30;1/1/1850;nota"
    assert errors_of(row) == [
        "line 2, first_name: required",
        "line 2, codice_fiscale: invalid check character",
        "line 2, email: n@ is not a valid e-mail address: " + AFTER_AT,
        "line 2, authority_code: 099999 is not a known authority (ISTAT or IPA code)",
        (
            "line 2, category: boh is not a category: write new_hire or existing "
            "(or neoassunto, neoassunta, nuovo assunto, nuova assunta, in servizio)"
        ),
        "line 2, hired_on: 2024-02-30 is not a date",
        "line 2, left_on: 1/1/1850 is not between 1900 and 2099",
        "line 2, extra cells: values beyond the last column of the header: nota",
    ]


# Dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("01/03/2024", date(2024, 3, 1)),
        ("1/3/2024", date(2024, 3, 1)),
        (" 29/02/2024 ", date(2024, 2, 29)),
        ("31/12/1999", date(1999, 12, 31)),
        (date(2024, 3, 1), date(2024, 3, 1)),
        (datetime.combine(date(2024, 3, 1), time(10, 30)), date(2024, 3, 1)),
    ],
)
def test_parse_date(written, expected):
    assert parse_date(written) == expected


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("31/02/2024", "31/02/2024 is not a date"),
        ("29/02/2023", "29/02/2023 is not a date"),
        ("2024-13-01", "2024-13-01 is not a date"),
        ("00/01/2024", "00/01/2024 is not a date"),
        ("0000-01-01", "0000-01-01 is not a date"),
        ("2024-3-1", "2024-3-1 is not a date: write DD/MM/YYYY or YYYY-MM-DD"),
        ("1/3/24", "1/3/24 is not a date: write DD/MM/YYYY or YYYY-MM-DD"),
        ("01-03-2024", "01-03-2024 is not a date: write DD/MM/YYYY or YYYY-MM-DD"),
        ("2024/03/01", "2024/03/01 is not a date: write DD/MM/YYYY or YYYY-MM-DD"),
        ("01/03/2024 00:00", "01/03/2024 00:00 is not a date: write DD/MM/YYYY or YYYY-MM-DD"),
        ("١/٣/٢٠٢٤", "١/٣/٢٠٢٤ is not a date: write DD/MM/YYYY or YYYY-MM-DD"),
        ("marzo 2024", "marzo 2024 is not a date: write DD/MM/YYYY or YYYY-MM-DD"),
        ("", " is not a date: write DD/MM/YYYY or YYYY-MM-DD"),
    ],
)
def test_parse_date_is_strict(written, message):
    with pytest.raises(ValueError, match="is not a date") as excinfo:
        parse_date(written)
    assert str(excinfo.value) == message


def dated(hired_on: str = "", left_on: str = "") -> str:
    return VALID.removesuffix(";;") + f";{hired_on};{left_on}"


def test_dates_in_the_roster():
    (staff,) = check(csv_data(dated("1/9/2020", "2025-06-30"))).rows
    assert (staff.hired_on, staff.left_on) == (date(2020, 9, 1), date(2025, 6, 30))


def test_left_on_before_hired_on_is_an_error_on_left_on_the_same_day_is_not():
    assert errors_of(dated("01/06/2020", "31/05/2020")) == [
        "line 2, left_on: 31/05/2020 is before hired_on (01/06/2020)"
    ]
    assert errors_of(dated("01/06/2020", "01/06/2020")) == []


def test_hired_on_may_be_up_to_a_year_ahead_not_more():
    assert errors_of(dated((TODAY + timedelta(days=366)).isoformat())) == []
    too_far = (TODAY + timedelta(days=367)).isoformat()
    assert errors_of(dated(too_far)) == [
        f"line 2, hired_on: {too_far} is more than a year from today"
    ]


def test_left_on_may_be_years_ahead_as_fixed_term_contracts_end():
    assert errors_of(dated("01/03/2024", "28/02/2029")) == []
    assert errors_of(dated("", "01/01/2100")) == [
        "line 2, left_on: 01/01/2100 is not between 1900 and 2099"
    ]


def test_today_defaults_to_today_in_italy():
    assert today_in_italy() in {
        datetime.now(ZoneInfo("Europe/Rome")).date(),
        datetime.now(ZoneInfo("Europe/Rome")).date() - timedelta(days=1),  # at midnight
    }
    too_far = (today_in_italy() + timedelta(days=400)).isoformat()
    result = validate_rows(read_roster(csv_data(dated(too_far))), authority_codes=CODES)
    assert texts(result.errors) == [f"line 2, hired_on: {too_far} is more than a year from today"]


# The same errors in Italian (the upload page's default language) --------------------


def test_errors_are_messages_worded_in_the_readers_language():
    data = (FIXTURES / "personale_errori.csv").read_bytes()
    errors = check(data).errors
    assert (errors[0].line, errors[0].column) == (3, "codice_fiscale")
    with force_locale("it"):
        italian = texts(errors)
    assert italian[:4] == [
        "riga 3, codice_fiscale: carattere di controllo errato",
        "riga 4, codice_fiscale: deve avere 16 caratteri, non 15",
        (
            'riga 5, codice_fiscale: il carattere 9 è "Z" ma dovrebbe essere la lettera del mese '
            "(A B C D E H L M P R S T)"
        ),
        (
            "riga 6, email: giuseppe.deluca@ non è un indirizzo e-mail valido: "
            "manca la parte dopo la @"
        ),
    ]
    assert "riga 9, hired_on: 31/02/2024 non è una data esistente" in italian
    assert (
        "riga 14, celle in più: «nota a margine» è oltre l'ultima colonna dell'intestazione"
        in italian
    )
    assert not any("line" in error or "is not" in error for error in italian)
    assert texts(errors)[0] == "line 3, codice_fiscale: invalid check character"  # English again


@pytest.mark.parametrize(
    ("address", "italian"),
    [
        ("mario.rossi", "manca la @"),
        ("@comune.napoli.it", "manca la parte prima della @"),
        ("mario..rossi@comune.napoli.it", "ci sono due punti di seguito"),
        ("mario.rossi@comune", "dopo la @ manca il dominio completo (per esempio comune.it)"),
        ("niccolò@comune.napoli.it", "prima della @ non sono ammessi caratteri accentati ('ò')"),
        ("mario rossi@comune.napoli.it", "prima della @ ci sono caratteri non ammessi"),
    ],
)
def test_email_validators_english_is_kept_in_english_and_summed_up_in_italian(address, italian):
    with pytest.raises(EmailNotValidError) as excinfo:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    (error,) = errors_of(VALID.replace("niccolo.esposito@comune.napoli.it", address))
    assert error == f"line 2, email: {address} is not a valid e-mail address: {excinfo.value}"
    (message,) = check(csv_data(VALID.replace("niccolo.esposito@comune.napoli.it", address))).errors
    with force_locale("it"):
        assert str(message).startswith(
            f"riga 2, email: {address} non è un indirizzo e-mail valido: {italian}"
        )


def test_a_file_that_is_not_a_roster_is_described_in_italian_too():
    with pytest.raises(TableError) as excinfo:
        read_roster(b"")
    assert str(excinfo.value) == "the file is empty"
    with force_locale("it"):
        assert str(excinfo.value) == "il file è vuoto"
    with pytest.raises(TableError) as excinfo:
        read_roster(b"Codice Fiscale;Nome;Telefono\nX;Y;Z\n")
    with force_locale("it"):
        assert str(excinfo.value).startswith(
            "riga 1: colonne mancanti: last_name, email, authority_code, category; "
            "colonne sconosciute: Telefono; colonne attese: codice_fiscale,"
        )


# Many errors ------------------------------------------------------------------------


def _bad_rows(count: int) -> bytes:
    return csv_data(*[VALID.replace("063049", "099999")] * count)


def test_errors_are_capped_and_the_rest_counted():
    result = check(_bad_rows(1500))
    assert result.error_count == 2999  # each row's authority; rows 3+ repeat the person too
    assert len(result.errors) == 1000
    assert str(result.errors[999]).startswith("line 502, codice_fiscale: ")
    assert result.more_errors == 1999
    assert not result.ok
    assert result.invalid_rows == 1500


def test_error_cap_is_chosen_by_the_caller():
    assert str(check(_bad_rows(2), max_errors=2).errors[1]).startswith("line 3, codice_fiscale:")
    assert check(_bad_rows(2), max_errors=2).error_count == 3
    assert check(_bad_rows(2), max_errors=2).more_errors == 1
    assert len(check(_bad_rows(1500), max_errors=None).errors) == 2999
    assert check(_bad_rows(1500), max_errors=None).more_errors == 0
    nothing_listed = check(_bad_rows(1), max_errors=0)
    assert (nothing_listed.errors, nothing_listed.more_errors, nothing_listed.ok) == ([], 1, False)


# Round trip ------------------------------------------------------------------------


_NAME = st.text("abcdeèéìòùàAÈÌ'’ -", min_size=1, max_size=30).filter(lambda s: s.strip())
_DATES = st.dates(date(1950, 1, 1), date(2025, 12, 31))


@st.composite
def staff_rows(draw) -> list[StaffRow]:
    codes = draw(st.lists(codici_fiscali, min_size=1, max_size=12, unique=True))
    people = []
    for line, code in enumerate(codes, start=2):
        hired_on = draw(st.none() | _DATES)
        left_on = draw(st.none() | _DATES)
        if hired_on and left_on and left_on < hired_on:
            hired_on, left_on = left_on, hired_on
        people.append(
            StaffRow(
                line=line,
                codice_fiscale=code,
                first_name=" ".join(draw(_NAME).split()),
                last_name=" ".join(draw(_NAME).split()),
                email=f"p{line}.{draw(st.sampled_from(['x', 'y_z', 'a-b']))}@comune.napoli.it",
                authority_id=draw(st.sampled_from([NAPOLI, CAMPANIA, SALERNO])),
                category=draw(st.sampled_from(["new_hire", "existing"])),
                profile=draw(st.none() | st.sampled_from(["specialista tecnico", "a, b"])),
                hired_on=hired_on,
                left_on=left_on,
            )
        )
    return people


_CODE_OF = {NAPOLI: "063049", CAMPANIA: "15", SALERNO: "065116"}
_WORDS = {
    "new_hire": ["neoassunto", "NEW_HIRE", "nuova assunta"],
    "existing": ["in servizio", "existing"],
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    staff_rows(),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "xlsx"]),
    st.sampled_from([";", ","]),
    st.data(),
)
def test_any_valid_roster_round_trips(people, encoding, separator, data):
    header = ["Codice Fiscale", "Nome", "Cognome", "E-mail", "Codice Ente", "Categoria",
              "Profilo", "Data Assunzione", "Data Cessazione"]  # fmt: skip
    written_dates = data.draw(st.sampled_from(["%d/%m/%Y", "%Y-%m-%d"]))
    table: list[list[object]] = [header]
    table.extend(
        [
            p.codice_fiscale.lower() if p.line % 2 else p.codice_fiscale,
            p.first_name,
            p.last_name,
            p.email.upper() if p.line % 3 == 0 else p.email,
            _CODE_OF[p.authority_id],
            data.draw(st.sampled_from(_WORDS[p.category])),
            p.profile or "",
            p.hired_on or "",
            p.left_on or "",
        ]
        for p in people
    )
    if encoding == "xlsx":
        payload = xlsx_data(table)
    else:
        out = io.StringIO(newline="")
        writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
        for row in table:
            writer.writerow([v.strftime(written_dates) if isinstance(v, date) else v for v in row])
        payload = out.getvalue().encode(encoding)
    result = validate_rows(read_roster(payload), authority_codes=CODES, today=TODAY)
    assert result.errors == []
    assert result.rows == people


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=20) | st.from_regex(r"[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}"))
def test_parse_date_never_crashes(text):
    try:
        parsed = parse_date(text)
    except ValueError as exc:
        message = str(exc)
    else:
        assert parse_date(parsed.isoformat()) == parsed
        return
    assert "is not a date" in message
    assert "\n" not in message


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dates(date(1000, 1, 1), date(9999, 12, 31)))
def test_parse_date_reads_every_date_in_every_accepted_form(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d/%m/%Y")) == day
    assert parse_date(f"{day.day}/{day.month}/{day.year}") == day


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=8), max_size=12), st.integers(1, 99999))
def test_any_row_validates_without_crashing(cells, line):
    row = Row(line=line, cells=dict(zip(roster.COLUMNS, cells, strict=False)))
    result = validate_rows([row], authority_codes=CODES, today=TODAY)
    assert result.rows_read == 1
    assert all(error.startswith(f"line {line}, ") for error in texts(result.errors))
    assert not any("\n" in error or "\r" in error for error in texts(result.errors))
    assert result.ok == (len(result.rows) == 1)
