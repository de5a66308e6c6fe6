"""lms.assessments.quizparse: the Markdown quiz syntax, its kinds and its errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.content.errors import ContentError
from lms.content.quiz import (
    Option,
    Pair,
    Question,
    QuestionKind,
    matching_choices,
    normalise_short_answer,
    parse_number,
    parse_quiz,
    quiz_intro,
)

SPEC_EXAMPLE = """\
## Quale regolamento reca le disposizioni comuni sui fondi 2021-2027?
- [x] Regolamento (UE) 2021/1060
- [ ] Regolamento (UE) 1303/2013
- [ ] Regolamento (UE) 2021/241

> Il Regolamento (UE) 2021/1060 è il "Regolamento recante disposizioni comuni" (RDC).

## Quali fondi rientrano nella politica di coesione 2021-2027?
- [x] FESR
- [x] FSE+
- [ ] FEASR
"""


def errors_of(body: str, first_line: int = 1) -> list[tuple[int, str]]:
    return [(error.line, error.message) for error in parse_quiz(body, first_line=first_line)[1]]


def only_question(body: str) -> Question:
    questions, errors = parse_quiz(body)
    assert errors == []
    assert len(questions) == 1
    return questions[0]


# Kinds ----------------------------------------------------------------------


def test_the_example_of_the_spec_parses_into_single_and_multiple_choice() -> None:
    questions, errors = parse_quiz(SPEC_EXAMPLE, first_line=8)
    assert errors == []
    first, second = questions
    assert first == Question(
        text="Quale regolamento reca le disposizioni comuni sui fondi 2021-2027?",
        points=1,
        kind=QuestionKind.SINGLE,
        line=8,
        options=(
            Option("a", "Regolamento (UE) 2021/1060", correct=True, line=9),
            Option("b", "Regolamento (UE) 1303/2013", correct=False, line=10),
            Option("c", "Regolamento (UE) 2021/241", correct=False, line=11),
        ),
        explanation=(
            'Il Regolamento (UE) 2021/1060 è il "Regolamento recante disposizioni comuni" (RDC).'
        ),
    )
    assert second.kind is QuestionKind.MULTIPLE
    assert second.line == 15
    assert [(o.id, o.text, o.correct) for o in second.options] == [
        ("a", "FESR", True),
        ("b", "FSE+", True),
        ("c", "FEASR", False),
    ]
    assert second.explanation == ""


@pytest.mark.parametrize(
    ("true_text", "false_text"),
    [("Vero", "Falso"), ("True", "False"), ("vero", "FALSO"), ("  Vero ", "Falso")],
)
def test_vero_falso_is_a_true_false_question(true_text: str, false_text: str) -> None:
    question = only_question(f"## L'Italia accede al Fondo di coesione?\n- [ ] {true_text}\n"
                             f"- [x] {false_text}\n")  # fmt: skip
    assert question.kind is QuestionKind.TRUE_FALSE
    assert [option.correct for option in question.options] == [False, True]


def test_a_two_option_question_that_is_not_vero_falso_is_single_choice() -> None:
    question = only_question("## Quale?\n- [x] Vero e proprio\n- [ ] Falso allarme\n")
    assert question.kind is QuestionKind.SINGLE


def test_short_answer_keeps_every_accepted_answer() -> None:
    question = only_question(
        "## Numero del RDC?\n= 2021/1060\n=  Regolamento (UE) 2021/1060 \n\n> Spiegazione.\n"
    )
    assert question.kind is QuestionKind.SHORT
    assert question.answers == ("2021/1060", "Regolamento (UE) 2021/1060")
    assert question.options == ()
    assert question.explanation == "Spiegazione."


def test_points_come_from_the_end_of_the_heading() -> None:
    question = only_question("## Quali fondi? {points=3}\n- [x] FESR\n- [ ] FEASR\n")
    assert question.text == "Quali fondi?"
    assert question.points == 3


def test_points_allow_spaces_inside_the_braces() -> None:
    assert only_question("## Q {points = 2 }\n- [x] a\n- [ ] b").points == 2


def test_checkbox_variants_bullets_and_capital_x() -> None:
    question = only_question("## Q\n* [X] uno\n+ [ ] due\n   - [x] tre\n")
    assert [(o.text, o.correct) for o in question.options] == [
        ("uno", True),
        ("due", False),
        ("tre", True),
    ]


def test_options_may_be_separated_by_blank_lines_and_wrap_onto_indented_lines() -> None:
    question = only_question("## Q\n\n- [x] Una risposta\n  lunga su due righe\n\n- [ ] Un'altra\n")
    assert [o.text for o in question.options] == ["Una risposta lunga su due righe", "Un'altra"]


def test_option_ids_are_letters_by_position() -> None:
    options = "".join(f"- [{'x' if i == 0 else ' '}] opzione {i}\n" for i in range(28))
    question = only_question(f"## Q\n{options}")
    ids = [option.id for option in question.options]
    assert ids[:3] == ["a", "b", "c"]
    assert ids[25:] == ["z", "aa", "ab"]


def test_explanation_spans_paragraphs_and_lazy_lines() -> None:
    question = only_question(
        "## Q\n- [x] a\n- [ ] b\n\n> Prima riga\ncontinua\n>\n> Secondo paragrafo.\n\n> Terzo.\n"
    )
    assert question.explanation == "Prima riga\ncontinua\n\nSecondo paragrafo.\n\nTerzo."


def test_question_and_option_text_are_kept_as_raw_markdown() -> None:
    question = only_question("## Il **RDC** è il `2021/1060`?\n- [x] *Sì*, [vedi](02-x.md)\n"
                             "- [ ] No\n")  # fmt: skip
    assert question.text == "Il **RDC** è il `2021/1060`?"
    assert question.options[0].text == "*Sì*, [vedi](02-x.md)"


def test_closing_hashes_of_the_heading_are_dropped() -> None:
    assert only_question("## Domanda ##\n- [x] a\n- [ ] b").text == "Domanda"


def test_intro_before_the_first_question_is_allowed_and_returned() -> None:
    body = (
        "Rispondete a tutte le domande.\n\n# Istruzioni\n\n```\n## non è una domanda\n```\n\n"
        "## Vera domanda\n- [x] a\n- [ ] b\n"
    )
    questions, errors = parse_quiz(body)
    assert errors == []
    assert [question.text for question in questions] == ["Vera domanda"]
    assert quiz_intro(body).startswith("Rispondete a tutte le domande.")
    assert "## non è una domanda" in quiz_intro(body)
    assert "Vera domanda" not in quiz_intro(body)


def test_quiz_intro_of_a_quiz_without_intro_is_empty() -> None:
    assert quiz_intro(SPEC_EXAMPLE) == ""


def test_quiz_intro_without_questions_is_the_whole_body() -> None:
    assert quiz_intro("\nSolo istruzioni.\n") == "Solo istruzioni."


def test_line_numbers_count_from_first_line() -> None:
    questions, _ = parse_quiz("\n## Q\n- [x] a\n- [ ] b", first_line=10)
    assert questions[0].line == 11
    assert [option.line for option in questions[0].options] == [12, 13]


# Errors: each with its line ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "## Domanda senza opzioni\n\n> Spiegazione?\n",
            [
                (3, "the explanation (> …) must come after the options"),
                (1, "question without options ('- [ ] …'), pairs ('- … -> …') or answers ('= …')"),
            ],
            id="no options and no answers",
        ),
        pytest.param(
            "## Domanda\n",
            [(1, "question without options ('- [ ] …'), pairs ('- … -> …') or answers ('= …')")],
            id="heading only",
        ),
        pytest.param(
            "## Domanda\n- [ ] a\n- [ ] b\n",
            [(1, "no correct answer: check at least one box [x]")],
            id="no correct answer",
        ),
        pytest.param(
            "## Domanda\n- [x] FESR\n- [ ]  fesr \n- [ ] F E S R\n",
            [(3, "duplicate option 'fesr' (same as line 2)")],
            id="duplicate option",
        ),
        pytest.param(
            "## Domanda\n= RDC\n= rdc\n",
            [(3, "duplicate answer 'rdc' (same as line 2)")],
            id="duplicate short answer",
        ),
        pytest.param(
            "## Domanda\n- [x] a\n- [ ] b\n= c\n",
            [
                (
                    4,
                    (
                        "a question has either options (- [ ] …), pairs (- … -> …) or answers"
                        " (= …), not options and answers"
                    ),
                )
            ],
            id="task list and answers",
        ),
        pytest.param(
            "## Domanda {points=0}\n- [x] a\n- [ ] b\n",
            [(1, "points must be a whole number of at least 1, not '0'")],
            id="zero points",
        ),
        pytest.param(
            "## Domanda {points=1.5}\n- [x] a\n- [ ] b\n",
            [(1, "points must be a whole number of at least 1, not '1.5'")],
            id="fractional points",
        ),
        pytest.param(
            "## Domanda {points=due}\n- [x] a\n- [ ] b\n",
            [(1, "points must be a whole number of at least 1, not 'due'")],
            id="points not a number",
        ),
        pytest.param(
            "## Domanda {punti=2}\n- [x] a\n- [ ] b\n",
            [(1, "unknown attribute {punti=2}: only {points=N}")],
            id="misspelt points",
        ),
        pytest.param(
            "## Vero o falso?\n- [x] Vero\n- [x] Falso\n",
            [(1, "a true/false question needs exactly one checked answer")],
            id="vero and falso both checked",
        ),
        pytest.param(
            "## Vero o falso?\n- [ ] Vero\n- [ ] Falso\n",
            [(1, "a true/false question needs exactly one checked answer")],
            id="vero and falso neither checked",
        ),
        pytest.param(
            "## Domanda\n- [x] a\n- [ ]\n- [ ]   \n",
            [(3, "empty option"), (4, "empty option")],
            id="empty options",
        ),
        pytest.param(
            "## Domanda\n= \n= a\n",
            [(2, "empty answer after '='")],
            id="empty answer",
        ),
        pytest.param(
            "## Domanda\n- [x] a\nTesto vagante\ne ancora\n- [ ] b\n",
            [
                (
                    3,
                    (
                        "unexpected text between the options: a question holds only its options"
                        " ('- [ ] …', '- … -> …' or '= …') and then a '> …' explanation"
                    ),
                )
            ],
            id="stray content between options",
        ),
        pytest.param(
            "## Domanda\nContesto del caso.\n- [x] a\n- [ ] b\n",
            [
                (
                    2,
                    (
                        "unexpected text before the options: a question holds only its options"
                        " ('- [ ] …', '- … -> …' or '= …') and then a '> …' explanation"
                    ),
                )
            ],
            id="stray content before options",
        ),
        pytest.param(
            "## Domanda\n- [x] a\n- [ ] b\n\n> Spiegazione.\n\nAltro testo.\n",
            [(7, "unexpected text after the explanation (start a question with ##)")],
            id="stray content after the explanation",
        ),
        pytest.param(
            "## Domanda\n- [x] a\n- [ ] b\n\n> Spiegazione.\n- [ ] c\n",
            [(6, "unexpected text after the explanation (start a question with ##)")],
            id="option after the explanation",
        ),
        pytest.param(
            "## Domanda\n- [x] a\n- b\n- [v] c\n",
            [
                (
                    3,
                    (
                        "option without a checkbox: write '- [ ] text' or '- [x] text'"
                        " (or '- left -> right' for a pair)"
                    ),
                ),
                (
                    4,
                    (
                        "option without a checkbox: write '- [ ] text' or '- [x] text'"
                        " (or '- left -> right' for a pair)"
                    ),
                ),
            ],
            id="list items without checkbox",
        ),
        pytest.param(
            "## Domanda\n1. [x] a\n2. [ ] b\n",
            [
                (2, "options must be a bullet list ('- [ ] text'), not a numbered one"),
                (1, "question without options ('- [ ] …'), pairs ('- … -> …') or answers ('= …')"),
            ],
            id="numbered options",
        ),
        pytest.param(
            "## Domanda\n- [x] a\n- [ ] b\n```\n## dentro\n```\n",
            [(4, "code blocks cannot go inside a question")],
            id="code block inside a question",
        ),
        pytest.param(
            "## Domanda\n- [x] unica\n",
            [(1, "only one option: add wrong options, or use '= answer' for a short answer")],
            id="single option",
        ),
        pytest.param(
            "## {points=2}\n- [x] a\n- [ ] b\n",
            [(1, "question without text")],
            id="empty question text",
        ),
        pytest.param(
            "Solo istruzioni, nessuna domanda.\n",
            [(1, "a quiz needs at least one question (a '## …' heading)")],
            id="no question at all",
        ),
    ],
)
def test_each_error_is_reported_with_its_line(body: str, expected: list[tuple[int, str]]) -> None:
    assert sorted(errors_of(body)) == sorted(expected)


def test_every_error_is_reported_not_only_the_first_and_bad_questions_are_left_out() -> None:
    body = (
        "Istruzioni.\n"  # 20
        "\n"  # 21
        "## Buona\n"  # 22
        "- [x] a\n"  # 23
        "- [ ] b\n"  # 24
        "\n"  # 25
        "## Senza risposta giusta {points=x}\n"  # 26
        "- [ ] a\n"  # 27
        "- [ ] a\n"  # 28
        "\n"  # 29
        "## Vero?\n"  # 30
        "- [x] Vero\n"  # 31
        "- [x] Falso\n"  # 32
        "## Breve\n"  # 33
        "= risposta\n"  # 34
    )
    questions, errors = parse_quiz(body, first_line=20)
    assert [question.text for question in questions] == ["Buona", "Breve"]
    assert [(error.line, error.message) for error in errors] == [
        (26, "points must be a whole number of at least 1, not 'x'"),
        (26, "no correct answer: check at least one box [x]"),
        (28, "duplicate option 'a' (same as line 27)"),
        (30, "a true/false question needs exactly one checked answer"),
    ]
    assert all(error.path is None for error in errors)


def test_a_run_of_stray_lines_is_one_error_and_a_new_run_another() -> None:
    body = "## Q\n- [x] a\nuno\ndue\n- [ ] b\ntre\n"
    assert [line for line, _ in errors_of(body)] == [3, 6]


def test_content_error_prints_as_path_line_message() -> None:
    error = ContentError(Path("content/c/03-quiz.md"), 12, "empty option")
    assert str(error) == "content/c/03-quiz.md:12: empty option"
    assert str(ContentError(None, 3, "x")) == "<quiz>:3: x"


# Short answers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("  Regolamento   (UE)  2021/1060 ", "regolamento (ue) 2021/1060"),
        ("FESR", "fesr"),
        ("Fondo\teuropeo\nsviluppo", "fondo europeo sviluppo"),
        ("dell’Unione", "dell'unione"),
        ("e\u0300", "è"),  # decomposed è
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("\u00a0RDC\u00a0", "rdc"),
    ],
)
def test_normalise_short_answer(typed: str, accepted: str) -> None:
    assert normalise_short_answer(typed) == accepted


def test_normalise_short_answer_keeps_meaningful_differences() -> None:
    assert normalise_short_answer("2021/1060") != normalise_short_answer("2021/1061")
    assert normalise_short_answer("FSE+") != normalise_short_answer("FSE")


# Robustness ---------------------------------------------------------------------

QUIZ_FRAGMENTS = [
    "## ", "# ", "### ", "- [x] ", "- [ ] ", "- [X] ", "* [ ] ", "- ", "1. [x] ", "= ", "> ",
    "{points=2}", "{points=0}", "{points=}", "{punti=1}", "```\n", "~~~\n", "Vero", "Falso",
    "  ", "\t", "\n", "\n\n", "a", "A", "FESR", "[x]", "[ ]", "#", "=", ">", "{", "}",
    "{50%} ", "{-50%} ", "{100%} ", "{0%} ", "{150%}", " -> ", "->", "→", "- -> ", " ± ", "±",
    "..", "1060", "3,14", "-5", "+/-", "%",
]  # fmt: skip


# The autouse `db` fixture of conftest is function-scoped; this test never uses it.
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.one_of(st.sampled_from(QUIZ_FRAGMENTS), st.text(max_size=3)), max_size=40).map(
        "".join
    ),
    st.integers(min_value=1, max_value=500),
)
def test_any_text_parses_without_crashing_and_errors_point_into_it(
    body: str, first_line: int
) -> None:
    questions, errors = parse_quiz(body, first_line=first_line)
    last_line = first_line + body.count("\n")
    assert all(first_line <= error.line <= last_line for error in errors)
    for question in questions:
        assert first_line <= question.line <= last_line
        assert question.points >= 1
        if question.kind in (QuestionKind.SHORT, QuestionKind.NUMERICAL):
            assert question.answers
            assert not question.options
            assert len(question.answer_credits) == len(question.answers)
            assert Decimal(100) in question.answer_credits
            if question.kind is QuestionKind.NUMERICAL:
                assert all(low <= high for low, high in question.ranges)
        elif question.kind is QuestionKind.MATCHING:
            assert len([pair for pair in question.pairs if pair.left]) >= 2
            assert all(pair.right for pair in question.pairs)
        else:
            assert len(question.options) >= 2
            assert any(option.correct for option in question.options)
            assert all(option.text for option in question.options)
            shares = question.option_credits()
            assert all(Decimal(-100) <= share <= Decimal(100) for share in shares)
            if question.partial:
                right = sum(c for c, o in zip(shares, question.options, strict=True) if o.correct)
                assert abs(right - Decimal(100)) <= Decimal("0.5")
    if not errors:
        assert questions


# Weights, numerical and matching questions (issue #18) -----------------------------------------


def test_a_weight_after_the_box_gives_partial_credit_in_a_single_choice() -> None:
    question = only_question("## Sede?\n- [x] Bruxelles\n- [ ] {50%} Belgio\n- [ ] Roma\n")
    assert question.kind is QuestionKind.SINGLE
    assert [o.weight for o in question.options] == [None, Decimal(50), None]
    assert [o.text for o in question.options] == ["Bruxelles", "Belgio", "Roma"]
    assert question.option_credits() == (Decimal(100), Decimal(50), Decimal(0))
    assert not question.partial


@pytest.mark.parametrize("written", ["{50%}", "{ 50 % }", "{50,0%}", "{50.0%}", "{+50%}"])
def test_weights_are_written_with_spaces_a_comma_or_a_point(written: str) -> None:
    question = only_question(f"## Q\n- [x] a\n- [ ] {written} b\n")
    assert question.options[1].weight == Decimal(50)


def test_several_checked_options_worth_100_are_a_single_choice_of_any_of_them() -> None:
    question = only_question("## Sede?\n- [x] {100%} Lussemburgo\n- [x] {100%} Luxembourg\n"
                             "- [ ] Roma\n")  # fmt: skip
    assert question.kind is QuestionKind.SINGLE
    assert question.option_credits() == (Decimal(100), Decimal(100), Decimal(0))


def test_a_multiple_answer_question_with_weights_adds_them_up() -> None:
    question = only_question(
        "## Fondi?\n- [x] {50%} FESR\n- [x] FSE+\n- [ ] {-50%} LIFE\n- [ ] Orizzonte\n"
    )
    assert question.kind is QuestionKind.MULTIPLE
    assert question.partial
    # FSE+ has no weight: it takes what FESR leaves of 100%.
    assert question.option_credits() == (Decimal(50), Decimal(50), Decimal(-50), Decimal(0))


def test_checked_options_without_weights_share_what_is_left() -> None:
    question = only_question("## Q\n- [x] a\n- [x] b\n- [x] c\n- [ ] {-100%} d\n")
    shares = question.option_credits()
    assert sum(shares[:3]) == pytest.approx(Decimal(100))
    assert shares[0] == shares[1] == shares[2]


def test_a_multiple_answer_question_without_weights_is_all_or_nothing() -> None:
    question = only_question(SPEC_EXAMPLE.split("\n\n## ")[1].join(["## ", ""]))
    assert question.kind is QuestionKind.MULTIPLE
    assert not question.partial


def test_short_answers_take_weights() -> None:
    question = only_question("## Capitale?\n= Bruxelles\n= {50%} Belgio\n= {25 %} Europa\n")
    assert question.kind is QuestionKind.SHORT
    assert question.answers == ("Bruxelles", "Belgio", "Europa")
    assert question.answer_credits == (Decimal(100), Decimal(50), Decimal(25))


def test_an_escaped_brace_is_text_not_a_weight() -> None:
    question = only_question("## Q\n- [x] \\{50%} di sconto\n- [ ] nessuno\n")
    assert (question.options[0].text, question.options[0].weight) == ("\\{50%} di sconto", None)


@pytest.mark.parametrize(
    ("answers", "ranges"),
    [
        ("= 1060 ± 5", [("1055", "1065")]),
        ("= 1060 +/- 5", [("1055", "1065")]),
        ("= 1060±0", [("1060", "1060")]),
        ("= 3,1415 ± 0,0005", [("3.1410", "3.1420")]),
        ("= 3.141..3.142", [("3.141", "3.142")]),
        ("= 1000 .. 1100", [("1000", "1100")]),
        ("= -5..-1", [("-5", "-1")]),
        ("= 1822 ± 0\n= {50%} 1822 ± 2", [("1822", "1822"), ("1820", "1824")]),
        ("= 1822 ± 1\n= 1900", [("1821", "1823"), ("1900", "1900")]),  # a plain number joins
    ],
)
def test_a_tolerance_or_a_range_makes_a_numerical_question(
    answers: str, ranges: list[tuple[str, str]]
) -> None:
    question = only_question(f"## Quanto?\n{answers}\n")
    assert question.kind is QuestionKind.NUMERICAL
    assert question.ranges == tuple((Decimal(low), Decimal(high)) for low, high in ranges)


def test_plain_numbers_alone_stay_a_short_answer_so_codes_keep_their_zeros() -> None:
    question = only_question("## Codice ISTAT di Napoli?\n= 063049\n")
    assert question.kind is QuestionKind.SHORT
    assert question.answers == ("063049",)


def test_pairs_make_a_matching_question_with_distractors() -> None:
    question = only_question(
        "## Abbina\n- FESR -> sviluppo regionale\n* FSE+ → occupazione\n- -> pesca\n\n> Perché.\n"
    )
    assert question.kind is QuestionKind.MATCHING
    assert question.pairs == (
        Pair("FESR", "sviluppo regionale", 2),
        Pair("FSE+", "occupazione", 3),
        Pair("", "pesca", 4),
    )
    assert question.options == ()
    assert question.explanation == "Perché."


def test_matching_choices_are_the_distinct_right_hand_sides() -> None:
    question = only_question("## Abbina\n- Napoli -> Campania\n- Salerno -> campania\n"
                             "- Bari -> Puglia\n")  # fmt: skip
    assert matching_choices(question.pairs) == ["Campania", "Puglia"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "## Q\n- [x] a\n- [ ] {150%} b\n",
            [(3, "weight 150% is out of range: from -100% to 100%")],
            id="weight out of range",
        ),
        pytest.param(
            "## Q\n- [x] a\n- [ ] {50} b\n",
            [
                (
                    3,
                    (
                        "'{50}' is not a weight: write it as {50%} (or \\{ for a text that starts"
                        " with a brace)"
                    ),
                )
            ],
            id="weight without percent",
        ),
        pytest.param(
            "## Q\n- [x] a\n- [ ] {metà%} b\n",
            [
                (
                    3,
                    (
                        "'{metà%}' is not a weight: write it as {50%} (or \\{ for a text"
                        " that starts with a brace)"
                    ),
                )
            ],
            id="weight not a number",
        ),
        pytest.param(
            "## Q\n- [x] {50%} a\n- [ ] b\n",
            [
                (
                    2,
                    (
                        "the right answer of a single-choice question is worth 100%, not 50%: give"
                        " partial credit to unchecked options"
                    ),
                )
            ],
            id="single choice right answer below 100",
        ),
        pytest.param(
            "## Q\n- [x] a\n- [ ] {-50%} b\n",
            [
                (
                    3,
                    (
                        "a negative weight needs several right options (checkboxes): in a"
                        " single-choice question a wrong answer already earns 0"
                    ),
                )
            ],
            id="negative weight in a single choice",
        ),
        pytest.param(
            "## Q\n- [x] a\n- [ ] {100%} b\n",
            [(3, "an option worth 100% is a right answer: check its box [x]")],
            id="unchecked worth 100",
        ),
        pytest.param(
            "## Q\n- [x] {0%} a\n- [x] b\n- [ ] c\n",
            [
                (
                    2,
                    (
                        "a checked option worth 0%: a right option earns more than 0%"
                        " (uncheck it if it is wrong)"
                    ),
                )
            ],
            id="checked worth 0",
        ),
        pytest.param(
            "## Q\n- [x] {50%} a\n- [x] {40%} b\n- [ ] c\n",
            [(1, "the weights of the checked options add up to 90%, not 100%")],
            id="weights not adding up",
        ),
        pytest.param(
            "## Q\n- [x] {60%} a\n- [x] {50%} b\n- [x] c\n",
            [
                (
                    1,
                    (
                        "the weights of the checked options already add up to 110%: nothing is left"
                        " for the checked options without a weight"
                    ),
                )
            ],
            id="nothing left to share",
        ),
        pytest.param(
            "## Q\n- [x] {50%} a\n- [x] {50%} b\n- [ ] {25%} c\n",
            [
                (
                    4,
                    (
                        "an unchecked option worth 25%: check it [x] if it is right, or give it a"
                        " negative weight such as {-50%}"
                    ),
                )
            ],
            id="positive weight on a wrong option of a multiple choice",
        ),
        pytest.param(
            "## Vero?\n- [x] {100%} Vero\n- [ ] Falso\n",
            [(2, "a true/false question has no weights")],
            id="weights on true/false",
        ),
        pytest.param(
            "## Q\n= {50%} Belgio\n",
            [(1, "no answer worth 100%: one accepted answer must earn full credit")],
            id="no full-credit answer",
        ),
        pytest.param(
            "## Q\n= Bruxelles\n= {0%} Belgio\n",
            [
                (
                    3,
                    (
                        "an accepted answer worth 0%: answers that are not listed earn nothing, so"
                        " list only answers worth more than 0%"
                    ),
                )
            ],
            id="answer worth 0",
        ),
        pytest.param(
            "## Q\n= {50%}\n= a\n",
            [(2, "empty answer after '='")],
            id="weight without an answer",
        ),
        pytest.param(
            "## Q\n= 1060 ± cinque\n",
            [
                (
                    2,
                    (
                        "'1060 ± cinque' is not a number with a tolerance or a range: write"
                        " '= 1060 ± 5' or '= 1000..1100' (a comma or a point for decimals,"
                        " no thousands separators)"
                    ),
                )
            ],
            id="tolerance not a number",
        ),
        pytest.param(
            "## Q\n= 1060 ± 5\n= mille\n",
            [
                (
                    3,
                    (
                        "'mille' is not a number: every answer of a numerical question is a"
                        " number, a number ± a tolerance or a range such as 1000..1100"
                    ),
                )
            ],
            id="text among numbers",
        ),
        pytest.param(
            "## Q\n= 1060 ± -5\n",
            [(2, "the tolerance of '1060 ± -5' is negative: write '= 1060 ± 5'")],
            id="negative tolerance",
        ),
        pytest.param(
            "## Q\n= 1100..1000\n",
            [(2, "the range '1100..1000' goes down: write the smaller number first")],
            id="range upside down",
        ),
        pytest.param(
            "## Q\n= 1060 ± 5\n= 1055..1065\n",
            [(3, "duplicate answer '1055..1065' (same as line 2)")],
            id="same interval twice",
        ),
        pytest.param(
            "## Abbina\n- FESR -> a\n",
            [(1, "a matching question needs at least two pairs ('- left -> right')")],
            id="one pair",
        ),
        pytest.param(
            "## Abbina\n- FESR -> a\n- FESR -> b\n- FSE -> c\n",
            [(3, "duplicate left side 'FESR' (same as line 2)")],
            id="left side twice",
        ),
        pytest.param(
            "## Abbina\n- FESR -> a\n- FSE ->\n",
            [(3, "a pair needs its right side after '->'")],
            id="empty right side",
        ),
        pytest.param(
            "## Abbina\n- FESR -> a\n- FSE -> b\n- [x] c\n",
            [
                (
                    4,
                    (
                        "a question has either options (- [ ] …), pairs (- … -> …) or"
                        " answers (= …), not options and pairs"
                    ),
                )
            ],
            id="pairs and options",
        ),
        pytest.param(
            "## Abbina\n- FESR -> a\n- FSE -> b\n= c\n",
            [
                (
                    4,
                    (
                        "a question has either options (- [ ] …), pairs (- … -> …) or"
                        " answers (= …), not pairs and answers"
                    ),
                )
            ],
            id="pairs and answers",
        ),
    ],
)
def test_each_error_of_the_new_syntax_is_reported_with_its_line(
    body: str, expected: list[tuple[int, str]]
) -> None:
    assert sorted(errors_of(body)) == sorted(expected)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1957", "1957"),
        ("1957,5", "1957.5"),
        ("1957.5", "1957.5"),
        (" 3,14 ", "3.14"),
        ("-2", "-2"),
        ("−2", "-2"),  # the minus sign
        ("+2", "2"),
        ("1.060,5", "1060.5"),
        ("1,060.5", "1060.5"),
        ("1.000.000", "1000000"),
        ("1 000 000", "1000000"),
        ("1\u202f000", "1000"),
        (",5", "0.5"),
        ("５", "5"),  # a full-width digit
    ],
)
def test_parse_number_reads_what_people_type(typed: str, value: str) -> None:
    assert parse_number(typed) == Decimal(value)


@pytest.mark.parametrize("typed", ["", "mille", "1e3", "1,2,3.4,5", "12a", "--1", "1-2", "∞", "."])
def test_parse_number_refuses_what_is_not_a_number(typed: str) -> None:
    assert parse_number(typed) is None
