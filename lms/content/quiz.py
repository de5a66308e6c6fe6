"""Parse the Markdown quiz syntax of docs/content-format into questions.

A level-2 heading is a question. Under it come its options (a task list: the
checked boxes are the correct answers, ``{50%}`` after a box is a weight), or
its accepted answers (``= answer`` lines, a weight may follow the ``=``; numbers
with a tolerance ``= 1060 ± 5`` or a range ``= 1000..1100`` make a numerical
question), or its pairs (``- left -> right``: a matching question); a block
quote after them is the explanation. Every problem is reported with its line,
not only the first. No Flask here, and no grading: only parsing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from lms.content.errors import ContentError
from lms.content.syntax import HEADING_ATTRIBUTES, intro, question_sections

__all__ = [
    "DEFAULT_REVIEW",
    "FULL_CREDIT",
    "Option",
    "Pair",
    "Question",
    "QuestionKind",
    "ReviewPolicy",
    "matching_choices",
    "normalise_short_answer",
    "parse_number",
    "parse_quiz",
    "question_payload",
    "quiz_intro",
    "split_pair",
]

#: A weight of 100%: the whole of a question's points.
FULL_CREDIT = Decimal(100)
#: How far from 100% the weights of a multiple-answer question's right options may add up
#: (three options of 33.33% are fine).
WEIGHT_TOLERANCE = Decimal("0.5")


class QuestionKind(StrEnum):
    """How a question is answered."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    SHORT = "short"
    #: A number typed in, right within a tolerance or a range.
    NUMERICAL = "numerical"
    #: Pairs: a choice of right-hand items for each left-hand one.
    MATCHING = "matching"


class ReviewPolicy(StrEnum):
    """When the review of an attempt shows the right answers and the explanations.

    The score, and which questions were right or wrong, are always shown.
    """

    #: After every attempt.
    AFTER_EACH = "after_each"
    #: Once the person has passed the quiz.
    WHEN_PASSED = "when_passed"
    #: Once the person has passed the quiz or has no attempt left.
    WHEN_DONE = "when_done"
    #: Never: the key stays with the trainers.
    NEVER = "never"


#: The policy of a quiz that declares none: no key while attempts remain.
DEFAULT_REVIEW = ReviewPolicy.WHEN_DONE


@dataclass(frozen=True)
class Option:
    """One answer option; *id* is its letter by position (a, b, …, z, aa, ab, …).

    *weight* is the percentage written after the box (``- [ ] {50%} …``), None
    when there is none; :meth:`Question.option_credits` says what each option earns.
    """

    id: str
    text: str
    correct: bool
    line: int
    weight: Decimal | None = None


@dataclass(frozen=True)
class Pair:
    """One line of a matching question: *left* is matched with *right*.

    A *left* of ``""`` is an extra right-hand item that matches nothing (a distractor).
    """

    left: str
    right: str
    line: int


@dataclass(frozen=True)
class Question:
    """One question; *text*, option and pair texts and *explanation* are raw Markdown."""

    text: str
    points: int
    kind: QuestionKind
    line: int
    options: tuple[Option, ...] = ()
    #: Accepted short answers as written (compare with normalise_short_answer); for a
    #: numerical question, its accepted values as written (``1060 ± 5``, ``1000..1100``).
    answers: tuple[str, ...] = ()
    explanation: str = ""
    #: Percent each of *answers* earns (100 unless a weight is written), same order.
    answer_credits: tuple[Decimal, ...] = ()
    #: Numerical: the interval (lowest, highest, both included) of each of *answers*.
    ranges: tuple[tuple[Decimal, Decimal], ...] = ()
    #: Matching: the pairs, distractors included, as written.
    pairs: tuple[Pair, ...] = ()

    @property
    def partial(self) -> bool:
        """A multiple-answer question with weights: each chosen option adds its weight.

        Without weights a multiple-answer question is right only when exactly the
        checked options are chosen (all or nothing).
        """
        return self.kind is QuestionKind.MULTIPLE and any(
            option.weight is not None for option in self.options
        )

    def option_credits(self) -> tuple[Decimal, ...]:
        """Percent of the points that choosing each option earns.

        Single choice and true/false: 100 for a checked box, the weight or 0 for
        the others. Multiple answers with weights: a checked box's weight, or an
        equal share of what the written weights leave of 100%; an unchecked box's
        (negative) weight or 0. Multiple answers without weights: 100 for a checked
        box, 0 for the others (graded all or nothing, not by adding).
        """
        if not self.partial:
            return tuple(
                FULL_CREDIT if option.correct else (option.weight or Decimal(0))
                for option in self.options
            )
        unweighted = [o for o in self.options if o.correct and o.weight is None]
        written = sum((o.weight for o in self.options if o.correct and o.weight), Decimal(0))
        share = (FULL_CREDIT - written) / len(unweighted) if unweighted else Decimal(0)
        return tuple(
            (share if option.weight is None else option.weight)
            if option.correct
            else (option.weight or Decimal(0))
            for option in self.options
        )


