"""Staff roster files: reading the CSV or XLSX an HR office has, and checking every row.

Pure functions, no Flask and no database (``staff-and-reports.md``, "Staff roster
import"). :func:`read_roster` turns the bytes of an upload into rows keyed by the
spec's column names; :func:`validate_rows` turns those rows into :class:`StaffRow`
values or into :class:`~lms.core.tabular.RowError` errors, ``line N, column: reason``
once shown: in the reader's language on the upload page (Italian by default),
in English on the command line (see :mod:`lms.core.messages`). The database layer builds
the ``authority_codes`` mapping, writes the rows only when there is no error, and
decides what an absent optional column means for a person already known
(:attr:`RosterFile.columns` says which columns the file had).

Decisions, so that the code need not be read to learn them:

- The format is recognised by content, not by name: a ZIP holding
  ``xl/workbook.xml`` is XLSX, text is CSV; Excel 97-2003 (.xls), OpenDocument,
  password-protected workbooks and other binaries get one clear sentence.
- CSV: UTF-8 with or without BOM, or Windows-1252; ``;`` or ``,``
  (:mod:`lms.core.tabular`). Cells are taken as written: ``63049`` stays ``63049``
  (the error then suggests ``063049`` if that code is known).
- XLSX: the first sheet; the header is its first non-empty row; line numbers are
  the sheet's row numbers. Date cells become ISO dates. A number typed in the
  authority column has lost its leading zeros, so it is read back as an ISTAT
  code: 1-20 as a region (``15`` → ``15``, ``1`` → ``01``), 21-999 as a province
  (``63`` → ``063``), 1,000-999,999 as a municipality (``63049`` → ``063049``).
  A province from ``001`` to ``020`` typed as a number therefore reads as a region:
  such codes must be typed as text.
- Header names are matched without regard to case, spaces or dashes, and the
  Italian names in :data:`HEADER_ALIASES` are accepted. A column the roster does
  not know is an error, not ignored: a misspelt ``Data assunzone`` would otherwise
  drop every hiring date without a word.
- Dates: ``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``D/M/YYYY``, nothing else (no
  two-digit years), from 1900 to 2099; ``hired_on`` at most a year after today.
- Codice fiscale: upper-cased; layout (omocodia letters allowed), check
  character, birth date and place-of-birth code are checked, see
  :func:`check_codice_fiscale`. The same codice fiscale twice is an error on the
  second row; so is one e-mail for two codici fiscali.
- E-mail: email_validator without DNS and without SMTPUTF8 (no accented local
  parts), then lower-cased whole. Its reasons are English; in English they are
  shown as it words them, in Italian as :func:`email_reason` sums them up.
- Names and profile: trimmed, inner runs of spaces made one; at most
  :data:`NAME_MAX_LENGTH` and :data:`PROFILE_MAX_LENGTH` characters.
- At most ``max_errors`` (default 1000) errors are listed;
  :attr:`ValidationResult.error_count` counts them all and
  :attr:`ValidationResult.more_errors` those left out (the page then says
  "… and N more errors"). The command line passes ``max_errors=None``.
- Messages are built only on the error path: a valid row costs no translation.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import zipfile
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import chain, repeat
from typing import IO, TYPE_CHECKING, Final, Literal, NamedTuple, Self

from codicefiscale import codicefiscale as cf_library
from codicefiscale.data import get_countries_data, get_municipalities_data
from email_validator import EmailNotValidError, validate_email
from openpyxl.reader.excel import ExcelReader
from openpyxl.xml.constants import SHARED_STRINGS

from lms.core.messages import EnglishOriginal, Joined, Message, _l
from lms.core.tabular import (
    Row,
    RowError,
    TableError,
    column_problems,
    csv_problem,
    decode_text,
    detect_delimiter,
    normalise_header,
)
from lms.core.types import today_in_italy

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

REQUIRED_COLUMNS: Final = (
    "codice_fiscale",
    "first_name",
    "last_name",
    "email",
    "authority_code",
    "category",
)
OPTIONAL_COLUMNS: Final = ("profile", "hired_on", "left_on")
COLUMNS: Final = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

#: Header names an Italian HR office writes, as :func:`~lms.core.tabular.normalise_header`
#: leaves them ("Codice Fiscale" → ``codice_fiscale``, "E-mail" → ``e_mail``).
HEADER_ALIASES: Final[Mapping[str, str]] = {
    "cf": "codice_fiscale",
    "c.f.": "codice_fiscale",
    "codicefiscale": "codice_fiscale",
    "nome": "first_name",
    "cognome": "last_name",
    "e_mail": "email",
    "mail": "email",
    "posta_elettronica": "email",
    "codice_ente": "authority_code",
    "ente": "authority_code",
    "categoria": "category",
    "profilo": "profile",
    "profilo_professionale": "profile",
    "data_assunzione": "hired_on",
    "data_di_assunzione": "hired_on",
    "assunto_il": "hired_on",
    "assunta_il": "hired_on",
    "data_cessazione": "left_on",
    "data_di_cessazione": "left_on",
    "cessato_il": "left_on",
    "cessata_il": "left_on",
}


@dataclass(frozen=True)
class ColumnGuide:
    """One column of the roster as the upload page explains it."""

    name: str
    required: bool
    #: Other headers accepted for it, as people write them ("data assunzione").
    aliases: tuple[str, ...]
    what: Message


_COLUMN_HELP: Final[Mapping[str, Message]] = {
    "codice_fiscale": _l("16 caratteri, maiuscole o minuscole; identifica la persona"),
    "first_name": _l("il nome"),
    "last_name": _l("il cognome"),
    "email": _l("l'indirizzo di lavoro, dove arriva il link per scegliere la password"),
    "authority_code": _l("il codice ISTAT (per esempio 063049) o il codice IPA dell'ente"),
    "category": _l("neoassunto o neoassunta, oppure in servizio (anche new_hire, existing)"),
    "profile": _l("il profilo professionale, come testo libero"),
    "hired_on": _l("la data di assunzione: GG/MM/AAAA o AAAA-MM-GG"),
    "left_on": _l(
        "la data di cessazione: dal giorno indicato la persona non conta più nei report "
        "e il suo account è disattivato"
    ),
}


#: The header of the empty roster offered for download: the Italian names an HR
#: office writes, each read back as the column of :data:`COLUMNS` in its place.
TEMPLATE_HEADER: Final = (
    "Codice fiscale",
    "Nome",
    "Cognome",
    "E-mail",
    "Codice ente",
    "Categoria",
    "Profilo",
    "Data assunzione",
    "Data cessazione",
)

#: Aliases as people write them where that is not just spaces for "_".
_SHOWN_ALIASES: Final = {"e_mail": "e-mail"}


def column_guide() -> list[ColumnGuide]:
    """Every roster column, required first, with the Italian headers accepted for it."""
    return [
        ColumnGuide(
            name=name,
            required=name in REQUIRED_COLUMNS,
            aliases=tuple(
                _SHOWN_ALIASES.get(alias, alias.replace("_", " "))
                for alias, target in HEADER_ALIASES.items()
                if target == name
            ),
            what=_COLUMN_HELP[name],
        )
        for name in COLUMNS
    ]


NEW_HIRE: Final = "new_hire"
EXISTING: Final = "existing"
Category = Literal["new_hire", "existing"]

#: Accepted spellings of a category, after lower-casing and turning ``_``, ``-``
#: and runs of spaces into one space.
CATEGORY_WORDS: Final[Mapping[str, Category]] = {
    "new hire": NEW_HIRE,
    "neoassunto": NEW_HIRE,
    "neoassunta": NEW_HIRE,
    "neo assunto": NEW_HIRE,
    "neo assunta": NEW_HIRE,
    "nuovo assunto": NEW_HIRE,
    "nuova assunta": NEW_HIRE,
    "existing": EXISTING,
    "in servizio": EXISTING,
}

NAME_MAX_LENGTH: Final = 100
PROFILE_MAX_LENGTH: Final = 200
EMAIL_MAX_LENGTH: Final = 254  # RFC 5321, enforced by email_validator
DEFAULT_MAX_ERRORS: Final = 1000
EARLIEST_DATE: Final = date(1900, 1, 1)
LATEST_DATE: Final = date(2099, 12, 31)
#: How far ahead a hiring date may be: new hires are often loaded before they start.
HIRED_ON_MAX_AHEAD: Final = timedelta(days=366)
#: An XLSX file is a ZIP; refuse one that would unpack to more than this (a "ZIP bomb").
MAX_XLSX_UNPACKED_BYTES: Final = 512 * 1024 * 1024
#: What openpyxl reads while it opens a workbook (shared strings, styles, the workbook,
#: relationships) it keeps in memory: each such part may unpack to at most this. Only
#: the worksheets, read afterwards as a stream, may be larger. A 100,000-row roster's
#: shared strings are some 12 MiB.
MAX_XLSX_PART_BYTES: Final = 32 * 1024 * 1024
#: A part of more than :data:`_RATIO_FROM_BYTES` may be at most this many times its
#: compressed size: workbooks' XML shrinks 3 to 20 times, a "ZIP bomb" a thousand times.
MAX_XLSX_RATIO: Final = 100
_RATIO_FROM_BYTES: Final = 1024 * 1024
#: Entries a workbook's ZIP directory may have: Python keeps some 600 bytes for each
#: entry it lists, and a workbook has tens of them.
MAX_XLSX_MEMBERS: Final = 10_000

EXTRA_CELLS: Final = "__extra__"  # the key lms.core.tabular uses for cells beyond the header

_Fail = Callable[[str | Message, Message], None]  # records one error of a row: (column, reason)

_NOT_A_TABLE = _l("il file non è un file CSV o XLSX")
_OTHER_BINARIES = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x05\x06", b"\x1f\x8b")
_XLS = _l("i file Excel 97-2003 (.xls) non sono supportati: salvalo come .xlsx o CSV")
_EMPTY = _l("il file è vuoto")
_NO_HEADER = _l(
    "il file non ha una riga di intestazione: ha solo righe vuote (o fatte solo di separatori)"
)
#: PostgreSQL cannot store a NUL character, and no name or code holds one.
_NUL = _l("il file contiene caratteri nulli (NUL): non è un file di testo")
_TOO_BIG_UNPACKED = _l(
    "la cartella di lavoro è troppo grande una volta decompressa: salvala come CSV"
)
#: The Italian header names a message lists as accepted.
_ITALIAN_NAMES = (
    "Codice fiscale, Nome, Cognome, E-mail, Codice ente, Categoria, Profilo, "
    "Data assunzione, Data cessazione"
)


# Reading ---------------------------------------------------------------------


@dataclass(frozen=True)
class RosterFile:
    """A roster whose header has been checked; iterate it (once) for its rows."""

    format: Literal["csv", "xlsx"]
    #: The spec's names of the columns the file has, required ones included.
    columns: frozenset[str]
    rows: Iterator[Row] = field(repr=False)
    #: Each column's header as the file writes it ("Data Assunzione" for
    #: ``hired_on``): errors name the column the way the person sees it.
    written: Mapping[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Row]:
        return self.rows


def read_roster(data: bytes, filename: str = "") -> RosterFile:
    """Recognise the format, check the header, and return the rows as a stream.

    Raises :class:`TableError` at once for a file that cannot be a roster (wrong
    format, empty, bad header, no rows under the header); a CSV syntax error
    further down is raised while the rows are read. *filename* only words messages.
    """
    if not data or data.isspace():
        raise TableError(_EMPTY)
    head = data[:8]
    file_format: Literal["csv", "xlsx"]
    if head.startswith(b"PK\x03\x04"):
        file_format = "xlsx"
        (header, written), rows = _read_xlsx(data)
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2 compound file
        raise TableError(_ole2_problem(data))
    elif head.startswith(_OTHER_BINARIES):
        raise TableError(_NOT_A_TABLE)
    else:
        file_format = "csv"
        (header, written), rows = _read_csv(data, filename)
    first = next(rows, None)
    if first is None:
        raise TableError(_l("non ci sono righe sotto l'intestazione"))
    return RosterFile(file_format, frozenset(filter(None, header)), chain([first], rows), written)


def canonical_column(name: str) -> str:
    """The spec's column name for a header cell: ``"Data Assunzione"`` → ``hired_on``."""
    key = normalise_header(name)
    return HEADER_ALIASES.get(key, key)


