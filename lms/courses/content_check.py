"""What a course page will show, checked as the renderer sees it: links, images, raw HTML.

The page is read once, by the renderer itself (:func:`lms.markdown_inspect.inspect_markdown`):
what it shows as code is never checked, and every link, image and raw HTML
element comes with the line it is written on. What the sanitiser would remove is
decided by its own allow-list (lms.markdown), asked element by element, and
reported rather than left a surprise.

- Relative links lead to a module of the course or a file in its ``media/``;
  other links use http, https or mailto.
- Every image says what it shows (WCAG 2.1, 1.1.1): screen readers read it out.
  A Markdown image needs words between its brackets; a raw ``<img>`` an ``alt``.
- Images come from the course's ``media/``: the site's security policy
  (``img-src 'self'``) blocks images from other sites.
- Raw HTML that the sanitiser removes (``<script>``, ``<style>``, frames, forms,
  ``<video>``, ``<svg>``, ``<u>``…, ``on…=``, ``style=``…) is an error here.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lms import markdown as renderer  # its allow-list, read when asked: the only one
from lms.courses.front_matter import Document
from lms.courses.layout import COURSE_FILE, MEDIA_DIR, MODULE_FILE, resolve_link
from lms.markdown import is_external_url, sanitiser_keeps_attribute, sanitiser_keeps_element
from lms.markdown_inspect import PageInspection, RawElement, inspect_markdown

__all__ = ["LinkTargets", "check_page", "link_problem", "shorten"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# What browsers ignore inside a URL's scheme (tabs, newlines, control characters).
_URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")
_EXTERNAL_IMAGE = (
    "image from another site: the site's security policy blocks it, so learners would"
    " see a broken image; put the file in the course's media/ folder"
)
_NO_DESCRIPTION = (
    "image without a description: write what it shows between the brackets,"
    " ![…](…), for people who cannot see it"
)
#: What to do instead of a removed element, for the ones trainers reach for.
#: (Only advice: whether an element is removed is the sanitiser's to say.)
_INSTEAD = {
    **dict.fromkeys(
        ("iframe", "frame", "frameset", "object", "embed", "applet"),
        "pages cannot embed other pages: link to it, [title](https://…)",
    ),
    **dict.fromkeys(
        ("form", "input", "button", "textarea", "select", "option", "label"),
        "pages cannot hold forms: questions go in a quiz module, type: quiz",
    ),
    **dict.fromkeys(
        ("video", "audio", "source", "track", "picture"),
        "link to the file instead, [the video](media/….mp4)",
    ),
    **dict.fromkeys(
        ("svg", "math", "canvas"),
        "save the drawing in media/ and show it as an image, ![what it shows](media/….svg)",
    ),
    **dict.fromkeys(
        ("u", "font", "center", "big", "tt", "strike", "s"),
        "for emphasis write *…* or **…**",
    ),
    **dict.fromkeys(("link", "meta", "base"), "pages cannot load styles or change their address"),
}


@dataclass(frozen=True)
class LinkTargets:
    """What relative links in one course may point at."""

    pages: frozenset[str]
    media: frozenset[str]
    media_dirs: frozenset[str]
    escaping: frozenset[str]


def shorten(target: str, limit: int = 60) -> str:
    """*target* cut to *limit* characters for a message."""
    return target if len(target) <= limit else target[: limit - 1] + "…"


def link_problem(target: str, allowed: LinkTargets) -> str | None:
    """Why *target* (as written in the Markdown) is not a valid link, or None."""
    shown = shorten(target.strip())
    target = html.unescape(target.strip())
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1].strip()
    if not target:
        return "empty link target"
    squeezed = _URL_NOISE.sub("", target)
    scheme = _SCHEME.match(squeezed)
    if scheme:
        name = scheme.group(0)[:-1].lower()
        if name in renderer.ALLOWED_PROTOCOLS:
            return None
        only = ", ".join(sorted(renderer.ALLOWED_PROTOCOLS))
        return f"link '{shown}': '{name}:' links are not allowed (only {only})"
    if squeezed.startswith("#"):
        return None
    if squeezed.startswith(("//", "\\\\")):
        return f"link '{shown}': write the full address, https://…"
    # No netloc to parse here (no scheme, no //), so urlsplit cannot raise.
    return _path_problem(unquote(urlsplit(target).path), shown, allowed)


def _path_problem(path: str, shown: str, allowed: LinkTargets) -> str | None:  # noqa: PLR0911 - one per case
    """Why a relative link's (decoded) *path* does not lead to a module or media file."""
    if "\\" in path:
        return f"link '{shown}': use '/' in paths, not '\\'"
    path = posixpath.normpath(path)
    if path.startswith(("/", "../")) or path == "..":
        return f"link '{shown}' leaves the course's media/ folder"
    if path == COURSE_FILE or MODULE_FILE.fullmatch(path):
        return None if path in allowed.pages else f"link '{shown}': no such module in this course"
    if path.endswith(".md") and "/" not in path:
        return f"link '{shown}': not a module of this course (module files are named NN-slug.md)"
    if path == MEDIA_DIR:
        return f"link '{shown}' is a folder, not a file"
    if not path.startswith(f"{MEDIA_DIR}/"):
        return f"link '{shown}' leaves the course's media/ folder"
    inside = path.removeprefix(f"{MEDIA_DIR}/")
    if inside in allowed.media:
        return None
    if inside in allowed.escaping:
        return f"link '{shown}' leaves the course's media/ folder (symbolic link)"
    if inside in allowed.media_dirs:
        return f"link '{shown}' is a folder, not a file"
    return f"link '{shown}': no such file in media/"


