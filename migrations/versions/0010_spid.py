"""SAML requests awaiting an answer (SPID and CIE sign-in, single logout)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saml_requests',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('authn', 'logout', name='saml_request_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('profile', sa.String(length=8), nullable=False),
    sa.Column('idp_entity_id', sa.String(length=1024), nullable=False),
    sa.Column('level', sa.String(length=128), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saml_requests'))
    )
    with op.batch_alter_table('saml_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saml_requests_issued_at'), ['issued_at'], unique=False)


def downgrade():
    with op.batch_alter_table('saml_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saml_requests_issued_at'))

    op.drop_table('saml_requests')
