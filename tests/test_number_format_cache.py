"""The remembered number formats (lms.core.filters.format_decimal): as Babel writes them."""

from __future__ import annotations

from decimal import Decimal

from babel import numbers
from conftest import request_in
from flask import Flask

from lms.core.filters import format_decimal, format_hours, format_number, format_pct


def _in(app: Flask, lang: str) -> tuple[str, str, str, str]:
    with request_in(app, lang):
        return (
            format_number(12345),
            format_hours(Decimal("1.50")),
            format_pct(Decimal("83.25")),
            format_pct(80),
        )


def test_each_language_keeps_its_own_format_whichever_came_first(app: Flask) -> None:
    italian = ("12.345", "1,5", "83,2\u00a0%", "80\u00a0%")
    english = ("12,345", "1.5", "83.2%", "80%")
    assert _in(app, "it") == italian
    assert _in(app, "en") == english
    assert _in(app, "it") == italian  # not the English one remembered


def test_every_pattern_value_and_language_as_babel_writes_it(app: Flask) -> None:
    values = [Decimal(n) / 8 for n in range(-40, 400)] + [n / 3 for n in range(50)] + [7, 1234567]
    for lang in ("it", "en", "it"):
        with request_in(app, lang):
            for pattern in ("#,##0", "#,##0.0", "#,##0.##"):
                for value in values:
                    expected = numbers.format_decimal(value, format=pattern, locale=lang)
                    assert format_decimal(value, format=pattern) == expected, (lang, pattern, value)


def test_remembered_days_are_flask_babels_in_both_languages(app: Flask) -> None:
    """``dateformat`` (format_day) writes what Flask-Babel's ``format_date`` writes.

    Days and moments, the moments either side of midnight in Italy (a UTC
    moment of 23:30 is the next day in Rome), summer and winter time, the
    default pattern and others, each language after the other.
    """
    from datetime import UTC, date, datetime, timedelta  # noqa: PLC0415

    import flask_babel  # noqa: PLC0415

    from lms.core.filters import format_day  # noqa: PLC0415

    days = [date(2026, 1, 1) + timedelta(days=n * 7) for n in range(60)]
    moments = [
        datetime(2026, month, day, hour, 30, tzinfo=UTC)
        for month in (1, 3, 7, 10, 12)
        for day in (1, 8, 11, 28)
        for hour in (0, 21, 22, 23)
    ]
    moments += [m.replace(tzinfo=None) for m in moments[:8]]  # naive: read as UTC
    assert app.jinja_env.filters["dateformat"] is format_day
    for lang in ("it", "en", "it"):
        with request_in(app, lang):
            for pattern in (None, "d MMMM y", "EEEE d MMMM y", "short"):
                for value in [*days, *moments]:
                    expected = flask_babel.format_date(value, pattern)
                    assert format_day(value, pattern) == expected, (lang, pattern, value)
