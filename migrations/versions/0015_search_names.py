"""Folded search columns: staff_members, users and authorities get search_name

Searches for names and authorities ignore accents and case ("nicolo" finds
Nicolò) through a column holding the folded name (lms/core/search.py says why a
stored column). Rows already there are filled here with a frozen copy of the
folding rule (a migration does not import the application).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 10:00:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_CHUNK = 5000


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.translate(_APOSTROPHES).split())


def _name_key(first, last):
    first, last = first or "", last or ""
    return _fold(f"{first} {last}") + "\t" + _fold(f"{last} {first}")


def _fill(name, columns, key):
    """Set search_name of every row of table *name* from *columns*, in chunks."""
    connection = op.get_bind()
    rows = sa.table(name, sa.column("id", sa.Integer()), sa.column("search_name", sa.Text()),
                    *(sa.column(c, sa.String()) for c in columns))
    update = (
        rows.update()
        .where(rows.c.id == sa.bindparam("row_id"))
        .values(search_name=sa.bindparam("folded"))
    )
    last_id = 0
    while True:
        chunk = connection.execute(
            sa.select(rows.c.id, *(rows.c[c] for c in columns))
            .where(rows.c.id > last_id)
            .order_by(rows.c.id)
            .limit(_CHUNK)
        ).all()
        if not chunk:
            return
        connection.execute(
            update, [{"row_id": row[0], "folded": key(*row[1:])} for row in chunk]
        )
        last_id = chunk[-1][0]


def upgrade():
    # NOT NULL with an empty default: SQLite adds such a column in place (a column
    # without a default, or made NOT NULL after, would rebuild each table, which
    # other tables' foreign keys refuse while they have rows). The app always
    # writes the value; the default only stands for rows written around it.
    for name in ("authorities", "staff_members", "users"):
        op.add_column(
            name, sa.Column('search_name', sa.Text(), server_default=sa.text("''"), nullable=False)
        )
    _fill("authorities", ["name"], _fold)
    _fill("staff_members", ["first_name", "last_name"], _name_key)
    _fill("users", ["first_name", "last_name"], _name_key)


def downgrade():
    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35 and later), for the same reason.
    for name in ("users", "staff_members", "authorities"):
        op.drop_column(name, 'search_name')
