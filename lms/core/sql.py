"""Small query helpers: LIKE patterns, page numbers, row counts, UTC days, new rows only.

Row counts of writes; the UTC day of a moment in SQL; INSERT … SELECT that skips
the rows a unique index already holds; plain rows read past the ORM; plans made
for each run's parameters in bulk work; long lists of keys and rows for PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from enum import Enum
from typing import Any, Final, cast

from flask import abort, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    Executable,
    Insert,
    Select,
    Table,
    any_,
    literal,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from lms.extensions import db

#: The escape character of the patterns :func:`contains_pattern` makes: pass it as
#: ``column.like(pattern, escape=LIKE_ESCAPE)`` (SQLite has no default escape).
LIKE_ESCAPE: Final = "\\"

#: The first row of a page may be at most this far down a list. No list here
#: comes near it, so a page beyond it is past the end (a 404); a larger OFFSET
#: is what made ``?page=99999999999999999999`` a 500 (too big for SQLite's
#: integers and PostgreSQL's bigint).
MAX_OFFSET: Final = 2**31 - 1
#: The largest id an INTEGER column holds (PostgreSQL's int4): a larger number in a
#: cookie, a form or a URL names no row, and must not reach a query (a 500 there).
MAX_ROW_ID: Final = 2**31 - 1
_ROW_ID = re.compile(r"[0-9]{1,10}")
#: Digits of a page number or size read as they are (more is beyond any limit).
_MAX_DIGITS: Final = 10


def read_rows(
    statement: Executable, parameters: Mapping[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Run a read-only statement of columns on the session's connection: plain rows, no ORM.

    For the statements a page runs on every view (issue #19). ``session.execute``
    sets up the ORM's execution (its options, events and result) even for a
    statement of columns, about 100 microseconds a statement on SQLite here,
    more than the query itself; the connection's ``execute`` does not. The rows
    are the same, converted by the columns' types. The session's own execute
    would flush first (autoflush), so this does too, and it runs in the
    session's transaction. Never for an INSERT, UPDATE or DELETE: the ORM's
    ``do_orm_execute`` event, which the report facts follow
    (lms.enrolments.facts), does not see what runs here.
    """
    if getattr(statement, "is_dml", False):
        raise TypeError("read_rows runs reads only: a write goes through the session")
    session = db.session
    if session.autoflush:
        session.flush()  # nothing to do (and cheap) when nothing is pending
    return session.connection().execute(statement, parameters)


