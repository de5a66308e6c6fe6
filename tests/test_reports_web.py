"""The reports' pages, downloads and ``lms report``, on the hand-computed world.

Every number below comes from ``report_world.py`` (D = 1 March 2026), counted
by hand there; the downloads must give them cell for cell, in the spec's columns.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import login
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from people_sheets import PeopleTable, read_sheet
from report_world import D, World, utc, world_fixture  # noqa: F401 - the world fixture
from werkzeug.test import TestResponse

from lms.auth.models import Role, User
from lms.core.export import csv_value
from lms.core.types import today_in_italy
from lms.courses.models import Course, CourseStatus
from lms.enrolments.models import Enrolment
from lms.extensions import db
from lms.register.models import Authority, Region, StaffCategory, StaffMember
from lms.reports.coverage import coverage_rows
from lms.reports.filters import ReportFilters

BOM = "\ufeff".encode()


def cell_time(text: str) -> datetime:
    """A naive date and time, as openpyxl reads a date cell."""
    return datetime.fromisoformat(text)


AS_OF = "as_of=2026-03-01"

REGION_HEADER = (
    "region_code,region,less_developed,staff,new_hires,enrolled,completed,"
    "coverage_pct,avg_score_pct,hours_completed,overdue"
)
AUTHORITY_HEADER = (
    "authority_code,authority,kind,region_code,staff,new_hires,enrolled,completed,"
    "coverage_pct,avg_score_pct,hours_completed,overdue"
)
LEARNER_HEADER = (
    "codice_fiscale,last_name,first_name,email,authority_code,authority,region_code,category,"
    "course,enrolled_on,due_on,status,progress_pct,best_score_pct,completed_on,hours"
)
HOURS_HEADER = (
    "year,authority_code,authority,region_code,staff,reached_target,reached_pct,avg_hours,"
    "target_hours,avg_platform_hours,avg_live_hours,avg_external_hours"
)

# By region at D, as test_report_definitions counts it, in CSV text.
REGION_ROWS = [
    ["15", "Campania", "true", "4", "2", "3", "1", "25.0", "74.4", "9.5", "1"],
    ["18", "Calabria", "true", "1", "1", "1", "0", "0.0", "70.0", "0", "0"],
    ["03", "Lombardia", "false", "2", "0", "2", "1", "50.0", "100.0", "8", "0"],
    ["12", "Lazio", "false", "0", "0", "0", "0", "", "", "0", "0"],
    ["TOTAL", "", "", "7", "3", "6", "2", "28.6", "78.7", "17.5", "1"],
]
AUTHORITY_ROWS = [
    ["063049", "Comune di Napoli", "comune", "15", "2", "1", "2", "0", "0.0", "66.7", "8", "1"],
    ["065116", "Comune di Salerno", "comune", "15", "2", "1", "1", "1", "50.0", "90.0", "1.5", "0"],
    ["079023", "Comune di Catanzaro", "comune", "18", "1", "1", "1", "0", "0.0", "70.0", "0", "0"],
    ["015146", "Comune di Milano", "comune", "03", "2", "0", "2", "1", "50.0", "100.0", "8", "0"],
]


def _learner(name: str, place: tuple[str, str, str], category: str, cells: list[str]) -> list[str]:
    cf = f"{name.upper():X<6}00A01F839X"[:16]
    return [cf, f"Cognome {name}", name.title(), f"{name}@example.it", *place, category, *cells]


NAPOLI = ("063049", "Comune di Napoli", "15")
SALERNO = ("065116", "Comune di Salerno", "15")
CATANZARO = ("079023", "Comune di Catanzaro", "18")
MILANO = ("015146", "Comune di Milano", "03")
# course, enrolled_on, due_on, status, progress_pct, best_score_pct, completed_on, hours
LEARNER_ROWS = [
    _learner(
        "anna",
        NAPOLI,
        "new_hire",
        ["corso-a", "2026-01-05", "2026-02-01", "completed", "100.0", "80.0", "2026-02-10", "8"],
    ),
    _learner(
        "anna",
        NAPOLI,
        "new_hire",
        ["corso-b", "2026-02-01", "", "in_progress", "50.0", "53.3", "", "0"],
    ),
    _learner(
        "bruno",
        NAPOLI,
        "existing",
        ["corso-a", "2026-02-20", "2026-02-28", "overdue", "0.0", "", "", "0"],
    ),
    _learner(
        "elena",
        SALERNO,
        "new_hire",
        ["corso-b", "2026-01-10", "", "completed", "100.0", "90.0", "2026-03-01", "1.5"],
    ),
    _learner(
        "gina",
        CATANZARO,
        "new_hire",
        ["corso-a", "2026-02-01", "", "in_progress", "50.0", "70.0", "", "0"],
    ),
    _learner(
        "hugo",
        MILANO,
        "existing",
        ["corso-a", "2026-01-01", "", "completed", "100.0", "100.0", "2026-01-15", "8"],
    ),
    _learner(
        "ivan",
        MILANO,
        "existing",
        ["corso-b", "2026-02-01", "2026-03-01", "not_started", "0.0", "", "", "0"],
    ),
]

DOWNLOADS = [
    "/reports/coverage.csv",
    "/reports/coverage.xlsx",
    "/reports/coverage.csv?by=authority",
    "/reports/learners.csv",
    "/reports/learners.xlsx",
    "/reports/hours.csv",
    "/reports/hours.xlsx",
]
PAGES = ["/reports/", "/reports/regioni/15", "/reports/enti/063049", "/reports/ore"]


# Helpers ----------------------------------------------------------------------------------


def fetch(client: FlaskClient, url: str) -> TestResponse:
    """GET *url*; the body is read whole (for streamed downloads too)."""
    return client.get(url)


def csv_of(response: TestResponse) -> list[list[str]]:
    """The rows of a CSV download, header included, after checking its encoding."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith(BOM)
    assert data.count(BOM) == 1
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF everywhere (no bare newlines)
    return list(csv.reader(io.StringIO(text, newline="")))


