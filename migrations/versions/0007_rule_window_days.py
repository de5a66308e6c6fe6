"""standing enrolment rules remember the days they gave: people enrolled later get as many

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 06:30:00.000000

"""
from datetime import UTC
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

# No application import: a migration must keep doing what it did when it was
# written, whatever the code becomes. What follows is a frozen copy, as of this
# migration, of the lines of lms.core.types it needs (UTCDateTime's reading side
# and rome_date); do not update it when lms.core.types changes.
ROME = ZoneInfo("Europe/Rome")


class UTCDateTime(sa.types.TypeDecorator):
    """Frozen copy of lms.core.types.UTCDateTime as of 0007 (reading only)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        """Attach UTC to the naive values SQLite returns."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def rome_date(moment):
    """Frozen copy of lms.core.types.rome_date as of 0007: the calendar day in Italy."""
    return moment.astimezone(ROME).date()


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolment_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_days', sa.Integer(), nullable=True))

    # Backfill: the rule's due date minus the Italian day it was made (0 if it had
    # passed), as lms.enrolments.enrol.rule_window_days computes for new rules. The
    # rules are few (one per course and authority or region), so a pass in Python
    # with the types above reads dates and times alike on SQLite and PostgreSQL.
    rules = sa.table(
        'enrolment_rules',
        sa.column('id', sa.Integer()),
        sa.column('due_on', sa.Date()),
        sa.column('created_at', UTCDateTime(timezone=True)),
        sa.column('window_days', sa.Integer()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(rules.c.id, rules.c.due_on, rules.c.created_at).where(
            rules.c.due_on.is_not(None)
        )
    ).all()
    updates = [
        {
            'rule_id': rule_id,
            'days': max(0, (due_on - rome_date(created_at)).days),
        }
        for rule_id, due_on, created_at in rows
    ]
    if updates:
        bind.execute(
            rules.update()
            .where(rules.c.id == sa.bindparam('rule_id'))
            .values(window_days=sa.bindparam('days')),
            updates,
        )


def downgrade():
    with op.batch_alter_table('enrolment_rules', schema=None) as batch_op:
        batch_op.drop_column('window_days')
