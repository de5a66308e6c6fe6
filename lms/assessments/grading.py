"""Grading a quiz attempt: pure functions over a quiz version's stored questions.

A question is a dict as written by :func:`lms.courses.sync.quiz_payload`:
``{"id", "kind", "points", "options": [{"id", "correct", ...}], "answers": [...]}``.
Rules (content-format.md): single choice and true/false are right when the
chosen option is the correct one; multiple choice when the set chosen equals the
set of correct options; short answer when the normalised text equals one of the
accepted answers. A score is the percentage of points earned (two decimals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from lms.content.quiz import normalise_short_answer

#: Longest short answer accepted, in characters.
MAX_SHORT_ANSWER = 500


class ForgedAnswer(ValueError):
    """The submitted form is not one our quiz page could have produced."""


@dataclass(frozen=True)
class QuestionResult:
    """How one question was answered."""

    question_id: str
    correct: bool
    points: int
    earned: int
    #: What was chosen (option ids) or written (one string); empty if unanswered.
    response: tuple[str, ...]


@dataclass(frozen=True)
class Grade:
    """The outcome of an attempt."""

    results: tuple[QuestionResult, ...]
    earned: int
    possible: int
    score_pct: Decimal
    passed: bool


def parse_responses(
    questions: Sequence[Mapping], form: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Read the answers out of a submitted form, refusing anything forged.

    *form* maps field names to lists of values (``request.form.to_dict(flat=False)``).
    Every question's page carries a hidden ``<id>__shown`` field; a missing one
    means the form was not ours. An unanswered question is allowed (no points).
    """
    responses: dict[str, tuple[str, ...]] = {}
    known_fields = {"csrf_token"}
    for question in questions:
        qid = question["id"]
        known_fields.update({qid, f"{qid}__shown"})
        if f"{qid}__shown" not in form:
            raise ForgedAnswer(f"question {qid} is missing from the form")
        values = tuple(v for v in form.get(qid, ()) if v != "")
        if question["kind"] == "short":
            if len(values) > 1:
                raise ForgedAnswer(f"question {qid}: more than one answer")
            if values and len(values[0]) > MAX_SHORT_ANSWER:
                raise ForgedAnswer(f"question {qid}: answer longer than {MAX_SHORT_ANSWER}")
        else:
            option_ids = {option["id"] for option in question["options"]}
            unknown = [v for v in values if v not in option_ids]
            if unknown:
                raise ForgedAnswer(f"question {qid}: {unknown[0]!r} is not one of its options")
            if len(set(values)) != len(values):
                raise ForgedAnswer(f"question {qid}: the same option twice")
            if question["kind"] != "multiple" and len(values) > 1:
                raise ForgedAnswer(f"question {qid}: only one option may be chosen")
        responses[qid] = values
    extra = sorted(set(form) - known_fields)
    if extra:
        raise ForgedAnswer(f"unknown field {extra[0]!r}")
    return responses


def _is_correct(question: Mapping, response: tuple[str, ...]) -> bool:
    if not response:
        return False
    if question["kind"] == "short":
        given = normalise_short_answer(response[0])
        return any(given == normalise_short_answer(a) for a in question["answers"])
    right = {option["id"] for option in question["options"] if option["correct"]}
    return set(response) == right


def percent(earned: int, possible: int) -> Decimal:
    """``earned / possible`` in percent, rounded half up to two decimals."""
    if possible == 0:
        return Decimal(0)
    return (Decimal(100) * earned / possible).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def grade(
    questions: Sequence[Mapping], responses: Mapping[str, tuple[str, ...]], pass_mark: int
) -> Grade:
    """Grade *responses* (from :func:`parse_responses`) against the answer key."""
    results = []
    for question in questions:
        response = responses.get(question["id"], ())
        correct = _is_correct(question, response)
        points = int(question["points"])
        results.append(
            QuestionResult(question["id"], correct, points, points if correct else 0, response)
        )
    earned = sum(r.earned for r in results)
    possible = sum(r.points for r in results)
    score = percent(earned, possible)
    return Grade(tuple(results), earned, possible, score, score >= pass_mark)