def workbook_of(response: TestResponse) -> openpyxl.Workbook:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def people_table(response: TestResponse) -> PeopleTable:
    """The table of a page's XLSX (the file for people: Italian headers, filters above)."""
    (sheet,) = workbook_of(response).worksheets
    return read_sheet(sheet)


def sheet_rows(book: openpyxl.Workbook) -> list[list[object]]:
    (sheet,) = book.worksheets
    assert sheet.freeze_panes == "A2"
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def text_of(response: TestResponse) -> str:
    """The page's HTML with entities decoded and whitespace collapsed."""
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def links(response: TestResponse, prefix: str) -> list[str]:
    """The hrefs starting with *prefix*, decoded, in page order."""
    hrefs = [
        html.unescape(h) for h in re.findall(r'href="([^"]+)"', response.get_data(as_text=True))
    ]
    return [h for h in hrefs if h.startswith(prefix)]


def person_links(response: TestResponse) -> list[str]:
    """The links to people's records (``/personale/<id>``), in page order."""
    return [h for h in links(response, "/personale/") if re.fullmatch(r"/personale/\d+", h)]


def chart_data(response: TestResponse) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="coverage-chart-data">(.*?)</script>',
        response.get_data(as_text=True),
        re.DOTALL,
    )
    assert match, "no chart data block"
    return json.loads(match.group(1))


def headline(response: TestResponse) -> dict[str, str]:
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", response.get_data(as_text=True))
    return {
        html.unescape(k): " ".join(html.unescape(re.sub("<[^>]+>", "", v)).split())
        for k, v in pairs
    }


def row_cells(response: TestResponse, name: str) -> list[str]:
    """The text of the numeric cells of the table row whose header cell mentions *name*."""
    page = response.get_data(as_text=True)
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL):
        header = re.search(r"<th[^>]*>(.*?)</th>", row, re.DOTALL)
        if header and name in html.unescape(header.group(1)):
            cells = re.findall(r'<td class="text-end">(.*?)</td>', row, re.DOTALL)
            return [html.unescape(re.sub("<[^>]+>", "", c)).replace("\xa0", " ") for c in cells]
    msg = f"no row for {name}"
    raise AssertionError(msg)


@pytest.fixture
def hr_of(
    login_as: Callable[..., User],
) -> Callable[[Authority | Region], User]:
    """Sign in an HR manager responsible for one authority or one region."""

    def sign_in(place: Authority | Region) -> User:
        return login_as(Role.HR, scope=[place])

    return sign_in


def add_staff(
    authority: Authority,
    last_names: list[str],
    *,
    course_id: int,
    first_name: str = "Persona",
) -> list[StaffMember]:
    """Staff of *authority* (no account), each enrolled before D in the course."""
    people = []
    for n, last_name in enumerate(last_names):
        member = StaffMember(
            codice_fiscale=f"ZZZ{n:05d}A01F839X",
            first_name=first_name,
            last_name=last_name,
            email=f"persona{n}@{authority.code}.example.it",
            authority_id=authority.id,
            category=StaffCategory.EXISTING,
        )
        db.session.add(member)
        db.session.flush()
        db.session.add(
            Enrolment(staff_id=member.id, course_id=course_id, enrolled_at=utc("2026-02-01 10:00"))
        )
        people.append(member)
    db.session.commit()
    return people


# Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES + DOWNLOADS)
def test_anonymous_is_sent_to_login(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", [Role.LEARNER, Role.TRAINER])
@pytest.mark.usefixtures("world")
def test_learners_and_trainers_may_not_see_reports(
    client: FlaskClient, login_as: Callable[..., User], role: Role
) -> None:
    login_as(role)
    for url in PAGES + DOWNLOADS:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Napoli" not in response.get_data(as_text=True), url


def test_municipal_hr_sees_only_their_authority(
    client: FlaskClient, hr_of: Callable[..., User], world: World
) -> None:
    hr_of(world.napoli)
    home = fetch(client, f"/reports/?{AS_OF}")
    assert home.status_code == 200
    assert chart_data(home)["labels"] == ["Campania"]
    assert headline(home)["Personale"] == "2"
    assert links(home, "/reports/regioni/") == ["/reports/regioni/15?as_of=2026-03-01"]

    region = fetch(client, f"/reports/regioni/15?{AS_OF}")
    assert region.status_code == 200
    assert links(region, "/reports/enti/") == ["/reports/enti/063049?as_of=2026-03-01"]
    assert "Salerno" not in region.get_data(as_text=True)
    assert fetch(client, f"/reports/enti/063049?{AS_OF}").status_code == 200

    for url in [
        "/reports/regioni/18",
        "/reports/regioni/03",
        "/reports/regioni/12",
        "/reports/enti/065116",
        "/reports/enti/015146",
        "/reports/coverage.csv?authority=065116",
        "/reports/coverage.xlsx?by=authority&region=18",
        "/reports/learners.csv?authority=065116",
        "/reports/learners.xlsx?region=03",
        "/reports/hours.csv?authority=015146",
        "/reports/ore?region=18",
        "/reports/?region=03",
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Salerno" not in response.get_data(as_text=True), url
        assert re.search(r"(L'ente|La regione) \w+ non è nella tua area\.", text_of(response)), url

    assert csv_of(fetch(client, f"/reports/coverage.csv?by=region&{AS_OF}"))[1:] == [
        ["15", "Campania", "true", "2", "1", "2", "0", "0.0", "66.7", "8", "1"],
        ["TOTAL", "", "", "2", "1", "2", "0", "0.0", "66.7", "8", "1"],
    ]
    assert csv_of(fetch(client, f"/reports/coverage.csv?by=authority&{AS_OF}"))[1:] == [
        AUTHORITY_ROWS[0]
    ]
    assert csv_of(fetch(client, f"/reports/learners.csv?{AS_OF}"))[1:] == LEARNER_ROWS[:3]
    # the region of their authority is theirs to filter by, and still shows only Napoli
    assert (
        csv_of(fetch(client, f"/reports/learners.csv?region=15&{AS_OF}"))[1:] == (LEARNER_ROWS[:3])
    )
    hours = csv_of(fetch(client, f"/reports/hours.csv?{AS_OF}"))
    assert [row[1] for row in hours[1:]] == ["063049"]


def test_regional_hr_sees_their_region(
    client: FlaskClient, hr_of: Callable[..., User], world: World
) -> None:
    hr_of(world.napoli.region)
    home = fetch(client, f"/reports/?{AS_OF}")
    assert chart_data(home)["labels"] == ["Campania"]
    assert headline(home)["Personale"] == "4"
    region = fetch(client, f"/reports/regioni/15?{AS_OF}")
    assert links(region, "/reports/enti/") == [
        "/reports/enti/063049?as_of=2026-03-01",
        "/reports/enti/065116?as_of=2026-03-01",
    ]
    assert fetch(client, f"/reports/enti/065116?{AS_OF}").status_code == 200
    assert client.get("/reports/enti/079023").status_code == 403
    assert client.get("/reports/regioni/18").status_code == 403
    assert client.get("/reports/learners.csv?authority=015146").status_code == 403
    assert csv_of(fetch(client, f"/reports/coverage.csv?by=region&{AS_OF}"))[1:] == [
        REGION_ROWS[0],
        ["TOTAL", "", "", *REGION_ROWS[0][3:]],
    ]
    assert (
        csv_of(fetch(client, f"/reports/coverage.csv?by=authority&{AS_OF}"))[1:]
        == (AUTHORITY_ROWS[:2])
    )
    assert csv_of(fetch(client, f"/reports/learners.csv?{AS_OF}"))[1:] == LEARNER_ROWS[:4]


@pytest.mark.usefixtures("world")
def test_hr_without_scope_sees_nothing(client: FlaskClient, login_as: Callable[..., User]) -> None:
    login_as(Role.HR)
    assert chart_data(fetch(client, f"/reports/?{AS_OF}"))["labels"] == []
    assert csv_of(fetch(client, f"/reports/coverage.csv?{AS_OF}"))[1:] == [
        ["TOTAL", "", "", "0", "0", "0", "0", "", "", "0", "0"]
    ]
    assert csv_of(fetch(client, f"/reports/learners.csv?{AS_OF}"))[1:] == []
    assert client.get("/reports/regioni/15").status_code == 403
    assert client.get("/reports/enti/063049").status_code == 403


@pytest.mark.usefixtures("world")
def test_admin_sees_every_region(client: FlaskClient, login_as: Callable[..., User]) -> None:
    login_as(Role.ADMIN)
    home = fetch(client, f"/reports/?{AS_OF}")
    assert chart_data(home)["labels"] == ["Campania", "Calabria", "Lombardia", "Lazio"]
    assert csv_of(fetch(client, f"/reports/coverage.csv?{AS_OF}")) == [
        REGION_HEADER.split(","),
        *REGION_ROWS,
    ]
    assert fetch(client, f"/reports/regioni/12?{AS_OF}").status_code == 200
    assert fetch(client, f"/reports/enti/058091?{AS_OF}").status_code == 200


@pytest.mark.usefixtures("world")
def test_admin_sees_regions_without_any_authority(
    client: FlaskClient,
    runner: FlaskCliRunner,
    login_as: Callable[..., User],
    make_region: Callable[..., Region],
) -> None:
    make_region("01")
    db.session.commit()
    login_as(Role.ADMIN)
    web = fetch(client, f"/reports/coverage.csv?{AS_OF}")
    rows = csv_of(web)
    assert ["01", "Piemonte", "false", "0", "0", "0", "0", "", "", "0", "0"] in rows
    assert [row[0] for row in rows[1:]] == ["15", "18", "01", "03", "12", "TOTAL"]
    assert "Piemonte" in chart_data(fetch(client, f"/reports/?{AS_OF}"))["labels"]
    cli = runner.invoke(args=["report", "coverage", "--as-of", "2026-03-01"])
    assert cli.stdout_bytes == web.get_data()


# Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/reports/?as_of=2026-13-45", "Data non valida: 2026-13-45"),
        ("/reports/?as_of=abc", "Data non valida: abc"),
        ("/reports/?as_of=2026-02-30", "Data non valida: 2026-02-30"),
        ("/reports/?as_of=9999-12-31", "Data fuori intervallo: 9999-12-31"),
        ("/reports/learners.csv?as_of=0001-01-01", "Data fuori intervallo: 0001-01-01"),
        ("/reports/?course=nope", "Corso sconosciuto: nope."),
        ("/reports/?category=boh", "Categoria sconosciuta: boh"),
        ("/reports/?region=99", "Regione sconosciuta: 99."),
        ("/reports/regioni/99", "Regione sconosciuta: 99."),
        ("/reports/enti/999999", "Ente sconosciuto: 999999."),
        ("/reports/enti/063049?as_of=abc", "Data non valida: abc"),
        ("/reports/coverage.csv?by=foo", "Raggruppamento non valido: foo"),
        ("/reports/coverage.xlsx?as_of=2026-13-45", "Data non valida: 2026-13-45"),
        ("/reports/coverage.csv?authority=nope", "Ente sconosciuto: nope."),
        ("/reports/learners.csv?course=nope", "Corso sconosciuto: nope."),
        ("/reports/learners.xlsx?category=boh", "Categoria sconosciuta: boh"),
        ("/reports/ore?year=1999", "Anno non valido: 1999."),
        ("/reports/ore?year=abc", "Anno non valido: abc."),
        ("/reports/ore?as_of=2026-03-01&year=2027", "Anno non valido: 2027."),
        ("/reports/hours.csv?year=abc", "Anno non valido: abc."),
        ("/reports/ore?as_of=abc", "Data non valida: abc"),
    ],
)
@pytest.mark.usefixtures("world")
def test_bad_input_is_a_clear_400(
    client: FlaskClient, login_as: Callable[..., User], url: str, message: str
) -> None:
    login_as(Role.ADMIN)
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = text_of(response)
    assert message in page
    assert "Traceback" not in page
    assert "Content-Disposition" not in response.headers


