"""The HR manager's person page: editing one person with the import's rules, their link.

Attacks first-class: an HR manager of another area, a learner, a trainer, a
stranger; every refusal is checked with its status code and that nothing was
written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from conftest import TEST_PASSWORD, csrf_token, login
from flask.testing import FlaskClient
from sqlalchemy import select
from test_staff_pages import add_staff, make_course

from lms.audit import Action, AuditEntry, AuditObject
from lms.auth.models import PasswordToken, Role, User
from lms.core.tabular import Row
from lms.core.types import today_in_italy, utcnow
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.enrolments.person_edit import form_values, plan_edit
from lms.enrolments.roster import validate_rows
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

CF_VERDI = "VRDGPP80A01F839W"
CF_BRUNO = "BRNCRL85E50F839P"
CF_GALLO = "GLLMRC79C03H703R"


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority(
        "063049", istat_code="063049", ipa_code="c_f839", region_code="15", name="Comune di Napoli"
    )


@pytest.fixture
def salerno(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("065116", istat_code="065116", region_code="15", name="Comune di Salerno")


@pytest.fixture
def catanzaro(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("079023", region_code="18", name="Comune di Catanzaro")


@pytest.fixture
def verdi(napoli: Authority, salerno: Authority, catanzaro: Authority, make_user) -> StaffMember:
    """Giuseppe Verdi of Napoli, with a learner account that has a password."""
    del salerno, catanzaro  # created for the tests that need them
    user = make_user(Role.LEARNER, email="giuseppe.verdi@comune.napoli.it", first_name="Giuseppe")
    return add_staff(
        napoli,
        CF_VERDI,
        "Verdi",
        first="Giuseppe",
        email=user.email,
        user_id=user.id,
        category=StaffCategory.NEW_HIRE,
    )


@pytest.fixture
def gallo(catanzaro: Authority, make_user) -> StaffMember:
    """Marco Gallo of Catanzaro (Calabria), with a learner account."""
    user = make_user(Role.LEARNER, email="marco.gallo@comune.catanzaro.it", first_name="Marco")
    return add_staff(catanzaro, CF_GALLO, "Gallo", first="Marco", email=user.email, user_id=user.id)


def fresh(model: type, object_id: int) -> object:
    _db.session.expire_all()
    return _db.session.get(model, object_id)


def entries(action: Action) -> list[AuditEntry]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def objects(entry: AuditEntry) -> set[tuple[str, int]]:
    return set(
        _db.session.execute(
            select(AuditObject.kind, AuditObject.object_id).where(AuditObject.entry_id == entry.id)
        ).all()
    )


def snapshot(staff_id: int) -> tuple:
    """The record and its account as stored (to check that nothing was written)."""
    staff = fresh(StaffMember, staff_id)
    account = _db.session.get(User, staff.user_id) if staff.user_id else None
    return (
        tuple(getattr(staff, name) for name in ("first_name", "last_name", "email")),
        staff.authority_id,
        staff.category,
        staff.profile,
        staff.hired_on,
        staff.left_on,
        (account.email, account.active, account.session_version) if account else None,
    )


def edit(client: FlaskClient, staff: StaffMember, **changes: object) -> object:
    """Post the person's edit form: the record's own values, with *changes*."""
    url = f"/personale/{staff.id}"
    values = form_values(fresh(StaffMember, staff.id))
    values.update({key: str(value) for key, value in changes.items()})
    return client.post(f"{url}/modifica", data={"csrf_token": csrf_token(client, url), **values})


def text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))


def main(response: object) -> str:
    """The page's main content (without the header, which names the reader's own role)."""
    page = text(response)
    return page[page.index("<main") : page.index("</main>")]


def field_error(page: str, name: str) -> str:
    """The error messages shown under the form field *name* (empty if none)."""
    match = re.search(rf'id="{name}-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""


# Editing ----------------------------------------------------------------------------------


def test_hr_edits_names_email_category_profile_and_dates(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    hr = login_as(Role.HR, scope=[napoli.region])
    page = text(client.get(f"/personale/{verdi.id}"))
    assert f'action="/personale/{verdi.id}/modifica"' in page
    assert 'value="giuseppe.verdi@comune.napoli.it"' in page
    response = edit(
        client,
        verdi,
        first_name="  Giuseppe   Maria ",
        last_name="Verdi Rossi",
        email="G.Verdi@Comune.Napoli.it",
        category="in servizio",
        profile="Specialista tecnico",
        hired_on="02/03/2025",  # the import's Italian format is read too
    )
    assert response.status_code == 302, text(response)[:2000]
    staff = fresh(StaffMember, verdi.id)
    assert (staff.first_name, staff.last_name, staff.email) == (
        "Giuseppe Maria",
        "Verdi Rossi",
        "g.verdi@comune.napoli.it",
    )
    assert staff.category is StaffCategory.EXISTING
    assert (staff.profile, staff.hired_on, staff.left_on) == (
        "Specialista tecnico",
        date(2025, 3, 2),
        None,
    )
    account = _db.session.get(User, staff.user_id)
    # The learner account follows: e-mail (the sign-in name) and names.
    assert (account.email, account.first_name, account.last_name) == (
        "g.verdi@comune.napoli.it",
        "Giuseppe Maria",
        "Verdi Rossi",
    )
    assert "Dati di Giuseppe Verdi aggiornati." in text(client.get(f"/personale/{verdi.id}"))
    (entry,) = entries(Action.STAFF_UPDATE)
    assert entry.actor_id == hr.id
    assert entry.via == "web"
    assert entry.summary["fields"] == [
        "first_name",
        "last_name",
        "email",
        "category",
        "profile",
        "hired_on",
    ]
    assert "verdi" not in str(entry.summary).lower()  # names of fields, never values
    assert {("staff", verdi.id), ("user", account.id), ("authority", napoli.id)} <= objects(entry)


def test_a_new_e_mail_signs_in_and_ends_the_old_links_and_sessions(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority, web_app
) -> None:
    learner = web_app.test_client()
    assert login(learner, "giuseppe.verdi@comune.napoli.it").status_code == 302
    token = PasswordToken(
        user_id=verdi.user_id,
        token_hash="x" * 64,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=24),
    )
    _db.session.add(token)
    _db.session.commit()
    login_as(Role.HR, scope=[napoli])
    assert edit(client, verdi, email="nuova@comune.napoli.it").status_code == 302
    assert learner.get("/").status_code == 302  # the old session has ended
    assert fresh(PasswordToken, token.id).used_at is not None  # the old link stops working
    other = web_app.test_client()
    assert login(other, "giuseppe.verdi@comune.napoli.it").status_code == 200  # refused
    assert login(other, "nuova@comune.napoli.it", TEST_PASSWORD).status_code == 302


def test_the_same_values_change_nothing_and_write_no_entry(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])
    before = snapshot(verdi.id)
    response = edit(client, verdi)
    assert response.status_code == 302
    assert "Nessuna modifica" in text(client.get(f"/personale/{verdi.id}"))
    assert snapshot(verdi.id) == before
    assert entries(Action.STAFF_UPDATE) == []


def test_a_leaving_day_asks_for_confirmation_then_ends_access(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority, web_app
) -> None:
    learner = web_app.test_client()
    assert login(learner, "giuseppe.verdi@comune.napoli.it").status_code == 302
    assert learner.get("/").status_code == 200
    login_as(Role.HR, scope=[napoli])
    today = today_in_italy()
    before = snapshot(verdi.id)
    response = edit(client, verdi, left_on=today.isoformat())
    assert response.status_code == 200
    page = text(response)
    assert "Conferma la data di cessazione" in page
    assert f"Con la data di cessazione del {today:%d/%m/%Y}" in page
    assert 'name="confirm_leave" value="1"' in page
    assert snapshot(verdi.id) == before  # nothing written before the confirmation
    assert learner.get("/").status_code == 200
    assert entries(Action.STAFF_UPDATE) == []

    response = edit(client, verdi, left_on=today.isoformat(), confirm_leave="1")
    assert response.status_code == 302
    staff = fresh(StaffMember, verdi.id)
    assert staff.left_on == today
    account = _db.session.get(User, staff.user_id)
    assert account.active is False
    assert learner.get("/").status_code == 302  # the open session ended
    assert login(web_app.test_client(), account.email).status_code == 200  # cannot sign in
    (entry,) = entries(Action.STAFF_UPDATE)
    assert entry.summary["fields"] == ["left_on"]
    assert entry.summary["ends_access"] is True
    assert entry.summary["account_deactivated"] == 1

    # The undo: clearing the leaving day brings the account back.
    assert edit(client, verdi, left_on="").status_code == 302
    assert fresh(User, account.id).active is True
    assert login(web_app.test_client(), account.email).status_code == 302


def test_a_move_within_scope_updates_both_areas_and_applies_the_rules(
    client: FlaskClient,
    login_as: Callable,
    verdi: StaffMember,
    napoli: Authority,
    salerno: Authority,
) -> None:
    course = make_course()
    _db.session.add(EnrolmentRule(course_id=course.id, authority_id=salerno.id))
    _db.session.commit()
    login_as(Role.HR, scope=[napoli.region])
    page = text(client.get(f"/personale/{verdi.id}"))
    assert '<option value="065116">Comune di Salerno (065116)</option>' in page
    response = edit(client, verdi, authority_code="065116")
    assert response.status_code == 302
    assert fresh(StaffMember, verdi.id).authority_id == salerno.id
    assert _db.session.scalar(select(Enrolment.staff_id)) == verdi.id  # Salerno's rule
    (entry,) = entries(Action.STAFF_UPDATE)
    assert entry.summary["fields"] == ["authority"]
    assert entry.summary["enrolled_by_rules"] == 1
    assert {("authority", napoli.id), ("authority", salerno.id)} <= objects(entry)


def test_an_admin_moves_anyone_anywhere(
    client: FlaskClient, login_as: Callable, gallo: StaffMember, napoli: Authority
) -> None:
    login_as(Role.ADMIN)
    page = text(client.get(f"/personale/{gallo.id}"))
    options = re.findall(r'<option value="([^"]+)"', page)
    assert {"063049", "079023"} <= set(options)  # every authority, in no scope
    assert edit(client, gallo, authority_code="c_f839").status_code == 302  # by IPA code too
    assert fresh(StaffMember, gallo.id).authority_id == napoli.id


def test_too_many_authorities_for_a_list_ask_for_a_code(
    client: FlaskClient,
    login_as: Callable,
    gallo: StaffMember,
    napoli: Authority,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("lms.enrolments.views.MAX_AUTHORITY_CHOICES", 1)
    login_as(Role.ADMIN)
    page = text(client.get(f"/personale/{gallo.id}"))
    field = re.search(r'<(input|select)[^>]*id="authority_code"[^>]*>', page).group(0)
    assert field.startswith("<input")
    assert 'value="079023"' in field
    assert "Il codice ISTAT, IPA o interno dell'ente" in page
    response = edit(client, gallo, authority_code="63049")  # the zero a spreadsheet drops
    assert response.status_code == 400
    assert "063049 esiste" in field_error(text(response), "authority_code")
    assert edit(client, gallo, authority_code="063049").status_code == 302
    assert fresh(StaffMember, gallo.id).authority_id == napoli.id


def test_the_edit_uses_the_imports_checks_and_messages(verdi: StaffMember, make_user) -> None:
    """plan_edit words each error exactly as an import of the same row does."""
    hr = make_user(Role.HR, scope=[verdi.authority.region])
    values = form_values(verdi) | {
        "hired_on": "31/09/2025",
        "category": "boss",
        "email": "non valida",
        "last_name": "X" * 101,
    }
    plan = plan_edit(verdi, values, editor=hr, today=today_in_italy())
    assert not plan.ok
    assert set(plan.errors) == {"hired_on", "category", "email", "last_name"}
    cells = {**values, "codice_fiscale": verdi.codice_fiscale}
    imported = validate_rows(
        [Row(line=2, cells=cells)],
        authority_codes={verdi.authority.code: verdi.authority_id},
        scope={verdi.authority_id},
    )
    by_column = {error.column: [str(error.reason)] for error in imported.errors}
    assert {name: [str(m) for m in messages] for name, messages in plan.errors.items()} == {
        name: by_column[name] for name in plan.errors
    }


# Refusals: every one writes nothing --------------------------------------------------------


def test_moving_to_an_authority_out_of_scope_is_refused(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])  # Napoli only: Salerno and Catanzaro are out
    before = snapshot(verdi.id)
    for code in ("065116", "079023"):
        response = edit(client, verdi, authority_code=code)
        assert response.status_code == 400
        assert "non è tra gli enti di cui puoi importare il personale" in field_error(
            text(response), "authority_code"
        )
    response = edit(client, verdi, authority_code="999999")
    assert response.status_code == 400
    assert "non è un ente conosciuto" in field_error(text(response), "authority_code")
    assert snapshot(verdi.id) == before
    assert entries(Action.STAFF_UPDATE) == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TRAINER, Role.HR])
def test_the_e_mail_of_a_privileged_account_is_refused_without_naming_it(
    client: FlaskClient,
    login_as: Callable,
    make_user: Callable,
    verdi: StaffMember,
    napoli: Authority,
    role: Role,
) -> None:
    make_user(role, email="capo@example.org", first_name="Ugo", last_name="Capone")
    login_as(Role.HR, scope=[napoli])
    before = snapshot(verdi.id)
    response = edit(client, verdi, email="capo@example.org")
    assert response.status_code == 400
    page = main(response)
    assert field_error(page, "email").strip() == "capo@example.org è già usato da un altro account"
    # Nothing says whose, nor which role.
    for word in ("Capone", "Ugo", "Amministratore", "Formatore", "Responsabile del personale"):
        assert word not in page
    assert snapshot(verdi.id) == before


def test_the_e_mail_of_another_areas_person_is_refused_without_revealing_them(
    client: FlaskClient,
    login_as: Callable,
    verdi: StaffMember,
    gallo: StaffMember,
    napoli: Authority,
) -> None:
    login_as(Role.HR, scope=[napoli.region])
    before = snapshot(verdi.id)
    response = edit(client, verdi, email="marco.gallo@comune.catanzaro.it")
    assert response.status_code == 400
    page = main(response)
    assert "appartiene a un'altra persona" in field_error(page, "email")
    for secret in ("Gallo", "Marco", CF_GALLO, "Catanzaro"):
        assert secret not in page
    assert snapshot(verdi.id) == before
    assert snapshot(gallo.id)[0][2] == "marco.gallo@comune.catanzaro.it"


def test_the_e_mail_of_another_learner_account_is_refused(
    client: FlaskClient, login_as: Callable, make_user, verdi: StaffMember, napoli: Authority
) -> None:
    make_user(Role.LEARNER, email="altro@example.org")
    login_as(Role.HR, scope=[napoli])
    response = edit(client, verdi, email="altro@example.org")
    assert response.status_code == 400
    assert "è l'account di un'altra persona" in field_error(text(response), "email")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"hired_on": "2025-03-01", "left_on": "2025-02-01"},
            "left_on",
            "2025-02-01 è precedente alla data di assunzione (2025-03-01)",
        ),
        ({"category": "dirigente"}, "category", "dirigente non è una categoria"),
        ({"hired_on": "31/09/2025"}, "hired_on", "31/09/2025"),
        ({"hired_on": "2199-01-01"}, "hired_on", "non è compresa tra il 1900 e il 2099"),
        ({"first_name": ""}, "first_name", "dato obbligatorio mancante"),
        ({"email": "non-una-email"}, "email", "non è un indirizzo e-mail valido"),
        ({"first_name": "A" * 10_000}, "first_name", "più lungo di 100 caratteri"),
        ({"last_name": "B" * 10_000}, "last_name", "più lungo di 100 caratteri"),
        ({"profile": "C" * 10_000}, "profile", "più lungo di 200 caratteri"),
        ({"email": "x" * 10_000 + "@example.org"}, "email", "non è un indirizzo e-mail valido"),
        ({"authority_code": "9" * 10_000}, "authority_code", "non è un ente conosciuto"),
    ],
)
def test_bad_values_are_refused_with_the_message_on_their_field(
    client: FlaskClient,
    login_as: Callable,
    verdi: StaffMember,
    napoli: Authority,
    changes: dict,
    field: str,
    message: str,
) -> None:
    login_as(Role.HR, scope=[napoli])
    before = snapshot(verdi.id)
    response = edit(client, verdi, **changes)
    assert response.status_code == 400
    page = text(response)
    assert message in field_error(page, field), field_error(page, field) or page[:3000]
    assert f'aria-describedby="{field}-error' in page or f"{field}-help {field}-error" in page
    assert "I dati non sono stati salvati" in page
    assert snapshot(verdi.id) == before
    assert entries(Action.STAFF_UPDATE) == []


def test_a_nul_byte_is_refused_before_the_view(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])
    before = snapshot(verdi.id)
    assert edit(client, verdi, first_name="Giu\x00seppe").status_code == 400
    assert snapshot(verdi.id) == before


def test_an_hr_manager_of_another_area_sees_and_changes_nothing(
    client: FlaskClient, login_as: Callable, gallo: StaffMember, napoli: Authority
) -> None:
    course = make_course()
    enrolment = Enrolment(staff_id=gallo.id, course_id=course.id)
    _db.session.add(enrolment)
    _db.session.commit()
    login_as(Role.HR, scope=[napoli.region])
    before = snapshot(gallo.id)
    url = f"/personale/{gallo.id}"
    token = csrf_token(client, "/personale/")
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/iscrizioni/{enrolment.id}/rimuovi").status_code == 404
    values = form_values(gallo) | {"first_name": "Hacked", "csrf_token": token}
    assert client.post(f"{url}/modifica", data=values).status_code == 404
    assert client.post(f"{url}/link", data={"csrf_token": token}).status_code == 404
    assert (
        client.post(
            f"{url}/iscrizioni/{enrolment.id}/rimuovi", data={"csrf_token": token, "confirm": "1"}
        ).status_code
        == 404
    )
    assert snapshot(gallo.id) == before
    assert _db.session.scalar(select(PasswordToken.id)) is None
    assert fresh(Enrolment, enrolment.id) is not None
    assert entries(Action.STAFF_UPDATE) == entries(Action.LINKS_ISSUE) == []


def test_a_missing_csrf_token_is_400(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])
    before = snapshot(verdi.id)
    values = form_values(verdi) | {"first_name": "Senza"}
    assert client.post(f"/personale/{verdi.id}/modifica", data=values).status_code == 400
    assert client.post(f"/personale/{verdi.id}/link").status_code == 400
    assert snapshot(verdi.id) == before
    assert _db.session.scalar(select(PasswordToken.id)) is None


@pytest.mark.parametrize("role", [Role.LEARNER, Role.TRAINER])
def test_learners_and_trainers_are_403(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, role: Role
) -> None:
    login_as(role)
    token = csrf_token(client, "/accessibilita")
    url = f"/personale/{verdi.id}"
    before = snapshot(verdi.id)
    assert client.get(url).status_code == 403
    values = form_values(verdi) | {"first_name": "Hacked", "csrf_token": token}
    assert client.post(f"{url}/modifica", data=values).status_code == 403
    assert client.post(f"{url}/link", data={"csrf_token": token}).status_code == 403
    assert snapshot(verdi.id) == before


def test_a_stranger_is_sent_to_sign_in(client: FlaskClient, verdi: StaffMember) -> None:
    token = csrf_token(client, "/login")
    url = f"/personale/{verdi.id}"
    for response in (
        client.get(url),
        client.post(f"{url}/modifica", data=form_values(verdi) | {"csrf_token": token}),
        client.post(f"{url}/link", data={"csrf_token": token}),
    ):
        assert response.status_code == 302
        assert response.location.startswith("/login")


# Last sign-in --------------------------------------------------------------------------


def test_the_page_shows_the_last_sign_in(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])
    page = text(client.get(f"/personale/{verdi.id}"))
    assert re.search(r'id="last-login">\s*Mai', page)
    account = _db.session.get(User, verdi.user_id)
    account.last_login_at = utcnow().replace(year=2026, month=1, day=15, hour=9, minute=30)
    _db.session.commit()
    page = text(client.get(f"/personale/{verdi.id}"))
    assert "Ultimo accesso" in page
    assert "15/01/2026 10:30" in page  # in Italian time (UTC+1 in January)


# One person's link -------------------------------------------------------------------------


def test_one_persons_link_is_shown_once_without_smtp(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority, web_app
) -> None:
    hr = login_as(Role.HR, scope=[napoli])
    url = f"/personale/{verdi.id}"
    first = client.post(f"{url}/link", data={"csrf_token": csrf_token(client, url)})
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    first_link = re.search(r'id="person-link" value="([^"]+)"', text(first)).group(1)
    second = client.post(f"{url}/link", data={"csrf_token": csrf_token(client, url)})
    second_link = re.search(r'id="person-link" value="([^"]+)"', text(second)).group(1)
    assert first_link != second_link
    anonymous = web_app.test_client()
    path = "/password/" + first_link.rsplit("/password/", 1)[1]
    assert anonymous.get(path).status_code == 404  # the earlier link stopped working
    path = "/password/" + second_link.rsplit("/password/", 1)[1]
    assert anonymous.get(path).status_code == 200
    issued = entries(Action.LINKS_ISSUE)
    assert len(issued) == 2
    assert issued[0].actor_id == hr.id
    # Verdi has a password (a forgotten one): the link replaces it, and the entry says so.
    assert issued[0].summary == {"links": 1, "hours": issued[0].summary["hours"], "replacing": 1}
    assert {("user", verdi.user_id), ("authority", napoli.id)} <= objects(issued[0])


def test_one_persons_link_is_e_mailed_with_smtp(
    new_app, smtp_settings, smtp_server, make_user, verdi: StaffMember, napoli: Authority
) -> None:
    app = new_app(**smtp_settings)
    client = app.test_client()
    make_user(Role.HR, email="hr@example.org", scope=[napoli])
    assert login(client, "hr@example.org").status_code == 302
    url = f"/personale/{verdi.id}"
    response = client.post(f"{url}/link", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert "/password/" not in text(client.get(url))
    (message,) = smtp_server.messages
    assert message["To"] == "giuseppe.verdi@comune.napoli.it"
    assert "/password/" in message.get_content()
    assert len(entries(Action.LINKS_ISSUE)) == 1


def test_no_link_for_someone_who_left_or_has_no_account(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    nobody = add_staff(napoli, CF_BRUNO, "Bruno")  # no account
    staff = fresh(StaffMember, verdi.id)
    staff.left_on = today_in_italy() - timedelta(days=1)
    _db.session.commit()
    login_as(Role.HR, scope=[napoli])
    for member, reason in (
        (verdi, "Ha lasciato il servizio"),
        (nobody, "Questa persona non ha ancora un account."),
    ):
        url = f"/personale/{member.id}"
        assert reason in text(client.get(url))
        response = client.post(f"{url}/link", data={"csrf_token": csrf_token(client, url)})
        assert response.status_code == 409
        assert reason in text(response)
    assert _db.session.scalar(select(PasswordToken.id)) is None
    assert entries(Action.LINKS_ISSUE) == []


def test_no_link_for_a_privileged_account_bound_to_a_record(
    client: FlaskClient, login_as: Callable, make_user, napoli: Authority
) -> None:
    trainer = make_user(Role.TRAINER, email="formatore@example.org")
    member = add_staff(napoli, CF_BRUNO, "Bruno", email=trainer.email, user_id=trainer.id)
    login_as(Role.HR, scope=[napoli])
    url = f"/personale/{member.id}"
    response = client.post(f"{url}/link", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 409
    assert "solo un amministratore" in text(response)
    assert _db.session.scalar(select(PasswordToken.id)) is None


@pytest.mark.parametrize("number", ["99999999999999999999", "2147483648"])
def test_ids_past_any_integer_are_404_not_500(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, number: str
) -> None:
    login_as(Role.ADMIN)
    token = csrf_token(client, f"/personale/{verdi.id}")
    for method, url in (
        ("GET", f"/personale/{number}"),
        ("GET", f"/personale/{verdi.id}/iscrizioni/{number}/rimuovi"),
        ("GET", f"/personale/iscrizioni/regole/{number}/rimuovi"),
        ("POST", f"/personale/{number}/modifica"),
        ("POST", f"/personale/{number}/link"),
        ("POST", f"/personale/{verdi.id}/iscrizioni/{number}/rimuovi"),
    ):
        response = client.open(url, method=method, data={"csrf_token": token, "confirm": "1"})
        assert response.status_code == 404, url
