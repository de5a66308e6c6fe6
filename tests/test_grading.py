"""Grading rules (content-format.md, "Quiz syntax"): pure tests of lms.assessments.grading.

Questions are dicts as lms.courses.sync.quiz_payload stores them in a quiz version;
no database, no Flask.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from lms.assessments.grading import (
    MAX_SHORT_ANSWER,
    ForgedAnswer,
    grade,
    parse_responses,
    percent,
)
from lms.content.quiz import parse_quiz, question_payload


def choice(qid: str, correct: str | set[str], *, n: int = 3, points: int = 1) -> dict:
    """A single (one correct letter) or multiple (a set of letters) choice question."""
    right = {correct} if isinstance(correct, str) else correct
    letters = "abcdefghijklmnopqrstuvwxyz"[:n]
    return {
        "id": qid,
        "kind": "single" if isinstance(correct, str) else "multiple",
        "points": points,
        "text_html": f"Domanda {qid}",
        "options": [{"id": x, "html": f"Opzione {x}", "correct": x in right} for x in letters],
        "answers": [],
        "explanation_html": "",
    }


def true_false(qid: str, *, true: bool, points: int = 1) -> dict:
    return {
        "id": qid,
        "kind": "true_false",
        "points": points,
        "text_html": f"Affermazione {qid}",
        "options": [
            {"id": "a", "html": "Vero", "correct": true},
            {"id": "b", "html": "Falso", "correct": not true},
        ],
        "answers": [],
        "explanation_html": "",
    }


def short(qid: str, *answers: str, points: int = 1) -> dict:
    return {
        "id": qid,
        "kind": "short",
        "points": points,
        "text_html": f"Domanda aperta {qid}",
        "options": [],
        "answers": list(answers),
        "explanation_html": "",
    }


def one(question: dict, *response: str) -> tuple[bool, int]:
    """Grade a one-question quiz: (correct, points earned)."""
    (result,) = grade([question], {question["id"]: response}, 60).results
    return result.correct, result.earned


def form(questions: list[dict], answers: dict[str, list[str]], **extra: list[str]) -> dict:
    """The form our quiz page submits: every question's ``__shown`` field plus the answers."""
    shown = {f"{question['id']}__shown": ["1"] for question in questions}
    return {"csrf_token": ["token"]} | shown | answers | extra


# Single choice, true/false --------------------------------------------------------------


def test_single_choice_is_right_only_with_the_checked_option() -> None:
    question = choice("q1", "b", points=2)
    assert one(question, "b") == (True, 2)
    assert one(question, "a") == (False, 0)
    assert one(question, "c") == (False, 0)


def test_true_false_is_right_only_with_the_checked_statement() -> None:
    false_statement = true_false("q1", true=False)
    assert one(false_statement, "b") == (True, 1)
    assert one(false_statement, "a") == (False, 0)
    assert one(true_false("q2", true=True), "a") == (True, 1)


# Multiple choice: set equality -------------------------------------------------------------


RIGHT, WRONG = (True, 3), (False, 0)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (("a", "c"), RIGHT),
        (("c", "a"), RIGHT),  # the order of the choices does not matter
        (("a",), WRONG),  # a partial set is wrong: no partial credit
        (("c",), WRONG),
        (("a", "b", "c"), WRONG),  # every correct one plus a wrong one
        (("a", "b", "c", "d"), WRONG),  # ticking everything
        (("b", "d"), WRONG),
    ],
)
def test_multiple_choice_is_right_only_when_the_sets_are_equal(
    response: tuple[str, ...], expected: tuple[bool, int]
) -> None:
    question = choice("q1", {"a", "c"}, n=4, points=3)
    assert one(question, *response) == expected


# Short answer ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "Regolamento recante disposizioni comuni",
        "regolamento recante disposizioni comuni",
        "  REGOLAMENTO   recante\tdisposizioni  comuni  ",
        "RDC",
        " rdc ",
        "dell’Unione",  # a typographic apostrophe, as phones type it
    ],
)
def test_short_answer_ignores_case_and_spaces_and_accepts_every_listed_answer(
    written: str,
) -> None:
    question = short("q1", "Regolamento recante disposizioni comuni", "RDC", "dell'Unione")
    assert one(question, written) == (True, 1)


