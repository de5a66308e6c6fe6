"""The audit trail of the HR pages: un-enrolments, rule removals and links issued.

Each change is recorded in its own transaction with who, what and the objects
touched; a refused change leaves no entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from test_staff_pages import add_staff, confirm, make_course, post, upload

from lms.audit import Action, AuditEntry, AuditObject
from lms.auth.models import Role, User
from lms.enrolments.models import Enrolment, EnrolmentRule
from lms.extensions import db as _db
from lms.register.models import Authority, StaffMember


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("063049", istat_code="063049", region_code="15", name="Comune di Napoli")


def entries(action: Action) -> list[AuditEntry]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def objects(entry: AuditEntry) -> set[tuple[str, int]]:
    return set(
        _db.session.execute(
            select(AuditObject.kind, AuditObject.object_id).where(AuditObject.entry_id == entry.id)
        ).all()
    )


def test_an_un_enrolment_is_recorded_with_the_person_course_and_area(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    course = make_course()
    member = add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    enrolment = Enrolment(staff_id=member.id, course_id=course.id)
    _db.session.add(enrolment)
    _db.session.commit()
    enrolment_id = enrolment.id
    hr = login_as(Role.HR, scope=[napoli])
    url = f"/personale/{member.id}"
    remove = f"{url}/iscrizioni/{enrolment_id}/rimuovi"
    assert post(client, remove, url).status_code == 200  # the confirmation page: no entry
    assert entries(Action.ENROLMENT_DELETE) == []
    assert post(client, remove, url, confirm="1").status_code == 302
    (entry,) = entries(Action.ENROLMENT_DELETE)
    assert entry.actor_id == hr.id
    assert entry.via == "web"
    assert {
        ("enrolment", enrolment_id),
        ("staff", member.id),
        ("course", course.id),
        ("authority", napoli.id),
    } <= objects(entry)


def test_a_refused_un_enrolment_leaves_no_entry(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    course = make_course()
    member = add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    enrolment = Enrolment(staff_id=member.id, course_id=course.id)
    _db.session.add(enrolment)
    _db.session.commit()
    login_as(Role.HR, scope=[napoli])
    response = client.post(
        f"/personale/{member.id}/iscrizioni/{enrolment.id}/rimuovi", data={"confirm": "1"}
    )
    assert response.status_code == 400  # no CSRF token
    assert entries(Action.ENROLMENT_DELETE) == []


def test_removing_a_rule_is_recorded(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    course = make_course()
    rule = EnrolmentRule(course_id=course.id, authority_id=napoli.id)
    _db.session.add(rule)
    _db.session.commit()
    rule_id = rule.id
    hr = login_as(Role.HR, scope=[napoli])
    form = "/personale/iscrizioni"
    remove = f"{form}/regole/{rule_id}/rimuovi"
    assert post(client, remove, form).status_code == 200  # the confirmation page: no entry
    assert entries(Action.RULE_DELETE) == []
    assert post(client, remove, form, confirm="1").status_code == 302
    (entry,) = entries(Action.RULE_DELETE)
    assert entry.actor_id == hr.id
    assert {("rule", rule_id), ("course", course.id), ("authority", napoli.id)} <= objects(entry)
    assert entry.summary == {"enrolments_kept": 0}


def test_issuing_links_is_recorded_with_each_account(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    accounts = []
    for n, cf in enumerate(("VRDGPP80A01F839W", "BRNCRL85E50F839P")):
        user = User(email=f"p{n}@example.it", role=Role.LEARNER)
        _db.session.add(user)
        _db.session.flush()
        add_staff(napoli, cf, email=user.email, user_id=user.id)
        accounts.append(user.id)
    hr = login_as(Role.HR, scope=[napoli])
    response = post(client, "/personale/link", "/personale/link", format="csv")
    assert response.status_code == 200
    (entry,) = entries(Action.LINKS_ISSUE)
    assert entry.actor_id == hr.id
    assert entry.summary["links"] == 2
    assert objects(entry) == {
        ("user", accounts[0]),
        ("user", accounts[1]),
        ("authority", napoli.id),
    }


def test_an_import_is_recorded_with_the_file_digest_counts_and_records(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    data = (
        b"codice_fiscale;first_name;last_name;email;authority_code;category\r\n"
        b"VRDGPP80A01F839W;Giuseppe;Verdi;g.verdi@example.it;063049;existing\r\n"
    )
    hr = login_as(Role.HR, scope=[napoli])
    page = upload(client, data, "personale.csv")
    assert entries(Action.STAFF_IMPORT) == []  # a preview changes nothing, records nothing
    confirm(client, page)
    (entry,) = entries(Action.STAFF_IMPORT)
    assert entry.actor_id == hr.id
    assert entry.summary["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry.summary["added"] == 1
    assert entry.summary["accounts_created"] == 1
    staff_id = _db.session.scalar(select(StaffMember.id))
    assert objects(entry) == {("staff", staff_id), ("authority", napoli.id)}
    stored = json.dumps(entry.summary)
    assert "VRDGPP80A01F839W" not in stored
    assert "verdi" not in stored.lower()


@pytest.mark.usefixtures("napoli")
def test_the_command_line_import_is_recorded_without_an_actor(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    roster = tmp_path / "personale.csv"
    roster.write_text(
        "codice_fiscale,first_name,last_name,email,authority_code,category\n"
        "VRDGPP80A01F839W,Giuseppe,Verdi,g.verdi@example.it,063049,existing\n",
        encoding="utf-8",
    )
    _db.session.commit()
    result = runner.invoke(args=["staff", "import", str(roster)])
    assert result.exit_code == 0, result.output
    (entry,) = entries(Action.STAFF_IMPORT)
    assert entry.actor_id is None
    assert entry.via == "cli"
