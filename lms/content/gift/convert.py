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
- Weights (``~%50%``, ``=%75%``) become the quiz syntax's ``{50%}``; several
  fully right answers of a choice (``{=a =b ~c}``: any of them) become checked
  options worth ``{100%}`` each; numerical answers keep their tolerances and
  ranges (``1822:2`` is ``1822 ± 2``); matching questions keep their pairs.
- The words the converter writes itself (Vero/Falso, the feedback labels) and
  the numbers are in the quiz's language: :data:`LABELS`, Italian by default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import yaml

from lms.content.gift.html_to_markdown import escape_literal, one_line, plain_text, to_markdown
from lms.content.gift.parser import BLANK, GiftAnswer, GiftItem, GiftKind, GiftText, parse_gift
from lms.content.quiz import FULL_CREDIT, QuestionKind, normalise_short_answer, parse_quiz
from lms.content.syntax import HEADING_ATTRIBUTES, HEADING_CLOSING_HASHES

__all__ = [
    "FALSE_LABEL",
    "LABELS",
    "LANGUAGES",
    "TRUE_LABEL",
    "Conversion",
    "Labels",
    "QuizOption",
    "QuizQuestion",
    "Report",
    "ReportKind",
    "convert_gift",
    "quiz_module",
    "title_from_filename",
]


@dataclass(frozen=True)
class Labels:
    """The words the converter writes in a quiz, in one language."""

    true: str
    false: str
    #: ``- Risposta «…»: feedback``: the feedback of one answer.
    answer_feedback: str
    #: The feedback Moodle gives to any answer not listed (``~#…``, ``=%0%*#…``).
    other_answers: str
    #: The decimal separator of the numbers written (``3,14`` in Italian).
    decimal_mark: str


#: Per language of a course (``language:`` in course.md).
LABELS: dict[str, Labels] = {
    "it": Labels("Vero", "Falso", "Risposta «{answer}»", "Qualsiasi altra risposta", ","),
    "en": Labels("True", "False", "Answer “{answer}”", "Any other answer", "."),
}
LANGUAGES = tuple(LABELS)
TRUE_LABEL = LABELS["it"].true
FALSE_LABEL = LABELS["it"].false
#: Tolerance on the sum of the weights of a multiple-answer question (33.333 x 3 is fine).
WEIGHT_TOLERANCE = Decimal("0.5")


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
    """An option of a converted question: Markdown text, whether it is right, its weight."""

    text: str
    correct: bool
    #: Percent, written ``{50%}`` after the box; None: none written.
    weight: Decimal | None = None


@dataclass(frozen=True)
class QuizQuestion:
    """A question in the Markdown quiz syntax: text, options and explanation are Markdown.

    *answers* are short answers, written as is (they are compared, not rendered), or
    a numerical question's values as written (``1822 ± 2``, ``3,141..3,142``).
    """

    gift_line: int
    text: str
    kind: QuestionKind
    options: tuple[QuizOption, ...] = ()
    answers: tuple[str, ...] = ()
    explanation: str = ""
    #: The weight of each of *answers* (None: full credit), same order.
    answer_weights: tuple[Decimal | None, ...] = ()
    #: Matching: (left, right) Markdown; a left side of "" is a distractor.
    pairs: tuple[tuple[str, str], ...] = ()
    #: The decimal separator of the weights written.
    decimal_mark: str = field(default=",", compare=False)

    def _weight(self, weight: Decimal | None) -> str:
        return "" if weight is None else f"{{{_number(weight, self.decimal_mark)}%}} "

    def markdown(self) -> str:
        """The question as written in a module file (ending with a newline)."""
        lines = [f"## {self.text}"]
        if self.kind in (QuestionKind.SHORT, QuestionKind.NUMERICAL):
            weights = self.answer_weights or (None,) * len(self.answers)
            lines += [
                f"= {self._weight(weight)}{answer}"
                for answer, weight in zip(self.answers, weights, strict=True)
            ]
        elif self.kind is QuestionKind.MATCHING:
            lines += [
                f"- {left} -> {right}" if left else f"- -> {right}" for left, right in self.pairs
            ]
        else:
            lines += [
                f"- [{'x' if o.correct else ' '}] {self._weight(o.weight)}{o.text}"
                for o in self.options
            ]
        if self.explanation:
            lines.append("")
            lines += [f"> {line}" if line else ">" for line in self.explanation.split("\n")]
        return "\n".join(lines) + "\n"


