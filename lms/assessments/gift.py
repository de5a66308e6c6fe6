r"""Convert a Moodle GIFT question file into a quiz module in the Markdown quiz syntax.

Two steps, both pure (no Flask, no files):

1. :func:`parse_gift` reads GIFT the way Moodle's own importer does
   (``question/format/gift/format.php``): questions are separated by blank lines,
   ``//`` lines are comments, ``$CATEGORY:`` sets a category, ``::name::`` names a
   question, ``[html]``/``[moodle]``/``[plain]``/``[markdown]`` set a text's
   format, ``\~ \= \# \{ \} \: \n \\`` are escapes, and the first
   ``{…}`` holds the answers (text after it makes a missing-word question).
2. :func:`convert_gift` turns each GIFT item into a :class:`QuizQuestion` of the
   Markdown syntax, or reports, with its line, why it cannot: a question is
   either converted so that "full credit in Moodle" and "right here" mean the
   same thing, or it is not converted at all. Nothing is dropped silently.

:func:`quiz_module` writes the converted questions as a module file; every
question is checked with :func:`~lms.assessments.quizparse.parse_quiz` before it
is accepted, so the file always parses without errors.

What goes where:

- Question names (``::name::``) are not shown to learners in Moodle, and are not
  written; ``//`` comments (Moodle's ``// question: N name: X`` too) are dropped.
- General feedback (``####``) becomes the explanation block quote; per-answer
  feedback (``#`` after an answer) is added to it as ``Risposta «…»: …`` lines.
- Categories are reported as notes: the quiz page is for learners, and the
  Moodle question-bank path means nothing to them.
- HTML (and Moodle auto-format) text becomes Markdown: ``<b>``/``<strong>``,
  ``<i>``/``<em>``, ``<code>``, links and images with a full http(s) address are
  converted, ``<sup>``/``<sub>`` are kept, paragraphs and line breaks become
  blank lines (spaces in a question or an option, which are one line), other tags
  are dropped with their text kept. Plain text is escaped so that it shows as
  written; Markdown text is kept as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from html.parser import HTMLParser

import yaml

from lms.assessments.quizparse import QuestionKind, normalise_short_answer, parse_quiz

__all__ = [
    "BLANK",
    "FALSE_LABEL",
    "TRUE_LABEL",
    "Conversion",
    "GiftAnswer",
    "GiftItem",
    "GiftKind",
    "GiftText",
    "QuizOption",
    "QuizQuestion",
    "Report",
    "ReportKind",
    "TextFormat",
    "convert_gift",
    "decode_gift",
    "parse_gift",
    "quiz_module",
    "title_from_filename",
]

#: The gap of a missing-word question (Moodle inserts the same).
BLANK = "_____"
TRUE_LABEL = "Vero"
FALSE_LABEL = "Falso"
#: Label of the feedback Moodle gives to any answer not listed (``~#…``, ``=%0%*#…``).
OTHER_ANSWERS_LABEL = "Qualsiasi altra risposta"
#: Tolerance on the sum of the weights of a multiple-answer question (33.333 x 3 is fine).
WEIGHT_TOLERANCE = 0.5
FULL_CREDIT = 100.0


class TextFormat(StrEnum):
    """A GIFT text format, set by a ``[name]`` prefix; Moodle's default is ``moodle``."""

    MOODLE = "moodle"
    HTML = "html"
    PLAIN = "plain"
    MARKDOWN = "markdown"


class GiftKind(StrEnum):
    """What a GIFT item is, decided as Moodle decides it."""

    CATEGORY = "category"
    DESCRIPTION = "description"
    ESSAY = "essay"
    MULTIPLE_CHOICE = "multichoice"
    TRUE_FALSE = "truefalse"
    SHORT_ANSWER = "shortanswer"
    NUMERICAL = "numerical"
    MATCHING = "matching"
    #: Not readable as GIFT at all (unbalanced braces and the like): see *problem*.
    INVALID = "invalid"


@dataclass(frozen=True)
class GiftText:
    """A text with its escapes resolved, and the format it is written in."""

    text: str
    format: TextFormat = TextFormat.MOODLE


