"""``lms demo``: demo accounts and demo data (safe to run again)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.core import transaction
from lms.core.types import rome_date
from lms.site.demo import (
    DEMO_USERS,
    OTHER_STAFF_SIGN_IN,
    demo_teams_report,
    load_demo,
    load_demo_staff,
    unrecorded_edition,
)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create demo users (one per role) and demo data; safe to run again."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("lms demo refuses to run in production (LMS_ENV=production)")
    try:
        created = load_demo()
        staff = load_demo_staff()
    except LookupError as exc:
        transaction.rollback()
        raise click.ClickException(str(exc)) from None
    transaction.commit()
    base = current_app.config["BASE_URL"]
    click.echo(f"demo: {staff} new staff member(s) in Napoli and Calabria, enrolled in the courses")
    edition = unrecorded_edition()
    if edition is not None:
        day = rome_date(edition.starts_at)
        report = Path(current_app.instance_path) / "demo" / f"teams-presenze-{day.isoformat()}.csv"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_bytes(demo_teams_report(edition))
        click.echo(
            f"demo: the webinar of {day:%d/%m/%Y} waits for its attendance:"
            f" {base}/sessioni/{edition.id}/registro (as the trainer);"
            f" its Teams report to upload there: {report}"
        )
    click.echo(f"demo: {created} new account(s). Sign in at {base}/login with:")
    for user in DEMO_USERS:
        click.echo(f"  {user.role:<8} {user.email:<32} password: {user.password}")
    click.echo(f"demo: {OTHER_STAFF_SIGN_IN}")
