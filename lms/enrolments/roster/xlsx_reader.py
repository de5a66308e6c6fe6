"""A roster saved as XLSX: its first sheet, read in bounded memory.

The roster is the first sheet: when that sheet is not one (no header, or not a
roster's) and another sheet is, the file is refused with the name of the sheet
that holds the roster (a workbook of instructions first, then the list, is how
many offices keep theirs). The header is the sheet's first non-empty row; line
numbers are the sheet's row numbers. Date cells become ISO dates. A number typed
in the authority column has lost its leading zeros, so it is read back as an ISTAT code
(:func:`authority_code_from_number`): 1-20 as a region (``15`` → ``15``, ``1`` →
``01``), 21-999 as a province (``63`` → ``063``), 1,000-999,999 as a
municipality (``63049`` → ``063049``). A province from ``001`` to ``020`` typed
as a number therefore reads as a region: such codes must be typed as text.

An XLSX file is a ZIP, and a small one may unpack to gigabytes (a "ZIP bomb").
Before openpyxl reads anything, :func:`_check_xlsx_archive` judges the ZIP's
directory against :class:`XlsxLimits`; while it reads, :class:`_GuardedArchive`
refuses to unpack whole any large part it would keep in memory. The limits
themselves are :mod:`lms.enrolments.roster`'s ``MAX_XLSX_*``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import datetime
from itertools import chain, repeat
from typing import IO, TYPE_CHECKING, Final, Literal, NamedTuple, Self

from openpyxl.reader.excel import ExcelReader
from openpyxl.xml.constants import SHARED_STRINGS

from lms.core.messages import EnglishOriginal, _l
from lms.core.tabular import EMPTY, NO_HEADER, Header, Row, TableError
from lms.enrolments.roster.columns import check_roster_header, roster_row
from lms.enrolments.roster.formats import NOT_A_TABLE

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet


class XlsxLimits(NamedTuple):
    """How large a workbook may be, judged before and while it is unpacked."""

    #: Entries the ZIP's directory may have.
    members: int
    #: What all the parts may unpack to together.
    unpacked_bytes: int
    #: What one part openpyxl keeps in memory may unpack to.
    part_bytes: int
    #: How many times its compressed size a part of more than *ratio_from_bytes* may be.
    ratio: int
    ratio_from_bytes: int


_TOO_BIG_UNPACKED: Final = _l(
    "la cartella di lavoro è troppo grande una volta decompressa: salvala come CSV"
)
_ZIP_DIRECTORY_ENTRY: Final = b"PK\x01\x02"
#: Rows read down each other sheet looking for a roster's header (the first sheet's
#: are read to the end). Sheets looked at past the first, at most.
_OTHER_SHEET_ROWS: Final = 50
_OTHER_SHEETS: Final = 50


def read_xlsx_roster(data: bytes, limits: XlsxLimits) -> tuple[Header, Iterator[Row]]:
    """The checked header and a stream of rows of the first sheet."""
    _check_xlsx_archive(data, limits)
    try:
        workbook = _load_workbook(data, limits.part_bytes)
    except _PartTooLarge:
        raise TableError(_TOO_BIG_UNPACKED) from None
    except Exception as exc:  # noqa: BLE001 - a damaged workbook fails in many ways in openpyxl
        raise TableError(
            EnglishOriginal(
                f"the file is not a CSV or XLSX file (the workbook cannot be read: {exc})",
                _l("il file non è un file CSV o XLSX: la cartella di lavoro non si apre"),
            )
        ) from None
    try:
        numbered, checked = _header(workbook)
    except Exception:
        workbook.close()
        raise
    header = checked.names

    def rows() -> Iterator[Row]:
        try:
            for line, values in numbered:
                cells = [
                    _cell_text(value, column)
                    for value, column in zip(values, chain(header, repeat("")), strict=False)
                ]
                if any(cell.strip() for cell in cells):
                    yield roster_row(line, header, cells)
        finally:
            workbook.close()

    return checked, rows()


def _check_xlsx_archive(data: bytes, limits: XlsxLimits) -> None:
    """Refuse a damaged ZIP, one that is not a workbook, or a "ZIP bomb", before unpacking.

    Only the ZIP's directory is read: its entry count (bounded by counting the
    entries' signature, which costs no memory), each member's declared size, and
    its compressed size. :mod:`zipfile` stops a member at its declared size (and
    then fails its CRC check), so a member cannot unpack to more than it says.
    """
    if data.count(_ZIP_DIRECTORY_ENTRY) > limits.members:
        raise TableError(_TOO_BIG_UNPACKED)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError):
        raise TableError(
            _l("il file non è un file CSV o XLSX (è un archivio ZIP danneggiato)")
        ) from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        if "content.xml" in names and "mimetype" in names:
            raise TableError(
                _l("i file OpenDocument (.ods) non sono supportati: salvalo come .xlsx o CSV")
            )
        raise TableError(NOT_A_TABLE)
    if sum(info.file_size for info in infos) > limits.unpacked_bytes:
        raise TableError(_TOO_BIG_UNPACKED)
    if any(
        info.file_size > limits.ratio_from_bytes
        and info.file_size > limits.ratio * max(info.compress_size, 1)
        for info in infos
    ):
        raise TableError(
            _l(
                "la cartella di lavoro contiene una parte compressa in modo anomalo "
                "(si espanderebbe più di %(ratio)d volte): salvala come CSV",
                ratio=limits.ratio,
            )
        )


class _PartTooLarge(Exception):  # not a ValueError, which openpyxl's reader rewraps
    """A part openpyxl would keep whole is larger than :attr:`XlsxLimits.part_bytes`."""


class _GuardedArchive(zipfile.ZipFile):
    """The workbook's ZIP as openpyxl reads it, refusing to unpack whole a large part.

    openpyxl keeps in memory every part it reads whole (``ZipFile.read``, or
    ``read()`` of an opened member: the workbook, styles, relationships…) and
    the shared strings, which it reads in chunks but keeps: such a part that
    declares more than :attr:`max_part_bytes` is refused before a byte of it is
    unpacked, whatever its name or the role the workbook gives it. The
    worksheets, read in chunks and let go row by row, are not limited here.
    """

    #: :attr:`XlsxLimits.part_bytes`.
    max_part_bytes: int = 0
    #: The part openpyxl reads in chunks and keeps: the shared strings.
    kept_in_chunks: str | None = None

    def open(
        self,
        name: str | zipfile.ZipInfo,
        mode: Literal["r", "w"] = "r",
        pwd: bytes | None = None,
        *,
        force_zip64: bool = False,
    ) -> IO[bytes]:
        """Open a member; one too large to keep is refused where it would be kept."""
        member = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return member
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        if info.file_size <= self.max_part_bytes:
            return member
        if info.filename == self.kept_in_chunks:
            member.close()
            raise _PartTooLarge(info.filename)
        return _ChunksOnly(member, info.filename)  # type: ignore[return-value]


class _ChunksOnly:
    """A large member that may be read a chunk at a time, never whole."""

    def __init__(self, member: IO[bytes], name: str) -> None:
        self.member = member
        self.name = name

    def read(self, size: int | None = -1) -> bytes:
        """Up to *size* bytes; :class:`_PartTooLarge` for the whole member."""
        if size is None or size < 0:
            raise _PartTooLarge(self.name)
        return self.member.read(size)

    def readall(self) -> bytes:
        """Refused: the whole member."""
        raise _PartTooLarge(self.name)

    def __getattr__(self, attribute: str) -> object:
        return getattr(self.member, attribute)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.member.close()


def _load_workbook(data: bytes, max_part_bytes: int) -> Workbook:
    """``openpyxl.load_workbook(data, read_only=True, data_only=True)``, guarded.

    It reads through a :class:`_GuardedArchive`: ``load_workbook`` is
    ``ExcelReader(...).read()``, and the reader's archive is swapped for the
    guarded one before it reads anything. The shared strings are found as
    openpyxl finds them, in ``[Content_Types].xml``. External links are not
    loaded: a roster needs none.
    """
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    reader.archive.close()
    archive = _GuardedArchive(io.BytesIO(data))
    archive.max_part_bytes = max_part_bytes
    reader.archive, reader.valid_files = archive, archive.namelist()
    try:
        reader.read_manifest()
        strings = reader.package.find(SHARED_STRINGS)
        archive.kept_in_chunks = strings.PartName[1:] if strings is not None else None
        reader.read()
    except BaseException:
        archive.close()
        raise
    return reader.wb


def _header(workbook: Workbook) -> tuple[Iterator[tuple[int, tuple]], Header]:
    """The numbered rows of the first sheet, advanced past its header, and the header.

    When the first sheet has no roster header and another sheet has one, the
    :class:`TableError` names both sheets instead of the first one's problem.
    """
    if not workbook.worksheets:
        raise TableError(_l("la cartella di lavoro non ha nessun foglio"))
    first = workbook.worksheets[0]
    try:
        return _sheet_header(first)
    except TableError:
        sheet = _roster_sheet(workbook.worksheets[1 : 1 + _OTHER_SHEETS])
        if sheet is None:
            raise
    raise TableError(
        _l(
            "il primo foglio («%(first)s») non è l'elenco del personale: l'elenco è nel foglio "
            "«%(sheet)s». Sposta quel foglio al primo posto (o elimina gli altri) e salva di nuovo",
            first=first.title,
            sheet=sheet,
        )
    )


def _sheet_header(
    sheet: ReadOnlyWorksheet, max_rows: int | None = None
) -> tuple[Iterator[tuple[int, tuple]], Header]:
    """The numbered rows of *sheet* advanced past its header (within *max_rows*), the header."""
    # The dimension a file declares may be wrong (some programs write A1):
    # trusting it could cut rows off.
    sheet.reset_dimensions()
    numbered = enumerate(_sheet_values(sheet), start=1)
    blank_rows = False
    for line, values in numbered:
        raw = ["" if value is None else str(value) for value in values]
        if any(cell.strip() for cell in raw):
            return numbered, check_roster_header(raw, line)
        blank_rows = True
        if max_rows is not None and line >= max_rows:
            break
    raise TableError(NO_HEADER if blank_rows else EMPTY)


def _roster_sheet(sheets: list[ReadOnlyWorksheet]) -> str | None:
    """The name of the first of *sheets* whose first non-empty row is a roster's header."""
    for sheet in sheets:
        try:
            _sheet_header(sheet, _OTHER_SHEET_ROWS)
        except TableError:
            continue
        return str(sheet.title)
    return None


