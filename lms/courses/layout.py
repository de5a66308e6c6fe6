"""Where things are in a course folder, and the site URL each of them gets.

A course is a folder holding ``course.md``, modules named ``NN-slug.md`` and a
``media/`` folder. Relative links between them become site URLs
(:func:`resolve_link`): the renderer rewrites them, the checker accepts only
those that lead somewhere inside the course.
"""

from __future__ import annotations

import html
import posixpath
import re
from urllib.parse import urlsplit

__all__ = ["COURSE_FILE", "MEDIA_DIR", "MODULE_FILE", "URL_PREFIX", "resolve_link"]

COURSE_FILE = "course.md"
MEDIA_DIR = "media"
URL_PREFIX = "/courses"
#: A module's file name: its number (the order), then its slug.
MODULE_FILE = re.compile(r"([0-9]+)-([a-z0-9]+(?:-[a-z0-9]+)*)\.md")


def resolve_link(course_slug: str, target: str, *, prefix: str = URL_PREFIX) -> str | None:
    """The site URL of a relative link in a course, or None to leave the link alone.

    ``02-fondi.md#x`` becomes ``/courses/<course>/fondi/#x``, ``course.md`` the
    course page, ``media/a.png`` ``/courses/<course>/media/a.png``.
    """
    # The href as written may hold character references (&#106;…); the browser
    # decodes them before following the link, and so does the checker.
    try:
        parts = urlsplit(html.unescape(target.strip()))
    except ValueError:
        return None
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    path = posixpath.normpath(parts.path)
    suffix = (f"?{parts.query}" if parts.query else "") + (
        f"#{parts.fragment}" if parts.fragment else ""
    )
    base = f"{prefix}/{course_slug}/"
    if path == COURSE_FILE:
        return base + suffix
    module = MODULE_FILE.fullmatch(path)
    if module:
        return f"{base}{module.group(2)}/{suffix}"
    if path.startswith(f"{MEDIA_DIR}/"):
        return base + path + suffix
    return None