@dataclass(frozen=True)
class GiftAnswer:
    """One answer of a GIFT question.

    *prefix* is ``=``, ``~`` or ``""`` (an answer before the first marker); *weight*
    is the ``%N%`` written after it, in percent, or None when there is none.
    """

    line: int
    prefix: str
    weight: float | None
    text: GiftText
    feedback: GiftText | None = None


@dataclass(frozen=True)
class GiftItem:
    """One blank-line-separated item of a GIFT file, as Moodle would read it."""

    line: int
    kind: GiftKind
    name: str = ""
    #: The question text; for a missing-word question it holds :data:`BLANK`.
    text: GiftText = GiftText("")
    answers: tuple[GiftAnswer, ...] = ()
    general_feedback: GiftText | None = None
    #: True/false: the right answer.
    truth: bool | None = None
    #: True/false: feedback for the wrong choice; numerical: for any other answer (``~#…``).
    wrong_feedback: GiftText | None = None
    #: True/false: feedback for the right choice.
    right_feedback: GiftText | None = None
    #: ``$CATEGORY:`` path.
    category: str = ""
    #: Why an INVALID item cannot be read (its *line* is where the problem is).
    problem: str = ""


class ReportKind(StrEnum):
    """A not-converted question makes the conversion incomplete; a note does not."""

    NOT_CONVERTED = "not converted"
    NOTE = "note"


@dataclass(frozen=True)
class Report:
    """A line for the person converting: printed as ``FILE:LINE: kind: message``."""

    line: int
    kind: ReportKind
    message: str

    def format(self, source: str) -> str:
        """The line as printed, with *source* (the GIFT file as given) in front."""
        return f"{source}:{self.line}: {self.kind}: {self.message}"


@dataclass(frozen=True)
class QuizOption:
    """An option of a converted question: Markdown text, and whether it is right."""

    text: str
    correct: bool


@dataclass(frozen=True)
class QuizQuestion:
    """A question in the Markdown quiz syntax: text, options and explanation are Markdown.

    *answers* are short answers, written as is (they are compared, not rendered).
    """

    gift_line: int
    text: str
    kind: QuestionKind
    options: tuple[QuizOption, ...] = ()
    answers: tuple[str, ...] = ()
    explanation: str = ""

    def markdown(self) -> str:
        """The question as written in a module file (ending with a newline)."""
        lines = [f"## {self.text}"]
        if self.kind is QuestionKind.SHORT:
            lines += [f"= {answer}" for answer in self.answers]
        else:
            lines += [f"- [{'x' if o.correct else ' '}] {o.text}" for o in self.options]
        if self.explanation:
            lines.append("")
            lines += [f"> {line}" if line else ">" for line in self.explanation.split("\n")]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Conversion:
    """The result of converting a GIFT file."""

    questions: tuple[QuizQuestion, ...]
    reports: tuple[Report, ...]
    #: GIFT items that are questions (or meant to be): not categories, not comments.
    found: int

    @property
    def not_converted(self) -> tuple[Report, ...]:
        """The reports of questions that were left out."""
        return tuple(r for r in self.reports if r.kind is ReportKind.NOT_CONVERTED)

    @property
    def complete(self) -> bool:
        """Whether every question of the file was converted."""
        return not self.not_converted


# Reading ------------------------------------------------------------------


def decode_gift(data: bytes) -> tuple[str, str]:
    r"""The text of a GIFT file and the encoding it was read with.

    UTF-8 (with or without a byte-order mark) first, else Windows-1252, which is
    what Moodle installations on Windows and older exports produce. Line endings
    become ``\n``. Raises UnicodeDecodeError when neither fits.
    """
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1252"), "cp1252"
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


# Parsing GIFT -------------------------------------------------------------

