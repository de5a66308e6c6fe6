"""Single cells of a roster: dates, categories, names.

- Dates: ``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``D/M/YYYY``, nothing else (no
  two-digit years), from 1900 to 2099 (:data:`EARLIEST_DATE`,
  :data:`LATEST_DATE`); ``hired_on`` at most :data:`HIRED_ON_MAX_AHEAD` after today.
- Categories: ``new_hire`` or ``existing``, or one of the Italian spellings of
  :data:`CATEGORY_WORDS`.
- Names and profile: trimmed, inner runs of spaces made one; at most
  :data:`NAME_MAX_LENGTH` and :data:`PROFILE_MAX_LENGTH` characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Final, Literal

from lms.core.messages import Message, _l

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
EARLIEST_DATE: Final = date(1900, 1, 1)
LATEST_DATE: Final = date(2099, 12, 31)
#: How far ahead a hiring date may be: new hires are often loaded before they start.
HIRED_ON_MAX_AHEAD: Final = timedelta(days=366)

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
            _l("%(value)s non è una data: scrivi GG/MM/AAAA o AAAA-MM-GG", value=shown(text))
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
                value=shown(value),
            )
        ) from None


def normalise_name(value: str) -> str:
    """Trimmed, with every run of spaces (non-breaking ones too) made one space."""
    return " ".join(value.split())


def shown(value: str, limit: int = 60) -> str:
    """A cell as it may appear inside a one-line message."""
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
