"""Column types shared by every domain."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A point in time, stored in UTC and always read back timezone-aware.

    SQLite has no time zones and returns naive values; PostgreSQL returns aware
    ones. This type makes both behave like PostgreSQL, so that comparisons with
    :func:`utcnow` work everywhere.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """Convert to UTC before storing; refuse naive values, whose zone is unknown."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (see lms.core.types.utcnow)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """Attach UTC to the naive values SQLite returns."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


ROME = ZoneInfo("Europe/Rome")


def rome_date(moment: datetime) -> date:
    """The calendar day in Italy at *moment*: reports and leaving dates count Italian days."""
    return moment.astimezone(ROME).date()


def rome_midnight(day: date) -> datetime:
    """The moment an Italian day begins, in UTC (for "from day X" in queries on moments)."""
    return datetime.combine(day, time.min, tzinfo=ROME).astimezone(UTC)


def today_in_italy() -> date:
    """Today's date in Italy, whatever the server's clock zone."""
    return rome_date(utcnow())
