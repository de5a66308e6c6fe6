"""E-mail addresses: checked with email_validator, then lower-cased whole.

email_validator runs without DNS and without SMTPUTF8 (no accented local
parts). Its reasons are English; in English they are shown as it words them, in
Italian as :func:`email_reason` sums them up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from email_validator import EmailNotValidError, validate_email

from lms.core.messages import EnglishOriginal, Joined, Message, _l

EMAIL_MAX_LENGTH: Final = 254  # RFC 5321, enforced by email_validator

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
