"""Roster import into the staff register: upsert, all or nothing, accounts, scope, CLI.

The pure reading and row checks are in test_roster.py; these tests go through
the database (``run_import`` / ``plan_import`` / ``apply_import``) and ``lms
staff import``. The small helpers at the top (authorities of the fixtures, a
roster writer, counts) are shared with test_enrol.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.core.messages import in_english
from lms.core.types import today_in_italy, utcnow
from lms.enrolments.import_flow import ImportOutcome, run_import
from lms.enrolments.roster import read_roster, validate_rows
from lms.enrolments.staff_import import apply_import, authority_codes, plan_import
from lms.extensions import db as _db
from lms.register.models import Authority, AuthorityKind, StaffCategory, StaffMember

ROSTER = Path(__file__).resolve().parent / "fixtures" / "roster"
ON_SQLITE = not os.environ.get("LMS_TEST_DATABASE_URL", "").startswith("postgresql")

HEADER = (
    "codice_fiscale,first_name,last_name,email,authority_code,category,profile,hired_on,left_on"
)
#: Valid codici fiscali not used by the fixture files.
CF = {
    "verdi": "VRDGPP80A01F839W",
    "bruno": "BRNCRL85E50F839P",
    "gallo": "GLLMRC79C03H703R",
    "conte": "CNTLRA91M41B963A",
    "rizzo": "RZZPLA70T12A509Q",
    "greco": "GRCSRA95B42F839Q",
}
#: The people of personale_comune.csv / .xlsx.
FIXTURE_CFS = {
    "SPSNCL85C12F839V",
    "DNGNNA90L65H703N",
    "DGSSVT79R05G273O",
    "RMNFNC78S43B963U",
    "DLCGPP82A30A509D",
    "BNCLCU88H14Z133N",
    "MRNCHR00B69A783V",
    "RSSMRA75D21F839H",
    "RSSMRA75D21F83VW",
}
ERROR_LINE = re.compile(r"^line \d+, [a-z_ ]+: .+")


pytestmark = pytest.mark.usefixtures("authorities")


# Shared helpers ------------------------------------------------------------------------


def make_napoli(make_authority: Callable[..., Authority]) -> Authority:
    """Comune di Napoli, as the fixtures name it (ISTAT 063049, IPA c_f839)."""
    return make_authority(
        "063049", istat_code="063049", ipa_code="c_f839", region_code="15", name="Comune di Napoli"
    )


def make_campania(make_authority: Callable[..., Authority]) -> Authority:
    """Regione Campania, as the fixtures name it (ISTAT 15)."""
    return make_authority(
        "15",
        kind=AuthorityKind.REGIONE,
        istat_code="15",
        region_code="15",
        name="Regione Campania",
    )


def roster_csv(*rows: str) -> bytes:
    """A UTF-8 CSV roster with the spec's column names and *rows* (comma-separated)."""
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def person(
    key: str,
    authority: str = "063049",
    *,
    first: str | None = None,
    last: str | None = None,
    email: str | None = None,
    category: str = "existing",
    profile: str = "",
    hired_on: str = "",
    left_on: str = "",
) -> str:
    """One CSV row for the person *key* of :data:`CF`."""
    last = last or key.capitalize()
    first = first or "Nome"
    email = email or f"{key}@example.it"
    return ",".join([CF[key], first, last, email, authority, category, profile, hired_on, left_on])


def do_import(
    data: bytes, filename: str = "roster.csv", *, importer: User | None = None
) -> ImportOutcome:
    """Import *data* (applied) and commit when it went through; roll back otherwise."""
    outcome = run_import(data, filename, importer=importer, apply=True)
    if outcome.errors:
        _db.session.rollback()
    else:
        _db.session.commit()
    return outcome


def count(model: type) -> int:
    """Rows of *model*."""
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def staff(cf: str) -> StaffMember:
    """The staff record of *cf*."""
    return _db.session.scalar(select(StaffMember).where(StaffMember.codice_fiscale == cf))


