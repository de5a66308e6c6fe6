"""audit log: who did what to which records (identifiers and counts, no personal data)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:45:43.389326

"""
from alembic import op
import sqlalchemy as sa

# No application import: a migration must keep building the schema it was
# written for whatever the code becomes. lms.core.types.UTCDateTime only
# converts values in Python; in the database it is this column type.
UTC_DATETIME = sa.DateTime(timezone=True)


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.Enum('web', 'cli', name='audit_via', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)

    op.create_table('audit_objects',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('staff', 'user', 'authority', 'region', 'course', 'enrolment', 'rule', name='audit_object_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['audit_entries.id'], name=op.f('fk_audit_objects_entry_id_audit_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'kind', 'object_id', name=op.f('pk_audit_objects'))
    )
    with op.batch_alter_table('audit_objects', schema=None) as batch_op:
        batch_op.create_index('ix_audit_objects_kind_object', ['kind', 'object_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_objects', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_objects_kind_object')

    op.drop_table('audit_objects')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_action'))

    op.drop_table('audit_entries')
