"""The administrators' Utenti pages: every account action on the web, refused for the others.

The rules are those of ``lms users`` (lms.auth.operations); these tests check that
the pages reach them, say their errors in Italian on the right field with a 400
and write nothing, audit every change, and refuse everyone but administrators.
"""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from conftest import csrf_token, login
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.audit import Action, AuditEntry, AuditObject
from lms.auth.models import PasswordToken, Role, User
from lms.auth.operations import (
    AccountError,
    change_account_role,
    deactivate_account,
    issue_password_token,
)
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

CF_MARIO = "RSSMRA80A01F839W"
CF_ANNA = "BNCNNA90E55H501P"
CF_LUCA = "VRDLCU85C20F205V"
NAPOLI = "063049"


# Helpers --------------------------------------------------------------------------------


def text_of(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None, **kwargs: object):
    """POST *data* to *url* with a valid CSRF token (taken from the new-account form)."""
    token = csrf_token(client, "/admin/utenti/nuovo")
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def fresh(user_id: int) -> User:
    _db.session.expire_all()
    user = _db.session.get(User, user_id)
    assert user is not None
    return user


def entries(action: Action) -> list[AuditEntry]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def objects(entry: AuditEntry) -> set[tuple[str, int]]:
    rows = _db.session.execute(
        select(AuditObject.kind, AuditObject.object_id).where(AuditObject.entry_id == entry.id)
    )
    return {(kind, object_id) for kind, object_id in rows}


def count_users() -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(User)) or 0


def count_entries() -> int:
    return _db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def link_in(body: str) -> str:
    match = re.search(r"https?://[^\s<\"]+/password/[\w-]+", body)
    assert match, "no link on the page"
    return match.group(0)


def token_path(link: str) -> str:
    return "/password/" + link.rsplit("/", 1)[1]


def signed_in(client: FlaskClient) -> bool:
    """Whether *client*'s session still opens a signed-in page."""
    return client.get("/").status_code == 200


@pytest.fixture
def napoli(db, make_authority) -> Authority:
    authority = make_authority(istat_code=NAPOLI, name="Napoli", region_code="15")
    make_authority(istat_code="079023", name="Catanzaro", region_code="18")
    db.session.commit()
    return authority


@pytest.fixture
def admin(client, login_as, napoli) -> User:  # noqa: ARG001 - the register is there
    return login_as("admin", email="capo@example.org")


def staff_for(user: User | None, authority: Authority, cf: str, email: str) -> StaffMember:
    member = StaffMember(
        codice_fiscale=cf,
        first_name="Mario",
        last_name="Rossi",
        email=email,
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        hired_on=date(2020, 1, 1),
        user_id=user.id if user is not None else None,
    )
    _db.session.add(member)
    _db.session.commit()
    return member


# The list and the creation form ------------------------------------------------------------


@pytest.mark.usefixtures("admin")
def test_the_list_links_each_account_and_the_new_account_form(client, make_user):
    other = make_user("trainer", email="formatrice@example.org")
    body = client.get("/admin/utenti").get_data(as_text=True)
    assert f'href="/admin/utenti/{other.id}"' in body
    assert 'href="/admin/utenti/nuovo"' in body
    assert "lms users create" not in body
    form = client.get("/admin/utenti/nuovo")
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.get_data(as_text=True)


