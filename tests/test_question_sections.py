"""The one walker that splits quiz and survey bodies into questions (lms.content.syntax)."""

from __future__ import annotations

from lms.content.quiz import parse_quiz
from lms.content.survey import parse_survey
from lms.content.syntax import intro, question_sections

BODY = """Intro text.

```
## not a question: inside a fence
```

## First {points=2}
line a

```
code
```
```
more code
```
line b
## Second ##
"""


def test_sections_start_at_level2_headings_outside_fences() -> None:
    sections = question_sections(BODY, first_line=10)
    assert [(s.heading, s.line) for s in sections] == [("First {points=2}", 16), ("Second", 26)]
    # One entry per run of fenced lines (two adjacent blocks are one run), at its first line.
    assert sections[0].lines == [
        (17, "line a"),
        (18, ""),
        (19, None),
        (25, "line b"),
    ]
    assert sections[1].lines == [(27, "")]


def test_intro_is_what_comes_before_the_first_question() -> None:
    assert intro(BODY).startswith("Intro text.")
    assert "not a question" in intro(BODY)
    assert "First" not in intro(BODY)
    assert intro("no questions at all\n") == "no questions at all"


def test_no_heading_means_no_section() -> None:
    assert question_sections("just text\n```\n## fenced\n```\n") == []


def test_both_readers_report_a_code_run_once_at_its_first_line() -> None:
    quiz = "## Q\n- [x] yes\n- [ ] no\n```\na\n```\n```\nb\n```\n"
    _, quiz_errors = parse_quiz(quiz, first_line=5)
    survey = "## Q\n```\na\n```\n"
    _, survey_errors = parse_survey(survey, first_line=5)
    assert [(e.line, e.message) for e in quiz_errors] == [
        (8, "code blocks cannot go inside a question")
    ]
    assert [(e.line, e.message) for e in survey_errors] == [
        (6, "code blocks cannot go inside a question")
    ]
