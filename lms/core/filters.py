"""Jinja filters shared by every page, and what a page knows of its own errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Final, NamedTuple

import flask_babel
from babel import numbers
from flask import Flask, g
from flask_babel import to_user_timezone

from lms.core import italian
from lms.core.types import ROME


def format_decimal(value: Decimal | float, *, format: str) -> str:  # noqa: A002 - Babel's name
    """Flask-Babel's ``format_decimal`` in the request's language, remembered.

    A page writes the same few numbers (hours, counts, shares) many times, and
    each of Babel's calls parses the pattern and looks the locale's symbols up
    again (about a tenth of the home page's time); the result depends only on
    the value, the pattern and the language (values equal across types, 80 and
    80.0 or 2.25 and 2.250, are written alike by a fixed pattern).
    """
    # The request's language, looked up once (not through Babel's proxies).
    return _formatted(value, format, italian.bound().code or "it")


@lru_cache(maxsize=8192)
def _formatted(value: Decimal | float, pattern: str, locale: str) -> str:
    return numbers.format_decimal(value, format=pattern, locale=locale)


def format_day(value: date | datetime | None, format: str | None = None) -> str:  # noqa: A002
    """Flask-Babel's ``format_date`` (the ``dateformat`` filter), remembered per day.

    A list of courses writes a due day and a completion day a line, and each of
    Flask-Babel's calls looks the locale and the pattern up again and parses
    it. The text depends only on the day (a moment's day where the reader is,
    as Flask-Babel rebases it), the pattern and the language: the same figure
    as Flask-Babel's, from a cache. ``None`` (Flask-Babel: today) is not kept.
    """
    if value is None:
        return flask_babel.format_date(None, format)
    # The request's language and time zone, looked up once (not through Babel's proxies).
    found = italian.bound()
    day = value
    if isinstance(value, datetime):
        if found.timezone is None:
            day = to_user_timezone(value).date()
        else:
            # As to_user_timezone: a naive moment is UTC (the app's are aware).
            moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            day = moment.astimezone(found.timezone).date()
    return _day(day, format, found.code)


@lru_cache(maxsize=8192)
def _day(day: date, pattern: str | None, _locale: str) -> str:
    # The locale is in the key; Flask-Babel reads it from the request (the same one).
    return flask_babel.format_date(day, pattern)


def format_hours(value: Decimal | float | None) -> str:
    """Hours as people write them: ``8``, ``1,5`` (in the interface's language)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##")


def format_number(value: int | None) -> str:
    """A count with the language's thousands separator: ``12.345`` in Italian."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0")


#: What follows the number in each language: Italian writes 83,3 and a no-break
#: space before the sign, English 83.3 and the sign; any other language as Italian.
_PERCENT_SIGN: Final = {"en": "%"}
_PERCENT_SIGN_DEFAULT: Final = "\u00a0" + "%"


def _percent_sign() -> str:
    locale = italian.bound().locale  # the request's, looked up once (not Babel's proxies)
    return _PERCENT_SIGN.get(locale.language if locale else "", _PERCENT_SIGN_DEFAULT)


def format_pct(value: Decimal | float | None, *, exact: bool = False) -> str:
    """A percentage, the one format of the product: ``83,3 %`` in Italian, ``83.3%`` in English.

    A share that was measured (a score, a coverage) has one decimal, kept when it
    is 0 (``25,0 %``) so that a column lines up; a whole number someone set (a pass
    mark, an attendance threshold: an ``int``) has none (``80 %``). *exact* writes a
    value as it was set, with up to two decimals (a weight: ``50 %``, ``33,33 %``).
    """
    if value is None:
        return ""
    if isinstance(value, int):
        return format_decimal(value, format="#,##0") + _percent_sign()
    return format_decimal(value, format="#,##0.##" if exact else "#,##0.0") + _percent_sign()


def format_pct_range(low: int, high: int) -> str:
    """A range of percentages, the sign once: ``0–9 %`` (``0–9%`` in English)."""
    return f"{format_decimal(low, format='#,##0')}–{format_decimal(high, format='#,##0')}" + (
        _percent_sign()
    )


def format_moment(value: datetime | None) -> str:
    """A moment as people in Italy read it: ``02/12/2026 09:30``, Italian time."""
    if value is None:
        return ""
    return value.astimezone(ROME).strftime("%d/%m/%Y %H:%M")


# A page that comes back with an error --------------------------------------------------
#
# base.html renders the page's content first, then its <title> and the rest: the
# macros that show an error (macros.html: alert of kind danger, field_errors) note
# it here while the content renders, so the title can begin with "Errore:" and an
# error summary listing the fields in error can open the page; js/page-errors.js
# then moves the focus to that summary (WCAG 2.4.3, 4.1.3).


class FieldError(NamedTuple):
    """An error shown beside a field: the field's id (the summary links to it), label, message."""

    field_id: str
    label: str
    message: str


def _noted() -> list[FieldError | None]:
    if "lms_page_errors" not in g:
        g.lms_page_errors = []
    noted: list[FieldError | None] = g.lms_page_errors
    return noted


def note_page_error(field_id: str = "", label: object = "", message: object = "") -> str:
    """Note that the page shows an error (beside *field_id*, when given); returns ``""``."""
    _noted().append(FieldError(field_id, str(label), str(message)) if field_id else None)
    return ""


def note_page_summary() -> str:
    """Note that the page shows its own summary of its errors (no other is added); ``""``."""
    _noted().append(None)
    g.lms_own_error_summary = True
    return ""


def reset_page_errors() -> str:
    """Forget the errors noted so far (base.html, before it renders the content); ``""``."""
    g.lms_page_errors = []
    g.lms_own_error_summary = False
    return ""


def page_has_error() -> bool:
    """Whether the content rendered so far showed an error."""
    return bool(_noted())


def page_field_errors() -> list[FieldError]:
    """The field errors noted, each once, in the order shown; none when the page sums them up."""
    seen: list[FieldError] = []
    if g.get("lms_own_error_summary"):
        return seen
    for error in _noted():
        if error is not None and error not in seen:
            seen.append(error)
    return seen


def register_filters(app: Flask) -> None:
    """Install the filters (and the page-error helpers) on *app*'s Jinja environment."""
    app.jinja_env.filters["hours"] = format_hours
    app.jinja_env.filters["dateformat"] = format_day  # Flask-Babel's, remembered
    app.jinja_env.filters["num"] = format_number
    app.jinja_env.filters["pct"] = format_pct
    app.jinja_env.filters["pct_range"] = format_pct_range
    app.jinja_env.filters["moment"] = format_moment
    # Italian elides the article before a number said with a vowel ("l'1 dic").
    italian.install(app)
    app.jinja_env.globals.update(
        note_page_error=note_page_error,
        note_page_summary=note_page_summary,
        reset_page_errors=reset_page_errors,
        page_has_error=page_has_error,
        page_field_errors=page_field_errors,
    )
