r"""Read a Moodle GIFT question file the way Moodle's own importer does.

Moodle's importer is ``question/format/gift/format.php``: questions are separated
by blank lines, ``//`` lines are comments, ``$CATEGORY:`` sets a category,
``::name::`` names a question, ``[html]``/``[moodle]``/``[plain]``/``[markdown]``
set a text's format, ``\~ \= \# \{ \} \: \n \\`` are escapes, and the first
``{…}`` holds the answers (text after it makes a missing-word question).
:func:`parse_gift` gives every item with its line, and an INVALID item, saying
why, for anything Moodle would refuse. Pure: no Flask, no files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = [
    "BLANK",
    "GiftAnswer",
    "GiftItem",
    "GiftKind",
    "GiftPair",
    "GiftText",
    "TextFormat",
    "decode_gift",
    "parse_gift",
]

#: The gap of a missing-word question (Moodle inserts the same).
BLANK = "_____"


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
class GiftPair:
    """One ``=left -> right`` line of a matching question; *left* empty: a distractor."""

    line: int
    left: GiftText
    right: str


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
    #: Matching: the pairs (Moodle's subquestions and their answers).
    pairs: tuple[GiftPair, ...] = ()
    #: ``$CATEGORY:`` path.
    category: str = ""
    #: Why an INVALID item cannot be read (its *line* is where the problem is).
    problem: str = ""


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
        return _matching(source, item, start, end)
    truth, *feedbacks = answer_text.split("#", 2)
    if truth.strip() in _TRUE_FALSE_ANSWERS:
        wrong_text, right_text = (*feedbacks, "", "")[:2]
        return replace(
            item,
            kind=GiftKind.TRUE_FALSE,
            truth=_TRUE_FALSE_ANSWERS[truth.strip()],
            wrong_feedback=_with_format(wrong_text, fmt) if wrong_text.strip() else None,
            right_feedback=_with_format(right_text, fmt) if right_text.strip() else None,
        )
    answers = tuple(_answer(source, piece, fmt) for piece in _pieces(source, start, end, "="))
    return replace(item, kind=GiftKind.SHORT_ANSWER, answers=answers)


def _matching(source: _Source, item: GiftItem, start: int, end: int) -> GiftItem:
    """A matching item: ``=left -> right`` pieces, as Moodle's importer splits them.

    The left side keeps the question's text format; the right side is plain text.
    A piece without ``->`` makes the item INVALID, as Moodle refuses it.
    """
    pairs = []
    for _, raw, position in _pieces(source, start, end, "="):
        lead = len(raw) - len(raw.lstrip())
        line = source.line(position + lead)
        left, arrow, right = raw.partition("->")
        if not arrow:
            return _invalid(
                line, f"matching answer '{_restore(raw).strip()}' without '->'", name=item.name
            )
        pairs.append(
            GiftPair(line, _with_format(left, item.text.format), " ".join(_restore(right).split()))
        )
    return replace(item, kind=GiftKind.MATCHING, pairs=tuple(pairs))


def parse_gift(text: str) -> list[GiftItem]:
    """Every item of a GIFT file (its text, as from :func:`decode_gift`), in order.

    Comments give no item; a category gives a CATEGORY item; anything Moodle
    would refuse gives an INVALID item saying why.
    """
    return [item for line, raw in _blocks(text) for item in _parse_item(line, raw)]
