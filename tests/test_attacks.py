"""Attacks on the recent changes, as a hostile HR manager, a hostile learner and a stranger.

The HR manager is the Comune di Napoli's (063049, Campania); the person aimed at
is on the staff of the Comune di Catanzaro (079023, Calabria). Each test's
docstring says what the secure behaviour is. The tests that fail on the code
they were written against are the holes found by the security review; the
others pin attacks that are defended, as regression tests.

Areas: the roster import's ownership rules (codice fiscale and e-mail variants,
two rows, authority codes, deactivated accounts, upload tokens, replays), the
set-password links (scope, methods, CSRF, the command line, a promotion after
issuing), leavers (links, cookies, the language switch, writes from an open
session), the audit log (filters, downloads, pages, dates, mixed entries,
personal data), the one-transaction request, redirects after sign-in, NUL bytes
and LIKE wildcards.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import openpyxl
import pytest
from codicefiscale import codicefiscale as cf_library
from conftest import _TEST_PASSWORD_HASH, csrf_token, login, open_session_cookie_id
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_login.utils import encode_cookie
from sqlalchemy import func, select
from test_staff_import import CF, do_import, person, roster_csv, snapshot, staff
from test_staff_pages import confirm_response, listed_errors, make_course, upload

import lms
from lms.audit import Action, AuditEntry, record
from lms.auth.models import PasswordToken, Role, User
from lms.auth.operations import deactivate_user, issue_password_token
from lms.core.types import today_in_italy
from lms.courses.models import ModuleProgress
from lms.enrolments.models import PendingUpload
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

DAY = timedelta(days=1)

#: The Calabrian person the HR manager of Napoli aims at.
VICTIM_CF = CF["verdi"]
VICTIM_EMAIL = "rosaria.calabrese@comune.catanzaro.it"
#: What of her must never show to the HR manager of Napoli.
VICTIM_SHOWN = ("Rosaria", "Calabrese", "rosaria.calabrese@", "079023", "Catanzaro")
TAKE_OVER = f"{VICTIM_CF} è gestito da un altro ente"


# Fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    """Comune di Napoli (ISTAT 063049, IPA c_f839), Campania."""
    return make_authority(
        "063049", istat_code="063049", ipa_code="c_f839", region_code="15", name="Comune di Napoli"
    )


@pytest.fixture
def catanzaro(make_authority: Callable[..., Authority]) -> Authority:
    """Comune di Catanzaro (ISTAT 079023, IPA c_c352), Calabria."""
    return make_authority(
        "079023",
        istat_code="079023",
        ipa_code="c_c352",
        region_code="18",
        name="Comune di Catanzaro",
    )


@pytest.fixture
def areas(napoli: Authority, catanzaro: Authority) -> dict[str, Authority]:
    """Both authorities, committed (web requests see them)."""
    _db.session.commit()
    return {"napoli": napoli, "catanzaro": catanzaro}


@pytest.fixture
def victim(areas: dict) -> StaffMember:
    """Rosaria Calabrese on Catanzaro's staff, with a learner account, imported by the CLI."""
    del areas
    row = person("verdi", "079023", first="Rosaria", last="Calabrese", email=VICTIM_EMAIL)
    assert do_import(roster_csv(row)).errors == []
    member = staff(VICTIM_CF)
    assert member.user_id is not None
    return member


def fresh(model: type, object_id: int) -> object:
    """Row *object_id* of *model*, read again from the database."""
    _db.session.expire_all()
    return _db.session.get(model, object_id)


def count(model: type) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def staff_with_account(
    authority: Authority,
    cf: str,
    *,
    email: str | None = None,
    role: Role = Role.LEARNER,
    left_on: date | None = None,
    with_password: bool = False,
    active: bool = True,
) -> tuple[User, StaffMember]:
    """A staff record of *authority* bound to an account of *role*, committed."""
    email = email or f"{cf.lower()}@example.it"
    user = User(
        email=email,
        role=role,
        first_name="Anna",
        last_name="Verdi",
        active=active,
        password_hash=_TEST_PASSWORD_HASH if with_password else None,
    )
    _db.session.add(user)
    _db.session.flush()
    member = StaffMember(
        codice_fiscale=cf,
        first_name="Anna",
        last_name="Verdi",
        email=email,
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        hired_on=date(2020, 1, 1),
        left_on=left_on,
        user_id=user.id,
    )
    _db.session.add(member)
    _db.session.commit()
    return user, member


def tokens_of(user_id: int) -> list[PasswordToken]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(PasswordToken).where(PasswordToken.user_id == user_id)))


def text_of(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))


def hr_of(make_user: Callable[..., User], *scope: object, **kwargs: object) -> User:
    return make_user(Role.HR, scope=list(scope), **kwargs)


def omocodia_variant(cf: str) -> str:
    """*cf* with its last digit written as its omocodia letter, check character recomputed."""
    code = cf[:14] + "LMNPQRSTUV"[int(cf[14])]
    return code + cf_library.encode_cin(code)


def row_of(cf: str, email: str, authority: str = "063049", **kw: str) -> str:
    """A roster row (the HEADER of test_staff_import) for *cf*."""
    return ",".join(
        [
            cf,
            kw.get("first", "Mario"),
            kw.get("last", "Rossi"),
            email,
            authority,
            "existing",
            "",
            "",
            kw.get("left_on", ""),
        ]
    )


def assert_nothing_of_the_victim(page: str) -> None:
    for shown in VICTIM_SHOWN:
        assert shown not in page, shown


# Import: taking over a person of another area by codice fiscale ---------------------------


