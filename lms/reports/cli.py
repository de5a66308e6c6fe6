"""``lms report coverage|learners``: the reports from the command line (all authorities).

CSV goes to standard output unless ``-o FILE`` is given; XLSX needs ``-o``.
A bad filter is one line on standard error and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.core.export import csv_chunks, write_xlsx
from lms.core.messages import english
from lms.reports.coverage import By, columns, coverage_rows
from lms.reports.filters import ReportFilters, ReportInputError, parse_filters
from lms.reports.learners import COLUMNS as LEARNER_COLUMNS
from lms.reports.learners import learner_csv_chunks, learner_rows

report_group = click.Group("report", help="Coverage and learner reports (CSV or XLSX).")


def _filter_options(command: Callable) -> Callable:
    options = [
        click.option("--course", metavar="SLUG", help="Only this course (its slug)."),
        click.option("--category", help="new_hire or existing (neoassunto, in_servizio)."),
        click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="As of this day (today)."),
        click.option("--region", metavar="CODE", help="Only this region (01-20)."),
        click.option("--authority", metavar="CODE", help="Only this authority (ISTAT or IPA)."),
        click.option(
            "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
        ),
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            help="Write to FILE (CSV goes to standard output without it).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _parse(options: dict[str, str | None]) -> ReportFilters:
    try:
        with english():  # the command line speaks English, like the rest of the CLI
            return parse_filters(None, options)
    except ReportInputError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)


def _write(
    fmt: str,
    output: Path | None,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    title: str,
) -> None:
    if fmt == "xlsx":
        if output is None:
            raise click.UsageError("--format xlsx needs -o FILE")
        count = write_xlsx(output, header, rows, title=title)
        click.echo(f"{count} rows written to {output}", err=True)
        return
    _write_chunks(output, csv_chunks(header, rows))


def _write_chunks(output: Path | None, chunks: Iterable[bytes]) -> None:
    """A CSV file's chunks to *output*, or to standard output without it."""
    if output is None:
        stream = sys.stdout.buffer
        for chunk in chunks:
            stream.write(chunk)
        stream.flush()
        return
    with output.open("wb") as file:
        for chunk in chunks:
            file.write(chunk)
    click.echo(f"written to {output}", err=True)


@report_group.command("coverage")
@click.option(
    "--by", type=click.Choice(["region", "authority"]), default="region", show_default=True
)
@_filter_options
@with_appcontext
def coverage_command(by: By, fmt: str, output: Path | None, **options: str | None) -> None:
    """Coverage report by region (with a TOTAL row) or by authority."""
    filters = _parse(options)
    _write(fmt, output, columns(by), coverage_rows(filters, by), f"coverage-{by}")


@report_group.command("learners")
@_filter_options
@with_appcontext
def learners_command(fmt: str, output: Path | None, **options: str | None) -> None:
    """Learner detail report: one row per enrolment."""
    filters = _parse(options)
    if fmt == "csv":
        # Written by the report itself: as of today the database writes the lines.
        _write_chunks(output, learner_csv_chunks(filters))
        return
    rows = (row.cells() for row in learner_rows(filters))
    _write(fmt, output, LEARNER_COLUMNS, rows, "learners")
