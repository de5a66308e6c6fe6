"""saml requests: the hash of the browser's nonce, so that a response is accepted
only from the browser that asked for it (no login CSRF)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: a request pending during the upgrade has none, and its answer is
    # refused (the person starts again; requests live five minutes).
    with op.batch_alter_table('saml_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('browser_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('saml_requests', schema=None) as batch_op:
        batch_op.drop_column('browser_hash')
