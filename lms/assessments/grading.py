"""Grading a quiz attempt: pure functions over a quiz version's stored questions.

A question is a dict as written by :func:`lms.content.quiz.question_payload`
(through :func:`lms.courses.sync.quiz_payload`). Rules (content-format.md):

- single choice and true/false: the chosen option's credit (100% for the checked
  one, a partial weight such as 50% for others, 0% by default);
- multiple answers without weights: right when the set chosen equals the set of
  checked options (all or nothing); with weights: the chosen options' credits
  added up, as a share of the right ones' total, never below 0 nor above 100%;
- short answer: the credit of the accepted answer equal to the normalised text;
- numerical: the best credit among the accepted values or ranges holding the
  number typed (a comma or a point for decimals);
- matching: the share of pairs matched right.

A question earns ``points × credit`` (two decimals); a score is the percentage of
points earned (two decimals). Versions stored before weights existed have no
``credit`` keys: their options earn 100% when checked, 0% otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from lms.content.quiz import normalise_short_answer, parse_number

#: Longest short (or numerical) answer accepted, in characters.
MAX_SHORT_ANSWER = 500
#: Kinds answered by typing text into one field.
TYPED_KINDS = frozenset({"short", "numerical"})
_CENT = Decimal("0.01")


class ForgedAnswer(ValueError):
    """The submitted form is not one our quiz page could have produced."""


@dataclass(frozen=True)
class QuestionResult:
    """How one question was answered."""

    question_id: str
    #: Full credit.
    correct: bool
    points: int
    #: Points earned, two decimals (partial credit makes fractions).
    earned: Decimal
    #: What was chosen (option ids), written (one string) or, for matching, the choice
    #: id per pair (``""`` for a pair left unanswered); empty if unanswered.
    response: tuple[str, ...]
    #: The exact share of the points earned, from 0 to 1.
    credit: Fraction = Fraction(0)

    @property
    def partial(self) -> bool:
        """Some credit, not all."""
        return 0 < self.credit < 1


@dataclass(frozen=True)
class Grade:
    """The outcome of an attempt."""

    results: tuple[QuestionResult, ...]
    earned: Decimal
    possible: int
    score_pct: Decimal
    passed: bool


def matching_field(question_id: str, pair_id: str) -> str:
    """The form field of one left-hand item of a matching question."""
    return f"{question_id}.{pair_id}"


def _matching_response(question: Mapping, form: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    qid = question["id"]
    choice_ids = {choice["id"] for choice in question["choices"]}
    values = []
    for pair in question["pairs"]:
        given = list(form.get(matching_field(qid, pair["id"]), ()))
        if len(given) > 1:
            raise ForgedAnswer(f"question {qid}: two choices for item {pair['id']}")
        value = given[0] if given else ""
        if value and value not in choice_ids:
            raise ForgedAnswer(f"question {qid}: {value!r} is not one of its choices")
        values.append(value)
    return tuple(values) if any(values) else ()


def _check_values(question: Mapping, values: tuple[str, ...]) -> None:
    """Refuse what the question's fields could not have sent."""
    qid, kind = question["id"], question["kind"]
    if kind in TYPED_KINDS:
        if len(values) > 1:
            raise ForgedAnswer(f"question {qid}: more than one answer")
        if values and len(values[0]) > MAX_SHORT_ANSWER:
            raise ForgedAnswer(f"question {qid}: answer longer than {MAX_SHORT_ANSWER}")
        return
    option_ids = {option["id"] for option in question["options"]}
    unknown = [v for v in values if v not in option_ids]
    if unknown:
        raise ForgedAnswer(f"question {qid}: {unknown[0]!r} is not one of its options")
    if len(set(values)) != len(values):
        raise ForgedAnswer(f"question {qid}: the same option twice")
    if kind != "multiple" and len(values) > 1:
        raise ForgedAnswer(f"question {qid}: only one option may be chosen")


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
        qid, kind = question["id"], question["kind"]
        known_fields.add(f"{qid}__shown")
        if f"{qid}__shown" not in form:
            raise ForgedAnswer(f"question {qid} is missing from the form")
        if kind == "matching":
            known_fields.update(matching_field(qid, pair["id"]) for pair in question["pairs"])
            responses[qid] = _matching_response(question, form)
            continue
        known_fields.add(qid)
        values = tuple(v for v in form.get(qid, ()) if v != "")
        _check_values(question, values)
        responses[qid] = values
    extra = sorted(set(form) - known_fields)
    if extra:
        raise ForgedAnswer(f"unknown field {extra[0]!r}")
    return responses


