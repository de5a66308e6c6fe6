"""Quiz statistics: pure tests of lms.assessments.statistics with hand-computed figures,
and the trainers' page /formatori/<course>/<quiz>/.
"""

from __future__ import annotations

import html
import json
import re
import warnings
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from test_quiz_attempts import (
    EDITED_BODY,
    KEY,
    T0,
    WRONG,
    make_quiz,
    quiz_md,
    sync_content,
    take,
    write_course,
)

from lms.assessments.grading import grade
from lms.assessments.operations import current_version, graded_attempts, start_attempt
from lms.assessments.statistics import quiz_statistics
from lms.auth.models import User
from lms.courses.models import Module
from lms.extensions import db as _db

# Pure statistics -----------------------------------------------------------------------------

QUESTIONS = [
    {
        "id": "q1",
        "kind": "single",
        "points": 1,
        "options": [
            {"id": "a", "html": "Opzione A", "correct": False},
            {"id": "b", "html": "Opzione B", "correct": True},
            {"id": "c", "html": "Opzione <em>C</em>", "correct": False},
        ],
        "answers": [],
    },
    {
        "id": "q2",
        "kind": "multiple",
        "points": 2,
        "options": [
            {"id": "a", "html": "Giusta A", "correct": True},
            {"id": "b", "html": "Sbagliata B", "correct": False},
            {"id": "c", "html": "Giusta C", "correct": True},
            {"id": "d", "html": "Sbagliata D", "correct": False},
        ],
        "answers": [],
    },
    {"id": "q3", "kind": "short", "points": 1, "options": [], "answers": ["RDC"]},
]


def attempt(responses: Mapping[str, tuple[str, ...]]) -> tuple[Decimal, bool, dict, dict]:
    """(score, passed, results, responses) as stored for a graded attempt (pass mark 60)."""
    result = grade(QUESTIONS, responses, 60)
    return (
        result.score_pct,
        result.passed,
        {
            r.question_id: {"correct": r.correct, "earned": r.earned, "points": r.points}
            for r in result.results
        },
        {qid: list(values) for qid, values in responses.items()},
    )


#: Points earned per question (q1 of 1, q2 of 2, q3 of 1) and total:
#:   A1: 1 2 1 = 4 (100%)   A2: 1 2 0 = 3 (75%)   A3: 0 0 1 = 1 (25%)   A4: 1 0 0 = 1 (25%)
ATTEMPTS = [
    attempt({"q1": ("b",), "q2": ("a", "c"), "q3": ("rdc",)}),
    attempt({"q1": ("b",), "q2": ("c", "a"), "q3": ("<script>alert(1)</script>",)}),
    attempt({"q1": ("a",), "q2": ("b", "d"), "q3": (" RDC ",)}),
    attempt({"q1": ("b",), "q2": ("a", "b"), "q3": ("  Sbagliata   RISPOSTA ",)}),
]


def test_the_attempts_are_what_the_hand_computation_assumes() -> None:
    assert [a[0] for a in ATTEMPTS] == [Decimal(100), Decimal(75), Decimal(25), Decimal(25)]
    assert [a[1] for a in ATTEMPTS] == [True, True, False, False]


def test_headline_figures_and_distribution() -> None:
    stats = quiz_statistics(QUESTIONS, ATTEMPTS)
    assert (stats.attempts, stats.passed) == (4, 2)
    assert stats.pass_rate_pct == 50
    assert stats.mean_score == pytest.approx(56.25)  # (100 + 75 + 25 + 25) / 4
    #                          0-9 10- 20- 30- 40- 50- 60- 70- 80- 90-100
    assert stats.distribution == [0, 0, 2, 0, 0, 0, 0, 1, 0, 1]


def test_facility_index_is_the_share_of_points_earned() -> None:
    stats = quiz_statistics(QUESTIONS, ATTEMPTS)
    assert [q.question["id"] for q in stats.questions] == ["q1", "q2", "q3"]
    assert [q.attempts for q in stats.questions] == [4, 4, 4]
    # q1: 3 of 4 points; q2: 4 of 8; q3: 2 of 4.
    assert [q.facility_pct for q in stats.questions] == [75, 50, 50]


