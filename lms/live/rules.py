"""When attendance at a live session counts: the one rule, in Python and in SQL.

A person attended an edition "enough" when the minutes they were present reach
the module's ``attendance`` percentage of the edition's minutes:
``minutes × 100 ≥ edition minutes × percent`` (integers, no rounding). That
completes the live module for them and, in the hours reports, earns the
module's ``hours`` as *live* hours in the calendar year (in Italy) of the
edition's start. A module counts once per person, however many editions they
attended.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from lms.courses.models import Module
from lms.live.models import LiveAttendance, LiveEdition

#: Used when a live module's percentage is missing (it never is after a sync).
DEFAULT_PERCENT = 75


def attended_enough(minutes: int, edition_minutes: int, percent: int | None) -> bool:
    """Whether *minutes* present at an edition of *edition_minutes* reach *percent*."""
    needed = DEFAULT_PERCENT if percent is None else percent
    return minutes * 100 >= edition_minutes * needed


def attended_enough_clause() -> ColumnElement[bool]:
    """:func:`attended_enough` as SQL, over LiveAttendance joined to its edition and module."""
    return and_(
        LiveAttendance.edition_id == LiveEdition.id,
        LiveEdition.module_id == Module.id,
        LiveAttendance.minutes * 100 >= LiveEdition.minutes * Module.attendance_percent,
    )


def minutes_needed(edition_minutes: int, percent: int | None) -> int:
    """The fewest whole minutes that count, for the register's column."""
    needed = DEFAULT_PERCENT if percent is None else percent
    return -(-edition_minutes * needed // 100)