def _sheet_values(sheet: ReadOnlyWorksheet) -> Iterator[tuple]:
    """The sheet's rows as values; a damaged sheet raises :class:`TableError`."""
    values = sheet.iter_rows(values_only=True)
    while True:
        try:
            row = next(values)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - damaged sheet XML fails in many ways
            raise TableError(
                EnglishOriginal(
                    f"the workbook cannot be read: {exc}",
                    _l("la cartella di lavoro non si legge: forse è danneggiata"),
                )
            ) from None
        yield row


def _cell_text(value: object, column: str) -> str:
    """An XLSX cell as the text a CSV would hold (dates in ISO form)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    # float(value) would overflow for an integer of 309 digits or more.
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        number = int(value)
        return authority_code_from_number(number) if column == "authority_code" else str(number)
    return str(value)


def authority_code_from_number(number: int) -> str:
    """The ISTAT code a number cell most likely held before its leading zeros were lost.

    1-20 a region (2 digits), 21-999 a province (3 digits), 1,000-999,999 a
    municipality (6 digits); anything else as it is.
    """
    if 1 <= number <= 20:  # noqa: PLR2004 - Italy has 20 regions
        return f"{number:02d}"
    if 21 <= number <= 999:  # noqa: PLR2004 - province codes have 3 digits
        return f"{number:03d}"
    if 1000 <= number <= 999_999:  # noqa: PLR2004 - municipality codes have 6 digits
        return f"{number:06d}"
    return str(number)
