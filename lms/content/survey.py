"""Parse the Markdown survey syntax of docs/content-format into questions.

A survey module (``type: survey``) is Markdown: the text before the first
question is its introduction; each level-2 heading is a question. A bullet list
under a heading is the question's scale, its items the labels in order (2 to
10); a heading with no list gets the 1–5 agreement scale in the course's
language; ``{testo}`` (or ``{text}``) at the end of a heading makes a free-text
question, ``{facoltativa}`` (or ``{optional}``) an optional one. Every problem
is reported with its line, not only the first. No Flask here: only parsing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from lms.content.errors import ContentError
from lms.content.syntax import intro, question_sections

__all__ = [
    "AGREEMENT_SCALES",
    "MAX_LABELS",
    "MIN_LABELS",
    "SurveyKind",
    "SurveyQuestion",
    "parse_survey",
    "survey_intro",
]

#: A scale has 2 to 10 points.
MIN_LABELS = 2
MAX_LABELS = 10

#: The scale of a question without a list: five points of agreement, per language.
AGREEMENT_SCALES: dict[str, tuple[str, ...]] = {
    "it": (
        "Per niente d'accordo",
        "Poco d'accordo",
        "Né d'accordo né in disaccordo",
        "Abbastanza d'accordo",
        "Del tutto d'accordo",
    ),
    "en": (
        "Strongly disagree",
        "Disagree",
        "Neither agree nor disagree",
        "Agree",
        "Strongly agree",
    ),
}

#: The words a heading's trailing ``{…}`` may hold, and what each sets.
_TEXT_WORDS = frozenset({"testo", "text"})
_OPTIONAL_WORDS = frozenset({"facoltativa", "facoltativo", "optional"})

#: One or more ``{…}`` groups at the end of a heading: the question's attributes.
_ATTRIBUTES = re.compile(r"(?:\s*\{[^{}]*\})+\s*$")
_GROUP = re.compile(r"\{([^{}]*)\}")
_LIST_ITEM = re.compile(r" {0,3}([-*+])(?:[ \t]+(.*))?")
_ORDERED_ITEM = re.compile(r" {0,3}[0-9]{1,9}[.)](?:[ \t]|$)")
_TASK = re.compile(r"\[[ xX]\](?:[ \t].*)?")
_CONTINUATION = re.compile(r"(?: {2,}|\t)\S")


class SurveyKind(StrEnum):
    """How a question is answered."""

    SCALE = "scale"  # one point of a scale (radio buttons)
    TEXT = "text"  # free text (a text area)


@dataclass(frozen=True)
class SurveyQuestion:
    """One question; *text* and *labels* are raw Markdown (inline)."""

    text: str
    kind: SurveyKind
    line: int
    #: The scale's labels in order (point 1 first); empty for a free-text question.
    labels: tuple[str, ...] = ()
    optional: bool = False
    #: Whether *labels* are the default agreement scale (no list under the heading).
    default_scale: bool = False


def survey_intro(body: str) -> str:
    """The introduction before the first question (Markdown, possibly empty)."""
    return intro(body)


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


@dataclass
class _Draft:
    """A question while its lines are read."""

    heading: str
    line: int
    labels: list[tuple[int, str]] = field(default_factory=list)
    #: Whether the previous line was a label (an indented line continues it).
    continuable: bool = False
    in_stray_block: bool = False
    task_reported: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)


def _error(draft: _Draft, number: int, message: str) -> None:
    draft.errors.append((number, message))


def _stray(draft: _Draft, number: int, message: str) -> None:
    """One error per run of unexpected lines, not one per line."""
    if not draft.in_stray_block:
        draft.errors.append((number, message))
    draft.in_stray_block = True


def _read_line(draft: _Draft, number: int, line: str) -> None:
    if not line.strip():
        draft.continuable = False
        draft.in_stray_block = False
        return
    item = _LIST_ITEM.fullmatch(line)
    if draft.continuable and item is None and _CONTINUATION.match(line):
        label_line, label = draft.labels[-1]
        draft.labels[-1] = (label_line, f"{label} {line.strip()}")
        return
    draft.continuable = False
    if item is not None:
        draft.in_stray_block = False
        label = (item.group(2) or "").strip()
        if _TASK.fullmatch(label):
            if not draft.task_reported:
                _error(
                    draft,
                    number,
                    "a task list ('- [ ] …') is for quizzes: a survey's scale is a plain"
                    " bullet list ('- Per nulla'); for a quiz, write 'type: quiz'",
                )
            draft.task_reported = True
            return
        if not label:
            draft.errors.append((number, "empty scale label: write its text after the '-'"))
        draft.labels.append((number, label))
        draft.continuable = True
        return
    if _ORDERED_ITEM.match(line):
        _stray(draft, number, "a scale is a bullet list ('- label'), not a numbered one")
        return
    _stray(
        draft,
        number,
        "unexpected text: a survey question holds only its scale, a bullet list"
        " ('- label'); start the next question with '## '",
    )


def _attributes(draft: _Draft) -> tuple[str, bool, bool]:
    """The question's text without its trailing ``{…}``, and whether free text, optional."""
    match = _ATTRIBUTES.search(draft.heading)
    if match is None:
        return draft.heading, False, False
    text = draft.heading[: match.start()].rstrip()
    free_text = optional = False
    for group in _GROUP.findall(match.group(0)):
        words = [word for word in re.split(r"[\s,;]+", group.strip()) if word]
        if not words:
            draft.errors.append(
                (draft.line, "empty attribute {}: write {testo} or {facoltativa}, or remove it")
            )
        for word in words:
            key = word.casefold()
            if key in _TEXT_WORDS:
                free_text = True
            elif key in _OPTIONAL_WORDS:
                optional = True
            else:
                _error(
                    draft,
                    draft.line,
                    f"unknown attribute {{{word}}}: a survey question takes only"
                    " {testo} (free text) and {facoltativa} (optional)",
                )
    return text, free_text, optional


