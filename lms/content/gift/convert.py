"""Turn parsed GIFT items into questions of the Markdown quiz syntax, and write the module.

:func:`convert_gift` turns each GIFT item into a :class:`QuizQuestion`, or reports,
with its line, why it cannot: a question is either converted so that "full credit
in Moodle" and "right here" mean the same thing, or it is not converted at all.
Nothing is dropped silently. Every question is checked with
:func:`~lms.content.quiz.parse_quiz` before it is accepted, so the file that
:func:`quiz_module` writes always parses without errors.

What goes where:

- Question names (``::name::``) are not shown to learners in Moodle, and are not
  written; ``//`` comments (Moodle's ``// question: N name: X`` too) are dropped.
- General feedback (``####``) becomes the explanation block quote; per-answer
  feedback (``#`` after an answer) is added to it as ``Risposta «…»: …`` lines.
- Categories are reported as notes: the quiz page is for learners, and the
  Moodle question-bank path means nothing to them.
- Texts become Markdown as :mod:`lms.content.gift.html_to_markdown` says.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from enum import StrEnum

import yaml

from lms.content.gift.html_to_markdown import escape_literal, one_line, plain_text, to_markdown
from lms.content.gift.parser import BLANK, GiftItem, GiftKind, GiftText, parse_gift
from lms.content.quiz import QuestionKind, normalise_short_answer, parse_quiz
from lms.content.syntax import HEADING_ATTRIBUTES, HEADING_CLOSING_HASHES

__all__ = [
    "FALSE_LABEL",
    "TRUE_LABEL",
    "Conversion",
    "QuizOption",
    "QuizQuestion",
    "Report",
    "ReportKind",
    "convert_gift",
    "quiz_module",
    "title_from_filename",
]

TRUE_LABEL = "Vero"
FALSE_LABEL = "Falso"
#: Label of the feedback Moodle gives to any answer not listed (``~#…``, ``=%0%*#…``).
OTHER_ANSWERS_LABEL = "Qualsiasi altra risposta"
#: Tolerance on the sum of the weights of a multiple-answer question (33.333 x 3 is fine).
WEIGHT_TOLERANCE = 0.5
FULL_CREDIT = 100.0


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


# Converting ---------------------------------------------------------------

#: Stands for :data:`BLANK` while a question text is converted.
_GAP = "\ue0b1"


def _heading_text(markdown: str) -> str:
    """One-line Markdown that the quiz parser reads back unchanged from a ``## `` heading."""
    text = one_line(markdown)
    hashes = HEADING_CLOSING_HASHES.search(text)
    if hashes is not None:  # the parser would take them off as the closing sequence
        text = text[: hashes.start()] + hashes.group(0).rstrip().replace("#", "\\#")
    if HEADING_ATTRIBUTES.search(text):
        brace = text.rindex("}")
        text = f"{text[:brace]}&#125;{text[brace + 1 :]}"
    return text


class _NotConvertedError(Exception):
    """A question that cannot be converted: *line* and message."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _markdown_of(text: GiftText, line: int) -> str:
    markdown, problems = to_markdown(text)
    if problems:
        raise _NotConvertedError(line, problems[0])
    return markdown


def _percent(weight: float) -> str:
    return f"{weight:g}%"


def _feedback_line(label: str | None, feedback: GiftText | None, line: int) -> str | None:
    """``- Risposta «label»: feedback`` (label None: any other answer), or None."""
    if feedback is None:
        return None
    text = one_line(_markdown_of(feedback, line))
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


def _question(
    item: GiftItem,
    kind: QuestionKind,
    feedback: list[str | None],
    *,
    options: tuple[QuizOption, ...] = (),
    answers: tuple[str, ...] = (),
) -> QuizQuestion:
    """*item* as a question of *kind*: its text, and the explanation from its feedback."""
    return QuizQuestion(
        gift_line=item.line,
        text=_question_text(item),
        kind=kind,
        options=options,
        answers=answers,
        explanation=_explanation(item, feedback),
    )


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
        text = one_line(_markdown_of(answer.text, answer.line))
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
    # The real kind comes from parse_quiz in _checked.
    return _question(item, QuestionKind.SINGLE, feedback, options=tuple(options))


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
    options = (QuizOption(TRUE_LABEL, bool(item.truth)), QuizOption(FALSE_LABEL, not item.truth))
    return _question(item, QuestionKind.TRUE_FALSE, feedback, options=options)


_WILDCARD = re.compile(r"(?<!\\)\*")


def _short_answer(item: GiftItem) -> QuizQuestion:
    """Short answer: full-credit answers are accepted, 0% (or less) ones only give feedback."""
    accepted: list[str] = []
    keys: set[str] = set()
    feedback: list[str | None] = []
    for answer in item.answers:
        weight = FULL_CREDIT if answer.weight is None else answer.weight
        text = plain_text(answer.text)
        if weight > FULL_CREDIT:
            raise _NotConvertedError(answer.line, f"weight {_percent(weight)} is out of range")
        if 0 < weight < FULL_CREDIT:
            raise _NotConvertedError(
                answer.line,
                f"partial credit ({_percent(weight)}) for '{text}': the Markdown quiz gives"
                " full or no credit",
            )
        if weight <= 0:
            label = None if text == "*" else escape_literal(text.replace("\\*", "*"))
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
        feedback.append(_feedback_line(escape_literal(text), answer.feedback, answer.line))
        if normalise_short_answer(text) not in keys:  # same answer twice: harmless, keep one
            keys.add(normalise_short_answer(text))
            accepted.append(text)
    if not accepted:
        raise _NotConvertedError(item.line, "no fully right answer")
    return _question(item, QuestionKind.SHORT, feedback, answers=tuple(accepted))


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
        _feedback_line(escape_literal(value), answer.feedback, answer.line),
        _feedback_line(None, item.wrong_feedback, item.line),
    ]
    return _question(item, QuestionKind.SHORT, feedback, answers=tuple(accepted))


_NOT_QUESTIONS = {
    GiftKind.ESSAY: "essay question ({}): it needs a person to mark it, and the Markdown quiz"
    " has no essay questions",
    GiftKind.MATCHING: "matching question (->): the Markdown quiz has no matching questions",
    GiftKind.DESCRIPTION: "description without an answer block {…}: not a question (put the"
    " text in a page, or in the quiz's introduction)",
}


def _checked(question: QuizQuestion) -> QuizQuestion:
    """*question* with its kind as parse_quiz reads it back; not converted if it would not parse."""
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
    return replace(question, kind=back.kind)


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