def _number(value: Decimal, decimal_mark: str) -> str:
    """A number as written in the quiz file: fixed notation, the language's decimal mark."""
    text = f"{value.normalize():f}" if value else "0"
    return text.replace(".", decimal_mark)


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


@dataclass
class _Context:
    """What converting one item needs besides the item: the language, and notes to report."""

    labels: Labels
    notes: list[Report] = field(default_factory=list)

    def note(self, line: int, message: str) -> None:
        self.notes.append(Report(line, ReportKind.NOTE, message))


def _markdown_of(text: GiftText, line: int) -> str:
    markdown, problems = to_markdown(text)
    if problems:
        raise _NotConvertedError(line, problems[0])
    return markdown


def _percent(weight: Decimal) -> str:
    return f"{_number(weight, '.')}%"


def _feedback_line(
    context: _Context, label: str | None, feedback: GiftText | None, line: int
) -> str | None:
    """``- Risposta «label»: feedback`` (label None: any other answer), or None."""
    if feedback is None:
        return None
    text = one_line(_markdown_of(feedback, line))
    if not text:
        return None
    labels = context.labels
    who = labels.answer_feedback.format(answer=label) if label is not None else labels.other_answers
    return f"- {who}: {text}"


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
    context: _Context,
    kind: QuestionKind,
    feedback: list[str | None],
    **parts: object,
) -> QuizQuestion:
    """*item* as a question of *kind*: its text, and the explanation from its feedback."""
    return QuizQuestion(
        gift_line=item.line,
        text=_question_text(item),
        kind=kind,
        explanation=_explanation(item, feedback),
        decimal_mark=context.labels.decimal_mark,
        **parts,  # type: ignore[arg-type]
    )


def _weight_of(answer: GiftAnswer) -> Decimal | None:
    """The ``%N%`` weight of *answer*, exactly as written, or None."""
    if answer.weight is None:
        return None
    weight = Decimal(str(answer.weight))
    if abs(weight) > FULL_CREDIT:
        raise _NotConvertedError(answer.line, f"weight {_percent(weight)} is out of range")
    return weight


def _choice_weights(item: GiftItem) -> list[Decimal]:
    """The credit of each answer of a multiple-choice item, as Moodle gives it.

    With an ``=`` answer (one choice) an ``=`` is worth 100% unless weighted, a ``~``
    0% unless weighted, and one answer must be worth 100%; without one (several
    choices) the positive weights must add up to 100%.
    """
    weights = []
    for answer in item.answers:
        weight = _weight_of(answer)
        weights.append(
            weight if weight is not None else FULL_CREDIT if answer.prefix == "=" else Decimal(0)
        )
    if any(answer.prefix == "=" for answer in item.answers):
        if FULL_CREDIT not in weights:
            raise _NotConvertedError(
                item.line, "no answer worth 100%: one of the choices must earn full credit"
            )
        return weights
    total = sum((w for w in weights if w > 0), Decimal(0))
    if total == 0:
        raise _NotConvertedError(item.line, "no right answer (no '=' and no positive weight)")
    if abs(total - FULL_CREDIT) > WEIGHT_TOLERANCE:
        raise _NotConvertedError(
            item.line,
            f"the weights of the right answers add up to {_percent(total)}, not 100%:"
            " Moodle itself refuses such a question",
        )
    return weights


def _single_options(
    item: GiftItem, context: _Context, texts: list[str], weights: list[Decimal]
) -> list[QuizOption]:
    """One choice: right answers checked (worth 100% each when several), partial weights kept."""
    right = weights.count(FULL_CREDIT)
    options = []
    for text, weight, answer in zip(texts, weights, item.answers, strict=True):
        if weight == FULL_CREDIT:
            options.append(
                QuizOption(text, correct=True, weight=FULL_CREDIT if right > 1 else None)
            )
        elif weight < 0:
            context.note(
                answer.line,
                f"the weight {_percent(weight)} of '{answer.text.text}' is not kept: in a"
                " single-choice question a wrong answer earns 0",
            )
            options.append(QuizOption(text, correct=False))
        else:
            options.append(QuizOption(text, correct=False, weight=weight or None))
    return options


