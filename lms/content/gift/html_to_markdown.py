"""GIFT question texts (HTML, Moodle auto-format, plain, Markdown) as Markdown.

HTML (and Moodle auto-format) text becomes Markdown: ``<b>``/``<strong>``,
``<i>``/``<em>``, ``<code>``, links and images with a full http(s) address are
converted, ``<sup>``/``<sub>`` are kept, paragraphs and line breaks become blank
lines (spaces in a question or an option, which are one line), other tags are
dropped with their text kept. Plain text is escaped so that it shows as written;
Markdown text is kept as it is. What cannot be converted (a file kept in Moodle,
a relative link) is returned as a problem, not dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from lms.content.gift.parser import GiftText, TextFormat

__all__ = ["escape_literal", "one_line", "plain_text", "to_markdown"]

_ENTITY_LIKE = re.compile(r"&(?=#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]]")
# An underscore is literal in Python-Markdown only between two letters or digits.
_LOOSE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_LIST_START = re.compile(r"([-+*])(?=\s|$)")
_ORDERED_START = re.compile(r"(\d{1,9})([.)])(?=\s|$)")
_RULE = re.compile(r"([-*_])(?:\s*\1){2,}\s*")
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_PLUGINFILE = "@@PLUGINFILE@@"
#: Marks the start of a list item (``<li>``) until the lines are guarded.
_ITEM = "\ue0b2"


def _guard_line_start(line: str) -> str:
    """Escape what would make *line* a block (list, quote, heading, rule) in Markdown."""
    if not line:
        return line
    if _RULE.fullmatch(line) or line[0] in "#>" or line.startswith("!!!"):
        return "\\" + line
    if _LIST_START.match(line):
        return "\\" + line
    ordered = _ORDERED_START.match(line)
    if ordered:
        return f"{ordered.group(1)}\\{line[len(ordered.group(1)) :]}"
    return line


def escape_literal(text: str) -> str:
    """Markdown that shows *text* (one line, no newline) exactly as written."""
    text = _ENTITY_LIKE.sub("&amp;", text)
    text = text.replace("<", "&lt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)
    return _LOOSE_UNDERSCORE.sub(r"\\_", text)


_BLOCK_TAGS = frozenset(
    {"p", "div", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}
    | {"tr", "hr", "dl", "dt", "dd", "section", "article", "figure", "figcaption"}
)
_EMPHASIS = {"b": "**", "strong": "**", "i": "*", "em": "*"}
_CODE_TAGS = frozenset({"code", "tt", "kbd", "samp", "pre"})
_KEPT_TAGS = frozenset({"sup", "sub"})
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title"})
_VOID_TAGS = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr", "col", "area"})


@dataclass
class _Frame:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    parts: list[str] = field(default_factory=list)


class _HtmlToMarkdown(HTMLParser):
    """HTML (Moodle's html and moodle formats) to Markdown; see the module docstring."""

    def __init__(self, *, newlines_break: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.newlines_break = newlines_break
        self.stack = [_Frame("")]
        self.problems: list[str] = []

    def _emit(self, text: str) -> None:
        self.stack[-1].parts.append(text)

    def _raw(self) -> bool:
        return any(frame.tag in _CODE_TAGS for frame in self.stack)

    def _skipping(self) -> bool:
        return any(frame.tag in _SKIPPED_TAGS for frame in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "br":
            self._emit("\n")
        elif tag == "img":
            self._image(values)
        elif tag == "li":
            self._emit(f"\n{_ITEM}")
        elif tag in _BLOCK_TAGS:
            self._emit("\n\n")
        elif tag in {"td", "th"}:
            self._emit(" ")
        elif tag in _KEPT_TAGS:
            self._emit(f"<{tag}>")
        if tag in _EMPHASIS or tag in _CODE_TAGS or tag in _SKIPPED_TAGS or tag == "a":
            self.stack.append(_Frame(tag, values))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._emit("\n\n")
        elif tag in _KEPT_TAGS:
            self._emit(f"</{tag}>")
        if any(frame.tag == tag for frame in self.stack[1:]):
            while self._close() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._skipping():
            return
        if self._raw():
            self._emit(data)
            return
        if self.newlines_break:
            lines = data.split("\n")
            self._emit("\n\n".join(escape_literal(re.sub(r"\s+", " ", line)) for line in lines))
        else:
            self._emit(escape_literal(re.sub(r"\s+", " ", data)))

    def _close(self) -> str:
        frame = self.stack.pop()
        content = "".join(frame.parts)
        if frame.tag in _EMPHASIS:
            self._emit(_wrap(content, _EMPHASIS[frame.tag]))
        elif frame.tag in _CODE_TAGS:
            self._emit(_code_span(content) if not self._raw() else content)
        elif frame.tag == "a":
            self._emit(self._link(frame.attrs.get("href", "").strip(), content))
        return frame.tag

    def _link(self, href: str, content: str) -> str:
        label = content.strip()
        if not href:
            return content
        if _PLUGINFILE in href or not href.lower().startswith(_LINK_SCHEMES):
            self.problems.append(
                f"link to '{href}', which is not a full http(s) address"
                " (a file kept in Moodle must be added to the course's media/ folder)"
            )
            return content
        return f"[{label or escape_literal(href)}]({_link_target(href)})"

    def _image(self, attrs: dict[str, str]) -> None:
        src = attrs.get("src", "").strip()
        if not src.lower().startswith(("http://", "https://")) or _PLUGINFILE in src:
            self.problems.append(
                f"image '{src}', which is not at a full http(s) address"
                " (an image kept in Moodle must be added to the course's media/ folder)"
            )
            return
        alt = escape_literal(" ".join(attrs.get("alt", "").split()))
        self._emit(f"![{alt}]({_link_target(src)})")

    def markdown(self) -> str:
        while len(self.stack) > 1:
            self._close()
        return "".join(self.stack[0].parts)


def _wrap(content: str, marker: str) -> str:
    """``**content**``, with surrounding spaces kept outside the markers."""
    stripped = content.strip()
    if not stripped:
        return content
    lead = content[: len(content) - len(content.lstrip())]
    trail = content[len(content.rstrip()) :]
    return f"{lead}{marker}{stripped}{marker}{trail}"


def _code_span(content: str) -> str:
    content = " ".join(content.split())
    if not content:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def _link_target(url: str) -> str:
    if re.search(r"[\s()<>]", url):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


def _tidy(markdown: str) -> str:
    """Trailing spaces off, at most one blank line in a row, no blank ends."""
    lines = [line.rstrip() for line in markdown.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip("\n").strip()


def to_markdown(text: GiftText) -> tuple[str, list[str]]:
    """Markdown (possibly several paragraphs) for *text*, and what could not be converted."""
    problems: list[str] = []
    if _PLUGINFILE in text.text:
        problems.append(
            "refers to a file kept in Moodle (@@PLUGINFILE@@): add the file to the course's"
            " media/ folder and write the question by hand"
        )
    if text.format is TextFormat.MARKDOWN:
        return _tidy(text.text), problems
    if text.format is TextFormat.PLAIN:
        paragraphs = [
            _guard_line_start(escape_literal(line.strip())) for line in text.text.split("\n")
        ]
        return _tidy("\n\n".join(paragraphs)), problems
    parser = _HtmlToMarkdown(newlines_break=text.format is TextFormat.MOODLE)
    parser.feed(text.text)
    parser.close()
    problems += parser.problems
    lines = [
        f"- {_guard_line_start(line.strip()[1:].strip())}"
        if line.strip().startswith(_ITEM)
        else _guard_line_start(line.strip().replace(_ITEM, "- "))
        for line in parser.markdown().split("\n")
    ]
    return _tidy("\n".join(lines)), problems


def one_line(markdown: str) -> str:
    """Markdown on one line (a question heading, an option, a feedback line)."""
    return _guard_line_start(" ".join(markdown.split()))


def plain_text(text: GiftText) -> str:
    """*text* as plain characters on one line (a short answer is compared, not rendered)."""
    if text.format in {TextFormat.HTML, TextFormat.MOODLE}:
        parser = _PlainText()
        parser.feed(text.text)
        parser.close()
        return " ".join("".join(parser.parts).split())
    return " ".join(text.text.split())


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002 - HTMLParser's API
        if tag in _BLOCK_TAGS or tag in {"br", "li"}:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