def snapshot() -> dict[str, tuple]:
    """Every staff record (and its account) as plain values, keyed by codice fiscale."""
    _db.session.expire_all()
    result = {}
    for member in _db.session.scalars(select(StaffMember)):
        user = _db.session.get(User, member.user_id) if member.user_id else None
        result[member.codice_fiscale] = (
            member.first_name,
            member.last_name,
            member.email,
            member.authority_id,
            member.category,
            member.profile,
            member.hired_on,
            member.left_on,
            member.updated_at,
            member.user_id,
            (user.email, user.first_name, user.last_name, user.active, user.session_version)
            if user
            else None,
        )
    return result


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    """Comune di Napoli."""
    return make_napoli(make_authority)


@pytest.fixture
def campania(make_authority: Callable[..., Authority]) -> Authority:
    """Regione Campania."""
    return make_campania(make_authority)


@pytest.fixture
def authorities(napoli: Authority, campania: Authority) -> tuple[Authority, Authority]:
    """Both authorities the fixture rosters name."""
    _db.session.commit()
    return napoli, campania


# Formats, idempotence, upsert ----------------------------------------------------------


def test_cp1252_semicolon_csv_and_xlsx_give_the_same_staff(authorities: tuple) -> None:
    outcome = do_import((ROSTER / "personale_comune.csv").read_bytes(), "personale_comune.csv")
    assert outcome.errors == []
    assert (outcome.rows, outcome.new, outcome.updated, outcome.unchanged) == (9, 9, 0, 0)
    from_csv = {cf: values[:8] for cf, values in snapshot().items()}
    assert set(from_csv) == FIXTURE_CFS
    esposito = staff("SPSNCL85C12F839V")
    assert (esposito.first_name, esposito.last_name) == ("Niccolò", "Esposito")
    assert esposito.category is StaffCategory.NEW_HIRE
    assert esposito.hired_on == date(2024, 3, 1)
    assert staff("DGSSVT79R05G273O").last_name == "Di Gesù"
    assert staff("RMNFNC78S43B963U").authority_id == authorities[0].id  # IPA code c_f839
    assert staff("RMNFNC78S43B963U").left_on == date(2025, 6, 30)

    # The XLSX holds the same people: importing it over the CSV changes nothing.
    outcome = do_import((ROSTER / "personale_comune.xlsx").read_bytes(), "personale_comune.xlsx")
    assert outcome.errors == []
    assert (outcome.rows, outcome.new, outcome.updated, outcome.unchanged) == (9, 0, 0, 9)
    assert {cf: values[:8] for cf, values in snapshot().items()} == from_csv


def test_xlsx_alone_gives_the_same_staff_as_the_csv() -> None:
    outcome = do_import((ROSTER / "personale_comune.xlsx").read_bytes(), "personale_comune.xlsx")
    assert outcome.errors == []
    from_xlsx = {cf: values[:8] for cf, values in snapshot().items()}
    _db.session.execute(StaffMember.__table__.delete())
    _db.session.execute(User.__table__.delete())
    _db.session.commit()
    assert do_import((ROSTER / "personale_comune.csv").read_bytes(), "p.csv").errors == []
    from_csv = {cf: values[:8] for cf, values in snapshot().items()}
    # authority ids are the same rows; everything else must match too
    assert from_csv == from_xlsx


def test_importing_the_same_file_twice_changes_nothing_the_second_time() -> None:
    data = (ROSTER / "personale_comune_utf8.csv").read_bytes()
    first = do_import(data, "personale_comune_utf8.csv")
    assert first.errors == []
    assert (first.result.added, first.result.updated, first.result.unchanged) == (9, 0, 0)
    assert first.result.accounts_created == 9
    before = snapshot()
    users_before = count(User)

    second = do_import(data, "personale_comune_utf8.csv")
    assert second.errors == []
    assert (second.new, second.updated, second.unchanged) == (0, 0, 9)
    result = second.result
    assert (result.added, result.updated, result.unchanged) == (0, 0, 9)
    assert (result.accounts_created, result.accounts_deactivated, result.enrolled_by_rules) == (
        0,
        0,
        0,
    )
    assert snapshot() == before  # updated_at of no row moved
    assert count(User) == users_before == 9