def on_psycopg() -> bool:
    """Whether the session's database is PostgreSQL through psycopg (its arrays, its COPY)."""
    dialect = db.session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def among(column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL (psycopg) ``column = ANY(array)``, one parameter.

    PostgreSQL parses and plans an IN list of thousands of parameters slowly (and
    psycopg rewrites the statement's text for each); an array is one value
    whatever its length, and the statement's text stays the same.
    """
    if on_psycopg():
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)


#: Fewer rows go in one INSERT: COPY's extra round trip would cost more than it saves.
COPY_FROM_ROWS: Final = 100


def copy_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT *rows* (dicts with the same keys) into *table*; on PostgreSQL by ``COPY``.

    For thousands of rows at once (an import's audit objects): COPY is several
    times faster than a multi-row INSERT, and returns nothing, so the rows carry
    every key they need. psycopg escapes each value (tabs, newlines,
    backslashes) and writes None as NULL; enums go as their values. Never for a
    table the report facts follow: COPY bypasses the ORM's events
    (lms.enrolments.facts). Flushes first, as the session's own execute would.
    """
    if not rows:
        return
    session = db.session
    if len(rows) < COPY_FROM_ROWS or not on_psycopg():
        session.execute(table.insert(), list(rows))
        return
    session.flush()
    names = list(rows[0])
    # Table and column names come from the models, never from input.
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    driver_connection = session.connection().connection.driver_connection
    if driver_connection is None:  # only once the pool has invalidated the connection
        raise RuntimeError("the database connection is gone: cannot COPY the rows")
    cursor = driver_connection.cursor()
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = (row[name] for name in names)
            copy.write_row(tuple(v.value if isinstance(v, Enum) else v for v in values))


def custom_plans(session: Session | None = None) -> None:
    """Plan the rest of this transaction's statements for their own parameters (PostgreSQL).

    psycopg prepares a statement after its fifth run on a connection, and after
    five runs of the prepared statement PostgreSQL may keep one generic plan for
    every later run, made without the parameters' values: what saves the pages
    a millisecond of planning on every view (issue #19). Bulk work must not
    have it: its parameters (arrays of thousands of keys, dates, areas) decide
    the best plan, and a generic plan made large roster-import lookups 100x
    slower. The roster import, the reports and the notifications' plan call
    this first, and so does a refresh of the report facts for many people
    (lms.enrolments.facts). ``SET LOCAL`` lasts until the transaction ends;
    nothing on SQLite. *session*: the one to run it in (``db.session`` by default).
    """
    run = session if session is not None else db.session
    if run.get_bind().dialect.name == "postgresql":
        run.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching values that contain *text* as it is written.

    ``%`` and ``_`` typed in a search are wildcards to LIKE, so ``%`` would match
    everyone: they (and the escape character itself) are escaped here, and the
    query must say ``escape=LIKE_ESCAPE``.
    """
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def page_number(per_page: int) -> int:
    """The query string's ``page`` (1 by default), checked as :func:`paginate` checks it.

    For lists that page themselves: a number that is not plain digits, below 1,
    or whose first row would lie beyond :data:`MAX_OFFSET`, is a 404.
    """
    page = _whole_number("page", 1)
    if page < 1 or (page - 1) * per_page > MAX_OFFSET:
        abort(404)
    return page


def paginate(query: Select[Any], *, per_page: int, max_per_page: int) -> Pagination:
    """``db.paginate`` of *query* at the page the query string asks for, checked first.

    ``page`` and ``per_page`` must be plain whole numbers (``per_page`` is capped
    at *max_per_page*); anything else, a page past the last one, or one beyond
    :data:`MAX_OFFSET`, is a 404, as Flask-SQLAlchemy answers a page past the end.
    """
    size = min(_whole_number("per_page", per_page), max_per_page)
    page = _whole_number("page", 1)
    if page < 1 or size < 1 or (page - 1) * size > MAX_OFFSET:
        abort(404)
    return db.paginate(query, page=page, per_page=size, max_per_page=max_per_page)


def _whole_number(name: str, default: int) -> int:
    """The query string's *name* as a whole number: plain digits, else a 404.

    More than :data:`_MAX_DIGITS` digits count as ``10**_MAX_DIGITS``, beyond
    every limit (and ``int()`` is not given thousands of digits to convert).
    """
    text = request.args.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()):
        abort(404)
    return int(text) if len(text) <= _MAX_DIGITS else 10**_MAX_DIGITS


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an INSERT, UPDATE or DELETE run with ``db.session.execute()`` matched.

    ``Session.execute()`` is typed to return a :class:`~sqlalchemy.engine.Result`,
    which has no ``rowcount``: for such a statement (without RETURNING) it is a
    :class:`~sqlalchemy.engine.CursorResult`, which has. The count is the driver's:
    psycopg says -1 for an INSERT … SELECT unless ``preserve_rowcount`` is set.
    """
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount


def parse_row_id(text: str) -> int | None:
    """*text* as a row id when it is one (ASCII digits, at most :data:`MAX_ROW_ID`), else None.

    Not ``str.isdigit``: it takes "²", which ``int()`` refuses.
    """
    if not _ROW_ID.fullmatch(text):
        return None
    number = int(text)
    return number if number <= MAX_ROW_ID else None


class utc_day(FunctionElement[Any]):  # noqa: N801 - used like a SQL function
    """The UTC calendar day of a :class:`~lms.core.types.UTCDateTime` column, in SQL.

    SQLite keeps such a moment as UTC text (``date()`` reads its day); PostgreSQL as a
    ``timestamptz`` (its day in UTC). A stable key for "the day it happened", not
    an Italian day: for those see :func:`lms.core.types.rome_date`.
    """

    type = Date()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


def insert_new(table: Table, columns: list[str], rows: Select[Any]) -> Insert:
    """INSERT … SELECT *rows* into *table*, skipping those a unique index already holds.

    ``ON CONFLICT DO NOTHING``, in the dialect of the database in use: two runs
    (or two workers) that decide the same rows insert them once, with no error.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:  # pragma: no cover - the two supported databases
        raise NotImplementedError(dialect)
    return cast(
        "Insert",
        statement.from_select(columns, rows)
        .on_conflict_do_nothing()
        .execution_options(preserve_rowcount=True),
    )
