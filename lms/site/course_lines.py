"""The home page's lists of courses, drawn in Python: one line a course (issue #19).

A person's home page lists their required courses and the others they follow,
a dozen or more, and in Jinja each line cost a dozen calls through the
template's context (a link, a translated sentence or two, a date, a share, a
progress bar, an icon), a new look-up of each attribute, and a test for the
certificate: a third of the page's rendering. Here a line is one formatted
string. The markup is the template's, but for the indentation between tags;
the sentences are the same messages, translated and elided as the template's
``_()`` does (:func:`~lms.core.italian.markup_gettext`), every value escaped
as it goes in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Final

from flask import url_for
from markupsafe import Markup, escape

from lms.core.filters import format_day, format_pct
from lms.core.italian import markup_gettext as _
from lms.core.page_parts import progress_bar, svg_icon
from lms.courses.content import SLUG
from lms.courses.queries import CatalogueEntry
from lms.enrolments.queries import EnrolledCourse

# Plain strings: each value is escaped (or Markup already) as it goes in, and a
# list is wrapped in Markup once (``Markup % values`` costs three times as much).
_LINE: Final = (
    '<li class="mb-3%s">\n'
    '  <a href="%s"><strong>%s</strong></a>%s\n'
    "%s\n"  # the course's state: completed, or its progress
    "</li>"
)
_OVERDUE: Final = '\n  <span class="badge bg-danger">%s %s</span>'
_DUE: Final = '\n  <span class="lms-muted">· %s</span>'
_COMPLETED: Final = '<span class="text-success">· %s</span>'
_CERTIFICATE: Final = '\n· <a href="%s">%s %s</a>'


def _state(entry: CatalogueEntry, certificates: Collection[int]) -> str:
    """Completed on a day (with the certificate's link when one is due), or the progress."""
    if entry.completed_at is None:
        pct = entry.progress_pct
        label = _(
            "%(done)d di %(total)d moduli completati (%(pct)s)",
            done=entry.completed,
            total=entry.modules,
            pct=format_pct(pct),
        )
        return progress_bar(pct, label)
    state = _COMPLETED % _("completato il %(date)s", date=format_day(entry.completed_at))
    if entry.course.id in certificates:
        state += _CERTIFICATE % (
            escape(url_for("certificates.download", course_slug=entry.course.slug)),
            svg_icon("it-download", "icon icon-xs icon-primary"),
            _("Attestato (PDF)"),
        )
    return state


_SLUG_MARK: Final = "lms-slug-mark"


class _CourseLinks:
    """The links to the courses' overviews, built once a list (werkzeug's ``url_for``).

    A page of lines links a dozen courses, and each ``url_for`` matched the
    endpoint's rule again: the link is built once with a mark for the slug, and
    a plain slug (every course's: the content checker refuses any other) put in
    its place. Any other slug still goes through ``url_for``.
    """

    def __init__(self) -> None:
        self._head, self._tail = str(
            escape(url_for("courses.overview", course_slug=_SLUG_MARK))
        ).split(_SLUG_MARK)

    def __call__(self, slug: str) -> str:
        # The content checker's form (lms.courses.content.SLUG): nothing werkzeug would
        # quote or escape() change.
        if SLUG.fullmatch(slug):
            return self._head + slug + self._tail
        return str(escape(url_for("courses.overview", course_slug=slug)))


def _line(
    entry: CatalogueEntry, due: str, state: str, links: _CourseLinks, *, overdue: bool
) -> str:
    return _LINE % (
        " lms-overdue" if overdue else "",
        links(entry.course.slug),
        escape(entry.course.title),
        due,
        state,
    )


def enrolled_lines(items: Iterable[EnrolledCourse], certificates: Collection[int]) -> Markup:
    """The required courses: each with its due day (or that it is overdue) and its state.

    *certificates*: the ids of the courses whose certificate the person may download.
    """
    lines = []
    links = _CourseLinks()
    for item in items:
        entry = item.entry
        due = ""
        if item.overdue and item.due_on is not None:
            due = _OVERDUE % (
                svg_icon("it-warning-circle", "icon icon-xs icon-white"),
                _("scaduto il %(date)s", date=format_day(item.due_on)),
            )
        elif item.due_on is not None and entry.completed_at is None:
            due = _DUE % _("da completare entro il %(date)s", date=format_day(item.due_on))
        lines.append(_line(entry, due, _state(entry, certificates), links, overdue=item.overdue))
    # Safe: every value went in escaped, or as Markup (a message, an icon, a bar).
    return Markup("\n".join(lines))  # noqa: S704


def started_lines(entries: Iterable[CatalogueEntry], certificates: Collection[int]) -> Markup:
    """The other courses the person follows: each with its state."""
    links = _CourseLinks()
    lines = [
        _line(entry, "", _state(entry, certificates), links, overdue=False) for entry in entries
    ]
    # Safe: every value went in escaped, or as Markup (a message, an icon, a bar).
    return Markup("\n".join(lines))  # noqa: S704
