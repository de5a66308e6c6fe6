"""Training done elsewhere: a learner declares, their HR manager decides; every attack refused.

The world: Napoli (Campania) with Maria (a learner on the staff) and Luca; Catanzaro
(Calabria) with Paolo. ``hr`` manages Campania, ``hr_calabria`` Calabria. Each actor
has a client of their own (:func:`client_for`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient
from fpdf import FPDF
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lms.audit.models import AuditEntry, AuditObject
from lms.auth.models import Role, User
from lms.core.types import today_in_italy
from lms.extensions import db
from lms.external.models import ExternalTraining, TrainingSource, TrainingStatus
from lms.external.operations import TrainingError, approve, declarant, refuse
from lms.register.models import Authority, StaffCategory, StaffMember

TODAY = today_in_italy()
LAST_MONTH = TODAY - timedelta(days=30)


def pdf_bytes(text: str = "Attestato di partecipazione") -> bytes:
    """A real one-page PDF."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


@dataclass
class World:
    napoli: Authority
    catanzaro: Authority
    maria: StaffMember
    maria_user: User
    luca: StaffMember
    luca_user: User
    paolo: StaffMember
    paolo_user: User
    hr: User
    hr_calabria: User
    admin: User
    trainer: User
    stranger: User  # a learner account nobody put on the staff


def _staff(
    code: str, first: str, last: str, authority: Authority, user: User | None, **extra: object
) -> StaffMember:
    member = StaffMember(
        codice_fiscale=code,
        first_name=first,
        last_name=last,
        email=f"{first.lower()}.{last.lower()}@comune.example.it",
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
        user_id=user.id if user else None,
        **extra,
    )
    db.session.add(member)
    db.session.flush()
    return member


@pytest.fixture(name="world")
def world_fixture(make_authority, make_user, make_region) -> World:
    napoli = make_authority("063049", name="Comune di Napoli", region_code="15")
    catanzaro = make_authority("079023", name="Comune di Catanzaro", region_code="18")
    maria_user = make_user(Role.LEARNER, email="maria@example.org")
    luca_user = make_user(Role.LEARNER, email="luca@example.org")
    paolo_user = make_user(Role.LEARNER, email="paolo@example.org")
    w = World(
        napoli=napoli,
        catanzaro=catanzaro,
        maria=_staff("RSSMRA80A41F839A", "Maria", "Rossi", napoli, maria_user),
        maria_user=maria_user,
        luca=_staff("VRDLCU85C03F839Y", "Luca", "Verdi", napoli, luca_user),
        luca_user=luca_user,
        paolo=_staff("BNCPLA75B02C352F", "Paolo", "Bianchi", catanzaro, paolo_user),
        paolo_user=paolo_user,
        hr=make_user(Role.HR, email="hr@example.org", scope=[make_region("15")]),
        hr_calabria=make_user(Role.HR, email="hrcal@example.org", scope=[make_region("18")]),
        admin=make_user(Role.ADMIN, email="admin@example.org"),
        trainer=make_user(Role.TRAINER, email="trainer@example.org"),
        stranger=make_user(Role.LEARNER, email="stranger@example.org"),
    )
    db.session.commit()
    return w


@pytest.fixture(name="client_for")
def client_for_fixture(web_app: Flask) -> Callable[[User | None], FlaskClient]:
    """A signed-in client of its own for each actor (None: an anonymous visitor)."""

    def make(user: User | None) -> FlaskClient:
        client = web_app.test_client()
        if user is not None:
            assert login(client, user.email).status_code == 302
        return client

    return make


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs: object):
    """POST with the CSRF token of the client's session."""
    token = csrf_token(client, "/accessibilita")
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def declare_form(**overrides: object) -> dict:
    form: dict[str, object] = {
        "title": "Il nuovo codice dei contratti pubblici",
        "provider": "SNA",
        "completed_on": LAST_MONTH.isoformat(),
        "hours": "7,5",
    }
    form.update(overrides)
    return form


def add_training(
    staff: StaffMember,
    *,
    status: TrainingStatus = TrainingStatus.PENDING,
    hours: str = "8",
    completed_on: date = LAST_MONTH,
    title: str = "Corso SNA",
    certificate: bytes | None = None,
) -> ExternalTraining:
    training = ExternalTraining(
        staff_id=staff.id,
        title=title,
        provider="SNA",
        completed_on=completed_on,
        hours=Decimal(hours),
        status=status,
        source=TrainingSource.DECLARED,
        refusal_reason="Manca l'attestato" if status is TrainingStatus.REFUSED else None,
        certificate_pdf=certificate,
        certificate_filename="attestato.pdf" if certificate else None,
        declared_by_id=staff.user_id,
    )
    db.session.add(training)
    db.session.commit()
    return training


