"""Parse the Markdown quiz syntax of docs/content-format into questions.

A level-2 heading is a question; a task list under it gives the options (checked
boxes are the correct answers) or ``= answer`` lines give the accepted short
answers; a block quote after them is the explanation. Every problem is reported
with its line, not only the first. No Flask here, and no grading: only parsing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from lms.content.errors import ContentError
from lms.content.syntax import HEADING_ATTRIBUTES, HEADING_CLOSING_HASHES
from lms.markdown import fenced_code_lines

__all__ = [
    "Option",
    "Question",
    "QuestionKind",
    "normalise_short_answer",
    "parse_quiz",
    "quiz_intro",
]


class QuestionKind(StrEnum):
    """How a question is answered."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    SHORT = "short"


@dataclass(frozen=True)
class Option:
    """One answer option; *id* is its letter by position (a, b, …, z, aa, ab, …)."""

    id: str
    text: str
    correct: bool
    line: int


@dataclass(frozen=True)
class Question:
    """One question; *text*, option texts and *explanation* are raw Markdown."""

    text: str
    points: int
    kind: QuestionKind
    line: int
    options: tuple[Option, ...] = ()
    #: Accepted short answers as written (compare with normalise_short_answer).
    answers: tuple[str, ...] = ()
    explanation: str = ""


_TRUE_FALSE = ({"vero", "falso"}, {"true", "false"})

_HEADING = re.compile(r"(#{1,6})(.*)")
_POINTS = re.compile(r"\s*points\s*=\s*(\S*)\s*")
_LIST_ITEM = re.compile(r" {0,3}([-*+])(?:[ \t]+(.*))?")
_ORDERED_ITEM = re.compile(r" {0,3}[0-9]{1,9}[.)](?:[ \t]|$)")
_TASK = re.compile(r"\[([ xX])\][ \t]*(.*)")
_SHORT = re.compile(r" {0,3}=(.*)")
_QUOTE = re.compile(r" {0,3}>[ ]?(.*)")
_CONTINUATION = re.compile(r"(?: {2,}|\t)\S")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})


def normalise_short_answer(text: str) -> str:
    """A short answer as compared: case, surrounding and repeated spaces ignored.

    Also NFC-normalised and with typographic apostrophes made straight, so that
    ``dell’Unione`` typed on a phone matches ``dell'Unione``.
    """
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    return " ".join(text.split()).casefold()


def _option_id(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters


def _level2_heading(line: str) -> str | None:
    """The text of a ``## heading`` line (as Python-Markdown reads it), else None."""
    match = _HEADING.fullmatch(line.rstrip())
    if match is None or len(match.group(1)) != 2:  # noqa: PLR2004 - level 2
        return None
    return HEADING_CLOSING_HASHES.sub("", match.group(2)).strip()


def quiz_intro(body: str) -> str:
    """The instructions before the first question (Markdown, possibly empty)."""
    lines = body.split("\n")
    code = fenced_code_lines(lines)
    for index, line in enumerate(lines):
        if not code[index] and _level2_heading(line) is not None:
            return "\n".join(lines[:index]).strip()
    return body.strip()


@dataclass
class _Draft:
    """A question while its lines are read."""

    heading: str
    line: int
    options: list[Option] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    #: "options" until the explanation starts, then "explanation".
    stage: str = "options"
    #: Whether the previous line could be continued (an option or quote line).
    continuable: str | None = None
    in_stray_block: bool = False
    #: Whether a list item without a valid checkbox was seen (then the options are incomplete).
    broken_options: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)


def _stray(draft: _Draft, number: int, message: str) -> None:
    """One error per run of unexpected lines, not one per line."""
    if not draft.in_stray_block:
        draft.errors.append((number, message))
    draft.in_stray_block = True


def _read_line(draft: _Draft, number: int, line: str) -> None:  # noqa: C901, PLR0911
    if not line.strip():
        draft.continuable = None
        draft.in_stray_block = False
        if draft.stage == "explanation":
            draft.explanation.append("")
        return
    quote = _QUOTE.fullmatch(line)
    item = _LIST_ITEM.fullmatch(line)
    short = _SHORT.fullmatch(line)
    if quote is not None:
        draft.in_stray_block = False
        if not draft.options and not draft.answers:
            _stray(draft, number, "the explanation (> …) must come after the options")
            return
        draft.stage = "explanation"
        draft.explanation.append(quote.group(1))
        draft.continuable = "quote"
        return
    if draft.continuable == "quote" and item is None and short is None:
        draft.explanation.append(line.strip())  # a lazy continuation of the block quote
        return
    if draft.continuable == "option" and item is None and _CONTINUATION.match(line):
        last = draft.options[-1]
        draft.options[-1] = Option(last.id, f"{last.text} {line.strip()}", last.correct, last.line)
        return
    if draft.stage == "explanation":
        _stray(draft, number, "unexpected text after the explanation (start a question with ##)")
        return
    if item is not None:
        draft.in_stray_block = False
        _read_option(draft, number, item.group(2) or "")
        return
    draft.continuable = None
    if short is not None:
        draft.in_stray_block = False
        answer = short.group(1).strip()
        if not answer or set(answer) == {"="}:
            draft.errors.append((number, "empty answer after '='"))
        else:
            draft.answers.append((number, answer))
        return
    if _ORDERED_ITEM.match(line):
        _stray(draft, number, "options must be a bullet list ('- [ ] text'), not a numbered one")
        return
    where = "between the options" if draft.options or draft.answers else "before the options"
    _stray(
        draft,
        number,
        f"unexpected text {where}: a question holds only its options"
        " ('- [ ] …' or '= …') and then a '> …' explanation",
    )


