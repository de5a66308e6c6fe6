"""Attacks on the report facts table (issue #19): every writer, rollbacks, races, trust, cost.

The promise under attack: after any committed change made through the
application, ``course_facts`` equals a full recomputation from the sources
(:func:`lms.enrolments.facts.facts_query`) and the coverage report as of today
equals the exact path's (the same report with the facts bypassed). A test
here changes the sources through the real operation (or page), commits, and
checks both. A real bug found is a failing test marked ``xfail(strict=True)``
with its reason: fixed, the test passes and the mark must go.

Races run on PostgreSQL only (SQLite serialises writers with its file lock).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from codicefiscale import codicefiscale
from conftest import login
from flask import Flask
from report_world import World, world_fixture  # noqa: F401 - the world fixture
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from test_course_facts import (
    Setting,
    fact,
    fresh,
    take_quiz,
)
from test_course_sync import get_course, get_module, make_tree, sync
from test_staff_import import CF, do_import, make_napoli, person, roster_csv

from lms.assessments.operations import quiz_state, start_attempt
from lms.auth.models import Role, User, UserScope
from lms.core.types import rome_date, today_in_italy, utcnow
from lms.courses.models import Module
from lms.courses.progress import complete_module, record_visit
from lms.enrolments import facts
from lms.enrolments.enrol import enrol
from lms.enrolments.person_edit import apply_edit, form_values, plan_edit
from lms.extensions import db
from lms.register.models import Authority, StaffCategory, StaffMember
from lms.reports.coverage import coverage_by_authority, coverage_by_region
from lms.reports.filters import ReportFilters

ON_POSTGRESQL = (
    make_url(os.environ.get("LMS_TEST_DATABASE_URL") or "sqlite://").get_backend_name()
    == "postgresql"
)
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs concurrent writers: SQLite serialises them with a file lock, so the race"
    " cannot happen there (run with LMS_TEST_DATABASE_URL on PostgreSQL)",
)


@pytest.fixture
def setting(
    tmp_path: Path, make_authority: Callable[..., Authority], make_user: Callable[..., User]
) -> Setting:
    """test_course_facts's setting: the synced courses, Anna's account and staff record."""
    s = Setting()
    sync(make_tree(tmp_path))
    s.coesione, s.percorso = get_course("coesione"), get_course("percorso")
    s.authority = make_authority()
    s.user = make_user(email="anna@example.it")
    s.staff = StaffMember(
        codice_fiscale=CF["greco"],  # a valid one: the edit checks it
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


# Helpers ------------------------------------------------------------------------------------


def both_paths(filters: ReportFilters) -> tuple[object, object]:
    """Coverage by region and by authority on the facts path and on the exact path."""
    assert filters.uses_facts
    by_facts = (coverage_by_region(filters), coverage_by_authority(filters))
    exact_filters = ReportFilters(
        reader=filters.reader,
        as_of=filters.as_of,
        course=filters.course,
        category=filters.category,
        region=filters.region,
        authority=filters.authority,
    )
    original = ReportFilters.uses_facts
    try:
        ReportFilters.uses_facts = property(lambda _self: False)  # type: ignore[assignment, method-assign]
        exact = (coverage_by_region(exact_filters), coverage_by_authority(exact_filters))
    finally:
        ReportFilters.uses_facts = original  # type: ignore[method-assign]
    return by_facts, exact


def same_report(**kwargs: Any) -> None:
    """Coverage as of today: the facts path equals the exact path."""
    by_facts, exact = both_paths(ReportFilters(as_of=today_in_italy(), **kwargs))
    assert by_facts == exact


def checked() -> dict[tuple[int, int], tuple[object, ...]]:
    """Commit; the facts equal a recomputation and the report both paths (no filter)."""
    found = fresh()
    same_report(reader=None)
    return found


_HOOKS = (
    ("before_flush", "_before_flush"),
    ("do_orm_execute", "_do_orm_execute"),
    ("before_commit", "_before_commit"),
    ("after_transaction_end", "_after_transaction_end"),
)


@contextmanager
def facts_listener_off() -> Iterator[None]:
    """The facts' session listeners removed (to measure what they cost), then put back."""
    for name, function in _HOOKS:
        event.remove(Session, name, getattr(facts, function))
    try:
        yield
    finally:
        for name, function in _HOOKS:
            event.listen(Session, name, getattr(facts, function))


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement *engine* runs in the block (an executemany counts once)."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def new_staff(authority: Authority, key: str, user: User | None = None) -> StaffMember:
    member = StaffMember(
        codice_fiscale=f"RSSMRA{abs(hash(key)) % 10**9:09d}X",
        first_name="Nome",
        last_name=key.capitalize(),
        email=f"{key}@example.it",
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        user_id=user.id if user is not None else None,
    )
    db.session.add(member)
    db.session.flush()
    return member


