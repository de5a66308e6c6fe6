"""An address the mail server refused for good, on the HR person page (issue #16).

The reminders' sender notes a permanent refusal (a 5xx answer) on the staff
record (``email_refused_at``, ``email_refused_reason``) and sends that person
nothing more. The HR manager of the person's area sees why on the person page;
a new address, from the page's edit or from a roster import, clears the note.
Attacks: an HR manager of another area sees nothing and clears nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from conftest import csrf_token
from flask.testing import FlaskClient
from sqlalchemy import select
from test_staff_import import do_import, person, roster_csv

from lms.audit import Action, AuditEntry
from lms.auth.models import Role, User
from lms.enrolments.person_edit import form_values
from lms.enrolments.staff_import import apply_import, plan_import
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

CF_VERDI = "VRDGPP80A01F839W"  # "verdi" of test_staff_import.CF
REASON = "550 5.1.1 <verdi@example.it>: Recipient address rejected: User unknown"
#: 06:05 in UTC on 1 March 2027: 07:05 in Italy (CET).
REFUSED_AT = datetime(2027, 3, 1, 6, 5, tzinfo=UTC)
WARNING = (
    "Il server di posta ha rifiutato questo indirizzo il 01/03/2027 07:05: "
    f"{REASON}. Correggi l'indirizzo: i promemoria riprenderanno."
)


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority(
        "063049", istat_code="063049", ipa_code="c_f839", region_code="15", name="Comune di Napoli"
    )


@pytest.fixture
def catanzaro(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("079023", region_code="18", name="Comune di Catanzaro")


@pytest.fixture
def verdi(napoli: Authority, catanzaro: Authority, make_user: Callable[..., User]) -> StaffMember:
    """Verdi of Napoli, with a learner account, whose address the mail server refused."""
    del catanzaro  # there for the attacks
    user = make_user(Role.LEARNER, email="verdi@example.it", first_name="Nome", last_name="Verdi")
    staff = StaffMember(
        codice_fiscale=CF_VERDI,
        first_name="Nome",
        last_name="Verdi",
        email=user.email,
        authority_id=napoli.id,
        category=StaffCategory.EXISTING,
        user_id=user.id,
        email_refused_at=REFUSED_AT,
        email_refused_reason=REASON,
    )
    _db.session.add(staff)
    _db.session.commit()
    return staff


def refusal(staff: StaffMember) -> tuple[datetime | None, str | None]:
    _db.session.expire_all()
    fresh = _db.session.get(StaffMember, staff.id)
    return fresh.email_refused_at, fresh.email_refused_reason


def page(client: FlaskClient, staff: StaffMember) -> tuple[int, str]:
    response = client.get(f"/personale/{staff.id}")
    return response.status_code, response.get_data(as_text=True)


def edit(client: FlaskClient, staff: StaffMember, **changes: str) -> object:
    _db.session.expire_all()
    values = form_values(_db.session.get(StaffMember, staff.id))
    values.update(changes)
    url = f"/personale/{staff.id}"
    return client.post(f"{url}/modifica", data={"csrf_token": csrf_token(client, url), **values})


# The warning -----------------------------------------------------------------------------


def test_the_hr_manager_of_the_area_sees_the_refusal_next_to_the_address(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])
    status, body = page(client, verdi)
    assert status == 200
    text = html.unescape(body)
    assert WARNING in text
    # The SMTP server's words are text, never markup.
    assert "<verdi@example.it>" not in body
    assert "&lt;verdi@example.it&gt;" in body
    # Beside the address, as a warning a screen reader announces and names.
    email_row = body[body.index(">E-mail</dt>") : body.index(">Ente</dt>")]
    assert 'id="email-refused"' in email_row
    assert 'class="alert alert-warning" role="alert"' in email_row
    assert (
        '<span class="visually-hidden">Attenzione: </span>Indirizzo e-mail rifiutato' in email_row
    )
    # The edit form's e-mail field points to what is wrong with it.
    field = re.search(r'<input[^>]*id="email"[^>]*>', body).group(0)
    assert 'aria-describedby="email-help"' in field
    help_text = re.search(r'<small id="email-help"[^>]*>(.*?)</small>', body).group(1)
    assert (
        html.unescape(help_text)
        == "Il server di posta ha rifiutato l'indirizzo attuale: correggilo."
    )


def test_the_date_is_the_italian_day_and_time_and_a_missing_reason_is_left_out(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    staff = _db.session.get(StaffMember, verdi.id)
    # 22:30 in UTC on 1 July is already 2 July in Italy (CEST, UTC+2).
    staff.email_refused_at = datetime(2027, 7, 1, 22, 30, tzinfo=UTC)
    staff.email_refused_reason = None
    _db.session.commit()
    login_as(Role.HR, scope=[napoli.region])
    text = html.unescape(page(client, verdi)[1])
    assert (
        "Il server di posta ha rifiutato questo indirizzo il 02/07/2027 00:30. "
        "Correggi l'indirizzo: i promemoria riprenderanno."
    ) in text


def test_no_warning_for_an_address_never_refused(
    client: FlaskClient, login_as: Callable, napoli: Authority, catanzaro: Authority
) -> None:
    staff = StaffMember(
        codice_fiscale=CF_VERDI,
        first_name="Nome",
        last_name="Verdi",
        email="verdi@example.it",
        authority_id=napoli.id,
        category=StaffCategory.EXISTING,
    )
    _db.session.add(staff)
    _db.session.commit()
    del catanzaro
    login_as(Role.HR, scope=[napoli])
    status, body = page(client, staff)
    assert status == 200
    assert 'id="email-refused"' not in body
    assert "ha rifiutato" not in body


def test_an_hr_manager_of_another_area_gets_404_and_clears_nothing(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, catanzaro: Authority
) -> None:
    login_as(Role.HR, scope=[catanzaro])
    status, body = page(client, verdi)
    assert status == 404
    assert REASON not in html.unescape(body)
    # Nor can they change the address (and so clear the note) by posting the edit.
    url = f"/personale/{verdi.id}/modifica"
    token = csrf_token(client, "/personale/")
    values = {"csrf_token": token, **form_values(verdi), "email": "altro@example.it"}
    assert client.post(url, data=values).status_code == 404
    # Nor by importing the person under their own authority.
    hostile = _db.session.scalar(select(User).where(User.role == Role.HR))
    outcome = do_import(
        roster_csv(person("verdi", "063049", email="altro@example.it")), importer=hostile
    )
    assert outcome.errors
    assert refusal(verdi) == (REFUSED_AT, REASON)


# A new address clears the note ------------------------------------------------------------


def test_editing_the_e_mail_clears_the_refusal_and_the_audit_entry_says_so(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])
    # Another change keeps the note: the address is still the refused one.
    assert edit(client, verdi, profile="Istruttore").status_code == 302
    assert refusal(verdi) == (REFUSED_AT, REASON)
    assert edit(client, verdi, email="nome.verdi@example.it").status_code == 302
    assert refusal(verdi) == (None, None)
    status, body = page(client, verdi)
    assert status == 200
    assert 'id="email-refused"' not in body
    summaries = [
        e.summary
        for e in _db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == Action.STAFF_UPDATE)
            .order_by(AuditEntry.id)
        )
    ]
    assert [(s["fields"], s["email_refusal_cleared"]) for s in summaries] == [
        (["profile"], False),
        (["email"], True),
    ]


def test_a_refused_edit_clears_nothing(
    client: FlaskClient, login_as: Callable, verdi: StaffMember, napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])
    assert edit(client, verdi, email="non-un-indirizzo").status_code == 400
    assert refusal(verdi) == (REFUSED_AT, REASON)


def test_an_import_that_changes_the_e_mail_clears_it_one_that_keeps_it_does_not(
    verdi: StaffMember,
) -> None:
    # Same address, another name: updated, the note stays.
    outcome = do_import(roster_csv(person("verdi", first="Giuseppe", email="verdi@example.it")))
    assert (outcome.errors, outcome.result.updated) == ([], 1)
    assert refusal(verdi) == (REFUSED_AT, REASON)
    # Same row again: unchanged, the note stays.
    outcome = do_import(roster_csv(person("verdi", first="Giuseppe", email="verdi@example.it")))
    assert (outcome.errors, outcome.result.unchanged) == ([], 1)
    assert refusal(verdi) == (REFUSED_AT, REASON)
    # A new address: cleared, and the account follows the record.
    outcome = do_import(roster_csv(person("verdi", first="Giuseppe", email="g.verdi@example.it")))
    assert (outcome.errors, outcome.result.updated) == ([], 1)
    assert refusal(verdi) == (None, None)
    _db.session.expire_all()
    assert _db.session.get(User, verdi.user_id).email == "g.verdi@example.it"


def test_one_import_clears_only_the_people_whose_address_changed(
    verdi: StaffMember, napoli: Authority
) -> None:
    """Rows with and without a new address in one chunk: one executemany, each row right."""
    other = StaffMember(
        codice_fiscale="BRNCRL85E50F839P",  # "bruno"
        first_name="Nome",
        last_name="Bruno",
        email="bruno@example.it",
        authority_id=napoli.id,
        category=StaffCategory.EXISTING,
        email_refused_at=REFUSED_AT,
        email_refused_reason="550 no such user",
    )
    _db.session.add(other)
    _db.session.commit()
    rows = [
        person("verdi", email="nuovo.verdi@example.it", profile="Nuovo"),
        person("bruno", email="bruno@example.it", profile="Nuovo"),
    ]
    outcome = do_import(roster_csv(*rows))
    assert (outcome.errors, outcome.result.updated) == ([], 2)
    assert refusal(verdi) == (None, None)
    assert refusal(other) == (REFUSED_AT, "550 no such user")
    _db.session.expire_all()
    assert _db.session.get(StaffMember, other.id).profile == "Nuovo"
    assert _db.session.get(StaffMember, verdi.id).profile == "Nuovo"


def test_apply_import_clears_in_the_update_itself(verdi: StaffMember) -> None:
    """The operation, without the import flow: the plan's old and new e-mail decide."""
    _db.session.expire_all()
    record = _db.session.get(StaffMember, verdi.id)
    values = {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "email": "altro@example.it",
        "authority_id": record.authority_id,
        "category": record.category,
        "profile": record.profile,
        "hired_on": record.hired_on,
        "left_on": record.left_on,
    }
    plan = plan_import([], scope=None)
    plan.updated.append((record.id, values, {**values, "email": record.email}))
    apply_import(plan)
    _db.session.commit()
    assert refusal(verdi) == (None, None)