def test_creating_a_learner_shows_the_link_once_and_audits(client, admin, web_app):
    count = count_users()
    response = post(
        client,
        "/admin/utenti/nuovo",
        {"email": " Anna.Bianchi@Comune.Napoli.IT ", "first_name": "Anna", "role": "learner"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = text_of(response)
    assert "Account creato per anna.bianchi@comune.napoli.it" in body
    link = link_in(body)
    assert count_users() == count + 1
    user = _db.session.scalar(select(User).where(User.email == "anna.bianchi@comune.napoli.it"))
    assert user is not None
    assert user.role is Role.LEARNER
    assert user.password_hash is None
    # The link works (it is the only copy: the database has its hash).
    stored = _db.session.scalars(select(PasswordToken).where(PasswordToken.user_id == user.id))
    assert [t.token_hash for t in stored] != []
    assert link.rsplit("/", 1)[1] not in {t.token_hash for t in stored}
    assert web_app.test_client().get(token_path(link)).status_code == 200
    (created,) = entries(Action.USER_CREATE)
    assert created.actor_id == admin.id
    assert created.via == "web"
    assert objects(created) == {("user", user.id)}
    (issued,) = entries(Action.LINKS_ISSUE)
    assert issued.actor_id == admin.id
    assert issued.summary["delivery"] == "page"
    assert ("user", user.id) in objects(issued)
    # The account page links back; reloading it does not show the link again.
    assert link not in client.get(f"/admin/utenti/{user.id}").get_data(as_text=True)


@pytest.mark.usefixtures("admin")
def test_creating_an_hr_manager_with_authorities_and_regions(client, napoli):
    response = post(
        client,
        "/admin/utenti/nuovo",
        {
            "email": "hr@example.org",
            "role": "hr",
            "authorities": f"{NAPOLI}, {NAPOLI}",
            "regions": "18",
        },
    )
    assert response.status_code == 200
    user = _db.session.scalar(select(User).where(User.email == "hr@example.org"))
    assert user is not None
    assert user.role is Role.HR
    assert {s.authority_id for s in user.scopes if s.authority_id} == {napoli.id}
    assert {s.region.code for s in user.scopes if s.region} == {"18"}
    (created,) = entries(Action.USER_CREATE)
    assert ("authority", napoli.id) in objects(created)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "non-un-indirizzo"}, "email", "Indirizzo e-mail non valido."),
        ({"email": ""}, "email", "Indica l'indirizzo e-mail."),
        (
            {"email": "CAPO@example.org"},
            "email",
            "Esiste già un account con questo indirizzo e-mail.",
        ),
        ({"role": "boss"}, "role", "Ruolo sconosciuto: boss."),
        (
            {"role": "hr", "authorities": "999999"},
            "authorities",
            "Codice ente sconosciuto: 999999.",
        ),
        ({"role": "hr", "regions": "77"}, "regions", "Codice regione sconosciuto: 77."),
        (
            {"role": "hr"},
            "authorities",
            "Un responsabile del personale deve avere almeno un ente o una regione di competenza.",
        ),
        (
            {"role": "trainer", "authorities": NAPOLI},
            "authorities",
            "Solo i responsabili del personale hanno enti o regioni di competenza",
        ),
    ],
    ids=["bad-email", "no-email", "taken", "role", "authority", "region", "hr-no-scope", "scope"],
)
@pytest.mark.usefixtures("admin")
def test_creation_errors_are_those_of_the_command_line(client, fields, field, message):
    users, audit_entries = count_users(), count_entries()
    data = {"email": "nuovo@example.org", "role": "learner", **fields}
    response = post(client, "/admin/utenti/nuovo", data)
    assert response.status_code == 400
    body = text_of(response)
    # The message is on its field (tied by aria-describedby), the values typed stay.
    error = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>', body, re.DOTALL)
    assert error, body[:3000]
    assert message in error.group(1)
    assert 'aria-invalid="true"' in body
    assert count_users() == users
    assert count_entries() == audit_entries
    assert "/password/" not in body


def test_the_command_line_says_the_same_in_english(runner):
    result = runner.invoke(args=["users", "create", "--email", "x@example.org", "--role", "boss"])
    assert result.exit_code == 1
    assert "unknown role 'boss'" in result.output


def test_creating_with_smtp_e_mails_the_link(new_app, smtp_settings, smtp_server, make_user):
    app = new_app(**smtp_settings)
    client = app.test_client()
    make_user("admin", email="capo@example.org")
    assert login(client, "capo@example.org").status_code == 302
    response = post(
        client, "/admin/utenti/nuovo", {"email": "posta@example.org", "role": "trainer"}
    )
    assert response.status_code == 302
    assert "/password/" not in response.get_data(as_text=True)
    (message,) = smtp_server.messages
    assert message["To"] == "posta@example.org"
    link = link_in(message.get_content())
    assert client.get(token_path(link)).status_code == 200
    (issued,) = entries(Action.LINKS_ISSUE)
    assert issued.summary["delivery"] == "email"


# The account page ------------------------------------------------------------------------


