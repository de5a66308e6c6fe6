"""The downloads opened in a real spreadsheet program: LibreOffice Calc, headless, in Italian.

What the XLSX for people (lms/core/people_xlsx.py) promises is what a person
sees in a spreadsheet, so these tests ask one: ``soffice --headless
--convert-to csv`` writes each cell *as shown* (token 9 of the CSV filter's
options), with an Italian locale (the profile's ``ooSetupSystemLocale``
``it-IT``, and the filter's language token 1040, it-IT), and a second
conversion back to XLSX says what Calc understood each cell to be (a number, a
date, a text). Asserted: the columns split, codes keep their leading zero
(``063049``), numbers show with a decimal comma (``9,5``), percentages as
``66,7 %``, dates as dd/mm/yyyy, values in words.

One soffice start converts all the files of a test (about a second); the
profile is made once per run. Without ``soffice`` the tests are skipped, except
in CI (``CI=true``, or ``LMS_REQUIRE_SPREADSHEET=1`` as ``.ci/run`` sets), where
they fail: the project installs it (scripts/install-libreoffice.sh).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import csrf_token, login
from flask import Flask
from flask.testing import FlaskClient
from live_world import PAST, build_live_world
from pypdf import PdfReader
from report_world import world_fixture  # noqa: F401 - the reports' world fixture
from sqlalchemy import select
from test_external import add_training
from test_password_links import person
from test_surveys import FULL, answer, make_survey
from werkzeug.test import TestResponse

from lms.auth.models import Role, User
from lms.core.people_xlsx import write_people_xlsx
from lms.core.types import utcnow
from lms.extensions import db as _db
from lms.external.models import TrainingStatus
from lms.live.attendance import record_attendance
from lms.live.models import AttendanceSource
from lms.live.operations import sign_up
from lms.register.models import Authority, Region, StaffMember
from lms.reports.filters import ReportFilters
from lms.reports.sheets import LEARNER_SHEET_COLUMNS, learners_sheet

SOFFICE = shutil.which(os.environ.get("LMS_SOFFICE", "soffice"))
_TRUE = {"1", "true", "yes"}
REQUIRED = (
    os.environ.get("CI", "").strip().lower() in _TRUE
    or os.environ.get("LMS_REQUIRE_SPREADSHEET", "").strip().lower() in _TRUE
)
pytestmark = [
    pytest.mark.spreadsheet,
    pytest.mark.skipif(
        SOFFICE is None and not REQUIRED,
        reason="LibreOffice (soffice) is not installed: scripts/install-libreoffice.sh",
    ),
]

#: Separator ;, text delimiter ", UTF-8 (76), from line 1, no column formats, it-IT (1040),
#: quoted fields as text no, detect special numbers no, cell contents as shown.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):59,34,76,1,,1040,false,false,true"
#: The profile's settings: the locale Calc formats numbers and dates with.
REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
  xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>it-IT</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse">
<value>it</value></prop></item>
</oor:items>
"""
TIMEOUT = 180


@dataclass
class Opened:
    """One file as Calc shows it (text per cell) and what it understood (openpyxl cells)."""

    shown: list[list[str]]
    understood: list[list[object]]

    def header_index(self) -> int:
        """The row (0-based) of the table's header: the first after the blank row."""
        return next(i for i, row in enumerate(self.shown) if not any(row)) + 1

    def table(self) -> tuple[list[str], list[list[str]], list[list[object]]]:
        """The header, the rows as shown, and the same rows as understood."""
        index = self.header_index()
        header = self.shown[index]
        width = len([cell for cell in header if cell])
        shown = [row[:width] for row in self.shown[index + 1 :] if any(row)]
        understood = [list(row[:width]) for row in self.understood[index + 1 :] if any(row)]
        return header[:width], shown, understood

    def about(self) -> dict[str, str]:
        """The rows above the table: label → value as shown."""
        rows: dict[str, str] = {}
        for row in self.shown[1:]:
            if not any(row):
                break
            rows[row[0]] = row[1]
        return rows