def _multiple_options(
    item: GiftItem, context: _Context, texts: list[str], weights: list[Decimal]
) -> list[QuizOption]:
    """Several choices: the positive weights checked, the negative ones kept on the others."""
    if not any(w < 0 for w in weights) and any(w == 0 for w in weights):
        context.note(
            item.line,
            "no wrong answer takes points away: ticking every box earns full credit, as in"
            " Moodle (give the wrong answers negative weights such as {-50%})",
        )
    return [
        QuizOption(text, weight > 0, weight or None)
        for text, weight in zip(texts, weights, strict=True)
    ]


def _choice(item: GiftItem, context: _Context) -> QuizQuestion:
    """A multiple-choice item (``~``): one choice with an ``=``, else several."""
    if len(item.answers) < 2:  # noqa: PLR2004 - a choice needs two answers
        raise _NotConvertedError(item.line, "a multiple-choice question needs at least two answers")
    weights = _choice_weights(item)
    texts: list[str] = []
    feedback: list[str | None] = []
    seen: set[str] = set()
    for answer in item.answers:
        text = one_line(_markdown_of(answer.text, answer.line))
        if not text:
            raise _NotConvertedError(answer.line, "empty answer")
        if text.startswith("{"):
            text = "\\" + text  # not a weight
        key = normalise_short_answer(text)
        if key in seen:
            raise _NotConvertedError(
                answer.line, f"the answer '{answer.text.text}' appears twice in the question"
            )
        seen.add(key)
        texts.append(text)
        feedback.append(_feedback_line(context, text, answer.feedback, answer.line))
    # One '=' makes a single choice, as in Moodle; so does a single positive weight
    # (one box to tick among wrong ones is a choice of one).
    single = any(a.prefix == "=" for a in item.answers) or sum(w > 0 for w in weights) == 1
    options = (_single_options if single else _multiple_options)(item, context, texts, weights)
    # The real kind comes from parse_quiz in _checked.
    return _question(item, context, QuestionKind.SINGLE, feedback, options=tuple(options))


def _true_false(item: GiftItem, context: _Context) -> QuizQuestion:
    """``{T}``/``{FALSE}``: options true and false; GIFT's ``#wrong#right`` go to each."""
    true, false = context.labels.true, context.labels.false
    on_true, on_false = (
        (item.right_feedback, item.wrong_feedback)
        if item.truth
        else (item.wrong_feedback, item.right_feedback)
    )
    feedback = [
        _feedback_line(context, true, on_true, item.line),
        _feedback_line(context, false, on_false, item.line),
    ]
    options = (QuizOption(true, bool(item.truth)), QuizOption(false, not item.truth))
    return _question(item, context, QuestionKind.TRUE_FALSE, feedback, options=options)


_WILDCARD = re.compile(r"(?<!\\)\*")


