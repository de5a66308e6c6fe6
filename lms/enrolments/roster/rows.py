"""Checking every row of a roster: :func:`validate_rows` and the row checker.

:func:`validate_rows` turns the rows :func:`~lms.enrolments.roster.read_roster`
reads into :class:`StaffRow` values or into :class:`~lms.core.tabular.RowError`
errors, ``line N, column: reason`` once shown. Every error of a row is reported,
not only its first:

- a required cell that is empty, a cell that is not its column's value
  (:mod:`~lms.enrolments.roster.values`, :mod:`~lms.register.codice_fiscale`,
  :mod:`~lms.enrolments.roster.email_address`), an authority that is unknown or
  out of the importer's scope, cells beyond the header's last column;
- the same codice fiscale twice is an error on the second row; so is one e-mail
  for two codici fiscali.

At most ``max_errors`` (default :data:`DEFAULT_MAX_ERRORS`) errors are listed;
:attr:`ValidationResult.error_count` counts them all and
:attr:`ValidationResult.more_errors` those left out (the page then says "… and N
more errors"). The command line passes ``max_errors=None``. Messages are built
only on the error path: a valid row costs no translation.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from email_validator import EmailNotValidError

from lms.core.messages import Message, _l
from lms.core.tabular import EXTRA_CELLS, Row, RowError
from lms.core.types import today_in_italy
from lms.enrolments.roster.columns import REQUIRED_COLUMNS
from lms.enrolments.roster.email_address import EmailNormaliser, email_reason
from lms.enrolments.roster.values import (
    EARLIEST_DATE,
    HIRED_ON_MAX_AHEAD,
    LATEST_DATE,
    NAME_MAX_LENGTH,
    NEW_HIRE,
    PROFILE_MAX_LENGTH,
    Category,
    CellError,
    normalise_name,
    parse_category,
    parse_date,
    shown,
)
from lms.register.codice_fiscale import check_codice_fiscale

DEFAULT_MAX_ERRORS: Final = 1000

_Fail = Callable[[str | Message, Message], None]  # records one error of a row: (column, reason)

_REQUIRED = _l("dato obbligatorio mancante")


def _too_long(limit: int) -> Message:
    return _l("più lungo di %(limit)d caratteri", limit=limit)


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


def check_row(
    row: Row,
    *,
    authority_codes: Mapping[str, int],
    scope: Container[int] | None = None,
    today: date | None = None,
) -> tuple[StaffRow | None, list[RowError]]:
    """One row, alone, checked as :func:`validate_rows` checks each row of a file.

    For the HR manager's person page, which edits one person at a time with the
    import's rules: the same checker, so a value the import refuses is refused
    there with the same reason. Returns the row as a :class:`StaffRow`, or None
    and every error it has (none for repetitions: there is one row).
    """
    return _RowChecker(authority_codes, scope, today or today_in_italy()).check(row)


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
        if extra.replace(",", "").strip():  # cells of only commas pass
            fail(
                _l("celle in più"),
                _l(
                    "«%(values)s» è oltre l'ultima colonna dell'intestazione",
                    values=shown(extra),
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
                    address=shown(text),
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
            reason = _l("%(code)s non è un ente conosciuto (codice ISTAT o IPA)", code=shown(code))
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
                    code=shown(code),
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