# 1. Every writer ------------------------------------------------------------------------------


def test_roster_import_binds_an_existing_account_with_scores(
    setting: Setting, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    s = setting
    make_napoli(make_authority)
    account = make_user(email="verdi@example.it")  # a learner account, no staff record yet
    take_quiz(account, get_module("coesione", "verifica"), wrong=0)
    db.session.commit()
    assert do_import(roster_csv(person("verdi"))).errors == []
    verdi = db.session.scalar(select(StaffMember).where(StaffMember.user_id == account.id))
    assert verdi is not None
    rows = checked()
    assert (verdi.id, s.coesione.id) in rows


def test_roster_import_links_a_record_to_an_account_with_scores(
    setting: Setting, make_user: Callable[..., User]
) -> None:
    """A record left without an account is linked by the next import (one UPDATE)."""
    s = setting
    loose = new_staff(s.authority, "sciolto")
    db.session.commit()
    account = make_user(email="sciolto@example.it")
    take_quiz(account, get_module("coesione", "verifica"), wrong=1)
    db.session.commit()
    from lms.enrolments.staff_import import _create_accounts  # noqa: PLC0415

    _create_accounts(utcnow())
    rows = checked()
    assert rows[(loose.id, s.coesione.id)][facts.FACT_COLUMNS.index("quizzes")] == 1


def test_person_edit_moves_authority_and_a_standing_rule_enrols(
    setting: Setting, make_authority: Callable[..., Authority], make_user: Callable[..., User]
) -> None:
    s = setting
    other = make_authority()
    enrol(s.percorso, authority_ids=[other.id])  # a standing rule there
    checked()
    admin = make_user(Role.ADMIN)
    values = form_values(s.staff) | {"authority_code": other.code}
    plan = plan_edit(s.staff, values, editor=admin, today=today_in_italy())
    assert plan.ok, plan.errors
    apply_edit(plan, editor=admin)
    rows = checked()
    assert (s.staff.id, s.percorso.id) in rows


def test_person_edit_leaving_keeps_facts_and_report_equal(
    setting: Setting, make_user: Callable[..., User]
) -> None:
    s = setting
    enrol(s.coesione, staff_ids=[s.staff.id])
    take_quiz(s.user, get_module("coesione", "verifica"), wrong=0)
    checked()
    admin = make_user(Role.ADMIN)
    today = today_in_italy()
    values = form_values(s.staff) | {"left_on": (today - timedelta(days=1)).isoformat()}
    plan = plan_edit(s.staff, values, editor=admin, today=today)
    assert plan.ok, plan.errors
    apply_edit(plan, editor=admin)
    checked()


def test_an_expired_attempt_closed_by_reading_the_quiz(setting: Setting) -> None:
    """An open attempt past its deadline is closed (score 0) by the next read: a scored attempt."""
    s = setting
    quiz = get_module("coesione", "verifica")
    quiz.time_limit = 5
    checked()
    long_ago = utcnow() - timedelta(hours=2)
    start_attempt(s.user, quiz, now=long_ago)
    row = checked().get((s.staff.id, s.coesione.id))
    assert row is None  # an open attempt has no score
    quiz_state(s.user, quiz)  # closes it as expired, with score 0 (one UPDATE)
    rows = checked()
    assert rows[(s.staff.id, s.coesione.id)][facts.FACT_COLUMNS.index("quizzes")] == 1


def _csrf(html: str) -> str:
    import re  # noqa: PLC0415

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match
    return match.group(1)


def test_the_demo_data(
    make_region: Callable[..., object], make_authority: Callable[..., Authority]
) -> None:
    from test_demo_data import ROOT  # noqa: PLC0415

    from lms.courses.content import load_tree  # noqa: PLC0415
    from lms.courses.sync import sync_courses  # noqa: PLC0415
    from lms.site.demo import load_demo, load_demo_staff  # noqa: PLC0415

    make_region("18")
    make_authority(istat_code="063049", name="Napoli", region_code="15")
    for code, name in (("079023", "Catanzaro"), ("078045", "Cosenza"), ("080063", "Reggio")):
        make_authority(istat_code=code, name=name, region_code="18")
    sources, errors = load_tree(ROOT / "content")
    assert errors == []
    sync_courses(sources)
    db.session.commit()
    load_demo()
    load_demo_staff()
    rows = checked()
    assert rows
    # Not trivially equal: the demo has completions and scores.
    completed = facts.FACT_COLUMNS.index("completed_at")
    assert any(row[completed] is not None for row in rows.values())


# 2. Rollbacks ---------------------------------------------------------------------------------


def test_a_savepoint_rolled_back_leaves_no_fact(setting: Setting) -> None:
    s = setting
    enrol(s.percorso, staff_ids=[s.staff.id])
    checked()
    complete_module(s.user, get_module("percorso", "primo"))

    class Refused(Exception):
        pass

    with pytest.raises(Refused), db.session.begin_nested():  # noqa: PT012 - the savepoint's work, then its failure
        complete_module(s.user, get_module("percorso", "secondo"))
        db.session.flush()
        raise Refused
    row = fact(s.staff, s.percorso)
    assert row is not None
    assert row["modules_done"] == 1
    same_report(reader=None)


def test_a_rolled_back_change_then_a_commit_of_another(setting: Setting) -> None:
    s = setting
    enrol(s.percorso, staff_ids=[s.staff.id])
    checked()
    complete_module(s.user, get_module("percorso", "primo"))
    db.session.flush()
    db.session.rollback()
    assert not facts.pending(db.session())
    record_visit(s.user, get_module("percorso", "secondo"))
    row = fact(s.staff, s.percorso)
    assert row is not None
    assert (row["started"], row["modules_done"]) == (True, 0)


def test_a_refused_quiz_submission_page_writes_no_fact(setting: Setting, client: Any) -> None:
    """A forged answer is a 400 in the middle of the submission: nothing is kept."""
    s = setting
    enrol(s.coesione, staff_ids=[s.staff.id])
    db.session.commit()
    before = checked()
    assert login(client, s.user.email).status_code == 302
    quiz = get_module("coesione", "verifica")
    url = f"/courses/coesione/{quiz.slug}/"
    page = client.get(url)
    attempt = start_attempt(s.user, quiz)
    db.session.commit()
    token = _csrf(page.get_data(as_text=True))
    response = client.post(
        url, data={"attempt_id": attempt.id, "csrf_token": token, "nessuna__shown": "1"}
    )
    assert 400 <= response.status_code < 500
    db.session.expire_all()
    after = checked()
    assert set(after) == set(before) | {(s.staff.id, s.coesione.id)} or after == before


# 3. Trust ---------------------------------------------------------------------------------------


def _hr(make_user: Callable[..., User], scope: list[Any]) -> User:
    return make_user(Role.HR, scope=scope)


def test_hr_readers_and_every_filter_on_both_paths(
    world: World, make_user: Callable[..., User], make_region: Callable[..., Any]
) -> None:
    w = world
    checked()
    campania = make_region("15")
    napoli_hr = _hr(make_user, [w.napoli])
    region_hr = _hr(make_user, [campania])
    two_hr = _hr(make_user, [w.salerno, w.milano])
    db.session.commit()
    for reader in (None, napoli_hr, region_hr, two_hr):
        same_report(reader=reader)
        for course in (w.a, w.b):
            same_report(reader=reader, course=course)
            for category in StaffCategory:
                same_report(reader=reader, course=course, category=category)
        for category in StaffCategory:
            same_report(reader=reader, category=category)
    same_report(reader=region_hr, authority=w.salerno)
    same_report(reader=region_hr, region=campania, course=w.a)
    same_report(reader=None, region=campania, category=StaffCategory.NEW_HIRE)
    same_report(reader=None, authority=w.milano, course=w.b)
    # The HR manager of Napoli sees Napoli's people only, on the facts path too.
    regions, total = coverage_by_region(ReportFilters(reader=napoli_hr, as_of=today_in_italy()))
    napoli_staff = db.session.scalar(
        select(db.func.count())
        .select_from(StaffMember)
        .where(StaffMember.authority_id == w.napoli.id, StaffMember.on_staff(today_in_italy()))
    )
    assert total.totals.staff == napoli_staff
    assert [r.code for r in regions] == ["15"]


def test_a_learner_outside_the_scope_moves_no_number_in_it(
    setting: Setting, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    s = setting
    elsewhere = make_authority(region_code="03")
    outsider_user = make_user(email="fuori@example.it")
    outsider = new_staff(elsewhere, "fuori", outsider_user)
    enrol(s.coesione, staff_ids=[s.staff.id, outsider.id])
    take_quiz(outsider_user, get_module("coesione", "verifica"), wrong=0)
    checked()
    hr = _hr(make_user, [s.authority])
    filters = ReportFilters(reader=hr, as_of=today_in_italy())
    [row] = coverage_by_authority(filters)
    assert (row.totals.staff, row.totals.enrolled, row.totals.scored_pairs) == (1, 1, 0)
    same_report(reader=hr)
    same_report(reader=hr, course=s.coesione)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # New Year's Eve: 23:30 UTC is 00:30 on 1 January in Italy (CET, +1).
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2026, 12, 31, 22, 59, 59, 999999, tzinfo=UTC), date(2026, 12, 31)),
        # The night summer time starts (28 March 2027, 01:00 UTC): +1 before, +2 after.
        (datetime(2027, 3, 27, 23, 30, tzinfo=UTC), date(2027, 3, 28)),
        (datetime(2027, 3, 28, 21, 59, tzinfo=UTC), date(2027, 3, 28)),
        (datetime(2027, 3, 28, 22, 0, tzinfo=UTC), date(2027, 3, 29)),
        # The night it ends (31 October 2027, 01:00 UTC): +2 before, +1 after.
        (datetime(2027, 10, 30, 22, 0, tzinfo=UTC), date(2027, 10, 31)),
        (datetime(2027, 10, 31, 22, 59, tzinfo=UTC), date(2027, 10, 31)),
        (datetime(2027, 10, 31, 23, 0, tzinfo=UTC), date(2027, 11, 1)),
    ],
)
def test_completed_on_and_enrolled_on_are_days_in_italy(
    setting: Setting, moment: datetime, day: date
) -> None:
    s = setting
    assert rome_date(moment) == day  # the application's own rule agrees with the table
    enrol(s.percorso, staff_ids=[s.staff.id], now=moment)
    for slug in ("primo", "secondo", "terzo"):
        complete_module(s.user, get_module("percorso", slug), now=moment)
    row = fact(s.staff, s.percorso)
    assert row is not None
    assert row["completed_at"] == moment
    assert (row["completed_on"], row["enrolled_on"]) == (day, day)


