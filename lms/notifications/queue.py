"""The job queue on PostgreSQL: procrastinate runs the notifications' jobs on any number of workers.

Why procrastinate (docs/deploy.md): production already runs PostgreSQL, so the
queue needs no other server (no Redis to keep, back up and secure); its jobs
live in the same database as the outbox, and its periodic tasks are deferred
once per schedule whichever worker defers them first. Its ``lock`` makes the
two jobs below run one at a time across every worker, and the sender's own
claims (:func:`lms.notifications.send.claim`) would keep two of them apart anyway.

- ``lms.notifications.day`` every day at 06:15 UTC (07:15 or 08:15 in Italy):
  :func:`lms.notifications.jobs.run_day`.
- ``lms.notifications.events`` every five minutes:
  :func:`lms.notifications.jobs.run_events` (new enrolments and completions, retries).

Each job runs inside the Flask application's context, one database session each.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import procrastinate
from flask import Flask
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy.engine import make_url

from lms.notifications.jobs import RunReport, run_day, run_events

log = logging.getLogger(__name__)

QUEUE = "notifications"
#: Jobs holding this lock run one after the other, on whichever worker.
LOCK = "lms-notifications"
DAY_CRON = "15 6 * * *"
EVENTS_CRON = "*/5 * * * *"


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://…``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the job queue needs PostgreSQL (on SQLite run `lms notify run`)")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _log(name: str, report: RunReport) -> None:
    sent = report.sent
    log.info(
        "%s: planned %d, sent %d, deferred %d, refused %d, failed %d, cancelled %d%s",
        name,
        report.planned.total,
        sent.sent,
        sent.deferred,
        sent.refused,
        sent.failed,
        sent.cancelled,
        " (SMTP server down)" if sent.server_down else "",
    )


def make_queue(app: Flask, **connector_options: Any) -> procrastinate.App:
    """The procrastinate app for *app*'s database, with the two periodic jobs."""
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(app.config["SQLALCHEMY_DATABASE_URI"]), **connector_options
    )
    queue = procrastinate.App(connector=connector)

    @queue.periodic(cron=DAY_CRON, periodic_id="day")
    @queue.task(name="lms.notifications.day", queue=QUEUE, lock=LOCK)
    def day(timestamp: int) -> None:
        """Plan today's reminders and digests, then send."""
        with app.app_context():
            _log("day", run_day(datetime.fromtimestamp(timestamp, UTC)))

    @queue.periodic(cron=EVENTS_CRON, periodic_id="events")
    @queue.task(name="lms.notifications.events", queue=QUEUE, lock=LOCK)
    def events(timestamp: int) -> None:
        """Plan the messages of new enrolments and completions, then send (retries too)."""
        with app.app_context():
            _log("events", run_events(datetime.fromtimestamp(timestamp, UTC)))

    return queue


def ensure_schema(queue: procrastinate.App) -> bool:
    """Apply procrastinate's schema if the database has none yet; whether it did.

    Two workers starting together: the first applies it inside its transaction,
    the second waits on the transaction's advisory lock and then finds it there.
    One connection does all three (lock, check, schema), and the lock ends with
    the transaction: a lock taken on one pooled connection and "released" on
    another would stay held as long as the pool lives. *queue* must be open
    (``queue.open()``).
    """
    connector = queue.connector.get_sync_connector()
    if not isinstance(connector, SyncPsycopgConnector):  # pragma: no cover - our own make_queue
        raise TypeError("ensure_schema needs the queue opened synchronously (queue.open())")
    with connector.pool.connection() as connection, connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext('lms-procrastinate-schema'))")
        row = connection.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        if row is not None and row[0]:
            return False
        # No parameters: psycopg sends the script as it is, every statement in it.
        connection.execute(queue.schema_manager.get_schema())
        return True
