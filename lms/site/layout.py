"""The layout around every page, rendered once for each role, language and menu state, and kept.

The header, menu and footer (``_page_layout.html``) are the same for everyone who
has the same role and language on pages of the same menu section, yet base.html
drew them anew for each page: a third of the home page's rendering. Here they are
rendered once for each :class:`LayoutKey` and kept in a bounded in-process cache;
each page then fills the slots that are its reader's or its own (the CSRF token,
the path the language switch returns to, the person's name: never kept) and
base.html the holes (the title, the content with its flash messages, the scripts).

What the layout shows depends on the key alone: the template is rendered with the
key's values and the slots' markers, and nothing of the person or the request.
So a change of role shows the new menu at once (another key), and nothing else
can change it while the app runs: the menu is a fixed table over the roles
(lms/site/navigation.py) and the translations are read at start-up. With
templates reloaded as they change (development), a changed template is rendered
again.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any, Final, NamedTuple

from flask import current_app, request
from flask_wtf.csrf import generate_csrf
from jinja2 import Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from lms.core.italian import bound
from lms.site.navigation import navigation

TEMPLATE: Final = "_page_layout.html"
#: Pages whose own link in the layout says it is the current page (aria-current).
MARKED_PAGES: Final = frozenset({"auth.login", "core.accessibility", "certificates.lookup"})
#: Layouts kept: roles (4 and strangers) x languages x menu states, a few hundred at most.
MAX_KEPT: Final = 512
#: The markers of a slot or hole in the rendered layout: characters of Unicode's
#: private use area, which no translation, URL or label of the layout contains.
_MARK: Final = re.compile("\ue000([a-z_]+)\ue001")
#: The holes, in the order they come in the layout, which they cut into parts.
HOLES: Final = ("title", "main", "scripts")
SLOTS: Final = ("csrf", "next", "name")


def _marker(name: str) -> Markup:
    return Markup(f"\ue000{name}\ue001")  # noqa: S704 - a constant of ours, no input in it


class LayoutKey(NamedTuple):
    """What the layout shows: everything it is rendered from."""

    #: The locale the layout is translated in (``it``, ``en_GB``).
    locale: str
    #: The signed-in person's role (``None``: a stranger, who sees no menu).
    role: str | None
    #: The menu entries marked on this page: (endpoint, aria-current value).
    marked: tuple[tuple[str, str], ...]
    #: The page's endpoint when its own link in the layout is marked, else ``None``.
    page: str | None
    #: Where the app is mounted: the links' prefix.
    script_root: str


class Layout(NamedTuple):
    """A page's layout with its slots filled: base.html puts the holes between these."""

    head: Markup  # up to the <title>'s text
    header: Markup  # from after the title to the start of the content
    footer: Markup  # from after the content to the page's scripts
    end: Markup  # after the scripts


#: A part of the layout: its text between slots, and the slots' names between them.
_Part = tuple[tuple[str, ...], tuple[str, ...]]


class _Kept(NamedTuple):
    template: Template
    parts: tuple[_Part, ...]


class LayoutCache:
    """The layouts rendered so far, the least recently used dropped past *size*."""

    def __init__(self, size: int = MAX_KEPT) -> None:
        self.size = size
        self._kept: OrderedDict[LayoutKey, _Kept] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers serve pages from several threads

    def get(self, key: LayoutKey, template: Template) -> tuple[_Part, ...] | None:
        """The parts kept for *key*, if rendered from this *template*."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept.template is not template:
                return None
            self._kept.move_to_end(key)
            return kept.parts

    def put(self, key: LayoutKey, template: Template, parts: tuple[_Part, ...]) -> None:
        """Keep *parts* for *key*."""
        with self._lock:
            self._kept[key] = _Kept(template, parts)
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        """Forget every layout (they are rendered again as pages ask for them)."""
        with self._lock:
            self._kept.clear()


def layout_cache() -> LayoutCache:
    """The current app's layouts."""
    cache: LayoutCache = current_app.extensions["lms_layout"]
    return cache


def _split(html: str) -> tuple[_Part, ...]:
    """The rendered layout cut at its holes, each part's text cut at its slots."""
    pieces = _MARK.split(html)  # text, name, text, name, ..., text
    parts: list[_Part] = []
    texts: list[str] = [pieces[0]]
    slots: list[str] = []
    for name, text in zip(pieces[1::2], pieces[2::2], strict=True):
        if name in HOLES:
            parts.append((tuple(texts), tuple(slots)))
            texts, slots = [text], []
        else:
            slots.append(name)
            texts.append(text)
    parts.append((tuple(texts), tuple(slots)))
    if len(parts) != len(HOLES) + 1:
        raise LookupError(f"{TEMPLATE} must have each of the holes {HOLES} once")
    return tuple(parts)


def _fill(part: _Part, values: dict[str, str]) -> Markup:
    texts, slots = part
    if not slots:
        return Markup(texts[0])  # noqa: S704 - rendered by Jinja, autoescaped
    out = [texts[0]]
    for slot, text in zip(slots, texts[1:], strict=True):
        out.append(values[slot])
        out.append(text)
    return Markup("".join(out))  # noqa: S704 - Jinja's output and escaped values


def _render(key: LayoutKey, template: Template, nav_items: list[dict[str, object]]) -> str:
    return template.render(
        page_lang=key.locale.split("_", 1)[0],
        signed_in=key.role is not None,
        role=key.role,
        nav_items=nav_items,
        endpoint=key.page,
        slot={name: _marker(name) for name in SLOTS},
        hole={name: _marker(name) for name in HOLES},
    )


@pass_context
def page_layout(context: Context) -> Layout:
    """This page's layout (base.html): kept for its key, its slots filled for this request."""
    user = context.get("current_user")  # Flask-Login's context processor: the user itself
    signed_in = bool(getattr(user, "is_authenticated", False))
    # Once, not through the proxy (Flask types the proxy as the request itself).
    page_request = request._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001
    nav_items = navigation() if signed_in else []
    marked = tuple(
        (str(item["endpoint"]), str(item["current"])) for item in nav_items if item["active"]
    )
    endpoint = page_request.endpoint
    key = LayoutKey(
        locale=bound().code,
        role=str(user.role.value) if signed_in and user is not None else None,
        marked=marked,
        page=endpoint if endpoint in MARKED_PAGES else None,
        script_root=page_request.script_root,
    )
    env = current_app.jinja_env
    template = env.get_template(TEMPLATE)
    cache = layout_cache()
    parts = cache.get(key, template)
    if parts is None:
        parts = _split(_render(key, template, nav_items))
        cache.put(key, template, parts)
    values = {
        "csrf": str(escape(generate_csrf())),
        "next": str(escape(page_request.full_path)),
        "name": str(escape(user.full_name)) if signed_in and user is not None else "",
    }
    head, header, footer, end = (_fill(part, values) for part in parts)
    return Layout(head, header, footer, end)


def init_app(app: Any) -> None:
    """Give *app* its layout cache and base.html its ``page_layout``."""
    app.extensions["lms_layout"] = LayoutCache()
    app.jinja_env.globals["page_layout"] = page_layout