@pytest.mark.parametrize(
    "written", ["RDC.", "R D C", "Regolamento disposizioni comuni", "CPR", "rdc rdc"]
)
def test_short_answer_is_wrong_when_the_words_differ(written: str) -> None:
    assert one(short("q1", "Regolamento recante disposizioni comuni", "RDC"), written) == (
        False,
        0,
    )


def test_an_accepted_answer_written_with_odd_spacing_by_the_trainer_still_matches() -> None:
    assert one(short("q1", "  Fondo   sociale europeo plus "), "fondo sociale europeo plus") == (
        True,
        1,
    )


# Points, percent, pass mark ---------------------------------------------------------------


def quiz() -> list[dict]:
    """Five points: single (1), multiple (2), true/false (1), short (1)."""
    return [
        choice("q1", "b"),
        choice("q2", {"a", "c"}, n=4, points=2),
        true_false("q3", true=True),
        short("q4", "RDC"),
    ]


KEY = {"q1": ("b",), "q2": ("a", "c"), "q3": ("a",), "q4": ("rdc",)}


def test_every_question_right_scores_one_hundred() -> None:
    result = grade(quiz(), KEY, 60)
    assert (result.earned, result.possible, result.score_pct, result.passed) == (
        5,
        5,
        Decimal("100.00"),
        True,
    )
    assert [(r.question_id, r.correct, r.points, r.earned) for r in result.results] == [
        ("q1", True, 1, 1),
        ("q2", True, 2, 2),
        ("q3", True, 1, 1),
        ("q4", True, 1, 1),
    ]


def test_points_weight_the_score() -> None:
    # Only the two-point question right: 2 of 5 points, 40%.
    result = grade(quiz(), {"q1": ("a",), "q2": ("c", "a"), "q3": ("b",), "q4": ("x",)}, 60)
    assert (result.earned, result.possible, result.score_pct) == (2, 5, Decimal("40.00"))
    # Everything but the two-point question: 3 of 5, 60%.
    result = grade(quiz(), KEY | {"q2": ("a",)}, 60)
    assert (result.earned, result.score_pct) == (3, Decimal("60.00"))


def test_unanswered_questions_score_zero_and_are_recorded_as_empty() -> None:
    result = grade(quiz(), {}, 60)
    assert (result.earned, result.possible, result.score_pct, result.passed) == (
        0,
        5,
        Decimal("0.00"),
        False,
    )
    assert all(r.response == () and not r.correct and r.earned == 0 for r in result.results)
    # One answered, the rest left blank.
    result = grade(quiz(), {"q2": ("a", "c")}, 60)
    assert (result.earned, result.score_pct) == (2, Decimal("40.00"))


@pytest.mark.parametrize(
    ("earned", "possible", "expected"),
    [
        (1, 32, "3.13"),  # 3.125: half up, not half even (3.12)
        (5, 32, "15.63"),  # 15.625
        (1, 800, "0.13"),  # 0.125
        (3, 800, "0.38"),  # 0.375
        (2, 3, "66.67"),
        (1, 3, "33.33"),
        (1, 8, "12.50"),
        (7, 7, "100.00"),
        (0, 7, "0.00"),
        (0, 0, "0"),  # no points at all: nothing earned
    ],
)
def test_percent_rounds_half_up_to_two_decimals(earned: int, possible: int, expected: str) -> None:
    assert percent(earned, possible) == Decimal(expected)
    assert str(percent(earned, possible)) == expected


def test_the_score_of_an_attempt_is_rounded_half_up() -> None:
    # 1 point of 32: 3.125% -> 3.13%.
    questions = [choice("q1", "a"), choice("q2", "a", points=31)]
    result = grade(questions, {"q1": ("a",), "q2": ("b",)}, 3)
    assert result.score_pct == Decimal("3.13")
    assert result.passed