@pytest.mark.usefixtures("admin")
def test_the_account_page_shows_details_with_the_codice_fiscale_masked(client, make_user, napoli):
    learner = make_user("learner", email="mario@example.org", first_name="Mario")
    learner.fiscal_code = CF_MARIO
    _db.session.commit()
    staff_for(learner, napoli, CF_MARIO, "mario@example.org")
    body = text_of(client.get(f"/admin/utenti/{learner.id}"))
    assert "RSSMRA•••••••••W" in body
    assert CF_MARIO not in body
    assert "mario@example.org" in body
    assert "Discente" in body
    assert "impostata" in body
    assert "mai" in body  # never signed in
    assert "Napoli" in body  # the staff record and its authority
    assert re.search(r'href="/personale/\d+"', body)
    never = make_user("trainer", password_hash=None)
    assert "non ancora impostata" in text_of(client.get(f"/admin/utenti/{never.id}"))


@pytest.mark.usefixtures("admin")
def test_an_unknown_account_is_a_404(client):
    assert client.get("/admin/utenti/999999").status_code == 404
    for url in (
        "/admin/utenti/999999/ruolo",
        "/admin/utenti/999999/competenza",
        "/admin/utenti/999999/disattiva",
        "/admin/utenti/999999/riattiva",
        "/admin/utenti/999999/codice-fiscale",
        "/admin/utenti/999999/codice-fiscale/rimuovi",
        "/admin/utenti/999999/link",
    ):
        assert post(client, url).status_code == 404, url
    assert client.get("/admin/utenti/999999/disattiva").status_code == 404


# Role and scope ------------------------------------------------------------------------------


def test_changing_the_role_ends_sessions_cancels_links_and_audits(
    client, admin, make_user, web_app
):
    learner = make_user("learner", email="l@example.org")
    other = web_app.test_client()
    assert login(other, "l@example.org").status_code == 302
    token = issue_password_token(learner, hours=72)
    _db.session.commit()
    response = post(client, f"/admin/utenti/{learner.id}/ruolo", {"role": "trainer"})
    assert response.status_code == 302
    assert response.location == f"/admin/utenti/{learner.id}"
    assert fresh(learner.id).role is Role.TRAINER
    assert not signed_in(other)
    assert other.get(f"/password/{token}").status_code != 200
    (entry,) = entries(Action.USER_ROLE)
    assert entry.actor_id == admin.id
    assert entry.summary == {"from": "learner", "to": "trainer"}
    # The same role again: nothing changes, nothing is written.
    before = count_entries()
    assert post(client, f"/admin/utenti/{learner.id}/ruolo", {"role": "trainer"}).status_code == 302
    assert count_entries() == before


@pytest.mark.usefixtures("admin")
def test_becoming_hr_needs_a_scope(client, make_user, napoli):
    learner = make_user("learner")
    response = post(client, f"/admin/utenti/{learner.id}/ruolo", {"role": "hr"})
    assert response.status_code == 400
    body = text_of(response)
    assert "Un responsabile del personale deve avere almeno un ente" in body
    assert 'id="new-authorities-error"' in body
    assert fresh(learner.id).role is Role.LEARNER
    assert entries(Action.USER_ROLE) == []
    response = post(
        client, f"/admin/utenti/{learner.id}/ruolo", {"role": "hr", "authorities": NAPOLI}
    )
    assert response.status_code == 302
    user = fresh(learner.id)
    assert user.role is Role.HR
    assert [s.authority_id for s in user.scopes] == [napoli.id]
    assert len(entries(Action.USER_ROLE)) == 1
    assert len(entries(Action.USER_SCOPE)) == 1


@pytest.mark.usefixtures("admin")
def test_an_unknown_role_is_refused(client, make_user):
    learner = make_user("learner")
    response = post(client, f"/admin/utenti/{learner.id}/ruolo", {"role": "boss"})
    assert response.status_code == 400
    assert "Ruolo sconosciuto: boss." in text_of(response)


