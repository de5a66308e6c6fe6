"""``lms enrol`` and ``lms staff …``: enrolment and roster import from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.auth.links import link_message
from lms.auth.operations import find_authority, find_region
from lms.core import transaction
from lms.core.mail import Mailer, mail_configured
from lms.core.messages import english
from lms.core.types import today_in_italy
from lms.courses.models import Course
from lms.enrolments.enrol import enrol
from lms.enrolments.import_flow import run_import
from lms.enrolments.links import issue_links, waiting_user_ids
from lms.enrolments.reminder_days import ReminderDaysError, parse_reminder_days
from lms.extensions import db
from lms.register.models import StaffCategory, StaffMember

#: Links issued and committed at a time by ``lms staff send-links`` before they are e-mailed.
SEND_LINKS_BATCH = 500


def _parse_due(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.ClickException(f"--due {value!r} is not a date (YYYY-MM-DD)") from None


def _parse_reminders(value: str | None, *, no_reminders: bool) -> tuple[int, ...] | None:
    """--reminders as days (None: not given), --no-reminders as none."""
    if no_reminders:
        if value is not None:
            raise click.UsageError("give --reminders or --no-reminders, not both")
        return ()
    if value is None:
        return None
    try:
        days = parse_reminder_days(value)
    except ReminderDaysError as error:
        with english():
            raise click.ClickException(f"--reminders {value!r}: {error}") from None
    if not days:
        raise click.ClickException(
            f"--reminders {value!r} names no day (use --no-reminders for none)"
        )
    return days


@click.command("enrol")
@click.option("--course", "course_slug", required=True, help="The course's slug (folder name).")
@click.option(
    "--authority", "authorities", multiple=True, metavar="CODE", help="ISTAT or IPA code."
)
@click.option("--region", "regions", multiple=True, metavar="CODE", help="Region code, 01-20.")
@click.option("--person", "people", multiple=True, metavar="CF", help="A codice fiscale.")
@click.option("--category", type=click.Choice([c.value for c in StaffCategory]))
@click.option("--due", help="Due date, YYYY-MM-DD.")
@click.option(
    "--reminders",
    metavar="DAYS",
    help="The standing rule's reminder days before the due date, e.g. 14,7,1 "
    "(default: LMS_REMINDER_DAYS).",
)
@click.option(
    "--no-reminders",
    is_flag=True,
    help="The standing rule sends no reminder before the due date.",
)
@with_appcontext
def enrol_command(
    course_slug: str,
    authorities: tuple[str, ...],
    regions: tuple[str, ...],
    people: tuple[str, ...],
    category: str | None,
    due: str | None,
    reminders: str | None,
    *,
    no_reminders: bool,
) -> None:
    """Enrol the staff of authorities or regions, or named people, in a course.

    Enrolling an authority or a region is standing: people imported there later
    are enrolled too. Enrolling someone already enrolled changes nothing.
    """
    if not (authorities or regions or people):
        raise click.UsageError("name at least one --authority, --region or --person")
    reminder_days = _parse_reminders(reminders, no_reminders=no_reminders)
    if reminder_days is not None and not (authorities or regions):
        raise click.UsageError(
            "--reminders and --no-reminders belong to a standing rule: "
            "name an --authority or a --region"
        )
    course = db.session.scalar(
        select(Course).where(Course.slug == course_slug, Course.retired_at.is_(None))
    )
    if course is None:
        raise click.ClickException(f"unknown course {course_slug!r}")
    due_on = _parse_due(due)
    authority_ids, region_ids, staff_ids = [], [], []
    for code in authorities:
        authority = find_authority(code)
        if authority is None:
            raise click.ClickException(f"unknown authority code {code!r}")
        authority_ids.append(authority.id)
    for code in regions:
        region = find_region(code)
        if region is None:
            raise click.ClickException(f"unknown region code {code!r}")
        region_ids.append(region.id)
    for cf in people:
        staff_id = db.session.scalar(
            select(StaffMember.id).where(StaffMember.codice_fiscale == cf.strip().upper())
        )
        if staff_id is None:
            raise click.ClickException(f"no staff member with codice fiscale {cf!r}")
        staff_ids.append(staff_id)
    result = enrol(
        course,
        authority_ids=authority_ids,
        region_ids=region_ids,
        staff_ids=staff_ids,
        category=StaffCategory(category) if category else None,
        due_on=due_on,
        reminder_days=reminder_days,
    )
    transaction.commit()
    click.echo(
        f"{course.slug}: {result.enrolled} enrolled, {result.already} already enrolled"
        + (f", {result.rules_added} standing rule(s) added" if result.rules_added else "")
    )


@click.group("staff", help="The staff register.")
def staff_cli() -> None:
    """Group of staff commands."""


@staff_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
@with_appcontext
def import_command(file: Path, *, dry_run: bool) -> None:
    """Import a roster (CSV or XLSX); all or nothing, every bad row reported."""
    outcome = run_import(file.read_bytes(), file.name, importer=None, apply=not dry_run)
    if not outcome.ok:
        transaction.rollback()
        with english():  # the command line's contract: "line N, column: reason"
            for error in outcome.errors:
                click.echo(f"{file}: {error}", err=True)
        raise click.exceptions.Exit(1)
    if dry_run:
        transaction.rollback()
        click.echo(
            f"dry run, nothing written: {outcome.new} new, {outcome.updated} updated, "
            f"{outcome.unchanged} unchanged"
        )
        return
    result = outcome.result
    if result is None:  # run_import applies every roster it finds valid
        raise RuntimeError("the valid roster was not applied")
    transaction.commit()
    inactive = result.accounts_created_inactive
    click.echo(
        f"staff: {result.added} added, {result.updated} updated, {result.unchanged} unchanged; "
        f"{result.accounts_created} account(s) created"
        + (f" ({inactive} of them inactive: already left)" if inactive else "")
        + f", {result.accounts_deactivated} deactivated, "
        f"{result.enrolled_by_rules} enrolment(s) from standing rules"
    )


@staff_cli.command("send-links")
@click.option(
    "--authority",
    "authorities",
    multiple=True,
    metavar="CODE",
    help="Only staff of these authorities (ISTAT or IPA code); default: everyone.",
)
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="Print the links (codice fiscale, e-mail, link) instead of e-mailing them.",
)
@with_appcontext
def send_links_command(authorities: tuple[str, ...], *, print_only: bool) -> None:
    """Send a one-time set-password link to every active staff member without a password.

    Links are issued and committed a batch at a time, then that batch is
    e-mailed over one SMTP connection kept for the whole run: a crash never
    leaves e-mailed links that were not stored.
    """
    if not print_only and not mail_configured():
        raise click.ClickException(
            "e-mail is not configured (LMS_SMTP_HOST): use --print, or the HR page's links download"
        )
    authority_ids = None
    if authorities:
        authority_ids = []
        for code in authorities:
            authority = find_authority(code)
            if authority is None:
                raise click.ClickException(f"unknown authority code {code!r}")
            authority_ids.append(authority.id)
    today = today_in_italy()
    user_ids = waiting_user_ids(None, today, authority_ids=authority_ids)
    sent = failed = 0
    with Mailer() as mailer:
        for start in range(0, len(user_ids), SEND_LINKS_BATCH):
            links = issue_links(None, today, user_ids=user_ids[start : start + SEND_LINKS_BATCH])
            transaction.commit()  # stored before anyone sees them
            for link in links:
                if print_only:
                    click.echo(f"{link.codice_fiscale},{link.email},{link.link}")
                    continue
                name = f"{link.first_name} {link.last_name}"
                ok = mailer.send(link_message(link.email, name, link.link))
                sent, failed = sent + ok, failed + (not ok)
    if not print_only:
        click.echo(f"links: {sent} e-mailed, {failed} failed (see the log)")
        if failed:
            raise click.exceptions.Exit(1)
