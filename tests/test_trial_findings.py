"""The trial's findings (#18), each with the test that failed before its fix.

A new HR manager, a learner and a trainer tried the product; these are the places
where it fell short. Searches without accents have their own file
(test_search_folding.py); the browser's part (focus on the error summary, axe) is in
tests/e2e/test_trial_findings.py.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from conftest import csrf_token
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from report_world import world_fixture  # noqa: F401 - the world fixture
from sqlalchemy import select
from test_quiz_attempts import KEY, make_quiz
from test_quiz_pages import review_url
from test_quiz_review import attempts, take_on_the_web
from test_staff_pages import make_course

from lms.auth.models import Role, User
from lms.auth.operations import issue_password_token
from lms.core.filters import format_pct, format_pct_range
from lms.core.italian import elide
from lms.core.messages import english
from lms.core.tabular import TableError
from lms.core.types import today_in_italy, utcnow
from lms.courses.models import Course, CourseCompletion
from lms.enrolments.models import Enrolment
from lms.enrolments.roster import read_roster
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember


def plain(page: str) -> str:
    """The text of a page, tags dropped and spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))).strip()


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    authority = make_authority("063049", name="Comune di Napoli", region_code="15")
    _db.session.commit()
    return authority


def enrolled_learner(
    login_as: Callable[..., User], napoli: Authority, course: Course, due_on: date | None
) -> User:
    """A learner signed in, on Napoli's staff, enrolled in *course* with *due_on*."""
    learner = login_as(Role.LEARNER, first_name="Anna", last_name="Verdi")
    member = StaffMember(
        codice_fiscale="VRDNNA80A41F839X",
        first_name="Anna",
        last_name="Verdi",
        email=learner.email,
        authority_id=napoli.id,
        category=StaffCategory.EXISTING,
        user_id=learner.id,
    )
    _db.session.add(member)
    _db.session.flush()
    _db.session.add(Enrolment(staff_id=member.id, course_id=course.id, due_on=due_on))
    _db.session.commit()
    return learner


# The course page shows the learner's due date and whether it has passed ----------------