# 4. Cost ----------------------------------------------------------------------------------------


def test_a_repeat_module_visit_runs_no_statement_for_the_facts(setting: Setting) -> None:
    s = setting
    enrol(s.percorso, staff_ids=[s.staff.id])
    module = get_module("percorso", "primo")
    record_visit(s.user, module)
    db.session.commit()

    def visit() -> list[str]:
        with statements(db.engine) as seen:
            record_visit(s.user, module, started=True)
            db.session.commit()
        return seen

    with_listener = visit()
    with facts_listener_off():
        without = visit()
    assert len(with_listener) == len(without), with_listener
    assert not [q for q in with_listener if "course_facts" in q]
    checked()


def test_a_repeat_module_page_view_runs_no_statement_for_the_facts(
    setting: Setting, client: Any, web_app: Flask
) -> None:
    s = setting
    enrol(s.percorso, staff_ids=[s.staff.id])
    db.session.commit()
    assert login(client, s.user.email).status_code == 302
    url = "/courses/percorso/primo/"
    assert client.get(url).status_code == 200  # the first visit: the row is created
    with web_app.app_context():
        engine = db.engine
    with statements(engine) as with_listener:
        assert client.get(url).status_code == 200
    with facts_listener_off(), statements(engine) as without:
        assert client.get(url).status_code == 200
    assert len(with_listener) == len(without), with_listener
    db.session.expire_all()
    checked()


