"""What the pages of a course share, whatever the module's kind: loading and checking.

The views of courses and of the domains built on them (a quiz is a module whose
page the assessments domain draws) load a course and a module here, for the
signed-in reader, with a 404 for what the reader may not see. A module kind
whose page another domain draws registers its renderer with
:func:`register_module_page`, so that courses never import that domain. The same
holds for the reader's due date of a course, which enrolments set: they register
its reader with :func:`register_due_date`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort
from flask_login import current_user

from lms.courses.models import Course, ModuleKind
from lms.courses.queries import ModuleState, find_visible_course, visible_course_outline

#: Draws a module's page: (course, the module's state, page context) -> HTML.
ModulePage = Callable[..., str]
_MODULE_PAGES: dict[ModuleKind, ModulePage] = {}


#: Reads a person's due date for a course: (account, course) -> the date, or None.
DueDate = Callable[[Any, Course], date | None]
_DUE_DATES: list[DueDate] = []


def register_due_date(reader: DueDate) -> None:
    """Let *reader* tell the course page the reader's due date (called once, at start-up)."""
    _DUE_DATES[:] = [reader]


def due_date(user: Any, course: Course) -> date | None:
    """*user*'s due date for *course*, from the registered reader (None: none, or no reader)."""
    return _DUE_DATES[0](user, course) if _DUE_DATES else None


def register_module_page(kind: ModuleKind, renderer: ModulePage) -> None:
    """Let *renderer* draw the pages of modules of *kind* (called once, at start-up)."""
    _MODULE_PAGES[kind] = renderer


def module_page_renderer(kind: ModuleKind) -> ModulePage | None:
    """The renderer registered for *kind*; None: the courses domain's own module page."""
    return _MODULE_PAGES.get(kind)


def course_or_404(slug: str) -> Course:
    """The course *slug* if the signed-in reader may see it; else 404."""
    course = find_visible_course(current_user, slug)
    if course is None:
        abort(404)
    return course


def course_and_outline(course_slug: str) -> tuple[Course, list[ModuleState]]:
    """The course *course_slug* and its outline for the reader (404 if they may not see it).

    One statement (:func:`visible_course_outline`): a course's page and every module
    page run it.
    """
    found = visible_course_outline(current_user, course_slug)
    if found is None:
        abort(404)
    return found


def module_context(course_slug: str, module_slug: str) -> tuple[Course, list[ModuleState], int]:
    """The course, its outline for the reader, and the index of the module in it (or 404)."""
    course, outline = course_and_outline(course_slug)
    for index, state in enumerate(outline):
        if state.module.slug == module_slug:
            return course, outline, index
    abort(404)
    return None  # unreachable: abort raises
