"""Reading the CSV files Excel writes: encodings, separators, headers, line numbers."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import pytest
from flask_babel import force_locale

from lms.core.messages import english
from lms.core.tabular import (
    TableError,
    decode_text,
    detect_delimiter,
    normalise_header,
    read_csv,
)


@pytest.fixture(autouse=True)
def _in_english(db: object) -> Iterator[None]:  # noqa: ARG001 - db opens the app context
    """Errors are worded in English here, as the command line prints them."""
    with english():
        yield


REQUIRED = {"codice_fiscale", "last_name"}
OPTIONAL = {"email"}


def read(data: bytes, required=REQUIRED, optional=OPTIONAL):
    header, rows = read_csv(data, required=required, optional=optional)
    return header, list(rows)


# Encodings -------------------------------------------------------------------


def test_decode_utf8():
    assert decode_text("Città, Forlì".encode()) == "Città, Forlì"


def test_decode_utf8_with_bom_drops_the_bom():
    assert decode_text(codecs.BOM_UTF8 + "Città".encode()) == "Città"


def test_decode_windows_1252():
    data = "Città d’Arte €".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_text(data) == "Città d’Arte €"


def test_decode_refuses_binary():
    with pytest.raises(TableError, match="not a text"):
        decode_text(b"PK\x03\x04\x00\x00binary")


def test_decode_refuses_bytes_that_are_neither_utf8_nor_cp1252():
    # 0x81 is undefined in Windows-1252 and invalid as a UTF-8 start byte.
    with pytest.raises(TableError, match="neither UTF-8 nor Windows-1252"):
        decode_text(b"name\n\x81\x81\n")


def test_read_csv_with_nul_byte_is_not_a_text():
    with pytest.raises(TableError, match="not a text"):
        read(b"codice_fiscale,last_name\nRSSMRA80A01H501U,Ro\x00ssi\n")


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: codecs.BOM_UTF8 + s.encode("utf-8"),
        lambda s: s.encode("cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252"],
)
def test_read_csv_in_every_excel_encoding(encode):
    header, rows = read(encode("codice_fiscale;last_name\nRSSMRA80A01H501U;Niccolò\n"))
    assert header == ["codice_fiscale", "last_name"]
    assert rows[0].get("last_name") == "Niccolò"
    assert rows[0].get("codice_fiscale") == "RSSMRA80A01H501U"


# Separators --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a;b;c", ";"),
        ("a,b,c", ","),
        ("a;b,c;d", ";"),
        ("a,b;c,d", ","),
        ("single", ","),
    ],
)
def test_detect_delimiter(line, expected):
    assert detect_delimiter(line) == expected


def test_semicolon_file_keeps_commas_inside_cells():
    _, rows = read(b"codice_fiscale;last_name\nRSSMRA80A01H501U;Rossi, detto Mario\n")
    assert rows[0].get("last_name") == "Rossi, detto Mario"


def test_comma_file_with_quoted_semicolons_and_commas():
    _, rows = read(b'codice_fiscale,last_name\nRSSMRA80A01H501U,"De Luca, Anna; jr"\n')
    assert rows[0].get("last_name") == "De Luca, Anna; jr"


# Header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Codice Fiscale ", "codice_fiscale"),
        ("CODICE_FISCALE", "codice_fiscale"),
        ("last-name", "last_name"),
        ("  First   Name\t", "first_name"),
        ("email", "email"),
    ],
)
def test_normalise_header(raw, expected):
    assert normalise_header(raw) == expected


def test_header_is_matched_without_regard_to_case_spaces_or_order():
    header, rows = read(b" Last Name ; CODICE FISCALE \nRossi;RSSMRA80A01H501U\n")
    assert header == ["last_name", "codice_fiscale"]
    assert rows[0].cells == {"last_name": "Rossi", "codice_fiscale": "RSSMRA80A01H501U"}


def test_optional_column_may_be_absent_or_present():
    _, rows = read(b"codice_fiscale,last_name,email\nX,Rossi,a@example.org\n")
    assert rows[0].get("email") == "a@example.org"
    _, rows = read(b"codice_fiscale,last_name\nX,Rossi\n")
    assert rows[0].get("email") == ""


def test_missing_column_is_named():
    with pytest.raises(TableError) as excinfo:
        read(b"codice_fiscale,email\nX,a@example.org\n")
    message = str(excinfo.value)
    assert message.startswith("line 1:")
    assert "missing column(s): last_name" in message
    assert "expected codice_fiscale, last_name (optional: email)" in message


def test_unknown_column_is_named():
    with pytest.raises(TableError, match=r"^line 1: unknown column\(s\): telefono; expected"):
        read(b"codice_fiscale,last_name,telefono\nX,Rossi,06123\n")


def test_repeated_column_is_named():
    with pytest.raises(TableError, match=r"^line 1: repeated column\(s\): last_name; expected"):
        read(b"codice_fiscale,last_name,Last Name\nX,Rossi,Bianchi\n")


def test_every_header_problem_is_reported_at_once():
    with pytest.raises(TableError) as excinfo:
        read(b"codice_fiscale,codice_fiscale,nome\nX,X,Mario\n")
    message = str(excinfo.value)
    assert "missing column(s): last_name" in message
    assert "unknown column(s): nome" in message
    assert "repeated column(s): codice_fiscale" in message


def test_empty_header_cells_are_ignored():
    """A trailing separator (as Excel sometimes writes) is not an unknown column."""
    header, rows = read(b"codice_fiscale;last_name;\nX;Rossi;\n")
    assert header == ["codice_fiscale", "last_name", ""]
    assert rows[0].get("last_name") == "Rossi"


@pytest.mark.parametrize("data", [b"", b"   \n\n", codecs.BOM_UTF8, b"\r\n"])
def test_empty_file(data):
    with pytest.raises(TableError, match="the file is empty"):
        read(data)


# Rows and line numbers -----------------------------------------------------------


def test_blank_lines_are_skipped_and_line_numbers_are_the_files():
    data = (
        b"codice_fiscale,last_name\n"  # line 1
        b"A,Rossi\n"  # line 2
        b"\n"  # line 3
        b" , \n"  # line 4: only spaces
        b"B,Bianchi\n"  # line 5
        b",\n"  # line 6: separators only
    )
    _, rows = read(data)
    assert [(r.line, r.get("codice_fiscale")) for r in rows] == [(2, "A"), (5, "B")]


def test_line_numbers_with_crlf_and_multiline_quoted_cell():
    data = (
        b"codice_fiscale;last_name\r\n"  # line 1
        b'A;"Rossi\r\ndetto Mario"\r\n'  # lines 2-3
        b"\r\n"  # line 4
        b"B;Bianchi\r\n"  # line 5
    )
    _, rows = read(data)
    assert rows[0].get("last_name") == "Rossi\r\ndetto Mario"
    assert rows[1].line == 5
    assert rows[1].get("codice_fiscale") == "B"


def test_blank_lines_before_the_header_are_skipped_too():
    _, rows = read(b"\n\ncodice_fiscale,last_name\nA,Rossi\n")
    assert [(r.line, r.get("last_name")) for r in rows] == [(4, "Rossi")]
    _, rows = read(b"\r\n ; \r\ncodice_fiscale;last_name\r\nA;Rossi\r\n")
    assert [(r.line, r.get("last_name")) for r in rows] == [(4, "Rossi")]


def test_header_error_names_the_header_line():
    with pytest.raises(TableError, match=r"^line 3: missing column\(s\): last_name"):
        read(b"\n\ncodice_fiscale\nA\n")


def test_cells_are_trimmed_by_get_and_missing_cells_are_empty():
    _, rows = read(b"codice_fiscale,last_name,email\n  A  ,Rossi\n")
    assert rows[0].get("codice_fiscale") == "A"
    assert rows[0].get("email") == ""
    assert rows[0].get("not_a_column") == ""


def test_extra_cells_are_kept_apart():
    _, rows = read(b"codice_fiscale,last_name\nA,Rossi,surplus,more\n")
    assert rows[0].cells["__extra__"] == "surplus,more"
    assert rows[0].get("last_name") == "Rossi"


def test_errors_are_worded_in_the_readers_language():
    with pytest.raises(TableError) as excinfo:
        read(b"codice_fiscale;telefono\nX;Y\n")
    assert excinfo.value.line == 1
    with force_locale("it"):
        assert str(excinfo.value) == (
            "riga 1: colonne mancanti: last_name; colonne sconosciute: telefono; "
            "colonne attese: codice_fiscale, last_name (facoltative: email)"
        )
    assert str(excinfo.value) == (
        "line 1: missing column(s): last_name; unknown column(s): telefono; "
        "expected codice_fiscale, last_name (optional: email)"
    )
