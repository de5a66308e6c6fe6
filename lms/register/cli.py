"""``lms register …``: load ISTAT's register and add authorities."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.core import transaction
from lms.register.istat import SOURCE, shipped_register
from lms.register.operations import import_authorities, load_register


@click.group("register", help="Regions and authorities.")
def register_cli() -> None:
    """Group of register commands."""


@register_cli.command("load")
@with_appcontext
def load_command() -> None:
    """Load the 20 regions, every province, metropolitan city and municipality (idempotent)."""
    result = load_register(shipped_register())
    transaction.commit()
    click.echo(
        f"register: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged (source: {SOURCE})"
    )


@register_cli.command("import-authorities")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file without writing anything.")
@with_appcontext
def import_authorities_command(file: Path, *, dry_run: bool) -> None:
    """Add authorities from CSV: code,kind,name,region_code,istat_code."""
    result = import_authorities(file.read_bytes())
    if result.errors:
        transaction.rollback()
        for error in result.errors:
            click.echo(f"{file}: {error}", err=True)
        raise click.exceptions.Exit(1)
    if dry_run:
        transaction.rollback()
    else:
        transaction.commit()
    click.echo(
        f"{'dry run, nothing written: ' if dry_run else ''}authorities: {result.added} added, "
        f"{result.updated} updated, {result.unchanged} unchanged"
    )