@pytest.mark.usefixtures("admin")
def test_changing_the_scope(client, make_user, make_region, napoli):
    hr = make_user("hr", scope=[napoli])
    page = text_of(client.get(f"/admin/utenti/{hr.id}"))
    assert f'value="{NAPOLI}"' in page  # the form shows the scope as it is
    response = post(client, f"/admin/utenti/{hr.id}/competenza", {"regions": "18"})
    assert response.status_code == 302
    user = fresh(hr.id)
    assert {s.region.code for s in user.scopes if s.region} == {"18"}
    assert not any(s.authority_id for s in user.scopes)
    (entry,) = entries(Action.USER_SCOPE)
    assert entry.summary["authorities_removed"] == [napoli.id]
    assert ("region", make_region("18").id) in objects(entry)
    bad = post(client, f"/admin/utenti/{hr.id}/competenza", {"authorities": "ZZZ"})
    assert bad.status_code == 400
    assert "Codice ente sconosciuto: ZZZ." in text_of(bad)
    empty = post(client, f"/admin/utenti/{hr.id}/competenza", {})
    assert empty.status_code == 400
    assert len(entries(Action.USER_SCOPE)) == 1


@pytest.mark.usefixtures("admin")
def test_a_scope_for_someone_not_hr_is_refused(client, make_user):
    trainer = make_user("trainer")
    response = post(client, f"/admin/utenti/{trainer.id}/competenza", {"authorities": NAPOLI})
    assert response.status_code == 400
    assert "Solo i responsabili del personale" in text_of(response)
    assert entries(Action.USER_SCOPE) == []


# Deactivation and reactivation ------------------------------------------------------------------


def test_deactivation_asks_first_then_ends_sessions_and_links(client, admin, make_user, web_app):
    learner = make_user("learner", email="via@example.org")
    other = web_app.test_client()
    assert login(other, "via@example.org").status_code == 302
    token = issue_password_token(learner, hours=72)
    _db.session.commit()
    # The account page offers the step, the confirmation page says what will happen.
    assert f'href="/admin/utenti/{learner.id}/disattiva"' in client.get(
        f"/admin/utenti/{learner.id}"
    ).get_data(as_text=True)
    confirm = client.get(f"/admin/utenti/{learner.id}/disattiva")
    assert confirm.status_code == 200
    body = text_of(confirm)
    assert "le sessioni aperte si chiudono subito" in body
    assert "smettono di funzionare" in body
    assert f'href="/admin/utenti/{learner.id}"' in body  # Annulla
    assert "Annulla" in body
    assert fresh(learner.id).active  # the GET changed nothing
    response = post(client, f"/admin/utenti/{learner.id}/disattiva")
    assert response.status_code == 302
    assert not fresh(learner.id).active
    assert not signed_in(other)
    (entry,) = entries(Action.USER_DEACTIVATE)
    assert entry.actor_id == admin.id
    assert objects(entry) == {("user", learner.id)}
    # Reactivated, the old link still does not work and the old session stays ended.
    assert post(client, f"/admin/utenti/{learner.id}/riattiva").status_code == 302
    assert fresh(learner.id).active
    assert len(entries(Action.USER_REACTIVATE)) == 1
    assert other.get(f"/password/{token}").status_code != 200
    assert not signed_in(other)
    # Twice: nothing more is written.
    before = count_entries()
    assert post(client, f"/admin/utenti/{learner.id}/riattiva").status_code == 302
    assert count_entries() == before


def test_an_admin_cannot_lock_themselves_out(client, admin, make_user):
    make_user("admin")  # not the last admin: the rule is about oneself
    response = post(client, f"/admin/utenti/{admin.id}/disattiva")
    assert response.status_code == 400
    assert "Non puoi disattivare il tuo account." in text_of(response)
    assert fresh(admin.id).active
    assert "Non puoi disattivare il tuo account." in text_of(
        client.get(f"/admin/utenti/{admin.id}")
    )
    demote = post(client, f"/admin/utenti/{admin.id}/ruolo", {"role": "learner"})
    assert demote.status_code == 400
    assert "Non puoi togliere a te stesso il ruolo di amministratore." in text_of(demote)
    assert fresh(admin.id).role is Role.ADMIN
    assert entries(Action.USER_DEACTIVATE) == entries(Action.USER_ROLE) == []
    # Another admin can be demoted and deactivated.
    other = make_user("admin")
    assert post(client, f"/admin/utenti/{other.id}/ruolo", {"role": "trainer"}).status_code == 302
    assert fresh(other.id).role is Role.TRAINER


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(make_user):
    only = make_user("admin")
    make_user("admin", active=False)  # an inactive admin does not count
    with pytest.raises(AccountError, match="last active administrator"):
        deactivate_account(only, by=None)
    with pytest.raises(AccountError, match="last active administrator"):
        change_account_role(only, "learner", by=None)
    assert only.active
    assert only.role is Role.ADMIN
    second = make_user("admin")
    assert deactivate_account(only, by=second)
    assert not only.active


