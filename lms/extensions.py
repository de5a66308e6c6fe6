"""Flask extensions, created here unbound and initialised in :func:`lms.create_app`."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from typing import TYPE_CHECKING

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.orm import DeclarativeBase

#: Stable constraint names, so that Alembic migrations name (and can drop)
#: constraints the same way on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # A type checker cannot take ``db.Model``, an attribute built at run time
    # (Base's body with Flask-SQLAlchemy's mixins), as a base class: it sees the
    # typed declarative base, whose mapping, metadata and constructor it copies.
    Model = Base
else:
    #: The base class of every model (Flask-SQLAlchemy's ``db.Model``).
    Model = db.Model


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection: object, _record: object) -> None:
    """SQLite ignores foreign keys (and their ON DELETE rules) unless asked per connection.

    A database file is also put in write-ahead-log mode (kept in the file): every
    module page records the visit, and in SQLite's default rollback mode each of
    those writes locks every reader out until its commit is on disk. With the
    log, readers go on while one writer commits (bench/results.md). An in-memory
    database stays as it is.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        with contextlib.suppress(sqlite3.OperationalError):  # busy: stays as it was
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


#: SQLite's primary result code for a write refused because the database is read-only
#: (its extended codes, SQLITE_READONLY_*, share the low byte).
_SQLITE_READONLY = 8


@event.listens_for(Engine, "handle_error")
def _sqlite_read_only_connection_is_replaced(context: ExceptionContext) -> None:
    """A connection that opened an SQLite file read-only is thrown away, with the pool.

    SQLite opens a file read-only, without a word, when it cannot open it for
    writing (its permissions, a read-only mount); such a connection refuses every
    write ("attempt to write a readonly database") even once the file is
    writable again, and the pool, whose pre-ping only reads, would hand it out
    until a restart. Marked as a disconnect, it and every connection pooled
    before it are replaced: the request that failed says so (a 503), the next
    one opens the file anew.
    """
    error = context.original_exception
    if not isinstance(error, sqlite3.OperationalError):
        return
    code = getattr(error, "sqlite_errorcode", None)
    if (code is not None and code & 0xFF == _SQLITE_READONLY) or "readonly database" in str(error):
        context.is_disconnect = True


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


def login_account_key() -> str:
    """Rate-limit key for the account being tried, without keeping the e-mail itself."""
    email = (request.form.get("email") or "").strip().lower()
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()[:32]