def test_the_course_page_shows_the_due_date(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    course = make_course()
    due = today_in_italy() + timedelta(days=10)
    enrolled_learner(login_as, napoli, course, due)
    page = plain(client.get(f"/courses/{course.slug}/").get_data(as_text=True))
    assert "Da completare entro" in page
    assert "mancano 10 giorni" in page
    assert "Scaduto" not in page


def test_the_course_page_says_the_course_is_overdue(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    course = make_course()
    enrolled_learner(login_as, napoli, course, today_in_italy() - timedelta(days=3))
    response = client.get(f"/courses/{course.slug}/")
    page = response.get_data(as_text=True)
    assert 'class="alert alert-danger' in page
    assert "Scaduto: andava completato entro" in plain(page)
    assert "3 giorni fa" in plain(page)


def test_a_completed_or_unassigned_course_shows_no_due_date(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    course = make_course()
    other = make_course("altro")
    learner = enrolled_learner(login_as, napoli, course, today_in_italy() - timedelta(days=3))
    _db.session.add(
        CourseCompletion(user_id=learner.id, course_id=course.id, completed_at=utcnow())
    )
    _db.session.commit()
    page = plain(client.get(f"/courses/{course.slug}/").get_data(as_text=True))
    assert "Scaduto" not in page
    assert "Da completare entro" not in page
    page = plain(client.get(f"/courses/{other.slug}/").get_data(as_text=True))
    assert "Da completare entro" not in page
    assert "Scaduto" not in page


def test_the_due_date_is_the_readers_own(
    client: FlaskClient,
    login_as: Callable[..., User],
    napoli: Authority,
) -> None:
    """Another person's enrolment never shows on my page of the course."""
    course = make_course()
    member = StaffMember(
        codice_fiscale="BNCLCU88H14Z133N",
        first_name="Luca",
        last_name="Bianchi",
        email="luca@example.it",
        authority_id=napoli.id,
        category=StaffCategory.EXISTING,
    )
    _db.session.add(member)
    _db.session.flush()
    _db.session.add(Enrolment(staff_id=member.id, course_id=course.id, due_on=date(2020, 1, 1)))
    _db.session.commit()
    login_as(Role.LEARNER)
    page = plain(client.get(f"/courses/{course.slug}/").get_data(as_text=True))
    assert "Scaduto" not in page
    assert "Da completare entro" not in page


# Roster files: the sheet that holds the roster, "Testo Unicode", leavers' accounts --------

ROSTER_HEADER = ["codice_fiscale", "first_name", "last_name", "email", "authority_code", "category"]
ESPOSITO = ["SPSNCL85C12F839V", "Niccolò", "Esposito", "n.esposito@comune.napoli.it", "063049"]


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """An XLSX with *sheets* (name → rows), in that order."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def upload_roster(client: FlaskClient, data: bytes, filename: str) -> tuple[int, str]:
    token = csrf_token(client, "/personale/importa")
    response = client.post(
        "/personale/importa",
        data={"csrf_token": token, "roster": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


def test_an_xlsx_whose_roster_is_not_on_the_first_sheet_names_the_sheet(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    data = workbook(
        {
            "Istruzioni": [["Compilare il foglio Personale"], ["Non modificare le intestazioni"]],
            "Personale": [ROSTER_HEADER, [*ESPOSITO, "new_hire"]],
        }
    )
    login_as(Role.HR, scope=[napoli])
    status, page = upload_roster(client, data, "personale.xlsx")
    text = plain(page)
    assert status == 200
    assert "il primo foglio («Istruzioni») non è l'elenco del personale" in text
    assert "l'elenco è nel foglio «Personale»" in text
    assert "Conferma l'importazione" not in text
    # The command line says the same in English.
    with english(), pytest.raises(TableError) as raised:
        read_roster(data, "personale.xlsx")
    with english():
        assert str(raised.value) == (
            "the first sheet («Istruzioni») is not the staff list: the list is on the sheet"
            " «Personale». Move that sheet first (or delete the others) and save again"
        )


def test_an_xlsx_with_no_roster_on_any_sheet_keeps_the_first_sheets_problem() -> None:
    data = workbook({"Foglio1": [["Nome", "Cognome"], ["A", "B"]], "Foglio2": [["x"]]})
    with english(), pytest.raises(TableError) as raised:
        read_roster(data, "personale.xlsx")
    with english():
        assert "missing column(s)" in str(raised.value)
        assert "sheet" not in str(raised.value)


def test_a_unicode_text_file_from_excel_is_read(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    """Excel's "Testo Unicode" (.txt): UTF-16 little-endian with a BOM, tab-separated, CRLF."""
    lines = ["\t".join(ROSTER_HEADER), "\t".join([*ESPOSITO, "new_hire"])]
    data = b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le")
    login_as(Role.HR, scope=[napoli])
    status, page = upload_roster(client, data, "personale.txt")
    assert status == 200
    assert 'data-count="new">1<' in page
    assert "Niccolò" in page
    # Big-endian, as some other programs write it, and tabs in a UTF-8 file, too.
    big = b"\xfe\xff" + ("\n".join(lines) + "\n").encode("utf-16-be")
    assert [row.cells["first_name"] for row in read_roster(big, "p.txt").rows] == ["Niccolò"]
    tabs = ("\n".join(lines) + "\n").encode()
    assert [row.cells["email"] for row in read_roster(tabs, "p.txt").rows] == [ESPOSITO[3]]


def test_the_import_summary_counts_accounts_created_deactivated(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    """A person who already left gets an account switched off: the summary says how many."""
    header = ",".join([*ROSTER_HEADER, "left_on"])
    rows = [
        ",".join([*ESPOSITO, "new_hire", ""]),
        "VRDGPP80A01F839W,Giuseppe,Verdi,g.verdi@comune.napoli.it,063049,existing,2020-01-31",
    ]
    login_as(Role.HR, scope=[napoli])
    status, page = upload_roster(client, "\n".join([header, *rows]).encode(), "p.csv")
    assert status == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert csrf is not None
    assert token is not None
    done = client.post(
        "/personale/importa/conferma", data={"csrf_token": csrf.group(1), "token": token.group(1)}
    ).get_data(as_text=True)
    assert 'data-count="accounts">2<' in done
    assert 'data-count="accounts-inactive">1<' in done
    assert "di cui creati già disattivati (personale cessato):" in plain(done)
    verdi = _db.session.scalar(select(User).where(User.email == "g.verdi@comune.napoli.it"))
    assert verdi is not None
    assert not verdi.active


# A report with a bad as-of date keeps its filters and says why beside the field --------


def _tag(page: str, element_id: str) -> str:
    """The opening tag of the element with id *element_id*."""
    found = re.search(rf'<[a-z]+ [^>]*id="{element_id}"[^>]*>', page)
    assert found is not None, element_id
    return found.group(0)


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize(
    ("url", "heading"),
    [
        ("/reports/", "Report sulla formazione"),
        ("/reports/regioni/15", "Campania"),
        ("/reports/enti/063049", "Napoli"),
    ],
)
def test_a_report_with_a_bad_date_keeps_its_filters_and_shows_the_error_beside_the_field(
    client: FlaskClient, login_as: Callable[..., User], url: str, heading: str
) -> None:
    login_as(Role.ADMIN)
    response = client.get(
        url, query_string={"as_of": "31/02/2026", "course": "corso-a", "category": "new_hire"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert heading in plain(page)
    assert re.search(r'<option value="corso-a"\s+selected', page)
    assert re.search(r'<option value="new_hire"\s+selected', page)
    field = _tag(page, "filter-as-of")
    assert 'aria-invalid="true"' in field
    assert "is-invalid" in field
    assert "filter-as-of-error" in field
    assert 'value="31/02/2026"' in field
    error = re.search(r'id="filter-as-of-error"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert error is not None
    assert "Data non valida: 31/02/2026" in plain(error.group(1))
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    assert title is not None
    assert plain(title.group(1)).startswith("Errore:")


@pytest.mark.usefixtures("world")
def test_a_download_with_a_bad_date_is_still_a_plain_400(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN)
    response = client.get("/reports/coverage.xlsx?as_of=2026-13-45")
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert "Data non valida: 2026-13-45" in response.get_data(as_text=True)


# A page that comes back with an error says so in its title, and opens with the summary ------


def _title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    assert found is not None
    return plain(found.group(1))


def test_a_wrong_password_puts_errore_in_the_title_and_marks_the_alert(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.LEARNER)
    assert _title(client.get("/login").get_data(as_text=True)) == "Accedi · Formazione Coesione"
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": user.email, "password": "sbagliata-1"},
    )
    page = response.get_data(as_text=True)
    assert _title(page) == "Errore: Accedi · Formazione Coesione"
    assert re.search(r'<div class="alert alert-danger" role="alert" data-lms-error>', page)
    assert 'src="/static/js/page-errors.js"' in page


def test_a_roster_with_bad_rows_opens_with_its_list_of_problems(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    login_as(Role.HR, scope=[napoli])
    bad = "\n".join([",".join(ROSTER_HEADER), "XXX,Anna,Rossi,non-una-mail,063049,boh"]).encode()
    status, page = upload_roster(client, bad, "p.csv")
    assert status == 200
    assert _title(page).startswith("Errore: Importa il personale")
    assert re.search(r'<div id="roster-errors"[^>]*data-lms-error-summary', page)


def test_field_errors_are_summed_up_at_the_top_with_links_to_the_fields(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    """A refused form: the summary lists each field's error, linked to the field."""
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    response = client.post(
        "/admin/utenti/nuovo",
        data={
            "csrf_token": csrf_token(client, "/admin/utenti/nuovo"),
            "email": "",
            "role": "learner",
        },
    )
    page = response.get_data(as_text=True)
    assert _title(page).startswith("Errore: ")
    summary = re.search(r"<div [^>]*data-lms-error-summary[^>]*>(.*?)</div>", page, re.DOTALL)
    assert summary is not None
    assert re.search(r'<a href="#email">[^<]*E-mail[^<]*:', summary.group(1))
    # The summary comes first in the page's main part, before the heading.
    main = page[page.index('<main id="main"') :]
    assert main.index("data-lms-error-summary") < main.index("<h1")


def test_a_page_without_errors_has_no_summary_and_a_plain_title(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    page = client.get("/admin/utenti/nuovo").get_data(as_text=True)
    assert not _title(page).startswith("Errore")
    assert "data-lms-error" not in page


# No aria-label on a bare <span>: the words are visually hidden text ---------------------


@pytest.mark.usefixtures("world")
def test_a_figure_that_does_not_apply_is_read_as_words_not_an_aria_label(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    """aria-label is not allowed on a span without a role (ARIA 1.2): many readers ignore it."""
    login_as(Role.ADMIN)
    page = client.get("/reports/?as_of=2026-03-01").get_data(as_text=True)
    assert not re.search(r"<span[^>]*\baria-label=", page)
    dashes = re.findall(
        r'<span aria-hidden="true">–</span><span class="visually-hidden">non applicabile</span>',
        page,
    )
    assert dashes


# Percentages: one format everywhere; Italian elisions before numbers ------------------

LMS = Path(__file__).resolve().parents[1] / "lms"
#: A percentage written by hand rather than by the pct filter: a number then "%"
#: ("%(pct)d%%" or "30%%" in a message, "{{ x }}%" or "{{ x }}&nbsp;%" in a template,
#: f"{x}%" or "100%" in Python).
HAND_MADE_PERCENT = re.compile(r'%\(\w+\)[ds]%%|\}\}\s*(?:&nbsp;)?%|\w\}%|\d%%|\d%"')
#: Not shown to people as a percentage: LIKE patterns; Excel's number formats (the
#: spreadsheet formats the fraction itself); the content format's own syntax ({50%}
#: weights) and its checker's messages to authors.
NOT_PERCENTAGES = ("core/sql.py", "core/people_xlsx.py", "content/")


def test_percentages_have_one_format_in_each_language(app: Flask) -> None:
    with app.test_request_context():
        assert format_pct(Decimal("83.333")) == "83,3\u00a0%"
        assert format_pct(83.35) == "83,4\u00a0%"
        assert format_pct(Decimal(25)) == "25,0\u00a0%"
        assert format_pct(80) == "80\u00a0%"  # a whole number as set: a pass mark
        assert format_pct(Decimal("33.33"), exact=True) == "33,33\u00a0%"  # a weight as written
        assert format_pct(Decimal(50), exact=True) == "50\u00a0%"
        assert format_pct(None) == ""
        assert format_pct_range(0, 9) == "0–9\u00a0%"
        with force_locale("en"):
            assert format_pct(Decimal("83.333")) == "83.3%"
            assert format_pct(1234.5) == "1,234.5%"
            assert format_pct(80) == "80%"
            assert format_pct_range(90, 100) == "90–100%"


def test_no_percentage_is_written_by_hand() -> None:
    """Every percentage shown goes through the pct filter (or format_pct in Python)."""
    found = []
    for path in sorted([*LMS.rglob("*.html"), *LMS.rglob("*.txt"), *LMS.rglob("*.py")]):
        where = path.relative_to(LMS).as_posix()
        if "vendor" in path.parts or where.startswith(NOT_PERCENTAGES):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if HAND_MADE_PERCENT.search(line):
                found.append(f"{where}:{number}: {line.strip()[:90]}")
    assert found == []


@pytest.mark.parametrize(
    ("text", "elided"),
    [
        ("Verifica superata con il 83,3 %", "Verifica superata con l'83,3 %"),
        ("completato il 1 dic 2026", "completato l'1 dic 2026"),
        ("Il 8 dic 2026", "L'8 dic 2026"),
        ("scaduto dal 11 dic 2026", "scaduto dall'11 dic 2026"),
        ("situazione al 1 dic 2026", "situazione all'1 dic 2026"),
        ("almeno il 80 %", "almeno l'80 %"),
        ("del 800 % della", "dell'800 % della"),
        ("nel 11000", "nell'11000"),
        ("sul 8,5 %", "sull'8,5 %"),
        ("la 1 prova", "l'1 prova"),
        ("entro il 8.", "entro l'8."),
        # No elision: a consonant sound, a leading zero, an ordinal, a thousands group.
        ("il 18 dic", "il 18 dic"),
        ("il 100 %", "il 100 %"),
        ("il 01/12/2026", "il 01/12/2026"),
        ("il 1° dicembre", "il 1° dicembre"),
        ("il 1.000", "il 1.000"),
        ("il 110 %", "il 110 %"),
        ("nel 2026", "nel 2026"),
        ("profilo 1", "profilo 1"),
    ],
)
def test_italian_elides_the_article_before_a_number_said_with_a_vowel(
    text: str, elided: str
) -> None:
    assert elide(text) == elided


def test_the_quiz_pages_write_percentages_and_elisions_as_italian_does(
    tmp_path: Path, client: FlaskClient, login_as: Callable[..., User]
) -> None:
    quiz = make_quiz(tmp_path, pass_mark=80, max_attempts=3)
    learner = login_as(Role.LEARNER)
    words = plain(client.get("/courses/corso/verifica/").get_data(as_text=True))
    assert "Per superare la verifica serve almeno l'80 % dei punti." in words
    page = take_on_the_web(client, learner, quiz, KEY | {"q1": ["a"]})  # 4 of 5 points
    assert "Verifica superata con l'80,0 % (4 punti su 5)." in plain(page)
    client.post("/lingua", data={"csrf_token": csrf_token(client, "/"), "lang": "en"})
    review = client.get(review_url(attempts(learner, quiz)[0].id)).get_data(as_text=True)
    assert "Quiz passed with 80.0% (4 points out of 5)." in plain(review)


def test_a_date_after_an_article_is_elided(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    course = make_course()
    learner = login_as(Role.LEARNER)
    first_of_december = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    done = CourseCompletion(user_id=learner.id, course_id=course.id, completed_at=first_of_december)
    _db.session.add(done)
    _db.session.commit()
    page = plain(client.get(f"/courses/{course.slug}/").get_data(as_text=True))
    assert "Hai completato questo corso l'1 dic 2026." in page


# Public pages have an "Accedi" link ------------------------------------------------------

SIGN_IN_LINK = re.compile(
    r'<a [^>]*href="/login"[^>]*>(?:(?!</a>).)*Accedi(?:(?!</a>).)*</a>', re.DOTALL
)


def _header(page: str) -> str:
    return page[page.index("<header") : page.index("</header>")]


def test_public_pages_have_a_sign_in_link_in_their_header(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    newcomer = make_user(Role.LEARNER, email="nuova@example.org", password_hash=None)
    token = issue_password_token(newcomer, hours=72)
    _db.session.commit()
    for url in ("/accessibilita", f"/password/{token}", "/password/dimenticata", "/certificates/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SIGN_IN_LINK.search(_header(response.get_data(as_text=True))), url
    # On the sign-in page itself the link says it is the current page.
    link = SIGN_IN_LINK.search(_header(client.get("/login").get_data(as_text=True)))
    assert link is not None
    assert 'aria-current="page"' in link.group(0)
    # An error page reached by a stranger too (a link that expired: the way back in).
    expired = client.get("/password/non-valido")
    assert expired.status_code == 404
    assert SIGN_IN_LINK.search(_header(expired.get_data(as_text=True)))


def test_signed_in_pages_have_no_sign_in_link(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.LEARNER)
    assert not SIGN_IN_LINK.search(_header(client.get("/accessibilita").get_data(as_text=True)))


# Marking a module complete says so on the next page ------------------------------------


def test_marking_a_module_complete_says_so_on_the_next_page(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    course = make_course(modules=2)
    login_as(Role.LEARNER)
    token = csrf_token(client, f"/courses/{course.slug}/")
    response = client.post(
        f"/courses/{course.slug}/m0/completa", data={"csrf_token": token}, follow_redirects=True
    )
    assert response.request.path == f"/courses/{course.slug}/m1/"
    page = response.get_data(as_text=True)
    assert re.search(r'<div class="alert alert-success" role="status">', page)
    assert "Hai completato il modulo «Modulo 0»." in plain(page)
    # The last one completes the course: the page says that, once.
    response = client.post(
        f"/courses/{course.slug}/m1/completa", data={"csrf_token": token}, follow_redirects=True
    )
    words = plain(response.get_data(as_text=True))
    assert f"Hai completato il corso «{course.title}»." in words
    assert "Hai completato il modulo" not in words
    # Again: nothing new to say.
    response = client.post(
        f"/courses/{course.slug}/m0/completa", data={"csrf_token": token}, follow_redirects=True
    )
    assert 'class="alert alert-success"' not in response.get_data(as_text=True)