# Codice fiscale ---------------------------------------------------------------------------------


def test_binding_a_codice_fiscale(client, admin, make_user):
    trainer = make_user("trainer")
    response = post(
        client, f"/admin/utenti/{trainer.id}/codice-fiscale", {"fiscal_code": " rssmra80a01f839w "}
    )
    assert response.status_code == 302
    assert fresh(trainer.id).fiscal_code == CF_MARIO
    (entry,) = entries(Action.USER_FISCAL_CODE)
    assert entry.actor_id == admin.id
    assert objects(entry) == {("user", trainer.id)}
    assert CF_MARIO not in str(entry.summary)
    assert entry.summary["bound"] is True
    body = text_of(client.get(f"/admin/utenti/{trainer.id}"))
    assert "RSSMRA•••••••••W" in body
    assert CF_MARIO not in body
    # The same code again changes nothing.
    before = count_entries()
    again = post(client, f"/admin/utenti/{trainer.id}/codice-fiscale", {"fiscal_code": CF_MARIO})
    assert again.status_code == 302
    assert count_entries() == before
    # Unbinding: gone, audited.
    assert post(client, f"/admin/utenti/{trainer.id}/codice-fiscale/rimuovi").status_code == 302
    assert fresh(trainer.id).fiscal_code is None
    last = entries(Action.USER_FISCAL_CODE)[-1]
    assert last.summary == {"bound": False}


@pytest.mark.usefixtures("admin")
def test_replacing_a_codice_fiscale_ends_the_sessions(client, make_user, web_app):
    trainer = make_user("trainer", email="t@example.org")
    trainer.fiscal_code = CF_MARIO
    _db.session.commit()
    other = web_app.test_client()
    assert login(other, "t@example.org").status_code == 302
    assert (
        post(
            client, f"/admin/utenti/{trainer.id}/codice-fiscale", {"fiscal_code": CF_ANNA}
        ).status_code
        == 302
    )
    assert fresh(trainer.id).fiscal_code == CF_ANNA
    assert not signed_in(other)
    assert entries(Action.USER_FISCAL_CODE)[-1].summary["replaced"] is True


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("RSSMRA80A01F839X", "carattere di controllo errato"),
        ("RSSMRA80A01F83", "deve avere 16 caratteri, non 14"),
        ("RSSMRA 80A01F839W", "va scritto senza spazi"),
        ("", "Indica il codice fiscale."),
    ],
)
@pytest.mark.usefixtures("admin")
def test_an_invalid_codice_fiscale_is_refused_as_the_import_refuses_it(
    client, make_user, code, message
):
    trainer = make_user("trainer")
    response = post(client, f"/admin/utenti/{trainer.id}/codice-fiscale", {"fiscal_code": code})
    assert response.status_code == 400
    error = re.search(r'id="fiscal_code-error"[^>]*>(.*?)</div>', text_of(response), re.DOTALL)
    assert error
    assert message in error.group(1)
    assert fresh(trainer.id).fiscal_code is None
    assert entries(Action.USER_FISCAL_CODE) == []


@pytest.mark.usefixtures("admin")
def test_a_codice_fiscale_bound_to_another_account_is_refused(client, make_user):
    first = make_user("trainer")
    first.fiscal_code = CF_MARIO
    _db.session.commit()
    second = make_user("hr")
    response = post(client, f"/admin/utenti/{second.id}/codice-fiscale", {"fiscal_code": CF_MARIO})
    assert response.status_code == 400
    assert f"già associato a un altro account (n. {first.id})" in text_of(response)
    assert fresh(second.id).fiscal_code is None
    assert entries(Action.USER_FISCAL_CODE) == []


