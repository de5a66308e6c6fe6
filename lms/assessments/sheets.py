"""What the quiz pages show: the answer key only when the quiz's review option allows it.

:func:`question_sheet` is the open attempt's page: never a key. :func:`review_sheet`
is a graded attempt's review: with ``show_key`` False (see
:func:`lms.assessments.operations.key_visible`) it holds the score, whether each
question was right, partly right or wrong, and what the person answered; nothing
of the right answers, their weights or the explanations, not even hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from lms.assessments.grading import answer_credits, matching_field, option_credit
from lms.assessments.models import QuizAttempt

#: The only fields of a question that may reach the browser before grading.
_PUBLIC_QUESTION_FIELDS = ("id", "kind", "points", "text_html")


def question_sheet(attempt: QuizAttempt) -> list[dict]:
    """The attempt's questions in its own order, without correct answers or explanations."""
    questions = {q["id"]: q for q in attempt.quiz_version.questions}
    sheet = []
    for number, qid in enumerate(attempt.layout["questions"], start=1):
        question = questions[qid]
        entry = {
            **{field: question[field] for field in _PUBLIC_QUESTION_FIELDS},
            "number": number,
            "options": [],
        }
        if question["kind"] == "matching":
            pairs = {p["id"]: p for p in question["pairs"]}
            choices = {c["id"]: c for c in question["choices"]}
            entry["rows"] = [
                {"id": pid, "html": pairs[pid]["html"], "field": matching_field(qid, pid)}
                for pid in attempt.layout["options"][qid]
            ]
            entry["choices"] = [
                {"id": cid, "html": choices[cid]["html"]} for cid in attempt.layout["choices"][qid]
            ]
        else:
            options = {o["id"]: o for o in question["options"]}
            entry["options"] = [
                {"id": oid, "html": options[oid]["html"]} for oid in attempt.layout["options"][qid]
            ]
            # A rule of the question, not its key: wrong choices cost points.
            entry["penalty"] = any(option_credit(o) < 0 for o in question["options"])
        sheet.append(entry)
    return sheet


def _percent(share: Fraction) -> Decimal:
    """A credit (a share of 1) in percent, two decimals (the page drops the zeros)."""
    value = share * 100
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def _choice_review(
    question: Mapping, chosen: list[str], order: list[str], *, show_key: bool
) -> dict:
    options = {o["id"]: o for o in question["options"]}
    if not show_key:  # only what the person chose, in the attempt's order
        return {
            "options": [
                {"html": options[oid]["html"], "chosen": True} for oid in order if oid in chosen
            ]
        }
    weighted = any(option_credit(o) not in (0, 1) for o in question["options"]) or question.get(
        "partial", False
    )
    return {
        "options": [
            {
                "html": options[oid]["html"],
                "chosen": oid in chosen,
                "correct": options[oid]["correct"],
                "credit": _percent(option_credit(options[oid]))
                if weighted and (question["kind"] == "multiple" or option_credit(options[oid]) != 1)
                else None,
            }
            for oid in order
        ]
    }


def _typed_review(question: Mapping, response: list[str], *, show_key: bool) -> dict:
    entry: dict = {"response": next(iter(response), "")}
    if show_key:
        entry["answers"] = [
            (answer, None if credit == 1 else _percent(credit))
            for answer, credit in zip(question["answers"], answer_credits(question), strict=True)
        ]
    return entry


def _matching_review(
    question: Mapping, response: list[str], order: list[str], *, show_key: bool
) -> dict:
    pairs = {p["id"]: p for p in question["pairs"]}
    position = {p["id"]: i for i, p in enumerate(question["pairs"])}
    choices = {c["id"]: c["html"] for c in question["choices"]}
    items = []
    for pid in order:
        given = response[position[pid]] if position[pid] < len(response) else ""
        item = {"html": pairs[pid]["html"], "chosen_html": choices.get(given, "")}
        if show_key:
            item["right_html"] = choices[pairs[pid]["match"]]
            item["correct"] = given == pairs[pid]["match"]
        items.append(item)
    return {"rows": items}


def review_sheet(attempt: QuizAttempt, *, show_key: bool) -> list[dict]:
    """A graded attempt's questions with what was answered, and, when *show_key*, the key."""
    if attempt.submitted_at is None:
        raise ValueError("an open attempt has no review")
    questions: Mapping[str, dict] = {q["id"]: q for q in attempt.quiz_version.questions}
    responses = attempt.responses or {}
    results = attempt.results or {}
    review = []
    for number, qid in enumerate(attempt.layout["questions"], start=1):
        question = questions[qid]
        result = results.get(qid, {})
        earned = Decimal(str(result.get("earned", 0)))
        correct = bool(result.get("correct", False))
        response = list(responses.get(qid, []))
        entry: dict = {
            "number": number,
            "kind": question["kind"],
            "text_html": question["text_html"],
            "points": question["points"],
            "earned": earned,
            "correct": correct,
            "partial": not correct and earned > 0,
            "show_key": show_key,
            "explanation_html": question["explanation_html"] if show_key else "",
        }
        order = attempt.layout["options"][qid]
        if question["kind"] in ("short", "numerical"):
            entry |= _typed_review(question, response, show_key=show_key)
        elif question["kind"] == "matching":
            entry |= _matching_review(question, response, order, show_key=show_key)
        else:
            entry |= _choice_review(question, response, order, show_key=show_key)
        review.append(entry)
    return review