# Escaped control characters are replaced by private-use characters while the
# structure is read, and restored in every text afterwards (Moodle does the same
# with "&&058;"-style placeholders).
_ESCAPES = {
    ":": "\ue03a",
    "#": "\ue023",
    "=": "\ue03d",
    "{": "\ue07b",
    "}": "\ue07d",
    "~": "\ue07e",
    "n": "\ue00a",
    "\\": "\\",
}
_RESTORE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items() if k != "\\"})
_ESCAPE = re.compile(r"\\([:#={}~n\\])")
_WEIGHT = re.compile(r"%(-*)(\d+(?:\.\d*)?)%")
_FORMAT = re.compile(r"\[(moodle|html|plain|markdown)\]")
_TRUE_FALSE_ANSWERS = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_CATEGORY = "$CATEGORY:"


def _protect(text: str) -> str:
    return _ESCAPE.sub(lambda match: _ESCAPES[match.group(1)], text)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _with_format(raw: str, default: TextFormat) -> GiftText:
    """A text whose ``[format]`` prefix, if any, is taken off (Moodle's parse_text_with_format)."""
    raw = raw.strip()
    match = _FORMAT.match(raw)
    if match is None:
        return GiftText(_restore(raw).strip(), default)
    return GiftText(_restore(raw[match.end() :]).strip(), TextFormat(match.group(1)))


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    """(line of the first character, text) of each item, comment lines blanked out.

    Lines are stripped, as Moodle strips them; a comment line becomes an empty
    line so that line numbers inside the item stay right.
    """
    block: list[str] = []
    start = 0
    for number, line in enumerate([*text.split("\n"), ""], start=1):
        stripped = line.strip()
        if stripped:
            if not block:
                start = number
            block.append("" if stripped.startswith("//") else stripped)
            continue
        joined = "\n".join(block)
        block = []
        if joined.strip():
            lead = len(joined) - len(joined.lstrip())
            yield start + joined.count("\n", 0, lead), joined.strip()


@dataclass
class _Source:
    """An item's text with escapes protected, and how to find a position's line."""

    text: str
    first_line: int

    def line(self, position: int) -> int:
        return self.first_line + self.text.count("\n", 0, position)


def _pieces(source: _Source, start: int, end: int, markers: str) -> list[tuple[str, str, int]]:
    """(marker, text, position) of the answers in ``source.text[start:end]``.

    An empty text before the first marker is dropped, as Moodle drops it.
    """
    pieces: list[tuple[str, str, int]] = []
    marker, begin = "", start
    for position in range(start, end):
        if source.text[position] in markers:
            pieces.append((marker, source.text[begin:position], begin))
            marker, begin = source.text[position], position + 1
    pieces.append((marker, source.text[begin:end], begin))
    if not pieces[0][0] and not pieces[0][1].strip():
        pieces.pop(0)
    return pieces


def _answer(
    source: _Source, piece: tuple[str, str, int], text_format: TextFormat, *, numeric: bool = False
) -> GiftAnswer:
    marker, raw, position = piece
    lead = len(raw) - len(raw.lstrip())
    raw = raw.strip()
    weight: float | None = None
    match = _WEIGHT.match(raw)
    if match is not None:
        weight = float(match.group(2)) * (-1 if match.group(1) else 1)
        raw = raw[match.end() :]
    text, hash_, feedback = raw.partition("#")
    return GiftAnswer(
        line=source.line(position + lead),
        prefix=marker,
        weight=weight,
        text=GiftText(_restore(text).strip(), TextFormat.PLAIN)
        if numeric
        else _with_format(text, text_format),
        feedback=_with_format(feedback, text_format) if hash_ and feedback.strip() else None,
    )


def _invalid(line: int, problem: str, name: str = "") -> GiftItem:
    return GiftItem(line, GiftKind.INVALID, name=name, problem=problem)


def _category(source: _Source) -> list[GiftItem]:
    """``$CATEGORY: path``, and a problem if a question follows without a blank line."""
    text = source.text
    path, newline, rest = text[len(_CATEGORY) :].partition("\n")
    items = [GiftItem(source.first_line, GiftKind.CATEGORY, category=_restore(path).strip())]
    if newline and rest.strip():
        items.append(
            _invalid(
                source.line(len(text) - len(rest.lstrip())),
                "no blank line after $CATEGORY: Moodle reads this question as part of the"
                " category name; add a blank line before it",
            )
        )
    return items


