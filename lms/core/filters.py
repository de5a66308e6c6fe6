"""Jinja filters shared by every page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Flask
from flask_babel import format_decimal

from lms.core.types import ROME


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


def format_pct(value: Decimal | float | None) -> str:
    """A percentage with one decimal: ``66,7 %`` in Italian."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.0") + "\u00a0%"


def format_moment(value: datetime | None) -> str:
    """A moment as people in Italy read it: ``02/12/2026 09:30``, Italian time."""
    if value is None:
        return ""
    return value.astimezone(ROME).strftime("%d/%m/%Y %H:%M")


def register_filters(app: Flask) -> None:
    """Install the filters on *app*'s Jinja environment."""
    app.jinja_env.filters["hours"] = format_hours
    app.jinja_env.filters["num"] = format_number
    app.jinja_env.filters["pct"] = format_pct
    app.jinja_env.filters["moment"] = format_moment
