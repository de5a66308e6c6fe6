"""``lms users …``: create accounts, change their status, role and scope."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask.cli import with_appcontext

from lms.auth.links import link_message, password_link
from lms.auth.models import Role
from lms.auth.operations import (
    AccountError,
    change_account_role,
    create_user,
    deactivate_account,
    find_user,
    reactivate_user,
    set_scope,
)
from lms.core import transaction
from lms.core.mail import send_messages


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
        link = None if password else password_link(user)
    except AccountError as exc:
        transaction.rollback()
        raise click.ClickException(str(exc)) from None
    transaction.commit()  # the link exists before it is e-mailed
    sent = False
    if link:
        sent = send_messages([link_message(user.email, user.full_name, link)])[0]
    click.echo(f"created {user.role.value} {user.email}")
    if link:
        click.echo(f"{'e-mailed' if sent else 'one-time link'}: {link}")


_EMAIL = click.option("--email", required=True, help="The account's sign-in e-mail address.")
_SCOPE_AUTHORITIES = click.option(
    "--scope-authority",
    "scope_authorities",
    multiple=True,
    metavar="CODE",
    help="An authority (ISTAT or IPA code) in the manager's scope; repeatable.",
)
_SCOPE_REGIONS = click.option(
    "--scope-region",
    "scope_regions",
    multiple=True,
    metavar="CODE",
    help="A region (ISTAT code, 01-20) in the manager's scope; repeatable.",
)


def _change(change: Callable[[], bool], done: str, unchanged: str) -> None:
    """Run *change* (a callable returning whether it changed anything), commit, say what it did.

    An AccountError is one line on stderr, exit 1, nothing written. Each change
    is audited (``lms.audit``) in the same transaction as the change itself.
    """
    try:
        changed = change()
    except AccountError as exc:
        transaction.rollback()
        raise click.ClickException(str(exc)) from None
    transaction.commit()
    click.echo(done if changed else unchanged)


@users_cli.command("deactivate")
@_EMAIL
@with_appcontext
def deactivate_command(email: str) -> None:
    """Stop an account from signing in, end its sessions, cancel its unused links.

    Refused for the last active administrator (create another one first).
    """
    _change(
        lambda: deactivate_account(find_user(email), by=None),
        f"deactivated {email.strip().lower()}",
        f"{email.strip().lower()} was already deactivated",
    )


@users_cli.command("reactivate")
@_EMAIL
@with_appcontext
def reactivate_command(email: str) -> None:
    """Let a deactivated account sign in again."""
    _change(
        lambda: reactivate_user(find_user(email)),
        f"reactivated {email.strip().lower()}",
        f"{email.strip().lower()} was already active",
    )


@users_cli.command("set-role")
@_EMAIL
@click.option("--role", required=True, help=f"One of: {', '.join(r.value for r in Role)}.")
@_SCOPE_AUTHORITIES
@_SCOPE_REGIONS
@with_appcontext
def set_role_command(
    email: str, role: str, scope_authorities: tuple[str, ...], scope_regions: tuple[str, ...]
) -> None:
    """Give an account another role (hr needs a scope; leaving hr removes it).

    Refused when it would take the role of the last active administrator.
    """
    _change(
        lambda: change_account_role(
            find_user(email),
            role,
            scope_authorities=scope_authorities,
            scope_regions=scope_regions,
            by=None,
        ),
        f"{email.strip().lower()} is now {role.strip().lower()}",
        f"{email.strip().lower()} already was {role.strip().lower()}",
    )


@users_cli.command("set-scope")
@_EMAIL
@_SCOPE_AUTHORITIES
@_SCOPE_REGIONS
@with_appcontext
def set_scope_command(
    email: str, scope_authorities: tuple[str, ...], scope_regions: tuple[str, ...]
) -> None:
    """Replace an HR manager's scope with the authorities and regions named."""
    _change(
        lambda: set_scope(
            find_user(email), scope_authorities=scope_authorities, scope_regions=scope_regions
        ),
        f"scope of {email.strip().lower()} changed",
        f"scope of {email.strip().lower()} unchanged",
    )