class Header(NamedTuple):
    """A checked header row: the spec's name of each column, and how the file writes it."""

    names: list[str]
    written: dict[str, str]


def _check_header(raw: list[str], line: int) -> Header:
    """Map a header row to the spec's names, or raise naming every problem."""
    names = [canonical_column(cell) for cell in raw]
    problems = column_problems(
        missing=[c for c in REQUIRED_COLUMNS if c not in names],
        unknown=[
            cell.strip()
            for cell, name in zip(raw, names, strict=True)
            if name and name not in COLUMNS
        ],
        repeated=[c for c in COLUMNS if names.count(c) > 1],
    )
    if problems:
        raise TableError(
            _l(
                "%(problems)s; colonne attese: %(expected)s (facoltative: %(optional)s); "
                "sono accettati anche i nomi in italiano, come %(italian)s",
                problems=problems,
                expected=", ".join(REQUIRED_COLUMNS),
                optional=", ".join(OPTIONAL_COLUMNS),
                italian=_ITALIAN_NAMES,
            ),
            line,
        )
    written = {name: cell.strip() for cell, name in zip(raw, names, strict=True) if name}
    return Header(names, written)


def _row(line: int, header: list[str], values: list[str]) -> Row:
    """Cells by column; values under no column are kept under :data:`EXTRA_CELLS`."""
    _refuse_nul(values, line)
    cells: dict[str, str] = {}
    extra = []
    for name, value in zip(header, values, strict=False):
        if name:
            cells[name] = value
        elif value.strip():
            extra.append(value.strip())
    extra.extend(value.strip() for value in values[len(header) :] if value.strip())
    if extra:
        cells[EXTRA_CELLS] = ", ".join(extra)
    return Row(line=line, cells=cells)