@pytest.mark.parametrize(
    ("pass_mark", "outcome"),
    [(59, "passed"), (60, "passed"), (61, "failed"), (0, "passed"), (100, "failed")],
)
def test_a_score_equal_to_the_pass_mark_passes(pass_mark: int, outcome: str) -> None:
    result = grade(quiz(), KEY | {"q2": ()}, pass_mark)  # 3 of 5 points: 60%
    assert result.score_pct == Decimal("60.00")
    assert result.passed is (outcome == "passed")


def test_a_pass_mark_of_zero_passes_an_empty_attempt_and_100_needs_everything() -> None:
    assert grade(quiz(), {}, 0).passed is True
    assert grade(quiz(), KEY, 100).passed is True
    assert grade(quiz(), KEY | {"q4": ("cpr",)}, 100).passed is False


def test_a_rounded_score_just_below_the_pass_mark_fails() -> None:
    # 2 of 3 points: 66.67%, below a pass mark of 67.
    questions = [choice("q1", "a"), choice("q2", "a"), choice("q3", "a")]
    result = grade(questions, {"q1": ("a",), "q2": ("a",)}, 67)
    assert (result.score_pct, result.passed) == (Decimal("66.67"), False)


# Reading the submitted form -----------------------------------------------------------------


def test_the_form_of_our_page_is_read_per_question() -> None:
    questions = quiz()
    responses = parse_responses(
        questions, form(questions, {"q1": ["b"], "q2": ["a", "c"], "q3": ["a"], "q4": [" RDC "]})
    )
    assert responses == {"q1": ("b",), "q2": ("a", "c"), "q3": ("a",), "q4": (" RDC ",)}
    assert grade(questions, responses, 60).score_pct == Decimal("100.00")


def test_unanswered_questions_and_empty_fields_are_allowed() -> None:
    questions = quiz()
    responses = parse_responses(questions, form(questions, {"q4": [""]}))
    assert responses == {"q1": (), "q2": (), "q3": (), "q4": ()}


def test_a_short_answer_of_the_maximum_length_is_accepted() -> None:
    questions = quiz()
    answer = "x" * MAX_SHORT_ANSWER
    assert parse_responses(questions, form(questions, {"q4": [answer]}))["q4"] == (answer,)


@pytest.mark.parametrize(
    ("answers", "extra", "reason"),
    [
        ({"q1": ["d"]}, {}, "'d' is not one of its options"),  # q2's option "d"
        ({"q1": ["zz"]}, {}, "'zz' is not one of its options"),
        ({"q3": ["Vero"]}, {}, "'Vero' is not one of its options"),  # text, not the id
        ({"q1": ["a", "b"]}, {}, "only one option"),  # two values for a radio question
        ({"q3": ["a", "b"]}, {}, "only one option"),
        ({"q2": ["a", "a"]}, {}, "the same option twice"),
        ({"q4": ["RDC", "CPR"]}, {}, "more than one answer"),
        ({"q4": ["x" * (MAX_SHORT_ANSWER + 1)]}, {}, f"longer than {MAX_SHORT_ANSWER}"),
        ({}, {"q9": ["a"]}, "unknown field 'q9'"),
        ({}, {"q1__correct": ["1"]}, "unknown field 'q1__correct'"),
    ],
)
def test_a_forged_form_is_refused_with_a_reason(
    answers: dict[str, list[str]], extra: dict[str, list[str]], reason: str
) -> None:
    questions = quiz()
    with pytest.raises(ForgedAnswer, match=reason.replace("(", r"\(")):
        parse_responses(questions, form(questions, answers, **extra))


def test_a_form_without_a_question_s_shown_field_is_refused() -> None:
    questions = quiz()
    fields = form(questions, {"q1": ["b"]})
    del fields["q3__shown"]
    with pytest.raises(ForgedAnswer, match="question q3 is missing from the form"):
        parse_responses(questions, fields)


# Partial credit, numerical and matching (issue #18) --------------------------------------------
#
# Questions here come from the Markdown syntax through the payload the sync stores, so
# that the parser, the payload and the grading are tested together.


