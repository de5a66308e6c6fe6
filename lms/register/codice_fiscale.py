"""The codice fiscale check, with python-codicefiscale's encoding functions.

A codice fiscale is upper-cased first; then its layout (omocodia letters allowed
where digits go), check character, birth date and place-of-birth code are
checked, see :func:`check_codice_fiscale`.
"""

from __future__ import annotations

import calendar
import re
from functools import cache
from itertools import chain
from typing import Final

from codicefiscale import codicefiscale as cf_library
from codicefiscale.data import get_countries_data, get_municipalities_data

from lms.core.messages import Message, _l

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


def mask_codice_fiscale(code: str | None) -> str | None:
    """A codice fiscale as the pages show it: the first six and the last character.

    Enough for its owner or an administrator to recognise it (the six letters come
    from the name), not the birth date and place in between.
    """
    if not code:
        return None
    return f"{code[:6]}{'•' * (len(code) - 7)}{code[-1]}"
