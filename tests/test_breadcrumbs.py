"""Breadcrumbs drawn in Python (page_parts.breadcrumbs) against the old macro, to the character."""

from __future__ import annotations

import pytest
from conftest import request_in
from flask import Flask, render_template_string
from markupsafe import Markup

from lms.core.page_parts import breadcrumbs

REFERENCE = """{% macro breadcrumbs(trail, current) -%}
<nav class="breadcrumb-container" aria-label="{{ _('Percorso') }}">
  <ol class="breadcrumb">
    {%- for url, text in trail %}
    <li class="breadcrumb-item"><a href="{{ url }}">{{ text }}</a><span class="separator">/</span></li>
    {%- endfor %}
    <li class="breadcrumb-item active" aria-current="page">{{ current }}</li>
  </ol>
</nav>
{%- endmacro %}

{{- breadcrumbs(trail, current) -}}"""  # noqa: E501 - the macro's own lines

TRAILS = [
    [],
    [("/courses/", "Corsi")],
    [
        ("/courses/", Markup("<em>Corsi</em>")),
        ("/courses/a?b=1&c=2", "<script>x</script> l'Europa"),
    ],
]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_breadcrumbs_are_the_macros(app: Flask, lang: str) -> None:
    with request_in(app, lang):
        for trail in TRAILS:
            for current in ("Modulo", '"Fondi" & <b>coesione</b>', Markup("<i>ok</i>")):
                expected = render_template_string(REFERENCE, trail=trail, current=current)
                assert str(breadcrumbs(trail, current)) == expected, (trail, current)
                imported = render_template_string(
                    '{% from "macros.html" import breadcrumbs %}{{ breadcrumbs(trail, current) }}',
                    trail=trail,
                    current=current,
                )
                assert imported == expected