def _refuse_nul(values: list[str], line: int) -> None:
    """A NUL byte past the first 4 KiB of a CSV gets this far (the csv module keeps it)."""
    if "\x00" in "".join(values):
        raise TableError(_NUL, line)


def _sniff_csv(data: bytes, filename: str) -> tuple[str, str]:
    """The encoding and first line of a CSV; refuse text that is clearly something else."""
    try:
        text = decode_text(data)
    except TableError:
        raise TableError(_NOT_A_TABLE) from None
    stripped = text.lstrip()
    if not stripped:
        raise TableError(_EMPTY)
    if stripped.startswith("<"):  # HTML or XML, which other programs often name ".xls"
        if filename.lower().endswith((".xls", ".xlsx")):
            raise TableError(
                _l(
                    "il file ha il nome di una cartella di lavoro Excel ma è una pagina web "
                    "o un file XML: aprilo in Excel e salvalo come .xlsx o CSV"
                )
            )
        raise TableError(_NOT_A_TABLE)
    first_line = stripped[: stripped.find("\n")] if "\n" in stripped else stripped
    if "\t" in first_line and ";" not in first_line and "," not in first_line:
        raise TableError(
            _l(
                "le colonne sono separate da tabulazioni: salva il file come CSV "
                "(separato da ; o ,) o come .xlsx"
            )
        )
    del text, stripped  # the rows are decoded again as they are read, a little at a time
    # decode_text falls back to Windows-1252 only when the bytes are not UTF-8.
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "cp1252", first_line
    return "utf-8-sig", first_line


