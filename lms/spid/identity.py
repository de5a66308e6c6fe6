"""Which account a SPID or CIE identity signs in: its codice fiscale, nothing else.

The assertion's ``fiscalNumber`` (``TINIT-`` and the codice fiscale) is the only
link between an identity and an account, never the e-mail: an account an
administrator bound to that codice fiscale (``User.fiscal_code``) first, else
the staff record with that codice fiscale and its learner account.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from lms.auth.models import User
from lms.auth.operations import left_staff_on
from lms.extensions import db
from lms.register.models import StaffMember

PREFIX = "TINIT-"
#: A codice fiscale's layout, omocodia letters allowed in the digit places.
_CODICE_FISCALE = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
)


class IdentityRefused(Exception):
    """No account for this identity; *reason* is ``unknown``, ``inactive`` or ``left``."""

    def __init__(self, reason: str, left_on: date | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.left_on = left_on


def codice_fiscale(fiscal_number: str | None) -> str | None:
    """The codice fiscale in a ``fiscalNumber`` attribute, or None if it holds none."""
    value = (fiscal_number or "").strip().upper()
    value = value.removeprefix(PREFIX)
    return value if _CODICE_FISCALE.match(value) else None


def account_for(fiscal_number: str | None, today: date) -> User:
    """The active account *fiscal_number* signs in on *today*; raises IdentityRefused."""
    code = codice_fiscale(fiscal_number)
    if code is None:
        raise IdentityRefused("unknown")
    user = db.session.scalar(select(User).where(User.fiscal_code == code))
    if user is None:
        user = db.session.scalar(
            select(User)
            .join(StaffMember, StaffMember.user_id == User.id)
            .where(StaffMember.codice_fiscale == code)
        )
    if user is None:
        raise IdentityRefused("unknown")
    found = left_staff_on(user.id, today)
    if found is not None and found[1] is not None:
        raise IdentityRefused("left", found[1])
    if not user.active:
        raise IdentityRefused("inactive")
    return user
