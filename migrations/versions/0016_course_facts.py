"""course facts: one row per (staff member, course) with what the reports need
"so far" (enrolled, completed, started, modules done, best scores), filled here
from the existing data so that an upgraded deployment has correct facts

The application keeps the table up to date from then on (lms/enrolments/facts.py);
this back-fill is a frozen copy of its definitions in plain SQL (a migration does
not import the application), set-based: one INSERT … SELECT.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:40:00.000000

"""
import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_ROME = ZoneInfo("Europe/Rome")


def _rome_day(value):
    """SQLite's stored UTC moment ('2026-03-01 23:30:00.000000') as its day in Italy."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return moment.astimezone(_ROME).date().isoformat()


_BACKFILL = """
INSERT INTO course_facts (
    staff_id, course_id, enrolled_at, enrolled_on, due_on, completed_at, completed_on,
    started, modules_done, score_hundredths, quizzes
)
SELECT p.staff_id, p.course_id, e.enrolled_at, {enrolled_on}, e.due_on,
       cc.completed_at, {completed_on},
       (COALESCE(pr.started, 0) > 0 OR COALESCE(sc.quizzes, 0) > 0),
       COALESCE(pr.done, 0), COALESCE(sc.score, 0), COALESCE(sc.quizzes, 0)
FROM (
    SELECT staff_id, course_id FROM enrolments
    UNION
    SELECT s.id, m.course_id
    FROM quiz_attempts a
    JOIN modules m ON m.id = a.module_id
    JOIN staff_members s ON s.user_id = a.user_id
    WHERE a.submitted_at IS NOT NULL AND a.score_pct IS NOT NULL
      AND m.kind = 'quiz' AND m.retired_at IS NULL
) p
JOIN staff_members s ON s.id = p.staff_id
LEFT JOIN enrolments e ON e.staff_id = p.staff_id AND e.course_id = p.course_id
LEFT JOIN course_completions cc ON cc.user_id = s.user_id AND cc.course_id = p.course_id
LEFT JOIN (
    SELECT mp.user_id, m.course_id, COUNT(*) AS started,
           SUM(CASE WHEN mp.completed_at IS NOT NULL AND m.required THEN 1 ELSE 0 END) AS done
    FROM module_progress mp
    JOIN modules m ON m.id = mp.module_id
    WHERE m.retired_at IS NULL
    GROUP BY mp.user_id, m.course_id
) pr ON pr.user_id = s.user_id AND pr.course_id = p.course_id
LEFT JOIN (
    SELECT b.user_id, b.course_id, SUM(b.best) AS score, COUNT(*) AS quizzes
    FROM (
        SELECT a.user_id, m.course_id, CAST(ROUND(MAX(a.score_pct) * 100) AS INTEGER) AS best
        FROM quiz_attempts a
        JOIN modules m ON m.id = a.module_id
        WHERE a.submitted_at IS NOT NULL AND a.score_pct IS NOT NULL
          AND m.kind = 'quiz' AND m.retired_at IS NULL
        GROUP BY a.user_id, m.course_id, a.module_id
    ) b
    GROUP BY b.user_id, b.course_id
) sc ON sc.user_id = s.user_id AND sc.course_id = p.course_id
"""


def upgrade():
    op.create_table('course_facts',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enrolled_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('started', sa.Boolean(), nullable=False),
    sa.Column('modules_done', sa.Integer(), nullable=False),
    sa.Column('score_hundredths', sa.Integer(), nullable=False),
    sa.Column('quizzes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_facts_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_course_facts_staff_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id', 'course_id', name=op.f('pk_course_facts')),
    # SQLite keeps the rows in primary-key order: the reports' per-person pass
    # reads the table itself, person by person, with no sort.
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('course_facts', schema=None) as batch_op:
        batch_op.create_index('ix_course_facts_course', ['course_id'], unique=False)

    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        # SQLite has no time zones: the day in Italy is worked out by Python's
        # zoneinfo, as the application does (lms.core.types.rome_date).
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.create_function("rome_day", 1, _rome_day, deterministic=True)
        day = "rome_day({})"
    else:
        day = "CAST(({} AT TIME ZONE 'Europe/Rome') AS DATE)"
    op.execute(sa.text(_BACKFILL.format(
        enrolled_on=day.format("e.enrolled_at"), completed_on=day.format("cc.completed_at")
    )))
    # The planner's statistics of the new table now, not when autovacuum gets to
    # it: without them PostgreSQL guessed 200 people for a million facts and
    # spilled the reports' per-person sums to disk.
    op.execute(sa.text("ANALYZE course_facts"))


def downgrade():
    with op.batch_alter_table('course_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_course_facts_course')

    op.drop_table('course_facts')