def payload(markdown: str, *, points: int | None = None) -> dict:
    """The stored form of a one-question quiz written in Markdown."""
    heading, _, rest = markdown.partition("\n")
    if points is not None:
        heading += f" {{points={points}}}"
    (question,), errors = parse_quiz(f"{heading}\n{rest}")
    assert errors == []
    return question_payload("q1", question, inline=str, block=str)


def earned(question: dict, *response: str) -> Decimal:
    (result,) = grade([question], {"q1": response}, 60).results
    return result.earned


SINGLE_PARTIAL = "## Sede?\n- [x] Bruxelles\n- [ ] {50%} Belgio\n- [ ] {10%} Europa\n- [ ] Roma\n"
MULTIPLE_WEIGHTED = "## Fondi?\n- [x] {50%} a\n- [x] {50%} b\n- [ ] {-50%} c\n- [ ] {-100%} d\n"
THIRDS = "## Tre giuste\n- [x] a\n- [x] b\n- [x] c\n- [ ] {-50%} d\n"


@pytest.mark.parametrize(("chosen", "points"), [("a", "3"), ("b", "1.5"), ("c", "0.3"), ("d", "0")])
def test_a_single_choice_earns_the_chosen_option_s_weight(chosen: str, points: str) -> None:
    assert earned(payload(SINGLE_PARTIAL, points=3), chosen) == Decimal(points)


@pytest.mark.parametrize(
    ("chosen", "points"),
    [
        (("a", "b"), "2"),
        (("a",), "1"),
        (("a", "b", "c"), "1"),
        (("a", "c"), "0"),
        (("c",), "0"),  # -50%: never below 0
        (("c", "d"), "0"),  # -150%
        (("a", "b", "c", "d"), "0"),  # 100 - 150: below 0, so 0
        (("a", "b", "d"), "0"),
    ],
)
def test_multiple_answers_with_weights_add_up_and_never_go_below_zero(
    chosen: tuple[str, ...], points: str
) -> None:
    question = payload(MULTIPLE_WEIGHTED, points=2)
    assert earned(question, *chosen) == Decimal(points)
    (result,) = grade([question], {"q1": chosen}, 60).results
    assert result.correct is (points == "2")
    assert 0 <= result.credit <= 1


def test_three_right_options_without_weights_share_exactly_a_hundred() -> None:
    question = payload(THIRDS, points=3)
    assert earned(question, "a", "b", "c") == 3
    assert grade([question], {"q1": ("a", "b", "c")}, 100).passed
    assert earned(question, "a") == 1
    assert earned(question, "a", "b", "d") == Decimal("0.5")  # 2/3 - 1/2 of 3 points


def test_a_multiple_choice_without_weights_stays_all_or_nothing() -> None:
    question = payload("## Q\n- [x] a\n- [x] b\n- [ ] c\n", points=2)
    assert question["partial"] is False
    assert (earned(question, "a", "b"), earned(question, "a"), earned(question, "a", "b", "c")) == (
        2,
        0,
        0,
    )


def test_any_of_several_right_options_gets_full_credit() -> None:
    question = payload("## Sede?\n- [x] {100%} Lussemburgo\n- [x] {100%} Luxembourg\n- [ ] Roma\n")
    assert question["kind"] == "single"
    assert (earned(question, "a"), earned(question, "b"), earned(question, "c")) == (1, 1, 0)


def test_short_answers_earn_the_best_matching_weight() -> None:
    question = payload("## Capitale?\n= Bruxelles\n= {50%} Belgio\n= {25%} BELGIO del nord\n")
    assert earned(question, " bruxelles ") == 1
    assert earned(question, "belgio") == Decimal("0.5")
    assert earned(question, "belgio  del NORD") == Decimal("0.25")
    assert earned(question, "Parigi") == 0


NUMERICAL = "## Quanto?\n= 1060 ± 5\n= {50%} 1000..1100\n= {25%} 3,5 ± 0,25\n"


