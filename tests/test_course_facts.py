"""The reports' facts table after every kind of change, against a fresh recomputation.

Each test changes the sources through the application's own operations (or the
very statement a writer runs), commits, and checks that ``course_facts`` is
exactly what :func:`lms.enrolments.facts.facts_query` computes from the sources
now, and that the change shows in the row it is about.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from report_world import World, world_fixture  # noqa: F401 - the world fixture
from sqlalchemy import delete, select, text, update
from test_course_sync import QUIZ, base_tree, get_course, get_module, make_tree, sync, write_tree

from lms.assessments.operations import start_attempt, submit_attempt
from lms.auth.models import User
from lms.core.types import rome_date, today_in_italy, utcnow
from lms.courses.models import Course, Module
from lms.courses.progress import complete_module, record_visit
from lms.enrolments import facts
from lms.enrolments.enrol import apply_rules, enrol, remove_enrolment
from lms.enrolments.models import CourseFacts, Enrolment
from lms.enrolments.staff_import import _link_accounts
from lms.extensions import db
from lms.register.models import Authority, StaffCategory, StaffMember
from lms.reports.coverage import coverage_by_authority, coverage_by_region
from lms.reports.filters import ReportFilters

Row = tuple[object, ...]


def table_rows() -> dict[tuple[int, int], Row]:
    """``course_facts`` as it is, by (staff, course)."""
    columns = [getattr(CourseFacts, name) for name in facts.FACT_COLUMNS]
    return {(r[0], r[1]): tuple(r) for r in db.session.execute(select(*columns))}


def computed_rows() -> dict[tuple[int, int], Row]:
    """The facts recomputed from the sources now."""
    return {(r[0], r[1]): tuple(r) for r in db.session.execute(facts.facts_query())}


def fresh() -> dict[tuple[int, int], Row]:
    """Commit, then check the table against a full recomputation; return it."""
    db.session.commit()
    found = table_rows()
    assert found == computed_rows()
    return found


def fact(staff: StaffMember, course: Course) -> dict[str, object] | None:
    row = fresh().get((staff.id, course.id))
    return None if row is None else dict(zip(facts.FACT_COLUMNS, row, strict=True))


def quiz_form(questions: list[dict], wrong: int) -> dict[str, list[str]]:
    """A learner's submission: right answers, except the first *wrong* questions left blank."""
    form: dict[str, list[str]] = {}
    for number, question in enumerate(questions):
        qid = question["id"]
        form[f"{qid}__shown"] = ["1"]
        if number < wrong:
            continue
        if question["kind"] == "short":
            form[qid] = [question["answers"][0]]
        else:
            form[qid] = [o["id"] for o in question["options"] if o["correct"]]
    return form


def take_quiz(user: User, module: Module, wrong: int) -> None:
    attempt = start_attempt(user, module)
    submit_attempt(user, attempt, quiz_form(attempt.quiz_version.questions, wrong))


class Setting:
    authority: Authority
    user: User
    staff: StaffMember
    coesione: Course
    percorso: Course


@pytest.fixture
def setting(
    tmp_path: Path, make_authority: Callable[..., Authority], make_user: Callable[..., User]
) -> Setting:
    s = Setting()
    sync(make_tree(tmp_path))
    s.coesione, s.percorso = get_course("coesione"), get_course("percorso")
    s.authority = make_authority()
    s.user = make_user(email="anna@example.it")
    s.staff = StaffMember(
        codice_fiscale="RSSNNA80A41F839X",
        first_name="Anna",
        last_name="Rossi",
        email="anna@example.it",
        authority_id=s.authority.id,
        category=StaffCategory.EXISTING,
        user_id=s.user.id,
    )
    db.session.add(s.staff)
    db.session.commit()
    return s


def test_enrol_change_due_date_and_remove(setting: Setting) -> None:
    s = setting
    assert fact(s.staff, s.coesione) is None
    enrol(s.coesione, staff_ids=[s.staff.id], due_on=date(2027, 1, 31))
    row = fact(s.staff, s.coesione)
    assert row is not None
    assert row["due_on"] == date(2027, 1, 31)
    assert row["enrolled_on"] == rome_date(row["enrolled_at"])  # type: ignore[arg-type]
    assert (row["started"], row["modules_done"], row["quizzes"]) == (False, 0, 0)

    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.staff_id == s.staff.id))
    assert enrolment is not None
    enrolment.due_on = date(2027, 3, 1)
    assert fact(s.staff, s.coesione)["due_on"] == date(2027, 3, 1)  # type: ignore[index]

    remove_enrolment(enrolment)
    assert fact(s.staff, s.coesione) is None


