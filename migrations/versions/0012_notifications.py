"""Reminders and digests: the notifications' outbox, preferences, refused addresses

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:00:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'sent', 'refused', 'failed', 'cancelled', 'empty')


def upgrade():
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('enrolment_id', sa.Integer(), nullable=True),
        sa.Column('on_date', sa.Date(), nullable=False),
        sa.Column(
            'status',
            sa.Enum(*STATUSES, name='notification_status', native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.CheckConstraint('(staff_id IS NULL) <> (user_id IS NULL)', name=op.f('ck_notifications_exactly_one_recipient')),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_notifications_enrolment_id_enrolments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_notifications_staff_id_staff_members'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('ix_notifications_status_next', ['status', 'next_attempt_at'], unique=False)
        where = 'enrolment_id IS NOT NULL'
        batch_op.create_index(
            'uq_notifications_enrolment', ['staff_id', 'enrolment_id', 'kind', 'on_date'], unique=True,
            sqlite_where=sa.text(where), postgresql_where=sa.text(where),
        )
        where = 'enrolment_id IS NULL AND staff_id IS NOT NULL'
        batch_op.create_index(
            'uq_notifications_learner_digest', ['staff_id', 'kind', 'on_date'], unique=True,
            sqlite_where=sa.text(where), postgresql_where=sa.text(where),
        )
        where = 'user_id IS NOT NULL'
        batch_op.create_index(
            'uq_notifications_account', ['user_id', 'kind', 'on_date'], unique=True,
            sqlite_where=sa.text(where), postgresql_where=sa.text(where),
        )
    # The planner finds the enrolments and completions of the last days by date.
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index('ix_enrolments_enrolled_at', ['enrolled_at'], unique=False)
        batch_op.create_index('ix_enrolments_due_on', ['due_on'], unique=False)
    with op.batch_alter_table('course_completions', schema=None) as batch_op:
        batch_op.create_index('ix_course_completions_completed_at', ['completed_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_digest', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_refused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('email_refused_reason', sa.String(length=200), nullable=True))
    with op.batch_alter_table('enrolment_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_days', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('enrolment_rules', schema=None) as batch_op:
        batch_op.drop_column('reminder_days')
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_column('email_refused_reason')
        batch_op.drop_column('email_refused_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('reminder_digest')
    with op.batch_alter_table('course_completions', schema=None) as batch_op:
        batch_op.drop_index('ix_course_completions_completed_at')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolments_due_on')
        batch_op.drop_index('ix_enrolments_enrolled_at')
    op.drop_table('notifications')
