"""The one place where Markdown becomes HTML, and HTML becomes safe to show.

Python-Markdown renders the trainer's text; bleach then keeps only an explicit
allow-list of tags, attributes, classes and URL schemes. Raw HTML written by a
trainer passes through the same allow-list, so nothing it contains can run in a
learner's browser. No Flask here: the content checker and the sync use it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from xml.etree.ElementTree import Element

import bleach
import markdown
from bleach.html5lib_shim import Filter
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_CLASSES",
    "ALLOWED_PROTOCOLS",
    "ALLOWED_TAGS",
    "REMOVED_WITH_CONTENT",
    "LinkResolver",
    "convert_markdown",
    "fenced_code_lines",
    "is_relative_url",
    "render_markdown",
    "sanitiser_keeps_attribute",
    "sanitiser_keeps_element",
]

#: Maps a relative link target to the URL to use instead, or None to leave it.
LinkResolver = Callable[[str], str | None]

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "a", "img", "ul", "ol", "li", "dl", "dt", "dd",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
        "blockquote", "pre", "code", "kbd", "em", "strong", "b", "i", "del", "ins",
        "mark", "small", "sup", "sub", "abbr", "q", "cite",
        "div", "span", "figure", "figcaption", "details", "summary",
    }
)  # fmt: skip
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

#: Admonition types a trainer may use (`!!! note`); others render as a plain admonition.
ADMONITION_TYPES = frozenset({"note", "tip", "important", "warning", "caution", "danger"})
#: Classes that the Markdown extensions produce and the templates style.
ALLOWED_CLASSES = frozenset(
    {"admonition", "admonition-title", "footnote", "footnote-ref", "footnote-backref", "toc"}
    | {"toctitle"}
    | ADMONITION_TYPES
)

_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_:.-]*")
_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_DIGITS = re.compile(r"[0-9]{1,4}")
_CODE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Not urlsplit: it raises ValueError on some hostile input (http://[x]/).
_EXTERNAL = re.compile(r"[\x00-\x20]*(?:https?:|//)", re.IGNORECASE)


def _any(_value: str) -> bool:
    return True


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


def _one_of(*values: str) -> Callable[[str], bool]:
    return lambda value: value.lower() in values


def _known_classes(value: str) -> bool:
    names = value.split()
    return bool(names) and all(name in ALLOWED_CLASSES for name in names)


_id = _matches(_ID)
_lang = _matches(_LANG)
_digits = _matches(_DIGITS)

#: Attribute allow-list: tag -> attribute -> test of its value. URL attributes
#: (href, src) are also checked by bleach against ALLOWED_PROTOCOLS.
ALLOWED_ATTRIBUTES: dict[str, dict[str, Callable[[str], bool]]] = {
    **{f"h{level}": {"id": _id} for level in range(1, 7)},
    "a": {"href": _any, "title": _any, "class": _known_classes},
    "img": {"src": _any, "alt": _any, "title": _any, "width": _digits, "height": _digits},
    "abbr": {"title": _any},
    "li": {"id": _id},
    "sup": {"id": _id},
    "ol": {"start": _digits},
    "th": {
        "scope": _one_of("row", "col", "rowgroup", "colgroup"),
        "colspan": _digits,
        "rowspan": _digits,
        "align": _one_of("left", "center", "right"),
    },
    "td": {
        "colspan": _digits,
        "rowspan": _digits,
        "align": _one_of("left", "center", "right"),
    },
    "code": {"class": _matches(_CODE_CLASS)},
    "div": {"class": _known_classes, "lang": _lang},
    "p": {"class": _known_classes, "lang": _lang},
    "span": {"class": _known_classes, "lang": _lang},
    "blockquote": {"lang": _lang},
    "q": {"lang": _lang},
}


#: Elements removed with what they hold: bleach strips a tag it does not allow
#: but keeps what is inside, which would show a script's source as words.
REMOVED_WITH_CONTENT = frozenset({"script", "style"})


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    test = ALLOWED_ATTRIBUTES.get(tag, {}).get(name)
    return test is not None and test(value)


def sanitiser_keeps_element(tag: str) -> bool:
    """Whether the sanitiser keeps a (raw HTML) element; if not, only its text stays.

    Elements of REMOVED_WITH_CONTENT lose their text too. The allow-list is read
    when asked, so the checker and the renderer always judge by the same one.
    """
    return tag.lower() in ALLOWED_TAGS


def sanitiser_keeps_attribute(tag: str, name: str, value: str | None) -> bool:
    """Whether the sanitiser keeps an attribute (value as the browser reads it).

    For href and src the allow-list accepts any value; bleach then removes those
    whose scheme is not in ALLOWED_PROTOCOLS, which the link checks report.
    """
    return _allowed_attribute(tag.lower(), name.lower(), value or "")


def is_relative_url(url: str) -> bool:
    """True for a link target relative to the current document (not ``#x``, ``/x`` or ``x:``)."""
    url = url.strip()
    return bool(url) and not url.startswith(("#", "/", "\\")) and not _SCHEME.match(url)


def is_external_url(url: str) -> bool:
    """True for an address on another site: ``http(s):`` or protocol-relative ``//``."""
    return _EXTERNAL.match(url) is not None


class _LinkTreeprocessor(Treeprocessor):
    """Rewrites relative href/src through the resolver and drops unknown classes."""

    def __init__(self, md: markdown.Markdown, resolver: LinkResolver | None) -> None:
        super().__init__(md)
        self.resolver = resolver

    def run(self, root: Element) -> None:
        for element in root.iter():
            self._rewrite(element, "href" if element.tag == "a" else "src")
            classes = element.get("class")
            if classes is not None:
                kept = [name for name in classes.split() if name in ALLOWED_CLASSES]
                if kept:
                    element.set("class", " ".join(kept))
                else:
                    del element.attrib["class"]

    def _rewrite(self, element: Element, attribute: str) -> None:
        if self.resolver is None or element.tag not in {"a", "img"}:
            return
        url = element.get(attribute)
        if url is not None and is_relative_url(url):
            resolved = self.resolver(url)
            if resolved is not None:
                element.set(attribute, resolved)


class _LinkExtension(Extension):
    def __init__(self, resolver: LinkResolver | None) -> None:
        super().__init__()
        self.resolver = resolver

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        # Priority 1: after the inline patterns (20), footnotes and the table of contents.
        md.treeprocessors.register(_LinkTreeprocessor(md, self.resolver), "lms_links", 1)


class _ExternalLinkFilter(Filter):
    """Adds rel="noopener noreferrer" to links that leave the site."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] in {"StartTag", "EmptyTag"} and token["name"] == "a":
                href = token["data"].get((None, "href"))
                if href is not None and is_external_url(href):
                    token["data"][(None, "rel")] = "noopener noreferrer"
            yield token


def _markdown(resolver: LinkResolver | None, extra: Sequence[Extension] = ()) -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            "footnotes",
            "admonition",
            "toc",
            "sane_lists",
            _LinkExtension(resolver),
            *extra,
        ],
        extension_configs={
            # align="…" instead of style="text-align: …": no style attributes at all.
            "tables": {"use_align_attribute": True},
            "footnotes": {"BACKLINK_TITLE": "Torna al testo (nota %d)"},
        },
        output_format="html",
    )


def _code_elements() -> re.Pattern[str]:
    """REMOVED_WITH_CONTENT, content and all; safety is still bleach's job, after it."""
    names = "|".join(sorted(REMOVED_WITH_CONTENT))
    return re.compile(rf"<({names})\b[^>]*>.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)


def convert_markdown(
    text: str,
    *,
    link_resolver: LinkResolver | None = None,
    extensions: Sequence[Extension] = (),
) -> str:
    """Markdown to HTML, not yet sanitised: what :func:`render_markdown` cleans.

    *extensions* are added after the page's own, to look at the parse (the
    content checker's line-keeping inspection does); they must not change it.
    """
    return _markdown(link_resolver, extensions).convert(text)


def render_markdown(text: str, *, link_resolver: LinkResolver | None = None) -> str:
    """Render trainer-written Markdown to HTML that is safe to show to anyone."""
    html = _code_elements().sub("", convert_markdown(text, link_resolver=link_resolver))
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[_ExternalLinkFilter],
    )
    return cleaner.clean(html)


_FENCE = re.compile(r"(`{3,}|~{3,})")


def fenced_code_lines(lines: Sequence[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (fences included).

    Follows Python-Markdown's fenced_code: a fence starts at the first column and
    the block ends at a line holding the same fence.
    """
    inside: list[bool] = []
    fence: str | None = None
    for line in lines:
        if fence is None:
            match = _FENCE.match(line)
            if match:
                fence = match.group(1)
            inside.append(fence is not None)
        else:
            inside.append(True)
            if line.rstrip(" ") == fence:
                fence = None
    return inside
