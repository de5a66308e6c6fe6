"""The richer questions (issue #18) from the file to the grade: partial credit on options
and answers, negative weights, several right options of which one is chosen, numerical
answers with tolerances and ranges, matching questions; synchronised, taken through the
web pages, graded on the server, and counted in the statistics.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from test_quiz_attempts import T0, get_module, quiz_md, sync_content, write_course
from test_quiz_pages import controls, plain, quiz_form_html, start, submit, tags, text

from lms.assessments.models import QuizAttempt
from lms.assessments.operations import (
    current_version,
    graded_attempts,
    start_attempt,
    submit_attempt,
)
from lms.assessments.sheets import question_sheet
from lms.assessments.statistics import quiz_statistics
from lms.auth.models import User
from lms.courses.models import Module
from lms.extensions import db as _db

#: Every new kind once; 9 points. The answer key's texts are distinctive.
RICH_BODY = """\
Istruzioni della verifica ricca.

## Dove ha sede la Commissione europea?
- [x] Bruxelles
- [ ] {50%} Belgio
- [ ] Strasburgo

> SPIEGAZIONE-PESI

## Quali fondi sono in gestione concorrente? {points=2}
- [x] {50%} FESR
- [x] {50%} FSE+
- [ ] {-50%} Orizzonte Europa
- [ ] {-50%} LIFE

## In quale città ha sede la Corte dei conti europea?
- [x] {100%} Lussemburgo
- [x] {100%} Luxembourg
- [ ] Roma

## In quale città ha sede il Consiglio europeo?
= Bruxelles
= {50%} Belgio

## In che anno è stato firmato il Trattato di Roma?
= 1957 ± 0
= {50%} 1955..1959

> SPIEGAZIONE-NUMERICA

## Abbina ogni fondo al suo ambito. {points=3}
- FESR -> sviluppo regionale
- FSE+ -> occupazione
- FEAMPA -> pesca
- -> agricoltura