def test_discrimination_index_is_the_correlation_with_the_rest_of_the_test() -> None:
    """Pearson r between the question's points and the total without it.

    q1: x = 1 1 0 1, rest = 3 2 1 0; deviations .25 .25 -.75 .25 and 1.5 .5 -.5 -1.5;
        Sxy = .5, Sxx = .75, Syy = 5: r = .5 / sqrt(3.75) = 0.2582.
    q2: x = 2 2 0 0, rest = 2 1 1 1; Sxy = 1, Sxx = 4, Syy = .75: r = 1 / sqrt(3) = 0.5774.
    q3: x = 1 0 1 0, rest = 3 3 0 1; Sxy = -.5, Sxx = 1, Syy = 6.75: r = -0.1925.
    """
    stats = quiz_statistics(QUESTIONS, ATTEMPTS)
    assert [q.discrimination_pct for q in stats.questions] == [
        pytest.approx(25.8199, abs=1e-4),
        pytest.approx(57.7350, abs=1e-4),
        pytest.approx(-19.2450, abs=1e-4),
    ]


def test_most_missed_counts_wrong_choices_only_and_escapes_short_answers() -> None:
    q1, q2, q3 = quiz_statistics(QUESTIONS, ATTEMPTS).questions
    assert q1.most_missed == [("Opzione A", 1)]
    # A3 chose b and d, A4 chose a (correct) and b: the correct one is not a miss.
    assert q2.most_missed == [("Sbagliata B", 2), ("Sbagliata D", 1)]
    # Learners' text is normalised and escaped; right answers (" RDC ") are not misses.
    assert q3.most_missed == [
        ("&lt;script&gt;alert(1)&lt;/script&gt;", 1),
        ("sbagliata risposta", 1),
    ]


def test_most_missed_keeps_the_three_most_chosen() -> None:
    answers = ["uno", "due", "due", "tre", "tre", "tre", "quattro", "quattro", "Quattro  ", "RDC"]
    stats = quiz_statistics(QUESTIONS, [attempt({"q3": (a,)}) for a in answers])
    # Ties keep the order in which the answers were first seen.
    assert stats.questions[2].most_missed == [("tre", 3), ("quattro", 3), ("due", 2)]


@pytest.mark.parametrize(
    ("score", "band"),
    [
        ("0", 0),
        ("9.99", 0),
        ("10", 1),
        ("59.99", 5),
        ("60", 6),
        ("89.99", 8),
        ("90", 9),
        ("99.99", 9),
        ("100", 9),  # 100% belongs to the last band, 90-100
    ],
)
def test_distribution_bands_are_ten_points_wide_and_the_last_holds_100(
    score: str, band: int
) -> None:
    stats = quiz_statistics(QUESTIONS, [(Decimal(score), False, {}, {})])
    assert stats.distribution == [1 if i == band else 0 for i in range(10)]


def test_no_attempts_no_figures() -> None:
    stats = quiz_statistics(QUESTIONS, [])
    assert (stats.attempts, stats.passed, stats.pass_rate_pct, stats.mean_score) == (
        0,
        0,
        None,
        None,
    )
    assert stats.distribution == [0] * 10
    assert [(q.facility_pct, q.discrimination_pct, q.most_missed) for q in stats.questions] == [
        (None, None, [])
    ] * 3


def test_discrimination_needs_two_attempts_and_some_spread() -> None:
    one = quiz_statistics(QUESTIONS, ATTEMPTS[:1]).questions
    assert [q.facility_pct for q in one] == [100, 100, 100]
    assert [q.discrimination_pct for q in one] == [None, None, None]
    # A1 and A2: everybody got q1 and q2 right (no spread); q3 splits them, but the rest
    # of the test (3 and 3) does not vary either.
    two = quiz_statistics(QUESTIONS, ATTEMPTS[:2]).questions
    assert [q.discrimination_pct for q in two] == [None, None, None]