def check_page(document: Document, allowed: LinkTargets) -> None:
    """Report, on its line, every problem of what *document*'s page will show."""
    page = inspect_markdown(document.body)
    for line, problem in (*_link_problems(page, allowed), *_image_problems(page), *_removed(page)):
        document.error(document.body_line + line - 1, problem)


def _link_problems(page: PageInspection, allowed: LinkTargets) -> Iterator[tuple[int, str]]:
    """Each link target on the line it is written on: a reference's on its definition."""
    targets: list[tuple[int, str, str | None]]
    targets = [(reference.line, reference.url, None) for reference in page.references]
    targets += [
        (link.line, link.url, None) for link in page.links if not (link.raw or link.via_reference)
    ]
    targets += [(link.line, link.url, link.tag) for link in page.links if link.raw]
    for line, target, raw_tag in targets:
        problem = link_problem(target, allowed)
        if problem:
            yield line, problem
        elif raw_tag is not None and resolve_link("x", html.unescape(target)) is not None:
            markdown = "![…]" if raw_tag == "img" else "[…]"
            yield (
                line,
                (
                    f"relative link '{shorten(target)}' in raw HTML <{raw_tag}> is not rewritten:"
                    f" write it in Markdown, {markdown}({target})"
                ),
            )


def _image_problems(page: PageInspection) -> Iterator[tuple[int, str]]:
    for image in page.links:
        if image.tag == "img" and not image.raw:
            if not (image.alt or "").strip():
                yield image.line, _NO_DESCRIPTION
            if is_external_url(image.url):
                yield image.line, _EXTERNAL_IMAGE
    for element in page.elements:
        if element.tag == "img":
            attributes = dict(element.attributes)
            if attributes.get("alt") is None:
                yield element.line, '<img> without alt: add alt="what it shows"'
            if is_external_url(attributes.get("src") or ""):
                yield element.line, _EXTERNAL_IMAGE


def _removed(page: PageInspection) -> Iterator[tuple[int, str]]:
    """What the sanitiser removes: elements (each once, not what is inside), then attributes."""
    for element in page.elements:
        removed = not sanitiser_keeps_element(element.tag)
        if removed and all(sanitiser_keeps_element(outer) for outer in element.inside):
            yield element.line, _removed_element(element.tag)
    for element in page.elements:
        if sanitiser_keeps_element(element.tag):
            for name, value in element.attributes:
                read = None if value is None else html.unescape(value)
                if not sanitiser_keeps_attribute(element.tag, name, read):
                    yield element.line, _removed_attribute(element, name, value)


def _removed_element(tag: str) -> str:
    removed = f"raw HTML <{tag}> is removed when the page is shown"
    if tag in renderer.REMOVED_WITH_CONTENT:
        return f"{removed}: take it out (pages cannot run scripts, set styles or embed other pages)"
    instead = _INSTEAD.get(tag)
    return f"{removed}, only the text inside it stays: take it out" + (
        f" ({instead})" if instead else ""
    )


def _removed_attribute(element: RawElement, name: str, value: str | None) -> str:
    if name.startswith("on"):
        return (
            f"raw HTML attribute {name}= is removed when the page is shown: take it out"
            " (pages cannot run scripts)"
        )
    if name == "style":
        return (
            "raw HTML attribute style= is removed when the page is shown: take it out"
            " (pages cannot set styles)"
        )
    where = f"on <{element.tag}> is removed when the page is shown"
    if name not in renderer.ALLOWED_ATTRIBUTES.get(element.tag, {}):
        return f"raw HTML attribute {name}= {where}: take it out"
    why = (
        f"only these classes are kept: {', '.join(sorted(renderer.ALLOWED_CLASSES))}"
        if name == "class"
        else "the page does not accept that value"
    )
    return f'raw HTML attribute {name}="{shorten(value or "")}" {where}: {why}'