_TRUE_FALSE = ({"vero", "falso"}, {"true", "false"})

_POINTS = re.compile(r"\s*points\s*=\s*(\S*)\s*")
_LIST_ITEM = re.compile(r" {0,3}([-*+])(?:[ \t]+(.*))?")
_ORDERED_ITEM = re.compile(r" {0,3}[0-9]{1,9}[.)](?:[ \t]|$)")
_TASK = re.compile(r"\[([ xX])\][ \t]*(.*)")
_SHORT = re.compile(r" {0,3}=(.*)")
_QUOTE = re.compile(r" {0,3}>[ ]?(.*)")
_CONTINUATION = re.compile(r"(?: {2,}|\t)\S")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})
#: ``{50%}``, ``{-33.3%}``, ``{ 12,5 % }`` at the start of an option or answer.
_WEIGHT = re.compile(r"\{\s*([+\-−]?\d{1,3}(?:[.,]\d+)?)\s*%\s*\}[ \t]*(.*)")
#: Something that means to be a weight but is not one (``{50}``, ``{metà%}``).
_WEIGHT_LIKE = re.compile(r"\{\s*(?:[^{}]*%|[+\-−]?\d+(?:[.,]\d+)?)\s*\}")
#: The arrow between the two sides of a pair (not after a backslash).
_ARROW = re.compile(r"(?<!\\)(?:->|→)")
#: A number as written in a quiz file: a decimal comma or point, no thousands separators.
_NUMBER = r"[+\-−]?(?:\d+(?:[.,]\d+)?|[.,]\d+)"
_EXACT = re.compile(rf"({_NUMBER})")
_TOLERANCE = re.compile(rf"({_NUMBER})\s*(?:±|\+/-|\+-)\s*({_NUMBER})")
_RANGE = re.compile(rf"({_NUMBER})\s*\.\.\s*({_NUMBER})")
#: An answer that begins like a number and has a tolerance or range sign after it.
_NUMERIC_HINT = re.compile(r"[+\-−]?[\d.,]*\d[\d.,]*\s*(?:±|\+/-|\+-|\.\.)")


def normalise_short_answer(text: str) -> str:
    """A short answer as compared: case, surrounding and repeated spaces ignored.

    Also NFC-normalised and with typographic apostrophes made straight, so that
    ``dell’Unione`` typed on a phone matches ``dell'Unione``.
    """
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    return " ".join(text.split()).casefold()


def _file_number(text: str) -> Decimal:
    return Decimal(text.replace("−", "-").replace(",", "."))


#: Spaces people put between thousands (including the no-break and thin ones).
_GROUPING_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def parse_number(typed: str) -> Decimal | None:
    """The number a learner typed, or None when it is not one.

    A comma or a point is the decimal separator (``3,14`` and ``3.14``). When
    both appear, the last one is the decimal separator and the other groups the
    thousands (``1.060,5`` and ``1,060.5``); a separator that appears more than
    once groups the thousands (``1.000.000``). Spaces are ignored.
    """
    text = _GROUPING_SPACES.sub("", unicodedata.normalize("NFKC", typed)).replace("−", "-")
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        text = text.replace(grouping, "").replace(decimal_mark, ".")
    else:
        for mark in ",.":
            if text.count(mark) > 1:
                text = text.replace(mark, "")
        text = text.replace(",", ".")
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


def split_pair(text: str) -> tuple[str, str] | None:
    """The two sides of ``left -> right`` (``→`` too), or None without an arrow."""
    arrow = _ARROW.search(text)
    if arrow is None:
        return None
    return text[: arrow.start()].strip(), text[arrow.end() :].strip()


