"""Reading the CSV files that Excel writes on an Italian PC.

Pure functions, no Flask: encoding (UTF-8 with or without BOM, else Windows-1252;
UTF-16 with its BOM, which is Excel's "Testo Unicode") and separator (``;``, ``,``
or a tab, the separator of "Testo Unicode") are detected, header names are matched without
regard to case or surrounding spaces, and every row keeps its line number so
that errors can say ``line N, column: reason``.

Two readers share what is here: :func:`read_csv` (``lms register
import-authorities``) and the staff roster's CSV reader
(:mod:`lms.enrolments.roster.csv_reader`), which adds its own checks of what
kind of file it was given and the roster's Italian column names. Both decode
with :func:`decode`, take the separator from :func:`first_line`, read the
header and the rows with :func:`read_table` and check the header with
:func:`check_header`.

Errors are :class:`~lms.core.messages.Message` values, not text: a
:class:`TableError` or a :class:`RowError` becomes a sentence in the reader's
language when ``str()`` is called on it (Italian on a page by default, English
on the command line, which renders them under ``force_locale("en")``).

The standard library's :mod:`csv` does the parsing; only the detection around it
is ours, because no maintained library does exactly this for Excel's exports.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import partial
from typing import Final, NamedTuple

from lms.core.messages import EnglishOriginal, Joined, Message, _l

#: The key under which a row keeps the cells beyond the header's last column.
EXTRA_CELLS: Final = "__extra__"

EMPTY: Final = _l("il file è vuoto")
NO_HEADER: Final = _l(
    "il file non ha una riga di intestazione: ha solo righe vuote (o fatte solo di separatori)"
)
#: PostgreSQL cannot store a NUL character, and no name or code holds one.
NUL: Final = _l("il file contiene caratteri nulli (NUL): non è un file di testo")


class TableError(ValueError):
    """The file as a whole cannot be read (empty, not text, wrong header).

    ``str()`` gives the reason in the current language, after ``line N:`` when
    the problem is on one line; :attr:`message` and :attr:`line` keep them apart.
    """

    def __init__(self, message: Message, line: int | None = None) -> None:
        super().__init__(message, line)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return str(self.message)
        return str(_l("riga %(line)d: %(problem)s", line=self.line, problem=self.message))


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of one cell: ``str()`` is ``line N, column: reason`` in the current language.

    *column* is the column's name as the header has it (or the spec's name), never
    translated, since that is what the person sees in the spreadsheet; only a
    description of something that is not a column (cells beyond the header) is
    a message.
    """

    line: int
    column: str | Message
    reason: Message

    def __str__(self) -> str:
        return str(
            _l(
                "riga %(line)d, %(column)s: %(reason)s",
                line=self.line,
                column=self.column,
                reason=self.reason,
            )
        )


@dataclass(frozen=True)
class Row:
    """One data row: its 1-based line number in the file and its cells by column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The trimmed cell of *column*, or an empty string."""
        return (self.cells.get(column) or "").strip()


class Decoded(NamedTuple):
    """A file's text and the encoding it was read in (``utf-8-sig``, ``cp1252`` or ``utf-16``)."""

    text: str
    encoding: str