def test_unanswered_questions_count_as_zero_and_are_not_misses() -> None:
    stats = quiz_statistics(QUESTIONS, [attempt({}), attempt({"q1": ("b",)})])
    assert [q.facility_pct for q in stats.questions] == [50, 0, 0]
    assert [q.most_missed for q in stats.questions] == [[], [], []]


# The trainers' page ----------------------------------------------------------------------------

STATS_URL = "/formatori/corso/verifica/"


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def question_rows(page: str) -> list[list[str]]:
    """The cells (as text) of the per-question table."""
    section = page[page.index('id="questions-title"') :]
    body = re.search(r"<tbody>(.*?)</tbody>", section, flags=re.DOTALL).group(1)
    return [
        [plain(cell) for cell in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.DOTALL)
    ]


def headline(page: str) -> dict[str, str]:
    pairs = re.findall(r"<dt[^>]*>(.*?)</dt><dd[^>]*>(.*?)</dd>", page, flags=re.DOTALL)
    return {plain(term): plain(value) for term, value in pairs}


def chart(page: str) -> dict:
    data = re.search(
        r'<script type="application/json" id="distribution-chart-data">(.*?)</script>',
        page,
        flags=re.DOTALL,
    ).group(1)
    return json.loads(data)


#: Learners' answers (quiz of test_quiz_attempts: q1 1 point, q2 2, q3 1, q4 1):
#:   L1: the key, 5 of 5 (100%)      q1 1, q2 2, q3 1, q4 1
#:   L2: 2 of 5 (40%)                q1 1, q2 0 (C and D), q3 1, q4 0 (a <script>)
#:   L3: 0 of 5 (0%)                 q1 0 (A), q2 0 (A only), q3 0 (Falso), q4 0
SCRIPT = "<script>alert('x')</script>"
L2 = {"q1": ["b"], "q2": ["b", "d"], "q3": ["a"], "q4": [SCRIPT]}


@pytest.fixture
def quiz(tmp_path: Path, make_user: Callable[..., User]) -> Module:
    """The test quiz with three graded attempts, an expired one and an open one."""
    quiz = make_quiz(tmp_path, time_limit=30)
    for answers in (KEY, L2, WRONG):
        take(make_user("learner"), quiz, answers)
    late = make_user("learner")  # expired: not counted
    start_attempt(late, quiz, now=T0)
    _db.session.commit()
    start_attempt(late, quiz, now=T0 + timedelta(hours=2))  # closes the first as expired
    _db.session.commit()
    return quiz


def test_graded_attempts_leave_out_expired_and_open_ones(quiz: Module) -> None:
    rows = graded_attempts(current_version(quiz))
    assert sorted(float(score) for score, *_ in rows) == [0, 40, 100]


def test_graded_attempts_use_no_deprecated_api(quiz: Module) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = graded_attempts(current_version(quiz))
    assert len(rows) == 3
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []


