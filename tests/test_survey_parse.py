"""The survey syntax (lms.content.survey): questions, scales, attributes, and every error
with its line; a survey module read by the content loader and reported by ``lms content check``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from lms.content.survey import (
    AGREEMENT_SCALES,
    SurveyKind,
    SurveyQuestion,
    parse_survey,
    survey_intro,
)
from lms.courses.content import ModuleType, load_tree

GOOD = """\
Aiutaci a migliorare il corso: INTRODUZIONE-QUESTIONARIO.

## Quanto ti è stato utile il corso?
- Per nulla
- Poco
- Abbastanza
- Molto

## I materiali erano chiari.

## Che cosa miglioreresti? {testo}

## Altri commenti {text} {optional}

## Consiglieresti il corso a un collega? {facoltativa}
* No
* Forse
* Sì, senz'altro
  a chiunque
"""


def errors_of(body: str, first_line: int = 1) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in parse_survey(body, first_line=first_line)[1]]


def test_a_survey_is_read_into_its_questions() -> None:
    questions, errors = parse_survey(GOOD, first_line=5)
    assert errors == []
    assert questions == [
        SurveyQuestion(
            "Quanto ti è stato utile il corso?",
            SurveyKind.SCALE,
            7,
            ("Per nulla", "Poco", "Abbastanza", "Molto"),
        ),
        SurveyQuestion(
            "I materiali erano chiari.",
            SurveyKind.SCALE,
            13,
            AGREEMENT_SCALES["it"],
            default_scale=True,
        ),
        SurveyQuestion("Che cosa miglioreresti?", SurveyKind.TEXT, 15),
        SurveyQuestion("Altri commenti", SurveyKind.TEXT, 17, optional=True),
        SurveyQuestion(
            "Consiglieresti il corso a un collega?",
            SurveyKind.SCALE,
            19,
            ("No", "Forse", "Sì, senz'altro a chiunque"),  # an indented line continues a label
            optional=True,
        ),
    ]
    assert survey_intro(GOOD) == "Aiutaci a migliorare il corso: INTRODUZIONE-QUESTIONARIO."


def test_the_default_scale_is_in_the_course_language() -> None:
    questions, _ = parse_survey("## The materials were clear.\n", language="en")
    assert questions[0].labels == (
        "Strongly disagree",
        "Disagree",
        "Neither agree nor disagree",
        "Agree",
        "Strongly agree",
    )
    assert len(AGREEMENT_SCALES["it"]) == 5
    assert AGREEMENT_SCALES["it"][0] == "Per niente d'accordo"
    assert AGREEMENT_SCALES["it"][-1] == "Del tutto d'accordo"


def test_attributes_are_case_blind_and_may_share_braces() -> None:
    questions, errors = parse_survey("## Commenti {Testo, Facoltativa}\n\n## Voto {optional}\n")
    assert errors == []
    assert (questions[0].kind, questions[0].optional) == (SurveyKind.TEXT, True)
    assert (questions[1].kind, questions[1].optional) == (SurveyKind.SCALE, True)


def test_a_scale_of_two_and_of_ten_labels_is_fine() -> None:
    two = "## Sì o no?\n- Sì\n- No\n"
    ten = "## Da 1 a 10\n" + "".join(f"- {n}\n" for n in range(1, 11))
    assert parse_survey(two)[1] == []
    assert len(parse_survey(ten)[0][0].labels) == 10


def test_headings_in_code_and_the_intro_are_not_questions() -> None:
    body = "# Titolo\n\n```\n## non una domanda\n```\n\n## Domanda vera\n"
    questions, errors = parse_survey(body)
    assert errors == []
    assert [q.text for q in questions] == ["Domanda vera"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Solo un'introduzione.\n", [(1, "a survey needs at least one question")]),
        ("", [(1, "a survey needs at least one question")]),
        ("## Utile?\n- Per nulla\n-\n- Molto\n", [(3, "empty scale label")]),
        ("## Utile?\n- Sì\n", [(1, "only one label: a scale needs 2 to 10")]),
        (
            "## Troppi\n" + "".join(f"- {n}\n" for n in range(1, 12)),
            [(12, "11 labels: a scale has at most 10")],
        ),
        ("## Utile? {points=2}\n", [(1, "unknown attribute {points=2}")]),
        ("## Utile? {obbligatoria}\n", [(1, "unknown attribute {obbligatoria}")]),
        ("## Utile? {}\n", [(1, "empty attribute {}")]),
        (
            "## Quale fondo?\n- [x] FESR\n- [ ] FEASR\n",
            [(2, "a task list ('- [ ] …') is for quizzes")],
        ),
        ("## Commenti {testo}\n- Sì\n- No\n", [(2, "a free-text question ({testo}) has no")]),
        ("## Utile?\n1. Poco\n2. Molto\n", [(2, "a scale is a bullet list")]),
        ("## Utile?\nUna spiegazione.\n- Sì\n- No\n", [(2, "unexpected text")]),
        ("## Utile?\n- Sì\n- sì\n", [(3, "duplicate label 'sì' (same as line 2)")]),
        ("##\n- Sì\n- No\n", [(1, "question without text")]),
        ("## {testo}\n", [(1, "question without text")]),
        ("## Utile?\n```\ncodice\n```\n", [(2, "code blocks cannot go inside a question")]),
    ],
    ids=[
        "no-question",
        "empty-body",
        "empty-label",
        "one-label",
        "eleven-labels",
        "quiz-attribute",
        "unknown-attribute",
        "empty-attribute",
        "task-list",
        "text-with-scale",
        "numbered-list",
        "stray-text",
        "duplicate-label",
        "no-text",
        "only-attributes",
        "code-block",
    ],
)
def test_each_error_is_reported_with_its_line(body: str, expected: list[tuple[int, str]]) -> None:
    found = errors_of(body)
    assert [line for line, _ in found] == [line for line, _ in expected], found
    for (_, message), (_, start) in zip(found, expected, strict=True):
        assert message.startswith(start), message


def test_every_error_of_a_file_is_reported_at_once_with_file_lines() -> None:
    body = "## Uno\n- Sì\n\n## Due {boh}\n\n## Tre\n-\n- A\n"
    assert [line for line, _ in errors_of(body, first_line=10)] == [10, 13, 16]
    questions, _ = parse_survey(body)
    assert questions == []  # each question had an error


def test_a_task_list_is_reported_once_per_question() -> None:
    assert len(errors_of("## Q\n- [ ] a\n- [x] b\n- [ ] c\n")) == 1


# In a course: the loader and lms content check ---------------------------------------------

COURSE = "---\ntitle: Corso\nhours: 2\nlanguage: {language}\n---\n\nPanoramica.\n"
PAGE = "---\ntitle: Lettura\n---\n\nTesto.\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "corso" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def survey_file(body: str, *, required: str | None = "false") -> str:
    front = "title: Questionario di gradimento\ntype: survey\n"
    if required is not None:
        front += f"required: {required}\n"
    return f"---\n{front}---\n\n{body}"


def test_a_survey_module_is_loaded_with_its_questions(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "course.md": COURSE.format(language="en"),
            "01-lettura.md": PAGE,
            "02-questionario.md": survey_file(GOOD),
        },
    )
    courses, errors = load_tree(root)
    assert errors == []
    survey = courses[0].modules[1]
    assert survey.type is ModuleType.SURVEY
    assert survey.required is False
    assert survey.intro == "Aiutaci a migliorare il corso: INTRODUZIONE-QUESTIONARIO."
    assert [q.line for q in survey.survey] == [9, 15, 17, 19, 21]  # lines of the file
    assert survey.survey[1].labels == AGREEMENT_SCALES["en"]  # the course's language
    assert courses[0].modules[0].survey == ()


def test_survey_errors_carry_the_file_and_its_line(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "course.md": COURSE.format(language="it"),
            "01-lettura.md": PAGE,
            "02-questionario.md": survey_file("## Utile?\n- Sì\n"),
        },
    )
    courses, errors = load_tree(root)
    assert courses == []
    assert [str(e) for e in errors] == [
        (
            f"{root}/corso/02-questionario.md:7: only one label: a scale needs 2 to 10"
            " (or no list, for the 1–5 agreement scale)"
        )
    ]


def test_a_course_needs_a_module_that_completes_it(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "course.md": COURSE.format(language="it"),
            "01-questionario.md": survey_file("## Utile?\n"),
        },
    )
    courses, errors = load_tree(root)
    assert courses == []
    assert [(e.path, e.line) for e in errors] == [(root / "corso" / "course.md", 0)]
    assert "every module is optional" in errors[0].message


def test_required_is_for_surveys_only(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "course.md": COURSE.format(language="it"),
            "01-lettura.md": "---\ntitle: Lettura\nrequired: false\n---\n\nTesto.\n",
        },
    )
    _, errors = load_tree(root)
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [
        (3, "'required' is for surveys only")
    ]


def test_a_survey_is_required_unless_it_says_otherwise(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "course.md": COURSE.format(language="it"),
            "01-questionario.md": survey_file("## Utile?\n", required=None),
        },
    )
    courses, errors = load_tree(root)
    assert errors == []
    assert courses[0].modules[0].required is True


def test_content_check_reports_survey_errors(runner: FlaskCliRunner, tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "course.md": COURSE.format(language="it"),
            "01-lettura.md": PAGE,
            "02-questionario.md": survey_file(
                "## Quale?\n- [x] A\n- [ ] B\n\n## Altro {testo}\n- x\n"
            ),
        },
    )
    result = runner.invoke(args=["content", "check", str(root)])
    assert result.exit_code == 1
    path = f"{root}/corso/02-questionario.md"
    assert result.stderr.splitlines() == [
        (
            f"{path}:8: a task list ('- [ ] …') is for quizzes: a survey's scale is a plain bullet"
            " list ('- Per nulla'); for a quiz, write 'type: quiz'"
        ),
        (
            f"{path}:12: a free-text question ({{testo}}) has no scale: remove the list or the"
            " {testo}"
        ),
    ]
