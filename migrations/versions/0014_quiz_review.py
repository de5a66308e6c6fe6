"""Quiz review options and partial credit: modules.review, quiz_attempts.earned as a decimal

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.String(length=16), nullable=True))

    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.alter_column('earned',
               existing_type=sa.Integer(),
               type_=sa.Numeric(precision=8, scale=2),
               existing_nullable=True)


def downgrade():
    # Partial points are rounded to whole points, as the column held them before.
    op.execute("UPDATE quiz_attempts SET earned = ROUND(earned) WHERE earned IS NOT NULL")
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.alter_column('earned',
               existing_type=sa.Numeric(precision=8, scale=2),
               type_=sa.Integer(),
               existing_nullable=True)

    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.drop_column('review')
