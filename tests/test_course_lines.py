"""The home page's course lines drawn in Python (lms/site/course_lines.py) against Jinja's.

``REFERENCE`` is the markup the home page's template wrote for each course
before the lines moved to Python (issue #19), kept here as the reference: for
every state of a line (overdue, due, no due day, completed with and without the
certificate, in progress), with a hostile title and in both languages, the
Python lines must be the template's, but for the whitespace between tags. And
:func:`~lms.core.italian.markup_gettext` must write what the template's ``_()``
writes, escaping and Italian elision included.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from conftest import request_in
from flask import Flask, render_template_string
from markupsafe import Markup

from lms.core.italian import markup_gettext
from lms.courses.models import Course
from lms.courses.queries import CatalogueEntry
from lms.enrolments.queries import EnrolledCourse
from lms.site.course_lines import enrolled_lines, started_lines

REFERENCE = """
{%- from "macros.html" import icon %}
{%- from "courses/_progress.html" import progress_bar %}
{%- for item in enrolled %}
{%- set entry = item.entry %}
<li class="mb-3{% if item.overdue %} lms-overdue{% endif %}">
  <a href="{{ url_for('courses.overview', course_slug=entry.course.slug) }}"><strong>{{ entry.course.title }}</strong></a>
  {%- if item.overdue %}
  <span class="badge bg-danger">{{ icon('it-warning-circle', 'icon icon-xs icon-white') }} {{ _("scaduto il %(date)s", date=item.due_on|dateformat) }}</span>
  {%- elif item.due_on and not entry.completed_at %}
  <span class="lms-muted">· {{ _("da completare entro il %(date)s", date=item.due_on|dateformat) }}</span>
  {%- endif %}
{%- if entry.completed_at %}
<span class="text-success">· {{ _("completato il %(date)s", date=entry.completed_at|dateformat) }}</span>
{%- if entry.course.id in certificates %}
· <a href="{{ url_for('certificates.download', course_slug=entry.course.slug) }}">{{ icon('it-download', 'icon icon-xs icon-primary') }} {{ _("Attestato (PDF)") }}</a>
{%- endif %}
{%- else %}
{{ progress_bar(entry.progress_pct, _("%(done)d di %(total)d moduli completati (%(pct)s)", done=entry.completed, total=entry.modules, pct=entry.progress_pct|pct)) }}
{%- endif %}
</li>
{%- endfor %}
"""  # noqa: E501 - the template's own lines


def _course(course_id: int, title: str) -> Course:
    return Course(id=course_id, slug=f"corso-{course_id}", title=title)


HOSTILE = "<script>alert('x')</script> & \"Fondi\" l'Europa"


def _line(course_id: int, title: str, counts: tuple[int, int], **state: object) -> EnrolledCourse:
    """A line: the course, (modules, done), and its completion, due day and overdue flag."""
    entry = CatalogueEntry(_course(course_id, title), *counts, state.get("done"))  # type: ignore[arg-type]
    return EnrolledCourse(entry, state.get("due"), overdue=bool(state.get("overdue")))  # type: ignore[arg-type]


def _items() -> list[EnrolledCourse]:
    done = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 1 December in Italy: "l'1 dic"
    return [
        _line(1, HOSTILE, (4, 0), due=date(2026, 8, 1), overdue=True),
        _line(2, "Coesione", (8, 3), due=date(2027, 1, 8)),
        _line(3, "Senza scadenza", (3, 1)),
        _line(4, "Con attestato", (5, 5), done=done, due=date(2026, 1, 11)),
        _line(5, "Senza attestato", (2, 2), done=done),
        _line(6, "Nessun modulo", (0, 0)),
    ]


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_lines_are_the_templates_in_every_state(app: Flask, lang: str) -> None:
    items, certificates = _items(), frozenset({4})
    with request_in(app, lang):
        expected = render_template_string(REFERENCE, enrolled=items, certificates=certificates)
        drawn = enrolled_lines(items, certificates)
        started = started_lines([i.entry for i in items], certificates)
    assert isinstance(drawn, Markup)
    assert _flat(drawn) == _flat(expected)
    # The other courses followed: the same lines without due days.
    undated = [EnrolledCourse(i.entry, None, overdue=False) for i in items]
    with request_in(app, lang):
        expected_started = render_template_string(
            REFERENCE, enrolled=undated, certificates=certificates
        )
    assert _flat(started) == _flat(expected_started)


def test_a_hostile_title_is_escaped_and_italian_elides(app: Flask) -> None:
    with request_in(app, "it"):
        drawn = str(enrolled_lines(_items(), frozenset({4})))
    assert "<script>" not in drawn
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;Fondi&#34;" in drawn
    assert "completato l'1 dic 2026" in drawn  # the elision's apostrophe, after escaping
    assert "da completare entro l'8 gen 2027" in drawn
    assert 'href="/courses/corso-4/attestato.pdf"' in drawn
    assert drawn.count("attestato.pdf") == 1  # course 5 has none due


@pytest.mark.parametrize("lang", ["it", "en"])
def test_markup_gettext_is_the_templates_gettext(app: Flask, lang: str) -> None:
    cases: list[tuple[str, dict[str, object]]] = [
        ("completato il %(date)s", {"date": "1 dic 2026"}),
        ("completato il %(date)s", {"date": "<b>8 & 11</b>"}),
        ("scaduto il %(date)s", {"date": Markup("<i>11 gen</i>")}),
        (
            "%(done)d di %(total)d moduli completati (%(pct)s)",
            {"done": 3, "total": 8, "pct": "38\u00a0%"},
        ),
        ("%(year)d: %(hours)s ore", {"year": 2026, "hours": Decimal("1.5")}),
        ("Attestato (PDF)", {}),
    ]
    with request_in(app, lang):
        for message, values in cases:
            expected = render_template_string(
                "{{ _(message, **values) }}", message=message, values=values
            )
            assert markup_gettext(message, **values) == expected, (message, values)


@pytest.mark.parametrize(
    "slug",
    ["corso-1", "coesione-2021-2027", "Maiuscole", "con spazi", "perché", "a/b", "x?y=1&z"],
)
@pytest.mark.parametrize("root", ["", "/formazione"])
def test_each_link_is_url_fors_whatever_the_slug_and_the_mount(
    app: Flask, slug: str, root: str
) -> None:
    """The links built once a list (``_CourseLinks``) are ``url_for``'s, escaped.

    A plain slug (the content checker's form) goes in the link as it is; any other
    (none passes ``lms content check``, but a line must not trust it) is built by
    ``url_for``, quoted; under a mount point (``SCRIPT_NAME``) both keep its prefix.
    """
    from flask import url_for  # noqa: PLC0415
    from markupsafe import escape  # noqa: PLC0415

    from lms.courses.queries import CourseHeading  # noqa: PLC0415

    course = CourseHeading(7, slug, "Titolo", Decimal(2), "it", None, None)  # type: ignore[arg-type]
    entry = CatalogueEntry(course, 2, 1, None)
    with app.test_request_context("/", base_url=f"http://localhost{root}/"):
        drawn = str(started_lines([entry], frozenset()))
        expected = str(escape(url_for("courses.overview", course_slug=slug)))
    assert expected.startswith(f"{root}/courses/")
    assert f'<a href="{expected}">' in drawn
