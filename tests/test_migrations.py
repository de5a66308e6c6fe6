"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import make_test_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from lms.extensions import db as _db


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


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
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
