"""Small pieces of markup drawn in Python: an icon, a progress bar, breadcrumbs, course text.

They were Jinja macros (macros.html, courses/_progress.html, courses/_content.html)
and are the app's Jinja globals under the macros' names (``icon``, ``progress_bar``,
``breadcrumbs``, ``course_html``), which those files still export: a page draws
dozens of them, in loops, and a macro call costs a new Jinja context and a
rendering each time (an import of the macro file more still). The markup is the
macros' own, character for character; every value goes in escaped, as Jinja's
autoescape put it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from flask import current_app, has_request_context, request, url_for
from jinja2.filters import do_int
from markupsafe import Markup, escape

from lms.core.italian import bound, markup_gettext

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


def fit_course_html(html: Any, title: Any = None, base: int = 2) -> Markup:
    """Course text rendered from Markdown (already sanitised), fitted into a page.

    - *html*: the rendered HTML (``module.body_html``, ``course.overview_html``).
    - *title*: the page's own title for this text. A leading ``<h1>`` that says
      the same thing is dropped, since the page already shows it as its title.
    - *base*: the heading level the text's top headings should have on this page
      (2 on a module page, under its h1; 3 under a section's h2). Headings are
      moved down, never up, so that their order stays h1, h2, h3…
    - Tables are put in a box that scrolls sideways on small screens; the box can
      take the keyboard focus, so that it can be scrolled without a mouse, and is
      a landmark: with several tables each gets a name of its own.

    It was the macro ``course_html`` (courses/_content.html), which still calls
    it by that name: a module page ran its loops in Jinja over the whole text on
    every view. The result depends only on the text, the title, the level and
    the language (the tables' names), so it is kept for the texts read most.
    """
    return _fitted(str(html or ""), None if title is None else str(title), base, bound().code)


@lru_cache(maxsize=256)
def _fitted(text: str, title: str | None, base: int, _locale: str) -> Markup:
    # The locale is in the key for the tables' names, which the request translates.
    trimmed = text.lstrip()
    if title is not None and trimmed.startswith("<h1") and "</h1>" in trimmed:
        end = trimmed.find("</h1>") + 5
        # As Jinja's striptags filter: the text of the markup, entities decoded.
        if Markup(trimmed[:end]).striptags() == Markup(title).striptags():  # noqa: S704
            text = trimmed[end:]
    top = next((level for level in range(1, 7) if f"<h{level}" in text), 7)
    shift = base - top if top < base else 0
    if shift > 0:
        for level in range(6, 0, -1):
            moved = min(level + shift, 6)
            if moved != level:
                text = text.replace(f"<h{level}", f"<h{moved}").replace(
                    f"</h{level}>", f"</h{moved}>"
                )
    if "<table>" in text:
        parts = text.split("<table>")
        text = parts[0]
        total = len(parts) - 1
        for number, part in enumerate(parts[1:], start=1):
            label = (
                markup_gettext("Tabella scorrevole")
                if total == 1
                else markup_gettext("Tabella scorrevole %(n)d di %(total)d", n=number, total=total)
            )
            # Escaped again, as the macro's forceescape did (an apostrophe of the name).
            text += (
                '<div class="lms-table-scroll" role="region" tabindex="0" '
                f'aria-label="{escape(str(label))}"><table>{part}'
            )
        text = text.replace("</table>", "</table></div>")
    # Safe: the text was sanitised when it was rendered from Markdown (lms.markdown).
    return Markup(text)  # noqa: S704


_CRUMB: Final = (
    '\n    <li class="breadcrumb-item"><a href="%s">%s</a><span class="separator">/</span></li>'
)
_CRUMBS: Final = (
    '<nav class="breadcrumb-container" aria-label="%s">\n'
    '  <ol class="breadcrumb">%s\n'
    '    <li class="breadcrumb-item active" aria-current="page">%s</li>\n'
    "  </ol>\n"
    "</nav>"
)


def breadcrumbs(trail: Any, current: Any) -> Markup:
    """Where the page stands: *trail*, (url, text) pairs leading to it, then *current*.

    The last item, the page's own name, is marked ``aria-current``. It was the
    macro of macros.html, which still exports it by that name; most pages draw
    one, and the import a macro needs cost more than the macro.
    """
    crumbs = "".join(_CRUMB % (escape(url), escape(text)) for url, text in trail)
    label = escape(markup_gettext("Percorso"))
    # Safe: every value escaped as it goes into our own constant markup.
    return Markup(_CRUMBS % (label, crumbs, escape(current)))  # noqa: S704
