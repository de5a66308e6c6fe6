"""A roster saved as CSV: :mod:`lms.core.tabular`'s reader, with the roster's columns.

UTF-8 with or without BOM, Windows-1252, or UTF-16 with its BOM (Excel's "Testo
Unicode", tab-separated); ``;``, ``,`` or tabs. Cells are taken as
written: ``63049`` stays ``63049`` (the error then suggests ``063049`` if that
code is known). Before the header is read, text that is clearly not a CSV is
refused with one sentence: a web page or XML file (which other programs often
name ``.xls``).
"""

from __future__ import annotations

from collections.abc import Iterator

from lms.core.messages import _l
from lms.core.tabular import (
    UTF16_BOMS,
    Header,
    Row,
    TableError,
    decode,
    detect_delimiter,
    first_line,
    read_table,
)
from lms.enrolments.roster.columns import check_roster_header, refuse_nul, roster_row
from lms.enrolments.roster.formats import NOT_A_TABLE


def read_csv_roster(data: bytes, filename: str) -> tuple[Header, Iterator[Row]]:
    """The checked header and a stream of rows. *filename* only words messages."""
    encoding, delimiter = _sniff(data, filename)
    header, lines = read_table(data, encoding, delimiter, _checked_header)
    names = header.names
    return header, (roster_row(line, names, values) for line, values in lines)


def _checked_header(raw: list[str], line: int) -> Header:
    refuse_nul(raw, line)
    return check_roster_header(raw, line)


def _sniff(data: bytes, filename: str) -> tuple[str, str]:
    """The encoding and separator of a CSV; refuse text that is clearly something else."""
    try:
        text, encoding = decode(data)
    except TableError:
        if data.startswith(UTF16_BOMS):  # "Testo Unicode" that does not decode: say how to save
            raise
        raise TableError(NOT_A_TABLE) from None
    line = first_line(text)
    del text  # the rows are decoded again as they are read, a little at a time
    if line.startswith("<"):  # HTML or XML, which other programs often name ".xls"
        if filename.lower().endswith((".xls", ".xlsx")):
            raise TableError(
                _l(
                    "il file ha il nome di una cartella di lavoro Excel ma è una pagina web "
                    "o un file XML: aprilo in Excel e salvalo come .xlsx o CSV"
                )
            )
        raise TableError(NOT_A_TABLE)
    return encoding, detect_delimiter(line)