def _brace_problem(source: _Source, opening: int, closing: int) -> GiftItem | None:
    """An INVALID item if the answer block's braces are wrong (Moodle's "braceerror")."""
    if closing == -1:
        return _invalid(
            source.line(opening),
            "'{' without a closing '}' (write \\{ for a literal brace; a question"
            " cannot contain blank lines)",
        )
    if opening == -1 or closing < opening:
        return _invalid(
            source.line(closing),
            "'}' without an opening '{' (write \\} for a literal brace; a question"
            " cannot contain blank lines)",
        )
    stray = re.search(r"[{}]", source.text[closing + 1 :])
    if stray is not None:
        return _invalid(
            source.line(closing + 1 + stray.start()),
            "a second '{' or '}' after the answers: one answer block per question"
            " (write \\{ \\} for literal braces; separate questions with a blank line)",
        )
    return None


def _parse_item(first_line: int, raw: str) -> list[GiftItem]:
    """The item(s) of one blank-line-separated block (see :func:`parse_gift`)."""
    source = _Source(_protect(raw), first_line)
    text = source.text
    if text.startswith(_CATEGORY):
        return _category(source)
    name, start = "", 0
    if text.startswith("::"):
        end = text.find("::", 2)
        if end == -1:
            start = 2
        else:
            name, start = _restore(text[2:end]).strip(), end + 2
    while start < len(text) and text[start].isspace():
        start += 1
    opening, closing = text.find("{", start), text.find("}", start)
    if opening == -1 and closing == -1:
        question = _with_format(text[start:], TextFormat.MOODLE)
        return [GiftItem(first_line, GiftKind.DESCRIPTION, name=name, text=question)]
    problem = _brace_problem(source, opening, closing)
    if problem is not None:
        return [replace(problem, name=name)]
    after = text[closing + 1 :]
    question = _with_format(
        text[start:opening] + (BLANK + after if after.strip() else ""), TextFormat.MOODLE
    )
    answers_end = closing
    general_feedback = None
    separator = text.rfind("####", opening + 1, closing)
    if separator != -1:
        general_feedback = _with_format(text[separator + 4 : closing], question.format)
        answers_end = separator
    item = GiftItem(
        first_line, GiftKind.ESSAY, name=name, text=question, general_feedback=general_feedback
    )
    return [_answers(source, item, opening + 1, answers_end)]


def _answers(source: _Source, item: GiftItem, start: int, end: int) -> GiftItem:
    """*item* with its kind and answers, read from ``source.text[start:end]`` as Moodle does."""
    text, fmt = source.text, item.text.format
    while start < end and text[start].isspace():
        start += 1
    answer_text = text[start:end].strip()
    if not answer_text:
        return item  # an essay
    if answer_text.startswith("#"):
        wrong = None
        tilde = text.find("~", start, end)
        if tilde != -1:
            _, hash_, feedback = text[tilde + 1 : end].partition("#")
            wrong = _with_format(feedback, fmt) if hash_ and feedback.strip() else None
            end = tilde
        answers = tuple(
            _answer(source, piece, fmt, numeric=True)
            for piece in _pieces(source, start + 1, end, "=")
        )
        return replace(item, kind=GiftKind.NUMERICAL, answers=answers, wrong_feedback=wrong)
    if "~" in answer_text:
        answers = tuple(_answer(source, piece, fmt) for piece in _pieces(source, start, end, "~="))
        return replace(item, kind=GiftKind.MULTIPLE_CHOICE, answers=answers)
    if "=" in answer_text and "->" in answer_text:
        return replace(item, kind=GiftKind.MATCHING)
    truth, *feedbacks = answer_text.split("#", 2)
    if truth.strip() in _TRUE_FALSE_ANSWERS:
        wrong, right = (*feedbacks, "", "")[:2]
        return replace(
            item,
            kind=GiftKind.TRUE_FALSE,
            truth=_TRUE_FALSE_ANSWERS[truth.strip()],
            wrong_feedback=_with_format(wrong, fmt) if wrong.strip() else None,
            right_feedback=_with_format(right, fmt) if right.strip() else None,
        )
    answers = tuple(_answer(source, piece, fmt) for piece in _pieces(source, start, end, "="))
    return replace(item, kind=GiftKind.SHORT_ANSWER, answers=answers)