@pytest.mark.parametrize(
    ("typed", "points"),
    [
        ("1060", "1"),
        ("1055", "1"),  # the tolerance's edges are right
        ("1065", "1"),
        ("1054,9999", "0.5"),  # just outside the tolerance, inside the range
        ("1065.0001", "0.5"),
        ("1000", "0.5"),
        ("1100", "0.5"),
        ("999,99", "0"),
        ("1100.01", "0"),
        ("3,25", "0.25"),
        ("3.75", "0.25"),
        ("3,76", "0"),
        ("1.060", "0"),  # one point is a decimal point: 1.06
        ("1.060,0", "1"),
        ("mille", "0"),
        ("1060 euro", "0"),
    ],
)
def test_numerical_tolerances_and_ranges_include_their_edges(typed: str, points: str) -> None:
    assert earned(payload(NUMERICAL), typed) == Decimal(points)


def test_a_numerical_value_on_two_answers_earns_the_best() -> None:
    question = payload("## Nato nel?\n= {50%} 1822 ± 2\n= 1822 ± 0\n")
    assert earned(question, "1822") == 1
    assert earned(question, "1821") == Decimal("0.5")


MATCHING = "## Abbina\n- FESR -> sviluppo\n- FSE+ -> lavoro\n- FEAMPA -> pesca\n- -> agricoltura\n"


def test_matching_is_graded_per_pair() -> None:
    question = payload(MATCHING, points=3)
    match = {pair["html"]: pair["match"] for pair in question["pairs"]}
    choices = {choice["html"]: choice["id"] for choice in question["choices"]}
    assert set(choices) == {"sviluppo", "lavoro", "pesca", "agricoltura"}
    right = (match["FESR"], match["FSE+"], match["FEAMPA"])
    assert earned(question, *right) == 3
    assert earned(question, right[0], choices["agricoltura"], right[2]) == 2
    assert earned(question, right[0], "", "") == 1
    assert earned(question, right[1], right[0], choices["agricoltura"]) == 0


def test_the_matching_form_is_read_per_left_hand_item() -> None:
    question = payload(MATCHING)
    fields = {"q1__shown": ["1"], "q1.a": ["d"], "q1.b": [""], "csrf_token": ["t"]}
    assert parse_responses([question], fields) == {"q1": ("d", "", "")}
    assert parse_responses([question], {"q1__shown": ["1"]}) == {"q1": ()}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"q1.a": ["z"]}, "'z' is not one of its choices"),
        ({"q1.a": ["a", "b"]}, "two choices for item a"),
        ({"q1.d": ["a"]}, "unknown field 'q1.d'"),
        ({"q1": ["a"]}, "unknown field 'q1'"),
    ],
)
def test_a_forged_matching_form_is_refused(fields: dict[str, list[str]], reason: str) -> None:
    with pytest.raises(ForgedAnswer, match=reason):
        parse_responses([payload(MATCHING)], {"q1__shown": ["1"]} | fields)


def test_a_numerical_answer_is_read_like_a_short_one() -> None:
    question = payload(NUMERICAL)
    assert parse_responses([question], {"q1__shown": ["1"], "q1": [" 1060 "]}) == {
        "q1": (" 1060 ",)
    }
    with pytest.raises(ForgedAnswer, match="more than one answer"):
        parse_responses([question], {"q1__shown": ["1"], "q1": ["1", "2"]})


def test_the_score_adds_exact_fractions_before_rounding() -> None:
    # Three questions worth a third each: 1/3 + 1/3 + 1/3 = 1 point of 3, 33.33%.
    thirds = [payload(THIRDS) | {"id": f"q{n}"} for n in (1, 2, 3)]
    result = grade(thirds, {f"q{n}": ("a",) for n in (1, 2, 3)}, 60)
    assert [r.earned for r in result.results] == [Decimal("0.33")] * 3
    assert (result.earned, result.score_pct) == (Decimal("1.00"), Decimal("33.33"))


def test_versions_stored_before_weights_grade_as_they_did() -> None:
    """Old payloads have no ``credit``, ``partial`` or ``credits``: right is all or nothing."""
    old = [choice("q1", "b"), choice("q2", {"a", "c"}, n=4, points=2), short("q3", "RDC")]
    assert all("credit" not in o for q in old for o in q["options"])
    result = grade(old, {"q1": ("b",), "q2": ("a",), "q3": ("rdc",)}, 60)
    assert [r.earned for r in result.results] == [1, 0, 1]
