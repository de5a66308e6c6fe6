"""lms.assessments.quizparse: the Markdown quiz syntax, its kinds and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.content.errors import ContentError
from lms.content.quiz import (
    Option,
    Question,
    QuestionKind,
    normalise_short_answer,
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
        if question.kind is QuestionKind.SHORT:
            assert question.answers
            assert not question.options
        else:
            assert len(question.options) >= 2
            assert any(option.correct for option in question.options)
            assert all(option.text for option in question.options)
    if not errors:
        assert questions
