"""Jinja filters shared by every page."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from flask_babel import format_decimal


def format_hours(value: Decimal | float | None) -> str:
    """Hours as people write them: ``8``, ``1,5`` (in the interface's language)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##")


def register_filters(app: Flask) -> None:
    """Install the filters on *app*'s Jinja environment."""
    app.jinja_env.filters["hours"] = format_hours