def _codes(n: int) -> list[str]:
    """*n* distinct valid codici fiscali (born in Napoli on n different days)."""
    stem_name = codicefiscale.encode_lastname("Esposito") + codicefiscale.encode_firstname("Anna")
    found = []
    for i in range(n):
        born = date(1960, 1, 1) + timedelta(days=i)
        stem = stem_name + codicefiscale.encode_birthdate(born.strftime("%d/%m/%Y"), "F") + "F839"
        found.append(stem + codicefiscale.encode_cin(stem))
    return found


ROWS = 2000


def _roster(codes: list[str]) -> bytes:
    return roster_csv(
        *(
            f"{code},Anna,Esposito,anna.{i}@example.org,063049,existing,,,"
            for i, code in enumerate(codes)
        )
    )


def _accounts(n: int) -> None:
    now = utcnow()
    db.session.execute(
        insert(User),
        [
            {
                "email": f"anna.{i}@example.org",
                "first_name": "Anna",
                "last_name": "Esposito",
                "search_name": "esposito anna",
                "role": Role.LEARNER,
                "active": True,
                "session_version": 1,
                "created_at": now,
            }
            for i in range(n)
        ],
    )
    db.session.commit()


def test_an_import_binding_2000_accounts_costs_a_few_statements(
    make_authority: Callable[..., Authority],
) -> None:
    make_napoli(make_authority)
    db.session.commit()
    _accounts(ROWS)
    data = _roster(_codes(ROWS))
    from lms.enrolments.import_flow import run_import  # noqa: PLC0415

    with facts_listener_off(), statements(db.engine) as without:
        assert run_import(data, "roster.csv", importer=None, apply=True).errors == []
        db.session.flush()
    db.session.rollback()
    with statements(db.engine) as with_listener:
        outcome = do_import(data)
    assert outcome.errors == []
    assert outcome.result.added == ROWS
    extra = len(with_listener) - len(without)
    print(  # noqa: T201 - the measurement, shown with -s
        f"import of {ROWS} rows binding accounts: {len(without)} statements, +{extra} facts"
    )
    assert extra <= 10, with_listener[-20:]
    checked()


