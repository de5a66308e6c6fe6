"""HR managers' staff pages: roster upload, staff list, person, enrolment, links CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.core.types import today_in_italy, utcnow
from lms.courses.models import Course, CourseStatus, Module, ModuleKind, ModuleProgress
from lms.enrolments.models import Enrolment, EnrolmentRule, PendingUpload
from lms.enrolments.uploads import UPLOAD_TTL_SECONDS
from lms.extensions import db as _db
from lms.register.models import Authority, AuthorityKind, StaffCategory, StaffMember

ROSTER = Path(__file__).resolve().parent / "fixtures" / "roster"
GOOD = (ROSTER / "personale_comune.csv").read_bytes()
HEADER = "codice_fiscale,first_name,last_name,email,authority_code,category"


def uploads() -> list[PendingUpload]:
    """Uploads waiting for a confirmation (kept in the database, shared by every instance)."""
    _db.session.expire_all()
    return list(_db.session.scalars(select(PendingUpload)))


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    """Comune di Napoli (ISTAT 063049, IPA c_f839)."""
    return make_authority(
        "063049", istat_code="063049", ipa_code="c_f839", region_code="15", name="Comune di Napoli"
    )


@pytest.fixture
def campania(make_authority: Callable[..., Authority]) -> Authority:
    """Regione Campania (ISTAT 15)."""
    return make_authority(
        "15", kind=AuthorityKind.REGIONE, istat_code="15", region_code="15", name="Regione Campania"
    )


@pytest.fixture
def catanzaro(make_authority: Callable[..., Authority]) -> Authority:
    """Comune di Catanzaro, in Calabria."""
    return make_authority("079023", region_code="18", name="Comune di Catanzaro")


@pytest.fixture
def authorities(napoli: Authority, campania: Authority, catanzaro: Authority) -> dict:
    """The fixture roster's authorities and one in another region, committed."""
    _db.session.commit()
    return {"napoli": napoli, "campania": campania, "catanzaro": catanzaro}


def make_course(slug: str = "fondamenti", *, modules: int = 2, **kwargs: object) -> Course:
    """A published course with *modules* page modules, committed."""
    course = Course(
        slug=slug,
        title=kwargs.pop("title", f"Corso {slug}"),
        hours=Decimal(4),
        source_hash="0" * 64,
        status=kwargs.pop("status", CourseStatus.PUBLISHED),
        **kwargs,
    )
    _db.session.add(course)
    _db.session.flush()
    for n in range(modules):
        _db.session.add(
            Module(
                course_id=course.id,
                slug=f"m{n}",
                position=n,
                title=f"Modulo {n}",
                kind=ModuleKind.PAGE,
                filename=f"m{n}.md",
                source_hash="0" * 64,
            )
        )
    _db.session.commit()
    return course


def add_staff(
    authority: Authority, cf: str, last: str = "Verdi", *, left_on: date | None = None, **kw: object
) -> StaffMember:
    """A staff record (no account), committed."""
    member = StaffMember(
        codice_fiscale=cf,
        first_name=kw.pop("first", "Anna"),
        last_name=last,
        email=kw.pop("email", f"{cf.lower()}@example.it"),
        authority_id=authority.id,
        category=kw.pop("category", StaffCategory.EXISTING),
        left_on=left_on,
        user_id=kw.pop("user_id", None),
    )
    _db.session.add(member)
    _db.session.commit()
    return member


