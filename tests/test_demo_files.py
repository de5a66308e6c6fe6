"""The demo rosters in docs/examples/ do what the README's tour says for hr.napoli.

The README tells the demo HR manager of the Comune di Napoli to upload
``personale_comune_napoli_errore.csv`` (one mistake, listed; nothing written) and
then ``personale_comune_napoli.csv`` (preview, then confirmation). These tests
load the demo as ``make run`` does and upload both through the page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from conftest import csrf_token, login
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.courses.content import load_tree
from lms.courses.sync import sync_courses
from lms.enrolments.roster import CATEGORY_WORDS, COLUMNS, canonical_column
from lms.extensions import db as _db
from lms.register.models import StaffMember
from lms.site.demo import load_demo, load_demo_staff

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
GOOD = EXAMPLES / "personale_comune_napoli.csv"
ONE_ERROR = EXAMPLES / "personale_comune_napoli_errore.csv"


@pytest.fixture
def demo(db, make_region, make_authority) -> None:
    """What `make run` gives hr.napoli: the Comune, the demo accounts, staff and courses."""
    make_region("18")
    make_authority(istat_code="063049", name="Napoli", region_code="15")
    sources, errors = load_tree(ROOT / "content")
    assert errors == []
    sync_courses(sources)
    load_demo()
    load_demo_staff()
    db.session.commit()


def upload(client: FlaskClient, path: Path) -> str:
    token = csrf_token(client, "/personale/importa")
    response = client.post(
        "/personale/importa",
        data={"csrf_token": token, "roster": (path.open("rb"), path.name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def listed_errors(page: str) -> list[str]:
    listing = page.split('id="import-errors"')[1].split("</ul>", maxsplit=1)[0]
    return [html.unescape(item) for item in re.findall(r"<li[^>]*>([^<]+)</li>", listing)]


def napoli_staff() -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(StaffMember)) or 0


def test_the_readme_names_the_demo_rosters() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in (GOOD, ONE_ERROR, EXAMPLES / "formazione_esterna_comune_napoli.csv"):
        assert f"`{path.relative_to(ROOT)}`" in readme


@pytest.mark.parametrize("path", [GOOD, ONE_ERROR], ids=lambda p: p.name)
def test_the_demo_rosters_are_written_as_excel_on_an_italian_pc_writes_them(path: Path) -> None:
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # Windows-1252 ("Nicolò"), not UTF-8
    lines = data.decode("cp1252").split("\r\n")
    assert lines[-1] == ""  # CRLF after every line, the last one included
    header, *rows = lines[:-1]
    # Italian headers, every column the roster has, each named the way an HR office does
    names = header.split(";")
    assert [canonical_column(name) for name in names] == list(COLUMNS)
    assert all(name[0].isupper() and "_" not in name for name in names), names
    for row in rows:
        cells = row.split(";")
        assert len(cells) == len(names), row
        assert cells[4] == "063049"  # the Comune di Napoli, the only authority in scope
        assert cells[5].lower() in CATEGORY_WORDS
        assert re.fullmatch(r"\d\d/\d\d/\d{4}", cells[7]), row


@pytest.mark.usefixtures("demo")
def test_hr_napoli_sees_the_one_mistake_then_previews_and_confirms_the_demo_roster(
    client: FlaskClient,
) -> None:
    assert login(client, "hr.napoli@demo.example", "Personale-2026").status_code == 302
    before = napoli_staff()
    assert before == 5  # the five demo staff of Napoli

    page = upload(client, ONE_ERROR)
    assert listed_errors(page) == ["riga 4, Data Assunzione: 31/09/2025 non è una data esistente"]
    assert napoli_staff() == before

    page = upload(client, GOOD)
    assert 'id="import-errors"' not in page
    # Six new people; of the demo staff, Assunta Marino gets a profile, Ciro Russo is as he was.
    assert counts(page) == {"new": 6, "updated": 1, "unchanged": 1}
    assert "Conferma l'importazione" in page
    assert napoli_staff() == before  # a preview writes nothing

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    response = client.post("/personale/importa/conferma", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 200
    result = counts(response.get_data(as_text=True))
    assert result["added"] == 6
    assert result["updated"] == 1
    # The Comune's standing rules (two courses) reach the five who have not left.
    assert result["enrolled"] == 10
    assert napoli_staff() == before + 6

    again = upload(client, GOOD)
    assert counts(again) == {"new": 0, "updated": 0, "unchanged": 8}
    # A person's category and whether they are still on the staff, in different words.
    staff_list = client.get("/personale/?q=Esposito").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", staff_list, re.DOTALL)
    cells = {
        re.search(r">([^<]+)</a>", row).group(1): re.findall(r"<td>([^<]*)</td>", row)[-2:]
        for row in rows
        if "</a>" in row
    }
    assert cells == {
        "Esposito Giulia": ["Neoassunto/a", "Attivo"],  # the demo learner
        "Esposito Vincenzo": ["Già in servizio", "Cessato il 31/03/2026"],
    }
