"""Searches for names and authorities ignore accents and case (a finding of the trial, #18).

``nicolo`` finds Nicolò, ``ciro`` finds Cirò, ``NICOLÒ`` and ``sant'agata`` (a typed
apostrophe for Excel's curly one) too: on the staff list, the authorities' page, the
accounts' list and the booking search of a live session, on both databases. Every way
a name is written keeps the folded search column true: the roster import (COPY on
PostgreSQL), a rename by import, an edit, the register's load, an account's own rename.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from conftest import make_test_app
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from live_world import build_live_world
from sqlalchemy import Integer, String, column, select, table
from test_migrations import empty_database_url  # noqa: F401 - a fixture
from test_staff_import import CF, do_import, person, roster_csv

from lms.auth.models import Role, User
from lms.auth.self_service import change_own_names
from lms.core.search import fold, name_key
from lms.extensions import db as _db
from lms.live.queries import search_people
from lms.register.istat import AuthorityRecord, RegionRecord, Register
from lms.register.models import Authority, AuthorityKind, Region, StaffCategory, StaffMember
from lms.register.operations import load_register


def test_fold_drops_accents_case_and_typographic_apostrophes() -> None:
    assert fold("Nicolò") == "nicolo"
    assert fold("CIRÒ MARINA") == "ciro marina"
    assert fold("Sant’Agata de’ Goti") == "sant'agata de' goti"
    assert fold("  Di   Gesù\t") == "di gesu"
    assert fold("Straße") == "strasse"
    assert name_key("Nicolò", "D'Angelo") == "nicolo d'angelo\td'angelo nicolo"


def _staff(authority: Authority, cf: str, first: str, last: str) -> StaffMember:
    member = StaffMember(
        codice_fiscale=cf,
        first_name=first,
        last_name=last,
        email=f"{cf.lower()}@example.it",
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
    )
    _db.session.add(member)
    _db.session.commit()
    return member


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    authority = make_authority("063049", name="Comune di Napoli", region_code="15")
    _db.session.commit()
    return authority


def _found(client: FlaskClient, url: str, search: str, names: set[str]) -> set[str]:
    response = client.get(url, query_string={"q": search})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return {name for name in names if name in page}


def test_the_staff_search_ignores_accents_and_case(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    _staff(napoli, "SPSNCL85C12F839V", "Nicolò", "Esposito")
    _staff(napoli, "DGSSVT79R05G273O", "Salvatore", "Di Gesù")
    _staff(napoli, "VRDGPP80A01F839W", "Giuseppe", "Verdi")
    login_as(Role.HR, scope=[napoli])
    names = {"Esposito", "Di Gesù", "Verdi"}
    for search in ("nicolo", "NICOLÒ", "Nicolo Esposito", "esposito nicolò", "NICOLO"):
        assert _found(client, "/personale/", search, names) == {"Esposito"}, search
    assert _found(client, "/personale/", "di gesu", names) == {"Di Gesù"}
    assert _found(client, "/personale/", "gesù di", names) == set()  # in neither order
    assert _found(client, "/personale/", "salvatore di gesu", names) == {"Di Gesù"}
    # The codice fiscale is still found as it is written, in either case.
    assert _found(client, "/personale/", "spsncl85c12f839v", names) == {"Esposito"}


def test_the_authority_search_ignores_accents_and_case(
    client: FlaskClient, login_as: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    make_authority(name="Cirò", region_code="18")
    make_authority(name="Cirò Marina", region_code="18")
    make_authority(name="Sant’Agata de’ Goti", region_code="15")
    make_authority(name="Catanzaro", region_code="18")
    _db.session.commit()
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    names = {"Cirò Marina", "Sant’Agata de’ Goti", "Catanzaro"}
    assert _found(client, "/enti/", "ciro", names) == {"Cirò Marina"}
    page = client.get("/enti/", query_string={"q": "CIRO"}).get_data(as_text=True)
    assert page.count("Cirò") == 2  # Cirò and Cirò Marina
    assert _found(client, "/enti/", "sant'agata", names) == {"Sant’Agata de’ Goti"}
    assert _found(client, "/enti/", "SANT’AGATA DE’", names) == {"Sant’Agata de’ Goti"}


def test_the_account_search_ignores_accents_and_case(
    client: FlaskClient, login_as: Callable[..., User], make_user: Callable[..., User]
) -> None:
    make_user(
        Role.LEARNER, email="n.esposito@example.org", first_name="Nicolò", last_name="Esposito"
    )
    make_user(Role.TRAINER, email="verdi@example.org", first_name="Giuseppe", last_name="Verdi")
    login_as(Role.ADMIN, email="capo@example.org", first_name="Capo", last_name="Ufficio")
    names = {"n.esposito@example.org", "verdi@example.org"}
    assert _found(client, "/admin/utenti", "nicolo", names) == {"n.esposito@example.org"}
    assert _found(client, "/admin/utenti", "NICOLÒ ESPOSITO", names) == {"n.esposito@example.org"}
    assert _found(client, "/admin/utenti", "N.ESPOSITO@", names) == {"n.esposito@example.org"}


def test_an_account_renamed_by_its_owner_is_found_by_its_new_name(
    make_user: Callable[..., User],
) -> None:
    user = make_user(Role.LEARNER, first_name="Anna", last_name="Rossi")
    assert change_own_names(user, "Niccolò", "Rossi")
    _db.session.commit()
    found = _db.session.scalar(
        select(User.id).where(User.search_name.like("%niccolo rossi%"))  # type: ignore[attr-defined]
    )
    assert found == user.id


def test_the_live_booking_search_ignores_accents(
    make_user: Callable[..., User],
    make_authority: Callable[..., Authority],
    make_region: Callable[..., Region],
) -> None:
    world = build_live_world(make_user, make_authority, make_region)
    edition = world.edition()
    nicolo = world.person(first_name="Nicolò", last_name="D’Angelo")
    world.person(first_name="Nicola", last_name="Verdi")
    hr = make_user(Role.HR, scope=[world.napoli])
    for text in ("NICOLO", "nicolò d'angelo", "d'ang"):
        found = [staff.id for staff, _a, _s in search_people(hr, edition, text)]
        assert found == [nicolo.id], text


def test_people_a_roster_adds_or_renames_are_found_without_accents(
    client: FlaskClient, login_as: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    """The import writes with bulk statements (COPY on PostgreSQL): the search column too."""
    napoli = make_authority(
        "063049", istat_code="063049", ipa_code="c_f839", region_code="15", name="Comune di Napoli"
    )
    _db.session.commit()
    rows = [person("verdi", first="Nicolò"), person("bruno", first="Anna", last="Bruno")]
    assert do_import(roster_csv(*rows)).errors == []
    login_as(Role.ADMIN, email="capo@example.org", first_name="Capo", last_name="Ufficio")
    names = {"Verdi", "Bruno"}
    assert _found(client, "/personale/", "nicolo verdi", names) == {"Verdi"}
    assert _found(client, "/admin/utenti", "nicolo", {"verdi@example.it"}) == {"verdi@example.it"}

    # A new surname by import (an UPDATE) is what the search finds, on the account too.
    rows = [person("verdi", first="Nicolò"), person("bruno", first="Anna", last="Brunò")]
    assert do_import(roster_csv(*rows)).errors == []
    assert _found(client, "/personale/", "anna bruno", {"Brunò", "Verdi"}) == {"Brunò"}
    assert _found(client, "/admin/utenti", "anna bruno", {"bruno@example.it"}) == {
        "bruno@example.it"
    }
    member = _db.session.scalar(
        select(StaffMember).where(StaffMember.codice_fiscale == CF["bruno"])
    )
    assert member is not None
    assert member.authority_id == napoli.id


def test_the_register_load_writes_the_folded_names() -> None:
    register = Register(
        regions=[RegionRecord(code="18", name="Calabria", nuts2="ITF6", less_developed=True)],
        supra_municipal=[
            AuthorityRecord("101", AuthorityKind.PROVINCIA, "Provincia di Crotone", "18", None)
        ],
        municipalities=[AuthorityRecord("101008", AuthorityKind.COMUNE, "Cirò", "18", "101")],
    )
    load_register(register)
    _db.session.commit()
    ciro = _db.session.scalar(select(Authority).where(Authority.code == "101008"))
    assert ciro is not None
    assert ciro.search_name == "ciro"  # type: ignore[attr-defined]
    # A later load that renames it (ISTAT's spelling changed) folds the new name.
    register.municipalities[0] = AuthorityRecord(
        "101008", AuthorityKind.COMUNE, "Cirò Superiore", "18", "101"
    )
    load_register(register)
    _db.session.commit()
    _db.session.expire_all()
    assert ciro.search_name == "ciro superiore"  # type: ignore[attr-defined]


def test_0015_fills_the_search_columns_of_rows_already_there(empty_database_url: str) -> None:  # noqa: F811
    app = make_test_app(empty_database_url)
    regions = table(
        "regions",
        column("id", Integer()),
        column("code", String()),
        column("name", String()),
        column("less_developed"),
    )
    authorities = table(
        "authorities",
        column("id", Integer()),
        column("code", String()),
        column("kind", String()),
        column("name", String()),
        column("region_id", Integer()),
    )
    staff = table(
        "staff_members",
        column("id", Integer()),
        column("codice_fiscale", String()),
        column("first_name", String()),
        column("last_name", String()),
        column("email", String()),
        column("authority_id", Integer()),
        column("category", String()),
        column("created_at"),
        column("updated_at"),
    )
    users = table(
        "users",
        column("id", Integer()),
        column("email", String()),
        column("first_name", String()),
        column("last_name", String()),
        column("role", String()),
        column("active"),
        column("session_version", Integer()),
        column("created_at"),
    )
    with app.app_context():
        try:
            upgrade(revision="0014")
            _db.session.execute(
                regions.insert().values(id=1, code="18", name="Calabria", less_developed=True)
            )
            _db.session.execute(
                authorities.insert().values(
                    id=1, code="101008", kind="comune", name="Cirò", region_id=1
                )
            )
            _db.session.execute(
                staff.insert().values(
                    id=1,
                    codice_fiscale="SPSNCL85C12F839V",
                    first_name="Nicolò",
                    last_name="Esposito",
                    email="n@example.it",
                    authority_id=1,
                    category="existing",
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                    updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )
            _db.session.execute(
                users.insert().values(
                    id=1,
                    email="n@example.it",
                    first_name="Nicolò",
                    last_name="Esposito",
                    role="learner",
                    active=True,
                    session_version=1,
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )
            _db.session.commit()
            upgrade()
            assert _db.session.scalar(select(Authority.search_name)) == "ciro"  # type: ignore[attr-defined]
            key = "nicolo esposito\tesposito nicolo"
            assert _db.session.scalar(select(StaffMember.search_name)) == key  # type: ignore[attr-defined]
            assert _db.session.scalar(select(User.search_name)) == key  # type: ignore[attr-defined]
            _db.session.rollback()  # PostgreSQL: release the read before the ALTER TABLE
            downgrade(revision="0014")
        finally:
            _db.session.remove()
            _db.engine.dispose()