def _share(percent_text: object) -> Fraction:
    """A stored percentage (``"50"``, ``"-33.3333"``) as a share of 1."""
    return Fraction(Decimal(str(percent_text))) / 100


def option_credit(option: Mapping) -> Fraction:
    """What choosing *option* earns, as a share of the question's points."""
    if "credit" in option:
        return _share(option["credit"])
    return Fraction(1 if option["correct"] else 0)


def answer_credits(question: Mapping) -> list[Fraction]:
    """The credit of each accepted answer of a short or numerical question."""
    stored = question.get("credits")
    if stored is None:
        return [Fraction(1)] * len(question["answers"])
    return [_share(credit) for credit in stored]


def _clamp(value: Fraction) -> Fraction:
    return max(Fraction(0), min(Fraction(1), value))


def _choice_credit(question: Mapping, response: tuple[str, ...]) -> Fraction:
    options = {option["id"]: option for option in question["options"]}
    if question["kind"] != "multiple":
        return _clamp(option_credit(options[response[0]]))
    if not question.get("partial"):
        right = {oid for oid, option in options.items() if option["correct"]}
        return Fraction(int(set(response) == right))
    best = sum((c for c in map(option_credit, options.values()) if c > 0), Fraction(0))
    chosen = sum((option_credit(options[oid]) for oid in response), Fraction(0))
    return _clamp(chosen / best) if best else Fraction(0)


def _typed_credit(question: Mapping, typed: str) -> Fraction:
    weights = answer_credits(question)
    if question["kind"] == "numerical":
        value = parse_number(typed)
        if value is None:
            return Fraction(0)
        return max(
            (
                credit
                for (low, high), credit in zip(question["ranges"], weights, strict=True)
                if Decimal(low) <= value <= Decimal(high)
            ),
            default=Fraction(0),
        )
    given = normalise_short_answer(typed)
    return max(
        (
            credit
            for answer, credit in zip(question["answers"], weights, strict=True)
            if given == normalise_short_answer(answer)
        ),
        default=Fraction(0),
    )


def credit(question: Mapping, response: tuple[str, ...]) -> Fraction:
    """The share of *question*'s points that *response* earns, from 0 to 1."""
    if not response:
        return Fraction(0)
    kind = question["kind"]
    if kind in TYPED_KINDS:
        return _clamp(_typed_credit(question, response[0]))
    if kind == "matching":
        pairs = question["pairs"]
        right = sum(
            given == pair["match"] for pair, given in zip(pairs, response, strict=False) if given
        )
        return Fraction(right, len(pairs)) if pairs else Fraction(0)
    return _choice_credit(question, response)


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def percent(earned: int | Decimal | Fraction, possible: int) -> Decimal:
    """``earned / possible`` in percent, rounded half up to two decimals."""
    if possible == 0:
        return Decimal(0)
    share = Fraction(earned) * 100 / possible
    return _decimal(share).quantize(_CENT, rounding=ROUND_HALF_UP)


def grade(
    questions: Sequence[Mapping], responses: Mapping[str, tuple[str, ...]], pass_mark: int
) -> Grade:
    """Grade *responses* (from :func:`parse_responses`) against the answer key."""
    results = []
    exact = Fraction(0)
    for question in questions:
        response = responses.get(question["id"], ())
        share = credit(question, response)
        points = int(question["points"])
        earned = share * points
        exact += earned
        results.append(
            QuestionResult(
                question["id"],
                share == 1,
                points,
                _decimal(earned).quantize(_CENT, rounding=ROUND_HALF_UP),
                response,
                share,
            )
        )
    possible = sum(r.points for r in results)
    score = percent(exact, possible)
    return Grade(
        tuple(results),
        _decimal(exact).quantize(_CENT, rounding=ROUND_HALF_UP),
        possible,
        score,
        score >= pass_mark,
    )