def parse_gift(text: str) -> list[GiftItem]:
    """Every item of a GIFT file (its text, as from :func:`decode_gift`), in order.

    Comments give no item; a category gives a CATEGORY item; anything Moodle
    would refuse gives an INVALID item saying why.
    """
    return [item for line, raw in _blocks(text) for item in _parse_item(line, raw)]


# Text to Markdown ---------------------------------------------------------

_ENTITY_LIKE = re.compile(r"&(?=#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]]")
# An underscore is literal in Python-Markdown only between two letters or digits.
_LOOSE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_LIST_START = re.compile(r"([-+*])(?=\s|$)")
_ORDERED_START = re.compile(r"(\d{1,9})([.)])(?=\s|$)")
_RULE = re.compile(r"([-*_])(?:\s*\1){2,}\s*")
_CLOSING_HASHES = re.compile(r"#+\s*$")
# quizparse reads "{…=…}" at the end of a heading as attributes ({points=N}).
_ATTRIBUTES = re.compile(r"\{[^{}]*=[^{}]*\}\s*$")
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_PLUGINFILE = "@@PLUGINFILE@@"
#: Stands for :data:`BLANK` while a question text is converted.
_GAP = "\ue0b1"
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


def _escape_literal(text: str) -> str:
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
            self._emit("\n\n".join(_escape_literal(re.sub(r"\s+", " ", line)) for line in lines))
        else:
            self._emit(_escape_literal(re.sub(r"\s+", " ", data)))

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
        return f"[{label or _escape_literal(href)}]({_link_target(href)})"

    def _image(self, attrs: dict[str, str]) -> None:
        src = attrs.get("src", "").strip()
        if not src.lower().startswith(("http://", "https://")) or _PLUGINFILE in src:
            self.problems.append(
                f"image '{src}', which is not at a full http(s) address"
                " (an image kept in Moodle must be added to the course's media/ folder)"
            )
            return
        alt = _escape_literal(" ".join(attrs.get("alt", "").split()))
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


def _to_markdown(text: GiftText) -> tuple[str, list[str]]:
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
            _guard_line_start(_escape_literal(line.strip())) for line in text.text.split("\n")
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


def _one_line(markdown: str) -> str:
    """Markdown on one line (a question heading, an option, a feedback line)."""
    return _guard_line_start(" ".join(markdown.split()))


def _heading_text(markdown: str) -> str:
    """One-line Markdown that quizparse reads back unchanged from a ``## `` heading."""
    text = _one_line(markdown)
    hashes = _CLOSING_HASHES.search(text)
    if hashes is not None:
        run = hashes.group(0).rstrip()
        text = text[: hashes.start()] + "".join(f"\\{c}" for c in run)
    if _ATTRIBUTES.search(text):
        brace = text.rindex("}")
        text = f"{text[:brace]}&#125;{text[brace + 1 :]}"
    return text


def _plain_text(text: GiftText) -> str:
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


# Converting ---------------------------------------------------------------