def test_an_import_linking_2000_records_costs_a_few_statements(
    make_authority: Callable[..., Authority],
) -> None:
    """Records without an account (user_id NULL) are linked by the next import: user_id changes."""
    napoli = make_napoli(make_authority)
    db.session.commit()
    codes = _codes(ROWS)
    now = utcnow()
    db.session.execute(
        insert(StaffMember),
        [
            {
                "codice_fiscale": code,
                "first_name": "Anna",
                "last_name": "Esposito",
                "search_name": "esposito anna",
                "email": f"anna.{i}@example.org",
                "authority_id": napoli.id,
                "category": StaffCategory.EXISTING,
                "created_at": now,
                "updated_at": now,
            }
            for i, code in enumerate(codes)
        ],
    )
    db.session.commit()
    _accounts(ROWS)
    data = _roster(codes)
    from lms.enrolments.import_flow import run_import  # noqa: PLC0415

    with facts_listener_off(), statements(db.engine) as without:
        assert run_import(data, "roster.csv", importer=None, apply=True).errors == []
        db.session.flush()
    db.session.rollback()
    with statements(db.engine) as with_listener:
        outcome = do_import(data)
    assert outcome.errors == []
    bound = db.session.scalar(
        select(db.func.count()).select_from(StaffMember).where(StaffMember.user_id.is_not(None))
    )
    assert bound == ROWS
    extra = len(with_listener) - len(without)
    print(  # noqa: T201 - the measurement, shown with -s
        f"import of {ROWS} rows linking accounts: {len(without)} statements, +{extra} facts"
    )
    assert extra <= 10, with_listener[-20:]
    checked()