def test_a_changed_row_updates_that_person_only(authorities: tuple) -> None:
    rows = [person("verdi"), person("bruno", category="new_hire"), person("gallo")]
    assert do_import(roster_csv(*rows)).errors == []
    before = snapshot()

    rows[1] = person(
        "bruno", "15", first="Carla Maria", email="carla.bruno@example.it", category="existing"
    )
    outcome = do_import(roster_csv(*rows))
    assert outcome.errors == []
    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 1, 2)
    after = snapshot()
    assert set(after) == set(before)
    assert after[CF["verdi"]] == before[CF["verdi"]]
    assert after[CF["gallo"]] == before[CF["gallo"]]
    bruno = staff(CF["bruno"])
    assert bruno.first_name == "Carla Maria"
    assert bruno.email == "carla.bruno@example.it"
    assert bruno.authority_id == authorities[1].id
    assert bruno.category is StaffCategory.EXISTING
    assert bruno.updated_at > before[CF["bruno"]][8]
    assert bruno.user_id == before[CF["bruno"]][9]  # same account, no new one
    assert count(StaffMember) == 3
    assert count(User) == 3


def test_plan_then_apply_by_hand() -> None:
    checked = validate_rows(
        read_roster(roster_csv(person("verdi"), person("bruno")), "r.csv").rows,
        authority_codes=authority_codes(),
    )
    assert checked.errors == []
    plan = plan_import(checked.rows, scope=None)
    assert plan.ok
    assert (len(plan.new), plan.updated, plan.unchanged) == (2, [], 0)
    assert count(StaffMember) == 0  # planning writes nothing
    result = apply_import(plan)
    _db.session.commit()
    assert (result.added, result.accounts_created) == (2, 2)
    assert count(StaffMember) == 2


# All or nothing ------------------------------------------------------------------------


def test_any_bad_row_writes_nothing_and_every_bad_row_is_listed() -> None:
    assert do_import(roster_csv(person("verdi"))).errors == []
    staff_before, users_before, snap = count(StaffMember), count(User), snapshot()

    data = roster_csv(
        person("bruno"),  # line 2: fine
        person("gallo", "999999"),  # line 3: unknown authority
        person("conte", email="not-an-address"),  # line 4: bad e-mail
        person("rizzo"),  # line 5: fine
        person("greco", category="stagista"),  # line 6: bad category
        person("verdi", first="Giuseppe"),  # line 7: a valid update
    )
    outcome = do_import(data)
    assert len(outcome.errors) == 3
    assert all(ERROR_LINE.match(e) for e in in_english(outcome.errors)), outcome.errors
    assert in_english(outcome.errors)[0].startswith("line 3, authority_code: ")
    assert in_english(outcome.errors)[1].startswith("line 4, email: ")
    assert in_english(outcome.errors)[2].startswith("line 6, category: ")
    assert outcome.result is None
    assert count(StaffMember) == staff_before == 1
    assert count(User) == users_before == 1
    assert snapshot() == snap


def test_the_errors_fixture_lists_every_bad_line() -> None:
    outcome = do_import((ROSTER / "personale_errori.csv").read_bytes(), "personale_errori.csv")
    assert outcome.errors
    assert all(ERROR_LINE.match(e) for e in in_english(outcome.errors)), outcome.errors
    lines = {int(re.match(r"line (\d+)", e).group(1)) for e in in_english(outcome.errors)}
    # Line 2 is the only good row; every other row has something wrong.
    assert lines == set(range(3, 17))
    assert count(StaffMember) == 0
    assert count(User) == 0