class Calc:
    """LibreOffice Calc, headless, with a profile of its own in Italian."""

    def __init__(self, program: str, root: Path) -> None:
        self.program = program
        self.root = root
        self.profile = root / "profile"
        (self.profile / "user").mkdir(parents=True)
        (self.profile / "user" / "registrymodifications.xcu").write_text(REGISTRY)
        self.runs = 0

    def _convert(self, target: str, sources: list[Path], outdir: Path) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),  # nothing read from, or left in, the real home
            "LANG": "it_IT.UTF-8",
        }
        command = [
            self.program,
            f"-env:UserInstallation={self.profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            *map(str, sources),
        ]
        done = subprocess.run(  # noqa: S603 - our own arguments
            command, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        assert done.returncode == 0, done.stderr

    def pdf(self, name: str, data: bytes) -> PdfReader:
        """The XLSX *data* printed by Calc (its page setup: orientation, scale, titles)."""
        self.runs += 1
        work = self.root / f"run{self.runs}"
        source = work / f"{name}.xlsx"
        work.mkdir(parents=True)
        source.write_bytes(data)
        self._convert("pdf", [source], work / "pdf")
        return PdfReader(work / "pdf" / f"{name}.pdf")

    def open(self, files: dict[str, bytes]) -> dict[str, Opened]:
        """Each file (name → XLSX bytes) as Calc shows it and understands it."""
        self.runs += 1
        work = self.root / f"run{self.runs}"
        sources = []
        for name, data in files.items():
            path = work / "in" / f"{name}.xlsx"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            sources.append(path)
        self._convert(CSV_FILTER, sources, work / "shown")
        self._convert("xlsx", sources, work / "understood")
        opened = {}
        for name in files:
            text = (work / "shown" / f"{name}.csv").read_text(encoding="utf-8")
            shown = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
            book = openpyxl.load_workbook(work / "understood" / f"{name}.xlsx")
            understood = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
            opened[name] = Opened(shown, understood)
        return opened


@pytest.fixture(scope="session")
def calc(tmp_path_factory: pytest.TempPathFactory) -> Calc:
    """LibreOffice Calc in Italian (fails when missing in CI, see the module's docstring)."""
    if SOFFICE is None:
        pytest.fail(
            "soffice is missing and CI=true or LMS_REQUIRE_SPREADSHEET=1: "
            "install it with scripts/install-libreoffice.sh"
        )
    return Calc(SOFFICE, tmp_path_factory.mktemp("calc"))


def xlsx(client: FlaskClient, url: str) -> bytes:
    response: TestResponse = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return response.get_data()


def programme_csv(client: FlaskClient, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


# What an Italian spreadsheet shows for the programme's values ----------------------------

WORDS = {
    "true": "Sì",
    "false": "No",
    "TOTAL": "Totale",
    "comune": "Comune",
    "new_hire": "Neoassunto/a",
    "existing": "Già in servizio",
    "completed": "Completato",
    "in_progress": "In corso",
    "not_started": "Non iniziato",
    "overdue": "In ritardo",
}


def italian_number(text: str) -> str:
    """A programme number (``9.5``) as Calc shows it in Italian under General (``9,5``)."""
    return format(Decimal(text).normalize(), "f").replace(".", ",") if text else ""


def italian_percent(text: str) -> str:
    """A programme percentage (``66.7``) as the ``0.0 %`` format shows it (``66,7 %``)."""
    return f"{Decimal(text):.1f} %".replace(".", ",") if text else ""


def italian_date(text: str) -> str:
    """A programme date (``2026-03-01``) as dd/mm/yyyy."""
    return date.fromisoformat(text).strftime("%d/%m/%Y") if text else ""


def as_shown(row: list[str], kinds: str) -> list[str]:
    """A programme CSV *row* as Calc shows the XLSX's row; *kinds* one letter per column.

    ``c`` code or text as it is, ``w`` a value in words, ``n`` a number, ``1`` a
    number with one decimal, ``p`` a percentage, ``d`` a date.
    """
    convert: dict[str, Callable[[str], str]] = {
        "c": lambda text: text,
        "w": lambda text: WORDS.get(text, text),
        "n": italian_number,
        "1": lambda text: f"{Decimal(text):.1f}".replace(".", ",") if text else "",
        "p": italian_percent,
        "d": italian_date,
    }
    return [convert[kind](text) for kind, text in zip(kinds, row, strict=True)]


# The reports ---------------------------------------------------------------------------------

REGION_KINDS = "wcw" + "nnnnppnn"
AUTHORITY_KINDS = "ccwc" + "nnnnppnn"
LEARNER_KINDS = "ccccccc" + "w" + "c" + "dd" + "w" + "pp" + "d" + "n"
HOURS_KINDS = "nccc" + "nnp" + "1n111"  # the means with one decimal, as on the page


@pytest.mark.usefixtures("world")
def test_the_reports_open_in_calc_as_an_italian_reads_them(
    calc: Calc, client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    query = "as_of=2026-03-01"
    urls = {
        "regioni": f"/reports/coverage.%s?by=region&{query}",
        "enti": f"/reports/coverage.%s?by=authority&{query}",
        "discenti": f"/reports/learners.%s?{query}",
        "ore": f"/reports/hours.%s?year=2026&{query}",
    }
    opened = calc.open({name: xlsx(client, url % "xlsx") for name, url in urls.items()})
    kinds = {
        "regioni": REGION_KINDS,
        "enti": AUTHORITY_KINDS,
        "discenti": LEARNER_KINDS,
        "ore": HOURS_KINDS,
    }
    for name, url in urls.items():
        header, shown, understood = opened[name].table()
        programme = programme_csv(client, url % "csv")
        # the columns split: one cell per column of the programme's file, in Italian
        assert len(header) == len(programme[0]), (name, header)
        assert not set(header) & set(programme[0]), header
        # every cell as an Italian reads it, row for row with the programme's CSV
        assert shown == [as_shown(row, kinds[name]) for row in programme[1:]], name
        assert opened[name].about()["Situazione al"] == "01/03/2026"
        for row, kinds_row in ((row, kinds[name]) for row in understood):
            for kind, value in zip(kinds_row, row, strict=True):
                if value is None:
                    continue
                if kind in "n1p":  # numbers Calc can add up
                    assert isinstance(value, int | float), (name, row)
                elif kind == "d":
                    assert isinstance(value, datetime), (name, row)
                else:
                    assert isinstance(value, str), (name, row)

    # What a person sees, spelt out for a few cells.
    _header, regions, _ = opened["regioni"].table()
    assert regions[0] == [
        "15",
        "Campania",
        "Sì",
        "4",
        "2",
        "3",
        "1",
        "25,0 %",
        "74,4 %",
        "9,5",
        "1",
    ]
    assert regions[-1][:2] == ["Totale", ""]
    _header, authorities, understood = opened["enti"].table()
    assert authorities[0][:3] == ["063049", "Comune di Napoli", "Comune"]  # the zero kept
    assert understood[0][0] == "063049"  # a text to Calc too, not the number 63049
    assert authorities[0][9] == "66,7 %"
    assert understood[0][9] == pytest.approx(0.667)  # a fraction, shown as a percentage
    _header, learners, understood = opened["discenti"].table()
    assert learners[0][9:12] == ["05/01/2026", "01/02/2026", "Completato"]
    assert understood[0][9] == datetime(2026, 1, 5)  # noqa: DTZ001 - a spreadsheet's date
    about = opened["discenti"].about()
    assert about["Corso"] == "Tutti i corsi"
    assert about["Categoria di personale"] == "Tutte"


# The HR manager's other downloads --------------------------------------------------------


def test_links_audit_log_and_external_training_open_in_calc(
    calc: Calc,
    client: FlaskClient,
    login_as: Callable[..., User],
    make_authority: Callable[..., Authority],
) -> None:
    napoli = make_authority(
        "063049", istat_code="063049", region_code="15", name="Comune di Napoli"
    )
    learner = person(napoli, "VRDGPP80A01F839W")
    staff = _db.session.scalars(select(StaffMember).where(StaffMember.user_id == learner.id)).one()
    add_training(
        staff,
        status=TrainingStatus.APPROVED,
        hours="7.5",
        completed_on=date(2026, 2, 10),
        title='=HYPERLINK("http://x")',
    )
    login_as(Role.HR, scope=[napoli])
    token = csrf_token(client, "/personale/link")
    response = client.post("/personale/link", data={"csrf_token": token, "format": "xlsx"})
    assert response.status_code == 200
    opened = calc.open(
        {
            "link": response.get_data(),
            "registro": xlsx(client, "/audit/registro.xlsx"),
            "esterna": xlsx(client, "/formazione-esterna/registro.xlsx"),
        }
    )

    header, links, understood = opened["link"].table()
    assert header == [
        "Codice fiscale",
        "Cognome",
        "Nome",
        "E-mail",
        "Codice ente",
        "Link",
        "Scade il",
    ]
    (row,) = links
    assert row[:5] == ["VRDGPP80A01F839W", "Verdi", "Anna", "vrdgpp80a01f839w@example.it", "063049"]
    assert row[5].startswith("http://localhost/password/")
    assert datetime.strptime(row[6], "%d/%m/%Y %H:%M")  # noqa: DTZ007 - as shown, Italian time
    assert isinstance(understood[0][6], datetime)
    assert opened["link"].about()["Link creati"] == "1"

    header, entries, understood = opened["registro"].table()
    assert header[:5] == ["Data e ora", "Account n.", "Autore", "Canale", "Attività"]
    (entry,) = entries
    assert entry[3:5] == ["Web", "Emissione dei link per impostare la password"]
    assert datetime.strptime(entry[0], "%d/%m/%Y %H:%M:%S")  # noqa: DTZ007 - as shown
    assert isinstance(understood[0][0], datetime)
    assert isinstance(understood[0][1], int | float)

    header, records, understood = opened["esterna"].table()
    (record,) = records
    by_name = dict(zip(header, record, strict=True))
    assert by_name["Codice ente"] == "063049"
    assert by_name["Corso"] == '\'=HYPERLINK("http://x")'  # text, shown escaped, never run
    assert by_name["Conclusa il"] == "10/02/2026"
    assert by_name["Ore"] == "7,5"
    assert by_name["Stato"] == "Approvata"
    assert by_name["Provenienza"] == "Dichiarata dalla persona"
    values = dict(zip(header, understood[0], strict=True))
    assert values["Ore"] == 7.5
    assert isinstance(values["Conclusa il"], datetime)


# The trainer's downloads ---------------------------------------------------------------------


def test_survey_results_and_live_register_open_in_calc(
    calc: Calc,
    tmp_path: Path,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_authority: Callable[..., Authority],
    make_region: Callable[..., Region],
) -> None:
    survey = make_survey(tmp_path)
    for _ in range(5):
        answer(make_user(Role.LEARNER), survey, FULL)
    w = build_live_world(make_user, make_authority, make_region)
    edition = w.edition(starts_at=utcnow() + timedelta(days=1))
    anna = w.person(last_name="Alfa")
    sign_up(edition, anna, w.trainer)
    _db.session.commit()
    edition.starts_at = PAST  # held since: its attendance can be recorded
    _db.session.commit()
    record_attendance(edition, {anna.id: 100}, AttendanceSource.TEAMS, w.trainer)
    _db.session.commit()
    assert login(client, w.trainer.email).status_code == 302
    opened = calc.open(
        {
            "questionario": xlsx(client, "/questionari/corso/questionario/risultati.xlsx"),
            "registro": xlsx(client, f"/sessioni/{edition.id}/registro.xlsx"),
        }
    )
    header, rows, understood = opened["questionario"].table()
    assert header[:3] == ["Gruppo", "Risposte al questionario", "Codice domanda"]
    by_name = [dict(zip(header, row, strict=True)) for row in rows]
    assert {row["Gruppo"] for row in by_name} == {"Tutte le risposte"}
    means = {row["Media"] for row in by_name if row["Media"]}
    assert means == {"3,0", "5,0"}  # everyone answered 3 and 5: one decimal, a decimal comma
    assert all(isinstance(row[1], int | float) for row in understood)

    header, people, understood = opened["registro"].table()
    (row,) = [dict(zip(header, cells, strict=True)) for cells in people]
    assert row["Codice fiscale"] == anna.codice_fiscale
    assert row["Codice ente"] == "063049"
    assert row["Minuti presenti"] == "100"
    assert row["Presenza valida"] == "Sì"
    assert row["Data"] == "10/03/2026"
    values = dict(zip(header, understood[0], strict=True))
    assert isinstance(values["Data"], datetime)
    assert values["Minuti presenti"] == 100


# Printed ---------------------------------------------------------------------------------------


def test_a_long_file_prints_landscape_one_page_wide_with_its_header_on_every_page(
    calc: Calc, app: Flask, tmp_path: Path
) -> None:
    rows = [
        (f"RSSMRA80A01F{i:04d}", "D'Ambrosio", "Niccolò", f"persona{i}@comune.napoli.it",
         "063049", "Comune di Napoli", "15", "new_hire", "Appalti pubblici e contratti",
         date(2026, 1, 5), date(2026, 2, 1), "completed", Decimal("100.0"), Decimal("80.0"),
         date(2026, 2, 10), Decimal("7.5"))
        for i in range(300)
    ]  # fmt: skip
    path = tmp_path / "discenti.xlsx"
    with app.test_request_context():
        filters = ReportFilters(None, date(2026, 3, 1))
        sheet = learners_sheet(filters)
        assert sheet.columns == LEARNER_SHEET_COLUMNS
        write_people_xlsx(path, sheet, rows)
    printed = calc.pdf("discenti", path.read_bytes())
    pages = len(printed.pages)
    assert pages > 1
    for number, page in enumerate(printed.pages, start=1):
        box = page.mediabox
        assert box.width > box.height  # landscape
        text = page.extract_text()
        assert "Codice fiscale Cognome Nome E-mail" in text  # the header on every page
        assert "Ore" in text  # the last column too: one page wide
        assert f"Pagina {number} di {pages}" in text
        assert "###" not in text  # no value too wide for its column
    first = printed.pages[0].extract_text()
    assert "Situazione al 01/03/2026" in first
    assert "Iscrizioni del personale" in first
