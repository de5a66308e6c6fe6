"""Reading the CSV files that Excel writes on an Italian PC.

Pure functions, no Flask: encoding (UTF-8 with or without BOM, else Windows-1252)
and separator (``;`` or ``,``) are detected, header names are matched without
regard to case or surrounding spaces, and every row keeps its line number so
that errors can say ``line N, column: reason``.

Errors are :class:`~lms.core.messages.Message` values, not text: a
:class:`TableError` or a :class:`RowError` becomes a sentence in the reader's
language when ``str()`` is called on it (Italian on a page by default, English
on the command line, which renders them under ``force_locale("en")``).

The standard library's :mod:`csv` does the parsing; only the detection around it
is ours, because no maintained library does exactly this for Excel's exports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from lms.core.messages import EnglishOriginal, Joined, Message, _l


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


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (BOM optional), falling back to Windows-1252 as Excel writes it."""
    if b"\x00" in data[:4096]:
        raise TableError(_l("il file non è un file di testo (CSV)"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise TableError(
                _l("il file non è un testo in codifica UTF-8 né Windows-1252")
            ) from None


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
        return _l("il file contiene caratteri nulli (NUL): non è un file di testo")
    return _l("le virgolette o i separatori non sono scritti come il CSV richiede")


def detect_delimiter(header_line: str) -> str:
    """``;`` (Excel in Italian) or ``,``: whichever the header line has more of."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def normalise_header(name: str) -> str:
    """``" Codice Fiscale "`` → ``codice_fiscale``."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def _check_header(header: list[str], required: set[str], optional: set[str], line: int) -> None:
    """Raise :class:`TableError` naming every missing, unknown or repeated column."""
    problems = column_problems(
        missing=sorted(required - set(header)),
        unknown=[h for h in header if h and h not in required | optional],
        repeated=sorted({h for h in header if h and header.count(h) > 1}),
    )
    if problems:
        expected = ", ".join(sorted(required))
        if optional:
            message = _l(
                "%(problems)s; colonne attese: %(expected)s (facoltative: %(optional)s)",
                problems=problems,
                expected=expected,
                optional=", ".join(sorted(optional)),
            )
        else:
            message = _l(
                "%(problems)s; colonne attese: %(expected)s", problems=problems, expected=expected
            )
        raise TableError(message, line)


def column_problems(
    *, missing: list[str], unknown: list[str], repeated: list[str]
) -> Message | None:
    """What is wrong with a header's columns, as one message; None when nothing is."""
    parts = []
    if missing:
        parts.append(_l("colonne mancanti: %(columns)s", columns=", ".join(missing)))
    if unknown:
        parts.append(_l("colonne sconosciute: %(columns)s", columns=", ".join(unknown)))
    if repeated:
        parts.append(_l("colonne ripetute: %(columns)s", columns=", ".join(repeated)))
    return Joined(parts, "; ") if parts else None


def read_csv(
    data: bytes, *, required: set[str], optional: set[str] = frozenset()
) -> tuple[list[str], Iterator[Row]]:
    """Check the header and return (column names, rows).

    Raises :class:`TableError` for an empty file, a missing required column, an
    unknown or repeated column. Blank lines are skipped.
    """
    text = decode_text(data)
    if not text.strip():
        raise TableError(_l("il file è vuoto"))
    first_line = text.lstrip().splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(first_line))
    try:
        # Blank lines, or lines of separators only (";;;;"), before the header.
        raw_header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
    except csv.Error as exc:
        raise csv_problem(exc, reader.line_num) from None
    if raw_header is None:
        raise TableError(
            _l(
                "il file non ha una riga di intestazione: ha solo righe vuote "
                "(o fatte solo di separatori)"
            )
        )
    header = [normalise_header(h) for h in raw_header]
    _check_header(header, required, set(optional), reader.line_num)

    def rows() -> Iterator[Row]:
        try:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                cells = dict(zip(header, values, strict=False))
                if len(values) > len(header):
                    cells["__extra__"] = ",".join(values[len(header) :])
                yield Row(line=reader.line_num, cells=cells)
        except csv.Error as exc:
            raise csv_problem(exc, reader.line_num) from None

    return header, rows()
