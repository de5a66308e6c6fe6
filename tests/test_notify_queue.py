"""The notifications' job queue (procrastinate on PostgreSQL, issue #16).

A real worker runs a real job against the test database and sends through the
loopback SMTP server. procrastinate's schema is applied by the test (as the
first ``lms notify worker`` does) and removed afterwards, so that the rest of
the suite (tests/test_migrations.py compares the database with the models)
sees only the application's tables.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import procrastinate
import psycopg
import pytest
from conftest import make_test_app
from flask import Flask
from sqlalchemy import make_url

from lms.core.types import utcnow
from lms.courses.models import Course
from lms.enrolments.models import Enrolment
from lms.extensions import db as _db
from lms.notifications.models import Notification, Status
from lms.notifications.queue import (
    DAY_CRON,
    EVENTS_CRON,
    LOCK,
    QUEUE,
    conninfo,
    ensure_schema,
    make_queue,
)
from lms.register.models import Authority, StaffCategory, StaffMember

DATABASE_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
ON_POSTGRESQL = make_url(DATABASE_URL or "sqlite://").get_backend_name() == "postgresql"
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="the job queue is PostgreSQL's (on SQLite `lms notify run` runs from a timer);"
    " the suite runs again on PostgreSQL in CI, with LMS_TEST_DATABASE_URL",
)

#: Everything procrastinate's schema creates is named procrastinate_… (tables,
#: their indexes and triggers, functions, enum and composite types): drop it all,
#: tables first (their own row types go with them).
DROP_PROCRASTINATE = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r'
               AND c.relname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP TABLE IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
    FOR r IN SELECT t.oid::regtype AS name FROM pg_type t
             JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'c')
               AND t.typname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || r.name || ' CASCADE';
    END LOOP;
END
$$;
"""

LEFTOVERS = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relname LIKE 'procrastinate\\_%')
     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%')
     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%')
"""


def _sql(database_url: str, query: str) -> list[tuple]:
    with psycopg.connect(conninfo(database_url), autocommit=True) as connection:
        cursor = connection.execute(query)  # type: ignore[arg-type]  # our own constant SQL
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def no_queue_schema(database_url: str) -> Iterator[None]:
    """No procrastinate objects before the test, and none after it."""
    _sql(database_url, DROP_PROCRASTINATE)
    yield
    _sql(database_url, DROP_PROCRASTINATE)
    assert _sql(database_url, LEFTOVERS) == [(0,)]


@pytest.fixture
def mail_app(new_app: Callable[..., Flask], smtp_settings: dict[str, object]) -> Flask:
    return new_app(**smtp_settings, BASE_URL="https://formazione.example.it")


def _enrolled_learner(make_authority: Callable[..., Authority]) -> StaffMember:
    """A learner enrolled a minute ago (committed): the events job has a message to send."""
    course = Course(slug="etica", title="Etica pubblica", hours=Decimal(2), source_hash="x")
    staff = StaffMember(
        codice_fiscale="RSSMRA80A01H501U",
        first_name="Lucia",
        last_name="D'Àngelo",
        email="lucia@example.org",
        authority_id=make_authority().id,
        category=StaffCategory.NEW_HIRE,
    )
    _db.session.add_all([course, staff])
    _db.session.flush()
    _db.session.add(
        Enrolment(
            staff_id=staff.id, course_id=course.id, enrolled_at=utcnow() - timedelta(minutes=1)
        )
    )
    _db.session.commit()
    return staff


def test_both_jobs_are_periodic_on_the_notifications_queue_under_one_lock():
    # Building the queue connects to nothing: any PostgreSQL address will do (on SQLite too).
    queue = make_queue(make_test_app("postgresql+psycopg://lms@127.0.0.1:9/never_connected"))
    periodic = {
        name: task.cron for (name, _id), task in queue.periodic_registry.periodic_tasks.items()
    }
    assert periodic == {"lms.notifications.day": DAY_CRON, "lms.notifications.events": EVENTS_CRON}
    for name in periodic:
        assert queue.tasks[name].queue == QUEUE
        assert queue.tasks[name].lock == LOCK


def test_the_queue_refuses_sqlite_with_a_clear_message(tmp_path: Path):
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        conninfo(f"sqlite:///{tmp_path / 'lms.sqlite3'}")
    sqlite_app = make_test_app(f"sqlite:///{tmp_path / 'lms.sqlite3'}")
    # Its own context on top of the suite's: the command runs in the current app's.
    with sqlite_app.app_context():
        result = sqlite_app.test_cli_runner().invoke(args=["notify", "worker"])
    assert result.exit_code == 1
    assert "the job queue needs PostgreSQL" in result.output
    assert "lms notify run" in result.output


@pytest.mark.usefixtures("no_queue_schema")
@pytest.mark.postgres
@postgresql_only
def test_a_worker_runs_the_events_job_and_the_message_arrives(
    database_url: str,
    mail_app: Flask,
    make_authority: Callable[..., Authority],
    smtp_server,
):
    staff = _enrolled_learner(make_authority)
    queue = make_queue(mail_app)
    with queue.open():
        assert ensure_schema(queue) is True  # the first start applies the schema...
        assert ensure_schema(queue) is False  # ... the next finds it there
        job_id = queue.tasks["lms.notifications.events"].defer(timestamp=int(utcnow().timestamp()))
    queue.run_worker(queues=[QUEUE], wait=False, install_signal_handlers=False)

    statuses = dict(_sql(database_url, "SELECT id, status::text FROM procrastinate_jobs"))
    assert statuses[job_id] == "succeeded"
    # The worker may also have deferred (and run) the five-minute job on its own:
    # whatever ran, nothing failed, and the message went once.
    assert "failed" not in statuses.values()
    assert [str(m["To"]) for m in smtp_server.messages] == ["lucia@example.org"]
    assert "Etica pubblica" in str(smtp_server.messages[0]["Subject"])
    _db.session.expire_all()
    row = _db.session.query(Notification).filter_by(staff_id=staff.id).one()
    assert (row.kind, row.status) == ("enrolled", Status.SENT)


@pytest.mark.usefixtures("no_queue_schema")
@pytest.mark.postgres
@postgresql_only
def test_workers_starting_together_apply_the_schema_once_and_keep_no_lock(
    database_url: str, new_app: Callable[..., Flask]
):
    queues = [make_queue(new_app()) for _ in range(2)]
    start = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def start_worker(queue: procrastinate.App) -> None:
        try:
            start.wait(timeout=30)
            results.append(ensure_schema(queue))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    for queue in queues:
        queue.open()
    try:
        threads = [threading.Thread(target=start_worker, args=(q,)) for q in queues]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sorted(results) == [False, True]
        # With both queues (and their pools) still open, no advisory lock is left
        # held: a later worker would otherwise wait for these pools to close.
        held = _sql(
            database_url,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        assert held == [(0,)]
    finally:
        for queue in queues:
            queue.close()
