"""The upload page explains the roster's columns, and offers an empty roster to fill in."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from flask.testing import FlaskClient
from test_staff_pages import upload

from lms.auth.models import Role
from lms.enrolments.roster import (
    COLUMNS,
    HEADER_ALIASES,
    TEMPLATE_HEADER,
    canonical_column,
    column_guide,
)


def _guide_rows(page: str) -> dict[str, tuple[str, str]]:
    table = re.search(r'<table[^>]*id="roster-columns".*?</table>', page, re.DOTALL).group(0)
    rows = {}
    for row in re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", table, re.DOTALL):
        name = re.search(r"<code>([^<]+)</code>", row).group(1)
        aliases, what = (html.unescape(c).strip() for c in re.findall(r"<td>(.*?)</td>", row))
        rows[name] = (aliases, what)
    return rows


def test_every_column_is_explained_with_the_italian_headers_it_accepts(
    client: FlaskClient, login_as: Callable
) -> None:
    login_as(Role.HR)
    page = client.get("/personale/importa").get_data(as_text=True)
    rows = _guide_rows(page)
    assert list(rows) == list(COLUMNS)
    assert rows["first_name"][0] == "nome"
    assert rows["hired_on"] == (
        "data assunzione, data di assunzione, assunto il, assunta il",
        "la data di assunzione: GG/MM/AAAA o AAAA-MM-GG",
    )
    assert "codice ente" in rows["authority_code"][0]
    # Every alias the importer accepts is on the page, under its column.
    for alias, column in HEADER_ALIASES.items():
        shown = "e-mail" if alias == "e_mail" else alias.replace("_", " ")
        assert shown in rows[column][0].split(", "), alias
    assert (
        sum("(facoltativa)" in row for row in re.findall(r"<th scope=\"row\">.*?</th>", page)) == 3
    )


def test_the_guide_is_in_english_for_english_readers(
    client: FlaskClient, login_as: Callable
) -> None:
    login_as(Role.HR)
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get("/personale/importa").get_data(as_text=True)
    assert "How to prepare the file" in page
    assert _guide_rows(page)["hired_on"][1] == "the hiring date: DD/MM/YYYY or YYYY-MM-DD"


def test_the_empty_roster_has_the_header_and_nothing_else(
    client: FlaskClient, login_as: Callable
) -> None:
    login_as(Role.HR)
    response = client.get("/personale/importa/modello.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="modello-personale.csv"'
    )
    body = response.get_data()
    assert (
        body
        == (
            "\ufeffCodice fiscale;Nome;Cognome;E-mail;Codice ente;Categoria;Profilo;"
            "Data assunzione;Data cessazione\r\n"
        ).encode()
    )
    # Each Italian header is read back as the spec's column in its place.
    assert [canonical_column(name) for name in TEMPLATE_HEADER] == list(COLUMNS)
    # Uploaded as it is, it is a file with no one in it, said in one line.
    page = upload(client, body, "modello-personale.csv")
    assert "non ci sono righe sotto l&#39;intestazione" in page


def test_only_hr_managers_get_the_empty_roster(client: FlaskClient, login_as: Callable) -> None:
    login_as(Role.LEARNER)
    assert client.get("/personale/importa/modello.csv").status_code in {403, 404}


def test_the_guide_covers_every_column() -> None:
    assert [c.name for c in column_guide()] == list(COLUMNS)
    assert [c.required for c in column_guide()].count(False) == 3