def test_visit_complete_modules_and_the_course(setting: Setting) -> None:
    s = setting
    enrol(s.percorso, staff_ids=[s.staff.id])
    first, second, third = (get_module("percorso", m) for m in ("primo", "secondo", "terzo"))
    record_visit(s.user, first)
    row = fact(s.staff, s.percorso)
    assert row is not None
    assert (row["started"], row["modules_done"]) == (True, 0)

    # A repeat visit writes the reading time only: nothing for the facts to do.
    db.session.commit()
    record_visit(s.user, first, started=True)
    assert not facts.pending(db.session())
    fresh()

    complete_module(s.user, first)
    assert fact(s.staff, s.percorso)["modules_done"] == 1  # type: ignore[index]
    complete_module(s.user, second)
    complete_module(s.user, third)
    row = fact(s.staff, s.percorso)
    assert row is not None
    assert row["modules_done"] == 3
    assert row["completed_at"] is not None
    assert row["completed_on"] == rome_date(row["completed_at"])  # type: ignore[arg-type]


def test_quiz_attempts_better_and_worse(setting: Setting) -> None:
    s = setting
    enrol(s.coesione, staff_ids=[s.staff.id])
    quiz = get_module("coesione", "verifica")
    take_quiz(s.user, quiz, wrong=2)  # half the questions: 2 of 5 points... a partial score
    first = fact(s.staff, s.coesione)
    assert first is not None
    assert first["quizzes"] == 1
    assert first["started"] is True
    assert 0 < first["score_hundredths"] < 10_000  # type: ignore[operator]
    db.session.commit()
    take_quiz(s.user, quiz, wrong=0)
    assert fact(s.staff, s.coesione)["score_hundredths"] == 10_000  # type: ignore[index]


def test_a_worse_attempt_keeps_the_best(setting: Setting) -> None:
    s = setting
    quiz = get_module("coesione", "verifica")
    take_quiz(s.user, quiz, wrong=0)
    db.session.commit()
    take_quiz(s.user, quiz, wrong=3)
    # Not enrolled: the row is there for the scores only.
    row = fact(s.staff, s.coesione)
    assert row is not None
    assert row["enrolled_at"] is None
    assert (row["score_hundredths"], row["quizzes"]) == (10_000, 1)


def survey_md(*, required: bool) -> str:
    """A course survey, required for completion or not."""
    return (
        f"---\ntitle: Questionario\ntype: survey\nrequired: {str(required).lower()}\n---\n\n"
        "Facoltativo e anonimo.\n\n## Quanto sei soddisfatto del corso?\n"
        "- Poco\n- Abbastanza\n- Molto\n"
    )


def test_content_sync_retires_adds_and_makes_optional(setting: Setting, tmp_path: Path) -> None:
    s = setting
    tree = base_tree()
    tree["coesione"]["04-questionario.md"] = survey_md(required=True)
    sync(write_tree(tmp_path / "v1", tree))
    enrol(s.coesione, staff_ids=[s.staff.id])
    complete_module(s.user, get_module("coesione", "introduzione"))
    complete_module(s.user, get_module("coesione", "fondi"))
    take_quiz(s.user, get_module("coesione", "verifica"), wrong=0)  # passed: module done
    row = fact(s.staff, s.coesione)
    assert row is not None
    # The survey (required) is left: not complete.
    assert (row["modules_done"], row["quizzes"], row["completed_at"]) == (3, 1, None)

    # The quiz retired: neither its score nor its completion counts any more.
    del tree["coesione"]["03-verifica.md"]
    sync(write_tree(tmp_path / "v2", tree))
    row = fact(s.staff, s.coesione)
    assert row is not None
    assert (row["modules_done"], row["quizzes"], row["score_hundredths"]) == (2, 0, 0)

    # The survey she had left made optional: the course is complete for her, as
    # the sync records.
    tree["coesione"]["04-questionario.md"] = survey_md(required=False)
    sync(write_tree(tmp_path / "v3", tree))
    row = fact(s.staff, s.coesione)
    assert row is not None
    assert row["completed_at"] is not None
    assert row["modules_done"] == 2

    # The quiz back and a module added: her quiz counts again (the completion stands).
    tree["coesione"]["03-verifica.md"] = QUIZ
    tree["coesione"]["05-nuovo.md"] = "---\ntitle: Nuovo\n---\n\nTESTO.\n"
    sync(write_tree(tmp_path / "v4", tree))
    row = fact(s.staff, s.coesione)
    assert row is not None
    assert (row["modules_done"], row["quizzes"], row["score_hundredths"]) == (3, 1, 10_000)
    assert row["completed_at"] is not None


def test_account_bound_and_unbound(setting: Setting, make_user: Callable[..., User]) -> None:
    s = setting
    other = make_user(email="bruno@example.it")
    take_quiz(other, get_module("coesione", "verifica"), wrong=0)
    bruno = StaffMember(
        codice_fiscale="BRNBRN80A01F839X",
        first_name="Bruno",
        last_name="Bianchi",
        email="bruno@example.it",
        authority_id=s.authority.id,
        category=StaffCategory.EXISTING,
    )
    db.session.add(bruno)
    db.session.flush()
    enrol(s.percorso, staff_ids=[bruno.id])
    assert fact(bruno, s.coesione) is None
    # The roster import links the record to the account with its e-mail (one UPDATE).
    _link_accounts()
    row = fact(bruno, s.coesione)
    assert row is not None
    assert (row["enrolled_at"], row["quizzes"]) == (None, 1)

    # Unbound (by a statement, as a bulk writer would): the scores go with the account.
    db.session.execute(update(StaffMember).where(StaffMember.id == bruno.id).values(user_id=None))
    assert fact(bruno, s.coesione) is None
    assert fact(bruno, s.percorso) is not None

    # Bound again through the ORM, then moved to another record.
    db.session.refresh(bruno)
    bruno.user_id = other.id
    assert fact(bruno, s.coesione) is not None
    bruno.user_id = None
    db.session.flush()
    s.staff.user_id = other.id
    fresh()
    assert (s.staff.id, s.coesione.id) in table_rows()
    assert (bruno.id, s.coesione.id) not in table_rows()


