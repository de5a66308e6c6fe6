"""``lms notify …``: plan and send reminders and digests, run the queue's worker, see the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from lms.core.messages import english
from lms.core.types import ROME
from lms.extensions import db
from lms.notifications.jobs import RunReport, run_day, run_events
from lms.notifications.models import Notification
from lms.notifications.plan import ReminderDaysError


@click.group("notify")
def notify_cli() -> None:
    """Reminders and digests by e-mail (docs/notifications.md)."""


def _moment(day: str | None) -> datetime | None:
    """*day* (YYYY-MM-DD) at 07:00 in Italy: run as if it were that morning."""
    if not day:
        return None
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise click.BadParameter(f"{day!r} is not a date (YYYY-MM-DD)") from None
    return datetime.combine(parsed, time(7), tzinfo=ROME).astimezone(UTC)


def _echo(report: RunReport) -> None:
    planned = ", ".join(f"{k} {v}" for k, v in sorted(report.planned.counts.items())) or "nothing"
    sent = report.sent
    click.echo(f"planned: {planned}")
    click.echo(
        f"sent {sent.sent}, deferred {sent.deferred}, refused {sent.refused}, "
        f"failed {sent.failed}, cancelled {sent.cancelled}, empty digests {sent.empty}"
    )
    if sent.server_down:
        click.echo("the SMTP server did not answer: the rest waits for the next run", err=True)


@notify_cli.command("run")
@click.option(
    "--date", "day", metavar="YYYY-MM-DD", help="Run as on this day (tests, catching up)."
)
@click.option("--events-only", is_flag=True, help="Only enrolments, completions and retries.")
@click.option("--plan-only", is_flag=True, help="Plan, commit, send nothing.")
@with_appcontext
def run_command(day: str | None, events_only: bool, plan_only: bool) -> None:  # noqa: FBT001
    """Plan today's reminders and digests, commit, then send what is pending.

    The embedded SQLite set-up runs this from cron or a systemd timer, a few times
    a day (docs/deploy.md); a second run the same day sends nothing new. On
    PostgreSQL the worker (`lms notify worker`) runs the same jobs on schedule.
    """
    if not current_app.config.get("SMTP_HOST") and not plan_only:
        raise click.ClickException("no SMTP server configured (LMS_SMTP_HOST): nothing can be sent")
    now = _moment(day)
    with english():  # the command line's language; each message keeps its reader's
        try:
            report = run_events(now) if events_only else run_day(now, send=not plan_only)
        except ReminderDaysError as error:
            raise click.ClickException(str(error)) from None
    _echo(report)


@notify_cli.command("status")
@with_appcontext
def status_command() -> None:
    """How many messages stand in each state (pending, sent, refused …), by kind."""
    rows = db.session.execute(
        select(Notification.kind, Notification.status, func.count())
        .group_by(Notification.kind, Notification.status)
        .order_by(Notification.kind, Notification.status)
    ).all()
    if not rows:
        click.echo("no notifications yet")
    for kind, status, count in rows:
        click.echo(f"{kind:12} {status.value:10} {count}")


@notify_cli.command("worker")
@click.option("--name", default=None, help="The worker's name in the logs.")
@with_appcontext
def worker_command(name: str | None) -> None:
    """Run the job queue's worker (PostgreSQL): the daily plan and the five-minute sender.

    Start one on each machine that should send (a systemd unit: docs/deploy.md);
    the first start applies the queue's schema. Stops on SIGINT or SIGTERM.
    """
    from lms.notifications.queue import QUEUE, ensure_schema, make_queue  # noqa: PLC0415

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001
    try:
        queue = make_queue(app)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    with queue.open():
        if ensure_schema(queue):
            click.echo("applied the job queue's schema")
    # Finished jobs are deleted: the outbox (lms notify status) is the record of what was sent.
    queue.run_worker(queues=[QUEUE], name=name, delete_jobs="successful")