# 5. Races (PostgreSQL) --------------------------------------------------------------------------


def _in_thread(
    app: Flask, work: Callable[[], None], errors: list[BaseException]
) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@postgresql_only
def test_one_learner_two_tabs_complete_the_last_two_modules(setting: Setting, app: Flask) -> None:
    s = setting
    enrol(s.percorso, staff_ids=[s.staff.id])
    complete_module(s.user, get_module("percorso", "primo"))
    checked()
    user_id = s.user.id
    ids = {slug: get_module("percorso", slug).id for slug in ("secondo", "terzo")}
    first_refreshed, errors = threading.Event(), []

    def tab(slug: str, *, first: bool) -> Callable[[], None]:
        def work() -> None:
            user = db.session.get(User, user_id)
            module = db.session.get(Module, ids[slug])
            assert user is not None
            assert module is not None
            complete_module(user, module)
            if first:
                facts.apply_pending()  # the refresh done, its row held until the commit
                first_refreshed.set()
                threading.Event().wait(0.5)  # the other tab reaches its commit meanwhile
            else:
                first_refreshed.wait(10)
            db.session.commit()

        return work

    threads = [
        _in_thread(app, tab("secondo", first=True), errors),
        _in_thread(app, tab("terzo", first=False), errors),
    ]
    for thread in threads:
        thread.join(30)
    db.session.expire_all()
    assert errors == []
    row = fact(s.staff, s.percorso)
    assert row is not None
    assert row["modules_done"] == 3


@postgresql_only
def test_two_learners_of_one_course_at_once(
    setting: Setting, app: Flask, make_user: Callable[..., User]
) -> None:
    s = setting
    other_user = make_user(email="bruno@example.it")
    other = new_staff(s.authority, "bruno", other_user)
    enrol(s.percorso, staff_ids=[s.staff.id, other.id])
    checked()
    module_id = get_module("percorso", "primo").id
    first_refreshed, errors = threading.Event(), []

    def learner(user_id: int, *, first: bool) -> Callable[[], None]:
        def work() -> None:
            user = db.session.get(User, user_id)
            module = db.session.get(Module, module_id)
            assert user is not None
            assert module is not None
            complete_module(user, module)
            if first:
                facts.apply_pending()
                first_refreshed.set()
                threading.Event().wait(0.5)
            else:
                first_refreshed.wait(10)
            db.session.commit()

        return work

    threads = [
        _in_thread(app, learner(s.user.id, first=True), errors),
        _in_thread(app, learner(other_user.id, first=False), errors),
    ]
    for thread in threads:
        thread.join(30)
    db.session.expire_all()
    assert errors == []
    rows = checked()
    done = facts.FACT_COLUMNS.index("modules_done")
    assert rows[(s.staff.id, s.percorso.id)][done] == rows[(other.id, s.percorso.id)][done] == 1


def _lock_timeout() -> None:
    """In this thread's session, a lock wait over 10 s fails the transaction (never hangs)."""

    def limit(_session: Session, _transaction: object, connection: Any) -> None:
        connection.execute(text("SET LOCAL lock_timeout = '10s'"))

    event.listen(db.session(), "after_begin", limit)


