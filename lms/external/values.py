"""The values of a training done elsewhere, checked the same way on the form and in a CSV.

Pure functions (no Flask, no database): each returns the clean value or raises
:class:`ValueProblem`, whose message (a :class:`~lms.core.messages.Message`) is
worded in the reader's language when it is shown.

- Hours: a number greater than 0 and at most :data:`MAX_HOURS`, with at most two
  decimals, written with a comma (``7,5``, as Italians write it) or a dot.
- Completion day: not in the future (in Italy), not before :data:`EARLIEST_DAY`.
- Title and provider: trimmed, inner runs of spaces made one, not empty, at most
  :data:`TITLE_MAX` and :data:`PROVIDER_MAX` characters. Kept as text, never
  interpreted: a title that begins with ``=`` stays ``=…`` in the database and is
  escaped by :mod:`lms.core.export` in every download.
- Certificate: a PDF of at most :data:`MAX_CERTIFICATE_BYTES`, recognised by its
  content (``%PDF-`` at the start, and pypdf reads at least one page), never by
  its name or the content type the browser sent.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from pypdf import PdfReader

from lms.core.messages import Message, _l

MAX_HOURS: Final = Decimal(200)
EARLIEST_DAY: Final = date(2000, 1, 1)
TITLE_MAX: Final = 300
PROVIDER_MAX: Final = 200
REASON_MAX: Final = 500
MAX_CERTIFICATE_BYTES: Final = 5 * 1024 * 1024
PDF_MAGIC: Final = b"%PDF-"

#: Who usually gives the courses people declare (the provider field's suggestions).
PROVIDER_SUGGESTIONS: Final = (
    "SNA - Scuola Nazionale dell'Amministrazione",
    "Syllabus - Dipartimento della Funzione Pubblica",
    "Formez PA",
    "IFEL - Fondazione ANCI",
    "Università",
    "Ente di appartenenza",
    "Regione",
    "Agenzia per la Coesione Territoriale",
)

_HOURS = re.compile(r"[0-9]{1,3}(?:[.,][0-9]{1,2})?")


class ValueProblem(ValueError):
    """A value that cannot be accepted; ``str()`` says why, translated."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def parse_hours(text: str) -> Decimal:
    """``"7,5"`` or ``"7.5"`` → ``Decimal("7.5")``; > 0, ≤ 200, at most two decimals."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueProblem(_l("indica le ore"))
    if not _HOURS.fullmatch(cleaned):
        raise ValueProblem(
            _l(
                "«%(value)s» non è un numero di ore: scrivi per esempio 8 oppure 7,5 "
                "(al massimo due decimali)",
                value=shown(cleaned),
            )
        )
    try:
        hours = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ValueProblem(_l("«%(value)s» non è un numero di ore", value=shown(cleaned))) from None
    if hours <= 0:
        raise ValueProblem(_l("le ore devono essere più di zero"))
    if hours > MAX_HOURS:
        raise ValueProblem(
            _l("al massimo %(max)d ore per una singola formazione", max=int(MAX_HOURS))
        )
    return hours


def check_completed_on(day: date, today: date) -> date:
    """*day* if it is neither after *today* nor before 1 January 2000."""
    if day > today:
        raise ValueProblem(_l("la data è nel futuro: indica il giorno in cui il corso è finito"))
    if day < EARLIEST_DAY:
        raise ValueProblem(
            _l("la data è troppo lontana: sono accettate le formazioni dal 2000 in poi")
        )
    return day


def clean_text(text: str, limit: int, what: Message) -> str:
    """*text* trimmed with inner spaces made one; not empty, at most *limit* characters."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValueProblem(_l("indica %(what)s", what=what))
    if len(cleaned) > limit:
        raise ValueProblem(
            _l(
                "%(what)s è troppo lungo: al massimo %(limit)d caratteri, non %(length)d",
                what=what,
                limit=limit,
                length=len(cleaned),
            )
        )
    return cleaned


def clean_title(text: str) -> str:
    """A course title, as stored."""
    return clean_text(text, TITLE_MAX, _l("il titolo del corso"))


def clean_provider(text: str) -> str:
    """A provider's name, as stored."""
    return clean_text(text, PROVIDER_MAX, _l("l'ente che ha erogato il corso"))


def same_course_key(title: str, completed_on: date) -> tuple[str, date]:
    """What makes two records the same course for one person: title (any case, spacing), day."""
    return " ".join(unicodedata.normalize("NFC", title).casefold().split()), completed_on


def check_certificate(data: bytes) -> None:
    """Raise unless *data* is a PDF of at most 5 MB that pypdf can read a page of."""
    if not data:
        raise ValueProblem(_l("il file è vuoto"))
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise ValueProblem(
            _l(
                "il file è troppo grande: al massimo %(max)d MB",
                max=MAX_CERTIFICATE_BYTES // (1024 * 1024),
            )
        )
    if not data.startswith(PDF_MAGIC):
        raise ValueProblem(_l("il file non è un PDF"))
    if not _pdf_has_pages(data):
        raise ValueProblem(
            _l("il file non è un PDF leggibile: salvalo di nuovo come PDF e riprova")
        )


def _pdf_has_pages(data: bytes) -> bool:
    """Whether pypdf opens *data* and finds at least one page (any error: no)."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        return len(reader.pages) > 0
    except Exception:  # noqa: BLE001 - pypdf raises many kinds of errors on a broken file
        return False


def certificate_name(filename: str | None) -> str | None:
    """The uploaded file's name, for display only: its last part, printable, at most 200."""
    if not filename:
        return None
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(char for char in base if char.isprintable()).strip()
    return printable[:200] or None


def shown(value: str, limit: int = 60) -> str:
    """A value as it may appear inside a one-line message."""
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