@pytest.mark.usefixtures("admin")
def test_an_account_with_a_staff_record_keeps_its_own_codice_fiscale(client, make_user, napoli):
    learner = make_user("learner", email="m@example.org")
    staff_for(learner, napoli, CF_MARIO, "m@example.org")
    response = post(client, f"/admin/utenti/{learner.id}/codice-fiscale", {"fiscal_code": CF_ANNA})
    assert response.status_code == 400
    assert "Questo account è di un dipendente con un altro codice fiscale" in text_of(response)
    # Its own code is harmless (SPID reaches the same account either way).
    own = post(client, f"/admin/utenti/{learner.id}/codice-fiscale", {"fiscal_code": CF_MARIO})
    assert own.status_code == 302
    assert fresh(learner.id).fiscal_code == CF_MARIO


@pytest.mark.usefixtures("admin")
def test_taking_a_staff_members_codice_fiscale_needs_a_confirmation_and_shows(
    client, make_user, napoli
):
    learner = make_user("learner", email="m@example.org")
    member = staff_for(learner, napoli, CF_MARIO, "m@example.org")
    hr = make_user("hr", scope=[napoli], email="hr@example.org")
    url = f"/admin/utenti/{hr.id}/codice-fiscale"
    refused = post(client, url, {"fiscal_code": CF_MARIO})
    assert refused.status_code == 400
    body = text_of(refused)
    assert f"scheda n. {member.id}" in body
    assert 'name="over_staff_account"' in body  # the confirmation appears
    assert fresh(hr.id).fiscal_code is None
    assert entries(Action.USER_FISCAL_CODE) == []
    confirmed = post(client, url, {"fiscal_code": CF_MARIO, "over_staff_account": "y"})
    assert confirmed.status_code == 302
    assert fresh(hr.id).fiscal_code == CF_MARIO
    (entry,) = entries(Action.USER_FISCAL_CODE)
    # The entry names the staff record and the account passed over, in its authority's
    # area: the HR manager of Napoli sees it in the audit log.
    assert objects(entry) == {
        ("user", hr.id),
        ("staff", member.id),
        ("user", learner.id),
        ("authority", napoli.id),
    }
    assert entry.summary["over_staff_account"] is True
    # Both account pages say it.
    assert "con SPID o CIE quella persona entra in questo account" in text_of(
        client.get(f"/admin/utenti/{hr.id}")
    )
    learner_page = text_of(client.get(f"/admin/utenti/{learner.id}"))
    assert "Con SPID o CIE questa persona entra nell'account hr@example.org" in learner_page


@pytest.mark.usefixtures("admin")
def test_a_staff_record_without_an_account_also_needs_the_confirmation(client, make_user, napoli):
    staff_for(None, napoli, CF_LUCA, "luca@example.org")
    trainer = make_user("trainer")
    url = f"/admin/utenti/{trainer.id}/codice-fiscale"
    assert post(client, url, {"fiscal_code": CF_LUCA}).status_code == 400
    assert post(client, url, {"fiscal_code": CF_LUCA, "over_staff_account": "y"}).status_code == 302


# Set-password links ------------------------------------------------------------------------------


def test_issuing_a_link_shows_it_once_not_cached_and_cancels_the_earlier(
    client, admin, make_user, web_app
):
    learner = make_user("learner", password_hash=None)
    old = issue_password_token(learner, hours=72)
    _db.session.commit()
    page = text_of(client.get(f"/admin/utenti/{learner.id}"))
    assert "L'invio per e-mail non è configurato" in page
    response = post(client, f"/admin/utenti/{learner.id}/link")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    link = link_in(text_of(response))
    anonymous = web_app.test_client()
    assert anonymous.get(token_path(link)).status_code == 200
    assert anonymous.get(f"/password/{old}").status_code != 200
    (entry,) = entries(Action.LINKS_ISSUE)
    assert entry.actor_id == admin.id
    assert entry.summary == {"links": 1, "hours": 72, "delivery": "page"}
    assert objects(entry) == {("user", learner.id)}
    # Never by GET.
    assert client.get(f"/admin/utenti/{learner.id}/link").status_code == 405


