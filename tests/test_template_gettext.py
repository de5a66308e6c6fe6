"""The templates' ``_()`` (lms/core/italian.py): translated, escaped, elided, no context copied.

Jinja copies a template's whole context (every global, every block) for each call
of a *context* function made inside a block or loop that set a variable; the
home page made a few dozen such copies, one for each ``_()``. The gettext
callables need only whether the template escapes, so they take the evaluation
context, and ``_`` is ``gettext`` itself rather than jinja2.ext's alias (a
context function).
"""

from __future__ import annotations

from unittest import mock

import flask_babel
import pytest
from conftest import request_in
from flask import Flask, render_template_string
from jinja2.runtime import Context

from lms.core import italian

LOOPED = """
{%- set ns = namespace(seen=0) -%}
{%- for day in days -%}
{%- set ns.seen = ns.seen + 1 -%}
{%- set shown = day -%}
{{ _("completato il %(date)s", date=shown) }}|
{{- ngettext("%(num)d modulo", "%(num)d moduli", ns.seen) }}|
{{- pgettext("corso", "Scadenza") }}|
{%- endfor -%}
"""


def test_underscore_is_the_eliding_gettext_itself(app: Flask) -> None:
    assert app.jinja_env.globals["_"] is app.jinja_env.globals["gettext"]
    assert app.jinja_env.globals["gettext"] is italian._TEMPLATE_CALLABLES["gettext"]


@pytest.mark.parametrize(("lang", "first"), [("it", "completato l'1 dic"), ("en", "1 dic")])
def test_messages_in_a_loop_that_sets_variables_copy_no_context(
    app: Flask, lang: str, first: str
) -> None:
    derived = mock.patch.object(Context, "derived", autospec=True, side_effect=Context.derived)
    with request_in(app, lang), derived as copies:
        html = render_template_string(LOOPED, days=["1 dic", "<b>8</b> & 11"])
    assert copies.call_count == 0
    assert first in html
    # Values are escaped as they go in (the template escapes); the elision is Italian.
    assert "&lt;b&gt;8&lt;/b&gt; &amp; 11" in html
    assert "<b>" not in html
    assert ("completato l'8" in html) is False  # the value is not the sentence: no elision in it
    with request_in(app, lang):
        assert f"|{flask_babel.ngettext('%(num)d modulo', '%(num)d moduli', 2)}|" in html


def test_without_autoescape_the_message_is_plain_text(app: Flask) -> None:
    with request_in(app, "it"):
        template = app.jinja_env.from_string(
            "{% autoescape false %}{{ _('completato il %(date)s', date='<8>') }}{% endautoescape %}"
        )
        text = template.render()
    assert text == "completato il <8>"
    with request_in(app, "it"):
        escaped = render_template_string("{{ _('completato il %(date)s', date='1 gen') }}")
    assert escaped == "completato l'1 gen"