class _NotConvertedError(Exception):
    """A question that cannot be converted: *line* and message."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _markdown_of(text: GiftText, line: int) -> str:
    markdown, problems = _to_markdown(text)
    if problems:
        raise _NotConvertedError(line, problems[0])
    return markdown


def _percent(weight: float) -> str:
    return f"{weight:g}%"


def _feedback_line(label: str | None, feedback: GiftText | None, line: int) -> str | None:
    """``- Risposta «label»: feedback`` (label None: any other answer), or None."""
    if feedback is None:
        return None
    text = _one_line(_markdown_of(feedback, line))
    if not text:
        return None
    return (
        f"- Risposta «{label}»: {text}" if label is not None else f"- {OTHER_ANSWERS_LABEL}: {text}"
    )


def _explanation(item: GiftItem, feedback_lines: list[str | None]) -> str:
    parts = []
    if item.general_feedback is not None:
        general = _markdown_of(item.general_feedback, item.line)
        if general:
            parts.append(general)
    lines = [line for line in feedback_lines if line]
    if lines:
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _question_text(item: GiftItem) -> str:
    # The gap goes in after the conversion, so that it is not escaped (it shows as is).
    gap = replace(item.text, text=item.text.text.replace(BLANK, _GAP))
    text = _heading_text(_markdown_of(gap, item.line).replace(_GAP, BLANK))
    if not text:
        raise _NotConvertedError(item.line, "no question text")
    return text


def _choice_weights(item: GiftItem) -> list[float]:
    """The weight of each answer of a multiple-choice item, if they make a clean question.

    Clean means that "full credit in Moodle" is "exactly the right options chosen":
    with an ``=`` answer (one choice), exactly one answer is fully right and none
    earns part of the credit; without one (several choices), the positive weights
    add up to 100%. Negative and zero weights are wrong options.
    """
    weights = []
    for answer in item.answers:
        if answer.prefix == "=" and answer.weight is not None:
            raise _NotConvertedError(
                answer.line,
                "an answer with both '=' and a weight: write '=' for the right answer,"
                " '~%N%' for a weighted one",
            )
        weight = FULL_CREDIT if answer.prefix == "=" else answer.weight or 0.0
        if abs(weight) > FULL_CREDIT:
            raise _NotConvertedError(answer.line, f"weight {_percent(weight)} is out of range")
        weights.append(weight)
    if any(answer.prefix == "=" for answer in item.answers):
        right = [a for a, w in zip(item.answers, weights, strict=True) if w == FULL_CREDIT]
        if len(right) > 1:
            raise _NotConvertedError(
                right[1].line,
                f"{len(right)} answers are each fully right and the learner picks one of them;"
                " in the Markdown quiz two checked boxes mean 'choose both'",
            )
        for answer, weight in zip(item.answers, weights, strict=True):
            if 0 < weight < FULL_CREDIT:
                raise _NotConvertedError(
                    answer.line,
                    f"partial credit ({_percent(weight)}) for '{answer.text.text}': the Markdown"
                    " quiz gives full or no credit",
                )
        return weights
    total = sum(w for w in weights if w > 0)
    if total == 0:
        raise _NotConvertedError(item.line, "no right answer (no '=' and no positive weight)")
    if abs(total - FULL_CREDIT) > WEIGHT_TOLERANCE:
        raise _NotConvertedError(
            item.line,
            f"the weights of the right answers add up to {_percent(total)}, not 100%:"
            " only 'choose exactly the right ones' can be converted",
        )
    return weights


def _choice(item: GiftItem) -> QuizQuestion:
    """A multiple-choice item (``~``): single choice with one ``=``, else multiple answers."""
    if len(item.answers) < 2:  # noqa: PLR2004 - a choice needs two answers
        raise _NotConvertedError(item.line, "a multiple-choice question needs at least two answers")
    weights = _choice_weights(item)
    options: list[QuizOption] = []
    feedback: list[str | None] = []
    seen: dict[str, str] = {}
    for answer, weight in zip(item.answers, weights, strict=True):
        text = _one_line(_markdown_of(answer.text, answer.line))
        if not text:
            raise _NotConvertedError(answer.line, "empty answer")
        key = normalise_short_answer(text)
        if key in seen:
            raise _NotConvertedError(
                answer.line, f"the answer '{answer.text.text}' appears twice in the question"
            )
        seen[key] = text
        options.append(QuizOption(text, weight > 0))
        feedback.append(_feedback_line(text, answer.feedback, answer.line))
    return QuizQuestion(
        gift_line=item.line,
        text=_question_text(item),
        kind=QuestionKind.SINGLE,  # the real kind comes from parse_quiz in _checked
        options=tuple(options),
        explanation=_explanation(item, feedback),
    )


def _true_false(item: GiftItem) -> QuizQuestion:
    """``{T}``/``{FALSE}``: options Vero and Falso; GIFT's ``#wrong#right`` go to each."""
    on_true, on_false = (
        (item.right_feedback, item.wrong_feedback)
        if item.truth
        else (item.wrong_feedback, item.right_feedback)
    )
    feedback = [
        _feedback_line(TRUE_LABEL, on_true, item.line),
        _feedback_line(FALSE_LABEL, on_false, item.line),
    ]
    return QuizQuestion(
        gift_line=item.line,
        text=_question_text(item),
        kind=QuestionKind.TRUE_FALSE,
        options=(QuizOption(TRUE_LABEL, bool(item.truth)), QuizOption(FALSE_LABEL, not item.truth)),
        explanation=_explanation(item, feedback),
    )