def _check_labels(draft: _Draft, free_text: bool) -> None:  # noqa: FBT001
    """The scale's problems: labels under a free-text question, too few or too many, twins."""
    labels = draft.labels
    if free_text:
        if labels:
            _error(
                draft,
                labels[0][0],
                "a free-text question ({testo}) has no scale: remove the list or the {testo}",
            )
    elif len(labels) == 1:
        _error(
            draft,
            draft.line,
            f"only one label: a scale needs {MIN_LABELS} to {MAX_LABELS}"
            " (or no list, for the 1–5 agreement scale)",
        )
    elif len(labels) > MAX_LABELS:
        _error(
            draft,
            labels[MAX_LABELS][0],
            f"{len(labels)} labels: a scale has at most {MAX_LABELS}",
        )
    seen: dict[str, int] = {}
    for number, label in draft.labels:
        key = _normalise(label)
        if key and key in seen:
            draft.errors.append((number, f"duplicate label '{label}' (same as line {seen[key]})"))
        seen.setdefault(key, number)


def _finish(draft: _Draft, language: str) -> SurveyQuestion | None:
    """Check a complete question; its errors go to draft.errors."""
    text, free_text, optional = _attributes(draft)
    if not text:
        _error(draft, draft.line, "question without text")
    _check_labels(draft, free_text)
    labels = [label for _, label in draft.labels]
    if draft.errors:
        return None
    if free_text:
        return SurveyQuestion(text, SurveyKind.TEXT, draft.line, optional=optional)
    if labels:
        return SurveyQuestion(text, SurveyKind.SCALE, draft.line, tuple(labels), optional)
    scale = AGREEMENT_SCALES.get(language, AGREEMENT_SCALES["it"])
    return SurveyQuestion(text, SurveyKind.SCALE, draft.line, scale, optional, default_scale=True)


def parse_survey(
    body: str, *, first_line: int = 1, language: str = "it"
) -> tuple[list[SurveyQuestion], list[ContentError]]:
    """Parse a survey body into questions, and every error found, with its line.

    *first_line* is the line of the file where *body* starts, so that errors
    point into the file; *language* (the course's) chooses the labels of the
    default agreement scale. Questions with errors are left out of the list.
    """
    questions: list[SurveyQuestion] = []
    problems: list[tuple[int, str]] = []
    sections = question_sections(body, first_line=first_line)
    for section in sections:
        draft = _Draft(heading=section.heading, line=section.line)
        for number, line in section.lines:
            if line is None:
                _stray(draft, number, "code blocks cannot go inside a question")
            else:
                _read_line(draft, number, line)
        question = _finish(draft, language)
        problems.extend(draft.errors)
        if question is not None:
            questions.append(question)
    if not sections:
        problems.append((first_line, "a survey needs at least one question (a '## …' heading)"))
    problems.sort(key=lambda problem: problem[0])
    return questions, [ContentError(None, number, message) for number, message in problems]
