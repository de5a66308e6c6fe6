"""``lms quiz …``: quiz modules from other formats (``lms quiz from-gift``).

A plain click group: it needs no application context, so it works before the
database exists. Exit codes of ``from-gift``: 0 every question converted; 1 some
questions not converted (listed on stderr, the others written); 2 nothing written
(bad usage, unreadable file, no questions, or none that could be converted).
"""

from __future__ import annotations

from pathlib import Path

import click

from lms.content.gift import (
    LANGUAGES,
    ReportKind,
    convert_gift,
    decode_gift,
    quiz_module,
    title_from_filename,
)
from lms.courses.front_matter import COURSE_KEYS, read_document

__all__ = ["EXIT_INCOMPLETE", "EXIT_NOTHING_WRITTEN", "quiz_cli"]

#: Some questions were not converted; the others were written.
EXIT_INCOMPLETE = 1
#: Nothing was written (click also exits with 2 on bad usage).
EXIT_NOTHING_WRITTEN = 2


@click.group("quiz", help="Quiz modules: conversion from other formats.")
def quiz_cli() -> None:
    """Group of quiz commands."""


def _fail(message: str) -> click.exceptions.Exit:
    click.echo(message, err=True)
    return click.exceptions.Exit(EXIT_NOTHING_WRITTEN)


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.resolve() == second.resolve()
    except OSError:
        return False


def _read_gift(source: Path) -> str:
    """The text of the GIFT file; exits with 2 if it cannot be read."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise _fail(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    try:
        text, encoding = decode_gift(data)
    except UnicodeDecodeError:
        raise _fail(f"{source}: not a text file (neither UTF-8 nor Windows-1252)") from None
    if encoding != "utf-8":
        click.echo(f"{source}: note: not UTF-8, read as Windows-1252", err=True)
    return text


def _course_language(output: Path) -> str | None:
    """The ``language:`` of the course folder *output* goes into, if it is one."""
    course = output.parent / "course.md"
    if not course.is_file():
        return None
    try:
        document = read_document(course, COURSE_KEYS)
    except OSError:
        return None
    return str(document.values.get("language", "it"))


def _language(output: Path, asked: str | None) -> str:
    """The language to write in: as asked, else the course's, else Italian."""
    course = _course_language(output)
    if asked is None:
        return course or "it"
    if course is not None and course != asked:
        click.echo(
            f"{output.parent / 'course.md'}: note: the course is in '{course}';"
            f" writing in '{asked}' as asked",
            err=True,
        )
    return asked


@quiz_cli.command("from-gift")
@click.argument("source", metavar="FILE.gift", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="MODULE.md",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The quiz module to write (replaced if it exists).",
)
@click.option("-t", "--title", help="Module title (default: from the file name).")
@click.option(
    "-l",
    "--language",
    type=click.Choice(LANGUAGES),
    help="Language of the words written (Vero/Falso, feedback labels) and of the decimal"
    " separator (default: the course's, when MODULE.md goes into a course folder;"
    " else it).",
)
def from_gift_command(source: Path, output: Path, title: str | None, language: str | None) -> None:
    """Convert a Moodle GIFT file into a quiz module.

    Single and multiple choice (with partial credit, negative weights and several
    right answers), true/false, short answer (with weights), numerical (values,
    tolerances, ranges, weights) and matching questions are converted; every
    other question is listed on stderr as FILE:LINE: not converted: reason.
    Exit code 0 if all were converted, 1 if some were not (the others are
    written), 2 if nothing was written.
    """
    if title is not None and not title.strip():
        raise click.BadParameter("the title is empty", param_hint="'--title'")
    if _same_file(source, output):
        raise click.BadParameter("the output would replace the GIFT file", param_hint="'-o'")
    conversion = convert_gift(_read_gift(source), _language(output, language))
    for report in conversion.reports:
        click.echo(report.format(str(source)), err=True)
    if conversion.found == 0:
        raise _fail(f"{source}: no questions found; nothing written")
    if not conversion.questions:
        raise _fail(f"{source}: no question could be converted; nothing written")

    module = quiz_module(conversion.questions, title or title_from_filename(source.stem))
    try:
        output.write_text(module, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise _fail(f"{output}: cannot write the file: {exc.strerror or exc}") from None
    skipped = sum(report.kind is ReportKind.NOT_CONVERTED for report in conversion.reports)
    written = len(conversion.questions)
    click.echo(
        f"{output}: {written} question{'' if written == 1 else 's'} written"
        + (f", {skipped} not converted (listed on stderr)" if skipped else "")
    )
    if skipped:
        raise click.exceptions.Exit(EXIT_INCOMPLETE)
