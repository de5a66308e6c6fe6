"""What a rendered page holds, each thing with the line of the text it comes from.

The content checker judges what learners will see, so it does not read the
Markdown a second time: :func:`inspect_markdown` runs the page's own converter
(:func:`lms.markdown.convert_markdown`) with an extension that only watches, and
returns the page's links, images, reference definitions and raw HTML elements.
What the page shows as code (indented or fenced blocks, `code spans`) is text in
that parse, so it holds none of them.

Lines: :mod:`lms.markdown_lines` puts a marker at the end of each line of text
before the inline patterns run; after them, a walk in document order reads the
markers back. A link, an image or a raw HTML placeholder is on the line of the
first marker after it, or of the end of the string it was made from (kept aside
for each element that was in the tree then); what is before a line break
(<br>) on the line before. The markers are then removed: the page's HTML is the
same as without them, and a test holds it to that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import parser as html_parser
from xml.etree.ElementTree import Element

import markdown
from markdown import util
from markdown.extensions import Extension
from markdown.htmlparser import void_tags
from markdown.treeprocessors import Treeprocessor

from lms.markdown import convert_markdown
from lms.markdown_lines import (
    MARKER,
    MarkLines,
    SourceLines,
    marked_line,
    unmark,
    watch_preprocessors,
)

__all__ = ["PageInspection", "PageLink", "RawElement", "ReferenceDefinition", "inspect_markdown"]


@dataclass(frozen=True)
class PageLink:
    """A link (``a``) or an image (``img``) on the page."""

    tag: str
    #: href or src, as written.
    url: str
    line: int
    #: Written as raw HTML (so the link resolver never sees it).
    raw: bool = False
    #: A Markdown image's description.
    alt: str | None = None
    #: Its target comes from a reference definition (``[text][name]``).
    via_reference: bool = False


@dataclass(frozen=True)
class ReferenceDefinition:
    """``[name]: url`` as the renderer read it (names are lowercase)."""

    name: str
    url: str
    line: int


@dataclass(frozen=True)
class RawElement:
    """A start tag of raw HTML on the page, with its attributes as written."""

    tag: str
    #: (name, value as written); the value is None for a bare attribute.
    attributes: tuple[tuple[str, str | None], ...]
    line: int
    #: The raw elements it is written inside, outermost first.
    inside: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageInspection:
    """A page's links, references and raw HTML; lines count from the text's first."""

    links: tuple[PageLink, ...]
    references: tuple[ReferenceDefinition, ...]
    elements: tuple[RawElement, ...]
    #: The HTML of the page before sanitising, as :func:`convert_markdown` makes it.
    html: str


def inspect_markdown(text: str) -> PageInspection:
    """What the page made from *text* will show, each thing with its line."""
    found = _Found(SourceLines(len(text.split("\n"))))
    html = convert_markdown(text, extensions=[_InspectExtension(found)])
    return PageInspection(
        links=tuple(found.links),
        references=tuple(found.references),
        elements=tuple(found.elements),
        html=html,
    )


_MARKER_OR_PLACEHOLDER = re.compile(f"{MARKER.pattern}|{util.HTML_PLACEHOLDER % '([0-9]+)'}")
#: Set on an element made from a reference definition, removed once read.
_FROM_REFERENCE = "data-lms-reference"
_REFERENCE_PROCESSORS = ("reference", "image_reference", "short_reference", "short_image_ref")


@dataclass
class _Found:
    """One conversion: its lines, and what was found on them."""

    lines: SourceLines
    links: list[PageLink] = field(default_factory=list)
    references: list[ReferenceDefinition] = field(default_factory=list)
    elements: list[RawElement] = field(default_factory=list)


# html.parser's own patterns (untyped), so that attributes are read as it reads them.
_TAG_NAME: re.Pattern[str] = html_parser.tagfind_tolerant  # type: ignore[attr-defined]
_ATTRIBUTE: re.Pattern[str] = html_parser.attrfind_tolerant  # type: ignore[attr-defined]


def _attributes(start_tag: str) -> tuple[tuple[str, str | None], ...]:
    """The attributes of a start tag as written (html.parser's reading, not unescaped)."""
    tag = _TAG_NAME.match(start_tag, 1)
    position = tag.end() if tag else len(start_tag)
    found: list[tuple[str, str | None]] = []
    while match := _ATTRIBUTE.match(start_tag, position):
        name, rest, value = match.group(1, 2, 3)
        if not rest:
            value = None
        elif len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found.append((name.lower(), value))
        position = match.end()
    return tuple(found)


class _TagReader(html_parser.HTMLParser):
    """Start tags of one raw HTML piece; *line* gives the line of the piece's n-th line."""

    def __init__(self, collect: _Collect, line: Callable[[int], int | None]) -> None:
        super().__init__(convert_charrefs=False)
        self.collect = collect
        self.line = line

    def _record(self, tag: str) -> None:
        line = self.line(self.getpos()[0] - 1)
        attributes = _attributes(self.get_starttag_text() or f"<{tag}>")
        inside = tuple(self.collect.open)
        self.collect.record(
            lambda at: RawElement(tag, attributes, at, inside), self.collect.found.elements, line
        )
        if tag in {"a", "img"}:
            named = dict(attributes)
            url = named.get("href" if tag == "a" else "src")
            if url is not None:
                self.collect.record(
                    lambda at: PageLink(tag, url, at, raw=True), self.collect.found.links, line
                )

    def handle_starttag(self, tag: str, _attrs: object) -> None:
        self._record(tag)
        if tag not in void_tags:
            self.collect.open.append(tag)

    def handle_startendtag(self, tag: str, _attrs: object) -> None:
        self._record(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.collect.open:
            while self.collect.open.pop() != tag:
                pass


class _Collect(Treeprocessor):
    """Reads the markers back: links, images and raw HTML with their lines."""

    def __init__(self, md: markdown.Markdown, found: _Found) -> None:
        super().__init__(md)
        self.found = found
        self.line = 1
        #: Raw HTML elements open where the walk is (inside the current block).
        self.open: list[str] = []
        #: What was found, in order: how to make it once its line is known, where it goes.
        self.records: list[tuple[Callable[[int], object], list, int | None]] = []
        #: Records waiting for a line, with the count of line breaks (<br>) before them.
        self.pending: list[tuple[int, int]] = []
        self.breaks = 0

    def record(self, make: Callable[[int], object], into: list, line: int | None = None) -> None:
        """Record something; without a line, it takes the next marker's."""
        if line is None:
            self.pending.append((len(self.records), self.breaks))
        self.records.append((make, into, line))

    def _reached(self, line: int) -> None:
        """A marker: the end of *line*, where what is pending was.

        Or a line before for each line break (<br>) since: a paragraph's lines follow
        each other.
        """
        for index, breaks in self.pending:
            make, into, _ = self.records[index]
            self.records[index] = (make, into, max(1, line - (self.breaks - breaks)))
        self.pending.clear()
        self.line = line

    def run(self, root: Element) -> None:
        """Read the markers back, then remove them."""
        references = self.md.references
        for (name, (url, _title)), line in zip(
            references.items(), self.found.lines.definition_lines(list(references)), strict=True
        ):
            self.found.references.append(ReferenceDefinition(name, url, line))
        self._walk(root, top=True)
        for make, into, at in self.records:
            into.append(make(self.line if at is None else at))
        stash = self.md.htmlStash.rawHtmlBlocks
        for index, piece in enumerate(stash):
            if isinstance(piece, str):
                stash[index] = unmark(piece)

    def _walk(self, element: Element, *, top: bool = False) -> None:
        for name, value in list(element.attrib.items()):
            for marker in MARKER.finditer(value):  # a description written over lines
                self._reached(marked_line(marker))
            element.set(name, unmark(value))
        self._consume(element, "text")
        self._walk_children(element, top=top)
        from_reference = element.attrib.pop(_FROM_REFERENCE, None) is not None
        if element.tag == "a" and element.get("href") is not None:
            url = element.get("href", "").replace(util.AMP_SUBSTITUTE, "&")
            self.record(
                lambda at: PageLink("a", url, at, via_reference=from_reference), self.found.links
            )
        elif element.tag == "img":
            src, alt = element.get("src", ""), element.get("alt", "")
            self.record(
                lambda at: PageLink("img", src, at, alt=alt, via_reference=from_reference),
                self.found.links,
            )

    def _walk_children(self, element: Element, *, top: bool) -> None:
        # What the inline patterns made of a string comes before the next original element.
        ends = self.found.lines.ends.get((id(element), "text"))
        for child in element:
            original = id(child) in self.found.lines.originals
            if original and ends is not None:
                self._reached(ends)
            if top:
                self.open = []  # raw HTML elements do not run past a block
            self._walk(child)
            if child.tag == "br" and not original:
                self.breaks += 1
            self._consume(child, "tail")
            if original:
                ends = self.found.lines.ends.get((id(child), "tail"))
        if ends is not None:
            self._reached(ends)

    def _consume(self, element: Element, slot: str) -> None:
        value = getattr(element, slot)
        if not value:
            return
        for match in _MARKER_OR_PLACEHOLDER.finditer(value):
            if match.group(1) is not None:
                self._reached(marked_line(match))
            else:
                self._raw_html(int(match.group(2)))
        cleaned = unmark(value)
        setattr(
            element,
            slot,
            util.AtomicString(cleaned) if isinstance(value, util.AtomicString) else cleaned,
        )

    def _raw_html(self, index: int) -> None:
        stash = self.md.htmlStash.rawHtmlBlocks
        if (
            index in self.found.lines.generated
            or index >= len(stash)
            or not isinstance(stash[index], str)
        ):
            return
        piece = stash[index]
        block = self.found.lines.block_lines.get(index)
        if block is not None:  # a raw HTML block: its lines are known
            reader = _TagReader(self, lambda number: block[min(number, len(block) - 1)])
            reader.feed(piece)
        else:  # one inline tag: its line is that of the first marker in it or after it
            markers = [marked_line(marker) for marker in MARKER.finditer(piece)]
            reader = _TagReader(self, lambda _number: markers[0] if markers else None)
            reader.feed(unmark(piece))
            for line in markers:
                self._reached(line)
        reader.close()


class _InspectExtension(Extension):
    def __init__(self, found: _Found) -> None:
        super().__init__()
        self.found = found

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        watch_preprocessors(md, self.found.lines)
        for name in _REFERENCE_PROCESSORS:
            if name in md.inlinePatterns:
                _tag_references(md.inlinePatterns[name])
        # After the footnotes (50) and before the inline patterns (20) ...
        md.treeprocessors.register(MarkLines(md, self.found.lines), "lms_mark_lines", 25)
        # ... and after them, before prettify (10), the table of contents (5) and links (1).
        md.treeprocessors.register(_Collect(md, self.found), "lms_collect", 12)


def _tag_references(processor: object) -> None:
    """Make a reference pattern mark what it makes, so the check knows its target's line."""
    make_tag = processor.makeTag  # type: ignore[attr-defined]

    def tagged(href: str, title: str, text: str) -> Element:
        element = make_tag(href, title, text)
        element.set(_FROM_REFERENCE, "")
        return element

    processor.makeTag = tagged  # type: ignore[attr-defined]
