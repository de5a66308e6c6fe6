"""The bulk write paths of the roster import: COPY on PostgreSQL, multi-row INSERT elsewhere.

The suite runs on SQLite and again on PostgreSQL, so every test here checks
both paths give the same records. Values the roster's validation would never
let through (tabs, newlines) are written through :func:`apply_import` directly,
to check the COPY escaping on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from test_staff_import import (
    CF,
    count,
    do_import,
    make_campania,
    make_napoli,
    person,
    roster_csv,
    snapshot,
    staff,
)

from lms.auth.models import Role, User
from lms.core.types import utcnow
from lms.enrolments import staff_import
from lms.enrolments.staff_import import ImportPlan, apply_import
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

pytestmark = pytest.mark.usefixtures("authorities")

#: Text COPY's format gives a meaning to: tab, newline, carriage return, backslash, \N.
AWKWARD = (
    "Tab\there",
    "New\nline\r\nand return",
    "Back\\slash \\N \\t",
    "\\N",
    'Quote\'s "double" ;,|',
    "Niccolò Šćepanović 😀",
)


@pytest.fixture
def authorities(make_authority: Callable[..., Authority]) -> tuple[Authority, Authority]:
    """Comune di Napoli and Regione Campania, as the roster fixtures name them."""
    napoli, campania = make_napoli(make_authority), make_campania(make_authority)
    _db.session.commit()
    return napoli, campania


def new_person(key: str, authority: Authority, **values: object) -> dict:
    """A new person as :attr:`ImportPlan.new` holds them."""
    return {
        "codice_fiscale": CF[key],
        "first_name": "Nome",
        "last_name": key.capitalize(),
        "email": f"{key}@example.it",
        "authority_id": authority.id,
        "category": StaffCategory.EXISTING,
        "profile": None,
        "hired_on": None,
        "left_on": None,
        **values,
    }


def test_awkward_text_is_stored_exactly(authorities: tuple) -> None:
    napoli = authorities[0]
    keys = list(CF)
    plan = ImportPlan(
        new=[
            new_person(key, napoli, first_name=text, last_name=text[::-1], profile=text)
            for key, text in zip(keys, AWKWARD, strict=True)
        ]
    )
    result = apply_import(plan)
    _db.session.commit()
    assert (result.added, result.accounts_created) == (len(AWKWARD), len(AWKWARD))
    _db.session.expire_all()
    for key, text in zip(keys, AWKWARD, strict=True):
        member = staff(CF[key])
        assert (member.first_name, member.last_name, member.profile) == (text, text[::-1], text)
        user = _db.session.get(User, member.user_id)
        assert (user.first_name, user.last_name, user.email) == (text, text[::-1], member.email)


def test_nulls_stay_null_and_values_keep_their_types(authorities: tuple) -> None:
    napoli, campania = authorities
    plan = ImportPlan(
        new=[
            new_person("verdi", napoli),
            new_person(
                "bruno",
                campania,
                category=StaffCategory.NEW_HIRE,
                profile="",
                hired_on=date(2024, 2, 29),
                left_on=date(2030, 12, 31),
            ),
        ]
    )
    now = utcnow()
    apply_import(plan, now=now)
    _db.session.commit()
    _db.session.expire_all()
    verdi, bruno = staff(CF["verdi"]), staff(CF["bruno"])
    assert (verdi.profile, verdi.hired_on, verdi.left_on) == (None, None, None)
    assert verdi.category is StaffCategory.EXISTING
    assert (verdi.authority_id, bruno.authority_id) == (napoli.id, campania.id)
    assert (bruno.profile, bruno.hired_on, bruno.left_on) == (
        "",
        date(2024, 2, 29),
        date(2030, 12, 31),
    )
    assert bruno.category is StaffCategory.NEW_HIRE
    assert verdi.created_at == verdi.updated_at == now
    user = _db.session.get(User, bruno.user_id)
    assert (user.role, user.active, user.session_version, user.password_hash) == (
        Role.LEARNER,
        True,
        1,
        None,
    )
    assert user.created_at == now
    # The staff record names exactly its own account.
    assert _db.session.scalar(select(User.email).where(User.id == verdi.user_id)) == verdi.email


def test_ids_drawn_for_the_import_do_not_collide_with_later_rows(
    make_user: Callable[..., User],
) -> None:
    assert do_import(roster_csv(person("verdi"), person("bruno"))).errors == []
    # Rows added the ordinary way afterwards get fresh ids.
    learner = make_user(Role.LEARNER, email="dopo@example.it")
    _db.session.commit()
    assert learner.id not in {staff(CF["verdi"]).user_id, staff(CF["bruno"]).user_id}
    assert do_import(roster_csv(person("verdi"), person("bruno"), person("gallo"))).errors == []
    ids = _db.session.scalars(select(StaffMember.id)).all()
    user_ids = _db.session.scalars(select(User.id)).all()
    assert len(set(ids)) == 3
    assert len(set(user_ids)) == 4


def test_import_larger_than_a_chunk(
    monkeypatch: pytest.MonkeyPatch, make_user: Callable[..., User]
) -> None:
    # Chunks of two: every lookup and write crosses chunk boundaries.
    monkeypatch.setattr(staff_import, "CHUNK", 2)
    account = make_user(Role.LEARNER, email="gallo@example.it")  # no staff record yet
    assert do_import(roster_csv(person("verdi"))).errors == []
    keys = ["verdi", "bruno", "gallo", "conte", "rizzo"]
    rows = [person(key, left_on="2020-01-31" if key == "rizzo" else "") for key in keys]
    rows[0] = person("verdi", first="Giuseppe")
    outcome = do_import(roster_csv(*rows))
    assert outcome.errors == []
    result = outcome.result
    assert (result.added, result.updated, result.unchanged) == (4, 1, 0)
    # Gallo's e-mail is a learner account of no staff record: linked, not duplicated.
    assert (result.accounts_created, result.accounts_deactivated) == (3, 0)
    assert staff(CF["gallo"]).user_id == account.id
    assert _db.session.get(User, staff(CF["rizzo"]).user_id).active is False
    assert count(User) == 5
    assert len({staff(CF[key]).user_id for key in keys}) == len(keys)
    before = snapshot()
    again = do_import(roster_csv(*rows))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5)
    assert snapshot() == before


def test_bad_row_after_a_chunk_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_import, "CHUNK", 2)
    assert do_import(roster_csv(person("verdi", email="g.verdi@example.it"))).errors == []
    before = snapshot()
    outcome = do_import(
        roster_csv(
            person("bruno"),
            person("gallo"),
            person("conte"),
            person("rizzo", email="g.verdi@example.it"),  # Verdi's: line 5
        )
    )
    assert [(e.line, e.column) for e in outcome.errors] == [(5, "email")]
    assert snapshot() == before
    assert count(User) == 1