def trainings() -> list[ExternalTraining]:
    db.session.expire_all()
    return list(db.session.scalars(select(ExternalTraining).order_by(ExternalTraining.id)))


def audit_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def text(response) -> str:
    return response.get_data(as_text=True)


# Declaring -------------------------------------------------------------------------------


def test_a_learner_declares_a_course_with_its_certificate(world: World, client_for) -> None:
    client = client_for(world.maria_user)
    page = client.get("/formazione-esterna/dichiara")
    assert page.status_code == 200
    assert 'list="provider-suggestions"' in text(page)
    assert "Formez PA" in text(page)
    response = post(
        client,
        "/formazione-esterna/dichiara",
        {**declare_form(), "certificate": (io.BytesIO(pdf_bytes()), "attestato SNA.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, text(response)[:2000]
    assert response.location == "/formazione-esterna/"
    (training,) = trainings()
    assert training.staff_id == world.maria.id
    assert training.hours == Decimal("7.5")
    assert training.status is TrainingStatus.PENDING
    assert training.source is TrainingSource.DECLARED
    assert training.certificate_pdf is not None
    assert training.certificate_pdf.startswith(b"%PDF-")
    assert training.certificate_filename == "attestato SNA.pdf"
    assert training.declared_by_id == world.maria_user.id
    # A person's own data: not audited (the decisions are).
    assert audit_count() == 0
    mine = text(client.get("/formazione-esterna/"))
    assert "Il nuovo codice dei contratti pubblici" in mine
    assert "In attesa di approvazione" in mine
    assert "7,5" in mine
    pdf = client.get(f"/formazione-esterna/{training.id}/attestato.pdf")
    assert pdf.status_code == 200
    assert pdf.data == training.certificate_pdf
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="attestato-{training.id}.pdf"'
    )
    assert pdf.headers["Cache-Control"] == "no-store"
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"


def test_hours_with_a_dot_and_no_certificate(world: World, client_for) -> None:
    client = client_for(world.maria_user)
    day = LAST_MONTH.strftime("%d/%m/%Y")  # typed the Italian way, without a date picker
    response = post(
        client, "/formazione-esterna/dichiara", declare_form(hours="12.25", completed_on=day)
    )
    assert response.status_code == 302
    (training,) = trainings()
    assert training.hours == Decimal("12.25")
    assert training.completed_on == LAST_MONTH
    assert training.certificate_filename is None
    assert client.get(f"/formazione-esterna/{training.id}/attestato.pdf").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hours": "abc"}, "«abc» non è un numero di ore"),
        ({"hours": ""}, "Indica le ore."),
        ({"hours": "0"}, "Le ore devono essere più di zero."),
        ({"hours": "0,0"}, "Le ore devono essere più di zero."),
        ({"hours": "-3"}, "«-3» non è un numero di ore"),
        ({"hours": "200,5"}, "Al massimo 200 ore per una singola formazione."),
        ({"hours": "7,125"}, "al massimo due decimali"),
        ({"hours": "1e3"}, "«1e3» non è un numero di ore"),
        ({"completed_on": (TODAY + timedelta(days=1)).isoformat()}, "La data è nel futuro"),
        ({"completed_on": "1999-12-31"}, "sono accettate le formazioni dal 2000 in poi"),
        ({"completed_on": "ieri"}, "Data non valida: scrivi GG/MM/AAAA"),
        ({"completed_on": "31/02/2026"}, "Data non valida"),
        ({"completed_on": ""}, "Indica il giorno in cui il corso è finito"),
        ({"title": "   "}, "Indica il titolo del corso."),
        ({"title": "x" * 301}, "al massimo 300 caratteri, non 301"),
        ({"provider": ""}, "Indica l'ente che ha erogato il corso."),
    ],
)
def test_bad_values_are_refused_on_their_field(
    world: World, client_for, overrides: dict, message: str
) -> None:
    client = client_for(world.maria_user)
    response = post(client, "/formazione-esterna/dichiara", declare_form(**overrides))
    assert response.status_code == 400
    page = text(response)
    assert message in page, page[page.find("<main") :][:3000]
    assert 'aria-invalid="true"' in page
    assert "Traceback" not in page
    assert trainings() == []


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        # A web page named .pdf and sent as application/pdf by the browser
        (b"<!doctype html><html><body>Attestato</body></html>", "attestato.pdf", "non è un PDF"),
        # The magic bytes, then HTML: pypdf finds no page
        (b"%PDF-1.7\n<html><script>alert(1)</script></html>", "attestato.pdf", "PDF leggibile"),
        # A PDF whose pages were cut off
        (pdf_bytes()[:200], "attestato.pdf", "PDF leggibile"),
        (b"", "vuoto.pdf", "Il file è vuoto."),
    ],
)
def test_a_certificate_must_really_be_a_pdf(
    world: World, client_for, data: bytes, filename: str, message: str
) -> None:
    client = client_for(world.maria_user)
    response = post(
        client,
        "/formazione-esterna/dichiara",
        {**declare_form(), "certificate": (io.BytesIO(data), filename, "application/pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert message in text(response)
    assert trainings() == []


def test_a_six_megabyte_certificate_is_refused(world: World, client_for) -> None:
    big = pdf_bytes() + b"%" + b"0" * (6 * 1024 * 1024)
    client = client_for(world.maria_user)
    token = csrf_token(client, "/accessibilita")
    # Encoded in memory: the test client would spool a large body to a temporary file
    # it never closes.
    boundary, body = encode_multipart(
        {
            **declare_form(),
            "csrf_token": token,
            "certificate": FileStorage(io.BytesIO(big), filename="grande.pdf"),
        }
    )
    response = client.post(
        "/formazione-esterna/dichiara",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert "Il file è troppo grande: al massimo 5 MB." in text(response)
    assert trainings() == []


def test_the_same_course_cannot_be_declared_twice_unless_refused(world: World, client_for) -> None:
    client = client_for(world.maria_user)
    assert post(client, "/formazione-esterna/dichiara", declare_form()).status_code == 302
    again = post(
        client,
        "/formazione-esterna/dichiara",
        declare_form(title="  IL NUOVO codice  dei contratti pubblici "),
    )
    assert again.status_code == 409
    assert "Hai già dichiarato questo corso" in text(again)
    assert len(trainings()) == 1
    (first,) = trainings()
    first.status = TrainingStatus.REFUSED
    first.refusal_reason = "Data sbagliata"
    db.session.commit()
    assert post(client, "/formazione-esterna/dichiara", declare_form()).status_code == 302
    assert len(trainings()) == 2


@pytest.mark.parametrize("who", ["stranger", "trainer", "admin", "hr"])
def test_accounts_without_a_staff_record_cannot_declare(world: World, client_for, who) -> None:
    client = client_for(getattr(world, who))
    assert client.get("/formazione-esterna/dichiara").status_code == 403
    refused = post(client, "/formazione-esterna/dichiara", declare_form())
    assert refused.status_code == 403
    assert "solo chi fa parte del personale" in text(refused)
    assert trainings() == []
    mine = client.get("/formazione-esterna/")
    assert mine.status_code == 200
    assert "non è collegato a una persona del personale" in text(mine)
    assert "/formazione-esterna/dichiara" not in text(mine)


def test_a_leaver_cannot_declare(world: World) -> None:
    assert declarant(world.maria_user, TODAY) == world.maria
    world.maria.left_on = TODAY  # left today: off the staff from today
    db.session.commit()
    assert declarant(world.maria_user, TODAY) is None
    assert declarant(world.maria_user, TODAY - timedelta(days=1)) == world.maria
    assert declarant(world.stranger, TODAY) is None


def test_anonymous_visitors_are_sent_to_sign_in(world: World, client_for) -> None:
    training = add_training(world.maria, certificate=pdf_bytes())
    client = client_for(None)
    for url in (
        "/formazione-esterna/",
        "/formazione-esterna/dichiara",
        f"/formazione-esterna/{training.id}/attestato.pdf",
        "/formazione-esterna/richieste",
        f"/formazione-esterna/richieste/{training.id}",
        "/formazione-esterna/registro",
        "/formazione-esterna/registro.csv",
        "/formazione-esterna/importa",
        "/formazione-esterna/importa/modello.csv",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/login"), url


# Withdrawing and the certificate --------------------------------------------------------


def test_withdrawing_ones_own_pending_declaration(world: World, client_for) -> None:
    pending = add_training(world.maria)
    approved = add_training(world.maria, status=TrainingStatus.APPROVED, title="Altro")
    others = add_training(world.luca)
    client = client_for(world.maria_user)
    assert client.get(f"/formazione-esterna/{pending.id}/ritira").status_code == 405
    # Someone else's, or one that does not exist: not found alike
    assert post(client, f"/formazione-esterna/{others.id}/ritira").status_code == 404
    assert post(client, "/formazione-esterna/999999/ritira").status_code == 404
    assert post(client, f"/formazione-esterna/{2**40}/ritira").status_code == 404
    # A decided one stays
    kept = post(client, f"/formazione-esterna/{approved.id}/ritira", follow_redirects=True)
    assert "già stata valutata" in text(kept)
    # Without the CSRF token
    assert client.post(f"/formazione-esterna/{pending.id}/ritira").status_code == 400
    assert post(client, f"/formazione-esterna/{pending.id}/ritira").status_code == 302
    assert [t.id for t in trainings()] == [approved.id, others.id]


def test_a_certificate_is_for_its_person_and_their_hr_manager_only(
    world: World, client_for
) -> None:
    training = add_training(world.maria, certificate=pdf_bytes())
    url = f"/formazione-esterna/{training.id}/attestato.pdf"
    assert client_for(world.maria_user).get(url).status_code == 200
    assert client_for(world.hr).get(url).status_code == 200
    assert client_for(world.admin).get(url).status_code == 200
    # IDOR: the id of someone else's record
    assert client_for(world.luca_user).get(url).status_code == 404
    assert client_for(world.paolo_user).get(url).status_code == 404
    assert client_for(world.stranger).get(url).status_code == 404
    assert client_for(world.trainer).get(url).status_code == 404
    hidden = client_for(world.hr_calabria).get(url)
    missing = client_for(world.hr_calabria).get("/formazione-esterna/999999/attestato.pdf")
    assert hidden.status_code == missing.status_code == 404
    assert b"%PDF" not in hidden.data


def test_titles_are_shown_as_text(world: World, client_for) -> None:
    add_training(world.maria, title='<script>alert("x")</script>')
    page = text(client_for(world.maria_user).get("/formazione-esterna/"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


# Deciding --------------------------------------------------------------------------------


def test_the_hr_manager_approves_a_declaration_and_it_is_audited(world: World, client_for) -> None:
    training = add_training(world.maria, hours="7.5", certificate=pdf_bytes())
    client = client_for(world.hr)
    queue = text(client.get("/formazione-esterna/richieste"))
    assert "Rossi Maria" in queue
    assert f"/formazione-esterna/{training.id}/attestato.pdf" in queue
    review = client.get(f"/formazione-esterna/richieste/{training.id}")
    assert review.status_code == 200
    assert "Approva la formazione" in text(review)
    response = post(client, f"/formazione-esterna/richieste/{training.id}/approva")
    assert response.status_code == 302
    (done,) = trainings()
    assert done.status is TrainingStatus.APPROVED
    assert done.decided_by_id == world.hr.id
    assert done.decided_at is not None
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert entry.action == "training.approve"
    assert entry.actor_id == world.hr.id
    assert entry.summary == {
        "hours": "7.50",
        "year": LAST_MONTH.year,
        "source": "declared",
        "before": "pending",
    }
    objects = set(db.session.execute(select(AuditObject.kind, AuditObject.object_id)).all())
    assert {(o[0].value, o[1]) for o in objects} == {
        ("training", training.id),
        ("staff", world.maria.id),
        ("authority", world.napoli.id),
    }
    assert "Rossi Maria" not in text(client.get("/formazione-esterna/richieste"))
    assert "Approvata" in text(client_for(world.maria_user).get("/formazione-esterna/"))


def test_refusing_needs_a_reason_that_the_learner_reads(world: World, client_for) -> None:
    training = add_training(world.maria)
    client = client_for(world.hr)
    url = f"/formazione-esterna/richieste/{training.id}/rifiuta"
    empty = post(client, url, {"reason": "   "})
    assert empty.status_code == 400
    assert "Scrivi il motivo del rifiuto" in text(empty)
    too_long = post(client, url, {"reason": "x" * 501})
    assert too_long.status_code == 400
    assert "Al massimo 500 caratteri." in text(too_long)
    assert trainings()[0].status is TrainingStatus.PENDING
    assert audit_count() == 0
    reason = "L'attestato non riporta le ore: allegane uno che le indichi."
    assert post(client, url, {"reason": reason}).status_code == 302
    (refused,) = trainings()
    assert refused.status is TrainingStatus.REFUSED
    assert refused.refusal_reason == reason
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None
    assert entry.action == "training.refuse"
    assert "attestato" not in str(entry.summary)  # the reason is not in the log
    mine = text(client_for(world.maria_user).get("/formazione-esterna/"))
    assert "Rifiutata" in mine
    assert "L&#39;attestato non riporta le ore" in mine
    # Refused, then approved after all (the right certificate came by e-mail)
    assert post(client, f"/formazione-esterna/richieste/{training.id}/approva").status_code == 302
    (approved,) = trainings()
    assert approved.status is TrainingStatus.APPROVED
    assert approved.refusal_reason is None
    assert audit_count() == 2


def test_an_hr_manager_of_another_area_finds_nothing(world: World, client_for) -> None:
    training = add_training(world.maria, certificate=pdf_bytes())
    client = client_for(world.hr_calabria)
    assert "Corso SNA" not in text(client.get("/formazione-esterna/richieste"))
    assert "Corso SNA" not in text(client.get("/formazione-esterna/registro"))
    assert "Corso SNA" not in text(client.get("/formazione-esterna/registro.csv"))
    for url, answer in (
        (f"/formazione-esterna/richieste/{training.id}", client.get),
        (f"/formazione-esterna/{training.id}/attestato.pdf", client.get),
        (f"/formazione-esterna/registro?persona={world.maria.id}", client.get),
        (f"/formazione-esterna/registro.csv?persona={world.maria.id}", client.get),
    ):
        hidden = answer(url)
        missing = answer(
            url.replace(str(training.id), "999999").replace(str(world.maria.id), "999999")
        )
        assert hidden.status_code == missing.status_code == 404, url
        assert world.maria.codice_fiscale not in text(hidden)
        assert "Corso SNA" not in text(hidden)
    for action, data in (("approva", {}), ("rifiuta", {"reason": "No"})):
        response = post(client, f"/formazione-esterna/richieste/{training.id}/{action}", data)
        assert response.status_code == 404, action
    assert trainings()[0].status is TrainingStatus.PENDING
    assert audit_count() == 0


def test_learners_and_trainers_cannot_decide(world: World, client_for) -> None:
    training = add_training(world.maria)
    for user in (world.maria_user, world.luca_user, world.trainer, world.stranger):
        client = client_for(user)
        for url in (
            "/formazione-esterna/richieste",
            f"/formazione-esterna/richieste/{training.id}",
            "/formazione-esterna/registro",
            "/formazione-esterna/registro.csv",
            "/formazione-esterna/importa",
            "/formazione-esterna/importa/modello.csv",
        ):
            assert client.get(url).status_code == 403, (user.email, url)
        for action in ("approva", "rifiuta"):
            url = f"/formazione-esterna/richieste/{training.id}/{action}"
            assert post(client, url, {"reason": "ok"}).status_code == 403
    assert trainings()[0].status is TrainingStatus.PENDING


def test_nobody_decides_on_their_own_declaration(world: World, client_for, make_user) -> None:
    # An HR manager of Campania who is on Napoli's staff too
    hr_on_staff = make_user(Role.HR, email="hr.staff@example.org", scope=[world.napoli])
    own = _staff("NRENNA90D44H703V", "Anna", "Neri", world.napoli, hr_on_staff)
    db.session.commit()
    client = client_for(hr_on_staff)
    assert post(client, "/formazione-esterna/dichiara", declare_form()).status_code == 302
    (training,) = trainings()
    assert training.staff_id == own.id
    assert "Neri Anna" not in text(client.get("/formazione-esterna/richieste"))
    review = client.get(f"/formazione-esterna/richieste/{training.id}")
    assert review.status_code == 200
    assert "È una tua dichiarazione" in text(review)
    assert "Approva la formazione" not in text(review)
    assert post(client, f"/formazione-esterna/richieste/{training.id}/approva").status_code == 403
    refused = post(client, f"/formazione-esterna/richieste/{training.id}/rifiuta", {"reason": "x"})
    assert refused.status_code == 403
    assert trainings()[0].status is TrainingStatus.PENDING
    # The operations refuse it too, whatever view calls them.
    with pytest.raises(TrainingError, match="tua dichiarazione"):
        approve(training, actor=hr_on_staff)
    with pytest.raises(TrainingError, match="tua dichiarazione"):
        refuse(training, actor=hr_on_staff, reason="x")
    # Another HR manager of the area decides it.
    assert post(client_for(world.hr), f"/formazione-esterna/richieste/{training.id}/approva")
    assert trainings()[0].status is TrainingStatus.APPROVED


def test_the_operations_check_the_scope_themselves(world: World) -> None:
    training = add_training(world.maria)
    with pytest.raises(TrainingError, match="non è tra quelle di tua competenza"):
        approve(training, actor=world.hr_calabria)
    with pytest.raises(TrainingError, match="non è tra quelle di tua competenza"):
        approve(training, actor=world.luca_user)
    approve(training, actor=world.admin)
    with pytest.raises(TrainingError, match="già approvata"):
        approve(training, actor=world.hr)


def test_the_queue_is_oldest_first_and_paged(world: World, client_for) -> None:
    for n in range(27):
        add_training(world.maria if n % 2 else world.luca, title=f"Corso {n:02d}")
    add_training(world.paolo, title="Corso calabrese")
    client = client_for(world.hr)
    first = text(client.get("/formazione-esterna/richieste"))
    assert "27 dichiarazioni in attesa" in first
    assert first.index("Corso 00") < first.index("Corso 01") < first.index("Corso 24")
    assert "Corso 25" not in first
    assert "Corso calabrese" not in first
    second = text(client.get("/formazione-esterna/richieste?page=2"))
    assert "Corso 25" in second
    assert "Corso 26" in second
    assert client.get("/formazione-esterna/richieste?page=3").status_code == 404
    assert client.get("/formazione-esterna/richieste?page=abc").status_code == 404
    assert "Corso calabrese" in text(
        client_for(world.hr_calabria).get("/formazione-esterna/richieste")
    )


# The records and their download ----------------------------------------------------------


def test_the_records_list_filters_and_downloads(world: World, client_for) -> None:
    add_training(world.maria, status=TrainingStatus.APPROVED, title='=HYPERLINK("http://x")')
    add_training(
        world.luca, status=TrainingStatus.REFUSED, title="Rifiutato", completed_on=date(2024, 5, 1)
    )
    add_training(world.paolo, title="Fuori area")
    client = client_for(world.hr)
    page = text(client.get("/formazione-esterna/registro"))
    assert "2 formazioni trovate" in page
    assert "Fuori area" not in page
    assert "1 formazione trovata" in text(client.get("/formazione-esterna/registro?status=refused"))
    assert "1 formazione trovata" in text(client.get("/formazione-esterna/registro?year=2024"))
    person = text(client.get(f"/formazione-esterna/registro?persona={world.maria.id}"))
    assert "1 formazione trovata" in person
    assert "Solo la formazione di Maria Rossi." in person
    assert client.get("/formazione-esterna/registro?status=bogus").status_code == 400
    assert client.get("/formazione-esterna/registro?year=19999").status_code == 400
    assert client.get("/formazione-esterna/registro?persona=abc").status_code == 404
    assert client.get("/formazione-esterna/registro.pdf").status_code == 404
    response = client.get("/formazione-esterna/registro.csv?status=approved")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:6] == [
        "id",
        "codice_fiscale",
        "last_name",
        "first_name",
        "authority_code",
        "title",
    ]
    assert len(rows) == 2
    assert rows[1][5] == '\'=HYPERLINK("http://x")'  # escaped: never a formula
    assert rows[1][9] == "approved"
    xlsx = client.get("/formazione-esterna/registro.xlsx?status=approved")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    (cell,) = [c for row in sheet.iter_rows() for c in row if "HYPERLINK" in str(c.value)]
    assert cell.data_type == "s"  # text, never a formula
    assert str(cell.value).lstrip("'") == '=HYPERLINK("http://x")'


def test_decisions_are_in_the_audit_log_of_the_persons_area_only(world: World, client_for) -> None:
    training = add_training(world.maria)
    hr = client_for(world.hr)
    assert post(hr, f"/formazione-esterna/richieste/{training.id}/approva").status_code == 302
    entry = '<code class="small">training.approve</code>'  # a row of the log, not the filter
    assert entry in text(hr.get("/audit/"))
    assert entry in text(client_for(world.admin).get("/audit/"))
    assert entry not in text(client_for(world.hr_calabria).get("/audit/"))