@pytest.mark.usefixtures("admin")
def test_a_link_for_an_account_with_a_staff_record_is_in_its_authority_area(
    client, make_user, napoli
):
    learner = make_user("learner", email="m@example.org")
    member = staff_for(learner, napoli, CF_MARIO, "m@example.org")
    assert post(client, f"/admin/utenti/{learner.id}/link").status_code == 200
    (entry,) = entries(Action.LINKS_ISSUE)
    assert objects(entry) == {("user", learner.id), ("staff", member.id), ("authority", napoli.id)}


@pytest.mark.usefixtures("admin")
def test_no_link_for_a_deactivated_account(client, make_user):
    gone = make_user("learner", active=False)
    response = post(client, f"/admin/utenti/{gone.id}/link")
    assert response.status_code == 400
    assert "riattivalo prima di emettere un link" in text_of(response)
    _db.session.expire_all()
    assert _db.session.scalar(select(PasswordToken).where(PasswordToken.user_id == gone.id)) is None
    assert entries(Action.LINKS_ISSUE) == []


def test_a_link_e_mailed_or_shown_when_smtp_is_set(new_app, smtp_settings, smtp_server, make_user):
    app = new_app(**smtp_settings)
    client = app.test_client()
    make_user("admin", email="capo@example.org")
    learner = make_user("learner", email="posta@example.org")
    assert login(client, "capo@example.org").status_code == 302
    assert 'value="email"' in client.get(f"/admin/utenti/{learner.id}").get_data(as_text=True)
    response = post(client, f"/admin/utenti/{learner.id}/link", {"delivery": "email"})
    assert response.status_code == 302
    (message,) = smtp_server.messages
    assert message["To"] == "posta@example.org"
    assert client.get(token_path(link_in(message.get_content()))).status_code == 200
    shown = post(client, f"/admin/utenti/{learner.id}/link", {"delivery": "page"})
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    assert len(smtp_server.messages) == 1
    bad = post(client, f"/admin/utenti/{learner.id}/link", {"delivery": "fax"})
    assert bad.status_code == 400
    assert [e.summary["delivery"] for e in entries(Action.LINKS_ISSUE)] == ["email", "page"]


# Attacks ------------------------------------------------------------------------------------


def _change_urls(user_id: int) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/admin/utenti/nuovo", {"email": "intruso@example.org", "role": "admin"}),
        (f"/admin/utenti/{user_id}/ruolo", {"role": "admin"}),
        (f"/admin/utenti/{user_id}/competenza", {"authorities": NAPOLI}),
        (f"/admin/utenti/{user_id}/disattiva", {}),
        (f"/admin/utenti/{user_id}/riattiva", {}),
        (f"/admin/utenti/{user_id}/codice-fiscale", {"fiscal_code": CF_MARIO}),
        (f"/admin/utenti/{user_id}/codice-fiscale/rimuovi", {}),
        (f"/admin/utenti/{user_id}/link", {}),
    ]


@pytest.mark.usefixtures("admin")
def test_every_change_needs_the_csrf_token(client, make_user):
    victim = make_user("hr", scope=[], email="vittima@example.org")
    client.get("/admin/utenti")  # a session with a CSRF secret, but no token sent
    for url, data in _change_urls(victim.id):
        assert client.post(url, data=data).status_code == 400, url
        assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400, url
    user = fresh(victim.id)
    assert user.role is Role.HR
    assert user.active
    assert user.fiscal_code is None
    assert count_users() == 2
    assert count_entries() == 0


@pytest.mark.parametrize("role", ["learner", "trainer", "hr"])
def test_only_admins_reach_the_pages(client, login_as, make_user, napoli, role):
    victim = make_user("learner", email="vittima@example.org", password_hash=None)
    attacker = login_as(role, scope=[napoli] if role == "hr" else ())
    for url in (
        "/admin/utenti",
        "/admin/utenti/nuovo",
        f"/admin/utenti/{victim.id}",
        f"/admin/utenti/{victim.id}/disattiva",
        f"/admin/utenti/{attacker.id}",
    ):
        assert client.get(url).status_code == 403, url
    # A valid CSRF token from a page they can open: the role alone decides.
    token = csrf_token(client, "/accessibilita")
    for url, data in _change_urls(victim.id):
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 403, url
    # Not even on their own account: an HR manager cannot make themselves admin.
    own = client.post(
        f"/admin/utenti/{attacker.id}/ruolo", data={"csrf_token": token, "role": "admin"}
    )
    assert own.status_code == 403
    assert fresh(attacker.id).role is Role(role)
    assert fresh(victim.id).active
    _db.session.expire_all()
    assert (
        _db.session.scalar(select(PasswordToken).where(PasswordToken.user_id == victim.id)) is None
    )
    assert count_entries() == 0