def _option_id(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters


def quiz_intro(body: str) -> str:
    """The instructions before the first question (Markdown, possibly empty)."""
    return intro(body)


@dataclass(frozen=True)
class _Answer:
    """An ``= …`` line: its line, weight (None if none written) and text."""

    line: int
    weight: Decimal | None
    text: str


@dataclass
class _Draft:
    """A question while its lines are read."""

    heading: str
    line: int
    options: list[Option] = field(default_factory=list)
    answers: list[_Answer] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    #: "options" until the explanation starts, then "explanation".
    stage: str = "options"
    #: Whether the previous line could be continued (an option or quote line).
    continuable: str | None = None
    in_stray_block: bool = False
    #: Whether a list item without a valid checkbox was seen (then the options are incomplete).
    broken_options: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        """Report a problem on *line*."""
        self.errors.append((line, message))

    @property
    def has_content(self) -> bool:
        return bool(self.options or self.answers or self.pairs)


def _stray(draft: _Draft, number: int, message: str) -> None:
    """One error per run of unexpected lines, not one per line."""
    if not draft.in_stray_block:
        draft.error(number, message)
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
        if not draft.has_content:
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
        draft.options[-1] = Option(
            last.id, f"{last.text} {line.strip()}", last.correct, last.line, last.weight
        )
        return
    if draft.stage == "explanation":
        _stray(draft, number, "unexpected text after the explanation (start a question with ##)")
        return
    if item is not None:
        draft.in_stray_block = False
        _read_item(draft, number, item.group(2) or "")
        return
    draft.continuable = None
    if short is not None:
        draft.in_stray_block = False
        _read_answer(draft, number, short.group(1).strip())
        return
    if _ORDERED_ITEM.match(line):
        _stray(draft, number, "options must be a bullet list ('- [ ] text'), not a numbered one")
        return
    where = "between the options" if draft.has_content else "before the options"
    _stray(
        draft,
        number,
        f"unexpected text {where}: a question holds only its options"
        " ('- [ ] …', '- … -> …' or '= …') and then a '> …' explanation",
    )


def _weight(draft: _Draft, number: int, text: str) -> tuple[Decimal | None, str]:
    """The ``{N%}`` at the start of *text* (None if there is none), and the rest."""
    match = _WEIGHT.fullmatch(text)
    if match is not None:
        weight = _file_number(match.group(1))
        if not -FULL_CREDIT <= weight <= FULL_CREDIT:
            draft.error(number, f"weight {match.group(1)}% is out of range: from -100% to 100%")
        return weight, match.group(2).strip()
    like = _WEIGHT_LIKE.match(text)
    if like is not None:
        draft.error(
            number,
            f"'{like.group(0)}' is not a weight: write it as {{50%}} (or \\{{ for a"
            " text that starts with a brace)",
        )
    return None, text


def _read_item(draft: _Draft, number: int, item: str) -> None:
    task = _TASK.fullmatch(item)
    if task is None:
        draft.continuable = None
        pair = split_pair(item)
        if pair is not None:
            left, right = pair
            if not right:
                draft.error(number, "a pair needs its right side after '->'")
            draft.pairs.append(Pair(left, right, number))
            return
        draft.error(
            number,
            "option without a checkbox: write '- [ ] text' or '- [x] text'"
            " (or '- left -> right' for a pair)",
        )
        draft.broken_options = True
        return
    weight, text = _weight(draft, number, task.group(2).strip())
    if not text:
        draft.error(number, "empty option")
    draft.options.append(
        Option(_option_id(len(draft.options)), text, task.group(1) in "xX", number, weight)
    )
    draft.continuable = "option"


def _read_answer(draft: _Draft, number: int, text: str) -> None:
    weight, answer = _weight(draft, number, text)
    if not answer or set(answer) == {"="}:
        draft.error(number, "empty answer after '='")
        return
    draft.answers.append(_Answer(number, weight, answer))


def _points(draft: _Draft) -> tuple[str, int]:
    """The question text without ``{points=N}``, and N (1 by default)."""
    match = HEADING_ATTRIBUTES.search(draft.heading)
    if match is None:
        return draft.heading, 1
    text = draft.heading[: match.start()].rstrip()
    points = _POINTS.fullmatch(match.group(1))
    if points is None:
        draft.error(
            draft.line, f"unknown attribute {{{match.group(1).strip()}}}: only {{points=N}}"
        )
        return text, 1
    value = points.group(1)
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        draft.error(draft.line, f"points must be a whole number of at least 1, not '{value}'")
        return text, 1
    return text, int(value)


def _show_pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


# Choices -----------------------------------------------------------------------


def _duplicate_options(draft: _Draft) -> None:
    seen: dict[str, int] = {}
    for option in draft.options:
        key = normalise_short_answer(option.text)
        if key and key in seen:
            draft.error(option.line, f"duplicate option '{option.text}' (same as line {seen[key]})")
        seen.setdefault(key, option.line)


def _choice_kind(draft: _Draft) -> QuestionKind | None:  # noqa: C901, PLR0912
    """The kind of a question with options, after checking them and their weights."""
    _duplicate_options(draft)
    if draft.broken_options:
        return None  # counting options that are known to be incomplete would mislead
    options = draft.options
    correct = [option for option in options if option.correct]
    weighted = [option for option in options if option.weight is not None]
    texts = {normalise_short_answer(option.text) for option in options}
    if len(options) == 2 and texts in _TRUE_FALSE:  # noqa: PLR2004 - a pair
        if len(correct) != 1:
            draft.error(draft.line, "a true/false question needs exactly one checked answer")
        if weighted:
            draft.error(weighted[0].line, "a true/false question has no weights")
        return QuestionKind.TRUE_FALSE
    if len(options) < 2:  # noqa: PLR2004 - a choice needs two options
        draft.error(
            draft.line, "only one option: add wrong options, or use '= answer' for a short answer"
        )
        return None
    if not correct:
        draft.error(draft.line, "no correct answer: check at least one box [x]")
        return None
    errors_before = len(draft.errors)
    for option in options:
        if option.weight is None:
            continue
        if option.correct and option.weight <= 0:
            draft.error(
                option.line,
                f"a checked option worth {_show_pct(option.weight)}: a right option earns"
                " more than 0% (uncheck it if it is wrong)",
            )
        if not option.correct and option.weight == FULL_CREDIT:
            draft.error(option.line, "an option worth 100% is a right answer: check its box [x]")
    any_of = len(correct) > 1 and all(option.weight == FULL_CREDIT for option in correct)
    if len(correct) == 1 or any_of:
        for option in options:
            if option.correct and option.weight not in (None, FULL_CREDIT):
                draft.error(
                    option.line,
                    f"the right answer of a single-choice question is worth 100%, not"
                    f" {_show_pct(option.weight)}: give partial credit to unchecked options",
                )
            if not option.correct and option.weight is not None and option.weight < 0:
                draft.error(
                    option.line,
                    "a negative weight needs several right options (checkboxes): in a"
                    " single-choice question a wrong answer already earns 0",
                )
        return None if len(draft.errors) > errors_before else QuestionKind.SINGLE
    if weighted:
        _check_multiple_weights(draft)
    return None if len(draft.errors) > errors_before else QuestionKind.MULTIPLE


def _check_multiple_weights(draft: _Draft) -> None:
    """The weights of a multiple-answer question: right ones positive, adding up to 100%."""
    for option in draft.options:
        if not option.correct and option.weight is not None and option.weight > 0:
            draft.error(
                option.line,
                f"an unchecked option worth {_show_pct(option.weight)}: check it [x] if it"
                " is right, or give it a negative weight such as {-50%}",
            )
    right = [option for option in draft.options if option.correct]
    written = sum((o.weight for o in right if o.weight is not None and o.weight > 0), Decimal(0))
    if all(option.weight is not None for option in right):
        if abs(written - FULL_CREDIT) > WEIGHT_TOLERANCE:
            draft.error(
                draft.line,
                f"the weights of the checked options add up to {_show_pct(written)}, not 100%",
            )
    elif written >= FULL_CREDIT:
        draft.error(
            draft.line,
            f"the weights of the checked options already add up to {_show_pct(written)}:"
            " nothing is left for the checked options without a weight",
        )


# Answers -----------------------------------------------------------------------


def _numerical_range(text: str) -> tuple[Decimal, Decimal] | str | None:
    """The interval of a numerical answer, a problem with it, or None if it is no number."""
    exact = _EXACT.fullmatch(text)
    if exact is not None:
        value = _file_number(exact.group(1))
        return value, value
    tolerance = _TOLERANCE.fullmatch(text)
    if tolerance is not None:
        value, margin = _file_number(tolerance.group(1)), _file_number(tolerance.group(2))
        if margin < 0:
            return f"the tolerance of '{text}' is negative: write '= 1060 ± 5'"
        return value - margin, value + margin
    span = _RANGE.fullmatch(text)
    if span is not None:
        low, high = _file_number(span.group(1)), _file_number(span.group(2))
        if low > high:
            return f"the range '{text}' goes down: write the smaller number first"
        return low, high
    return None


def _is_numerical(text: str) -> bool:
    """Whether an answer is written as a tolerance or a range (the sign of a numerical one)."""
    return bool(_TOLERANCE.fullmatch(text) or _RANGE.fullmatch(text))


def _answer_credits(draft: _Draft) -> tuple[Decimal, ...]:
    weights = []
    for answer in draft.answers:
        if answer.weight is not None and answer.weight <= 0:
            draft.error(
                answer.line,
                f"an accepted answer worth {_show_pct(answer.weight)}: answers that are not"
                " listed earn nothing, so list only answers worth more than 0%",
            )
        weights.append(FULL_CREDIT if answer.weight is None else answer.weight)
    if weights and FULL_CREDIT not in weights:
        draft.error(draft.line, "no answer worth 100%: one accepted answer must earn full credit")
    return tuple(weights)


def _short_answers(draft: _Draft) -> None:
    seen: dict[str, int] = {}
    for answer in draft.answers:
        if _NUMERIC_HINT.match(answer.text):
            draft.error(
                answer.line,
                f"'{answer.text}' is not a number with a tolerance or a range: write"
                " '= 1060 ± 5' or '= 1000..1100' (a comma or a point for decimals,"
                " no thousands separators)",
            )
        key = normalise_short_answer(answer.text)
        if key in seen:
            draft.error(answer.line, f"duplicate answer '{answer.text}' (same as line {seen[key]})")
        seen.setdefault(key, answer.line)


def _numerical_ranges(draft: _Draft) -> tuple[tuple[Decimal, Decimal], ...]:
    ranges: list[tuple[Decimal, Decimal]] = []
    seen: dict[tuple[Decimal, Decimal], int] = {}
    for answer in draft.answers:
        found = _numerical_range(answer.text)
        if found is None:
            draft.error(
                answer.line,
                f"'{answer.text}' is not a number: every answer of a numerical question is"
                " a number, a number ± a tolerance or a range such as 1000..1100",
            )
            continue
        if isinstance(found, str):
            draft.error(answer.line, found)
            continue
        if found in seen:
            draft.error(
                answer.line, f"duplicate answer '{answer.text}' (same as line {seen[found]})"
            )
        seen.setdefault(found, answer.line)
        ranges.append(found)
    return tuple(ranges)


# Pairs -------------------------------------------------------------------------


def _check_pairs(draft: _Draft) -> None:
    seen: dict[str, int] = {}
    real = [pair for pair in draft.pairs if pair.left]
    for pair in real:
        key = normalise_short_answer(pair.left)
        if key in seen:
            draft.error(pair.line, f"duplicate left side '{pair.left}' (same as line {seen[key]})")
        seen.setdefault(key, pair.line)
    if len(real) < 2:  # noqa: PLR2004 - matching needs two pairs
        draft.error(draft.line, "a matching question needs at least two pairs ('- left -> right')")


# The question ------------------------------------------------------------------


def _finish(draft: _Draft) -> Question | None:
    """Check a complete question; its errors go to draft.errors."""
    text, points = _points(draft)
    if not text:
        draft.error(draft.line, "question without text")
    explanation = "\n".join(draft.explanation).strip()
    kind: QuestionKind | None = None
    weights: tuple[Decimal, ...] = ()
    ranges: tuple[tuple[Decimal, Decimal], ...] = ()
    forms = [
        (name, lines[0])
        for name, lines in (
            ("options (- [ ] …)", [o.line for o in draft.options]),
            ("pairs (- … -> …)", [p.line for p in draft.pairs]),
            ("answers (= …)", [a.line for a in draft.answers]),
        )
        if lines
    ]
    if len(forms) > 1:
        second = sorted(forms, key=lambda form: form[1])[1]
        draft.error(
            second[1],
            "a question has either options (- [ ] …), pairs (- … -> …) or answers (= …),"
            f" not {' and '.join(name.split(' ')[0] for name, _ in forms)}",
        )
    elif draft.answers:
        if any(_is_numerical(answer.text) for answer in draft.answers):
            kind = QuestionKind.NUMERICAL
            ranges = _numerical_ranges(draft)
        else:
            kind = QuestionKind.SHORT
            _short_answers(draft)
        weights = _answer_credits(draft)
    elif draft.pairs:
        _check_pairs(draft)
        kind = QuestionKind.MATCHING
    elif draft.options:
        kind = _choice_kind(draft)
    else:
        draft.error(
            draft.line,
            "question without options ('- [ ] …'), pairs ('- … -> …') or answers ('= …')",
        )
    if draft.errors or kind is None:
        return None
    return Question(
        text=text,
        points=points,
        kind=kind,
        line=draft.line,
        options=tuple(draft.options) if draft.options else (),
        answers=tuple(answer.text for answer in draft.answers),
        explanation=explanation,
        answer_credits=weights,
        ranges=ranges,
        pairs=tuple(draft.pairs),
    )


def parse_quiz(body: str, *, first_line: int = 1) -> tuple[list[Question], list[ContentError]]:
    """Parse a quiz body into questions, and every error found, with its line.

    *first_line* is the line of the file where *body* starts, so that errors point
    into the file. Questions with errors are left out of the list.
    """
    questions: list[Question] = []
    problems: list[tuple[int, str]] = []
    sections = question_sections(body, first_line=first_line)
    for section in sections:
        draft = _Draft(heading=section.heading, line=section.line)
        for number, line in section.lines:
            if line is None:
                _stray(draft, number, "code blocks cannot go inside a question")
            else:
                _read_line(draft, number, line)
        question = _finish(draft)
        problems.extend(draft.errors)
        if question is not None:
            questions.append(question)
    if not sections:
        problems.append((first_line, "a quiz needs at least one question (a '## …' heading)"))
    problems.sort(key=lambda problem: problem[0])
    return questions, [ContentError(None, number, message) for number, message in problems]


def matching_choices(pairs: Sequence[Pair]) -> list[str]:
    """The distinct right-hand sides of a matching question, in the order written."""
    seen: dict[str, str] = {}
    for pair in pairs:
        seen.setdefault(normalise_short_answer(pair.right), pair.right)
    return list(seen.values())


def _pct_text(value: Decimal) -> str:
    """A percentage as stored: ``100``, ``50``, ``-33.3333``."""
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"


def _number_text(value: Decimal) -> str:
    """A number as stored, exactly: ``1055``, ``3.1415``."""
    return f"{value.normalize():f}"


def question_payload(
    qid: str, question: Question, *, inline: Callable[[str], str], block: Callable[[str], str]
) -> dict:
    """A question as a quiz version stores it: rendered texts and the answer key.

    *inline* renders a one-line Markdown fragment (question, option, pair), *block*
    a block of Markdown (the explanation). The keys:

    - every kind: ``id``, ``kind``, ``points``, ``text_html``, ``options``,
      ``answers``, ``explanation_html``;
    - ``options``: ``id``, ``html``, ``correct`` and ``credit`` (percent of the
      points that choosing it earns, as text); a multiple-answer question also has
      ``partial`` (True: the chosen options' credits add up; False: all or nothing);
    - short and numerical: ``answers`` as written and ``credits`` (same order);
      numerical: ``ranges``, ``[lowest, highest]`` as text, both included;
    - matching: ``pairs`` (``id``, ``html`` of the left side, ``match``: the id of
      its right side) and ``choices`` (``id``, ``html``: the right sides, distractors
      included). Choice ids follow the alphabetical order of the texts, so that they
      say nothing about which left side they belong to.
    """
    payload: dict = {
        "id": qid,
        "kind": question.kind.value,
        "points": question.points,
        "text_html": inline(question.text),
        "options": [
            {
                "id": option.id,
                "html": inline(option.text),
                "correct": option.correct,
                "credit": _pct_text(credit),
            }
            for option, credit in zip(question.options, question.option_credits(), strict=True)
        ],
        "answers": list(question.answers),
        "explanation_html": block(question.explanation) if question.explanation else "",
    }
    if question.kind is QuestionKind.MULTIPLE:
        payload["partial"] = question.partial
    if question.kind in (QuestionKind.SHORT, QuestionKind.NUMERICAL):
        payload["credits"] = [_pct_text(credit) for credit in question.answer_credits]
    if question.kind is QuestionKind.NUMERICAL:
        payload["ranges"] = [
            [_number_text(low), _number_text(high)] for low, high in question.ranges
        ]
    if question.kind is QuestionKind.MATCHING:
        choices = sorted(
            matching_choices(question.pairs), key=lambda text: (normalise_short_answer(text), text)
        )
        ids = {normalise_short_answer(text): _option_id(i) for i, text in enumerate(choices)}
        payload["choices"] = [
            {"id": ids[normalise_short_answer(text)], "html": inline(text)} for text in choices
        ]
        payload["pairs"] = [
            {
                "id": _option_id(index),
                "html": inline(pair.left),
                "match": ids[normalise_short_answer(pair.right)],
            }
            for index, pair in enumerate(pair for pair in question.pairs if pair.left)
        ]
    return payload