_WILDCARD = re.compile(r"(?<!\\)\*")


def _short_answer(item: GiftItem) -> QuizQuestion:
    """Short answer: full-credit answers are accepted, 0% (or less) ones only give feedback."""
    accepted: list[str] = []
    keys: set[str] = set()
    feedback: list[str | None] = []
    for answer in item.answers:
        weight = FULL_CREDIT if answer.weight is None else answer.weight
        text = _plain_text(answer.text)
        if weight > FULL_CREDIT:
            raise _NotConvertedError(answer.line, f"weight {_percent(weight)} is out of range")
        if 0 < weight < FULL_CREDIT:
            raise _NotConvertedError(
                answer.line,
                f"partial credit ({_percent(weight)}) for '{text}': the Markdown quiz gives"
                " full or no credit",
            )
        if weight <= 0:
            label = None if text == "*" else _escape_literal(text.replace("\\*", "*"))
            feedback.append(_feedback_line(label, answer.feedback, answer.line))
            continue
        if not text:
            raise _NotConvertedError(answer.line, "empty answer")
        if _WILDCARD.search(text):
            raise _NotConvertedError(
                answer.line,
                f"the answer '{text}' uses '*' as a wildcard, which the Markdown quiz does not"
                " have (write \\* for a literal star)",
            )
        text = text.replace("\\*", "*")
        feedback.append(_feedback_line(_escape_literal(text), answer.feedback, answer.line))
        if normalise_short_answer(text) not in keys:  # same answer twice: harmless, keep one
            keys.add(normalise_short_answer(text))
            accepted.append(text)
    if not accepted:
        raise _NotConvertedError(item.line, "no fully right answer")
    return QuizQuestion(
        gift_line=item.line,
        text=_question_text(item),
        kind=QuestionKind.SHORT,
        answers=tuple(accepted),
        explanation=_explanation(item, feedback),
    )


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DECIMAL = re.compile(r"[+-]?\d*\.\d+")


def _numerical(item: GiftItem) -> QuizQuestion:
    """A numerical question with one exact value becomes a short answer; anything else cannot."""
    if len(item.answers) != 1:
        raise _NotConvertedError(
            item.line,
            f"numerical question with {len(item.answers)} answers: only a single exact value"
            " can be converted (to a short answer)",
        )
    answer = item.answers[0]
    value = answer.text.text
    weight = FULL_CREDIT if answer.weight is None else answer.weight
    if weight != FULL_CREDIT:
        raise _NotConvertedError(
            answer.line,
            f"numerical answer worth {_percent(weight)}: only a fully right exact value can be"
            " converted",
        )
    if ".." in value[1:]:
        raise _NotConvertedError(
            answer.line,
            f"numerical range '{value}': only an exact value can be converted (to a short answer)",
        )
    if ":" in value[1:]:
        value, _, tolerance = value.partition(":")
        value, tolerance = value.strip(), tolerance.strip()
        if not _NUMBER.fullmatch(tolerance) or float(tolerance) != 0:
            raise _NotConvertedError(
                answer.line,
                f"numerical answer {value} with tolerance {tolerance}: only an exact value"
                " can be converted (to a short answer)",
            )
    if not _NUMBER.fullmatch(value) or not math.isfinite(float(value)):
        raise _NotConvertedError(answer.line, f"'{value}' is not a number")
    accepted = [value]
    if _DECIMAL.fullmatch(value):
        accepted.append(value.replace(".", ","))  # what an Italian learner types
    feedback = [
        _feedback_line(_escape_literal(value), answer.feedback, answer.line),
        _feedback_line(None, item.wrong_feedback, item.line),
    ]
    return QuizQuestion(
        gift_line=item.line,
        text=_question_text(item),
        kind=QuestionKind.SHORT,
        answers=tuple(accepted),
        explanation=_explanation(item, feedback),
    )


