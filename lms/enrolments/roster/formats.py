"""Which kind of file an upload is, recognised by its content, not by its name.

A ZIP is taken for XLSX (:mod:`lms.enrolments.roster.xlsx_reader` then checks it
holds ``xl/workbook.xml``), other binaries are refused, text is CSV. Excel
97-2003 (.xls), OpenDocument, password-protected workbooks and other binaries
get one clear sentence.
"""

from __future__ import annotations

from typing import Final, Literal

from lms.core.messages import Message, _l
from lms.core.tabular import EMPTY, TableError

NOT_A_TABLE: Final = _l("il file non è un file CSV o XLSX")
_OTHER_BINARIES: Final = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x05\x06", b"\x1f\x8b")
_XLS: Final = _l("i file Excel 97-2003 (.xls) non sono supportati: salvalo come .xlsx o CSV")


def recognise_format(data: bytes) -> Literal["csv", "xlsx"]:
    """``xlsx`` for a ZIP, ``csv`` for anything else not refused (:class:`TableError`)."""
    if not data or data.isspace():
        raise TableError(EMPTY)
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2 compound file
        raise TableError(_ole2_problem(data))
    if head.startswith(_OTHER_BINARIES):
        raise TableError(NOT_A_TABLE)
    return "csv"


def _ole2_problem(data: bytes) -> Message:
    """What to say about an OLE2 file: an old workbook, an encrypted one, or neither."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return _l(
            "la cartella di lavoro è protetta da password: togli la password o salvala come CSV"
        )
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return _XLS
    return NOT_A_TABLE
