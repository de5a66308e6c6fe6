"""``lms users create``: accounts from the command line."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from lms.auth import passwords
from lms.auth.models import PasswordToken, Role, User
from lms.auth.passwords import verify_password

PASSWORD = "Prova-password-9"

#: The hasher the application really uses (argon2-cffi's recommended cost).
REAL_HASHER = passwords._hasher


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Cheap Argon2id for the tests about everything but the hash's cost."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def create(runner, *args: str):
    return runner.invoke(args=["users", "create", *args])


def user_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def get_user(db, email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def assert_one_error_line(result, *fragments: str) -> None:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_create_learner_with_password(runner, db, monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", REAL_HASHER)
    result = create(
        runner,
        "--email",
        "  Mario.Rossi@Example.ORG ",
        "--role",
        "learner",
        "--password",
        PASSWORD,
        "--first-name",
        "Mario",
        "--last-name",
        "Rossi",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created learner mario.rossi@example.org"
    user = get_user(db, "mario.rossi@example.org")
    assert user is not None
    assert user.role is Role.LEARNER
    assert (user.first_name, user.last_name) == ("Mario", "Rossi")
    assert user.password_hash.startswith("$argon2id$")
    assert not REAL_HASHER.check_needs_rehash(user.password_hash)  # today's full cost
    assert verify_password(user.password_hash, PASSWORD)
    assert user.active
    assert user.scopes == []
    assert db.session.scalar(select(func.count()).select_from(PasswordToken)) == 0


@pytest.mark.parametrize("role", ["trainer", "admin", "ADMIN"])
def test_create_other_roles(runner, db, role):
    result = create(runner, "--email", "x@example.org", "--role", role, "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert get_user(db, "x@example.org").role is Role(role.lower())


def test_create_without_password_prints_a_working_one_time_link(runner, db, client):
    result = create(runner, "--email", "nuovo@example.org", "--role", "learner")
    assert result.exit_code == 0, result.output
    match = re.search(
        r"^one-time link: http://localhost(/password/[\w-]+)$", result.stdout, re.MULTILINE
    )
    assert match, result.stdout
    user = get_user(db, "nuovo@example.org")
    assert user.password_hash is None
    assert client.get(match.group(1)).status_code == 200
    assert client.get("/password/not-the-token").status_code == 404


def test_unknown_role(runner, db):
    result = create(runner, "--email", "x@example.org", "--role", "boss", "--password", PASSWORD)
    assert_one_error_line(result, "boss", "learner", "trainer", "hr", "admin")
    assert user_count(db) == 0


@pytest.fixture
def calabria(db, make_region):
    region = make_region("18")
    db.session.commit()  # the command rolls back on error
    return region


@pytest.fixture
def napoli(db, make_authority):
    authority = make_authority(istat_code="063049", name="Napoli", ipa_code="c_f839")
    db.session.commit()
    return authority


@pytest.mark.usefixtures("napoli")
def test_hr_with_unknown_authority(runner, db):
    result = create(
        runner, "--email", "hr@example.org", "--role", "hr", "--scope-authority", "999999"
    )
    assert_one_error_line(result, "999999")
    assert user_count(db) == 0


@pytest.mark.usefixtures("napoli")
def test_hr_with_unknown_region(runner, db):
    result = create(
        runner,
        "--email",
        "hr@example.org",
        "--role",
        "hr",
        "--scope-authority",
        "063049",
        "--scope-region",
        "21",
    )
    assert_one_error_line(result, "21")
    assert user_count(db) == 0


def test_hr_without_scope(runner, db):
    result = create(runner, "--email", "hr@example.org", "--role", "hr", "--password", PASSWORD)
    assert_one_error_line(result, "--scope-authority", "--scope-region")
    assert user_count(db) == 0


@pytest.mark.parametrize("role", ["learner", "trainer", "admin"])
@pytest.mark.usefixtures("calabria")
def test_only_hr_has_a_scope(runner, db, role):
    result = create(runner, "--email", "x@example.org", "--role", role, "--scope-region", "18")
    assert_one_error_line(result, "hr")
    assert user_count(db) == 0


@pytest.mark.usefixtures("napoli", "calabria")
def test_hr_with_region_and_authority_scopes(runner, db):
    result = create(
        runner,
        "--email",
        "hr@example.org",
        "--role",
        "hr",
        "--scope-region",
        "18",
        "--scope-authority",
        "063049",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    user = get_user(db, "hr@example.org")
    assert user.role is Role.HR
    assert {s.region.code for s in user.scopes if s.region} == {"18"}
    assert {s.authority.code for s in user.scopes if s.authority} == {"063049"}
    assert len(user.scopes) == 2


@pytest.mark.usefixtures("napoli")
def test_hr_scope_by_ipa_code_and_short_region_code(runner, db, make_region):
    make_region("01")
    db.session.commit()
    result = create(
        runner,
        "--email",
        "hr@example.org",
        "--role",
        "hr",
        "--scope-authority",
        "C_F839",
        "--scope-region",
        "1",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    user = get_user(db, "hr@example.org")
    assert {s.authority.code for s in user.scopes if s.authority} == {"063049"}
    assert {s.region.code for s in user.scopes if s.region} == {"01"}


def test_duplicate_email_is_refused_whatever_the_case(runner, db):
    first = create(
        runner, "--email", "anna@example.org", "--role", "learner", "--password", PASSWORD
    )
    assert first.exit_code == 0, first.output
    second = create(
        runner, "--email", "Anna@Example.org", "--role", "trainer", "--password", PASSWORD
    )
    assert_one_error_line(second, "anna@example.org", "already exists")
    assert user_count(db) == 1
    assert get_user(db, "anna@example.org").role is Role.LEARNER


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "mario rossi@example.org", ""])
def test_invalid_email(runner, db, email):
    result = create(runner, "--email", email, "--role", "learner", "--password", PASSWORD)
    assert_one_error_line(result, "e-mail")
    assert user_count(db) == 0


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Corta-1", "at least 10 characters"),
        ("solamentelettere", "mix letters"),
        ("12345678901234", "mix letters"),
        ("", "at least 10 characters"),
    ],
)
def test_weak_password(runner, db, password, reason):
    result = create(runner, "--email", "x@example.org", "--role", "learner", "--password", password)
    assert_one_error_line(result, reason)
    assert user_count(db) == 0


@pytest.mark.parametrize(
    "scope_args",
    [
        ("--scope-region", "18", "--scope-region", "18"),
        ("--scope-authority", "063049", "--scope-authority", "C_F839"),  # ISTAT and IPA code
    ],
    ids=["same-region-twice", "same-authority-by-two-codes"],
)
@pytest.mark.usefixtures("napoli", "calabria")
def test_repeated_scope_is_not_a_crash(runner, db, scope_args):
    """The same scope named twice is merged, or refused in one line; never a traceback."""
    result = create(
        runner, "--email", "hr@example.org", "--role", "hr", "--password", PASSWORD, *scope_args
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    if result.exit_code == 0:
        assert len(get_user(db, "hr@example.org").scopes) == 1
    else:
        assert_one_error_line(result)
        assert user_count(db) == 0


def test_the_command_line_keeps_the_last_active_administrator(runner, db, make_user):
    """Neither `deactivate` nor `set-role` removes the last admin; with a second one they do."""
    only = make_user("admin", email="unico.admin@example.org")
    db.session.commit()
    for args in (
        ["users", "deactivate", "--email", only.email],
        ["users", "set-role", "--email", only.email, "--role", "trainer"],
    ):
        result = runner.invoke(args=args)
        assert_one_error_line(result, "the last active administrator")
    db.session.expire_all()
    kept = get_user(db, "unico.admin@example.org")
    assert kept is not None
    assert (kept.role, kept.active) == (Role.ADMIN, True)

    make_user("admin", email="seconda.admin@example.org")
    db.session.commit()
    result = runner.invoke(args=["users", "set-role", "--email", only.email, "--role", "trainer"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "deactivate", "--email", "seconda.admin@example.org"])
    assert_one_error_line(result, "the last active administrator")
