"""Reading the CSV files that Excel writes on an Italian PC.

Pure functions, no Flask: encoding (UTF-8 with or without BOM, else Windows-1252)
and separator (``;`` or ``,``) are detected, header names are matched without
regard to case or surrounding spaces, and every row keeps its line number so
that errors can say ``line N, column: reason``.

The standard library's :mod:`csv` does the parsing; only the detection around it
is ours, because no maintained library does exactly this for Excel's exports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass


class TableError(ValueError):
    """The file as a whole cannot be read (empty, not text, wrong header)."""


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
        raise TableError("the file is not a text (CSV) file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise TableError("the file is neither UTF-8 nor Windows-1252 text") from None


def detect_delimiter(header_line: str) -> str:
    """``;`` (Excel in Italian) or ``,``: whichever the header line has more of."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def normalise_header(name: str) -> str:
    """``" Codice Fiscale "`` → ``codice_fiscale``."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def _check_header(header: list[str], required: set[str], optional: set[str], line: int) -> None:
    """Raise :class:`TableError` naming every missing, unknown or repeated column."""
    problems = []
    missing = sorted(required - set(header))
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    unknown = [h for h in header if h and h not in required | optional]
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    if problems:
        expected = ", ".join(sorted(required)) + (
            f" (optional: {', '.join(sorted(optional))})" if optional else ""
        )
        raise TableError(f"line {line}: {'; '.join(problems)}; expected {expected}")


def read_csv(
    data: bytes, *, required: set[str], optional: set[str] = frozenset()
) -> tuple[list[str], Iterator[Row]]:
    """Check the header and return (column names, rows).

    Raises :class:`TableError` for an empty file, a missing required column, an
    unknown or repeated column. Blank lines are skipped.
    """
    text = decode_text(data)
    if not text.strip():
        raise TableError("the file is empty")
    first_line = text.lstrip().splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(first_line))
    try:
        raw_header = next(reader)
        while not any(cell.strip() for cell in raw_header):  # blank lines before the header
            raw_header = next(reader)
    except csv.Error as exc:
        raise TableError(f"line {reader.line_num}: {exc}") from None
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
            raise TableError(f"line {reader.line_num}: {exc}") from None

    return header, rows()
