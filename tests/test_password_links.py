"""Issuing set-password links for staff: a POST, in one transaction, only for learners in scope.

The attacks are an HR manager's: a link sets a password, so a link for an
account of another area, or for an administrator's account, would let the HR
manager sign in as its owner.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from conftest import csrf_token, login
from flask.testing import FlaskClient
from people_sheets import read_people_xlsx
from sqlalchemy import event, func, select

from lms.auth.models import PasswordToken, Role, User
from lms.auth.operations import issue_password_token
from lms.core.types import ROME, today_in_italy
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

CF = ("VRDGPP80A01F839W", "BRNCRL85E50F839P", "GLLMRC79C03H703R", "RSSMRA80A01H501U")


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("063049", istat_code="063049", region_code="15", name="Comune di Napoli")


@pytest.fixture
def catanzaro(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("079023", istat_code="079023", region_code="18", name="Catanzaro")


def person(authority: Authority, cf: str, *, role: Role = Role.LEARNER, **kw: object) -> User:
    """A staff member of *authority* with an account of *role* and no password, committed."""
    user = User(
        email=f"{cf.lower()}@example.it",
        role=role,
        first_name="Anna",
        last_name=kw.pop("last", "Verdi"),
        password_hash=kw.pop("password_hash", None),
    )
    _db.session.add(user)
    _db.session.flush()
    _db.session.add(
        StaffMember(
            codice_fiscale=cf,
            first_name="Anna",
            last_name=user.last_name,
            email=user.email,
            authority_id=authority.id,
            category=StaffCategory.EXISTING,
            user_id=user.id,
            left_on=kw.pop("left_on", None),
        )
    )
    _db.session.commit()
    return user


def issue(client: FlaskClient, kind: str = "csv") -> object:
    token = csrf_token(client, "/personale/link")
    return client.post("/personale/link", data={"csrf_token": token, "format": kind})


def csv_rows(response: object) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def tokens_of(user: User) -> list[PasswordToken]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(PasswordToken).where(PasswordToken.user_id == user.id)))


def test_a_get_issues_nothing(client: FlaskClient, login_as: Callable, napoli: Authority) -> None:
    """A link from another site (an image, a prefetch) must not cancel anyone's links."""
    learner = person(napoli, CF[0])
    login_as(Role.HR, scope=[napoli])
    page = client.get("/personale/link")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "1 persona in servizio non ha ancora impostato la password" in text
    assert "smettono di funzionare" in text  # says that earlier links stop working
    assert client.get("/personale/link.csv").status_code == 404
    assert tokens_of(learner) == []


def test_without_the_form_token_nothing_is_issued(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    learner = person(napoli, CF[0])
    login_as(Role.HR, scope=[napoli])
    response = client.post("/personale/link", data={"format": "csv"})
    assert response.status_code == 400
    assert tokens_of(learner) == []


def test_only_learners_of_the_scope_still_employed_get_links(
    client: FlaskClient, login_as: Callable, napoli: Authority, catanzaro: Authority
) -> None:
    learner = person(napoli, CF[0], last="Verdi")
    admin = person(napoli, CF[1], role=Role.ADMIN, last="Amministra")  # bound by an old bug
    other_area = person(catanzaro, CF[2], last="Gallo")
    left = person(napoli, CF[3], last="Rossi", left_on=today_in_italy())
    login_as(Role.HR, scope=[napoli])
    rows = csv_rows(issue(client))
    assert [row[0] for row in rows[1:]] == [CF[0]]
    assert len(tokens_of(learner)) == 1
    assert tokens_of(admin) == []
    assert tokens_of(other_area) == []
    assert tokens_of(left) == []


def test_new_links_cancel_the_earlier_unused_ones(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    learner = person(napoli, CF[0])
    issue_password_token(learner, hours=72)
    _db.session.commit()
    login_as(Role.HR, scope=[napoli])
    issue(client)
    tokens = tokens_of(learner)
    assert len(tokens) == 2
    assert sum(t.used_at is None for t in tokens) == 1


def test_the_xlsx_download_has_the_same_rows(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    person(napoli, CF[0])
    login_as(Role.HR, scope=[napoli])
    response = issue(client, "xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    table = read_people_xlsx(response.get_data())
    assert table.header[:2] == ["Codice fiscale", "Cognome"]
    assert table.about["Link creati"] == 1
    (row,) = table.records()
    assert row["Codice fiscale"] == CF[0]
    assert str(row["Link"]).startswith("http://localhost/password/")
    expires = row["Scade il"]  # a date and time cell, in Italian time
    assert isinstance(expires, datetime)
    assert table.cell(0, "Scade il").number_format == "dd/mm/yyyy hh:mm"
    csv_row = next(csv.DictReader(io.StringIO(issue(client).get_data(as_text=True))))
    issued = datetime.fromisoformat(csv_row["expires_at"]).astimezone(ROME)
    assert abs(issued.replace(tzinfo=None) - expires) < timedelta(minutes=1)


def test_an_unknown_format_is_refused_and_issues_nothing(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    learner = person(napoli, CF[0])
    login_as(Role.HR, scope=[napoli])
    assert issue(client, "pdf").status_code == 400
    assert tokens_of(learner) == []


def test_the_number_of_queries_does_not_grow_with_the_people(
    web_app, make_user: Callable, make_authority: Callable
) -> None:
    """One transaction for the whole set: the statements do not depend on how many people."""
    small, large = make_authority("063001"), make_authority("063002")
    for n in range(2):
        person(small, f"VRDGPP80A01F8{n:02d}W")
    for n in range(30):
        person(large, f"BRNCRL85E50F8{n:02d}P")

    def statements(authority: Authority) -> int:
        client = web_app.test_client()
        login(client, make_user(Role.HR, scope=[authority]).email)
        token = csrf_token(client, "/personale/link")
        seen = []
        with web_app.app_context():
            engine = _db.engine
        listener = lambda *_args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.post("/personale/link", data={"csrf_token": token, "format": "csv"})
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200
        return len(seen)

    assert statements(small) == statements(large)
    assert _db.session.scalar(select(func.count(PasswordToken.id))) == 32


def test_expiry_is_the_configured_hours_ahead(
    client: FlaskClient, login_as: Callable, napoli: Authority
) -> None:
    learner = person(napoli, CF[0])
    login_as(Role.HR, scope=[napoli])
    issue(client)
    (token,) = tokens_of(learner)
    assert token.expires_at - token.created_at == timedelta(hours=72)
