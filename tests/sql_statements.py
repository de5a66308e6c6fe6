"""The SQL statements an app sends while a block runs: for the tests that count or read them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from lms.extensions import db as _db


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    """The SQL statements *app* sends while the block runs (whitespace collapsed).

    Only what goes through SQLAlchemy's cursor: a ``COPY`` on psycopg's own
    cursor is not among them.
    """
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
