"""``lms demo``: demo accounts (and, as capabilities land, demo data)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.core import transaction
from lms.site.demo import DEMO_USERS, load_demo, load_demo_staff


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
    click.echo(f"demo: {staff} new staff member(s) in Napoli and Calabria, enrolled in the courses")
    click.echo(
        f"demo: {created} new account(s). Sign in at {current_app.config['BASE_URL']}/login with:"
    )
    for user in DEMO_USERS:
        click.echo(f"  {user.role:<8} {user.email:<32} password: {user.password}")