def _read_csv(data: bytes, filename: str) -> tuple[Header, Iterator[Row]]:
    """The checked header and a stream of rows: ``tabular.read_csv`` with aliases.

    The text is decoded as it is read (``tabular.read_csv`` holds it whole, four
    bytes a character in a StringIO): a 100,000-row file stays a few megabytes.
    """
    encoding, first_line = _sniff_csv(data, filename)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=detect_delimiter(first_line))
    try:
        # Rows of nothing but separators (";;;;", how Excel saves blank rows) are blank.
        raw_header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
    except csv.Error as exc:
        raise csv_problem(exc, reader.line_num) from None
    if raw_header is None:
        raise TableError(_NO_HEADER)
    _refuse_nul(raw_header, reader.line_num)
    checked = _check_header(raw_header, reader.line_num)
    header = checked.names

    def rows() -> Iterator[Row]:
        try:
            for values in reader:
                if any(value.strip() for value in values):
                    yield _row(reader.line_num, header, values)
        except csv.Error as exc:
            raise csv_problem(exc, reader.line_num) from None

    return checked, rows()


def _ole2_problem(data: bytes) -> Message:
    """What to say about an OLE2 file: an old workbook, an encrypted one, or neither."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return _l(
            "la cartella di lavoro è protetta da password: togli la password o salvala come CSV"
        )
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return _XLS
    return _NOT_A_TABLE


def _check_xlsx_archive(data: bytes) -> None:
    """Refuse a damaged ZIP, one that is not a workbook, or a "ZIP bomb", before unpacking.

    Only the ZIP's directory is read: its entry count (bounded by counting the
    entries' signature, which costs no memory), each member's declared size, and
    its compressed size. :mod:`zipfile` stops a member at its declared size (and
    then fails its CRC check), so a member cannot unpack to more than it says.
    """
    if data.count(_ZIP_DIRECTORY_ENTRY) > MAX_XLSX_MEMBERS:
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
        raise TableError(_NOT_A_TABLE)
    if sum(info.file_size for info in infos) > MAX_XLSX_UNPACKED_BYTES:
        raise TableError(_TOO_BIG_UNPACKED)
    if any(
        info.file_size > _RATIO_FROM_BYTES
        and info.file_size > MAX_XLSX_RATIO * max(info.compress_size, 1)
        for info in infos
    ):
        raise TableError(
            _l(
                "la cartella di lavoro contiene una parte compressa in modo anomalo "
                "(si espanderebbe più di %(ratio)d volte): salvala come CSV",
                ratio=MAX_XLSX_RATIO,
            )
        )


_ZIP_DIRECTORY_ENTRY: Final = b"PK\x01\x02"


class _PartTooLarge(Exception):  # not a ValueError, which openpyxl's reader rewraps
    """A part openpyxl would keep whole is larger than :data:`MAX_XLSX_PART_BYTES`."""


class _GuardedArchive(zipfile.ZipFile):
    """The workbook's ZIP as openpyxl reads it, refusing to unpack whole a large part.

    openpyxl keeps in memory every part it reads whole (``ZipFile.read``, or
    ``read()`` of an opened member: the workbook, styles, relationships…) and
    the shared strings, which it reads in chunks but keeps: such a part that
    declares more than :data:`MAX_XLSX_PART_BYTES` is refused before a byte of
    it is unpacked, whatever its name or the role the workbook gives it. The
    worksheets, read in chunks and let go row by row, are not limited here.
    """

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
        if info.file_size <= MAX_XLSX_PART_BYTES:
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


def _load_workbook(data: bytes) -> Workbook:
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


def _read_xlsx(data: bytes) -> tuple[Header, Iterator[Row]]:
    """The checked header and a stream of rows of the first sheet."""
    _check_xlsx_archive(data)
    try:
        workbook = _load_workbook(data)
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
        numbered, checked = _xlsx_header(workbook)
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
                    yield _row(line, header, cells)
        finally:
            workbook.close()

    return checked, rows()


def _xlsx_header(workbook: Workbook) -> tuple[Iterator[tuple[int, tuple]], Header]:
    """The numbered rows of the first sheet, advanced past its header, and the header."""
    if not workbook.worksheets:
        raise TableError(_l("la cartella di lavoro non ha nessun foglio"))
    sheet = workbook.worksheets[0]
    # The dimension a file declares may be wrong (some programs write A1):
    # trusting it could cut rows off.
    sheet.reset_dimensions()
    numbered = enumerate(_sheet_values(sheet), start=1)
    blank_rows = False
    for line, values in numbered:
        raw = ["" if value is None else str(value) for value in values]
        if any(cell.strip() for cell in raw):
            return numbered, _check_header(raw, line)
        blank_rows = True
    raise TableError(_NO_HEADER if blank_rows else _EMPTY)


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


# Single values ---------------------------------------------------------------

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ITALIAN_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


class CellError(ValueError):
    """A cell that cannot be read as its column's value; ``str()`` says why, translated."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def parse_date(value: str | date) -> date:
    """``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``D/M/YYYY`` → date; :class:`CellError` otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = value.strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
    elif match := _ITALIAN_DATE.fullmatch(text):
        day, month, year = match.groups()
    else:
        raise CellError(
            _l("%(value)s non è una data: scrivi GG/MM/AAAA o AAAA-MM-GG", value=_show(text))
        )
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise CellError(_l("%(value)s non è una data esistente", value=text)) from None


def parse_category(value: str) -> Category:
    """``new_hire`` or ``existing`` from any accepted spelling; :class:`CellError` otherwise."""
    key = " ".join(value.lower().replace("_", " ").replace("-", " ").split())
    try:
        return CATEGORY_WORDS[key]
    except KeyError:
        raise CellError(
            _l(
                "%(value)s non è una categoria: scrivi neoassunto (o neoassunta, nuovo assunto, "
                "nuova assunta, new_hire) oppure in servizio (o existing)",
                value=_show(value),
            )
        ) from None


_OMOCODIA_DIGITS = "0123456789LMNPQRSTUV"
_CF_MONTHS = "ABCDEHLMPRST"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: What each of the 16 characters may be, and how to say it.
_CF_LAYOUT: Final = (
    *[(_LETTERS, _l("una lettera (cognome e nome)"))] * 6,
    *[(_OMOCODIA_DIGITS, _l("una cifra (anno di nascita)"))] * 2,
    (_CF_MONTHS, _l("la lettera del mese (A B C D E H L M P R S T)")),
    *[(_OMOCODIA_DIGITS, _l("una cifra (giorno di nascita)"))] * 2,
    (_LETTERS, _l("una lettera (luogo di nascita)")),
    *[(_OMOCODIA_DIGITS, _l("una cifra (luogo di nascita)"))] * 3,
    (_LETTERS, _l("una lettera (carattere di controllo)")),
)
_CF_PATTERN = re.compile("".join(f"[{allowed}]" for allowed, _ in _CF_LAYOUT))
_FROM_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")
CODICE_FISCALE_LENGTH: Final = 16


@cache
def _birthplace_codes() -> frozenset[str]:
    """Every municipality (past or present) and foreign country code the library knows."""
    places = chain(get_municipalities_data(), get_countries_data())
    return frozenset(p["code"] for p in places if re.fullmatch(r"[A-Z][0-9]{3}", p["code"]))


def check_codice_fiscale(code: str) -> Message | None:
    """Why *code* (already upper-cased) is not a valid codice fiscale, or None.

    Checks the layout (omocodia letters allowed where digits go), the check
    character (python-codicefiscale's ``encode_cin``), the birth date and that the
    place-of-birth code is one python-codicefiscale knows. Its ``is_valid`` does
    the same plus a check of the place's validity dates, but takes milliseconds
    per code (minutes for a large roster), and those dates are the part its own
    changelog keeps relaxing.
    """
    if problem := _codice_fiscale_layout_problem(code):
        return problem
    if cf_library.encode_cin(code) != code[15]:
        return _l("carattere di controllo errato")
    month = _CF_MONTHS.index(code[8]) + 1
    day = int(code[9:11].translate(_FROM_OMOCODIA))
    day = day - 40 if day > 40 else day  # noqa: PLR2004 - women's days are written +40
    # 2000 + year is a leap year exactly when 1900 + year is, but for 00 (29 Feb 2000).
    year = 2000 + int(code[6:8].translate(_FROM_OMOCODIA))
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return _l("la data di nascita che contiene non esiste")
    place = code[11] + code[12:15].translate(_FROM_OMOCODIA)
    if place not in _birthplace_codes():
        return _l(
            "%(place)s non è un luogo di nascita noto (codice catastale del comune o dello Stato)",
            place=place,
        )
    return None


def _codice_fiscale_layout_problem(code: str) -> Message | None:
    if _CF_PATTERN.fullmatch(code):
        return None
    if len(code) != CODICE_FISCALE_LENGTH:
        if " " in code:
            return _l("va scritto senza spazi")
        return _l("deve avere 16 caratteri, non %(length)d", length=len(code))
    # The pattern failed on a code of the right length: some character is wrong.
    position, char, what = next(
        (position, char, what)
        for position, (char, (allowed, what)) in enumerate(zip(code, _CF_LAYOUT, strict=True), 1)
        if char not in allowed
    )
    shown = char if char.isprintable() else f"U+{ord(char):04X}"
    return _l(
        'il carattere %(position)d è "%(char)s" ma dovrebbe essere %(expected)s',
        position=position,
        char=shown,
        expected=what,
    )


#: A plain ASCII local part: a subset of what email_validator accepts as it is.
_PLAIN_LOCAL_PART = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")


class EmailNormaliser:
    """email_validator's verdict, lower-cased, without re-checking a domain already seen.

    ``validate_email`` spends most of its time (some 50 µs an address) on the
    domain, and a roster has few domains for many addresses. An address whose
    domain has already passed and whose local part is plain ASCII (letters,
    digits, ``. _ + -``) is as valid as email_validator would find it; every
    other address goes through email_validator in full.
    """

    def __init__(self) -> None:
        #: domain as written → email_validator's normalised form of it
        self.domains: dict[str, str] = {}

    def normalise(self, address: str) -> str:
        """The address in lower case; :class:`EmailNotValidError` when it is not valid."""
        local, _, domain = address.rpartition("@")
        known = self.domains.get(domain)
        if (
            known is not None
            and len(local) + 1 + len(known) <= EMAIL_MAX_LENGTH
            and _PLAIN_LOCAL_PART.fullmatch(local)
        ):
            return f"{local}@{known}".lower()
        # SMTPUTF8 refused: an accented local part (niccolò@…) is a typo far more
        # often than a real mailbox, and few public-sector mail servers accept one.
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
        if domain.isascii():
            self.domains[domain] = checked.domain
        return checked.normalized.lower()


#: What email_validator's sentences mean, for people who do not read English:
#: (a piece of its sentence, our reason). The first match wins; characters it
#: lists after a colon are kept.
_EMAIL_REASONS: Final = (
    ("must have an @-sign", _l("manca la @")),
    ("at-sign", _l("al posto della @ c'è un carattere simile: riscrivila dalla tastiera")),
    ("something before the @-sign", _l("manca la parte prima della @")),
    ("something after the @-sign", _l("manca la parte dopo la @")),
    ("too long before the @-sign", _l("la parte prima della @ è troppo lunga")),
    ("too long after the @-sign", _l("la parte dopo la @ è troppo lunga")),
    ("so many characters", _l("dopo la @ c'è un nome troppo lungo tra due punti")),
    ("too long", _l("l'indirizzo è troppo lungo")),
    ("period and a hyphen", _l("un punto e un trattino sono uno accanto all'altro")),
    ("two periods in a row", _l("ci sono due punti di seguito")),
    ("start with a period", _l("non può cominciare con un punto")),
    ("period immediately before", _l("non può esserci un punto subito prima della @")),
    ("period immediately after", _l("non può esserci un punto subito dopo la @")),
    ("end with a period", _l("non può finire con un punto")),
    ("hyphen", _l("un nome dopo la @ non può cominciare o finire con un trattino")),
    # Before the general "before/after the @-sign" sentences, which contain these words too.
    ("bracket", _l("non sono ammessi indirizzi tra parentesi quadre dopo la @")),
    ("Quoting", _l("non sono ammesse virgolette prima della @")),
    ("Internationalized characters", _l("prima della @ non sono ammessi caratteri accentati")),
    ("before the @-sign", _l("prima della @ ci sono caratteri non ammessi")),
    ("unsafe characters", _l("l'indirizzo contiene caratteri non ammessi")),
    ("should have a period", _l("dopo la @ manca il dominio completo (per esempio comune.it)")),
    ("top-level domain", _l("il dominio dopo la @ non finisce con un dominio valido (.it, .eu…)")),
    ("special-use or reserved", _l("il dominio dopo la @ è un nome riservato, non usabile")),
    ("after the @-sign", _l("dopo la @ ci sono caratteri non ammessi")),
)


def email_reason(exc: EmailNotValidError) -> Message:
    """Why email_validator refused an address: its sentence in English, ours in Italian."""
    text = str(exc)
    reason = next(
        (reason for piece, reason in _EMAIL_REASONS if piece in text),
        _l("l'indirizzo non è scritto correttamente"),
    )
    _, colon, listed = text.rpartition(": ")
    if colon and "@-sign" not in listed and listed.endswith("."):  # "…: ò, à." lists characters
        shown = Joined([_character_name(item) for item in listed[:-1].split(", ")], ", ")
        reason = _l("%(reason)s (%(characters)s)", reason=reason, characters=shown)
    return EnglishOriginal(text, reason)


#: Characters email_validator names instead of showing (they are invisible).
_CHARACTER_NAMES: Final[Mapping[str, Message]] = {
    "SPACE": _l("spazio"),
    "NO-BREAK SPACE": _l("spazio unificatore"),
    "ZERO WIDTH SPACE": _l("spazio invisibile"),
    "CHARACTER TABULATION": _l("tabulazione"),
}


def _character_name(item: str) -> str | Message:
    """A character email_validator listed: shown as it is, or named in words."""
    if len(item) > 1 and item.isupper():  # a Unicode name: "SPACE", "ZERO WIDTH SPACE"
        return _CHARACTER_NAMES.get(item, item)
    return item


def _too_long(limit: int) -> Message:
    return _l("più lungo di %(limit)d caratteri", limit=limit)


_REQUIRED = _l("dato obbligatorio mancante")


def normalise_name(value: str) -> str:
    """Trimmed, with every run of spaces (non-breaking ones too) made one space."""
    return " ".join(value.split())


def _show(value: str, limit: int = 60) -> str:
    """A cell as it may appear inside a one-line message."""
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Rows ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffRow:
    """One valid roster row, normalised, ready for the database layer."""

    line: int
    codice_fiscale: str
    first_name: str
    last_name: str
    email: str
    authority_id: int
    category: Category
    profile: str | None
    hired_on: date | None
    left_on: date | None


@dataclass
class ValidationResult:
    """The valid rows, the errors, and counts for the answer page."""

    rows: list[StaffRow] = field(default_factory=list)
    #: ``line N, column: reason`` once shown, in file order; at most ``max_errors``.
    errors: list[RowError] = field(default_factory=list)
    #: Every error found, including those not listed.
    error_count: int = 0
    rows_read: int = 0
    invalid_rows: int = 0

    @property
    def ok(self) -> bool:
        """True when the file may be imported: no row has an error."""
        return self.error_count == 0

    @property
    def more_errors(self) -> int:
        """Errors found but not listed (beyond ``max_errors``)."""
        return self.error_count - len(self.errors)

    @property
    def new_hires(self) -> int:
        """Valid rows of category ``new_hire``."""
        return sum(1 for row in self.rows if row.category == NEW_HIRE)

    @property
    def existing(self) -> int:
        """Valid rows of category ``existing``."""
        return len(self.rows) - self.new_hires


def validate_rows(
    rows: Iterable[Row],
    *,
    authority_codes: Mapping[str, int],
    scope: Container[int] | None = None,
    today: date | None = None,
    max_errors: int | None = DEFAULT_MAX_ERRORS,
) -> ValidationResult:
    """Check every cell of every row; report every error, not only a row's first.

    *authority_codes* maps each accepted code (ISTAT codes, IPA codes lower-cased,
    internal codes) to an authority id; a code is looked up as written, then
    lower-cased. *scope*, when given, holds the authority ids the importer may
    import staff for. *today* (default: today in Italy) bounds ``hired_on``.
    Reading *rows* may raise :class:`TableError` (a CSV broken half-way down).
    An import writes nothing unless :attr:`ValidationResult.ok`.
    """
    checker = _RowChecker(authority_codes, scope, today or today_in_italy())
    result = ValidationResult()
    for row in rows:
        result.rows_read += 1
        staff, errors = checker.check(row)
        if staff is not None:
            result.rows.append(staff)
            continue
        result.invalid_rows += 1
        result.error_count += len(errors)
        if max_errors is None:
            result.errors.extend(errors)
        else:
            result.errors.extend(errors[: max(0, max_errors - len(result.errors))])
    return result


class _RowChecker:
    """Checks rows one at a time, remembering what it needs to find repetitions."""

    def __init__(
        self, authority_codes: Mapping[str, int], scope: Container[int] | None, today: date
    ) -> None:
        self.authority_codes = authority_codes
        self.scope = scope
        self.latest_hired_on = today + HIRED_ON_MAX_AHEAD
        #: codice fiscale → line it first appeared on
        self.people: dict[str, int] = {}
        #: e-mail → (codice fiscale as written, line it first appeared on)
        self.emails: dict[str, tuple[str, int]] = {}
        self.email_normaliser = EmailNormaliser()

    def check(self, row: Row) -> tuple[StaffRow | None, list[RowError]]:
        """The row as a :class:`StaffRow`, or None and every error it has."""
        errors: list[RowError] = []

        def fail(column: str | Message, reason: Message) -> None:
            errors.append(RowError(row.line, column, reason))

        for column in REQUIRED_COLUMNS:
            if not row.get(column):
                fail(column, _REQUIRED)
        codice_fiscale = self._codice_fiscale(row, fail)
        first_name = self._name(row, "first_name", fail)
        last_name = self._name(row, "last_name", fail)
        email = self._email(row, codice_fiscale, fail)
        authority_id = self._authority(row, fail)
        category = self._category(row, fail)
        profile = normalise_name(row.get("profile")) or None
        if profile and len(profile) > PROFILE_MAX_LENGTH:
            fail("profile", _too_long(PROFILE_MAX_LENGTH))
        hired_on, left_on = self._dates(row, fail)
        extra = row.cells.get(EXTRA_CELLS, "")
        if extra.replace(",", "").strip():  # tabular.read_csv keeps empty ones too: "a,,"
            fail(
                _l("celle in più"),
                _l(
                    "«%(values)s» è oltre l'ultima colonna dell'intestazione",
                    values=_show(extra),
                ),
            )
        if errors or authority_id is None or category is None:
            return None, errors
        staff = StaffRow(
            line=row.line,
            codice_fiscale=codice_fiscale,
            first_name=first_name,
            last_name=last_name,
            email=email,
            authority_id=authority_id,
            category=category,
            profile=profile,
            hired_on=hired_on,
            left_on=left_on,
        )
        return staff, errors

    def _codice_fiscale(self, row: Row, fail: _Fail) -> str:
        code = row.get("codice_fiscale").upper()
        if code:
            if problem := check_codice_fiscale(code):
                fail("codice_fiscale", problem)
            elif (first := self.people.setdefault(code, row.line)) != row.line:
                fail(
                    "codice_fiscale",
                    _l(
                        "%(code)s compare di nuovo (la prima volta alla riga %(first)d)",
                        code=code,
                        first=first,
                    ),
                )
        return code

    @staticmethod
    def _category(row: Row, fail: _Fail) -> Category | None:
        if text := row.get("category"):
            try:
                return parse_category(text)
            except CellError as exc:
                fail("category", exc.message)
        return None

    def _dates(self, row: Row, fail: _Fail) -> tuple[date | None, date | None]:
        hired_on = self._date(row, "hired_on", fail)
        left_on = self._date(row, "left_on", fail)
        if hired_on and hired_on > self.latest_hired_on:
            fail(
                "hired_on",
                _l("%(value)s è oltre un anno da oggi", value=row.get("hired_on")),
            )
            hired_on = None
        if hired_on and left_on and left_on < hired_on:
            fail(
                "left_on",
                _l(
                    "%(left_on)s è precedente alla data di assunzione (%(hired_on)s)",
                    left_on=row.get("left_on"),
                    hired_on=row.get("hired_on"),
                ),
            )
        return hired_on, left_on

    @staticmethod
    def _name(row: Row, column: str, fail: _Fail) -> str:
        name = normalise_name(row.get(column))
        if len(name) > NAME_MAX_LENGTH:
            fail(column, _too_long(NAME_MAX_LENGTH))
        return name

    def _email(self, row: Row, codice_fiscale: str, fail: _Fail) -> str:
        text = row.get("email")
        if not text:
            return ""
        try:
            email = self.email_normaliser.normalise(text)
        except EmailNotValidError as exc:
            fail(
                "email",
                _l(
                    "%(address)s non è un indirizzo e-mail valido: %(reason)s",
                    address=_show(text),
                    reason=email_reason(exc),
                ),
            )
            return ""
        first_cf, first_line = self.emails.setdefault(email, (codice_fiscale, row.line))
        if first_line != row.line and first_cf != codice_fiscale:
            fail(
                "email",
                _l(
                    "%(email)s compare di nuovo per un'altra persona "
                    "(la prima volta alla riga %(first)d, %(person)s)",
                    email=email,
                    first=first_line,
                    person=first_cf or _l("senza codice fiscale"),
                ),
            )
        return email

    def _authority(self, row: Row, fail: _Fail) -> int | None:
        code = row.get("authority_code")
        if not code:
            return None
        authority_id = self.authority_codes.get(code)
        if authority_id is None:
            authority_id = self.authority_codes.get(code.lower())
        if authority_id is None:
            reason = _l("%(code)s non è un ente conosciuto (codice ISTAT o IPA)", code=_show(code))
            if code.isascii() and code.isdigit():
                padded = [code.zfill(n) for n in (2, 3, 6) if n > len(code)]
                if known := [p for p in padded if p in self.authority_codes]:
                    reason = _l(
                        "%(code)s non è un ente conosciuto (codice ISTAT o IPA); il foglio di "
                        "calcolo ha forse tolto gli zeri iniziali? %(known)s esiste",
                        code=code,
                        known=known[0],
                    )
            fail("authority_code", reason)
        elif self.scope is not None and authority_id not in self.scope:
            fail(
                "authority_code",
                _l(
                    "%(code)s non è tra gli enti di cui puoi importare il personale",
                    code=_show(code),
                ),
            )
        return authority_id

    @staticmethod
    def _date(row: Row, column: str, fail: _Fail) -> date | None:
        text = row.get(column)
        if not text:
            return None
        try:
            value = parse_date(text)
        except CellError as exc:
            fail(column, exc.message)
            return None
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            fail(column, _l("%(value)s non è compresa tra il 1900 e il 2099", value=text))
            return None
        return value