@pytest.mark.parametrize(
    "url",
    [
        "/reports/coverage.pdf",
        "/reports/coverage.CSV",
        "/reports/learners.json",
        "/reports/hours.pdf",
        "/reports/enti/063049?page=0",
        "/reports/enti/063049?page=-1",
        "/reports/enti/063049?page=2",
        "/reports/enti/063049?page=999",
        "/reports/enti/058091?page=2",
    ],
)
@pytest.mark.usefixtures("world")
def test_not_found(client: FlaskClient, login_as: Callable[..., User], url: str) -> None:
    login_as(Role.ADMIN)
    assert client.get(f"{url}{'&' if '?' in url else '?'}{AS_OF}").status_code == 404


# Pages ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
def test_home_headline_chart_and_region_table(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/?{AS_OF}")
    assert response.status_code == 200
    assert headline(response) == {
        "Personale": "7",
        "Neoassunti": "3",
        "Iscritti": "6",
        "Hanno completato": "2",
        "Copertura": "28,6 %",
        "Iscrizioni in ritardo": "1",
    }
    chart = chart_data(response)
    assert chart["labels"] == ["Campania", "Calabria", "Lombardia", "Lazio"]
    assert chart["coverage"] == [25.0, 0.0, 50.0, None]
    assert chart["enrolled"] == [75.0, 100.0, 100.0, None]
    # regions with staff link to their page; Lazio has none
    assert links(response, "/reports/regioni/") == [
        "/reports/regioni/15?as_of=2026-03-01",
        "/reports/regioni/18?as_of=2026-03-01",
        "/reports/regioni/03?as_of=2026-03-01",
    ]
    assert row_cells(response, "Campania") == [
        "4", "2", "3", "1", "25,0 %", "74,4 %", "9,5", "1"
    ]  # fmt: skip
    # A figure that does not apply: a dash, and its words for screen readers.
    na = "–non applicabile"
    assert row_cells(response, "Lazio") == ["0", "0", "0", "0", na, na, "0", "0"]
    assert row_cells(response, "Totale") == [
        "7", "3", "6", "2", "28,6 %", "78,7 %", "17,5", "1"
    ]  # fmt: skip
    # the downloads carry the filters
    assert f"/reports/coverage.csv?by=region&{AS_OF}" in links(response, "/reports/coverage.")
    assert f"/reports/learners.xlsx?{AS_OF}" in links(response, "/reports/learners.")


@pytest.mark.usefixtures("world")
def test_home_with_filters_links_carry_them(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/?{AS_OF}&course=corso-a&category=neoassunto")
    assert response.status_code == 200
    query = "as_of=2026-03-01&course=corso-a&category=new_hire"
    # new hires enrolled in A: anna (Napoli, completed) and gina (Catanzaro)
    assert links(response, "/reports/regioni/") == [
        f"/reports/regioni/15?{query}",
        f"/reports/regioni/18?{query}",
    ]
    assert chart_data(response)["coverage"] == [50.0, 0.0, None, None]
    assert f"/reports/learners.csv?{query}" in links(response, "/reports/learners.")
    region = fetch(client, f"/reports/regioni/15?{query}")
    assert links(region, "/reports/enti/") == [
        f"/reports/enti/063049?{query}",
        f"/reports/enti/065116?{query}",
    ]
    assert f"/reports/coverage.csv?by=authority&{query}&region=15" in links(
        region, "/reports/coverage."
    )


@pytest.mark.usefixtures("world")
def test_the_course_filter_offers_courses_people_take_or_took(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    def course(slug: str, **values: object) -> None:
        db.session.add(
            Course(
                slug=slug, title=f"Corso {slug}", hours=Decimal(1), source_hash="0" * 64, **values
            )
        )

    course("bozza", status=CourseStatus.DRAFT)  # nobody enrolled: not a filter
    course("ritirato", retired_at=datetime(2026, 1, 1, tzinfo=UTC))  # retired, nobody: not
    course("nuovo")  # published, nobody enrolled yet: people can be enrolled, so offered
    db.session.commit()
    login_as(Role.ADMIN)
    page = fetch(client, f"/reports/?{AS_OF}").get_data(as_text=True)
    offered = re.findall(r'<option value="([^"]+)"[^>]*>Corso ', page)
    assert offered == ["corso-a", "corso-b", "nuovo"]
    # A filter on a course left out of the list still works (a saved link).
    assert fetch(client, f"/reports/?{AS_OF}&course=bozza").status_code == 200


@pytest.mark.usefixtures("world")
def test_region_page_lists_its_authorities(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/regioni/15?{AS_OF}")
    assert response.status_code == 200
    assert '<h1 class="lms-page-title">Campania</h1>' in response.get_data(as_text=True)
    assert links(response, "/reports/enti/") == [
        "/reports/enti/063049?as_of=2026-03-01",
        "/reports/enti/065116?as_of=2026-03-01",
    ]
    assert row_cells(response, "Comune di Napoli") == [
        "2", "1", "2", "0", "0,0 %", "66,7 %", "8", "1"
    ]  # fmt: skip
    assert row_cells(response, "Comune di Salerno") == [
        "2", "1", "1", "1", "50,0 %", "90,0 %", "1,5", "0"
    ]  # fmt: skip
    assert row_cells(response, "Totale regione") == [
        "4", "2", "3", "1", "25,0 %", "74,4 %", "9,5", "1"
    ]  # fmt: skip
    assert "Catanzaro" not in response.get_data(as_text=True)
    # the region accepts a code written without its leading zero
    assert "Lombardia" in text_of(fetch(client, f"/reports/regioni/3?{AS_OF}"))


def test_authority_page_lists_learners(
    client: FlaskClient, login_as: Callable[..., User], world: World
) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/enti/063049?{AS_OF}")
    assert response.status_code == 200
    page = text_of(response)
    anna, bruno = world.people["anna"].id, world.people["bruno"].id
    assert person_links(response) == [
        f"/personale/{anna}",
        f"/personale/{anna}",
        f"/personale/{bruno}",
    ]
    assert "3 iscrizioni" in page
    for status, label in [
        ("completed", "Completato"),
        ("in_progress", "In corso"),
        ("overdue", "In ritardo"),
    ]:
        assert f'lms-status-{status}">{label}</span>' in response.get_data(as_text=True)
    assert "Non iniziato" not in page
    assert "Cognome carla" not in page  # hired after D
    assert "Cognome dario" not in page  # left on D
    assert "28/02/2026" in page  # bruno's due date
    assert "10/02/2026" in page  # anna's completion of A
    # ivan, at Milano, has not started
    milano = fetch(client, f"/reports/enti/015146?{AS_OF}")
    assert 'lms-status-not_started">Non iniziato' in milano.get_data(as_text=True)
    # an authority with no staff: a page with no rows, not an error
    roma = fetch(client, f"/reports/enti/058091?{AS_OF}")
    assert roma.status_code == 200
    assert "Nessuna iscrizione alla data scelta." in text_of(roma)


def test_authority_page_in_pages_of_fifty(
    client: FlaskClient, login_as: Callable[..., User], world: World, make_authority
) -> None:
    big = make_authority("063050", name="Comune Grande", region_code="15")
    add_staff(big, [f"Cognome {n:03d}" for n in range(1, 52)], course_id=world.a.id)
    login_as(Role.ADMIN)
    first = fetch(client, f"/reports/enti/063050?{AS_OF}")
    assert first.status_code == 200
    assert len(person_links(first)) == 50
    assert "51 iscrizioni" in text_of(first)
    assert "Pagina 1 di 2" in text_of(first)
    assert links(first, "/reports/enti/063050?page=") == [
        "/reports/enti/063050?page=2&as_of=2026-03-01"
    ]
    second = fetch(client, "/reports/enti/063050?page=2&as_of=2026-03-01")
    assert second.status_code == 200
    assert len(person_links(second)) == 1
    assert "Cognome 051" in text_of(second)
    assert "Cognome 050" not in text_of(second)
    assert "Pagina 2 di 2" in text_of(second)
    assert client.get(f"/reports/enti/063050?page=3&{AS_OF}").status_code == 404
    # the download is not paginated
    assert len(csv_of(fetch(client, f"/reports/learners.csv?authority=063050&{AS_OF}"))) == 52


def _hours_client(new_app: Callable[..., Flask], make_user: Callable[..., User], target: int):
    app = new_app(ANNUAL_HOURS_TARGET=target)
    client = app.test_client()
    admin = make_user(Role.ADMIN)
    assert login(client, admin.email).status_code == 302
    return client


@pytest.mark.usefixtures("world")
def test_hours_page_counts_who_reached_the_target(
    new_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    client = _hours_client(new_app, make_user, 8)
    response = fetch(client, f"/reports/ore?{AS_OF}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Ore di formazione 2026" in page
    assert "obiettivo annuale di 8 ore" in page
    # anna (A, 8 h) and hugo (A, 8 h); elena has 1.5 h; gina completed on 2 March
    assert "2 persone su 7 hanno raggiunto l'obiettivo." in page
    # staff, reached, %, mean hours, of which on the platform, live, external
    assert row_cells(response, "Comune di Napoli") == ["2", "1", "50,0 %", "4", "4", "0", "0"]
    assert row_cells(response, "Comune di Salerno") == ["2", "0", "0,0 %", "0,8", "0,8", "0", "0"]
    assert row_cells(response, "Comune di Catanzaro") == ["1", "0", "0,0 %", "0", "0", "0", "0"]
    assert row_cells(response, "Comune di Milano") == ["2", "1", "50,0 %", "4", "4", "0", "0"]
    assert "Roma Capitale" not in page
    assert csv_of(fetch(client, f"/reports/hours.csv?{AS_OF}")) == [
        HOURS_HEADER.split(","),
        # the platform's hours only: no live session, no training done elsewhere
        ["2026", *NAPOLI, "2", "1", "50.0", "4.0", "8", "4.0", "0.0", "0.0"],
        ["2026", *SALERNO, "2", "0", "0.0", "0.8", "8", "0.8", "0.0", "0.0"],
        ["2026", *CATANZARO, "1", "0", "0.0", "0.0", "8", "0.0", "0.0", "0.0"],
        ["2026", *MILANO, "2", "1", "50.0", "4.0", "8", "4.0", "0.0", "0.0"],
    ]
    # on 2 March gina's completion counts; elena has left and carla is hired (her
    # course, completed in January before she was staff, counts in her year)
    assert "4 persone su 7 hanno raggiunto l'obiettivo." in text_of(
        fetch(client, "/reports/ore?as_of=2026-03-02")
    )
    # in 2025 nobody completed anything; the staff are those at the end of 2025
    # (dario still there, carla not yet hired)
    last_year = text_of(fetch(client, f"/reports/ore?{AS_OF}&year=2025"))
    assert "Ore di formazione 2025" in last_year
    assert "0 persone su 8 hanno raggiunto l'obiettivo." in last_year


@pytest.mark.usefixtures("world")
def test_hours_page_with_the_default_target(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    page = text_of(fetch(client, f"/reports/ore?{AS_OF}"))
    assert "obiettivo annuale di 40 ore" in page
    assert "0 persone su 7 hanno raggiunto l'obiettivo." in page


# Downloads --------------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
def test_coverage_csv_by_region_is_the_report(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/coverage.csv?by=region&{AS_OF}")
    data = response.get_data()
    assert data.startswith(BOM + REGION_HEADER.encode() + b"\r\n")
    rows = csv_of(response)
    assert rows == [REGION_HEADER.split(","), *REGION_ROWS]
    # the same cells as the report's own rows
    expected = coverage_rows(ReportFilters(None, as_of=D), "region")
    assert rows[1:] == [[csv_value(cell) for cell in row] for row in expected]
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="copertura-regioni-2026-03-01.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_coverage_csv_with_course_and_category(
    client: FlaskClient, login_as: Callable[..., User], world: World
) -> None:
    login_as(Role.ADMIN)
    by_course = csv_of(fetch(client, f"/reports/coverage.csv?course=corso-a&{AS_OF}"))
    assert by_course[1] == ["15", "Campania", "true", "4", "2", "2", "1", "25.0", "80.0", "8", "1"]
    assert by_course[-1] == ["TOTAL", "", "", "7", "3", "4", "2", "28.6", "83.3", "16", "1"]
    expected = coverage_rows(ReportFilters(None, as_of=D, course=world.a), "region")
    assert by_course[1:] == [[csv_value(cell) for cell in row] for row in expected]
    by_category = csv_of(fetch(client, f"/reports/coverage.csv?category=new_hire&{AS_OF}"))
    assert by_category[1][3:] == ["2", "2", "2", "1", "50.0", "74.4", "9.5", "0"]
    assert by_category[-1][3:] == ["3", "3", "3", "1", "33.3", "73.3", "9.5", "0"]
    # the Italian name of the category works on the web too
    assert csv_of(fetch(client, f"/reports/coverage.csv?category=neoassunto&{AS_OF}")) == (
        by_category
    )
    earlier = csv_of(fetch(client, "/reports/coverage.csv?as_of=31/01/2026"))
    assert earlier[1][3:8] == ["5", "2", "3", "0", "0.0"]


@pytest.mark.usefixtures("world")
def test_coverage_csv_by_authority(client: FlaskClient, login_as: Callable[..., User]) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/coverage.csv?by=authority&{AS_OF}")
    assert csv_of(response) == [AUTHORITY_HEADER.split(","), *AUTHORITY_ROWS]
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="copertura-enti-2026-03-01.csv"'
    )
    in_region = fetch(client, f"/reports/coverage.csv?by=authority&region=03&{AS_OF}")
    assert csv_of(in_region)[1:] == [AUTHORITY_ROWS[3]]
    assert 'filename="copertura-enti-03-2026-03-01.csv"' in in_region.headers["Content-Disposition"]


@pytest.mark.usefixtures("world")
def test_learners_csv(client: FlaskClient, login_as: Callable[..., User]) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/learners.csv?{AS_OF}")
    assert csv_of(response) == [LEARNER_HEADER.split(","), *LEARNER_ROWS]
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="discenti-2026-03-01.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    one_course = fetch(client, f"/reports/learners.csv?course=corso-b&authority=063049&{AS_OF}")
    assert csv_of(one_course)[1:] == [LEARNER_ROWS[1]]
    assert one_course.headers["Content-Disposition"] == (
        'attachment; filename="discenti-corso-b-063049-2026-03-01.csv"'
    )


@pytest.mark.parametrize(
    "url",
    [
        f"/reports/coverage.csv?{AS_OF}",
        f"/reports/coverage.xlsx?by=authority&{AS_OF}",
        f"/reports/learners.csv?{AS_OF}",
        f"/reports/learners.xlsx?{AS_OF}",
        f"/reports/hours.csv?{AS_OF}",
    ],
)
@pytest.mark.usefixtures("world")
def test_downloads_stream(client: FlaskClient, login_as: Callable[..., User], url: str) -> None:
    login_as(Role.ADMIN)
    response = client.get(url, buffered=False)
    try:
        assert response.status_code == 200
        assert response.is_streamed
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        extension = url.split("?", maxsplit=1)[0].rsplit(".", 1)[1]
        assert response.headers["Content-Disposition"].endswith(f'.{extension}"')
        assert "Content-Length" not in response.headers
        data = b"".join(response.iter_encoded())
    finally:
        response.close()
    assert data.startswith(BOM if ".csv" in url else b"PK")


def test_large_learners_csv_streams_in_chunks(
    client: FlaskClient, login_as: Callable[..., User], world: World, make_authority
) -> None:
    big = make_authority("063051", name="Comune Molto Grande", region_code="15")
    add_staff(big, [f"Cognome {n:04d}" for n in range(1200)], course_id=world.b.id)
    login_as(Role.ADMIN)
    response = client.get(f"/reports/learners.csv?authority=063051&{AS_OF}", buffered=False)
    try:
        assert response.is_streamed
        chunks = [chunk for chunk in response.iter_encoded() if chunk]
    finally:
        response.close()
    assert len(chunks) >= 3  # the header, then a chunk every few hundred rows
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert len(rows) == 1201
    assert rows[1][1] == "Cognome 0000"
    assert rows[-1][1] == "Cognome 1199"


@pytest.mark.usefixtures("world")
def test_coverage_xlsx_has_typed_cells(client: FlaskClient, login_as: Callable[..., User]) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/coverage.xlsx?by=region&{AS_OF}")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="copertura-regioni-2026-03-01.xlsx"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    table = people_table(response)
    assert table.title == "Copertura della formazione per regione"
    assert table.about["Situazione al"] == cell_time("2026-03-01")
    assert table.about["Corso"] == "Tutti i corsi"
    assert table.header == [
        "Codice regione", "Regione", "Meno sviluppata", "Personale", "Neoassunti", "Iscritti",
        "Hanno completato", "Copertura", "Punteggio medio", "Ore completate",
        "Iscrizioni in ritardo",
    ]  # fmt: skip
    # percentages are the fractions they mean, shown with a percent format
    assert table.rows == [
        ["15", "Campania", "Sì", 4, 2, 3, 1, 0.25, 0.744, 9.5, 1],
        ["18", "Calabria", "Sì", 1, 1, 1, 0, 0, 0.7, 0, 0],
        ["03", "Lombardia", "No", 2, 0, 2, 1, 0.5, 1, 8, 0],
        ["12", "Lazio", "No", 0, 0, 0, 0, None, None, 0, 0],
        ["Totale", None, None, 7, 3, 6, 2, 0.286, 0.787, 17.5, 1],
    ]
    for row in table.rows:
        assert all(isinstance(value, int | float) for value in row[3:] if value is not None)
        assert isinstance(row[0], str)  # codes stay text: "03", not 3
    assert table.cell(0, "Copertura").number_format == "0.0 %"
    by_authority = people_table(fetch(client, f"/reports/coverage.xlsx?by=authority&{AS_OF}"))
    assert by_authority.header[:4] == ["Codice ente", "Ente", "Tipo di ente", "Codice regione"]
    assert by_authority.rows[0] == [
        "063049", "Comune di Napoli", "Comune", "15", 2, 1, 2, 0, 0, 0.667, 8, 1
    ]  # fmt: skip


@pytest.mark.usefixtures("world")
def test_learners_xlsx_has_typed_cells(client: FlaskClient, login_as: Callable[..., User]) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/learners.xlsx?{AS_OF}")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="discenti-2026-03-01.xlsx"'
    )
    table = people_table(response)
    assert table.header == [
        "Codice fiscale", "Cognome", "Nome", "E-mail", "Codice ente", "Ente", "Codice regione",
        "Categoria", "Corso", "Iscritto il", "Scadenza", "Stato", "Avanzamento",
        "Miglior punteggio", "Completato il", "Ore",
    ]  # fmt: skip
    rows = table.rows
    assert len(rows) == len(LEARNER_ROWS)
    assert rows[0] == [
        "ANNAXX00A01F839X",
        "Cognome anna",
        "Anna",
        "anna@example.it",
        *NAPOLI,
        "Neoassunto/a",
        "corso-a",
        cell_time("2026-01-05"),
        cell_time("2026-02-01"),
        "Completato",
        1,
        0.8,
        cell_time("2026-02-10"),
        8,
    ]
    assert rows[3][12:] == [1, 0.9, cell_time("2026-03-01"), 1.5]
    assert rows[1][10] is None  # no due date: an empty cell
    assert table.cell(0, "Iscritto il").is_date
    assert table.cell(0, "Iscritto il").number_format == "dd/mm/yyyy"
    assert table.cell(0, "Avanzamento").data_type == "n"
    # the cells match the CSV's, value for value, in words where the CSV has codes
    words = {
        "new_hire": "Neoassunto/a", "existing": "Già in servizio", "completed": "Completato",
        "in_progress": "In corso", "not_started": "Non iniziato", "overdue": "In ritardo",
    }  # fmt: skip
    csv_rows = csv_of(fetch(client, f"/reports/learners.csv?{AS_OF}"))
    for xlsx_row, csv_row in zip(rows, csv_rows[1:], strict=True):
        assert len(xlsx_row) == len(csv_row)
        expected = [words.get(text, text) for text in csv_row]
        for column in (12, 13):  # percentages as fractions
            if expected[column]:
                expected[column] = str(Decimal(expected[column]) / 100)
        assert all(map(_same_cell, xlsx_row, expected)), (xlsx_row, csv_row)


def _same_cell(xlsx: object, text: str) -> bool:
    """Whether an XLSX cell holds the value the CSV writes as *text*."""
    if xlsx is None:
        return text == ""
    if isinstance(xlsx, datetime):
        return xlsx.time() == datetime.min.time() and xlsx.date().isoformat() == text
    if isinstance(xlsx, int | float):
        return Decimal(text) == Decimal(str(xlsx))
    return xlsx == text


INJECTED = ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tx", "\rx"]


def test_formulas_are_never_run(
    client: FlaskClient, login_as: Callable[..., User], world: World, make_authority
) -> None:
    odd = make_authority("063052", name="=Ente(1)", region_code="15")
    people = add_staff(odd, INJECTED, course_id=world.a.id, first_name="@Nome")
    login_as(Role.ADMIN)
    rows = csv_of(fetch(client, f"/reports/learners.csv?authority=063052&{AS_OF}"))
    by_cf = {row[0]: row for row in rows[1:]}
    assert len(by_cf) == len(INJECTED)
    for person, last_name in zip(people, INJECTED, strict=True):
        row = by_cf[person.codice_fiscale]
        assert row[1] == "'" + last_name
        assert row[2] == "'@Nome"
        assert row[5] == "'=Ente(1)"
        assert row[12] == "0.0"  # numbers untouched
    by_authority = csv_of(fetch(client, f"/reports/coverage.csv?by=authority&region=15&{AS_OF}"))
    assert ["063052", "'=Ente(1)", "comune", "15", "6", "0", "6", "0", "0.0", "", "0", "0"] in (
        by_authority
    )

    table = people_table(fetch(client, f"/reports/learners.xlsx?authority=063052&{AS_OF}"))
    cells = {row[0]: index for index, row in enumerate(table.rows)}
    assert len(cells) == len(INJECTED)
    for person, last_name in zip(people, INJECTED, strict=True):
        r = cells[person.codice_fiscale]
        # in XLSX the text is written as text, never a formula, and escaped like
        # the CSV's (XlsxWriter writes a carriage return as the XML escape
        # _x000D_, which Excel reads back as the character and openpyxl leaves)
        assert table.cell(r, "Cognome").value == "'" + last_name.replace("\r", "_x000D_")
        assert table.cell(r, "Cognome").data_type == "s"
        assert table.cell(r, "Nome").value == "'@Nome"
        assert table.cell(r, "Nome").data_type == "s"
        assert table.cell(r, "Ente").value == "'=Ente(1)"
        assert table.cell(r, "Ente").data_type == "s"


def test_accents_round_trip(
    client: FlaskClient, login_as: Callable[..., User], world: World, make_authority
) -> None:
    place = make_authority("063053", name="Comune di Cefalù", region_code="15")
    add_staff(place, ["D'Ambrosio"], course_id=world.a.id, first_name="Niccolò")
    login_as(Role.ADMIN)
    response = fetch(client, f"/reports/learners.csv?authority=063053&{AS_OF}")
    assert "Niccolò D'Ambrosio" not in response.get_data().decode("latin-1")  # really UTF-8
    rows = csv_of(response)
    assert rows[1][1:3] == ["D'Ambrosio", "Niccolò"]
    assert rows[1][5] == "Comune di Cefalù"
    table = people_table(fetch(client, f"/reports/learners.xlsx?authority=063053&{AS_OF}"))
    assert table.rows[0][1:3] == ["D'Ambrosio", "Niccolò"]
    assert table.rows[0][5] == "Comune di Cefalù"
    page = text_of(fetch(client, f"/reports/enti/063053?{AS_OF}"))
    assert "D'Ambrosio Niccolò" in page
    assert "Comune di Cefalù" in page


# Command line -----------------------------------------------------------------------------


@pytest.mark.usefixtures("world")
def test_cli_coverage_csv_equals_the_web_csv(
    runner: FlaskCliRunner, client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    for by in ("region", "authority"):
        result = runner.invoke(args=["report", "coverage", "--by", by, "--as-of", "2026-03-01"])
        assert result.exit_code == 0, result.stderr
        web = fetch(client, f"/reports/coverage.csv?by={by}&{AS_OF}").get_data()
        assert result.stdout_bytes == web
        assert result.stdout_bytes.startswith(BOM)
    result = runner.invoke(args=["report", "learners", "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == fetch(client, f"/reports/learners.csv?{AS_OF}").get_data()
    result = runner.invoke(
        args=["report", "coverage", "--course", "corso-a", "--as-of", "01/03/2026"]
    )
    assert (
        result.stdout_bytes
        == fetch(client, f"/reports/coverage.csv?course=corso-a&{AS_OF}").get_data()
    )


@pytest.mark.usefixtures("world")
def test_cli_writes_xlsx_and_csv_files(runner: FlaskCliRunner, tmp_path: Path) -> None:
    target = tmp_path / "copertura.xlsx"
    result = runner.invoke(
        args=[
            "report", "coverage", "--by", "region", "--as-of", "2026-03-01",
            "--format", "xlsx", "-o", str(target),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "5 rows written" in result.stderr
    book = openpyxl.load_workbook(target)
    rows = sheet_rows(book)
    assert rows[0] == REGION_HEADER.split(",")
    assert rows[1] == ["15", "Campania", True, 4, 2, 3, 1, 25.0, 74.4, 9.5, 1]
    assert rows[-1][0] == "TOTAL"

    learners = tmp_path / "discenti.csv"
    result = runner.invoke(
        args=["report", "learners", "--as-of", "2026-03-01", "-o", str(learners)]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    data = learners.read_bytes()
    assert data.startswith(BOM)
    text = data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        LEARNER_HEADER.split(","),
        *LEARNER_ROWS,
    ]


@pytest.mark.usefixtures("world")
def test_cli_xlsx_needs_an_output_file(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["report", "coverage", "--format", "xlsx"])
    assert result.exit_code == 2
    assert "-o" in result.stderr
    assert result.stdout_bytes == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["coverage", "--as-of", "2026-02-30"], "Error: Invalid date: 2026-02-30"),
        (["coverage", "--as-of", "abc"], "Error: Invalid date: abc"),
        (["coverage", "--as-of", "9999-12-31"], "Error: Date out of range: 9999-12-31"),
        (["coverage", "--course", "nope"], "Error: Unknown course: nope."),
        (["learners", "--category", "boh"], "Error: Unknown category: boh"),
        (["learners", "--region", "99"], "Error: Unknown region: 99."),
        (["coverage", "--authority", "nope"], "Error: Unknown authority: nope."),
    ],
)
@pytest.mark.usefixtures("world")
def test_cli_bad_input_is_one_line_and_exit_2(
    runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["report", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert result.stdout_bytes == b""


@pytest.mark.usefixtures("world")
def test_cli_learners_by_italian_category(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["report", "learners", "--category", "neoassunto", "--as-of", "2026-03-01"]
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline="")))
    new_hires = [row for row in LEARNER_ROWS if row[7] == "new_hire"]
    assert rows == [LEARNER_HEADER.split(","), *new_hires]
    assert [row[0][:4] for row in rows[1:]] == ["ANNA", "ANNA", "ELEN", "GINA"]


@pytest.mark.usefixtures("world")
def test_cli_region_and_authority_filters(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["report", "coverage", "--by", "authority", "--region", "15", "--as-of", "2026-03-01"]
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline="")))
    assert rows == [AUTHORITY_HEADER.split(","), *AUTHORITY_ROWS[:2]]
    result = runner.invoke(
        args=["report", "learners", "--authority", "015146", "--as-of", "2026-03-01"]
    )
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline="")))
    assert rows[1:] == LEARNER_ROWS[5:]


@pytest.mark.usefixtures("world")
def test_date_of_the_report_defaults_to_today_in_italy(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    response = fetch(client, "/reports/coverage.csv")
    day = today_in_italy().isoformat()
    assert response.headers["Content-Disposition"].endswith(f'-{day}.csv"')
    assert response.get_data() == fetch(client, f"/reports/coverage.csv?as_of={day}").get_data()
