"""The audit log: ``record()``, who reads which entries on ``/audit/`` and its downloads, callers.

GDPR art. 5(2): every import, enrolment, account change and content sync leaves
an entry, written in the change's own transaction (rolled back with it), with
identifiers and counts only.
"""

from __future__ import annotations

import ast
import csv
import html
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from people_sheets import read_people_xlsx
from sqlalchemy import delete, event, func, literal, select
from sqlalchemy.exc import IntegrityError
from test_course_sync import make_tree, sync
from test_enrol import NAPOLI_ACTIVE, make_course
from test_staff_import import ROSTER, do_import, make_campania, make_napoli
from test_staff_pages import enrol_group

import lms
from lms.audit import Action, AuditEntry, AuditObject, record
from lms.auth.models import Role, User
from lms.auth.operations import create_user
from lms.courses.models import Course
from lms.enrolments.enrol import apply_rules, enrol
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.extensions import db as _db
from lms.register.models import Authority, AuthorityKind, Region, StaffCategory, StaffMember
from lms.reports.audit_log import COLUMNS

BOM = "\ufeff"
URLS = ("/audit/", "/audit/registro.csv", "/audit/registro.xlsx")


# Helpers -------------------------------------------------------------------------------


def entries(action: str | None = None) -> list[AuditEntry]:
    """Every entry (of *action*), oldest first, fresh from the database."""
    _db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(_db.session.scalars(query))


def objects(entry: AuditEntry) -> set[tuple[str, int]]:
    """The (kind, id) pairs of *entry*."""
    rows = _db.session.execute(
        select(AuditObject.kind, AuditObject.object_id).where(AuditObject.entry_id == entry.id)
    )
    return {(kind.value, object_id) for kind, object_id in rows}


def of_kind(entry: AuditEntry, kind: str) -> set[int]:
    return {object_id for k, object_id in objects(entry) if k == kind}


def count(model: type) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def page_text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def found(page: str) -> int:
    """The number of entries the page says it found."""
    match = re.search(r"(\d+) attività trovat[ae]", page)
    assert match, "no count on the page"
    return int(match.group(1))


