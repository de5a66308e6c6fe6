"""Course text fitted into a page in Python (page_parts.fit_course_html) against the old macro.

``REFERENCE`` is the macro ``course_html`` of courses/_content.html before it
moved to Python (issue #19), kept here as the reference: for texts with and
without a leading title, headings at every level, none, one or several
tables, titles with entities and tags, in both languages, the Python version
must write the same characters.
"""

from __future__ import annotations

import pytest
from conftest import request_in
from flask import Flask, render_template_string

from lms.core.page_parts import fit_course_html

REFERENCE = """{% macro course_html(html, title=none, base=2) -%}
{%- set ns = namespace(html=(html or '')|string, top=7) -%}
{%- set trimmed = ns.html.lstrip() -%}
{%- if title is not none and trimmed.startswith('<h1') and '</h1>' in trimmed -%}
  {%- set end = trimmed.find('</h1>') + 5 -%}
  {%- if (trimmed[:end]|striptags) == (title|striptags) -%}
    {%- set ns.html = trimmed[end:] -%}
  {%- endif -%}
{%- endif -%}
{%- for level in range(1, 7) -%}
  {%- if ns.top == 7 and ('<h' ~ level) in ns.html %}{% set ns.top = level %}{% endif -%}
{%- endfor -%}
{%- set shift = base - ns.top if ns.top < base else 0 -%}
{%- if shift > 0 -%}
  {%- for level in range(6, 0, -1) -%}
    {%- set moved = [level + shift, 6]|min -%}
    {%- if moved != level -%}
      {%- set ns.html = ns.html.replace('<h' ~ level, '<h' ~ moved).replace('</h' ~ level ~ '>', '</h' ~ moved ~ '>') -%}
    {%- endif -%}
  {%- endfor -%}
{%- endif -%}
{#- Tables scroll sideways in a box of their own on small screens; the box can
    take the keyboard focus, so that it can be scrolled without a mouse. Each box
    is a landmark: with several tables, each gets a name of its own. -#}
{%- if '<table>' in ns.html -%}
  {%- set parts = ns.html.split('<table>') -%}
  {%- set ns.html = parts[0] -%}
  {%- for part in parts[1:] -%}
    {%- set label = _('Tabella scorrevole') if loop.length == 1 else _('Tabella scorrevole %(n)d di %(total)d', n=loop.index, total=loop.length) -%}
    {#- format(), not ~ with the label: joining with a translated (safe) string would escape the tags. -#}
    {%- set ns.html = ns.html ~ '<div class="lms-table-scroll" role="region" tabindex="0" aria-label="{}"><table>'.format(label|forceescape) ~ part -%}
  {%- endfor -%}
  {%- set ns.html = ns.html.replace('</table>', '</table></div>') -%}
{%- endif -%}
{{ ns.html|safe }}
{%- endmacro %}

{{- course_html(html, title=title, base=base) -}}
"""  # noqa: E501 - the macro's own lines

TABLE = "<table><tr><td>1</td></tr></table>"
TEXTS = [
    "",
    "<p>Solo testo.</p>",
    "<h1>Fondi &amp; coesione</h1>\n<p>Testo.</p><h2>Parte</h2><h3>Sotto</h3>",
    "  \n<h1>Un altro titolo</h1><h2>Parte</h2>",
    "<h1>Titolo <em>in corsivo</em></h1><p>x</p>",
    "<h3>Solo h3</h3><h4>e h4</h4><h6>e h6</h6>",
    "<h2>Da h2</h2><h5>h5</h5><h6>h6</h6>",
    "<p>Una tabella:</p>" + TABLE,
    "<h1>Tabelle</h1>" + TABLE + "<p>e</p>" + TABLE + TABLE,
    "<p>l'1 e l'8</p><h1>Non in testa</h1>",
]
TITLES = [None, "Fondi & coesione", "Fondi &amp; coesione", "Un altro titolo", "Titolo in corsivo",
          "Tabelle", "x"]  # fmt: skip


@pytest.mark.parametrize("lang", ["it", "en"])
def test_fitted_text_is_the_macros_in_every_case(app: Flask, lang: str) -> None:
    with request_in(app, lang):
        for text in TEXTS:
            for title in TITLES:
                for base in (1, 2, 3, 5):
                    expected = render_template_string(REFERENCE, html=text, title=title, base=base)
                    drawn = fit_course_html(text, title=title, base=base)
                    assert str(drawn) == expected, (text, title, base)


def test_the_pages_use_it(app: Flask) -> None:
    assert app.jinja_env.globals["course_html"] is fit_course_html
    with app.test_request_context("/"):
        page = render_template_string(
            '{% from "courses/_content.html" import course_html %}'
            "{{ course_html(html, title='T', base=2) }}",
            html="<h1>T</h1><h1>Parte</h1>" + TABLE,
        )
    assert page.startswith('<h2>Parte</h2><div class="lms-table-scroll"')