def test_trainers_see_the_quiz_statistics(quiz: Module, client: FlaskClient, login_as) -> None:  # noqa: ARG001
    login_as("trainer")
    response = client.get(STATS_URL)
    assert response.status_code == 200
    page = text(response)
    figures = headline(page)
    assert figures["Tentativi consegnati"] == "3"
    assert "Con meno di 30 tentativi consegnati gli indici cambiano molto" in page
    assert figures["Superati"] == "1 (33,3 %)"
    assert figures["Punteggio medio"] == "46,7 %"  # (100 + 40 + 0) / 3
    assert figures["Soglia di superamento"] == "60 %"
    distribution = re.search(
        r"<caption\b[^>]*>Tentativi per fascia.*?<tbody>(.*?)</tbody>", page, re.DOTALL
    )
    assert re.findall(r"<td[^>]*>(\d+)</td>", distribution.group(1)) == [
        "1", "0", "0", "0", "1", "0", "0", "0", "0", "1"
    ]  # fmt: skip
    assert chart(page)["attempts"] == [1, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    rows = question_rows(page)
    # Facility: q1 2/3, q2 2/6, q3 2/3, q4 1/3. Discrimination (rest of the test 4 1 0 for
    # q1 and q3, 3 2 0 for q2, 4 2 0 for q4): 5/sqrt(52), 8/sqrt(112), 5/sqrt(52), sqrt(3)/2.
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    assert [(row[2], row[3]) for row in rows] == [
        ("66,7 %", "69,3 %"),
        ("33,3 %", "75,6 %"),
        ("66,7 %", "69,3 %"),
        ("33,3 %", "86,6 %"),
    ]
    assert rows[0][4] == "Opzione sbagliata A (1)"
    assert rows[1][4] == "Opzione sbagliata C (1) Opzione sbagliata D (1)"
    assert rows[2][4] == "Falso (1)"
    assert rows[3][4] == f"{SCRIPT} (1) sbagliata (1)"


def test_a_learner_s_script_answer_is_shown_escaped(
    quiz: Module,  # noqa: ARG001
    client: FlaskClient,
    login_as,
) -> None:
    login_as("trainer")
    page = text(client.get(STATS_URL))
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert len(re.findall(r"<script\b", page)) == len(re.findall(r"<script\b[^>]*\bsrc=", page)) + 1


@pytest.mark.parametrize(("role", "status"), [("learner", 403), ("hr", 403), ("admin", 200)])
def test_only_trainers_and_admins_see_quiz_statistics(
    quiz: Module,  # noqa: ARG001
    client: FlaskClient,
    login_as,
    role: str,
    status: int,
) -> None:
    login_as(role)
    assert client.get(STATS_URL).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(quiz: Module, client: FlaskClient) -> None:  # noqa: ARG001
    response = client.get(STATS_URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_page_module_has_no_quiz_statistics(
    quiz: Module,  # noqa: ARG001
    client: FlaskClient,
    login_as,
) -> None:
    login_as("trainer")
    assert client.get("/formatori/corso/lettura/").status_code == 404
    assert client.get("/formatori/corso/nessuna/").status_code == 404


def test_statistics_are_per_quiz_version(
    quiz: Module, tmp_path: Path, client: FlaskClient, login_as, make_user: Callable[..., User]
) -> None:
    root = tmp_path / "content"
    write_course(root, quiz_md(EDITED_BODY, time_limit=30))
    sync_content(root)
    _db.session.expire_all()
    take(make_user("learner"), quiz, KEY, now=T0 + timedelta(days=1))  # 80% on version 2
    login_as("trainer")
    latest = text(client.get(STATS_URL))
    assert headline(latest)["Tentativi consegnati"] == "1"
    assert headline(latest)["Punteggio medio"] == "80,0 %"
    assert "RISCRITTA" in latest
    first = text(client.get(f"{STATS_URL}?versione=1"))
    assert headline(first)["Tentativi consegnati"] == "3"
    assert "PRIMA domanda" in first
    assert client.get(f"{STATS_URL}?versione=7").status_code == 404


def test_a_new_version_without_attempts_points_at_the_last_one_with_some(
    quiz: Module,  # noqa: ARG001 - three graded attempts on version 1
    tmp_path: Path,
    client: FlaskClient,
    login_as,
) -> None:
    root = tmp_path / "content"
    write_course(root, quiz_md(EDITED_BODY, time_limit=30))
    sync_content(root)  # version 2, nobody has taken it yet
    _db.session.expire_all()
    login_as("trainer")
    latest = text(client.get(STATS_URL))
    assert headline(latest)["Tentativi consegnati"] == "0"
    assert (
        "La versione 2 non ha ancora tentativi consegnati: la verifica è stata modificata."
        " La versione 1 ne ha 3: vedi le statistiche della versione 1" in plain(latest)
    )
    assert f'href="{STATS_URL}?versione=1"' in latest
    # Once asked for a version explicitly, no pointer.
    assert "non ha ancora tentativi" not in text(client.get(f"{STATS_URL}?versione=1"))


def test_a_quiz_without_attempts_shows_dashes(
    tmp_path: Path, client: FlaskClient, login_as
) -> None:
    make_quiz(tmp_path)
    login_as("trainer")
    page = text(client.get(STATS_URL))
    assert headline(page)["Tentativi consegnati"] == "0"
    assert headline(page)["Punteggio medio"] == "—"
    assert [row[2:] for row in question_rows(page)] == [["—", "—", "—"]] * 4