def _read_option(draft: _Draft, number: int, item: str) -> None:
    task = _TASK.fullmatch(item)
    if task is None:
        draft.errors.append(
            (number, "option without a checkbox: write '- [ ] text' or '- [x] text'")
        )
        draft.broken_options = True
        draft.continuable = None
        return
    text = task.group(2).strip()
    if not text:
        draft.errors.append((number, "empty option"))
    draft.options.append(
        Option(_option_id(len(draft.options)), text, task.group(1) in "xX", number)
    )
    draft.continuable = "option"


def _points(draft: _Draft) -> tuple[str, int]:
    """The question text without ``{points=N}``, and N (1 by default)."""
    match = HEADING_ATTRIBUTES.search(draft.heading)
    if match is None:
        return draft.heading, 1
    text = draft.heading[: match.start()].rstrip()
    points = _POINTS.fullmatch(match.group(1))
    if points is None:
        draft.errors.append(
            (draft.line, f"unknown attribute {{{match.group(1).strip()}}}: only {{points=N}}")
        )
        return text, 1
    value = points.group(1)
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        draft.errors.append(
            (draft.line, f"points must be a whole number of at least 1, not '{value}'")
        )
        return text, 1
    return text, int(value)


def _finish(draft: _Draft) -> Question | None:  # noqa: C901, PLR0912
    """Check a complete question; its errors go to draft.errors."""
    text, points = _points(draft)
    if not text:
        draft.errors.append((draft.line, "question without text"))
    explanation = "\n".join(draft.explanation).strip()
    kind: QuestionKind | None = None
    if draft.options and draft.answers:
        draft.errors.append(
            (
                draft.answers[0][0],
                "a question has either options (- [ ]) or short answers (= …), not both",
            )
        )
    elif draft.answers:
        kind = QuestionKind.SHORT
        seen: dict[str, int] = {}
        for number, answer in draft.answers:
            key = normalise_short_answer(answer)
            if key in seen:
                draft.errors.append(
                    (number, f"duplicate answer '{answer}' (same as line {seen[key]})")
                )
            seen.setdefault(key, number)
    elif draft.options:
        seen = {}
        for option in draft.options:
            key = normalise_short_answer(option.text)
            if key and key in seen:
                draft.errors.append(
                    (option.line, f"duplicate option '{option.text}' (same as line {seen[key]})")
                )
            seen.setdefault(key, option.line)
        if draft.broken_options:
            return None  # counting options that are known to be incomplete would mislead
        correct = sum(option.correct for option in draft.options)
        texts = {normalise_short_answer(option.text) for option in draft.options}
        if len(draft.options) == 2 and texts in _TRUE_FALSE:  # noqa: PLR2004 - a pair
            if correct != 1:
                draft.errors.append(
                    (draft.line, "a true/false question needs exactly one checked answer")
                )
            kind = QuestionKind.TRUE_FALSE
        elif len(draft.options) < 2:  # noqa: PLR2004 - a choice needs two options
            draft.errors.append(
                (
                    draft.line,
                    "only one option: add wrong options, or use '= answer' for a short answer",
                )
            )
        elif correct == 0:
            draft.errors.append((draft.line, "no correct answer: check at least one box [x]"))
        else:
            kind = QuestionKind.SINGLE if correct == 1 else QuestionKind.MULTIPLE
    else:
        draft.errors.append((draft.line, "question without options ('- [ ] …') or answers ('= …')"))
    if draft.errors or kind is None:
        return None
    return Question(
        text=text,
        points=points,
        kind=kind,
        line=draft.line,
        options=tuple(draft.options) if kind is not QuestionKind.SHORT else (),
        answers=tuple(answer for _, answer in draft.answers),
        explanation=explanation,
    )


def parse_quiz(body: str, *, first_line: int = 1) -> tuple[list[Question], list[ContentError]]:
    """Parse a quiz body into questions, and every error found, with its line.

    *first_line* is the line of the file where *body* starts, so that errors point
    into the file. Questions with errors are left out of the list.
    """
    lines = body.split("\n")
    code = fenced_code_lines(lines)
    questions: list[Question] = []
    problems: list[tuple[int, str]] = []
    draft: _Draft | None = None
    fence_reported = False

    def close() -> None:
        if draft is not None:
            question = _finish(draft)
            problems.extend(draft.errors)
            if question is not None:
                questions.append(question)

    for index, line in enumerate(lines):
        number = first_line + index
        heading = None if code[index] else _level2_heading(line)
        if heading is not None:
            close()
            draft = _Draft(heading=heading, line=number)
            fence_reported = False
        elif draft is None:
            continue  # the intro: any Markdown
        elif code[index]:
            if not fence_reported:
                _stray(draft, number, "code blocks cannot go inside a question")
            fence_reported = True
        else:
            fence_reported = False
            _read_line(draft, number, line)
    close()
    if draft is None:
        problems.append((first_line, "a quiz needs at least one question (a '## …' heading)"))
    problems.sort(key=lambda problem: problem[0])
    return questions, [ContentError(None, number, message) for number, message in problems]
