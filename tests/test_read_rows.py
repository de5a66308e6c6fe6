"""lms.core.sql.read_rows: plain rows past the ORM's execution, as the session would read them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from lms.auth.models import Role, User
from lms.core.sql import read_rows
from lms.courses.models import Course, CourseStatus
from lms.extensions import db


def test_rows_are_plain_tuples_converted_by_the_columns_types() -> None:
    db.session.add(Course(slug="c-1", title="Coesione", hours=Decimal("2.50"), source_hash="x"))
    db.session.flush()
    rows = read_rows(select(Course.slug, Course.hours, Course.status)).all()
    assert rows == [("c-1", Decimal("2.50"), CourseStatus.PUBLISHED)]
    assert not isinstance(rows[0][0], Course)
    assert isinstance(rows[0][2], CourseStatus)


def test_what_the_session_holds_is_flushed_first(make_user: Callable[..., User]) -> None:
    make_user(Role.LEARNER)  # added, not yet flushed by anyone
    count = select(func.count(User.id))
    assert read_rows(count).scalar_one() == 1
    with db.session.no_autoflush:
        db.session.add(User(email="later@example.org", role=Role.LEARNER))
        assert read_rows(count).scalar_one() == 1  # no autoflush asked for, none done
    assert read_rows(count).scalar_one() == 2


def test_a_write_is_refused() -> None:
    with pytest.raises(TypeError, match="reads only"):
        read_rows(update(User).values(active=False))
