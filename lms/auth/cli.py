"""``lms users …``: create accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.auth.links import send_password_link
from lms.auth.models import Role
from lms.auth.operations import AccountError, create_user
from lms.extensions import db


@click.group("users", help="Manage accounts.")
def users_cli() -> None:
    """Group of account commands."""


@users_cli.command("create")
@click.option("--email", required=True, help="Sign-in e-mail address.")
@click.option(
    "--role",
    required=True,
    help=f"One of: {', '.join(r.value for r in Role)}.",
)
@click.option("--password", help="Set this password; without it a one-time link is printed.")
@click.option("--first-name", default="", help="Given name.")
@click.option("--last-name", default="", help="Family name.")
@click.option(
    "--scope-authority",
    "scope_authorities",
    multiple=True,
    metavar="CODE",
    help="For hr: an authority (ISTAT or IPA code) in the manager's scope; repeatable.",
)
@click.option(
    "--scope-region",
    "scope_regions",
    multiple=True,
    metavar="CODE",
    help="For hr: a region (ISTAT code, 01-20) in the manager's scope; repeatable.",
)
@with_appcontext
def create_command(
    email: str,
    role: str,
    password: str | None,
    first_name: str,
    last_name: str,
    scope_authorities: tuple[str, ...],
    scope_regions: tuple[str, ...],
) -> None:
    """Create a user; without --password print (or e-mail) a one-time link to set one."""
    try:
        user = create_user(
            email=email,
            role=role,
            password=password,
            first_name=first_name,
            last_name=last_name,
            scope_authorities=scope_authorities,
            scope_regions=scope_regions,
        )
        link, sent = (None, False) if password else send_password_link(user)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email}")
    if link:
        click.echo(f"{'e-mailed' if sent else 'one-time link'}: {link}")