def _join_all(threads: list[threading.Thread], errors: list[BaseException]) -> None:
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a thread still waits: a deadlock"
    assert errors == []


def _one_then_the_other(
    app: Flask, first: str, transactions: dict[str, Callable[[], None]]
) -> None:
    """Two transactions at once, in threads; *first* refreshes first and holds its locks.

    The leader does its work, refreshes (``apply_pending``: its locks taken),
    then waits half a second before its commit, so that the other reaches its
    own refresh meanwhile; the other starts once the leader has refreshed.
    Each gives up on a lock after 10 s (:func:`_lock_timeout`): a test fails,
    it never hangs.
    """
    refreshed, errors = threading.Event(), []

    def transaction(name: str, work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            leads = name == first
            if not leads:
                assert refreshed.wait(10)
            _lock_timeout()
            work()
            if leads:
                facts.apply_pending()  # the refresh done, its locks held until the commit
                refreshed.set()
                threading.Event().wait(0.5)  # the other reaches its refresh meanwhile
            db.session.commit()

        return run

    _join_all([_in_thread(app, transaction(n, w), errors) for n, w in transactions.items()], errors)


@postgresql_only
@pytest.mark.parametrize("first", ["binding", "attempt"])
def test_binding_an_account_while_it_submits_a_quiz(
    setting: Setting, app: Flask, make_user: Callable[..., User], first: str
) -> None:
    """A roster import binds an account while the account submits a quiz, in either order.

    Under READ COMMITTED the binding's refresh does not see the uncommitted
    attempt, and the attempt's finds no staff record for the account (the
    binding is not committed): without a lock neither writes the (staff,
    course) row. The first to refresh holds the account's lock until its
    commit; the other's refresh waits for it, then sees its work.
    """
    s = setting
    loose = new_staff(s.authority, "sciolto")
    account = make_user(email="sciolto@example.it")
    checked()
    account_id, quiz_id = account.id, get_module("coesione", "verifica").id
    from lms.enrolments.staff_import import _link_accounts  # noqa: PLC0415

    def attempt() -> None:  # the account's own request
        user = db.session.get(User, account_id)
        assert user is not None
        take_quiz(user, db.session.get(Module, quiz_id), wrong=0)

    # The import's transaction binds; the account's own request submits.
    _one_then_the_other(app, first, {"binding": _link_accounts, "attempt": attempt})
    db.session.expire_all()
    rows = checked()
    assert db.session.get(StaffMember, loose.id).user_id == account_id  # type: ignore[union-attr]
    assert (loose.id, s.coesione.id) in rows


@postgresql_only
@pytest.mark.parametrize("first", ["binding", "enrolment"])
def test_binding_an_account_while_its_record_is_enrolled(
    setting: Setting, app: Flask, make_user: Callable[..., User], first: str
) -> None:
    """A roster import binds an account to a record while an HR manager enrols the record.

    The account has a scored attempt in the course already. The enrolment's
    refresh, without the binding, finds no account for the record and writes
    the row without the score; the binding's, without the enrolment, writes it
    without the enrolment. Whichever refreshes second must wait for the first's
    commit and see both.
    """
    s = setting
    loose = new_staff(s.authority, "sciolto")
    account = make_user(email="sciolto@example.it")
    take_quiz(account, get_module("coesione", "verifica"), wrong=0)
    checked()
    loose_id, course_id = loose.id, s.coesione.id
    from lms.courses.models import Course  # noqa: PLC0415
    from lms.enrolments.staff_import import _link_accounts  # noqa: PLC0415

    def enrolment() -> None:
        course = db.session.get(Course, course_id)
        assert course is not None
        assert enrol(course, staff_ids=[loose_id]).enrolled == 1

    _one_then_the_other(app, first, {"binding": _link_accounts, "enrolment": enrolment})
    db.session.expire_all()
    rows = checked()
    assert db.session.get(StaffMember, loose_id).user_id == account.id  # type: ignore[union-attr]
    row = fact(loose, s.coesione)
    assert row is not None
    assert row["enrolled_on"] is not None
    assert row["quizzes"] == 1
    assert (loose_id, course_id) in rows


@postgresql_only
@pytest.mark.parametrize("first", ["course", "attempt"])
def test_a_quiz_retired_while_a_learner_submits_it(
    setting: Setting, app: Flask, first: str
) -> None:
    """A course changes (its quiz retired: every learner's facts) while a learner submits the quiz.

    The learner is not enrolled: the attempt alone makes their row, and a row
    counts current quizzes only, so there must be none. The course's refresh
    does not see the uncommitted attempt and writes no row; the attempt's,
    without a lock, sees the quiz still current and writes one, which nothing
    removes. A refresh of a whole course takes the facts' advisory lock
    exclusively and every other refresh shares it: the second waits for the
    first's commit, then sees its work.
    """
    s = setting
    checked()
    user_id, quiz_id = s.user.id, get_module("coesione", "verifica").id

    def course() -> None:
        module = db.session.get(Module, quiz_id)
        assert module is not None
        module.retired_at = utcnow()

    def attempt() -> None:
        user = db.session.get(User, user_id)
        assert user is not None
        take_quiz(user, db.session.get(Module, quiz_id), wrong=0)

    _one_then_the_other(app, first, {"course": course, "attempt": attempt})
    db.session.expire_all()
    checked()
    assert fact(s.staff, s.coesione) is None


@postgresql_only
def test_two_transactions_refreshing_overlapping_accounts_in_opposite_orders(
    setting: Setting, app: Flask, make_user: Callable[..., User]
) -> None:
    """Two transactions work on the same two accounts in opposite orders and commit together.

    Each transaction completes a module for two learners, in opposite orders
    (each completion in a savepoint), then both commit together. The refresh,
    and its account locks, happen once, at the commit, in one statement in id
    order: one transaction waits for the other, no deadlock (which PostgreSQL
    would abort) and no wait for ever; the second's refresh sees the first's
    module, and both learners end with two modules done. A refresh at each
    savepoint's release would take the locks in the order of the work, and
    deadlock.
    """
    s = setting
    accounts = [make_user(email=f"sovrapposto{i}@example.it") for i in range(2)]
    members = [new_staff(s.authority, f"sovrapposto{i}", a) for i, a in enumerate(accounts)]
    enrol(s.percorso, staff_ids=[m.id for m in members])
    checked()
    ids = [a.id for a in accounts]
    modules = {slug: get_module("percorso", slug).id for slug in ("primo", "secondo")}
    together, errors = threading.Barrier(2, timeout=10), []

    def completes(slug: str, order: list[int]) -> Callable[[], None]:
        def work() -> None:
            _lock_timeout()
            module = db.session.get(Module, modules[slug])
            assert module is not None
            for user_id in order:
                user = db.session.get(User, user_id)
                assert user is not None
                complete_module(user, module)
            db.session.flush()
            together.wait()
            db.session.commit()

        return work

    _join_all(
        [
            _in_thread(app, completes("primo", ids), errors),
            _in_thread(app, completes("secondo", ids[::-1]), errors),
        ],
        errors,
    )
    db.session.expire_all()
    rows = checked()
    done = facts.FACT_COLUMNS.index("modules_done")
    assert [rows[(m.id, s.percorso.id)][done] for m in members] == [2, 2]


def test_the_scope_of_a_region_reader(
    world: World, make_user: Callable[..., User], make_region: Callable[..., Any]
) -> None:
    """A region scope and an authority scope together: the union, on both paths."""
    w = world
    campania = make_region("15")
    reader = make_user(Role.HR, scope=[campania, w.milano])
    db.session.commit()
    assert {
        type(scope.region or scope.authority)
        for scope in db.session.scalars(select(UserScope).where(UserScope.user_id == reader.id))
    } != set()
    same_report(reader=reader)
    same_report(reader=reader, course=w.a, category=StaffCategory.EXISTING)