@pytest.mark.usefixtures("victim")
@pytest.mark.parametrize(
    "written",
    [VICTIM_CF.lower(), f"  {VICTIM_CF}  ", VICTIM_CF[:8] + VICTIM_CF[8:].lower()],
    ids=["lower case", "surrounding spaces", "mixed case"],
)
def test_a_codice_fiscale_of_another_area_in_another_case_or_padded_is_refused(
    client: FlaskClient, login_as: Callable, areas: dict, written: str
) -> None:
    """Case and surrounding spaces do not make a codice fiscale someone new.

    Secure: the row is refused as "managed by another authority", the page shows
    nothing of her, and nothing of hers changes.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    before = snapshot()
    page = html.unescape(upload(client, roster_csv(row_of(written, "nuovo@comune.napoli.it"))))
    assert listed_errors(page) == [f"riga 2, codice_fiscale: {TAKE_OVER}"]
    assert "Conferma l'importazione" not in page
    assert_nothing_of_the_victim(page)
    assert snapshot() == before
    assert count(PendingUpload) == 0


@pytest.mark.usefixtures("victim")
def test_a_codice_fiscale_with_spaces_inside_is_refused_not_read_as_another(
    client: FlaskClient, login_as: Callable, areas: dict
) -> None:
    """Spaces inside a codice fiscale are an error of the row, never a new person."""
    login_as(Role.HR, scope=[areas["napoli"]])
    before = snapshot()
    spaced = " ".join([VICTIM_CF[:6], VICTIM_CF[6:11], VICTIM_CF[11:]])
    page = html.unescape(upload(client, roster_csv(row_of(spaced, "nuovo@comune.napoli.it"))))
    assert listed_errors(page) == ["riga 2, codice_fiscale: va scritto senza spazi"]
    assert_nothing_of_the_victim(page)
    assert snapshot() == before


def test_an_omocodia_variant_of_her_codice_fiscale_cannot_reach_her_record_or_account(
    client: FlaskClient, login_as: Callable, areas: dict, victim: StaffMember
) -> None:
    """An omocodia variant is another code (the register keys people by the code as written).

    Secure: with her e-mail the row is refused (the e-mail is another person's);
    with a new e-mail it can only make a separate record with its own new
    account: her record, her account and her links are never touched.
    """
    variant = omocodia_variant(VICTIM_CF)
    assert variant != VICTIM_CF
    login_as(Role.HR, scope=[areas["napoli"]])
    before = snapshot()
    page = html.unescape(upload(client, roster_csv(row_of(variant, VICTIM_EMAIL.upper()))))
    assert listed_errors(page) == [f"riga 2, email: {VICTIM_EMAIL} appartiene a un'altra persona"]
    assert snapshot() == before

    page = upload(client, roster_csv(row_of(variant, "omocodia@comune.napoli.it")))
    assert confirm_response(client, page).status_code == 200
    after = snapshot()
    assert after[VICTIM_CF] == before[VICTIM_CF]
    assert staff(variant).user_id != victim.user_id
    # The links download of Napoli's HR manager reaches the new account only.
    token = csrf_token(client, "/personale/link")
    response = client.post("/personale/link", data={"csrf_token": token, "format": "csv"})
    assert response.status_code == 200
    assert VICTIM_EMAIL not in response.get_data(as_text=True)
    assert tokens_of(victim.user_id) == []


# Import: taking over by e-mail ---------------------------------------------------------------


@pytest.mark.usefixtures("victim")
@pytest.mark.parametrize(
    "written",
    [
        VICTIM_EMAIL.upper(),
        "Rosaria.Calabrese@Comune.Catanzaro.It",
        "rosaria.calabrese@ｃomune.catanzaro.it",  # a full-width c: IDNA maps it to "c"
        f"  {VICTIM_EMAIL} ",
    ],
    ids=["upper case", "mixed case", "full-width letter", "padded"],
)
def test_her_e_mail_written_differently_is_still_hers(
    client: FlaskClient, login_as: Callable, areas: dict, written: str
) -> None:
    """An e-mail is compared in its normalised form: another spelling of hers is hers.

    Secure: the row of a new person with her address is refused; her account is
    not bound to Napoli's record, nor renamed.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    before = snapshot()
    page = html.unescape(upload(client, roster_csv(row_of(CF["bruno"], written))))
    assert listed_errors(page) == [f"riga 2, email: {VICTIM_EMAIL} appartiene a un'altra persona"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("lookalike", "refused"),
    [
        ("rosaria.calabrese@comune.cаtanzaro.it", False),  # a Cyrillic а in the domain
        ("rosаria.calabrese@comune.catanzaro.it", True),  # a Cyrillic а before the @
    ],
    ids=["cyrillic domain", "cyrillic local part"],
)
def test_a_lookalike_of_her_e_mail_never_reaches_her_account(
    client: FlaskClient,
    login_as: Callable,
    areas: dict,
    victim: StaffMember,
    lookalike: str,
    *,
    refused: bool,
) -> None:
    """A lookalike address is another mailbox: at most a new account, never hers.

    Secure: a non-ASCII local part is refused; a lookalike domain makes a new,
    separate account; her account keeps its e-mail, name and state.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    before = snapshot()
    page = html.unescape(upload(client, roster_csv(row_of(CF["bruno"], lookalike))))
    if refused:
        (error,) = listed_errors(page)
        assert error.startswith("riga 2, email: ")
    else:
        assert confirm_response(client, page).status_code == 200
        assert staff(CF["bruno"]).user_id not in {None, victim.user_id}
    assert snapshot()[VICTIM_CF] == before[VICTIM_CF]


@pytest.mark.usefixtures("victim")
def test_two_rows_one_in_scope_one_taking_her_over_write_nothing(
    client: FlaskClient, login_as: Callable, areas: dict
) -> None:
    """A file is all or nothing: a harmless row does not carry a take-over through.

    Row 2 is a Napoli newcomer, row 3 gives a known Napoli employee her e-mail,
    row 4 names her codice fiscale. Secure: rows 3 and 4 are errors and nothing
    of the file is written.
    """
    _user, colleague = staff_with_account(areas["napoli"], CF["gallo"])
    login_as(Role.HR, scope=[areas["napoli"]])
    before = snapshot()
    rows = (
        row_of(CF["bruno"], "bruno@comune.napoli.it"),
        row_of(CF["gallo"], VICTIM_EMAIL),
        row_of(VICTIM_CF, "nuova@comune.napoli.it"),
    )
    page = html.unescape(upload(client, roster_csv(*rows)))
    assert listed_errors(page) == [
        f"riga 3, email: {VICTIM_EMAIL} appartiene a un'altra persona",
        f"riga 4, codice_fiscale: {TAKE_OVER}",
    ]
    assert "Conferma l'importazione" not in page
    assert snapshot() == before
    assert staff(CF["gallo"]).email == colleague.email


@pytest.mark.parametrize(
    "code",
    ["079023", "79023", "c_c352", "C_C352", " 079023 "],
    ids=["code", "zeros dropped", "ipa", "ipa upper case", "padded"],
)
def test_catanzaro_named_by_any_of_its_codes_is_outside_napoli_s_scope(
    client: FlaskClient, login_as: Callable, areas: dict, code: str
) -> None:
    """Every way of naming an authority (code, ISTAT code, IPA code, any case) is scope-checked.

    Secure: a row for an authority outside the importer's scope is an error, and
    nothing is written.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    page = html.unescape(upload(client, roster_csv(row_of(CF["bruno"], "b@example.it", code))))
    errors = listed_errors(page)
    assert len(errors) == 1
    assert errors[0].startswith("riga 2, authority_code: ")
    assert count(StaffMember) == 0


def test_the_e_mail_of_a_deactivated_learner_of_another_area_is_refused(
    client: FlaskClient, login_as: Callable, areas: dict, victim: StaffMember
) -> None:
    """A deactivated account is still someone's: its e-mail binds nothing.

    Secure: the row is refused; the account stays inactive, unbound to Napoli.
    """
    assert deactivate_user(fresh(User, victim.user_id))
    _db.session.commit()
    login_as(Role.HR, scope=[areas["napoli"]])
    before = snapshot()
    page = html.unescape(upload(client, roster_csv(row_of(CF["bruno"], VICTIM_EMAIL))))
    assert listed_errors(page) == [f"riga 2, email: {VICTIM_EMAIL} appartiene a un'altra persona"]
    assert snapshot() == before
    assert fresh(User, victim.user_id).active is False


# Import: switching accounts on and off outside the file ------------------------------------


def test_an_import_does_not_reactivate_an_account_deactivated_in_another_area(
    areas: dict, victim: StaffMember, make_user: Callable[..., User]
) -> None:
    """An HR manager's import changes only the accounts of the people in the file.

    An administrator deactivated Rosaria's account (Catanzaro, still employed:
    a compromised account, a suspension). Napoli's HR manager then imports a
    file that names only a Napoli newcomer.

    Secure: her account stays deactivated (an import may switch on again only
    the accounts of the file's people who come back on the staff, and an
    administrator's deactivation is not undone by a roster that does not even
    name the person).
    """
    assert deactivate_user(fresh(User, victim.user_id))
    _db.session.commit()
    hr = hr_of(make_user, areas["napoli"])
    outcome = do_import(roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it")), importer=hr)
    assert outcome.errors == []
    assert fresh(User, victim.user_id).active is False


def test_a_re_import_does_not_undo_an_administrator_s_deactivation(
    areas: dict, make_user: Callable[..., User]
) -> None:
    """Importing the same roster again leaves a deactivated account deactivated.

    The administrator deactivated a Napoli learner who is still on the staff;
    Napoli's HR manager uploads the roster again, unchanged for that person.
    Secure: the account stays off (only someone *coming back* on the staff,
    ``left_on`` cleared or moved ahead, gets their account back, and that is audited).
    """
    hr = hr_of(make_user, areas["napoli"])
    roster = roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it"))
    assert do_import(roster, importer=hr).errors == []
    user_id = staff(CF["bruno"]).user_id
    assert deactivate_user(fresh(User, user_id))
    _db.session.commit()
    outcome = do_import(roster, importer=hr)
    assert outcome.errors == []
    assert outcome.unchanged == 1
    assert fresh(User, user_id).active is False


def test_binding_an_account_an_administrator_switched_off_does_not_switch_it_on(
    areas: dict, make_user: Callable[..., User]
) -> None:
    """Claiming a deactivated learner account by its e-mail must not bring it back.

    An administrator deactivated a learner account that has no staff record
    (created with ``lms users create --role learner``, password set). Napoli's HR
    manager imports a newcomer with that account's e-mail: rule 4 binds it.
    Secure: the account stays deactivated (or the row is refused); an HR
    manager's roster never undoes an administrator's deactivation.
    """
    lone = make_user(Role.LEARNER, email="esterno@example.it")
    assert deactivate_user(fresh(User, lone.id))
    _db.session.commit()
    hr = hr_of(make_user, areas["napoli"])
    outcome = do_import(roster_csv(row_of(CF["bruno"], "esterno@example.it")), importer=hr)
    if not outcome.errors:
        assert staff(CF["bruno"]).user_id == lone.id
    assert fresh(User, lone.id).active is False


# Import: upload tokens, replays, scope changes ------------------------------------------------


def test_an_upload_token_of_another_hr_manager_cannot_be_confirmed(
    web_app: Flask, areas: dict, make_user: Callable[..., User]
) -> None:
    """The confirmation is bound to the uploader's own session and account.

    HR manager A (Napoli) previews a file; HR manager B (also Napoli) steals the
    token from A's page and posts it with B's own form. Secure: nothing is
    imported, and A can still confirm A's file.
    """
    owner, thief = web_app.test_client(), web_app.test_client()
    login(owner, hr_of(make_user, areas["napoli"]).email)
    login(thief, hr_of(make_user, areas["napoli"]).email)
    page = upload(owner, roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it")))
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    response = thief.post(
        "/personale/importa/conferma",
        data={"csrf_token": csrf_token(thief, "/personale/importa"), "token": token},
    )
    assert response.status_code == 302
    assert "non è più disponibile" in text_of(thief.get(response.location))
    assert count(StaffMember) == 0
    assert confirm_response(owner, page).status_code == 200
    assert count(StaffMember) == 1


def test_a_confirmation_replayed_with_an_old_cookie_applies_nothing_twice(
    client: FlaskClient, login_as: Callable, areas: dict
) -> None:
    """Confirming twice (the same form, even with the session cookie of before) imports once.

    Secure: the second confirmation finds the upload gone and writes nothing,
    not even a second audit entry.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    page = upload(client, roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it")))
    old_cookie = client.get_cookie("lms_session").value
    assert confirm_response(client, page).status_code == 200
    assert count(StaffMember) == 1
    client.set_cookie("lms_session", old_cookie)  # the session as it was before confirming
    response = confirm_response(client, page)
    assert response.status_code == 302
    assert count(StaffMember) == 1
    _db.session.expire_all()
    imports = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == Action.STAFF_IMPORT.value)
    ).all()
    assert len(imports) == 1


def test_a_scope_taken_away_between_preview_and_confirmation_is_enforced(
    client: FlaskClient, login_as: Callable, areas: dict
) -> None:
    """The confirmation checks the importer's scope as it is then, not as it was.

    Secure: once the administrator has moved the HR manager to Catanzaro, the
    Napoli file previewed before is refused on confirmation, nothing written.
    """
    hr = login_as(Role.HR, scope=[areas["napoli"]])
    page = upload(client, roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it")))
    assert "Conferma l'importazione" in page
    manager = fresh(User, hr.id)
    manager.scopes[0].authority_id = areas["catanzaro"].id
    _db.session.commit()
    response = confirm_response(client, page)
    assert response.status_code == 200
    errors = listed_errors(html.unescape(response.get_data(as_text=True)))
    assert len(errors) == 1
    assert errors[0].startswith("riga 2, authority_code: 063049 non è tra gli enti")
    assert count(StaffMember) == 0


def test_an_hr_manager_made_a_learner_cannot_confirm_an_earlier_preview(
    client: FlaskClient, login_as: Callable, areas: dict
) -> None:
    """Losing the role ends the power to confirm: a 403, nothing written."""
    hr = login_as(Role.HR, scope=[areas["napoli"]])
    page = upload(client, roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it")))
    manager = fresh(User, hr.id)
    manager.role = Role.LEARNER
    manager.scopes = []
    _db.session.commit()
    assert confirm_response(client, page).status_code == 403
    assert count(StaffMember) == 0


# Set-password links ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "promotion",
    [["--role", "admin"], ["--role", "hr", "--scope-region", "15"], ["--role", "trainer"]],
    ids=["admin", "regional hr", "trainer"],
)
def test_a_link_issued_for_a_learner_dies_when_the_account_is_promoted(
    client: FlaskClient,
    login_as: Callable,
    areas: dict,
    runner: FlaskCliRunner,
    promotion: list[str],
) -> None:
    """A set-password link handed out under the learner rule must not survive a promotion.

    Napoli's HR manager downloads the links (Anna Bruno, a learner without a
    password, is waiting). Within the link's 72 hours an administrator makes
    her an administrator (or a regional HR manager, or a trainer) with
    ``lms users set-role``; she has not used her link yet. The HR manager keeps
    the download. Secure: the link no longer works once the account is not a
    learner's (the rule of :mod:`lms.enrolments.links`: an HR manager must never
    hold a link that sets the password of a privileged account), so the HR
    manager cannot set her password and sign in with her new role.
    """
    learner, _member = staff_with_account(areas["napoli"], CF["bruno"])
    login_as(Role.HR, scope=[areas["napoli"]])
    token = csrf_token(client, "/personale/link")
    response = client.post("/personale/link", data={"csrf_token": token, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    link = urlsplit(rows[1][5]).path
    result = runner.invoke(args=["users", "set-role", "--email", learner.email, *promotion])
    assert result.exit_code == 0, result.output
    assert fresh(User, learner.id).role is not Role.LEARNER
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    if client.get(link).status_code == 200:
        form = csrf_token(client, link)
        client.post(
            link,
            data={
                "csrf_token": form,
                "password": "Nuova-password-9",
                "confirm": "Nuova-password-9",
            },
        )
    assert fresh(User, learner.id).password_hash is None
    assert login(client, learner.email, "Nuova-password-9").status_code != 302


def test_a_head_request_to_the_links_page_issues_nothing(
    client: FlaskClient, login_as: Callable, areas: dict
) -> None:
    """HEAD runs the GET view: it may count, never issue (issuing cancels earlier links)."""
    learner, _member = staff_with_account(areas["napoli"], CF["bruno"])
    login_as(Role.HR, scope=[areas["napoli"]])
    assert client.head("/personale/link").status_code == 200
    assert client.head("/personale/link", query_string={"format": "csv"}).status_code == 200
    assert tokens_of(learner.id) == []


def test_a_cross_site_post_with_the_attacker_s_own_form_token_issues_nothing(
    web_app: Flask, areas: dict, make_user: Callable[..., User]
) -> None:
    """A CSRF token belongs to its session: another account's valid token is refused.

    A hostile HR manager of Catanzaro makes Napoli's HR manager's browser post
    the links form with a token from the attacker's own session. Secure: 400,
    no link issued (Napoli's people keep their earlier links).
    """
    learner, _member = staff_with_account(areas["napoli"], CF["bruno"])
    attacker, target = web_app.test_client(), web_app.test_client()
    login(attacker, hr_of(make_user, areas["catanzaro"]).email)
    login(target, hr_of(make_user, areas["napoli"]).email)
    stolen = csrf_token(attacker, "/personale/link")
    response = target.post("/personale/link", data={"csrf_token": stolen, "format": "csv"})
    assert response.status_code == 400
    assert tokens_of(learner.id) == []


def test_no_link_for_anyone_outside_the_issuer_s_rules_on_the_web(
    client: FlaskClient, login_as: Callable, areas: dict
) -> None:
    """Links only for active learner accounts without a password of staff in scope, employed.

    Secure: none for Catanzaro's learner, a trainer bound to a Napoli record, a
    Napoli learner who leaves today, one already with a password, one deactivated.
    """
    today = today_in_italy()
    napoli, catanzaro = areas["napoli"], areas["catanzaro"]
    waiting, _m = staff_with_account(napoli, CF["bruno"])
    others = [
        staff_with_account(catanzaro, CF["gallo"])[0],
        staff_with_account(napoli, CF["conte"], role=Role.TRAINER)[0],
        staff_with_account(napoli, CF["rizzo"], left_on=today)[0],
        staff_with_account(napoli, CF["greco"], with_password=True)[0],
        staff_with_account(napoli, VICTIM_CF, active=False)[0],
    ]
    login_as(Role.HR, scope=[napoli])
    token = csrf_token(client, "/personale/link")
    response = client.post("/personale/link", data={"csrf_token": token, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [CF["bruno"]]
    assert len(tokens_of(waiting.id)) == 1
    for user in others:
        assert tokens_of(user.id) == [], user.email


def test_the_command_line_applies_the_same_rules_as_the_web(
    runner: FlaskCliRunner, areas: dict
) -> None:
    """``lms staff send-links`` reaches every area, but only waiting learners in service.

    Secure: no trainer's account, nobody who leaves today, no account with a
    password or deactivated; ``--authority`` keeps to that authority.
    """
    today = today_in_italy()
    napoli, catanzaro = areas["napoli"], areas["catanzaro"]
    staff_with_account(napoli, CF["bruno"])
    staff_with_account(catanzaro, CF["gallo"])
    staff_with_account(napoli, CF["conte"], role=Role.TRAINER)
    staff_with_account(napoli, CF["rizzo"], left_on=today)
    staff_with_account(napoli, CF["greco"], with_password=True)
    staff_with_account(napoli, VICTIM_CF, active=False)
    result = runner.invoke(args=["staff", "send-links", "--print", "--authority", "c_f839"])
    assert result.exit_code == 0, result.output
    assert [line.split(",")[0] for line in result.stdout.splitlines()] == [CF["bruno"]]
    result = runner.invoke(args=["staff", "send-links", "--print"])
    assert result.exit_code == 0, result.output
    assert sorted(line.split(",")[0] for line in result.stdout.splitlines()) == sorted(
        [CF["bruno"], CF["gallo"]]
    )


def test_a_stranger_with_a_valid_form_token_issues_no_link_and_confirms_nothing(
    client: FlaskClient, areas: dict
) -> None:
    """Without a session the links POST and the confirmation go to the sign-in page.

    A stranger takes a form token from the sign-in page (it passes the CSRF
    check). Secure: both are redirected to sign in, nothing issued or written.
    """
    learner, _member = staff_with_account(areas["napoli"], CF["bruno"])
    token = csrf_token(client, "/login")
    for url, data in (
        ("/personale/link", {"format": "csv"}),
        ("/personale/importa/conferma", {"token": "x" * 32}),
    ):
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 302, url
        assert "/login" in response.location
    assert tokens_of(learner.id) == []
    assert count(StaffMember) == 1


# Leavers -------------------------------------------------------------------------------------


def test_a_link_issued_before_leaving_does_not_let_the_leaver_in(
    client: FlaskClient, areas: dict
) -> None:
    """A set-password link still open on the leaving day sets a password, and nothing more.

    Secure: whatever the link does, the leaver cannot sign in with the new password
    (403 with the explanation), and no session is opened.
    """
    today = today_in_italy()
    user, member = staff_with_account(areas["napoli"], CF["bruno"], left_on=today + DAY)
    token = issue_password_token(fresh(User, user.id), hours=72)
    _db.session.commit()
    member = fresh(StaffMember, member.id)
    member.left_on = today
    _db.session.commit()
    url = f"/password/{token}"
    page = client.get(url)
    if page.status_code == 200:
        form = csrf_token(client, url)
        client.post(
            url,
            data={
                "csrf_token": form,
                "password": "Nuova-password-9",
                "confirm": "Nuova-password-9",
            },
        )
    response = login(client, user.email, "Nuova-password-9")
    assert response.status_code in {200, 403}  # refused, with or without the explanation
    assert client.get("/").status_code == 302


def test_the_link_of_an_account_an_import_switched_off_is_dead(
    client: FlaskClient, areas: dict, make_user: Callable[..., User]
) -> None:
    """Someone the roster says has left has an inactive account, and its links are dead.

    Secure: the set-password page is a 404 and a POST to it sets no password.
    """
    today = today_in_italy()
    hr = hr_of(make_user, areas["napoli"])
    assert (
        do_import(roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it")), importer=hr).errors
        == []
    )
    user_id = staff(CF["bruno"]).user_id
    token = issue_password_token(fresh(User, user_id), hours=72)
    _db.session.commit()
    left = row_of(CF["bruno"], "bruno@comune.napoli.it", left_on=(today - DAY).isoformat())
    assert do_import(roster_csv(left), importer=hr).errors == []
    assert fresh(User, user_id).active is False
    url = f"/password/{token}"
    assert client.get(url).status_code == 404
    form = csrf_token(client, "/login")
    response = client.post(
        url,
        data={"csrf_token": form, "password": "Nuova-password-9", "confirm": "Nuova-password-9"},
    )
    assert response.status_code == 404
    assert fresh(User, user_id).password_hash is None


def test_a_remember_cookie_of_a_leaver_signs_nobody_in(web_app: Flask, areas: dict) -> None:
    """A "remember me" cookie goes through the same loader: it ends on the leaving day.

    The same signed cookie opens a session the day before leaving (so the test is
    not empty) and none from the leaving day. Secure: 302 to the sign-in page.
    """
    today = today_in_italy()
    user, member = staff_with_account(
        areas["napoli"], CF["bruno"], left_on=today + DAY, with_password=True
    )
    cookie = encode_cookie(open_session_cookie_id(user))
    before = web_app.test_client()
    before.set_cookie("remember_token", cookie)
    assert before.get("/").status_code == 200
    member = fresh(StaffMember, member.id)
    member.left_on = today
    _db.session.commit()
    after = web_app.test_client()
    after.set_cookie("remember_token", cookie)
    response = after.get("/")
    assert response.status_code == 302
    assert "/login" in response.location


def test_a_leaver_s_language_switch_changes_nothing_of_the_account(
    client: FlaskClient, areas: dict
) -> None:
    """The language switch of a session that has ended writes nothing to the account.

    Secure: the leaver is not signed in again; the account's language stays as it was.
    """
    today = today_in_italy()
    user, member = staff_with_account(areas["napoli"], CF["bruno"], with_password=True)
    assert login(client, user.email).status_code == 302
    token = csrf_token(client, "/")
    member = fresh(StaffMember, member.id)
    member.left_on = today
    _db.session.commit()
    response = client.post("/lingua", data={"csrf_token": token, "lang": "en", "next": "/"})
    assert response.status_code == 302
    assert fresh(User, user.id).locale is None
    assert client.get("/").status_code == 302


def test_a_leaver_s_open_session_cannot_record_progress(client: FlaskClient, areas: dict) -> None:
    """A form loaded before the leaving day, posted on it, does nothing.

    The same session marks the first module as done the day before. Secure: on
    the leaving day the post for the second is sent to the sign-in page, and the
    module is not marked as done.
    """
    today = today_in_italy()
    make_course("fondamenti")
    user, member = staff_with_account(areas["napoli"], CF["bruno"], with_password=True)
    assert login(client, user.email).status_code == 302

    def completed() -> int:
        _db.session.expire_all()
        return len(
            _db.session.scalars(
                select(ModuleProgress).where(
                    ModuleProgress.user_id == user.id, ModuleProgress.completed_at.is_not(None)
                )
            ).all()
        )

    token = csrf_token(client, "/courses/fondamenti/m0/")
    assert (
        client.post("/courses/fondamenti/m0/completa", data={"csrf_token": token}).status_code
        == 302
    )
    assert completed() == 1
    token = csrf_token(client, "/courses/fondamenti/m1/")
    member = fresh(StaffMember, member.id)
    member.left_on = today
    _db.session.commit()
    response = client.post("/courses/fondamenti/m1/completa", data={"csrf_token": token})
    assert response.status_code == 302
    assert "/login" in response.location
    assert completed() == 1


# Audit log ------------------------------------------------------------------------------------


@pytest.fixture
def planted(areas: dict, make_user: Callable[..., User], victim: StaffMember) -> dict:
    """Entries of Catanzaro (by its HR manager, about Rosaria), of Napoli, and of no area."""
    catanzaro_hr = hr_of(make_user, areas["catanzaro"], email="hr@comune.catanzaro.it")
    record(
        Action.ENROLMENT_CREATE,
        actor_id=catanzaro_hr.id,
        objects=[("staff", victim.id), ("user", victim.user_id)],
        authority_ids=[areas["catanzaro"].id],
        region_ids=[areas["catanzaro"].region_id],
        summary={"marker": "marker-catanzaro"},
    )
    record(
        Action.ENROLMENT_CREATE,
        actor_id=None,
        authority_ids=[areas["napoli"].id],
        summary={"marker": "marker-napoli"},
    )
    record(  # no area: administrators only
        Action.USER_ROLE,
        actor_id=None,
        objects=[("user", victim.user_id)],
        summary={"marker": "marker-noarea"},
    )
    _db.session.commit()
    return {**areas, "catanzaro_hr": catanzaro_hr, "victim": victim}


def test_no_filter_or_download_shows_napoli_s_hr_manager_an_entry_of_catanzaro(
    client: FlaskClient, login_as: Callable, planted: dict
) -> None:
    """Filters narrow what the reader may see; none widens it, on the page or in a download.

    Secure: with the actor (account number or e-mail), the object (Rosaria's
    staff record, account, Catanzaro's authority or region) or the authority
    code of Catanzaro, the page and the CSV/XLSX downloads hold no Catanzaro entry
    and not the e-mail of Catanzaro's HR manager.
    """
    login_as(Role.HR, scope=[planted["napoli"]])
    hr, victim = planted["catanzaro_hr"], planted["victim"]
    queries = [
        "",
        f"actor={hr.id}",
        f"actor={hr.email}",
        f"actor={hr.email.upper()}",
        "authority=079023",
        "authority=C_C352",
        f"kind=authority&object={planted['catanzaro'].id}",
        f"kind=region&object={planted['catanzaro'].region_id}",
        f"kind=staff&object={victim.id}",
        f"kind=user&object={victim.user_id}",
        "kind=staff",
        f"action={Action.ENROLMENT_CREATE.value}",
        f"action={Action.USER_ROLE.value}",
    ]
    for query in queries:
        for url in (f"/audit/?{query}", f"/audit/registro.csv?{query}"):
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            assert "marker-catanzaro" not in body, url
            assert "marker-noarea" not in body, url
            if not query:
                assert "marker-napoli" in body, url  # the reader's own area is there
            if hr.email not in query.lower():  # the page repeats the filter as typed
                assert hr.email not in body, url
        response = client.get(f"/audit/registro.xlsx?{query}")
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True).active
        cells = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
        assert "marker-catanzaro" not in cells, query
        assert "marker-noarea" not in cells, query
        if hr.email not in query.lower():  # the file repeats the filter as typed, above
            assert hr.email not in cells, query
    assert client.get("/audit/?page=2").status_code == 404


def test_the_actor_filter_does_not_tell_hr_which_e_mails_have_accounts(
    client: FlaskClient, login_as: Callable, planted: dict
) -> None:
    """An e-mail typed as the actor answers alike whether or not an account has it.

    Secure: for an HR manager the page for Catanzaro's HR manager's address and
    for an address nobody has are the same (nothing found, no warning).
    """
    login_as(Role.HR, scope=[planted["napoli"]])

    def answer(email: str) -> str:
        page = text_of(client.get("/audit/", query_string={"actor": email}))
        page = re.sub(r'name="csrf_token"[^>]*', "", page)  # a new token each second
        return page.replace(email, "X")

    assert "1 attività trovata" in text_of(client.get("/audit/"))  # Napoli's own entry
    assert answer(planted["catanzaro_hr"].email) == answer("nessuno@comune.catanzaro.it")
    assert "0 attività trovate" in answer("nessuno@comune.catanzaro.it")


@pytest.mark.usefixtures("planted")
def test_wildcards_in_the_actor_filter_match_no_one(
    client: FlaskClient, login_as: Callable
) -> None:
    """``%`` and ``_`` in the actor filter are characters, not patterns (for any reader)."""
    login_as(Role.ADMIN)
    for actor in ("%@%", "_r@comune.catanzaro.it", "%"):
        response = client.get("/audit/", query_string={"actor": actor})
        assert response.status_code in {200, 400}
        if response.status_code == 200:
            assert "marker-catanzaro" not in response.get_data(as_text=True), actor


@pytest.mark.parametrize(
    "url",
    [
        "/audit/?actor=a%00@b.it",
        "/audit/?authority=063%0049",
        "/audit/registro.csv?kind=staff%00",
        "/audit/registro.xlsx?date_from=%ff",
    ],
)
def test_nul_bytes_and_bad_utf8_in_audit_filters_are_a_400(
    client: FlaskClient, login_as: Callable, areas: dict, url: str
) -> None:
    """The request guard covers the new page: a 400, never a database error (PostgreSQL)."""
    login_as(Role.HR, scope=[areas["napoli"]])
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("page", ["99999999999999999999", "9223372036854775808"])
def test_an_audit_page_number_beyond_any_list_is_a_404_not_a_500(
    client: FlaskClient, login_as: Callable, areas: dict, page: str
) -> None:
    """A page number too big for the database is past the end: 404, as on every other list.

    ``/audit/`` paginates with ``db.paginate`` directly instead of
    :func:`lms.core.sql.paginate`, so the OFFSET overflows SQLite's and
    PostgreSQL's integers: a 500 (and an error in the log) for any HR manager.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    response = client.get("/audit/", query_string={"page": page})
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["99999999999999999999", "9223372036854775808"])
def test_a_report_page_number_beyond_any_list_is_a_404_not_a_500(
    client: FlaskClient, login_as: Callable, areas: dict, page: str
) -> None:
    """The authority report's learner pages: a number past any list is a 404, not a 500.

    ``/reports/enti/<code>`` reads ``page`` with ``type=int`` and computes the
    OFFSET itself, which overflows the database's integers.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    response = client.get("/reports/enti/063049", query_string={"page": page})
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/audit/", "/audit/registro.csv"])
@pytest.mark.parametrize(
    "query", ["date_to=9999-12-31", "date_from=0001-01-01"], ids=["last day", "first day"]
)
def test_an_audit_date_at_the_calendar_s_ends_is_not_a_server_error(
    client: FlaskClient, login_as: Callable, areas: dict, url: str, query: str
) -> None:
    """A date the form accepts (ISO, any year) gives an answer, not a 500.

    ``_dates`` turns the last day into the next day's Italian midnight
    (``9999-12-31`` + 1 day overflows) and the first into UTC (year 1 in Rome's
    local mean time is before year 1 in UTC). Secure: a 400 saying the date is
    out of range (as the reports' ``AS_OF_RANGE`` does), or the page.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    assert client.get(f"{url}?{query}").status_code in {200, 400}


def test_an_entry_about_two_areas_shows_hr_nothing_personal_of_the_other(
    client: FlaskClient, login_as: Callable, areas: dict, make_user: Callable[..., User]
) -> None:
    """An administrator's import of Napoli and Catanzaro people is in Napoli's area.

    What Napoli's HR manager may see of it: the entry (it touched their area),
    but no name, codice fiscale or e-mail of Catanzaro's people, on the page or
    in the download. (The entry's objects do list Catanzaro's record ids and
    Catanzaro itself: see the review's report.)
    """
    admin = make_user(Role.ADMIN)
    rows = (
        row_of(CF["bruno"], "bruno@comune.napoli.it"),
        row_of(VICTIM_CF, VICTIM_EMAIL, "079023", first="Rosaria", last="Calabrese"),
    )
    assert do_import(roster_csv(*rows), importer=admin).errors == []
    login_as(Role.HR, scope=[areas["napoli"]])
    page = text_of(client.get(f"/audit/?action={Action.STAFF_IMPORT.value}"))
    assert "1 attività trovata" in page
    download = client.get(f"/audit/registro.csv?action={Action.STAFF_IMPORT.value}")
    for body in (page, download.get_data(as_text=True)):
        for shown in (VICTIM_CF, VICTIM_EMAIL, "Rosaria", "Calabrese"):
            assert shown not in body, shown


def test_an_import_s_entry_keeps_no_file_name_and_no_personal_data(
    client: FlaskClient, login_as: Callable, areas: dict
) -> None:
    """The file's name may name a person: the entry keeps its digest, never the name.

    Secure: after a web import of a file named after a person, no summary holds
    the file's name, a codice fiscale, an e-mail or a name; the download lists
    the HR manager as the actor and nothing of the people.
    """
    hr = login_as(Role.HR, scope=[areas["napoli"]])
    data = roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it", first="Carla", last="Bruno"))
    page = upload(client, data, f"Bruno Carla {CF['bruno']}.csv")
    assert confirm_response(client, page).status_code == 200
    _db.session.expire_all()
    summaries = json.dumps([e.summary for e in _db.session.scalars(select(AuditEntry))])
    for personal in (CF["bruno"], "bruno@", "Carla", "Bruno"):
        assert personal not in summaries, personal
    body = client.get("/audit/registro.csv").get_data(as_text=True)
    assert hr.email in body
    for personal in (CF["bruno"], "bruno@comune.napoli.it", "Carla"):
        assert personal not in body, personal


# One transaction per request ----------------------------------------------------------------


def test_a_confirmation_that_fails_half_way_stores_nothing_and_can_be_retried(
    client: FlaskClient, login_as: Callable, areas: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after the import has flushed its rows rolls the whole request back.

    The audit entry, written last, fails: the staff records and accounts already
    flushed must go with it (500), the upload stays, and a retry imports once.
    """
    login_as(Role.HR, scope=[areas["napoli"]])
    page = upload(client, roster_csv(row_of(CF["bruno"], "bruno@comune.napoli.it")))
    users_before = count(User)

    def broken(*_args: object, **_kwargs: object) -> None:
        _db.session.flush()
        raise RuntimeError("the audit log is full")

    monkeypatch.setattr("lms.enrolments.import_flow._record", broken)
    assert confirm_response(client, page).status_code == 500
    assert count(StaffMember) == 0
    assert count(User) == users_before
    assert count(PendingUpload) == 1
    monkeypatch.undo()
    assert confirm_response(client, page).status_code == 200
    assert count(StaffMember) == 1


def test_no_view_commits_by_itself() -> None:
    """Views flush; the request commits once (lms.core.transaction). No view calls commit()."""
    package = Path(lms.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*views.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.commit\(\)", line)
    ]
    assert offenders == []


# Redirects after sign-in and the language switch ------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r/evil.example/",
    " //evil.example/",
    "javascript:alert(1)",
    "http:/evil.example",
    "/\u3000/evil.example",
    "/\u200b/evil.example",
    "\u2215\u2215evil.example",
]


def lands_on_this_site(location: str) -> bool:
    """Where a browser would go with *location*: tabs and newlines dropped, ``\\`` as ``/``."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    target = urlsplit(urljoin("http://localhost/login", cleaned))
    return target.scheme in {"http", "https"} and target.netloc == "localhost"


@pytest.mark.parametrize("target", HOSTILE_NEXT, ids=repr)
def test_sign_in_never_redirects_to_another_site(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    """``next`` after sign-in is followed only to a page of this site."""
    user = make_user(Role.LEARNER)
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": "Prova-password-1",
            "csrf_token": token,
            "next": target,
        },
    )
    assert response.status_code == 302
    assert lands_on_this_site(response.location), response.location


@pytest.mark.parametrize("target", HOSTILE_NEXT, ids=repr)
def test_the_language_switch_never_redirects_to_another_site(
    client: FlaskClient, target: str
) -> None:
    """The language switch's ``next`` is followed only to a page of this site (signed in or not)."""
    token = csrf_token(client, "/login")
    response = client.post("/lingua", data={"csrf_token": token, "lang": "en", "next": target})
    assert response.status_code == 302
    assert lands_on_this_site(response.location), response.location


def test_next_is_escaped_on_the_sign_in_page(client: FlaskClient) -> None:
    """A ``next`` with markup is shown as text in the hidden field, never as markup."""
    response = client.get("/login", query_string={"next": '/"><script>alert(1)</script>'})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