def csv_rows(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    text = response.get_data(as_text=True)
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def world(make_authority: Callable[..., Authority]) -> dict[str, object]:
    """Napoli (Campania) and Catanzaro (Calabria), committed."""
    napoli = make_authority("063049", name="Comune di Napoli", region_code="15")
    catanzaro = make_authority("079023", name="Comune di Catanzaro", region_code="18")
    _db.session.commit()
    return {
        "napoli": napoli,
        "catanzaro": catanzaro,
        "campania": napoli.region,
        "calabria": catanzaro.region,
    }


def plant(
    action: Action = Action.ENROLMENT_CREATE,
    marker: str = "x",
    *,
    authority: Authority | None = None,
    region: Region | None = None,
    actor: User | None = None,
    at: datetime | None = None,
    extra: tuple[tuple[str, int], ...] = (),
) -> int:
    """One committed entry carrying *marker* in its summary; its id."""
    entry = record(
        action,
        actor_id=actor.id if actor else None,
        authority_ids=[authority.id] if authority else [],
        region_ids=[region.id] if region else [],
        objects=extra,
        summary={"marker": marker},
        at=at,
    )
    _db.session.commit()
    return entry.id


@pytest.fixture
def planted(world: dict, make_user: Callable[..., User]) -> dict[str, object]:
    """One entry of each area: Napoli, the Campania region, Calabria, and none."""
    admin = make_user(Role.ADMIN, email="capo@example.org")
    plant(marker="marker-napoli", authority=world["napoli"], actor=admin)
    plant(Action.RULE_CREATE, "marker-campania", region=world["campania"])
    plant(marker="marker-calabria", authority=world["catanzaro"], region=world["calabria"])
    plant(Action.USER_ROLE, "marker-noarea", extra=(("user", admin.id),), actor=admin)
    return {**world, "admin": admin}


MARKERS = ("marker-napoli", "marker-campania", "marker-calabria", "marker-noarea")


# Layers --------------------------------------------------------------------------------

AUDIT = Path(lms.__file__).parent / "audit"


@pytest.mark.parametrize("module", ["__init__.py", "models.py", "operations.py", "queries.py"])
def test_the_audit_package_imports_no_other_domain(module: str) -> None:
    # Every domain writes to the log, so the log can depend on none of them.
    tree = ast.parse((AUDIT / module).read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    for name in imported:
        if name and name.startswith("lms"):
            assert name == "lms.extensions" or name.startswith(("lms.core", "lms.audit")), name


# record() ------------------------------------------------------------------------------


def test_record_flushes_an_entry_with_its_objects(world: dict, app: Flask) -> None:
    napoli, campania = world["napoli"], world["campania"]
    entry = record(
        "enrolment.create",
        actor_id=None,
        objects=[("course", 7), ("staff", 3), ("staff", 3)],
        authority_ids=[napoli.id],
        region_ids=[campania.id],
        summary={"course": "fondamenti", "enrolled": 2, "due_on": date(2027, 1, 31), "ids": {5, 1}},
    )
    assert entry.id is not None
    assert entry.via.value == "cli"  # no request: the command line
    assert entry.summary == {
        "course": "fondamenti",
        "enrolled": 2,
        "due_on": "2027-01-31",
        "ids": [1, 5],
    }
    assert objects(entry) == {
        ("course", 7),
        ("staff", 3),
        ("authority", napoli.id),
        ("region", campania.id),
    }
    with app.test_request_context("/"):
        assert record(Action.LINKS_ISSUE, actor_id=None).via.value == "web"
    assert record(Action.LINKS_ISSUE, actor_id=None, via="web").via.value == "web"


@pytest.mark.usefixtures("world")
def test_record_refuses_unknown_codes_and_personal_data() -> None:
    with pytest.raises(ValueError, match="not a valid Action"):
        record("staff.imported", actor_id=None)
    with pytest.raises(ValueError, match="not a valid ObjectKind"):
        record(Action.STAFF_IMPORT, actor_id=None, objects=[("person", 1)])
    for value in ("mario.rossi@example.it", "RSSMRA75D21F839H", "x" * 201):
        with pytest.raises(ValueError, match="personal data"):
            record(Action.STAFF_IMPORT, actor_id=None, summary={"rows": [value]})
    with pytest.raises(TypeError):
        record(Action.STAFF_IMPORT, actor_id=None, summary={"file": b"bytes"})
    # A file's SHA-256 is an identifier, not a codice fiscale.
    sha = "ab12" * 16
    assert record(Action.STAFF_IMPORT, actor_id=None, summary={"sha256": sha}).summary == {
        "sha256": sha
    }


def test_record_of_a_big_set_is_one_insert_select(world: dict) -> None:
    napoli = world["napoli"]
    _db.session.add_all(
        StaffMember(
            codice_fiscale=f"AAAAAA00A01A{n:03d}A"[:16],
            first_name="A",
            last_name="B",
            email=f"p{n}@example.it",
            authority_id=napoli.id,
            category=StaffCategory.EXISTING,
        )
        for n in range(300)
    )
    _db.session.flush()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", seen)
    try:
        entry = record(
            Action.STAFF_IMPORT,
            actor_id=None,
            authority_ids=[napoli.id],
            objects_select=select(literal("staff"), StaffMember.id).where(
                StaffMember.authority_id == napoli.id
            ),
        )
    finally:
        event.remove(_db.engine, "before_cursor_execute", seen)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO AUDIT_OBJECTS")]
    assert len(inserts) == 2  # the area (one statement), then every person in one INSERT … SELECT
    assert len(of_kind(entry, "staff")) == 300
    assert of_kind(entry, "authority") == {napoli.id}


def test_an_entry_is_rolled_back_with_its_change(world: dict) -> None:
    record(Action.STAFF_IMPORT, actor_id=None, authority_ids=[world["napoli"].id])
    napoli = world["napoli"]
    _db.session.add(
        Authority(
            code=napoli.code, kind=AuthorityKind.COMUNE, name="doppione", region_id=napoli.region_id
        )
    )
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()
    assert count(AuditEntry) == 0
    assert count(AuditObject) == 0


def test_deleting_the_actor_keeps_the_entry(world: dict, make_user: Callable[..., User]) -> None:
    hr = make_user(Role.HR, scope=[world["napoli"]])
    entry_id = plant(actor=hr, authority=world["napoli"])
    _db.session.delete(hr)
    _db.session.commit()
    _db.session.expire_all()
    assert _db.session.get(AuditEntry, entry_id).actor_id is None


# Who may read it -----------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 302), ("learner", 403), ("trainer", 403), ("hr", 200), ("admin", 200)],
    ids=["anonymous", "learner", "trainer", "hr", "admin"],
)
def test_permission_table(
    client: FlaskClient,
    login_as: Callable[..., User],
    world: dict,
    url: str,
    role: str | None,
    expected: int,
) -> None:
    if role is not None:
        login_as(role, scope=[world["campania"]] if role == "hr" else ())
    response = client.get(url)
    assert response.status_code == expected
    if role is None:
        assert "/login" in response.location


@pytest.mark.parametrize(
    ("role", "shown"), [("learner", False), ("trainer", False), ("hr", True), ("admin", True)]
)
def test_the_menu_shows_the_log_to_hr_and_admins(
    client: FlaskClient, login_as: Callable[..., User], world: dict, role: str, *, shown: bool
) -> None:
    login_as(role, scope=[world["campania"]] if role == "hr" else ())
    home = client.get("/").get_data(as_text=True)
    assert ('href="/audit/"' in home) is shown
    if shown:
        assert "Registro attività" in home


@pytest.mark.usefixtures("planted")
def test_admin_sees_every_entry(client: FlaskClient, login_as: Callable[..., User]) -> None:
    login_as(Role.ADMIN)
    page = page_text(client, "/audit/")
    assert found(page) == 4
    assert all(marker in page for marker in MARKERS)
    markers = {
        json.loads(row["summary"])["marker"] for row in csv_rows(client, "/audit/registro.csv")
    }
    assert markers == set(MARKERS)


def test_hr_of_a_region_sees_its_authorities_and_the_region_only(
    client: FlaskClient, login_as: Callable[..., User], planted: dict
) -> None:
    login_as(Role.HR, scope=[planted["campania"]])
    page = page_text(client, "/audit/")
    assert found(page) == 2
    assert "marker-napoli" in page
    assert "marker-campania" in page
    assert "marker-calabria" not in page  # another region
    assert "marker-noarea" not in page  # a role change: no area, admins only
    assert "Comune di Napoli (063049)" in page  # the area by name, read from the register
    rows = csv_rows(client, "/audit/registro.csv")
    assert sorted(json.loads(row["summary"])["marker"] for row in rows) == [
        "marker-campania",
        "marker-napoli",
    ]
    # Filters cannot reach past the scope either.
    assert found(page_text(client, "/audit/?authority=079023")) == 0
    assert found(page_text(client, "/audit/?action=user.role")) == 0
    calabria_id = planted["calabria"].id
    assert csv_rows(client, f"/audit/registro.csv?kind=region&object={calabria_id}") == []


def test_hr_of_an_authority_does_not_see_its_region_s_entries(
    client: FlaskClient, login_as: Callable[..., User], planted: dict
) -> None:
    login_as(Role.HR, scope=[planted["napoli"]])
    page = page_text(client, "/audit/")
    assert found(page) == 1
    assert "marker-napoli" in page
    table = read_people_xlsx(client.get("/audit/registro.xlsx").data)
    assert [json.loads(str(row[6]))["marker"] for row in table.rows] == ["marker-napoli"]


# Filters and pages ---------------------------------------------------------------------


def test_filters(client: FlaskClient, login_as: Callable[..., User], planted: dict) -> None:
    admin, napoli = planted["admin"], planted["napoli"]
    # Italian days: 22:30 UTC on 1 March is still 1 March in Rome, 23:30 UTC is 2 March.
    plant(marker="late-1-march", at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    plant(marker="early-2-march", at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    plant(marker="about-staff", extra=(("staff", 4242),))
    login_as(Role.ADMIN)

    def markers(query: str) -> set[str]:
        rows = csv_rows(client, f"/audit/registro.csv?{query}")
        on_page = found(page_text(client, f"/audit/?{query}"))
        assert on_page == len(rows)
        return {json.loads(row["summary"])["marker"] for row in rows}

    assert markers("action=user.role") == {"marker-noarea"}
    assert markers(f"actor={admin.id}") == {"marker-napoli", "marker-noarea"}
    assert markers("actor=CAPO@example.org") == {"marker-napoli", "marker-noarea"}
    assert markers("actor=nessuno@example.org") == set()
    assert "Nessun account ha l'indirizzo" in page_text(client, "/audit/?actor=nessuno@example.org")
    assert markers("date_from=2026-03-01&date_to=2026-03-01") == {"late-1-march"}
    assert markers("date_from=2026-03-02&date_to=2026-03-02") == {"early-2-march"}
    assert markers("kind=staff&object=4242") == {"about-staff"}
    assert markers("kind=user") == {"marker-noarea"}
    assert markers(f"authority={napoli.code}") == {"marker-napoli"}
    assert markers("authority=079023&action=enrolment.create") == {"marker-calabria"}


@pytest.mark.parametrize(
    "query",
    [
        "action=bogus",
        "actor=mario",
        "date_from=2026-02-30",
        "date_from=2026-03-02&date_to=2026-03-01",
        "kind=person",
        "object=12",
        "kind=staff&object=x1",
        "authority=999999",
    ],
)
@pytest.mark.usefixtures("world")
def test_a_filter_that_cannot_be_read_is_a_400(
    client: FlaskClient, login_as: Callable[..., User], query: str
) -> None:
    login_as(Role.ADMIN)
    assert client.get(f"/audit/?{query}").status_code == 400
    assert client.get(f"/audit/registro.csv?{query}").status_code == 400


@pytest.mark.usefixtures("world")
def test_fifty_a_page_newest_first_and_past_the_last_is_a_404(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    for n in range(51):
        record(
            Action.LINKS_ISSUE,
            actor_id=None,
            summary={"marker": f"n{n:02d}"},
            at=datetime(2026, 1, 1, 8, n, tzinfo=UTC),
        )
    _db.session.commit()
    login_as(Role.ADMIN)
    first = page_text(client, "/audit/")
    assert found(first) == 51
    assert first.count("<time datetime=") == 50
    assert first.index("n50") < first.index("n49")  # newest first
    assert "Pagina 1 di 2" in first
    second = page_text(client, "/audit/?page=2")
    assert second.count("<time datetime=") == 1
    assert "n00" in second
    assert client.get("/audit/?page=3").status_code == 404
    assert client.get("/audit/registro.xlsx").status_code == 200
    assert client.get("/audit/registro.pdf").status_code == 404


def test_an_entry_with_many_objects_lists_the_first_ones(
    client: FlaskClient, login_as: Callable[..., User], world: dict
) -> None:
    record(
        Action.STAFF_IMPORT,
        actor_id=None,
        authority_ids=[world["napoli"].id],
        objects=[("staff", n) for n in range(1, 1101)],
    )
    _db.session.commit()
    login_as(Role.ADMIN)
    page = page_text(client, "/audit/")
    assert "e altri 1089" in page  # 12 shown of 1,101
    assert 'href="/personale/1"' in page  # a person links to their page
    (row,) = csv_rows(client, "/audit/registro.csv")
    listed = row["objects"].split(" (+")[0].split()
    assert listed[0] == f"authority:{world['napoli'].id}"  # the area first
    assert len(listed) == 1000
    assert row["objects"].endswith("(+101 more)")


# Downloads -----------------------------------------------------------------------------


def test_csv_and_xlsx_columns(
    client: FlaskClient, login_as: Callable[..., User], world: dict, make_user: Callable
) -> None:
    actor = make_user(Role.HR, email="=hr@example.org", scope=[world["napoli"]])
    record(
        Action.ENROLMENT_CREATE,
        actor_id=actor.id,
        objects=[("course", 9), ("staff", 31)],
        authority_ids=[world["napoli"].id],
        summary={"course": "fondamenti", "enrolled": 1},
        at=datetime(2026, 7, 1, 10, 0, 5, tzinfo=UTC),
        via="web",
    )
    _db.session.commit()
    login_as(Role.ADMIN)
    response = client.get("/audit/registro.csv?action=enrolment.create", buffered=False)
    try:
        assert response.is_streamed
        assert "Content-Length" not in response.headers
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="registro-attivita.csv"'
        )
        assert response.headers["Cache-Control"] == "no-store"
        text = b"".join(response.iter_encoded()).decode()
    finally:
        response.close()
    assert text.splitlines()[0] == BOM + ",".join(COLUMNS)
    (row,) = csv_rows(client, "/audit/registro.csv?action=enrolment.create")
    expected = {
        "at": "2026-07-01T12:00:05+02:00",  # Rome, summer time
        "actor_id": str(actor.id),
        "actor_email": "'=hr@example.org",  # a formula start is escaped
        "via": "web",
        "action": "enrolment.create",
        "objects": f"authority:{world['napoli'].id} course:9 staff:31",
        "summary": '{"course": "fondamenti", "enrolled": 1}',
    }
    assert row == expected

    response = client.get("/audit/registro.xlsx?action=enrolment.create")
    assert response.headers["Content-Disposition"].endswith('registro-attivita.xlsx"')
    table = read_people_xlsx(response.data)
    assert table.title == "Registro attività"
    assert table.about["Attività"] == "Iscrizione a un corso"  # the filter, in words
    assert table.header == [
        "Data e ora", "Account n.", "Autore", "Canale", "Attività", "Oggetti", "Dettagli"
    ]  # fmt: skip
    (cells,) = table.rows
    assert cells == [
        datetime.fromisoformat("2026-07-01 12:00:05"),  # a date and time cell, Italian time
        actor.id,
        "'=hr@example.org",  # a text cell, never a formula, escaped like the CSV's
        "Web",
        "Iscrizione a un corso",
        expected["objects"],
        expected["summary"],
    ]
    assert table.cell(0, "Autore").data_type == "s"
    assert table.cell(0, "Data e ora").number_format == "dd/mm/yyyy hh:mm:ss"


@pytest.mark.usefixtures("planted")
def test_the_page_in_english(client: FlaskClient, login_as: Callable[..., User]) -> None:
    admin = login_as(Role.ADMIN)
    admin.locale = "en"
    _db.session.commit()
    page = page_text(client, "/audit/")
    assert "Activity log" in page
    assert "4 entries found" in page
    assert "Role changed" in page


# Callers: enrolments -------------------------------------------------------------------


@pytest.fixture
def register(make_authority: Callable[..., Authority]) -> tuple[Authority, Authority]:
    """Napoli and Campania with the staff of personale_comune.csv."""
    napoli, campania = make_napoli(make_authority), make_campania(make_authority)
    _db.session.commit()
    assert do_import((ROSTER / "personale_comune.csv").read_bytes(), "x.csv").errors == []
    return napoli, campania


def staff_ids(cfs: set[str]) -> set[int]:
    return set(
        _db.session.scalars(select(StaffMember.id).where(StaffMember.codice_fiscale.in_(cfs)))
    )


def test_enrolling_an_authority_records_who_what_and_whom(
    register: tuple, make_user: Callable[..., User]
) -> None:
    napoli, _ = register
    hr = make_user(Role.HR, scope=[napoli])
    course = make_course()
    before = count(AuditEntry)
    result = enrol(course, authority_ids=[napoli.id], due_on=date(2027, 6, 30), by=hr)
    _db.session.commit()
    (entry,) = entries(Action.ENROLMENT_CREATE)
    (rule_entry,) = entries(Action.RULE_CREATE)
    assert count(AuditEntry) == before + 2
    assert (entry.actor_id, entry.via.value) == (hr.id, "cli")
    assert entry.summary == {
        "course": course.slug,
        "enrolled": result.enrolled,
        "already": 0,
        "rules_added": 1,
        "standing": True,
        "category": None,
        "due_on": "2027-06-30",
    }
    assert of_kind(entry, "course") == {course.id}
    assert of_kind(entry, "authority") == {napoli.id}
    assert of_kind(entry, "staff") == staff_ids(NAPOLI_ACTIVE)  # each person enrolled
    rule = _db.session.scalar(select(EnrolmentRule))
    assert rule_entry.actor_id == hr.id
    assert objects(rule_entry) == {
        ("rule", rule.id),
        ("course", course.id),
        ("authority", napoli.id),
    }
    assert rule_entry.summary["window_days"] == rule.window_days

    # The same again enrols nobody: an entry all the same, about nobody new.
    enrol(course, authority_ids=[napoli.id], by=hr)
    _db.session.commit()
    again = entries(Action.ENROLMENT_CREATE)[-1]
    assert (again.summary["enrolled"], again.summary["already"]) == (0, len(NAPOLI_ACTIVE))
    assert of_kind(again, "staff") == set()
    assert len(entries(Action.RULE_CREATE)) == 1


def test_enrolling_one_person_has_the_person_s_authority_as_area(register: tuple) -> None:
    napoli, _ = register
    course = make_course()
    (person,) = staff_ids({"SPSNCL85C12F839V"})
    enrol(course, staff_ids=[person], standing=False)
    (entry,) = entries(Action.ENROLMENT_CREATE)
    assert entry.actor_id is None
    assert objects(entry) == {("course", course.id), ("staff", person), ("authority", napoli.id)}
    assert entries(Action.RULE_CREATE) == []


def test_an_enrolment_rolled_back_leaves_no_entry(register: tuple) -> None:
    napoli, campania = register
    course = make_course()
    before = count(AuditEntry)
    enrol(course, authority_ids=[napoli.id], region_ids=[campania.region_id])
    _db.session.rollback()
    assert count(AuditEntry) == before
    assert count(Enrolment) == 0


def test_rules_applied_by_an_import_write_no_entry_of_their_own(register: tuple) -> None:
    napoli, _ = register
    course = make_course()
    enrol(course, authority_ids=[napoli.id])
    _db.session.execute(delete(Enrolment))
    _db.session.commit()
    before = count(AuditEntry)
    assert apply_rules() > 0
    assert count(AuditEntry) == before


def test_an_enrolment_on_the_web_is_recorded_with_its_hr_manager(
    client: FlaskClient, login_as: Callable[..., User], register: tuple
) -> None:
    napoli, _ = register
    course = make_course()
    hr = login_as(Role.HR, scope=[napoli])
    response = enrol_group(client, course, f"a:{napoli.id}", standing="y")
    assert response.status_code == 302
    (entry,) = entries(Action.ENROLMENT_CREATE)
    assert (entry.actor_id, entry.via.value) == (hr.id, "web")
    assert of_kind(entry, "staff") == staff_ids(NAPOLI_ACTIVE)
    (rule_entry,) = entries(Action.RULE_CREATE)
    assert rule_entry.via.value == "web"
    # And the HR manager reads it on the log's page.
    assert "Iscrizione a un corso" in page_text(client, "/audit/?action=enrolment.create")


def test_no_personal_data_is_stored(
    register: tuple, make_user: Callable[..., User], runner: FlaskCliRunner
) -> None:
    napoli, campania = register
    hr = make_user(Role.HR, scope=[napoli], first_name="Gennaro", last_name="Esposito")
    course = make_course()
    enrol(course, authority_ids=[napoli.id], region_ids=[campania.region_id], by=hr)
    (person,) = staff_ids({"SPSNCL85C12F839V"})
    enrol(make_course("appalti"), staff_ids=[person], by=hr, standing=False)
    _db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "ciro.russo@comune.napoli.it",
            "--role",
            "hr",
            "--first-name",
            "Ciro",
            "--last-name",
            "Russo",
            "--scope-authority",
            "063049",
            "--password",
            "Prova-password-1",
        ]
    )
    assert result.exit_code == 0, result.output
    assert count(AuditEntry) >= 3
    stored = " ".join(
        str(tuple(row))
        for model in (AuditEntry, AuditObject)
        for row in _db.session.execute(select(*model.__table__.columns))
    ).lower()
    personal = set()
    for member in _db.session.scalars(select(StaffMember)):
        personal |= {member.codice_fiscale, member.email, member.first_name, member.last_name}
    for user in _db.session.scalars(select(User)):
        personal |= {user.email, user.first_name, user.last_name, user.email.split("@")[0]}
    leaked = sorted(value for value in personal if value and value.lower() in stored)
    assert leaked == []


# Callers: accounts ---------------------------------------------------------------------


def users(runner: FlaskCliRunner, *args: str) -> object:
    return runner.invoke(args=["users", *args])


def test_creating_an_account_is_recorded_with_its_scope_as_area(
    runner: FlaskCliRunner, world: dict
) -> None:
    result = users(
        runner, "create", "--email", "Anna@Example.org", "--role", "hr", "--scope-region", "15"
    )
    assert result.exit_code == 0, result.output
    (entry,) = entries(Action.USER_CREATE)
    user = _db.session.scalar(select(User).where(User.email == "anna@example.org"))
    assert (entry.actor_id, entry.via.value) == (None, "cli")
    assert objects(entry) == {("user", user.id), ("region", world["campania"].id)}
    assert entry.summary == {"role": "hr", "password_set": False}


@pytest.mark.usefixtures("world")
def test_an_account_creation_rolled_back_leaves_no_entry() -> None:
    create_user(email="anna@example.org", role="learner")
    _db.session.add(User(email="anna@example.org", role=Role.LEARNER))
    with pytest.raises(IntegrityError):
        _db.session.flush()
    _db.session.rollback()
    assert count(AuditEntry) == 0
    assert count(User) == 0


@pytest.mark.usefixtures("world")
def test_a_refused_account_creation_leaves_no_entry(runner: FlaskCliRunner) -> None:
    result = users(runner, "create", "--email", "anna@example.org", "--role", "hr")
    assert result.exit_code == 1
    assert count(AuditEntry) == 0


def test_deactivating_and_reactivating(
    runner: FlaskCliRunner, register: tuple, make_user: Callable[..., User]
) -> None:
    napoli, _ = register
    member = _db.session.scalar(
        select(StaffMember).where(StaffMember.codice_fiscale == "SPSNCL85C12F839V")
    )
    email = _db.session.get(User, member.user_id).email
    before = count(AuditEntry)
    assert users(runner, "deactivate", "--email", email.upper()).exit_code == 0
    assert users(runner, "deactivate", "--email", email).stdout.endswith("already deactivated\n")
    assert users(runner, "reactivate", "--email", email).exit_code == 0
    assert count(AuditEntry) == before + 2
    deactivated, reactivated = entries()[-2:]
    assert (deactivated.action, reactivated.action) == ("user.deactivate", "user.reactivate")
    expected = {("user", member.user_id), ("staff", member.id), ("authority", napoli.id)}
    assert objects(deactivated) == expected
    assert objects(reactivated) == expected
    assert _db.session.get(User, member.user_id).active
    result = users(runner, "deactivate", "--email", "nessuno@example.org")
    assert result.exit_code == 1
    assert "no user with e-mail" in result.stderr
    # An account without a staff record has no area: for admins only.
    trainer = make_user(Role.TRAINER)
    assert users(runner, "deactivate", "--email", trainer.email).exit_code == 0
    assert objects(entries()[-1]) == {("user", trainer.id)}


def test_role_and_scope_changes(
    runner: FlaskCliRunner, world: dict, make_user: Callable[..., User]
) -> None:
    napoli, calabria = world["napoli"], world["calabria"]
    user = make_user(Role.LEARNER)
    refused = users(runner, "set-role", "--email", user.email, "--role", "hr")
    assert refused.exit_code == 1
    assert "needs at least one" in refused.stderr
    assert count(AuditEntry) == 0

    result = users(
        runner, "set-role", "--email", user.email, "--role", "hr", "--scope-authority", "063049"
    )
    assert result.exit_code == 0, result.output
    role, scope = entries()
    assert (role.action, role.summary) == ("user.role", {"from": "learner", "to": "hr"})
    assert objects(role) == {("user", user.id)}  # no area: admins only
    assert scope.action == "user.scope"
    assert objects(scope) == {("user", user.id), ("authority", napoli.id)}
    assert scope.summary["authorities_added"] == [napoli.id]

    result = users(runner, "set-scope", "--email", user.email, "--scope-region", "18")
    assert result.exit_code == 0, result.output
    moved = entries()[-1]
    assert objects(moved) == {("user", user.id), ("authority", napoli.id), ("region", calabria.id)}
    assert moved.summary == {
        "authorities_added": [],
        "authorities_removed": [napoli.id],
        "regions_added": [calabria.id],
        "regions_removed": [],
    }
    unchanged = users(runner, "set-scope", "--email", user.email, "--scope-region", "18")
    assert unchanged.stdout.endswith("unchanged\n")
    assert len(entries()) == 3

    assert users(runner, "set-role", "--email", user.email, "--role", "learner").exit_code == 0
    role, scope = entries()[-2:]
    assert role.summary == {"from": "hr", "to": "learner"}
    assert scope.summary["regions_removed"] == [calabria.id]
    _db.session.expire_all()
    reloaded = _db.session.get(User, user.id)
    assert (reloaded.role, reloaded.scopes) == (Role.LEARNER, [])


# Callers: content ----------------------------------------------------------------------


def test_a_content_sync_is_recorded_when_it_changes_something(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    report = sync(root)
    (entry,) = entries(Action.CONTENT_SYNC)
    ids = set(_db.session.scalars(select(Course.id)))
    assert (entry.actor_id, entry.via.value) == (None, "cli")
    assert of_kind(entry, "course") == ids
    assert entry.summary["added"] == len(report.added)
    assert entry.summary["changed"] == entry.summary["retired"] == 0
    assert sync(root).nothing_changed
    assert len(entries(Action.CONTENT_SYNC)) == 1  # nothing changed, nothing recorded


def test_a_content_sync_from_the_command_line(tmp_path: Path, runner: FlaskCliRunner) -> None:
    root = make_tree(tmp_path)
    result = runner.invoke(args=["content", "sync", str(root)])
    assert result.exit_code == 0, result.output
    (entry,) = entries(Action.CONTENT_SYNC)
    assert entry.summary["added"] > 0


def test_a_content_sync_rolled_back_leaves_no_entry(tmp_path: Path) -> None:
    from lms.courses.content import load_tree  # noqa: PLC0415
    from lms.courses.sync import sync_courses  # noqa: PLC0415

    sources, errors = load_tree(make_tree(tmp_path))
    assert errors == []
    sync_courses(sources)
    _db.session.rollback()
    assert count(AuditEntry) == 0
    assert count(Course) == 0
