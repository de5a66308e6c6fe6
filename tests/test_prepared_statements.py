"""PostgreSQL's prepared statements: a page's statements planned once, bulk work for its values.

psycopg prepares a statement after its fifth run on a connection; PostgreSQL
then keeps one generic plan for it when that is no dearer than planning each
run (issue #19: a millisecond of planning a home page). Bulk work, whose
parameters decide the plan (a roster import's arrays of thousands of codes, a
report's filters, the notifications' day), asks for plans made for each run
(:func:`lms.core.sql.custom_plans`); ``LMS_DATABASE_PREPARED_STATEMENTS=0``
turns prepared statements off for a PgBouncer that cannot keep them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sql_statements import counted
from sqlalchemy import text
from sqlalchemy.engine import make_url

from lms.auth.models import Role, User
from lms.core.sql import custom_plans
from lms.enrolments import facts
from lms.enrolments.staff_import import ImportPlan, apply_import, plan_import
from lms.extensions import db as _db
from lms.notifications.plan import plan_day, plan_events

ON_POSTGRESQL = (
    make_url(os.environ.get("LMS_TEST_DATABASE_URL") or "sqlite://").get_backend_name()
    == "postgresql"
)
postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="prepared statements and plan_cache_mode are PostgreSQL's"
    " (run with LMS_TEST_DATABASE_URL on PostgreSQL)",
)

#: A statement of its own, found again by its marker in pg_prepared_statements.
MARKED = text("SELECT count(*) FROM regions WHERE code = :code /* prepared-probe */")
RUNS = 20


def _run_marked() -> None:
    for _ in range(RUNS):
        _db.session.execute(MARKED, {"code": "15"}).scalar_one()


def _plans() -> tuple[int, int] | None:
    """(generic, custom) plans of the marked statement on this connection; None: not prepared."""
    row = _db.session.execute(
        # The marker built in SQL, so that this statement does not match itself.
        text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%' || 'prepared' || '-probe' || '%'"
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def _plan_cache_mode() -> str:
    return str(_db.session.execute(text("SELECT current_setting('plan_cache_mode')")).scalar_one())


@postgresql_only
def test_a_statement_run_often_is_prepared_and_planned_once() -> None:
    _run_marked()
    plans = _plans()
    assert plans is not None, "psycopg did not prepare a statement run 20 times"
    generic, _custom = plans
    assert generic > 0, plans


@postgresql_only
def test_after_custom_plans_every_run_is_planned_for_its_parameters() -> None:
    custom_plans()
    assert _plan_cache_mode() == "force_custom_plan"
    _run_marked()
    plans = _plans()
    assert plans is not None
    generic, custom = plans
    assert generic == 0, plans
    assert custom > 0, plans


@postgresql_only
def test_custom_plans_lasts_until_the_transaction_ends() -> None:
    custom_plans()
    assert _plan_cache_mode() == "force_custom_plan"
    _db.session.rollback()
    assert _plan_cache_mode() == "auto"
    custom_plans()
    _db.session.commit()
    assert _plan_cache_mode() == "auto"


@postgresql_only
def test_prepared_statements_switched_off(new_app: Callable[..., Flask]) -> None:
    app = new_app(DATABASE_PREPARED_STATEMENTS=False)
    with app.app_context():
        connection = _db.session.connection().connection.driver_connection
        assert connection is not None
        assert connection.prepare_threshold is None
        _run_marked()
        assert _plans() is None
        _db.session.rollback()


@postgresql_only
def test_prepared_statements_on_by_default() -> None:
    connection = _db.session.connection().connection.driver_connection
    assert connection is not None
    assert connection.prepare_threshold == 5  # psycopg's own default


def test_custom_plans_is_one_statement_on_postgresql_none_on_sqlite(app: Flask) -> None:
    with counted(app) as seen:
        custom_plans()
    if ON_POSTGRESQL:
        assert seen == ["SET LOCAL plan_cache_mode = force_custom_plan"]
    else:
        assert seen == []


@postgresql_only
@pytest.mark.parametrize(
    "bulk",
    [
        pytest.param(lambda: plan_import([], scope=None), id="plan_import"),
        pytest.param(lambda: apply_import(ImportPlan()), id="apply_import"),
        pytest.param(plan_day, id="plan_day"),
        pytest.param(plan_events, id="plan_events"),
    ],
)
def test_bulk_work_asks_for_custom_plans(bulk: Callable[[], object]) -> None:
    _db.session.rollback()
    assert _plan_cache_mode() == "auto"
    bulk()
    assert _plan_cache_mode() == "force_custom_plan"


@postgresql_only
@pytest.mark.parametrize("path", ["/reports/", "/reports/coverage.csv", "/reports/learners.csv"])
def test_a_report_plans_for_its_own_filters(
    web_app: Flask, client: FlaskClient, login_as: Callable[..., User], path: str
) -> None:
    login_as(Role.ADMIN)
    with counted(web_app) as seen:
        response = client.get(path)
        response.get_data()
    assert response.status_code == 200, path
    sets = [s for s in seen if "plan_cache_mode" in s]
    assert sets == ["SET LOCAL plan_cache_mode = force_custom_plan"], seen[:5]
    # First of the request's statements but the signed-in person's load.
    assert seen.index(sets[0]) <= 1, seen[:5]


@postgresql_only
def test_a_page_does_not_ask_for_custom_plans(
    web_app: Flask, client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.LEARNER)
    with counted(web_app) as seen:
        assert client.get("/").status_code == 200
    assert seen
    assert not [s for s in seen if "plan_cache_mode" in s]


@postgresql_only
@pytest.mark.parametrize(
    ("refresh", "custom"),
    [
        pytest.param(lambda: facts.refresh(staff_ids=[1]), False, id="one person"),
        pytest.param(
            lambda: facts.refresh(staff_ids=range(1, facts.FEW + 2)), True, id="many people"
        ),
        pytest.param(lambda: facts.refresh(course_ids=[1]), True, id="a whole course"),
        pytest.param(
            lambda: (facts.note_staff([1]), facts.apply_pending()), False, id="noted: one person"
        ),
        pytest.param(
            lambda: (facts.note_staff(range(1, facts.FEW + 2)), facts.apply_pending()),
            True,
            id="noted: many people",
        ),
        pytest.param(
            lambda: (facts.note_courses([1]), facts.apply_pending()), True, id="noted: a course"
        ),
    ],
)
def test_a_refresh_of_the_facts_for_many_plans_for_its_own_arrays(
    refresh: Callable[[], object],
    custom: bool,  # noqa: FBT001 - a parameter of the cases
) -> None:
    """One learner's refresh follows their page views: its generic plan must not serve 5,000."""
    _db.session.rollback()
    refresh()
    assert _plan_cache_mode() == ("force_custom_plan" if custom else "auto")
