"""The remembered number formats (lms.core.filters.format_decimal): as Babel writes them."""

from __future__ import annotations

from decimal import Decimal

from babel import numbers
from flask import Flask, session
from flask_babel import refresh

from lms.core.filters import format_decimal, format_hours, format_number, format_pct


def _in(app: Flask, lang: str) -> tuple[str, str, str, str]:
    with app.test_request_context("/"):
        session["lang"] = lang
        refresh()
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
        with app.test_request_context("/"):
            session["lang"] = lang
            refresh()
            for pattern in ("#,##0", "#,##0.0", "#,##0.##"):
                for value in values:
                    expected = numbers.format_decimal(value, format=pattern, locale=lang)
                    assert format_decimal(value, format=pattern) == expected, (lang, pattern, value)