> SPIEGAZIONE-ABBINAMENTI
"""

QUIZ_URL = "/courses/corso/verifica/"


def make_rich_quiz(tmp_path: Path, **settings: object) -> Module:
    sync_content(write_course(tmp_path / "content", quiz_md(RICH_BODY, **settings)))
    return get_module("verifica")


def questions_of(module: Module) -> dict[str, dict]:
    return {q["id"]: q for q in current_version(module).questions}


def choice_id(question: Mapping, text: str) -> str:
    (found,) = [c["id"] for c in question["choices"] if c["html"] == text]
    return found


def option_id(question: Mapping, text: str) -> str:
    (found,) = [o["id"] for o in question["options"] if o["html"] == text]
    return found


def matching_answers(question: Mapping, chosen: Mapping[str, str]) -> dict[str, list[str]]:
    """The select fields of a matching question: left-hand text -> right-hand text chosen."""
    fields = {}
    for pair in question["pairs"]:
        text_chosen = chosen.get(pair["html"])
        fields[f"{question['id']}.{pair['id']}"] = [
            choice_id(question, text_chosen) if text_chosen else ""
        ]
    return fields


def rich_form(module: Module, answers: Mapping[str, object]) -> dict[str, list[str]]:
    """The fields the quiz page submits for *answers* (texts, not ids)."""
    questions = questions_of(module)
    fields: dict[str, list[str]] = {f"{qid}__shown": ["1"] for qid in questions}
    for qid, answer in answers.items():
        question = questions[qid]
        if question["kind"] == "matching":
            assert isinstance(answer, dict)
            fields |= matching_answers(question, answer)
        elif question["kind"] in ("short", "numerical"):
            fields[qid] = [str(answer)]
        else:
            assert isinstance(answer, list)
            fields[qid] = [option_id(question, t) for t in answer]
    return fields


ALL_RIGHT = {
    "q1": ["Bruxelles"],
    "q2": ["FESR", "FSE+"],
    "q3": ["Luxembourg"],
    "q4": "  bruxelles ",
    "q5": "1957",
    "q6": {"FESR": "sviluppo regionale", "FSE+": "occupazione", "FEAMPA": "pesca"},
}
#: q1 0.5, q2 0 (50 - 50), q3 1, q4 0.5, q5 0.5 (1956,5 is in the range), q6 2 of 3:
#: 4.5 points of 9, 50%.
HALF = {
    "q1": ["Belgio"],
    "q2": ["FESR", "Orizzonte Europa"],
    "q3": ["Lussemburgo"],
    "q4": "Belgio",
    "q5": "1956,5",
    "q6": {"FESR": "sviluppo regionale", "FSE+": "agricoltura", "FEAMPA": "pesca"},
}


@pytest.fixture
def rich(tmp_path: Path) -> Module:
    return make_rich_quiz(tmp_path)


# The stored questions -------------------------------------------------------------------------


def test_the_version_stores_the_weights_ranges_and_pairs(rich: Module) -> None:
    questions = questions_of(rich)
    assert [q["kind"] for q in questions.values()] == [
        "single",
        "multiple",
        "single",
        "short",
        "numerical",
        "matching",
    ]
    assert [o["credit"] for o in questions["q1"]["options"]] == ["100", "50", "0"]
    assert questions["q2"]["partial"] is True
    assert [o["credit"] for o in questions["q2"]["options"]] == ["50", "50", "-50", "-50"]
    assert [(o["correct"], o["credit"]) for o in questions["q3"]["options"]] == [
        (True, "100"),
        (True, "100"),
        (False, "0"),
    ]
    assert (questions["q4"]["answers"], questions["q4"]["credits"]) == (
        ["Bruxelles", "Belgio"],
        ["100", "50"],
    )
    assert questions["q5"]["ranges"] == [["1957", "1957"], ["1955", "1959"]]
    assert questions["q5"]["credits"] == ["100", "50"]
    matching = questions["q6"]
    # Choice ids follow the alphabetical order of the right-hand texts, not the pairs.
    assert [(c["id"], c["html"]) for c in matching["choices"]] == [
        ("a", "agricoltura"),
        ("b", "occupazione"),
        ("c", "pesca"),
        ("d", "sviluppo regionale"),
    ]
    assert [(p["id"], p["html"], p["match"]) for p in matching["pairs"]] == [
        ("a", "FESR", "d"),
        ("b", "FSE+", "b"),
        ("c", "FEAMPA", "c"),
    ]


# The quiz page --------------------------------------------------------------------------------


@pytest.mark.usefixtures("rich")
def test_each_new_kind_has_labelled_controls_in_its_fieldset(client: FlaskClient, login_as) -> None:
    learner = login_as("learner")
    start(client)
    page = text(client.get(QUIZ_URL))
    form = quiz_form_html(page)
    fields = controls(page)
    # Three radios for a single choice with "any of these" right answers.
    assert [f["type"] for f in fields["q3"]] == ["radio", "radio", "radio"]
    assert [f["type"] for f in fields["q2"]] == ["checkbox"] * 4
    (numeric,) = fields["q5"]
    assert (numeric["type"], numeric["inputmode"], numeric["maxlength"]) == (
        "text",
        "decimal",
        "50",
    )
    assert 'for="q5-answer"' in form
    assert "La tua risposta (un numero)" in plain(form)
    assert "Ogni risposta sbagliata selezionata toglie punti." in plain(form)  # q2's rule
    # The matching question: a select per left-hand item, labelled by it, in the fieldset.
    fieldset = re.search(
        r'<fieldset class="lms-question" id="question-q6">.*?</fieldset>', form, re.DOTALL
    )
    assert fieldset is not None
    selects = [attrs for tag, attrs in tags(fieldset.group(0)) if tag == "select"]
    assert [s["name"] for s in selects] == ["q6.a", "q6.b", "q6.c"]
    for control in selects:
        assert f'<label for="{control["id"]}">' in fieldset.group(0)
    attempt = _db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learner.id))
    shown = re.findall(r'<option value="([a-z]*)">', fieldset.group(0))
    # Each select: the empty choice, then the four right-hand items in the attempt's order.
    assert shown == (["", *attempt.layout["choices"]["q6"]]) * 3
    assert sorted(attempt.layout["choices"]["q6"]) == ["a", "b", "c", "d"]
    assert "Per ogni voce scegli la corrispondente" in plain(fieldset.group(0))


@pytest.mark.usefixtures("rich")
def test_the_page_gives_away_no_weight_range_or_pair(client: FlaskClient, login_as) -> None:
    login_as("learner")
    start(client)
    page = text(client.get(QUIZ_URL))
    for secret in ("50%", "1955", "1959", "1957", "credit", "match", "SPIEGAZIONE", "Belgio"):
        if secret == "Belgio":  # it is an option of q1: only its weight is secret
            continue
        assert secret not in page, secret
    # The matching choices are shown, but nothing ties them to their left-hand item.
    assert "sviluppo regionale" in page


def test_the_right_hand_side_is_shuffled_even_without_shuffle(rich: Module) -> None:
    orders = set()
    for seed in range(12):
        layout = _layout_for(rich, seed)
        orders.add(tuple(layout["choices"]["q6"]))
        assert layout["questions"] == ["q1", "q2", "q3", "q4", "q5", "q6"]  # not shuffled
        assert layout["options"]["q6"] == ["a", "b", "c"]
    assert len(orders) > 1


def _layout_for(module: Module, seed: int) -> dict:
    from lms.assessments.operations import _layout  # noqa: PLC0415 - the private rule itself

    rng = random.Random(seed)  # noqa: S311 - a reproducible order
    return _layout(current_version(module).questions, shuffle=False, rng=rng)


def test_a_shuffled_quiz_shuffles_the_left_hand_items_too(tmp_path: Path) -> None:
    module = make_rich_quiz(tmp_path, shuffle=True)
    from lms.assessments.operations import _layout  # noqa: PLC0415

    questions = current_version(module).questions
    rngs = [random.Random(seed) for seed in range(12)]  # noqa: S311 - reproducible orders
    orders = {tuple(_layout(questions, shuffle=True, rng=rng)["options"]["q6"]) for rng in rngs}
    assert len(orders) > 1


# Grading through the web ---------------------------------------------------------------------


def submit_answers(
    client: FlaskClient, learner: User, module: Module, answers: Mapping
) -> QuizAttempt:
    start(client)
    attempt = _db.session.scalar(
        select(QuizAttempt).where(
            QuizAttempt.user_id == learner.id, QuizAttempt.submitted_at.is_(None)
        )
    )
    response = submit(client, attempt.id, rich_form(module, answers))
    assert response.status_code == 302, text(response)[:300]
    _db.session.expire_all()
    return _db.session.get(QuizAttempt, attempt.id)


def test_every_answer_right_scores_100(rich: Module, client: FlaskClient, login_as) -> None:
    learner = login_as("learner")
    attempt = submit_answers(client, learner, rich, ALL_RIGHT)
    assert (attempt.score_pct, attempt.earned, attempt.possible) == (Decimal("100.00"), 9, 9)
    assert all(r["correct"] for r in attempt.results.values())


def test_partial_credit_adds_up_on_the_server(rich: Module, client: FlaskClient, login_as) -> None:
    learner = login_as("learner")
    attempt = submit_answers(client, learner, rich, HALF)
    assert {qid: r["earned"] for qid, r in attempt.results.items()} == {
        "q1": 0.5,
        "q2": 0,
        "q3": 1,
        "q4": 0.5,
        "q5": 0.5,
        "q6": 2,
    }
    assert (attempt.earned, attempt.score_pct, attempt.passed) == (
        Decimal("4.50"),
        Decimal("50.00"),
        False,
    )
    assert attempt.responses["q5"] == ["1956,5"]
    assert attempt.responses["q6"] == ["d", "a", "c"]


@pytest.mark.parametrize(
    ("chosen", "earned"),
    [
        (["FESR", "FSE+"], 2),
        (["FESR"], 1),
        (["FESR", "FSE+", "LIFE"], 1),
        (["FESR", "FSE+", "LIFE", "Orizzonte Europa"], 0),
        (["Orizzonte Europa"], 0),  # -50%: never below 0
        (["Orizzonte Europa", "LIFE"], 0),
        ([], 0),
    ],
)
def test_negative_weights_take_points_away_but_never_below_zero(
    rich: Module, client: FlaskClient, login_as, chosen: list[str], earned: int
) -> None:
    learner = login_as("learner")
    attempt = submit_answers(client, learner, rich, {"q2": chosen})
    assert attempt.results["q2"]["earned"] == earned
    assert attempt.results["q2"]["correct"] is (earned == 2)


@pytest.mark.parametrize(
    ("typed", "earned"),
    [
        ("1957", 1),
        ("1957,0", 1),
        ("1957.00", 1),
        (" 1 957 ", 1),
        ("1955", 0.5),  # the range's edges are in it
        ("1959", 0.5),
        ("1954,99", 0),
        ("1959.01", 0),
        ("millenovecentocinquantasette", 0),
        ("", 0),
    ],
)
def test_numerical_answers_by_value_tolerance_and_range(
    rich: Module, client: FlaskClient, login_as, typed: str, earned: float
) -> None:
    learner = login_as("learner")
    attempt = submit_answers(client, learner, rich, {"q5": typed})
    assert attempt.results["q5"]["earned"] == earned


def test_matching_is_graded_per_pair(rich: Module, client: FlaskClient, login_as) -> None:
    learner = login_as("learner")
    attempt = submit_answers(
        client, learner, rich, {"q6": {"FESR": "pesca", "FEAMPA": "pesca"}}
    )  # one right of three, one left empty
    assert attempt.results["q6"] == {"correct": False, "earned": 1, "points": 3}
    assert attempt.responses["q6"] == ["c", "", "c"]


@pytest.mark.parametrize(
    "fields",
    [
        {"q6.a": ["z"]},  # not one of the choices
        {"q6.a": ["a", "b"]},  # two choices for one item
        {"q6.d": ["a"]},  # no such item
        {"q6": ["a"]},  # the question's own name is not a field of a matching question
        {"q5": ["1", "2"]},
        {"q5": ["1" * 501]},
    ],
)
def test_forged_answers_to_new_kinds_are_refused_and_not_graded(
    rich: Module, client: FlaskClient, login_as, fields: dict
) -> None:
    learner = login_as("learner")
    start(client)
    attempt = _db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learner.id))
    form = rich_form(rich, {}) | fields
    assert submit(client, attempt.id, form).status_code == 400
    _db.session.expire_all()
    assert _db.session.get(QuizAttempt, attempt.id).submitted_at is None


def test_the_review_after_the_last_attempt_shows_weights_ranges_and_pairs(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    module = make_rich_quiz(tmp_path, max_attempts=1)
    learner = login_as("learner")
    attempt = submit_answers(client, learner, module, HALF)
    words = plain(text(client.get(f"/courses/corso/verifica/tentativi/{attempt.id}")))
    assert "Verifica non superata: 50,0 % (4,5 punti su 9); serve almeno il 60 %." in words
    assert "Domanda 1 · 0,5 su 1" in words
    assert "Risposta in parte corretta:" in words
    assert "Belgio (vale il 50 %)" in words
    assert "Orizzonte Europa (vale il -50 %)" in words
    assert "FESR (corretta) (vale il 50 %)" in words  # the share of a right option
    assert "Bruxelles (corretta)" in words
    assert "vale il 100 %" not in words  # a single choice's right answer: no weight to say
    assert "Risposte accettate: 1957 ± 0, 1955..1959 (50 %)" in words
    assert "La tua risposta: 1956,5" in words
    assert "FSE+ → la tua scelta agricoltura (quella giusta: occupazione)" in words
    assert "FESR → la tua scelta sviluppo regionale (corretta)" in words
    for explanation in ("SPIEGAZIONE-PESI", "SPIEGAZIONE-NUMERICA", "SPIEGAZIONE-ABBINAMENTI"):
        assert explanation in words


def test_the_review_with_attempts_left_shows_no_key_of_the_new_kinds(
    rich: Module, client: FlaskClient, login_as
) -> None:
    learner = login_as("learner")
    attempt = submit_answers(client, learner, rich, HALF)
    page = text(client.get(f"/courses/corso/verifica/tentativi/{attempt.id}"))
    words = plain(page)
    assert "4,5 punti su 9" in words
    assert "FSE+ → la tua scelta agricoltura" in words
    for secret in ("quella giusta", "occupazione", "1955..1959", "vale il", "(corretta)",
                   "SPIEGAZIONE", "Risposte accettate", "Strasburgo"):  # fmt: skip
        assert secret not in words, secret


# Statistics ------------------------------------------------------------------------------------


def test_statistics_of_the_new_kinds(rich: Module, make_user) -> None:
    for number, answers in enumerate((ALL_RIGHT, HALF, HALF | {"q5": "2000"})):
        learner = make_user("learner")
        attempt = start_attempt(learner, rich, now=T0 + timedelta(minutes=number))
        submit_attempt(
            learner, attempt, rich_form(rich, answers), now=T0 + timedelta(minutes=number + 1)
        )
    _db.session.commit()
    version = current_version(rich)
    stats = quiz_statistics(version.questions, graded_attempts(version))
    by_id = {q.question["id"]: q for q in stats.questions}
    assert stats.attempts == 3
    # Facility: the share of points earned, partial credit included.
    assert by_id["q1"].facility_pct == pytest.approx(100 * (1 + 0.5 + 0.5) / 3)
    assert by_id["q5"].facility_pct == pytest.approx(100 * (1 + 0.5 + 0) / 3)
    assert by_id["q6"].facility_pct == pytest.approx(100 * (3 + 2 + 2) / 9)
    # Wrong numbers typed, wrong pairs chosen, partial-credit options: the misses.
    assert by_id["q5"].most_missed == [("1956,5", 1), ("2000", 1)]
    assert by_id["q6"].most_missed == [("FSE+ → agricoltura", 2)]
    assert by_id["q1"].most_missed == [("Belgio", 2)]
    # Per pair: who matched each left-hand item right.
    assert by_id["q6"].pairs == [
        ("FESR", pytest.approx(100.0)),
        ("FSE+", pytest.approx(100 / 3)),
        ("FEAMPA", pytest.approx(100.0)),
    ]


def test_the_statistics_page_shows_the_pairs(
    rich: Module, client: FlaskClient, login_as, make_user
) -> None:
    learner = make_user("learner")
    attempt = start_attempt(learner, rich, now=T0)
    submit_attempt(learner, attempt, rich_form(rich, HALF), now=T0 + timedelta(minutes=1))
    _db.session.commit()
    login_as("trainer")
    words = plain(text(client.get("/formatori/corso/verifica/")))
    assert "Abbinamenti giusti: FESR: 100,0 % FSE+: 0,0 % FEAMPA: 100,0 %" in words
    assert "FSE+ → agricoltura (1)" in words


def test_the_question_sheet_has_rows_and_choices_only(rich: Module, make_user) -> None:
    learner = make_user("learner")
    attempt = start_attempt(learner, rich, now=T0, rng=random.Random(3))  # noqa: S311
    _db.session.commit()
    (matching,) = [q for q in question_sheet(attempt) if q["kind"] == "matching"]
    assert set(matching) == {"id", "kind", "points", "text_html", "number", "options", "rows",
                             "choices"}  # fmt: skip
    assert [row["field"] for row in matching["rows"]] == ["q6.a", "q6.b", "q6.c"]
    assert all(set(row) == {"id", "html", "field"} for row in matching["rows"])
    assert all(set(choice) == {"id", "html"} for choice in matching["choices"])