def test_staff_removed_and_account_deleted(setting: Setting) -> None:
    s = setting
    take_quiz(s.user, get_module("coesione", "verifica"), wrong=0)
    assert fact(s.staff, s.coesione) is not None
    db.session.delete(s.staff)
    assert fresh() == {}

    # A record whose account is deleted: its progress and attempts go with it.
    member = StaffMember(
        codice_fiscale="VRDGNN80A01F839X",
        first_name="Gianni",
        last_name="Verdi",
        email="gianni@example.it",
        authority_id=s.authority.id,
        category=StaffCategory.EXISTING,
        user_id=s.user.id,
    )
    db.session.add(member)
    assert fact(member, s.coesione) is not None
    member.user_id = None
    db.session.flush()
    db.session.execute(delete(User).where(User.id == s.user.id))
    assert fresh() == {}


def test_standing_rules_enrol_newcomers(setting: Setting) -> None:
    s = setting
    enrol(s.percorso, authority_ids=[s.authority.id])
    newcomer = StaffMember(
        codice_fiscale="NRENRE80A01F839X",
        first_name="Nuovo",
        last_name="Arrivato",
        email="nuovo@example.it",
        authority_id=s.authority.id,
        category=StaffCategory.NEW_HIRE,
    )
    db.session.add(newcomer)
    db.session.flush()
    assert apply_rules([newcomer.id]) == 1
    assert fact(newcomer, s.percorso) is not None
    assert fact(s.staff, s.percorso) is not None


def test_a_report_sees_a_change_not_yet_committed(setting: Setting) -> None:
    s = setting
    enrol(s.percorso, staff_ids=[s.staff.id])
    db.session.commit()
    complete_module(s.user, get_module("percorso", "primo"))
    filters = ReportFilters(reader=None, as_of=today_in_italy())
    assert filters.uses_facts
    [row] = coverage_by_authority(filters)
    assert row.totals.enrolled == 1
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment is not None
    enrolment.due_on = today_in_italy() - timedelta(days=1)
    [row] = coverage_by_authority(filters)  # the pending due date is refreshed first
    assert row.totals.overdue == 1
    _rows, total = coverage_by_region(filters)
    assert total.totals.overdue == 1
    fresh()


def test_yesterday_and_earlier_take_the_exact_path() -> None:
    today = today_in_italy()
    assert ReportFilters(reader=None, as_of=today).uses_facts
    assert ReportFilters(reader=None, as_of=today + timedelta(days=3)).uses_facts
    assert not ReportFilters(reader=None, as_of=today - timedelta(days=1)).uses_facts


def _migration_backfill() -> str:
    path = Path(__file__).resolve().parent.parent / "migrations/versions/0016_course_facts.py"
    spec = importlib.util.spec_from_file_location("migration_0016", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    day = (
        "rome_day({})"
        if db.engine.dialect.name == "sqlite"
        else "CAST(({} AT TIME ZONE 'Europe/Rome') AS DATE)"
    )
    return module._BACKFILL.format(
        enrolled_on=day.format("e.enrolled_at"), completed_on=day.format("cc.completed_at")
    )


def test_the_migration_backfills_the_same_facts(world: World) -> None:  # noqa: ARG001
    """0016's frozen SQL gives what the application computes, on the reports' world."""
    expected = fresh()
    assert len(expected) > 8
    db.session.execute(delete(CourseFacts))
    db.session.execute(text(_migration_backfill()))
    assert table_rows() == expected
    fresh()


def test_the_reports_world_on_both_paths(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh()
    today = today_in_italy()
    filters = [
        ReportFilters(reader=None, as_of=today),
        ReportFilters(reader=None, as_of=today, course=world.a),
        ReportFilters(reader=None, as_of=today, course=world.b, category=StaffCategory.NEW_HIRE),
    ]
    by_facts = [(coverage_by_region(f), coverage_by_authority(f)) for f in filters]
    monkeypatch.setattr(ReportFilters, "uses_facts", property(lambda _self: False))
    exact = [(coverage_by_region(f), coverage_by_authority(f)) for f in filters]
    assert by_facts == exact
    # Not trivially equal: the world has enrolments, completions and scores today.
    assert by_facts[0][0][1].totals.completed > 0
    assert by_facts[0][0][1].totals.scored_pairs > 0
    assert utcnow()  # the clock is the real one: today is after the world's dates