_NOT_QUESTIONS = {
    GiftKind.ESSAY: "essay question ({}): it needs a person to mark it, and the Markdown quiz"
    " has no essay questions",
    GiftKind.MATCHING: "matching question (->): the Markdown quiz has no matching questions",
    GiftKind.DESCRIPTION: "description without an answer block {…}: not a question (put the"
    " text in a page, or in the quiz's introduction)",
}


def _checked(question: QuizQuestion) -> QuizQuestion:
    """*question* with its kind as quizparse reads it back; not converted if it would not parse."""
    parsed, errors = parse_quiz(question.markdown())
    if errors:
        raise _NotConvertedError(
            question.gift_line, f"the converted question would not be valid: {errors[0].message}"
        )
    (back,) = parsed
    same = (
        back.text == question.text
        and back.answers == question.answers
        and back.explanation == question.explanation
        and [(o.text, o.correct) for o in back.options]
        == [(o.text, o.correct) for o in question.options]
    )
    if not same:
        raise _NotConvertedError(
            question.gift_line, "the converter cannot write this question faithfully"
        )
    return QuizQuestion(
        gift_line=question.gift_line,
        text=question.text,
        kind=back.kind,
        options=question.options,
        answers=question.answers,
        explanation=question.explanation,
    )


def _convert_item(item: GiftItem) -> QuizQuestion:
    """The converted question; raises _NotConvertedError saying why not."""
    if item.kind is GiftKind.INVALID:
        raise _NotConvertedError(item.line, item.problem)
    if item.kind in _NOT_QUESTIONS:
        raise _NotConvertedError(item.line, _NOT_QUESTIONS[item.kind])
    converters = {
        GiftKind.MULTIPLE_CHOICE: _choice,
        GiftKind.TRUE_FALSE: _true_false,
        GiftKind.SHORT_ANSWER: _short_answer,
        GiftKind.NUMERICAL: _numerical,
    }
    return _checked(converters[item.kind](item))


def convert_gift(text: str) -> Conversion:
    """Convert the text of a GIFT file; see the module docstring for what goes where."""
    questions: list[QuizQuestion] = []
    reports: list[Report] = []
    found = 0
    for item in parse_gift(text):
        if item.kind is GiftKind.CATEGORY:
            reports.append(
                Report(
                    item.line,
                    ReportKind.NOTE,
                    f"category '{item.category}' (Moodle's question bank) is not kept in the quiz",
                )
            )
            continue
        found += 1
        try:
            questions.append(_convert_item(item))
        except _NotConvertedError as problem:
            reports.append(Report(problem.line, ReportKind.NOT_CONVERTED, problem.message))
    return Conversion(tuple(questions), tuple(reports), found)


# Writing ------------------------------------------------------------------


def title_from_filename(stem: str) -> str:
    """A module title from a file name without suffix: ``verifica_fondi`` → ``Verifica fondi``."""
    words = " ".join(re.sub(r"[-_]+", " ", stem).split())
    return words[:1].upper() + words[1:] if words else "Quiz"


def quiz_module(questions: tuple[QuizQuestion, ...] | list[QuizQuestion], title: str) -> str:
    """A quiz module file (front matter and questions) holding *questions*."""
    front = yaml.safe_dump(
        {"title": " ".join(title.split()), "type": "quiz"},
        allow_unicode=True,
        sort_keys=False,
        width=1_000_000,
    )
    return f"---\n{front}---\n\n" + "\n".join(question.markdown() for question in questions)