def test_cli_import_with_errors_exits_1_and_writes_nothing(runner: FlaskCliRunner) -> None:
    path = ROSTER / "personale_errori.csv"
    result = runner.invoke(args=["staff", "import", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines
    for line in lines:
        assert line.startswith(f"{path}: line "), line
        assert ERROR_LINE.match(line.removeprefix(f"{path}: ")), line
    assert result.stdout == ""
    assert count(StaffMember) == 0
    assert count(User) == 0


def test_cli_prints_every_error_in_english_whatever_the_interfaces_default(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """The command line's contract: ``FILE: line N, column: reason``, in English."""
    path = ROSTER / "personale_errori.csv"
    result = runner.invoke(args=["staff", "import", str(path), "--dry-run"])
    assert result.exit_code == 1
    lines = [line.removeprefix(f"{path}: ") for line in result.stderr.splitlines()]
    assert lines[:4] == [
        "line 3, codice_fiscale: invalid check character",
        "line 4, codice_fiscale: must be 16 characters, not 15",
        (
            'line 5, codice_fiscale: character 9 is "Z" but should be a month letter '
            "(A B C D E H L M P R S T)"
        ),
        (
            "line 6, email: giuseppe.deluca@ is not a valid e-mail address: "
            "There must be something after the @-sign."
        ),
    ]
    assert "line 9, hired_on: 31/02/2024 is not a date" in lines
    assert (
        "line 14, extra cells: values beyond the last column of the header: nota a margine" in lines
    )
    assert not any("riga" in line or "non è" in line for line in lines)

    empty = tmp_path / "vuoto.csv"
    empty.write_bytes(b"")
    result = runner.invoke(args=["staff", "import", str(empty)])
    assert (result.exit_code, result.stderr) == (1, f"{empty}: the file is empty\n")


def test_cli_dry_run_writes_nothing_and_counts(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = ROSTER / "personale_comune.csv"
    result = runner.invoke(args=["staff", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "9 new, 0 updated, 0 unchanged" in result.stdout
    assert (count(StaffMember), count(User)) == (0, 0)

    result = runner.invoke(args=["staff", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "9 added" in result.stdout
    assert "9 account(s) created" in result.stdout
    assert count(StaffMember) == 9
    before = snapshot()

    # One changed row: the dry run reports it, and still writes nothing.
    text = path.read_bytes().decode("cp1252").replace("Di Gesù", "Di Gesù Rossi")
    changed = tmp_path / "personale.csv"
    changed.write_bytes(text.encode("cp1252"))
    result = runner.invoke(args=["staff", "import", str(changed), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated, 8 unchanged" in result.stdout
    assert snapshot() == before


# E-mail addresses and accounts ----------------------------------------------------------


def test_email_of_another_staff_member_is_an_error_for_that_row() -> None:
    assert do_import(roster_csv(person("verdi", email="g.verdi@example.it"))).errors == []
    before = snapshot()
    outcome = do_import(roster_csv(person("bruno"), person("gallo", email="g.verdi@example.it")))
    assert len(outcome.errors) == 1
    assert in_english(outcome.errors)[0].startswith("line 3, email: g.verdi@example.it")
    assert snapshot() == before


def test_email_of_another_persons_account_is_an_error() -> None:
    # Verdi's learner account follows his staff e-mail; Bruno cannot take it.
    assert do_import(roster_csv(person("verdi"))).errors == []
    outcome = do_import(roster_csv(person("bruno", email="verdi@example.it")))
    assert len(outcome.errors) == 1
    assert in_english(outcome.errors)[0].startswith("line 2, email: verdi@example.it")
    assert count(StaffMember) == 1


def test_existing_learner_account_without_staff_is_linked_not_duplicated(
    make_user: Callable[..., User],
) -> None:
    learner = make_user(Role.LEARNER, email="g.verdi@example.it")
    outcome = do_import(roster_csv(person("verdi", email="G.Verdi@example.it"), person("bruno")))
    assert outcome.errors == []
    assert outcome.result.accounts_created == 1
    assert count(User) == 2
    assert staff(CF["verdi"]).user_id == learner.id


def test_existing_hr_account_is_an_error_not_linked(
    authorities: tuple, make_user: Callable[..., User]
) -> None:
    # Until the ownership rules, an HR manager who is staff too had their HR
    # account tied to the staff record; now only a learner account may be.
    hr = make_user(Role.HR, email="hr.manager@example.it", scope=[authorities[0]])
    outcome = do_import(roster_csv(person("verdi", email="HR.Manager@example.it"), person("bruno")))
    assert in_english(outcome.errors) == [
        "line 2, email: hr.manager@example.it is already used by another account"
    ]
    assert count(StaffMember) == 0
    assert count(User) == 1
    _db.session.refresh(hr)
    assert hr.role is Role.HR  # still an HR manager
    assert hr.password_hash is not None


def test_one_learner_account_per_person_without_password() -> None:
    outcome = do_import(
        roster_csv(person("verdi", first="Giuseppe"), person("bruno", first="Carla"))
    )
    assert outcome.result.accounts_created == 2
    for key, first in (("verdi", "Giuseppe"), ("bruno", "Carla")):
        member = staff(CF[key])
        user = _db.session.get(User, member.user_id)
        assert user.role is Role.LEARNER
        assert user.password_hash is None
        assert user.active is True
        assert (user.email, user.first_name, user.last_name) == (
            member.email,
            first,
            key.capitalize(),
        )
    ids = _db.session.scalars(select(StaffMember.user_id)).all()
    assert len(set(ids)) == 2
    assert None not in ids


def test_account_follows_later_updates_of_the_staff_record() -> None:
    assert do_import(roster_csv(person("verdi", first="Giuseppe"))).errors == []
    user_id = staff(CF["verdi"]).user_id
    outcome = do_import(
        roster_csv(
            person("verdi", first="Giuseppe Maria", last="Verdi-Neri", email="gmv@example.it")
        )
    )
    assert outcome.errors == []
    assert outcome.result.accounts_created == 0
    _db.session.expire_all()
    user = _db.session.get(User, user_id)
    assert (user.email, user.first_name, user.last_name) == (
        "gmv@example.it",
        "Giuseppe Maria",
        "Verdi-Neri",
    )
    assert count(User) == 1


def test_changing_email_to_an_existing_non_staff_account_does_not_crash(
    authorities: tuple, make_user: Callable[..., User]
) -> None:
    # Verdi already has a learner account; his roster e-mail becomes that of an
    # existing HR account: an error for the row (never a crash, never a link).
    assert do_import(roster_csv(person("verdi"))).errors == []
    make_user(Role.HR, email="hr.manager@example.it", scope=[authorities[0]])
    before = snapshot()
    outcome = do_import(roster_csv(person("verdi", email="hr.manager@example.it")))
    assert in_english(outcome.errors) == [
        "line 2, email: hr.manager@example.it is already used by another account"
    ]
    assert snapshot() == before


def test_left_on_in_the_past_deactivates_the_account() -> None:
    assert do_import(roster_csv(person("verdi"), person("bruno"))).errors == []
    user_id = staff(CF["verdi"]).user_id
    version = _db.session.get(User, user_id).session_version
    yesterday = (today_in_italy() - timedelta(days=2)).isoformat()
    outcome = do_import(roster_csv(person("verdi", left_on=yesterday), person("bruno")))
    assert outcome.errors == []
    assert outcome.result.accounts_deactivated == 1
    _db.session.expire_all()
    user = _db.session.get(User, user_id)
    assert user.active is False
    assert user.session_version == version + 1
    bruno = _db.session.get(User, staff(CF["bruno"]).user_id)
    assert bruno.active is True

    # Importing again does not bump the version again.
    outcome = do_import(roster_csv(person("verdi", left_on=yesterday), person("bruno")))
    assert outcome.result.accounts_deactivated == 0
    _db.session.expire_all()
    assert _db.session.get(User, user_id).session_version == version + 1


def test_new_person_who_already_left_gets_an_inactive_account() -> None:
    outcome = do_import(roster_csv(person("verdi", left_on="2020-01-31")))
    assert outcome.errors == []
    user = _db.session.get(User, staff(CF["verdi"]).user_id)
    assert user.active is False
    # In the fixture, Francesca Romano left on 30/06/2025.
    assert do_import((ROSTER / "personale_comune.csv").read_bytes(), "p.csv").errors == []
    romano = _db.session.get(User, staff("RMNFNC78S43B963U").user_id)
    assert romano.active is False
    assert _db.session.get(User, staff("SPSNCL85C12F839V").user_id).active is True


def test_left_on_in_the_future_keeps_the_account_active() -> None:
    future = (today_in_italy() + timedelta(days=30)).isoformat()
    assert do_import(roster_csv(person("verdi"))).errors == []
    user_id = staff(CF["verdi"]).user_id
    outcome = do_import(roster_csv(person("verdi", left_on=future)))
    assert outcome.errors == []
    assert outcome.result.updated == 1
    assert outcome.result.accounts_deactivated == 0
    _db.session.expire_all()
    user = _db.session.get(User, user_id)
    assert user.active is True
    assert user.session_version == 1
    assert do_import(roster_csv(person("bruno", left_on=future))).errors == []
    assert _db.session.get(User, staff(CF["bruno"]).user_id).active is True


def test_apply_import_uses_the_given_now_for_leavers() -> None:
    # A left_on after "now" keeps the account active; the import is dated by *now*.
    checked = validate_rows(
        read_roster(roster_csv(person("verdi", left_on="2026-03-01")), "r.csv").rows,
        authority_codes=authority_codes(),
        today=date(2026, 1, 1),
    )
    result = apply_import(
        plan_import(checked.rows, scope=None),
        now=datetime(2026, 1, 1, 12, tzinfo=utcnow().tzinfo),
    )
    assert result.accounts_created == 1
    assert _db.session.get(User, staff(CF["verdi"]).user_id).active is True


# Scope ---------------------------------------------------------------------------------


def test_hr_importer_may_import_only_into_their_authorities(
    authorities: tuple, make_user: Callable[..., User]
) -> None:
    napoli, _campania = authorities
    hr = make_user(Role.HR, scope=[napoli])
    users_before = count(User)
    outcome = do_import(
        roster_csv(person("verdi"), person("bruno", "15"), person("gallo", "c_f839")),
        importer=hr,
    )
    assert len(outcome.errors) == 1
    assert in_english(outcome.errors)[0].startswith("line 3, authority_code: 15 ")
    assert count(StaffMember) == 0
    assert count(User) == users_before

    outcome = do_import(roster_csv(person("verdi"), person("gallo", "c_f839")), importer=hr)
    assert outcome.errors == []
    assert count(StaffMember) == 2


def test_hr_importer_scoped_to_a_region_reaches_its_authorities_only(
    authorities: tuple, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    torino = make_authority("001272", region_code="01")
    _db.session.commit()
    hr = make_user(Role.HR, scope=[authorities[0].region])
    outcome = do_import(roster_csv(person("verdi", "15"), person("bruno", "001272")), importer=hr)
    assert [(e.line, e.column) for e in outcome.errors] == [(3, "authority_code")]
    assert count(StaffMember) == 0
    assert torino.id  # the authority exists; only the scope refuses it


def test_learner_importer_may_import_nothing(make_user: Callable[..., User]) -> None:
    learner = make_user(Role.LEARNER)
    outcome = do_import(roster_csv(person("verdi")), importer=learner)
    assert len(outcome.errors) == 1
    assert count(StaffMember) == 0


def test_admin_importer_may_import_anywhere(
    make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    make_authority("001272", region_code="01")
    _db.session.commit()
    admin = make_user(Role.ADMIN)
    outcome = do_import(
        roster_csv(person("verdi"), person("bruno", "15"), person("gallo", "001272")),
        importer=admin,
    )
    assert outcome.errors == []
    assert count(StaffMember) == 3