def count(model: type) -> int:
    """Rows of *model* (fresh from the database)."""
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def upload(client: FlaskClient, data: bytes, filename: str = "personale.csv") -> str:
    """Post *data* to the upload page; return the page."""
    token = csrf_token(client, "/personale/importa")
    response = client.post(
        "/personale/importa",
        data={"csrf_token": token, "roster": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def confirm_response(client: FlaskClient, page: str):
    """Press "Conferma l'importazione" on a preview *page*."""
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    return client.post("/personale/importa/conferma", data={"csrf_token": csrf, "token": token})


def confirm(client: FlaskClient, page: str) -> str:
    """Press "Conferma l'importazione" on a preview *page*; return the result page."""
    response = confirm_response(client, page)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def counts(page: str) -> dict[str, int]:
    """The numbers a preview or result page shows, by name."""
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def post(client: FlaskClient, url: str, form_url: str, **data: object) -> object:
    """POST *data* to *url* with a CSRF token taken from *form_url*."""
    return client.post(url, data={"csrf_token": csrf_token(client, form_url), **data})


def enrol_group(client: FlaskClient, course: Course, target: str, **fields: object) -> object:
    """Submit the "enrol an authority or region" form: *target* is ``a:<id>`` or ``r:<id>``."""
    form = {"course": course.id, "target": target, "category": "", **fields}
    return post(client, "/personale/iscrizioni", "/personale/iscrizioni", **form)


# Upload ---------------------------------------------------------------------------------


def test_upload_preview_confirm_then_same_file_is_unchanged(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"].region])
    page = upload(client, GOOD, "personale_comune.csv")
    assert counts(page) == {"new": 9, "updated": 0, "unchanged": 0}
    assert "Conferma l'importazione" in page
    assert "SPSNCL85C12F839V" in page
    assert count(StaffMember) == 0  # a preview writes nothing
    assert len(uploads()) == 1

    result = confirm(client, page)
    assert counts(result) == {
        "added": 9,
        "updated": 0,
        "unchanged": 0,
        "accounts": 9,
        "deactivated": 0,  # the person who left gets an inactive account from the start
        "enrolled": 0,
    }
    assert 'href="/personale/link"' in result
    assert count(StaffMember) == 9
    assert uploads() == []  # the stored copy is gone after the confirmation

    again = upload(client, GOOD, "personale_comune.csv")
    assert counts(again) == {"new": 0, "updated": 0, "unchanged": 9}


def test_a_file_that_went_wrong_since_its_preview_lists_why_on_confirm(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"].region])
    page = upload(client, GOOD, "personale_comune.csv")
    # Meanwhile another person is put on the staff with the first person's address.
    add_staff(
        authorities["napoli"],
        "VRDGPP80A01F839W",
        "Verdi",
        email="niccolo.esposito@comune.napoli.it",
    )
    _db.session.commit()
    result = confirm_response(client, page)
    assert result.status_code == 200
    text = html.unescape(result.get_data(as_text=True))
    errors = re.findall(r"<li>(riga \d+, [^<]+)</li>", text)
    assert errors == [
        "riga 2, E-mail: niccolo.esposito@comune.napoli.it appartiene a un'altra persona"
    ]  # named as the file heads the column
    assert 'id="roster-columns"' in text
    assert "<code>codice_fiscale</code>" in text
    assert "Il file contiene errori: non è stato importato nulla." in text
    assert count(StaffMember) == 1  # Verdi only: nothing of the file was written
    assert uploads() == []


def test_preview_lists_what_changes_for_updated_people(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    add_staff(authorities["napoli"], "SPSNCL85C12F839V", "Vecchio", email="old@example.it")
    login_as(Role.HR, scope=[authorities["napoli"].region])
    page = upload(client, GOOD, "personale_comune.csv")
    assert counts(page) == {"new": 8, "updated": 1, "unchanged": 0}
    assert "<del>Vecchio</del>" in page
    assert "<ins>Esposito</ins>" in page


def test_confirm_needs_the_same_session_and_user(
    client: FlaskClient, web_app: Flask, login_as: Callable, authorities: dict, make_user
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"].region])
    page = upload(client, GOOD)
    other = web_app.test_client()
    hr = make_user(Role.HR, scope=[authorities["napoli"].region])
    login(other, hr.email)
    csrf = csrf_token(other, "/personale/importa")
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    response = other.post("/personale/importa/conferma", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 302
    assert count(StaffMember) == 0


def test_an_upload_older_than_an_hour_cannot_be_confirmed(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"].region])
    page = upload(client, GOOD)
    (pending,) = uploads()
    pending.created_at = utcnow() - timedelta(seconds=UPLOAD_TTL_SECONDS + 1)
    _db.session.commit()
    response = confirm_response(client, page)
    assert response.status_code == 302
    assert response.location == "/personale/importa"
    assert count(StaffMember) == 0


@pytest.mark.usefixtures("authorities")
def test_bad_rows_are_listed_and_nothing_is_written(
    client: FlaskClient, login_as: Callable
) -> None:
    login_as(Role.ADMIN)
    page = upload(client, (ROSTER / "personale_errori.csv").read_bytes(), "personale_errori.csv")
    errors = re.findall(r"<li>(riga \d+, [^<]+)</li>", page)
    assert len(errors) >= 2
    assert 'aria-describedby="roster-help roster-error roster-errors"' in page
    assert 'aria-invalid="true"' in page
    assert "Conferma" not in page
    assert count(StaffMember) == 0
    assert uploads() == []


@pytest.mark.parametrize(
    ("data", "filename"),
    [(b"", "vuoto.csv"), (b"nome;cognome\nAnna;Verdi\n", "a.csv"), (b"\x00\x01garbage", "x.xlsx")],
)
@pytest.mark.usefixtures("authorities")
def test_a_file_that_is_not_a_roster_says_so_in_one_line(
    client: FlaskClient, login_as: Callable, data: bytes, filename: str
) -> None:
    login_as(Role.ADMIN)
    page = upload(client, data, filename)
    errors = re.findall(r"<li>([^<]+)</li>", page.split('id="import-errors"')[1].split("</ul>")[0])
    assert len(errors) == 1
    assert count(StaffMember) == 0


def test_upload_without_a_file_is_a_field_error(client: FlaskClient, login_as: Callable) -> None:
    login_as(Role.HR)
    token = csrf_token(client, "/personale/importa")
    page = client.post("/personale/importa", data={"csrf_token": token}).get_data(as_text=True)
    assert 'id="roster-error"' in page


def test_rows_outside_the_managers_scope_are_errors(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    login_as(Role.HR, scope=[authorities["napoli"]])  # Napoli only, not Regione Campania
    page = upload(client, GOOD)
    errors = re.findall(r"<li>(riga \d+, Codice Ente: [^<]+)</li>", page)
    assert len(errors) == 3  # the three rows of Regione Campania (code 15)
    assert errors[0].endswith("15 non è tra gli enti di cui puoi importare il personale")
    assert count(StaffMember) == 0


def listed_errors(page: str) -> list[str]:
    """The problems the upload page lists, as the reader sees them."""
    listing = page.split('id="import-errors"')[1].split("</ul>", maxsplit=1)[0]
    return [html.unescape(item) for item in re.findall(r"<li[^>]*>([^<]+)</li>", listing)]


ERRORI = (ROSTER / "personale_errori.csv").read_bytes()


@pytest.mark.usefixtures("authorities")
def test_the_problems_of_a_file_are_in_italian_by_default(
    client: FlaskClient, login_as: Callable
) -> None:
    login_as(Role.ADMIN)
    errors = listed_errors(upload(client, ERRORI, "personale_errori.csv"))
    assert errors[:4] == [
        "riga 3, Codice Fiscale: carattere di controllo errato",
        "riga 4, Codice Fiscale: deve avere 16 caratteri, non 15",
        (
            'riga 5, Codice Fiscale: il carattere 9 è "Z" ma dovrebbe essere la lettera del mese '
            "(A B C D E H L M P R S T)"
        ),
        (
            "riga 6, E-mail: giuseppe.deluca@ non è un indirizzo e-mail valido: "
            "manca la parte dopo la @"
        ),
    ]
    assert "riga 9, Data Assunzione: 31/02/2024 non è una data esistente" in errors
    assert "riga 11, Nome: dato obbligatorio mancante" in errors
    assert (
        "riga 14, celle in più: «nota a margine» è oltre l'ultima colonna dell'intestazione"
    ) in errors
    assert len(errors) == 16
    assert not [e for e in errors if not e.startswith("riga ") or " is " in e or "line" in e]

    bad_date = "SPSNCL85C12F839V;Niccolò;Esposito;n.e@comune.napoli.it;063049;neoassunto;;1-3-24;"
    page = upload(client, (ERRORI.decode("cp1252").splitlines()[0] + "\n" + bad_date).encode())
    assert listed_errors(page) == [
        "riga 2, Data Assunzione: 1-3-24 non è una data: scrivi GG/MM/AAAA o AAAA-MM-GG"
    ]
    assert "1 problema nel file:" in page


@pytest.mark.usefixtures("authorities")
def test_a_file_that_is_not_a_roster_is_described_in_italian(
    client: FlaskClient, login_as: Callable
) -> None:
    login_as(Role.ADMIN)
    assert listed_errors(upload(client, b"", "vuoto.csv")) == ["il file è vuoto"]
    assert listed_errors(upload(client, b"%PDF-1.7 x", "cv.pdf")) == [
        "il file non è un file CSV o XLSX"
    ]
    (header_error,) = listed_errors(upload(client, b"nome;cognome\nAnna;Verdi\n", "a.csv"))
    assert header_error.startswith(
        "riga 1: colonne mancanti: codice_fiscale, email, authority_code, category; "
        "colonne attese: codice_fiscale, first_name, last_name"
    )


@pytest.mark.usefixtures("authorities")
def test_problems_beyond_the_listed_ones_are_counted_in_italian(
    client: FlaskClient, login_as: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lms.enrolments.import_views.MAX_ERRORS", 3)
    login_as(Role.ADMIN)
    page = upload(client, ERRORI, "personale_errori.csv")
    errors = listed_errors(page)
    assert errors[:3] == [
        "riga 3, Codice Fiscale: carattere di controllo errato",
        "riga 4, Codice Fiscale: deve avere 16 caratteri, non 15",
        (
            'riga 5, Codice Fiscale: il carattere 9 è "Z" ma dovrebbe essere la lettera del mese '
            "(A B C D E H L M P R S T)"
        ),
    ]
    assert errors[3:] == ["… e altri 13 errori"]
    assert "16 problemi nel file:" in page

    monkeypatch.setattr("lms.enrolments.import_views.MAX_ERRORS", 15)
    assert listed_errors(upload(client, ERRORI, "personale_errori.csv"))[15:] == [
        "… e un altro errore"
    ]


@pytest.mark.usefixtures("authorities")
def test_the_problems_of_a_file_are_in_english_for_an_english_reader(
    client: FlaskClient, login_as: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = login_as(Role.ADMIN)
    user.locale = "en"
    _db.session.commit()
    errors = listed_errors(upload(client, ERRORI, "personale_errori.csv"))
    assert errors[:4] == [
        "line 3, Codice Fiscale: invalid check character",
        "line 4, Codice Fiscale: must be 16 characters, not 15",
        (
            'line 5, Codice Fiscale: character 9 is "Z" but should be a month letter '
            "(A B C D E H L M P R S T)"
        ),
        (
            "line 6, E-mail: giuseppe.deluca@ is not a valid e-mail address: "
            "There must be something after the @-sign."
        ),
    ]
    assert "line 9, Data Assunzione: 31/02/2024 is not a date" in errors
    assert not [e for e in errors if "riga" in e or "non è" in e]
    assert listed_errors(upload(client, b"", "vuoto.csv")) == ["the file is empty"]
    monkeypatch.setattr("lms.enrolments.import_views.MAX_ERRORS", 3)
    page = upload(client, ERRORI, "personale_errori.csv")
    assert listed_errors(page)[3:] == ["… and 13 more errors"]
    assert "16 problems in the file:" in page


@pytest.mark.usefixtures("authorities")
def test_cells_shown_in_a_problem_are_escaped(client: FlaskClient, login_as: Callable) -> None:
    login_as(Role.ADMIN)
    row = "SPSNCL85C12F839V,Niccolò,Esposito,n.e@comune.napoli.it,063049,<b>precaria</b>"
    page = upload(client, f"{HEADER}\n{row}\n".encode())
    assert "<b>precaria</b>" not in page
    assert "&lt;b&gt;precaria&lt;/b&gt; non è una categoria" in page


# Staff list and person -------------------------------------------------------------------


def test_staff_list_is_scoped_searchable_and_filtered(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    napoli, catanzaro = authorities["napoli"], authorities["catanzaro"]
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi", first="Giuseppe")
    add_staff(napoli, "BRNCRL85E50F839P", "Bruno", left_on=date(2020, 1, 1))
    add_staff(catanzaro, "GLLMRC79C03H703R", "Gallo")
    login_as(Role.HR, scope=[napoli.region])
    page = client.get("/personale/").get_data(as_text=True)
    assert "Verdi" in page
    assert "Bruno" in page
    assert "Gallo" not in page  # Calabria is not in the scope
    assert "2 persone trovate" in page

    page = client.get("/personale/?q=giuseppe verdi").get_data(as_text=True)
    assert "Verdi" in page
    assert "Bruno" not in page
    page = client.get("/personale/?q=brncrl85e50f839p").get_data(as_text=True)
    assert "Bruno" in page
    assert "Verdi" not in page
    page = client.get("/personale/?status=left").get_data(as_text=True)
    assert "Bruno" in page
    assert "Verdi" not in page
    page = client.get("/personale/?status=active&authority=c_f839").get_data(as_text=True)
    assert "Verdi" in page
    assert "Bruno" not in page
    page = client.get("/personale/?category=new_hire").get_data(as_text=True)
    assert "0 persone trovate" in page
    assert client.get("/personale/?status=nope").status_code == 400


def test_admin_sees_every_authority(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    add_staff(authorities["napoli"], "VRDGPP80A01F839W", "Verdi")
    add_staff(authorities["catanzaro"], "GLLMRC79C03H703R", "Gallo")
    login_as(Role.ADMIN)
    page = client.get("/personale/").get_data(as_text=True)
    assert "Verdi" in page
    assert "Gallo" in page


def test_person_page_shows_enrolments_and_is_404_out_of_scope(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    course = make_course(modules=4)
    user = User(email="verdi@example.it", role=Role.LEARNER, first_name="A", last_name="V")
    _db.session.add(user)
    _db.session.flush()
    member = add_staff(authorities["napoli"], "VRDGPP80A01F839W", "Verdi", user_id=user.id)
    _db.session.add(Enrolment(staff_id=member.id, course_id=course.id, due_on=date(2030, 6, 30)))
    _db.session.add(
        ModuleProgress(user_id=user.id, module_id=course.modules[0].id, completed_at=utcnow())
    )
    _db.session.commit()
    other = add_staff(authorities["catanzaro"], "GLLMRC79C03H703R", "Gallo")
    login_as(Role.HR, scope=[authorities["napoli"].region])
    page = client.get(f"/personale/{member.id}").get_data(as_text=True)
    assert "Corso fondamenti" in page
    assert "30/06/2030" in page
    assert "25\u00a0% completato" in page
    assert client.get(f"/personale/{other.id}").status_code == 404
    assert client.get("/personale/999999").status_code == 404


def test_someone_who_has_left_cannot_be_enrolled_and_is_told_why(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    course = make_course()
    left = today_in_italy() - timedelta(days=30)
    member = add_staff(authorities["napoli"], "VRDGPP80A01F839W", "Verdi", left_on=left)
    login_as(Role.HR, scope=[authorities["napoli"].region])
    url = f"/personale/{member.id}"
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert f"Ha lasciato il servizio il {left:%d/%m/%Y}" in page
    assert f'action="{url}/iscrivi"' not in page  # no form to fill in vain
    response = post(client, f"{url}/iscrivi", url, course=course.id)
    assert response.status_code == 302
    after = html.unescape(client.get(url).get_data(as_text=True))
    assert f"Non è possibile iscrivere chi ha lasciato il servizio (dal {left:%d/%m/%Y})." in after
    assert "era già iscritta" not in after
    assert count(Enrolment) == 0


def test_enrol_and_unenrol_a_person(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    course = make_course()
    member = add_staff(authorities["napoli"], "VRDGPP80A01F839W", "Verdi")
    login_as(Role.HR, scope=[authorities["napoli"].region])
    url = f"/personale/{member.id}"
    response = post(client, f"{url}/iscrivi", url, course=course.id, due_on="2030-01-31")
    assert response.status_code == 302
    enrolment = _db.session.scalar(select(Enrolment))
    assert (enrolment.staff_id, enrolment.due_on) == (member.id, date(2030, 1, 31))
    remove = f"{url}/iscrizioni/{enrolment.id}/rimuovi"
    assert f'href="{remove}"' in client.get(url).get_data(as_text=True)  # a link, not a form
    # The confirmation page shows what will happen and changes nothing; so does a POST
    # without confirm=1 (an old page's one-click button).
    page = html.unescape(client.get(remove).get_data(as_text=True))
    assert "Annullare l'iscrizione?" in page
    assert "Corso fondamenti" in page
    assert 'name="confirm" value="1"' in page
    assert post(client, remove, url).status_code == 200
    assert post(client, remove, url, confirm="0").status_code == 200
    assert count(Enrolment) == 1
    response = post(client, remove, url, confirm="1")
    assert response.status_code == 302
    assert count(Enrolment) == 0
    assert client.get(remove).status_code == 404  # gone


def test_unenrol_out_of_scope_is_404(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    course = make_course()
    other = add_staff(authorities["catanzaro"], "GLLMRC79C03H703R", "Gallo")
    enrolment = Enrolment(staff_id=other.id, course_id=course.id)
    _db.session.add(enrolment)
    _db.session.commit()
    login_as(Role.HR, scope=[authorities["napoli"].region])
    url = f"/personale/{other.id}/iscrizioni/{enrolment.id}/rimuovi"
    assert client.get(url).status_code == 404
    assert post(client, url, "/personale/", confirm="1").status_code == 404
    assert count(Enrolment) == 1


# Enrolment by authority ------------------------------------------------------------------


def test_enrol_authority_with_standing_rule_then_import_enrols_newcomers(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    course = make_course()
    napoli = authorities["napoli"]
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    add_staff(napoli, "BRNCRL85E50F839P", "Bruno", left_on=date(2020, 1, 1))
    login_as(Role.HR, scope=[napoli.region])
    response = enrol_group(client, course, f"a:{napoli.id}", standing="y")
    assert response.status_code == 302
    page = client.get("/personale/iscrizioni").get_data(as_text=True)
    assert "1 iscritti, 0 già iscritti." in page
    assert "Comune di Napoli" in page
    assert "Corso fondamenti" in page
    assert count(EnrolmentRule) == 1

    result = confirm(client, upload(client, GOOD))
    assert counts(result)["enrolled"] == 5  # Napoli's active newcomers (c_f839 included)

    rule = _db.session.scalar(select(EnrolmentRule))
    remove = f"/personale/iscrizioni/regole/{rule.id}/rimuovi"
    assert f'href="{remove}"' in client.get("/personale/iscrizioni").get_data(as_text=True)
    page = html.unescape(client.get(remove).get_data(as_text=True))
    assert "Rimuovere la regola di iscrizione?" in page
    assert "comprese le 5 che la regola ha fatto per chi è arrivato dopo" in page
    assert post(client, remove, "/personale/iscrizioni").status_code == 200  # no confirm=1
    assert count(EnrolmentRule) == 1
    response = post(client, remove, "/personale/iscrizioni", confirm="1")
    assert response.status_code == 302
    assert count(EnrolmentRule) == 0
    assert count(Enrolment) == 6  # the enrolments stay


def test_rules_list_says_what_people_who_arrive_later_get(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    course = make_course()
    napoli = authorities["napoli"]
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    login_as(Role.HR, scope=[napoli.region])
    due = today_in_italy() + timedelta(days=60)
    response = enrol_group(client, course, f"a:{napoli.id}", due_on=due.isoformat(), standing="y")
    assert response.status_code == 302
    assert _db.session.scalar(select(EnrolmentRule.window_days)) == 60
    page = html.unescape(client.get("/personale/iscrizioni").get_data(as_text=True))
    assert due.strftime("%d/%m/%Y") in page
    assert "entro 60 giorni dall'iscrizione per chi arriva dopo" in page


def test_enrol_region_without_standing_rule(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    course = make_course()
    add_staff(authorities["napoli"], "VRDGPP80A01F839W", "Verdi")
    add_staff(authorities["campania"], "BRNCRL85E50F839P", "Bruno", category=StaffCategory.NEW_HIRE)
    region = authorities["napoli"].region
    login_as(Role.HR, scope=[region])
    response = enrol_group(client, course, f"r:{region.id}", category="new_hire")
    assert response.status_code == 302
    assert count(Enrolment) == 1
    assert count(EnrolmentRule) == 0


def test_enrol_out_of_scope_targets_and_rules_are_404(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    course = make_course()
    catanzaro = authorities["catanzaro"]
    add_staff(catanzaro, "GLLMRC79C03H703R", "Gallo")
    rule = EnrolmentRule(course_id=course.id, authority_id=catanzaro.id)
    _db.session.add(rule)
    _db.session.commit()
    login_as(Role.HR, scope=[authorities["napoli"].region])
    form = "/personale/iscrizioni"
    page = client.get(form).get_data(as_text=True)
    assert "Catanzaro" not in page
    for target in (f"a:{catanzaro.id}", f"r:{catanzaro.region_id}", "x:1"):
        assert post(client, form, form, course=course.id, target=target).status_code == 404
    remove = f"/personale/iscrizioni/regole/{rule.id}/rimuovi"
    assert client.get(remove).status_code == 404
    assert post(client, remove, form, confirm="1").status_code == 404
    assert count(Enrolment) == 0
    assert count(EnrolmentRule) == 1


# Links CSV --------------------------------------------------------------------------------


def test_links_csv_has_one_row_per_person_without_password(
    client: FlaskClient, login_as: Callable, authorities: dict
) -> None:
    napoli = authorities["napoli"]
    users = []
    for email, password_hash in (
        ("a@example.it", None),
        ("b@example.it", "x"),
        ("c@example.it", None),
    ):
        user = User(email=email, role=Role.LEARNER, first_name="A", last_name="B")
        user.password_hash = password_hash
        _db.session.add(user)
        users.append(user)
    _db.session.flush()
    add_staff(
        napoli, "VRDGPP80A01F839W", "=cmd|' /C calc'!A0", email="a@example.it", user_id=users[0].id
    )
    add_staff(napoli, "BRNCRL85E50F839P", "Bruno", email="b@example.it", user_id=users[1].id)
    add_staff(
        authorities["catanzaro"],
        "GLLMRC79C03H703R",
        "Gallo",
        email="c@example.it",
        user_id=users[2].id,
    )
    login_as(Role.HR, scope=[napoli.region])
    response = post(client, "/personale/link", "/personale/link", format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [
        "codice_fiscale",
        "last_name",
        "first_name",
        "email",
        "authority_code",
        "link",
        "expires_at",
    ]
    assert len(rows) == 2  # Bruno has a password, Gallo is out of scope
    assert rows[1][0] == "VRDGPP80A01F839W"
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][4] == "063049"
    assert rows[1][5].startswith("http://localhost/password/")


# Permissions ------------------------------------------------------------------------------

PAGES = ("/personale/", "/personale/importa", "/personale/iscrizioni", "/personale/link")


@pytest.mark.parametrize("role", [None, "learner", "trainer", "hr", "admin"])
def test_permission_table(
    client: FlaskClient, login_as: Callable, authorities: dict, role: str | None
) -> None:
    member = add_staff(authorities["napoli"], "VRDGPP80A01F839W", "Verdi")
    if role:
        login_as(role, scope=[authorities["napoli"]] if role == "hr" else ())
    for url in (*PAGES, f"/personale/{member.id}"):
        status = client.get(url).status_code
        expected = {None: 302, "learner": 403, "trainer": 403}.get(role, 200)
        assert status == expected, (role, url, status)


# Due dates of the enrolment forms: from today (in Italy) to ten years ahead ----------------


@pytest.fixture
def person_url(authorities: dict, login_as: Callable) -> str:
    member = add_staff(authorities["napoli"], "VRDGPP80A01F839W", "Verdi")
    login_as(Role.HR, scope=[authorities["napoli"].region])
    return f"/personale/{member.id}"


def _enrol_person(client: FlaskClient, url: str, due_on: str) -> tuple[int, str]:
    course = make_course()
    response = post(client, f"{url}/iscrivi", url, course=course.id, due_on=due_on)
    return response.status_code, html.unescape(response.get_data(as_text=True))


def test_a_due_date_already_passed_is_refused(client: FlaskClient, person_url: str) -> None:
    yesterday = today_in_italy() - timedelta(days=1)
    status, page = _enrol_person(client, person_url, yesterday.isoformat())
    assert status == 400
    assert "La scadenza è già passata: indica oggi o una data futura." in page
    assert count(Enrolment) == 0


def test_today_is_a_valid_due_date(client: FlaskClient, person_url: str) -> None:
    status, _page = _enrol_person(client, person_url, today_in_italy().isoformat())
    assert status == 302
    assert count(Enrolment) == 1


def test_a_due_date_too_far_ahead_is_refused(client: FlaskClient, person_url: str) -> None:
    far = today_in_italy().replace(year=today_in_italy().year + 11, day=1)
    status, page = _enrol_person(client, person_url, far.isoformat())
    assert status == 400
    assert "La scadenza è troppo lontana: indica una data entro 10 anni." in page
    assert count(Enrolment) == 0


def test_a_group_enrolment_with_a_past_due_date_makes_no_rule(
    client: FlaskClient, authorities: dict, login_as: Callable
) -> None:
    course = make_course()
    napoli = authorities["napoli"]
    add_staff(napoli, "VRDGPP80A01F839W", "Verdi")
    login_as(Role.HR, scope=[napoli.region])
    response = enrol_group(
        client,
        course,
        f"a:{napoli.id}",
        due_on=(today_in_italy() - timedelta(days=3)).isoformat(),
        standing="y",
    )
    assert response.status_code == 400
    assert "La scadenza è già passata" in html.unescape(response.get_data(as_text=True))
    assert count(Enrolment) == 0
    assert count(EnrolmentRule) == 0
