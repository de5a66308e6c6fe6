"""What the quiz pages show: the answer key only after grading, never before."""

from __future__ import annotations

from collections.abc import Mapping

from lms.assessments.models import QuizAttempt

#: The only fields of a question that may reach the browser before grading.
_PUBLIC_QUESTION_FIELDS = ("id", "kind", "points", "text_html")


def question_sheet(attempt: QuizAttempt) -> list[dict]:
    """The attempt's questions in its own order, without correct answers or explanations."""
    questions = {q["id"]: q for q in attempt.quiz_version.questions}
    sheet = []
    for number, qid in enumerate(attempt.layout["questions"], start=1):
        question = questions[qid]
        options = {o["id"]: o for o in question["options"]}
        sheet.append(
            {
                **{field: question[field] for field in _PUBLIC_QUESTION_FIELDS},
                "number": number,
                "options": [
                    {"id": oid, "html": options[oid]["html"]}
                    for oid in attempt.layout["options"][qid]
                ],
            }
        )
    return sheet


def review_sheet(attempt: QuizAttempt) -> list[dict]:
    """A graded attempt's questions with what was answered, the key and explanations."""
    if attempt.submitted_at is None:
        raise ValueError("an open attempt has no review")
    questions: Mapping[str, dict] = {q["id"]: q for q in attempt.quiz_version.questions}
    responses = attempt.responses or {}
    results = attempt.results or {}
    review = []
    for number, qid in enumerate(attempt.layout["questions"], start=1):
        question = questions[qid]
        chosen = set(responses.get(qid, []))
        options = {o["id"]: o for o in question["options"]}
        review.append(
            {
                "number": number,
                "kind": question["kind"],
                "text_html": question["text_html"],
                "points": question["points"],
                "earned": results.get(qid, {}).get("earned", 0),
                "correct": results.get(qid, {}).get("correct", False),
                "options": [
                    {
                        "html": options[oid]["html"],
                        "chosen": oid in chosen,
                        "correct": options[oid]["correct"],
                    }
                    for oid in attempt.layout["options"][qid]
                ],
                "response": next(iter(responses.get(qid, [])), "")
                if question["kind"] == "short"
                else "",
                "answers": question["answers"],
                "explanation_html": question["explanation_html"],
            }
        )
    return review