def test_a_stranger_is_sent_to_sign_in(client, make_user):
    victim = make_user("learner")
    for url in ("/admin/utenti/nuovo", f"/admin/utenti/{victim.id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.location.startswith("/login")
    token = csrf_token(client, "/login")
    for url, data in _change_urls(victim.id):
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 302, url
        assert response.location.startswith("/login")
    assert count_entries() == 0


# The operations' errors in the reader's language ------------------------------------------------


@pytest.mark.usefixtures("napoli")
def test_every_error_of_the_operations_has_its_message_on_the_page(make_user):
    """Each English error the views can meet (the command line's) is explained in Italian.

    Guards the table in admin_views: an operation whose message changes would
    otherwise reach the page in English.
    """
    from lms.auth.admin_views import explain  # noqa: PLC0415
    from lms.auth.operations import (  # noqa: PLC0415
        bind_fiscal_code,
        create_user,
        issue_account_link,
        set_scope,
    )

    admin = make_user("admin")
    taken = make_user("trainer", email="preso@example.org")
    taken.fiscal_code = CF_ANNA
    _db.session.commit()
    trainer, gone = make_user("trainer"), make_user("learner", active=False)
    attempts = [
        lambda: create_user(email="no", role="learner"),
        lambda: create_user(email="preso@example.org", role="learner"),
        lambda: create_user(email="a@example.org", role="boss"),
        lambda: create_user(email="a@example.org", role="hr", scope_authorities=["999999"]),
        lambda: create_user(email="a@example.org", role="hr", scope_regions=["77"]),
        lambda: create_user(email="a@example.org", role="hr"),
        lambda: create_user(email="a@example.org", role="trainer", scope_regions=["15"]),
        lambda: set_scope(trainer, scope_regions=["15"]),
        lambda: deactivate_account(admin, by=admin),
        lambda: change_account_role(admin, "learner", by=admin),
        lambda: deactivate_account(admin, by=None),
        lambda: change_account_role(admin, "learner", by=None),
        lambda: issue_account_link(gone, hours=1, by=admin, delivery="page"),
        lambda: bind_fiscal_code(trainer, "XYZ", by=admin),
        lambda: bind_fiscal_code(trainer, CF_ANNA, by=admin),
    ]
    for attempt in attempts:
        with pytest.raises(AccountError) as caught:
            attempt()
        _field, message = explain(caught.value)
        assert message != str(caught.value), str(caught.value)
        assert not re.search(r"\b(unknown|invalid|cannot|needs|already)\b", message), message


@pytest.mark.usefixtures("admin")
def test_the_errors_in_english_for_an_english_reader(client):
    token = csrf_token(client, "/admin/utenti/nuovo")
    client.post("/lingua", data={"csrf_token": token, "lang": "en", "next": "/"})
    response = post(
        client, "/admin/utenti/nuovo", {"email": "x@example.org", "role": "hr", "regions": "77"}
    )
    assert response.status_code == 400
    assert "Unknown region code: 77." in text_of(response)


@pytest.mark.usefixtures("admin")
def test_the_audit_log_page_lists_the_changes(client, make_user):
    trainer = make_user("trainer")
    post(client, f"/admin/utenti/{trainer.id}/codice-fiscale", {"fiscal_code": CF_MARIO})
    post(client, f"/admin/utenti/{trainer.id}/link")
    page = client.get("/audit/")
    assert page.status_code == 200
    assert CF_MARIO not in page.get_data(as_text=True)
    assert len(entries(Action.USER_FISCAL_CODE)) == len(entries(Action.LINKS_ISSUE)) == 1
