"""Small pieces of markup drawn in Python: an icon, a progress bar.

They were Jinja macros (macros.html, courses/_progress.html) and still go by their
names there (``{% set icon = svg_icon %}``): a page draws dozens of them, in loops,
and a macro call costs a new Jinja context and a rendering each time, an icon
a ``url_for`` besides. The markup is the macros' own, character for character;
every value goes in escaped, as Jinja's autoescape put it.
"""

from __future__ import annotations

from typing import Any, Final

from flask import current_app, has_request_context, request, url_for
from jinja2.filters import do_int
from markupsafe import Markup, escape

SPRITE: Final = "vendor/bootstrap-italia/svg/sprites.svg"

# Plain strings, each value escaped (markupsafe's C escape) as it goes in, and the
# result wrapped once: ``Markup % values`` wraps each value in a helper object and
# makes a Markup of every piece, three times the work for the same text.
_ICON: Final = '<svg class="%s" aria-hidden="true" focusable="false"><use href="%s#%s"></use></svg>'
_PROGRESS_BAR: Final = (
    '<div class="lms-progress">\n'
    '  <div class="progress" aria-hidden="true">\n'
    '    <div class="progress-bar lms-pct-%d"></div>\n'
    "  </div>\n"
    '  <span class="lms-progress-text">%s</span>\n'
    "</div>"
)


def sprite_url() -> str:
    """The URL of Bootstrap Italia's icon sprite, found once for each prefix the app has."""
    if not has_request_context():
        return url_for("static", filename=SPRITE)
    kept: dict[str, str] = current_app.extensions.setdefault("lms_sprite_url", {})
    root = request.script_root
    found = kept.get(root)
    if found is None:
        found = kept[root] = url_for("static", filename=SPRITE)
    return found


def svg_icon(name: str, classes: str = "icon") -> Markup:
    """An icon from the Bootstrap Italia sprite; decorative, so hidden from assistive technology."""
    # Safe: every value escaped as it goes into our own constant markup.
    return Markup(_ICON % (escape(classes), escape(sprite_url()), escape(name)))  # noqa: S704


def progress_bar(pct: Any, label: Any) -> Markup:
    """A progress bar (pct 0-100, as Jinja's ``int`` filter reads it) with its label in text."""
    # Safe: the label escaped as it goes into our own constant markup.
    return Markup(_PROGRESS_BAR % (min(max(do_int(pct), 0), 100), escape(label)))  # noqa: S704
