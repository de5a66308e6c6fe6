"""Ownership rules of the roster import: whose people an importer may change, which accounts bind.

Two attacks, each through the upload page as an HR manager and through the plan
functions:

- take-over across areas: the HR manager of the Comune di Napoli names, with
  Napoli's authority code, the codice fiscale of someone on a Calabrian
  authority's staff; the row must be an error that shows nothing of that person,
  and nothing may move;
- escalation: a roster row whose e-mail is a trainer's, an HR manager's or an
  administrator's account must not tie a staff record to that account (a links
  download would then hand out a link to set its password).

Then the same rules below the plan (``_add_staff``, ``_link_accounts``,
``_create_accounts``, ``_sync_account_status`` called directly), and the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
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
from test_staff_pages import confirm_response, listed_errors, upload

from lms.auth.models import Role, User
from lms.auth.operations import create_user
from lms.core.messages import in_english
from lms.core.types import today_in_italy, utcnow
from lms.enrolments.import_flow import run_import
from lms.enrolments.roster import read_roster, validate_rows
from lms.enrolments.staff_import import (
    ImportPlan,
    _add_staff,
    _create_accounts,
    _sync_account_status,
    apply_import,
    authority_codes,
    plan_import,
    scope_ids,
)
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember
from lms.site.demo import DEMO_STAFF, DEMO_USERS, demo_staff_email, load_demo, load_demo_staff

#: The Calabrian person the attacks aim at, as the Comune di Catanzaro registered her.
CALABRESE = {
    "first": "Rosaria",
    "last": "Calabrese",
    "email": "rosaria.calabrese@comune.catanzaro.it",
    "hired_on": "2019-04-01",
    "profile": "specialista giuridico amministrativo",
}
#: What of her must never show to the HR manager of Napoli.
CALABRESE_SHOWN = (
    "Rosaria",
    "Calabrese",
    "rosaria.calabrese@",
    "079023",
    "Catanzaro",
    "01/04/2019",
    "2019-04-01",
    "giuridico",
)
TAKE_OVER = "VRDGPP80A01F839W is managed by another authority"


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    """Comune di Napoli (ISTAT 063049)."""
    return make_napoli(make_authority)


@pytest.fixture
def campania(make_authority: Callable[..., Authority]) -> Authority:
    """Regione Campania (ISTAT 15)."""
    return make_campania(make_authority)


@pytest.fixture
def catanzaro(make_authority: Callable[..., Authority]) -> Authority:
    """Comune di Catanzaro, in Calabria (ISTAT 079023)."""
    return make_authority("079023", region_code="18", name="Comune di Catanzaro")


@pytest.fixture
def authorities(napoli: Authority, campania: Authority, catanzaro: Authority) -> dict:
    """Napoli and Regione Campania (one region), Catanzaro (another), committed."""
    _db.session.commit()
    return {"napoli": napoli, "campania": campania, "catanzaro": catanzaro}


@pytest.fixture
def calabrese(authorities: dict) -> StaffMember:
    """Verdi's codice fiscale on Catanzaro's staff, with a learner account (the command line)."""
    del authorities  # only the authorities it makes
    row = person(
        "verdi",
        "079023",
        first=CALABRESE["first"],
        last=CALABRESE["last"],
        email=CALABRESE["email"],
        hired_on=CALABRESE["hired_on"],
        profile=CALABRESE["profile"],
    )
    assert do_import(roster_csv(row)).errors == []
    member = staff(CF["verdi"])
    assert member.user_id is not None
    return member


def hr_of(make_user: Callable[..., User], *scope: Authority | object) -> User:
    """An HR manager of *scope* (authorities or regions)."""
    return make_user(Role.HR, scope=list(scope))


def attack_row(email: str = "nuova.assunta@comune.napoli.it") -> str:
    """Verdi's codice fiscale with Napoli's code, another name and a new e-mail."""
    return person("verdi", "063049", first="Mario", last="Rossi", email=email)


def plan_of(data: bytes, importer: User | None) -> ImportPlan:
    """Validate and plan *data* as *importer* would, through the plan functions."""
    scope = scope_ids(importer)
    checked = validate_rows(
        read_roster(data, "r.csv").rows, authority_codes=authority_codes(), scope=scope
    )
    assert checked.errors == []
    return plan_import(checked.rows, scope=scope)


def account(user_id: int) -> User:
    """The account *user_id*, fresh from the database."""
    _db.session.expire_all()
    return _db.session.get(User, user_id)


def staff_of(user: User) -> StaffMember | None:
    """The staff record bound to *user*, if any."""
    _db.session.expire_all()
    return _db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))


# Take-over across areas --------------------------------------------------------------------


@pytest.mark.usefixtures("calabrese")
def test_hr_cannot_take_over_a_person_of_another_area_through_the_upload_page(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"]])
    before = snapshot()
    page = upload(client, roster_csv(person("bruno"), attack_row()))
    assert listed_errors(page) == [
        "riga 3, codice_fiscale: VRDGPP80A01F839W è gestito da un altro ente"
    ]
    assert "Conferma l'importazione" not in page
    for shown in CALABRESE_SHOWN:
        assert shown not in page, shown
    assert snapshot() == before  # her authority, e-mail and account are untouched
    assert count(StaffMember) == 1  # and Bruno, on the same file, was not added


def test_a_take_over_that_appears_after_the_preview_is_refused_on_confirm(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"]])
    page = upload(client, roster_csv(attack_row()))
    assert "Conferma l'importazione" in page  # a new person, as far as the register knows
    # Meanwhile Catanzaro registers her.
    row = person("verdi", "079023", first="Rosaria", last="Calabrese", email=CALABRESE["email"])
    assert do_import(roster_csv(row)).errors == []
    before = snapshot()
    response = confirm_response(client, page)
    assert response.status_code == 200
    result = response.get_data(as_text=True)
    assert listed_errors(result) == [
        "riga 2, codice_fiscale: VRDGPP80A01F839W è gestito da un altro ente"
    ]
    for shown in CALABRESE_SHOWN:
        assert shown not in result, shown
    assert snapshot() == before
    member = staff(CF["verdi"])
    assert member.authority_id == authorities["catanzaro"].id
    assert account(member.user_id).email == CALABRESE["email"]


@pytest.mark.usefixtures("calabrese")
def test_plan_refuses_a_take_over_and_says_nothing_of_the_person(
    authorities: dict, make_user: Callable[..., User]
) -> None:
    hr = hr_of(make_user, authorities["napoli"])
    before = snapshot()
    plan = plan_of(roster_csv(attack_row()), hr)
    assert [(e.line, e.column) for e in plan.errors] == [(2, "codice_fiscale")]
    assert in_english(plan.errors) == [f"line 2, codice_fiscale: {TAKE_OVER}"]
    assert (plan.new, plan.updated, plan.unchanged) == ([], [], 0)
    # Not even the e-mail check looks at her: her own e-mail gives the same one error.
    plan = plan_of(roster_csv(attack_row(CALABRESE["email"])), hr)
    assert in_english(plan.errors) == [f"line 2, codice_fiscale: {TAKE_OVER}"]

    outcome = do_import(roster_csv(attack_row()), importer=hr)
    assert in_english(outcome.errors) == [f"line 2, codice_fiscale: {TAKE_OVER}"]
    assert outcome.result is None
    assert snapshot() == before


def test_hr_of_a_region_cannot_take_over_a_person_of_another_region(
    authorities: dict, make_user: Callable[..., User]
) -> None:
    # Napoli's person, named by Calabria's HR manager with Catanzaro's code.
    assert do_import(roster_csv(person("verdi", email="verdi@comune.napoli.it"))).errors == []
    before = snapshot()
    hr = hr_of(make_user, authorities["catanzaro"].region)
    outcome = do_import(roster_csv(person("verdi", "079023", email="x@example.it")), importer=hr)
    assert in_english(outcome.errors) == [f"line 2, codice_fiscale: {TAKE_OVER}"]
    assert snapshot() == before


def test_moving_someone_between_two_authorities_in_scope_is_an_update(
    authorities: dict, make_user: Callable[..., User]
) -> None:
    assert do_import(roster_csv(person("verdi"))).errors == []  # Napoli
    hr = hr_of(make_user, authorities["napoli"].region)  # Napoli and Regione Campania
    outcome = do_import(roster_csv(person("verdi", "15")), importer=hr)
    assert outcome.errors == []
    assert (outcome.new, outcome.updated) == (0, 1)
    assert staff(CF["verdi"]).authority_id == authorities["campania"].id


def test_moving_someone_out_of_scope_is_refused_by_the_authority_code(
    authorities: dict, make_user: Callable[..., User]
) -> None:
    assert do_import(roster_csv(person("verdi"))).errors == []  # Napoli
    before = snapshot()
    hr = hr_of(make_user, authorities["napoli"])
    outcome = do_import(roster_csv(person("verdi", "079023")), importer=hr)
    assert [(e.line, e.column) for e in outcome.errors] == [(2, "authority_code")]
    assert snapshot() == before


@pytest.mark.parametrize("importer_role", [Role.ADMIN, None], ids=["admin", "command line"])
@pytest.mark.usefixtures("calabrese")
def test_admins_and_the_command_line_have_no_scope_limit(
    authorities: dict, make_user: Callable[..., User], importer_role: Role | None
) -> None:
    importer = make_user(importer_role) if importer_role else None
    outcome = do_import(roster_csv(attack_row()), importer=importer)
    assert outcome.errors == []
    assert outcome.updated == 1
    member = staff(CF["verdi"])
    assert member.authority_id == authorities["napoli"].id
    assert account(member.user_id).email == "nuova.assunta@comune.napoli.it"


# Escalation to a privileged account -----------------------------------------------------------


@pytest.fixture
def admin_without_password(runner: FlaskCliRunner, authorities: dict) -> User:
    """An administrator made as the README says, ``lms users create --role admin``."""
    del authorities
    result = runner.invoke(
        args=["users", "create", "--email", "boss@example.it", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    _db.session.expire_all()
    admin = _db.session.scalar(select(User).where(User.email == "boss@example.it"))
    assert admin.role is Role.ADMIN
    assert admin.password_hash is None
    return admin


def test_hr_cannot_bind_a_staff_record_to_an_admin_through_the_upload_page(
    client: FlaskClient, login_as: Callable, authorities: dict, admin_without_password: User
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"]])
    page = upload(client, roster_csv(person("verdi", email="Boss@Example.it"), person("bruno")))
    assert listed_errors(page) == ["riga 2, email: boss@example.it è già usato da un altro account"]
    assert "Conferma l'importazione" not in page
    assert "amministrat" not in page.lower().split('id="import-errors"')[1].split("</ul>")[0]
    assert count(StaffMember) == 0
    # No staff record has the account, so no links download can reach it.
    assert staff_of(admin_without_password) is None
    admin = account(admin_without_password.id)
    assert (admin.role, admin.password_hash, admin.active) == (Role.ADMIN, None, True)


def test_an_admin_account_made_after_the_preview_is_refused_on_confirm(
    client: FlaskClient, login_as: Callable, authorities: dict, runner: FlaskCliRunner
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"]])
    page = upload(client, roster_csv(person("verdi", email="boss@example.it")))
    assert "Conferma l'importazione" in page
    result = runner.invoke(
        args=["users", "create", "--email", "boss@example.it", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    response = confirm_response(client, page)
    assert response.status_code == 200
    assert listed_errors(response.get_data(as_text=True)) == [
        "riga 2, email: boss@example.it è già usato da un altro account"
    ]
    assert count(StaffMember) == 0
    admin = _db.session.scalar(select(User).where(User.email == "boss@example.it"))
    assert staff_of(admin) is None


@pytest.mark.parametrize("role", [Role.TRAINER, Role.HR, Role.ADMIN])
def test_plan_refuses_the_email_of_a_privileged_account_for_new_and_known_people(
    authorities: dict, make_user: Callable[..., User], role: Role
) -> None:
    hr = hr_of(make_user, authorities["napoli"])
    privileged = make_user(role, email="capo@example.it", password_hash=None)
    assert do_import(roster_csv(person("bruno"))).errors == []
    before = snapshot()
    error = "line {}, email: capo@example.it is already used by another account"
    # A new person, then a known one whose e-mail would become the account's.
    for rows, line in (
        ((person("verdi", email="capo@example.it"),), 2),
        ((person("verdi"), person("bruno", email="capo@example.it")), 3),
    ):
        plan = plan_of(roster_csv(*rows), hr)
        assert in_english(plan.errors) == [error.format(line)]
        assert role.value not in in_english(plan.errors)[0]
        outcome = do_import(roster_csv(*rows), importer=hr)
        assert in_english(outcome.errors) == [error.format(line)]
        assert snapshot() == before
    assert staff_of(privileged) is None
    assert account(privileged.id).role is role


@pytest.mark.usefixtures("authorities")
def test_the_email_of_a_learner_bound_to_another_record_is_an_error() -> None:
    # Bruno's account has an e-mail his staff record no longer has (set by hand).
    assert do_import(roster_csv(person("bruno"))).errors == []
    bruno = staff(CF["bruno"])
    account(bruno.user_id).email = "carla@example.it"
    _db.session.commit()
    before = snapshot()
    outcome = do_import(roster_csv(person("verdi", email="carla@example.it")))
    assert in_english(outcome.errors) == [
        "line 2, email: carla@example.it is another person's account"
    ]
    assert snapshot() == before


# Below the plan: defence in depth -------------------------------------------------------------


def new_values(key: str, email: str, authority: Authority) -> dict:
    """What a plan would hold for a new person *key* of :data:`CF`."""
    return {
        "codice_fiscale": CF[key],
        "first_name": "Nome",
        "last_name": key.capitalize(),
        "email": email,
        "authority_id": authority.id,
        "category": StaffCategory.EXISTING,
        "profile": None,
        "hired_on": None,
        "left_on": None,
    }


@pytest.mark.parametrize("role", [Role.TRAINER, Role.HR, Role.ADMIN])
def test_add_staff_outside_a_plan_never_binds_a_privileged_account(
    authorities: dict, make_user: Callable[..., User], role: Role
) -> None:
    privileged = make_user(role, email="capo@example.it", password_hash=None)
    values = new_values("verdi", "capo@example.it", authorities["napoli"])
    ids, created, _inactive = _add_staff([values], utcnow())
    assert created == 0
    assert len(ids) == 1
    assert staff(CF["verdi"]).user_id is None  # left without an account, not given that one
    assert staff_of(privileged) is None


def test_add_staff_outside_a_plan_never_takes_a_learner_account_of_another_record(
    authorities: dict,
) -> None:
    assert do_import(roster_csv(person("bruno"))).errors == []
    bruno = staff(CF["bruno"])
    account(bruno.user_id).email = "carla@example.it"
    _db.session.commit()
    _add_staff([new_values("verdi", "carla@example.it", authorities["napoli"])], utcnow())
    assert staff(CF["verdi"]).user_id is None
    assert staff(CF["bruno"]).user_id == bruno.user_id


def test_apply_import_of_a_hand_made_plan_never_binds_an_admin(
    authorities: dict, admin_without_password: User
) -> None:
    plan = ImportPlan(new=[new_values("verdi", "boss@example.it", authorities["napoli"])])
    result = apply_import(plan)
    _db.session.commit()
    assert (result.added, result.accounts_created) == (1, 0)
    assert staff_of(admin_without_password) is None
    assert count(User) == 1  # the admin only: no second account with the same e-mail


@pytest.mark.parametrize("role", [Role.TRAINER, Role.HR, Role.ADMIN])
def test_create_accounts_never_links_a_privileged_account(
    authorities: dict, make_user: Callable[..., User], role: Role
) -> None:
    privileged = make_user(role, email="capo@example.it", password_hash=None)
    # A record written by something other than an import, with the account's e-mail.
    _db.session.add(
        StaffMember(
            codice_fiscale=CF["verdi"],
            first_name="Nome",
            last_name="Verdi",
            email="capo@example.it",
            authority_id=authorities["napoli"].id,
            category=StaffCategory.EXISTING,
        )
    )
    learner_record = StaffMember(
        codice_fiscale=CF["bruno"],
        first_name="Nome",
        last_name="Bruno",
        email="bruno@example.it",
        authority_id=authorities["napoli"].id,
        category=StaffCategory.EXISTING,
    )
    _db.session.add(learner_record)
    _db.session.flush()
    assert _create_accounts(utcnow()) == (1, 0)  # Bruno's; none for the privileged e-mail
    _db.session.commit()
    assert staff(CF["verdi"]).user_id is None
    assert staff_of(privileged) is None
    assert account(staff(CF["bruno"]).user_id).role is Role.LEARNER


def test_sync_account_status_touches_only_learner_accounts(
    authorities: dict, make_user: Callable[..., User]
) -> None:
    # A record tied to an HR account before the ownership rules existed.
    hr = make_user(Role.HR, email="hr@example.it", scope=[authorities["napoli"]])
    record = StaffMember(
        codice_fiscale=CF["verdi"],
        first_name="Altro",
        last_name="Nome",
        email="diverso@example.it",
        authority_id=authorities["napoli"].id,
        category=StaffCategory.EXISTING,
        left_on=today_in_italy() - timedelta(days=3),
        user_id=hr.id,
    )
    _db.session.add(record)
    _db.session.commit()
    before = account(hr.id)
    state = (before.email, before.first_name, before.last_name, before.active)
    version = before.session_version
    assert _sync_account_status(utcnow(), [record.id], [record.id]) == (0, 0)
    _db.session.commit()
    after = account(hr.id)
    assert (after.email, after.first_name, after.last_name, after.active) == state
    assert after.session_version == version


def test_an_update_never_changes_the_email_of_a_privileged_account(
    authorities: dict, make_user: Callable[..., User]
) -> None:
    # An in-scope person whose record, for whatever reason, has an HR account.
    hr = make_user(Role.HR, email="hr@example.it", scope=[authorities["napoli"]])
    _db.session.add(
        StaffMember(
            codice_fiscale=CF["verdi"],
            first_name="Nome",
            last_name="Verdi",
            email="verdi@example.it",
            authority_id=authorities["napoli"].id,
            category=StaffCategory.EXISTING,
            user_id=hr.id,
        )
    )
    _db.session.commit()
    importer = hr_of(make_user, authorities["napoli"])
    row = person("verdi", first="Giuseppe", email="g.verdi@example.it")
    outcome = do_import(roster_csv(row), importer=importer)
    assert outcome.errors == []
    assert outcome.updated == 1
    assert staff(CF["verdi"]).email == "g.verdi@example.it"  # the record follows the roster
    after = account(hr.id)
    assert (after.email, after.first_name, after.role) == ("hr@example.it", "Maria", Role.HR)


# The demo -------------------------------------------------------------------------------------


@pytest.fixture
def demo_register(make_region: Callable, make_authority: Callable) -> None:
    """The demo's authorities: Napoli, and Catanzaro, Cosenza, Reggio Calabria."""
    make_region("18")
    make_authority(istat_code="063049", name="Napoli", region_code="15")
    for code in ("079023", "078045", "080063"):
        make_authority(istat_code=code, region_code="18")
    _db.session.commit()