#: What Excel's "Salva come: Testo Unicode (.txt)" begins with (little-endian), or
#: another program's big-endian UTF-16.
UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(data: bytes) -> Decoded:
    """Decode UTF-8 (BOM optional), falling back to Windows-1252 as Excel writes it.

    A file that starts with a UTF-16 byte order mark is UTF-16 (Excel's "Testo
    Unicode"), whose every other byte is a NUL: read as such, not refused as binary.
    """
    if data.startswith(UTF16_BOMS):
        try:
            return Decoded(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError:
            raise TableError(
                _l(
                    "il file sembra un Testo Unicode (UTF-16) ma non si legge: salvalo di nuovo "
                    "da Excel come CSV UTF-8 o come .xlsx"
                )
            ) from None
    if b"\x00" in data[:4096]:
        raise TableError(_l("il file non è un file di testo (CSV)"))
    try:
        return Decoded(data.decode("utf-8-sig"), "utf-8-sig")
    except UnicodeDecodeError:
        try:
            return Decoded(data.decode("cp1252"), "cp1252")
        except UnicodeDecodeError:
            raise TableError(
                _l("il file non è un testo in codifica UTF-8 né Windows-1252")
            ) from None


def decode_text(data: bytes) -> str:
    """The text of :func:`decode`."""
    return decode(data).text


def first_line(text: str) -> str:
    """The first line that is not blank, without its leading spaces; the file is empty if none."""
    stripped = text.lstrip()
    if not stripped:
        raise TableError(EMPTY)
    end = stripped.find("\n")
    return stripped if end < 0 else stripped[:end]


def csv_problem(exc: csv.Error, line: int) -> TableError:
    """A :class:`TableError` for the csv module's error on *line* (its text is English)."""
    return TableError(
        EnglishOriginal(
            str(exc), _l("formato CSV non valido: %(detail)s", detail=_csv_detail(str(exc)))
        ),
        line,
    )


def _csv_detail(text: str) -> Message:
    """What the csv module's (English) complaint means, in words for an HR office."""
    if text.startswith("field larger than field limit"):
        return _l("una cella è troppo lunga: forse manca una virgoletta di chiusura")
    if "NUL" in text or "null byte" in text:
        return NUL
    return _l("le virgolette o i separatori non sono scritti come il CSV richiede")


def detect_delimiter(header_line: str) -> str:
    """``;`` (Excel in Italian), ``,`` or a tab ("Testo Unicode"): whichever the header has most of.

    A tab only when the header has more of them than of either of the others.
    """
    tabs = header_line.count("\t")
    if tabs > header_line.count(";") and tabs > header_line.count(","):
        return "\t"
    return ";" if header_line.count(";") > header_line.count(",") else ","


def normalise_header(name: str) -> str:
    """``" Codice Fiscale "`` → ``codice_fiscale``."""
    return "_".join(name.strip().lower().replace("-", " ").split())


class Header(NamedTuple):
    """A checked header row: the name of each column, and how the file writes it."""

    #: One name a cell, in file order; ``""`` for an empty header cell.
    names: list[str]
    #: Each column's header as the file writes it ("Data Assunzione" for ``hired_on``).
    written: dict[str, str]


def check_header(
    raw: list[str],
    line: int,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    canonical: Callable[[str], str] = normalise_header,
    italian_names: str = "",
) -> Header:
    """Name each cell of a header row, or raise naming every problem at once.

    *canonical* turns a cell into a column name (an empty cell names no column).
    Missing columns are listed in the order of *required*; unknown ones as the
    file writes them; repeated ones in the order of *required* then *optional*.
    *italian_names*, when given, is added to the message as the other names
    accepted.
    """
    names = [canonical(cell) for cell in raw]
    columns = (*required, *optional)
    problems = column_problems(
        missing=[c for c in required if c not in names],
        unknown=[
            cell.strip()
            for cell, name in zip(raw, names, strict=True)
            if name and name not in columns
        ],
        repeated=[c for c in columns if names.count(c) > 1],
    )
    if problems:
        expected = ", ".join(required)
        if italian_names:
            message = _l(
                "%(problems)s; colonne attese: %(expected)s (facoltative: %(optional)s); "
                "sono accettati anche i nomi in italiano, come %(italian)s",
                problems=problems,
                expected=expected,
                optional=", ".join(optional),
                italian=italian_names,
            )
        elif optional:
            message = _l(
                "%(problems)s; colonne attese: %(expected)s (facoltative: %(optional)s)",
                problems=problems,
                expected=expected,
                optional=", ".join(optional),
            )
        else:
            message = _l(
                "%(problems)s; colonne attese: %(expected)s", problems=problems, expected=expected
            )
        raise TableError(message, line)
    written = {name: cell.strip() for cell, name in zip(raw, names, strict=True) if name}
    return Header(names, written)


def column_problems(
    *, missing: list[str], unknown: list[str], repeated: list[str]
) -> Message | None:
    """What is wrong with a header's columns, as one message; None when nothing is."""
    parts: list[object] = []
    if missing:
        parts.append(_l("colonne mancanti: %(columns)s", columns=", ".join(missing)))
    if unknown:
        parts.append(_l("colonne sconosciute: %(columns)s", columns=", ".join(unknown)))
    if repeated:
        parts.append(_l("colonne ripetute: %(columns)s", columns=", ".join(repeated)))
    return Joined(parts, "; ") if parts else None


def read_table(
    data: bytes,
    encoding: str,
    delimiter: str,
    check: Callable[[list[str], int], Header],
) -> tuple[Header, Iterator[tuple[int, list[str]]]]:
    """The header, as *check* names it, and a stream of the rows under it as (line, cells).

    The header is the first row that is not blank; blank rows (empty, spaces, or
    nothing but separators: ``;;;;`` is how Excel saves a blank row) are skipped.
    *check* gets the header's cells and line and raises :class:`TableError` for a
    bad header. The text is decoded as it is read, a little at a time (a
    StringIO would hold it whole, four bytes a character): a 100,000-row file
    stays a few megabytes. A CSV syntax error is raised where it is met, while
    the rows are read.
    """
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        raw_header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
    except csv.Error as exc:
        raise csv_problem(exc, reader.line_num) from None
    if raw_header is None:
        raise TableError(NO_HEADER)
    header = check(raw_header, reader.line_num)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for values in reader:
                if any(value.strip() for value in values):
                    yield reader.line_num, values
        except csv.Error as exc:
            raise csv_problem(exc, reader.line_num) from None

    return header, rows()


def read_csv(
    data: bytes, *, required: AbstractSet[str], optional: AbstractSet[str] = frozenset()
) -> tuple[list[str], Iterator[Row]]:
    """Check the header and return (column names, rows).

    Raises :class:`TableError` for an empty file, a missing required column, an
    unknown or repeated column (columns are listed in alphabetical order). Blank
    lines are skipped; cells beyond the header are kept, joined by ``,``, under
    :data:`EXTRA_CELLS`.
    """
    text, encoding = decode(data)
    delimiter = detect_delimiter(first_line(text))
    del text
    check = partial(check_header, required=sorted(required), optional=sorted(optional))
    header, lines = read_table(data, encoding, delimiter, check)
    names = header.names

    def rows() -> Iterator[Row]:
        for line, values in lines:
            cells = dict(zip(names, values, strict=False))
            if len(values) > len(names):
                cells[EXTRA_CELLS] = ",".join(values[len(names) :])
            yield Row(line=line, cells=cells)

    return names, rows()
