"""Source lines through Python-Markdown: which line of the text each part of the parse comes from.

Python-Markdown keeps no line numbers. :class:`SourceLines` recovers them for one
conversion, in two steps that only watch the page's own processors:

1. Preprocessors (:func:`watch_preprocessors`): the lines each one leaves are
   matched with the lines it was given. Only the stashing ones change lines,
   replacing a piece with a placeholder; the piece is measured with the
   preprocessor's own pattern (fenced code) or is the stashed raw HTML itself.
2. Before the inline patterns run (:class:`MarkLines`), each line of text in the
   tree is found, in order, in the text the block parser read, which gives its
   source line; a marker is put at its end, before any trailing spaces. A marker
   is a run of rare Unicode spaces, and the inline patterns saw whitespace there
   anyway; the next line starts as it did. The last line of a string gets no
   marker (what ends a string is read differently), nor does a line that ends
   with a line break (two spaces) or a ``[text]`` that the next line's
   ``[name]`` completes: their lines are kept aside instead.

After the inline patterns, a walk in document order reads the markers back and
removes them (:mod:`lms.markdown_inspect`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import markdown
from markdown import util
from markdown.treeprocessors import Treeprocessor

__all__ = ["MARKER", "MarkLines", "SourceLines", "marked_line", "unmark", "watch_preprocessors"]

_EDGE = "\u2000"
_DIGIT_ZERO = 0x2001  # U+2001..U+200A: ten more spaces, one a digit
#: A line marker: the line number, in spaces, between two U+2000.
MARKER = re.compile("\u2000([\u2001-\u200a]+)\u2000")
#: Any of Python-Markdown's placeholders (STX ... ETX).
_PLACEHOLDER = re.compile(f"{util.STX}[^{util.STX}{util.ETX}]*{util.ETX}")


def _marker(line: int) -> str:
    return _EDGE + "".join(chr(_DIGIT_ZERO + int(digit)) for digit in str(line)) + _EDGE


def marked_line(match: re.Match[str]) -> int:
    """The line number a :data:`MARKER` match stands for."""
    return int("".join(str(ord(char) - _DIGIT_ZERO) for char in match.group(1)))


def unmark(text: str) -> str:
    """*text* without its line markers."""
    return MARKER.sub("", text)


def _line_starts(text: str) -> list[int]:
    return [0] + [match.end() for match in re.finditer("\n", text)]


@dataclass
class SourceLines:
    """What the watching processors learn about one conversion's lines."""

    count: int
    #: For each line of the current text, the source line (0-based) it comes from.
    to_source: list[int] = field(default_factory=list)
    #: Stash entries that are code the renderer made (fenced blocks), not raw HTML.
    generated: set[int] = field(default_factory=set)
    #: Raw HTML blocks (stash index): the source line of each of their lines.
    block_lines: dict[int, list[int]] = field(default_factory=dict)
    #: The text the block parser read, where its lines start, and the spans of it
    #: that lines of text in the tree were found at (sorted).
    text: str = ""
    starts: list[int] = field(default_factory=list)
    claimed: list[tuple[int, int]] = field(default_factory=list)
    #: Elements in the tree before the inline patterns ran (by id), and the line
    #: where each of their strings ends: (id, "text" or "tail") -> line.
    originals: set[int] = field(default_factory=set)
    ends: dict[tuple[int, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.to_source = list(range(self.count))

    def source_line(self, line: int) -> int:
        """The 1-based source line of a (0-based) line of the current text."""
        if not self.to_source:
            return 1
        return min(self.to_source[min(line, len(self.to_source) - 1)], self.count - 1) + 1

    def line_at(self, position: int) -> int:
        """The 1-based source line of a position in the text the block parser read."""
        return self.source_line(bisect.bisect_right(self.starts, position) - 1)

    def unclaimed(self, pattern: re.Pattern[str], start: int = 0) -> re.Match[str] | None:
        """The first match from *start* in what the block parser read that no text was found at."""
        for found in pattern.finditer(self.text, start):
            index = bisect.bisect_right(self.claimed, (found.start(), len(self.text)))
            before_ends = self.claimed[index - 1][1] if index else 0
            after_starts = self.claimed[index][0] if index < len(self.claimed) else found.end()
            if before_ends <= found.start() and found.end() <= after_starts:
                return found
        return None

    def definition_lines(self, names: Sequence[str]) -> list[int]:
        """The line of each reference definition ``[name]:``, in definition order.

        The block parser removed them from the tree; they are where no text is.
        """
        lines: list[int] = []
        start = 0
        for name in names:
            pattern = re.compile(rf"\[\s*{re.escape(name)}\s*\]:", re.IGNORECASE)
            found = self.unclaimed(pattern, start) or self.unclaimed(pattern)
            if found:
                start = found.end()
            lines.append(self.line_at(found.start()) if found else 1)
        return lines


# 1. Preprocessors -------------------------------------------------------------

#: Where the piece a placeholder replaced starts and ends in the text it was cut from.
Measure = Callable[[str, int], tuple[int, int]]


def _consume(piece: str, text: str, start: int) -> int:
    """The end of *piece* read in *text* from *start*, tolerating rebuilt ';' of entities."""
    position = start
    for char in piece:
        if (position < len(text) and text[position] == char) or char not in "\n;":
            position += 1
    return min(position, len(text))


def _stage_map(
    old_lines: list[str], new_lines: list[str], measures: dict[int, Measure]
) -> tuple[list[int], dict[int, int]]:
    """For each new line the old line it comes from, and where each placeholder's piece starts.

    The new text is the old one with pieces replaced by placeholders and newlines
    added around them; any other difference is read as a changed character.
    """
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    starts = _line_starts(old)

    def old_line(position: int) -> int:
        return bisect.bisect_right(starts, position) - 1

    line_map = [0]
    pieces: dict[int, int] = {}
    x = y = 0
    while y < len(new):
        placeholder = util.HTML_PLACEHOLDER_RE.match(new, y) if new[y] == util.STX else None
        if placeholder is not None and int(placeholder.group(1)) in measures:
            start, x = measures[int(placeholder.group(1))](old, x)
            pieces[int(placeholder.group(1))] = old_line(start)
            y = placeholder.end()
            continue
        char = new[y]
        if (x < len(old) and old[x] == char) or char not in "\n;":
            x += 1
        y += 1
        if char == "\n":
            line_map.append(old_line(min(x, len(old))))
    return line_map, pieces


def _fenced_measure(pattern: re.Pattern[str]) -> Measure:
    def measure(text: str, position: int) -> tuple[int, int]:
        found = pattern.match(text, position) or pattern.search(text, position)
        return (found.start(), found.end()) if found else (position, position)

    return measure


def _raw_measure(piece: str) -> Measure:
    return lambda text, position: (position, _consume(piece, text, position))


def watch_preprocessors(md: markdown.Markdown, lines: SourceLines) -> None:
    """Follow every line through each of *md*'s preprocessors, back to the source."""
    for processor in md.preprocessors:
        run = processor.run

        def watched(text: list[str], run: Callable = run, processor: object = processor) -> list:
            stash = md.htmlStash.rawHtmlBlocks
            before, first = list(text), len(stash)
            after = run(text)
            added = range(first, len(stash))
            old_to_source = lines.to_source
            if not added:  # whitespace only: the lines stay where they are
                lines.to_source = [
                    old_to_source[min(i, len(before) - 1)] for i in range(len(after))
                ]
                return after
            fenced = getattr(processor, "FENCED_BLOCK_RE", None)
            measures: dict[int, Measure] = {}
            for index in added:
                if fenced is not None:
                    measures[index] = _fenced_measure(fenced)
                    lines.generated.add(index)
                elif isinstance(stash[index], str):
                    measures[index] = _raw_measure(stash[index])
            line_map, pieces = _stage_map(before, after, measures)
            for index, start in pieces.items():
                if index not in lines.generated:
                    count = str(stash[index]).count("\n") + 1
                    lines.block_lines[index] = [lines.source_line(start + i) for i in range(count)]
            lines.to_source = [old_to_source[min(i, len(old_to_source) - 1)] for i in line_map]
            return after

        processor.run = watched


# 2. Lines of text in the tree, before the inline patterns ----------------------


def _slots(element: Element, skip: Sequence[Element] = ()) -> Iterator[tuple[Element, str]]:
    """(element, "text" or "tail") of each string under *element*, in document order."""
    yield element, "text"
    for child in element:
        if child in skip:
            continue
        yield from _slots(child)
        yield child, "tail"


def _as_source(text: str) -> str:
    """Code text as it was written (Python-Markdown escapes &, < and > in code)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _unmarkable(line: str, next_line: str) -> bool:
    """Whether a marker at the end of *line* would change how it is read.

    Two spaces at its end break the line, and what they follow must stay next to
    the break (the <br> then ends the line); `[text]` at its end and `[name]` at
    the next line's start make a reference link only with nothing between them.
    """
    return line.endswith("  ") or (line.endswith("]") and next_line.startswith("["))


class MarkLines(Treeprocessor):
    """Finds each line of text in what the block parser read, and marks it."""

    def __init__(self, md: markdown.Markdown, lines: SourceLines) -> None:
        super().__init__(md)
        self.lines = lines
        self.cursor = 0
        self.last_line = 1

    def run(self, root: Element) -> None:
        """Mark the lines of every string in the tree (footnotes, gathered at the end, last)."""
        lines = self.lines
        lines.text = "\n".join(self.md.lines)
        lines.starts = _line_starts(lines.text)
        lines.originals = {id(element) for element in root.iter()}
        footnotes = [child for child in root if "footnote" in (child.get("class") or "").split()]
        for element, slot in _slots(root, skip=footnotes):
            self._mark(element, slot, anywhere=False)
        self.cursor = 0
        for footnote in footnotes:  # written anywhere: wherever no other text is
            for element, slot in _slots(footnote):
                self._mark(element, slot, anywhere=True)

    def _mark(self, element: Element, slot: str, *, anywhere: bool) -> None:
        value = getattr(element, slot)
        if not value or value.isspace():
            return
        code = isinstance(value, util.AtomicString)
        lines = value.split("\n")
        last = max(number for number, line in enumerate(lines) if line.strip())
        for number, line in enumerate(lines):
            needle = line.strip()
            if not needle:
                continue
            source_line = self._locate(_as_source(needle) if code else needle, anywhere=anywhere)
            if number == last:
                self.lines.ends[id(element), slot] = source_line
                break
            if code or _unmarkable(line, lines[number + 1]):
                continue
            # Before trailing space and backslashes (one before a character escapes it).
            end = len(line.rstrip())
            while end and line[end - 1] == "\\":
                end -= 1
            lines[number] = line[:end] + _marker(source_line) + line[end:]
        if not code:
            setattr(element, slot, "\n".join(lines))

    def _locate(self, needle: str, *, anywhere: bool) -> int:
        """The source line of *needle*, the next line of text; the last one if not found."""
        position = self._find(needle, anywhere=anywhere)
        if position < 0:
            # Extensions add placeholders of their own (a footnote's back link):
            # the longest run of text between them is the trainer's.
            longest = max(_PLACEHOLDER.split(needle), key=len).strip()
            if longest and longest != needle:
                needle = longest
                position = self._find(needle, anywhere=anywhere)
        if position < 0:
            return self.last_line
        self.cursor = position + len(needle)
        bisect.insort(self.lines.claimed, (position, self.cursor))
        self.last_line = self.lines.line_at(position)
        return self.last_line

    def _find(self, needle: str, *, anywhere: bool) -> int:
        if not anywhere:
            return self.lines.text.find(needle, self.cursor)
        pattern = re.compile(re.escape(needle))
        found = self.lines.unclaimed(pattern, self.cursor) or self.lines.unclaimed(pattern)
        return found.start() if found else -1