def non_learner_demo_emails() -> set[str]:
    return {demo.email for demo in DEMO_USERS if demo.role != "learner"}


def test_no_demo_staff_email_is_a_privileged_demo_account() -> None:
    emails = {
        demo_staff_email(line, first, last)
        for line, (first, last, *_rest) in enumerate(DEMO_STAFF, start=2)
    }
    assert len(emails) == len(DEMO_STAFF)
    assert not emails & non_learner_demo_emails()


@pytest.mark.usefixtures("demo_register")
def test_the_demo_binds_no_privileged_account_to_a_staff_record() -> None:
    load_demo()
    assert load_demo_staff() == len(DEMO_STAFF)
    _db.session.commit()
    bound = _db.session.execute(
        select(User.email, User.role).join(StaffMember, StaffMember.user_id == User.id)
    ).all()
    assert len(bound) == len(DEMO_STAFF)
    assert {role for _email, role in bound} == {Role.LEARNER}
    for email in non_learner_demo_emails():
        user = _db.session.scalar(select(User).where(User.email == email))
        assert user.role is not Role.LEARNER
        assert staff_of(user) is None, email
    learner = _db.session.scalar(select(User).where(User.email == "discente@demo.example"))
    assert staff_of(learner).first_name == "Giulia"


@pytest.mark.usefixtures("demo_register")
def test_the_demo_refuses_to_bind_an_admin_made_with_a_demo_staff_email(
    runner: FlaskCliRunner,
) -> None:
    admin = create_user(email="ciro.russo@demo.example", role="admin")
    _db.session.commit()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "ciro.russo@demo.example is already used by another account" in result.output
    assert staff_of(admin) is None
    assert account(admin.id).role is Role.ADMIN


@pytest.mark.usefixtures("calabrese")
def test_run_import_passes_the_importers_scope_to_the_plan(
    authorities: dict, make_user: Callable[..., User]
) -> None:
    # The same scope for the rows' codes and the people's authorities (no second lookup).
    hr = hr_of(make_user, authorities["napoli"])
    outcome = run_import(roster_csv(attack_row()), "r.csv", importer=hr, apply=False)
    assert outcome.plan is not None
    assert [(e.line, e.column) for e in outcome.plan.errors] == [(2, "codice_fiscale")]
    _db.session.rollback()