def _short_answer(item: GiftItem, context: _Context) -> QuizQuestion:
    """Short answer: weighted answers kept, 0% (or less) ones only give feedback."""
    accepted: dict[str, tuple[str, Decimal]] = {}
    feedback: list[str | None] = []
    for answer in item.answers:
        weight = _weight_of(answer)
        weight = FULL_CREDIT if weight is None else weight
        text = plain_text(answer.text)
        if weight <= 0:
            label = None if text == "*" else escape_literal(text.replace("\\*", "*"))
            feedback.append(_feedback_line(context, label, answer.feedback, answer.line))
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
        feedback.append(_feedback_line(context, escape_literal(text), answer.feedback, answer.line))
        key = normalise_short_answer(text)
        if key not in accepted or accepted[key][1] < weight:  # twice: keep the better one
            accepted[key] = (text, weight)
    if not any(weight == FULL_CREDIT for _, weight in accepted.values()):
        raise _NotConvertedError(item.line, "no fully right answer")
    return _question(
        item,
        context,
        QuestionKind.SHORT,
        feedback,
        answers=tuple(text for text, _ in accepted.values()),
        answer_weights=tuple(None if w == FULL_CREDIT else w for _, w in accepted.values()),
    )


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _gift_number(text: str, line: int) -> Decimal:
    if not _NUMBER.fullmatch(text):
        raise _NotConvertedError(line, f"'{text}' is not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise _NotConvertedError(line, f"'{text}' is not a number") from None
    if not value.is_finite() or not math.isfinite(float(value)):
        raise _NotConvertedError(line, f"'{text}' is not a number")
    return value


def _numerical_answer(answer: GiftAnswer, mark: str) -> tuple[str, str]:
    """The answer as written in the quiz, and as named in the feedback.

    ``1822:2`` is ``1822 ± 2``, ``3.141..3.142`` is ``3,141..3,142`` (in Italian), and
    an exact ``7`` is ``7 ± 0`` (a plain number alone would be a short answer).
    """
    value = answer.text.text.strip()
    if ".." in value[1:]:
        low, _, high = value.partition("..")
        first = _gift_number(low.strip(), answer.line)
        last = _gift_number(high.strip(), answer.line)
        if first > last:
            raise _NotConvertedError(
                answer.line, f"numerical range '{value}' goes down: the smaller number comes first"
            )
        written = f"{_number(first, mark)}..{_number(last, mark)}"
        return written, written
    tolerance = Decimal(0)
    if ":" in value[1:]:
        value, _, margin = value.partition(":")
        tolerance = _gift_number(margin.strip(), answer.line)
        if tolerance < 0:
            raise _NotConvertedError(answer.line, f"the tolerance {margin.strip()} is negative")
    number = _number(_gift_number(value.strip(), answer.line), mark)
    written = f"{number} ± {_number(tolerance, mark)}"
    return written, number if tolerance == 0 else written


def _numerical(item: GiftItem, context: _Context) -> QuizQuestion:
    """A numerical question: values with their tolerances, ranges and weights."""
    mark = context.labels.decimal_mark
    answers: list[str] = []
    weights: list[Decimal | None] = []
    feedback: list[str | None] = []
    for answer in item.answers:
        weight = _weight_of(answer)
        written, label = _numerical_answer(answer, mark)
        feedback.append(
            _feedback_line(context, escape_literal(label), answer.feedback, answer.line)
        )
        if weight is not None and weight <= 0:
            continue  # Moodle's feedback for a wrong value: kept in the explanation only
        if written in answers:
            continue  # the same value twice: harmless, keep one
        answers.append(written)
        weights.append(None if weight in (None, FULL_CREDIT) else weight)
    feedback.append(_feedback_line(context, None, item.wrong_feedback, item.line))
    if not answers:
        raise _NotConvertedError(item.line, "numerical question without a right value")
    if None not in weights:
        raise _NotConvertedError(item.line, "no value worth 100%: one must earn full credit")
    return _question(
        item,
        context,
        QuestionKind.NUMERICAL,
        feedback,
        answers=tuple(answers),
        answer_weights=tuple(weights),
    )


_ARROW = re.compile(r"->|→")


def _matching(item: GiftItem, context: _Context) -> QuizQuestion:
    """A matching question: each ``=left -> right`` a pair; no left side, a distractor."""
    pairs = []
    for pair in item.pairs:
        left = one_line(_markdown_of(pair.left, pair.line)) if pair.left.text else ""
        left = _ARROW.sub(lambda arrow: "\\" + arrow.group(0), left)
        right = escape_literal(pair.right)
        if not right:
            raise _NotConvertedError(pair.line, "a pair without its right side")
        pairs.append((left, right))
    return _question(item, context, QuestionKind.MATCHING, [], pairs=tuple(pairs))


_NOT_QUESTIONS = {
    GiftKind.ESSAY: "essay question ({}): it needs a person to mark it, and the Markdown quiz"
    " has no essay questions",
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
    weights = question.answer_weights or (None,) * len(question.answers)
    same = (
        back.text == question.text
        and back.answers == question.answers
        and back.answer_credits == tuple(FULL_CREDIT if w is None else w for w in weights)
        and back.explanation == question.explanation
        and [(o.text, o.correct, o.weight) for o in back.options]
        == [(o.text, o.correct, o.weight) for o in question.options]
        and [(p.left, p.right) for p in back.pairs] == list(question.pairs)
    )
    if not same:
        raise _NotConvertedError(
            question.gift_line, "the converter cannot write this question faithfully"
        )
    return replace(question, kind=back.kind)


def _convert_item(item: GiftItem, context: _Context) -> QuizQuestion:
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
        GiftKind.MATCHING: _matching,
    }
    return _checked(converters[item.kind](item, context))


def convert_gift(text: str, language: str = "it") -> Conversion:
    """Convert the text of a GIFT file; see the module docstring for what goes where.

    *language* (``it`` or ``en``, as a course's ``language:``) is the language of the
    words the converter writes and of its decimal separator.
    """
    labels = LABELS[language]
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
        context = _Context(labels)
        try:
            questions.append(_convert_item(item, context))
        except _NotConvertedError as problem:
            reports.append(Report(problem.line, ReportKind.NOT_CONVERTED, problem.message))
        else:
            reports.extend(context.notes)
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
