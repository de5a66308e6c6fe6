"""``lms content …``: check the course content tree and synchronise it."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.core import transaction
from lms.courses.content import (
    CourseSource,
    ModuleType,
    check_rendering,
    is_course_folder,
    load_course_folder,
    load_tree,
)
from lms.courses.sync import sync_courses

__all__ = ["content_cli"]


@click.group("content", help="Courses written as Markdown files.")
def content_cli() -> None:
    """Group of content commands."""


def _default_root() -> Path:
    """CONTENT_DIR, shown relative to the working directory when it lies inside it."""
    root = Path(current_app.config["CONTENT_DIR"])
    try:
        return root.resolve().relative_to(Path.cwd().resolve()) if root.is_absolute() else root
    except ValueError:
        return root


def _load_or_exit(path: Path | None) -> list[CourseSource]:
    """Load and validate the tree (or one course folder); print every problem, exit 1 if any."""
    root = path if path is not None else _default_root()
    if not root.is_dir():
        click.echo(f"{root}:0: no such folder", err=True)
        raise click.exceptions.Exit(1)
    if is_course_folder(root):
        course, load_errors = load_course_folder(root)
        courses = [course] if course is not None else []
    else:
        courses, load_errors = load_tree(root)
    errors = load_errors + check_rendering(courses)
    if errors:
        for error in errors:
            click.echo(str(error), err=True)
        raise click.exceptions.Exit(1)
    return courses


@content_cli.command("check")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def check_command(path: Path | None) -> None:
    """Validate every course under PATH (default: CONTENT_DIR); print each problem."""
    courses = _load_or_exit(path)
    modules = [module for course in courses for module in course.modules]
    quizzes = [module for module in modules if module.type is ModuleType.QUIZ]
    questions = sum(len(quiz.questions) for quiz in quizzes)
    click.echo(
        f"{_count(len(courses), 'course')}, {_count(len(modules), 'module')},"
        f" {_count(len(quizzes), 'quiz', 'quizzes')} with"
        f" {_count(questions, 'question')}: no problems"
    )


def _count(number: int, one: str, many: str | None = None) -> str:
    """``1 course``, ``3 courses``."""
    return f"{number} {one if number == 1 else (many or one + 's')}"


@content_cli.command("sync")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def sync_command(path: Path | None) -> None:
    """Validate PATH (default: CONTENT_DIR), then bring the database in line with it.

    Nothing is written if any file has a problem. Running it twice changes nothing.
    PATH is the whole content folder: a course missing from it is retired, so a
    single course's folder is refused (check it with ``lms content check``).
    """
    if path is not None and is_course_folder(path):
        click.echo(
            f"{path}:0: this is one course's folder; sync takes the whole content folder"
            f" (here {path.parent}), because a course missing from it is retired",
            err=True,
        )
        raise click.exceptions.Exit(2)
    courses = _load_or_exit(path)
    report = sync_courses(courses)
    transaction.commit()
    if report.nothing_changed:
        click.echo(f"content: {len(courses)} courses up to date, nothing changed")
        return
    for label, names in (
        ("added", report.added),
        ("changed", report.changed),
        ("retired", report.retired),
    ):
        for name in names:
            click.echo(f"{label}: {name}")
    click.echo(
        f"content: {len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.retired)} retired"
    )
