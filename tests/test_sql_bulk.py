"""Long lists of keys and rows (lms.core.sql.among, copy_rows), on both databases.

On PostgreSQL ``among`` is ``= ANY(array)`` (one parameter whatever the list's
length) and ``copy_rows`` is ``COPY`` from 100 rows on; elsewhere an IN list
and an INSERT. The rows found and written are the same either way.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Flask
from sql_statements import counted
from sqlalchemy import Table, func, select

from lms.audit import AuditObject, ObjectKind, record
from lms.core.sql import COPY_FROM_ROWS, among, copy_rows
from lms.extensions import db as _db
from lms.register.models import Region

REGIONS = cast("Table", Region.__table__)


def _postgresql() -> bool:
    return _db.session.get_bind().dialect.name == "postgresql"


def _regions(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "code": f"{n:02X}"[-2:],
            # What COPY's text format must escape: tab, newline, backslash; and a NULL.
            "name": f"Regione\t{n}\nriga \\ due «{n}»",
            "nuts2": None if n % 2 else f"IT{n % 100:02d}",
            "less_developed": n % 3 == 0,
        }
        for n in range(start, start + count)
    ]


def test_copy_rows_writes_every_value_as_an_insert_would(app: Flask) -> None:
    rows = _regions(COPY_FROM_ROWS + 20)
    with counted(app) as seen:
        copy_rows(REGIONS, rows)
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
    if _postgresql():
        assert inserts == []  # COPY goes past SQLAlchemy's cursor events
    else:
        assert inserts
    found = _db.session.execute(
        select(Region.code, Region.name, Region.nuts2, Region.less_developed).order_by(Region.code)
    ).all()
    expected = sorted((r["code"], r["name"], r["nuts2"], r["less_developed"]) for r in rows)
    assert [tuple(row) for row in found] == expected


def test_copy_rows_of_a_few_rows_is_one_insert_and_of_none_nothing(app: Flask) -> None:
    with counted(app) as seen:
        copy_rows(REGIONS, [])
    assert seen == []
    with counted(app) as seen:
        copy_rows(REGIONS, _regions(3))
    assert [s for s in seen if s.lstrip().upper().startswith("INSERT")]
    assert _db.session.scalar(select(func.count()).select_from(Region)) == 3


def test_an_audit_entry_of_many_objects_keeps_each_once_with_its_kind() -> None:
    entry = record(
        "staff.import",
        actor_id=None,
        objects=[(ObjectKind.STAFF, n) for n in range(1, 251)] + [(ObjectKind.STAFF, 7)],
        authority_ids=[3],
        via="cli",
    )
    found = _db.session.execute(
        select(AuditObject.kind, AuditObject.object_id).where(AuditObject.entry_id == entry.id)
    ).all()
    assert len(found) == 251  # 250 people (7 once) and the authority
    assert {(kind, n) for kind, n in found} == {(ObjectKind.STAFF, n) for n in range(1, 251)} | {
        (ObjectKind.AUTHORITY, 3)
    }


def test_among_finds_what_an_in_list_finds(app: Flask) -> None:
    copy_rows(REGIONS, _regions(150))
    wanted = [f"{n:02X}"[-2:] for n in range(0, 150, 7)] + ["ZZ"]
    statement = select(Region.code).where(among(Region.code, wanted)).order_by(Region.code)
    with counted(app) as seen:
        found = list(_db.session.scalars(statement))
    assert found == sorted(set(wanted) - {"ZZ"})
    if _postgresql():
        assert "= ANY (" in seen[-1]
    else:
        assert " IN (" in seen[-1]
    assert list(_db.session.scalars(select(Region.code).where(among(Region.code, [])))) == []
