"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import make_test_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import Date, Integer, column, create_engine, inspect, make_url, select, table, text

from lms.core.types import UTCDateTime
from lms.courses.models import Course
from lms.enrolments.models import EnrolmentRule
from lms.extensions import db as _db
from lms.register.models import Region


def test_migrated_schema_matches_the_models(db):
    """The test database was built by ``flask_migrate.upgrade()`` in conftest."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": True},
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_have_one_head_and_the_database_is_at_it(app, db):
    script = ScriptDirectory(app.extensions["migrate"].directory)
    heads = script.get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, empty, on the database the suite runs on.

    On PostgreSQL (``LMS_TEST_DATABASE_URL``) a scratch database beside the test
    database, dropped afterwards; on SQLite a new file.
    """
    base = os.environ.get("LMS_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    url = make_url(base)
    scratch = f"{url.database}_migrations"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            connection.execute(text(f'CREATE DATABASE "{scratch}"'))
        yield url.set(database=scratch).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    finally:
        admin.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database_url):
    app = make_test_app(empty_database_url)
    expected = set(_db.metadata.tables)
    with app.app_context():
        try:
            upgrade()
            assert expected <= set(inspect(_db.engine).get_table_names())

            downgrade(revision="base")
            assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}

            upgrade()
            tables = set(inspect(_db.engine).get_table_names())
            assert tables == expected | {"alembic_version"}
            with _db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, _db.metadata) == []
        finally:
            _db.session.remove()
            _db.engine.dispose()


def test_0007_gives_existing_rules_the_days_they_gave(empty_database_url):
    """The backfill: due date minus the Italian day the rule was made, 0 once passed."""
    app = make_test_app(empty_database_url)
    made = datetime(2026, 9, 15, 23, 30, tzinfo=UTC)  # already 16 September in Italy
    rules = table(
        "enrolment_rules",
        column("id", Integer()),
        column("course_id", Integer()),
        column("region_id", Integer()),
        column("due_on", Date()),
        column("created_at", UTCDateTime()),
    )
    with app.app_context():
        try:
            upgrade(revision="0006")
            _db.session.add(Region(id=1, code="15", name="Campania"))
            _db.session.add(Course(id=1, slug="c", title="C", hours=Decimal(1), source_hash="x"))
            _db.session.flush()
            for row in (
                {"id": 1, "due_on": date(2026, 11, 15)},
                {"id": 2, "due_on": date(2026, 9, 1)},
                {"id": 3, "due_on": None},
            ):
                _db.session.execute(
                    rules.insert().values(course_id=1, region_id=1, created_at=made, **row)
                )
            _db.session.commit()
            upgrade()
            windows = _db.session.execute(
                select(EnrolmentRule.id, EnrolmentRule.window_days).order_by(EnrolmentRule.id)
            ).all()
            assert windows == [(1, 60), (2, 0), (3, None)]
            _db.session.rollback()  # PostgreSQL: release the read before the ALTER TABLE
            downgrade(revision="0006")
            assert "window_days" not in {
                c["name"] for c in inspect(_db.engine).get_columns("enrolment_rules")
            }
        finally:
            _db.session.remove()
            _db.engine.dispose()


MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def _application_imports(source: str) -> list[str]:
    """The modules of the ``lms`` package that *source* imports, however it spells it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name == "lms" or name.startswith("lms.")]
    return found


@pytest.mark.parametrize(
    "migration",
    [pytest.param(path, id=path.stem) for path in sorted(MIGRATIONS.glob("*.py"))],
)
def test_no_migration_imports_the_application(migration: Path):
    """A migration keeps a frozen copy of what it needs: the code it imports may change."""
    assert _application_imports(migration.read_text(encoding="utf-8")) == []


def test_the_import_check_sees_every_spelling():
    source = (
        "import lms\nimport os, lms.core.types as t\nfrom lms.core import types\n"
        "from lmsx import y\nfrom . import lms\n"
    )
    assert _application_imports(source) == ["lms", "lms.core.types", "lms.core"]


def test_new_migrations_are_written_without_the_application():
    """The template and autogenerate write plain SQLAlchemy types, no ``import lms``."""
    from sqlalchemy.types import DateTime  # noqa: PLC0415

    from lms.core.types import UTCDateTime  # noqa: PLC0415

    root = MIGRATIONS.parent
    assert "import lms" not in (root / "script.py.mako").read_text(encoding="utf-8")
    namespace: dict = {}
    source = (root / "env.py").read_text(encoding="utf-8")
    render = source[source.index("def render_item") : source.index("def run_migrations_online")]
    exec(compile(render, "env.py", "exec"), namespace)  # noqa: S102 - our own file's function
    assert namespace["render_item"]("type", UTCDateTime(), None) == "sa.DateTime(timezone=True)"
    assert namespace["render_item"]("type", DateTime(), None) is False


def test_upgrading_a_database_with_courses_and_progress_keeps_them(empty_database_url):
    """0013 and 0014 rebuild ``modules`` on SQLite (new CHECK): rows that point at it stay.

    With foreign keys enforced, SQLite refuses to drop a table other rows refer to,
    and it does not roll schema changes back: the migration must switch the check off
    for the rebuild (migrations/env.py) and check the keys after it.
    """
    app = make_test_app(empty_database_url)
    with app.app_context():
        try:
            upgrade(revision="0012")
            statements = (
                (
                    "INSERT INTO users (id, email, password_hash, role, active, created_at,"
                    " session_version, calendar_version, reminder_digest, first_name, last_name)"
                    " VALUES (1, 'a@example.org', NULL, 'learner', true, '2026-01-01', 1, 1, false,"
                    " '', '')"
                ),
                (
                    "INSERT INTO courses (id, slug, title, summary, hours, audience, sequential,"
                    " pass_mark, language, status, overview_html, source_hash, render_version,"
                    " created_at, updated_at) VALUES (1, 'c', 'C', '', 1, '[]', false, 60, 'it',"
                    " 'published', '', 'x', '1', '2026-01-01', '2026-01-01')"
                ),
                (
                    "INSERT INTO modules (id, course_id, slug, position, title, kind, body_html,"
                    " filename, source_hash, render_version, version, shuffle, updated_at)"
                    " VALUES (1, 1, 'm', 1, 'M', 'quiz', '', '01-m.md', 'x', '1', 1, false,"
                    " '2026-01-01')"
                ),
                (
                    "INSERT INTO quiz_versions (id, module_id, version, questions, pass_mark,"
                    " created_at) VALUES (1, 1, 1, '[]', 60, '2026-01-01')"
                ),
                (
                    "INSERT INTO module_progress (id, user_id, module_id, started_at, last_seen_at,"
                    " seconds_spent) VALUES (1, 1, 1, '2026-01-01', '2026-01-01', 0)"
                ),
            )
            with _db.engine.begin() as connection:
                for statement in statements:
                    connection.execute(text(statement))
            upgrade()
            with _db.engine.connect() as connection:
                progress = connection.execute(text("SELECT count(*) FROM module_progress"))
                assert progress.scalar() == 1
                assert connection.execute(text("SELECT kind FROM modules")).scalar() == "quiz"
                if connection.dialect.name == "sqlite":
                    assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        finally:
            _db.session.remove()
            _db.engine.dispose()
