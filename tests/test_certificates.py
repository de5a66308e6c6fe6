"""Completion certificates: issuing rules, codes, the PDF, the download and the public check."""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from conftest import login
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_progress import before_flush, insert_elsewhere  # noqa: F401 - a fixture and a helper
from test_quiz_attempts import THREADS, in_threads, postgresql_only

from lms.auth.models import User
from lms.certificates import operations
from lms.certificates.models import CODE_ALPHABET, CODE_LENGTH, Certificate, grouped_code
from lms.certificates.operations import (
    certificate_due,
    find_certificate,
    issue_certificate,
    new_code,
    normalise_code,
)
from lms.certificates.pdf import PROGRAMME, certificate_pdf, printable_text
from lms.courses.models import Course, CourseCompletion
from lms.extensions import db as _db
from lms.extensions import limiter
from lms.register.models import Authority, StaffCategory, StaffMember

CF = "RSSMRA80A41F839W"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: 23:30 UTC on 28 February is 00:30 on 1 March in Italy (CET, UTC+1).
LATE_EVENING = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
GROUPED = re.compile(rf"[{CODE_ALPHABET}]{{4}}(?:-[{CODE_ALPHABET}]{{4}}){{4}}")


# Reading a PDF's text ---------------------------------------------------------------------
# pypdf reads the PDF back as a reader's "copy text" does (through each embedded font's
# ToUnicode map), and its document information.


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_info(data: bytes) -> dict[str, str]:
    """The PDF's document information (title, author ...)."""
    metadata = PdfReader(io.BytesIO(data)).metadata or {}
    return {key.lstrip("/"): str(value) for key, value in metadata.items()}


# Factories ----------------------------------------------------------------------------------


@pytest.fixture
def make_course() -> Callable[..., Course]:
    counter = iter(range(1, 1000))

    def factory(title: str = "Fondamenti della coesione", hours: str = "4.5", **kw) -> Course:
        course = Course(
            slug=kw.pop("slug", f"corso-{next(counter)}"),
            title=title,
            hours=Decimal(hours),
            source_hash="0" * 64,
            **kw,
        )
        _db.session.add(course)
        _db.session.commit()
        return course

    return factory


@pytest.fixture
def put_on_staff(make_authority: Callable[..., Authority]) -> Callable[..., StaffMember]:
    """Link a user to a staff record (where a certificate's name and codice fiscale come from)."""
    counter = iter(range(1, 1000))

    def factory(user: User, *, first: str = "Maria", last: str = "Rossi", cf: str = CF):
        n = next(counter)
        staff = StaffMember(
            codice_fiscale=cf if n == 1 else f"{cf[:13]}{n:03d}",
            first_name=first,
            last_name=last,
            email=f"persona{n}@comune.example.it",
            authority=make_authority(),
            category=StaffCategory.NEW_HIRE,
            user_id=user.id,
        )
        _db.session.add(staff)
        _db.session.commit()
        return staff

    return factory


def complete(user: User, course: Course, at: datetime = T0) -> None:
    _db.session.add(CourseCompletion(user_id=user.id, course_id=course.id, completed_at=at))
    _db.session.commit()


def count_certificates() -> int:
    return _db.session.scalar(select(func.count()).select_from(Certificate))


def text(response) -> str:
    return response.get_data(as_text=True)


# Codes ----------------------------------------------------------------------------------------


def test_codes_are_long_random_and_unambiguous() -> None:
    assert CODE_LENGTH * math.log2(len(CODE_ALPHABET)) >= 80  # bits of randomness
    assert not set("01OIL") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_ALPHABET)
        assert GROUPED.fullmatch(grouped_code(code))
    # Every character of the alphabet turns up: nothing systematically left out.
    assert set("".join(codes)) == set(CODE_ALPHABET)


def test_normalising_accepts_what_people_type() -> None:
    assert normalise_code("k7qm-3xhd-9ptr-wab4-zn6c") == "K7QM3XHD9PTRWAB4ZN6C"
    assert normalise_code(" K7QM 3XHD-9PTR wab4ZN6C ") == "K7QM3XHD9PTRWAB4ZN6C"
    assert grouped_code("K7QM3XHD9PTRWAB4ZN6C") == "K7QM-3XHD-9PTR-WAB4-ZN6C"


# Issuing ----------------------------------------------------------------------------------------


def test_no_certificate_before_completion(make_user, make_course, put_on_staff) -> None:
    user, course = make_user(), make_course()
    put_on_staff(user)
    assert certificate_due(user, course) is False
    assert issue_certificate(user, course) is None
    assert count_certificates() == 0


def test_no_certificate_without_a_staff_record(make_user, make_course) -> None:
    """The name and codice fiscale come from the register: an admin's own try gets none."""
    admin, course = make_user("admin"), make_course()
    complete(admin, course)
    assert certificate_due(admin, course) is False
    assert issue_certificate(admin, course) is None
    assert count_certificates() == 0


def test_issuing_snapshots_what_is_certified(make_user, make_course, put_on_staff) -> None:
    user = make_user(first_name="Account", last_name="Name")
    put_on_staff(user, first="Łukasz", last="Dvořák")
    course = make_course("Appalti pubblici", hours="12", slug="appalti")
    complete(user, course)
    assert certificate_due(user, course) is True
    certificate = issue_certificate(user, course, now=T0)
    _db.session.commit()
    assert certificate.holder_name == "Łukasz Dvořák"  # the register's name, not the account's
    assert certificate.codice_fiscale == CF
    assert (certificate.course_title, certificate.course_slug) == ("Appalti pubblici", "appalti")
    assert certificate.hours == Decimal(12)
    assert certificate.completed_on == date(2026, 3, 2)
    assert certificate.issued_at == T0
    assert len(certificate.code) == CODE_LENGTH

    # Later changes to the course or the person do not rewrite it.
    course.title, course.hours = "Appalti pubblici (nuova edizione)", Decimal(20)
    user_staff = _db.session.scalar(select(StaffMember).where(StaffMember.user_id == user.id))
    user_staff.last_name = "Dvořáková"
    _db.session.commit()
    _db.session.expire_all()
    again = issue_certificate(user, course)
    assert again.id == certificate.id
    assert (again.holder_name, again.course_title, again.hours) == (
        "Łukasz Dvořák",
        "Appalti pubblici",
        Decimal(12),
    )


def test_issuing_is_idempotent(make_user, make_course, put_on_staff) -> None:
    user, course = make_user(), make_course()
    put_on_staff(user)
    complete(user, course)
    first = issue_certificate(user, course)
    _db.session.commit()
    second = issue_certificate(user, course)
    _db.session.commit()
    assert second.id == first.id
    assert second.code == first.code
    assert count_certificates() == 1


def test_completion_late_in_the_evening_counts_the_italian_day(
    make_user, make_course, put_on_staff
) -> None:
    user, course = make_user(), make_course()
    put_on_staff(user)
    complete(user, course, at=LATE_EVENING)
    certificate = issue_certificate(user, course)
    assert certificate.completed_on == date(2026, 3, 1)


def test_each_person_and_course_gets_its_own_code(make_user, make_course, put_on_staff) -> None:
    anna, bruno = make_user(), make_user()
    put_on_staff(anna)
    put_on_staff(bruno)
    first, second = make_course(), make_course()
    for user in (anna, bruno):
        for course in (first, second):
            complete(user, course)
    codes = {issue_certificate(u, c).code for u in (anna, bruno) for c in (first, second)}
    _db.session.commit()
    assert len(codes) == 4
    assert count_certificates() == 4


def test_a_taken_code_is_drawn_again(
    make_user, make_course, put_on_staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna, bruno = make_user(), make_user()
    put_on_staff(anna)
    put_on_staff(bruno)
    course = make_course()
    complete(anna, course)
    complete(bruno, course)
    taken = issue_certificate(anna, course).code
    _db.session.commit()
    draws = iter([taken, "Z" * CODE_LENGTH])
    monkeypatch.setattr(operations, "new_code", lambda: next(draws))
    assert issue_certificate(bruno, course).code == "Z" * CODE_LENGTH
    _db.session.commit()
    assert count_certificates() == 2


def test_issuing_racing_another_request_returns_its_certificate(
    make_user,
    make_course,
    put_on_staff,
    before_flush,  # noqa: F811 - the fixture
) -> None:
    user, course = make_user(), make_course()
    put_on_staff(user)
    complete(user, course)
    user_id, course_id = user.id, course.id
    created = []

    def other_request_first(session: Session) -> bool:
        if not any(isinstance(obj, Certificate) for obj in session.new):
            return False
        # Our select found nothing; before our INSERT, another tab issues it.
        created.append(
            insert_elsewhere(
                Certificate,
                code="A" * CODE_LENGTH,
                user_id=user_id,
                course_id=course_id,
                issued_at=T0,
                holder_name="Maria Rossi",
                codice_fiscale=CF,
                course_title=course.title,
                course_slug=course.slug,
                hours=course.hours,
                completed_on=date(2026, 3, 2),
            )
        )
        return True

    before_flush(other_request_first)
    certificate = issue_certificate(user, course)
    assert created, "the race was not simulated"
    assert (certificate.id, certificate.code) == (created[0], "A" * CODE_LENGTH)
    _db.session.commit()  # the transaction survived the failed insert
    assert count_certificates() == 1


@postgresql_only
def test_concurrent_first_downloads_issue_one_certificate(
    make_user, make_course, put_on_staff, web_app: Flask
) -> None:
    user, course = make_user(), make_course()
    put_on_staff(user)
    complete(user, course)
    user_id, course_id = user.id, course.id

    def issue(barrier: threading.Barrier) -> object:
        mine = _db.session.get(User, user_id)
        course = _db.session.get(Course, course_id)
        barrier.wait()
        certificate = issue_certificate(mine, course)
        _db.session.commit()
        return certificate.code

    results = in_threads(web_app, issue)
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 1
    assert len(results) == THREADS
    assert count_certificates() == 1


def test_find_certificate_by_code_as_typed(make_user, make_course, put_on_staff) -> None:
    user, course = make_user(), make_course()
    put_on_staff(user)
    complete(user, course)
    certificate = issue_certificate(user, course)
    _db.session.commit()
    for typed in (
        certificate.code,
        certificate.display_code,
        certificate.display_code.lower(),
        certificate.code.lower(),
    ):
        assert find_certificate(typed).id == certificate.id
    assert find_certificate("2" * CODE_LENGTH) is None
    assert find_certificate("") is None
    assert find_certificate(certificate.code[:-1]) is None
    assert find_certificate("' OR 1=1 --") is None


# The PDF ---------------------------------------------------------------------------------------


def sample(**changes: object) -> Certificate:
    values = {
        "code": "K7QM3XHD9PTRWAB4ZN6C",
        "holder_name": "Maria Rossi",
        "codice_fiscale": CF,
        "course_title": "Fondamenti della politica di coesione 2021-2027",
        "course_slug": "fondamenti-coesione",
        "hours": Decimal("4.50"),
        "completed_on": date(2026, 3, 1),
        "issued_at": T0,
    }
    return Certificate(**{**values, **changes})


def test_the_pdf_states_everything_the_certificate_certifies(app: Flask) -> None:
    url = "https://formazione.example.gov.it/certificates/K7QM-3XHD-9PTR-WAB4-ZN6C"
    with app.test_request_context():
        data = certificate_pdf(sample(), url)
    assert data.startswith(b"%PDF")
    assert b"/MediaBox [0 0 841.89 595.28]" in data  # A4 landscape, in points
    page = pdf_text(data)
    for expected in (
        "Attestato di completamento",
        PROGRAMME.upper(),
        "Maria Rossi",
        CF,
        "Fondamenti della politica di coesione 2021-2027",
        "4,5 ore",
        "01/03/2026",  # completed
        "Rilasciato il 02/03/2026",
        "K7QM-3XHD-9PTR-WAB4-ZN6C",
        url,
    ):
        assert expected in page, expected
    info = pdf_info(data)
    assert info["Author"] == PROGRAMME
    assert info["Title"].startswith("Attestato di completamento")
    assert "Maria Rossi" in info["Subject"]
    assert info["Keywords"] == "K7QM-3XHD-9PTR-WAB4-ZN6C"


def test_names_beyond_latin_1_print(app: Flask) -> None:
    with app.test_request_context():
        data = certificate_pdf(
            sample(holder_name="Łukasz Dvořák-Ţepeş", course_title="Øresund – “cooperazione”"),
            "http://localhost/certificates/K7QM-3XHD-9PTR-WAB4-ZN6C",
        )
    page = pdf_text(data)
    assert "Łukasz Dvořák-Ţepeş" in page
    assert "Øresund – “cooperazione”" in page


def test_letters_the_font_lacks_fall_back_instead_of_vanishing(app: Flask) -> None:
    assert printable_text("Dvořák") == "Dvořák"
    assert printable_text("Ǆuro") == "DŽuro"  # one character, decomposed into two the font has
    assert printable_text("Жанна") == "?????"
    with app.test_request_context():
        data = certificate_pdf(sample(holder_name="Жанна Rossi"), "http://localhost/x")
    assert "????? Rossi" in pdf_text(data)


def test_long_names_and_titles_still_fit(app: Flask) -> None:
    title = "Monitoraggio, rendicontazione e controlli " * 7
    with app.test_request_context():
        data = certificate_pdf(sample(holder_name="Anna " * 40, course_title=title), "http://x/")
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") == 1  # still one page


# Download ---------------------------------------------------------------------------------------


def test_anonymous_download_goes_to_sign_in(client: FlaskClient, make_course) -> None:
    course = make_course()
    response = client.get(f"/courses/{course.slug}/attestato.pdf")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_download_before_completion_is_404(client, login_as, make_course, put_on_staff) -> None:
    course = make_course()
    put_on_staff(login_as("learner"))
    assert client.get(f"/courses/{course.slug}/attestato.pdf").status_code == 404
    assert client.get("/courses/nessuno/attestato.pdf").status_code == 404
    assert count_certificates() == 0


def test_download_without_a_staff_record_is_404(client, login_as, make_course) -> None:
    course = make_course()
    complete(login_as("admin"), course)
    assert client.get(f"/courses/{course.slug}/attestato.pdf").status_code == 404


def test_download_issues_once_and_serves_the_same_certificate(
    client, login_as, make_course, put_on_staff
) -> None:
    course = make_course("Appalti pubblici per i progetti finanziati", slug="appalti-pubblici")
    user = login_as("learner", email="maria.rossi@comune.example.it")
    put_on_staff(user, first="Maria", last="Rossi")
    complete(user, course, at=LATE_EVENING)

    response = client.get("/courses/appalti-pubblici/attestato.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="attestato-appalti-pubblici.pdf"'
    )
    assert response.data.startswith(b"%PDF")
    (certificate,) = _db.session.scalars(select(Certificate)).all()
    page = pdf_text(response.data)
    assert "Maria Rossi" in page
    assert CF in page
    assert "Appalti pubblici per i progetti finanziati" in page
    assert "01/03/2026" in page  # the Italian day of 23:30 UTC on 28 February
    assert certificate.display_code in page
    assert f"http://localhost/certificates/{certificate.display_code}" in page

    again = client.get("/courses/appalti-pubblici/attestato.pdf")
    assert again.status_code == 200
    assert certificate.display_code in pdf_text(again.data)
    assert count_certificates() == 1


def test_the_verification_url_uses_the_public_address(
    new_app, make_user, make_course, put_on_staff
) -> None:
    app = new_app(BASE_URL="https://formazione.example.gov.it/")
    client = app.test_client()
    user, course = make_user(), make_course()
    put_on_staff(user)
    complete(user, course)
    assert login(client, user.email).status_code == 302
    data = client.get(f"/courses/{course.slug}/attestato.pdf").data
    code = _db.session.scalar(select(Certificate.code))
    assert f"https://formazione.example.gov.it/certificates/{grouped_code(code)}" in pdf_text(data)


def test_each_learner_downloads_only_their_own(
    client, login_as, make_user, make_course, put_on_staff
) -> None:
    course = make_course()
    anna = make_user(first_name="Anna")
    put_on_staff(anna, first="Anna", last="Bianchi")
    complete(anna, course)
    bruno = login_as("learner")
    put_on_staff(bruno, first="Bruno", last="Verdi")
    # Anna completed the course, Bruno did not: the URL is always "mine".
    assert client.get(f"/courses/{course.slug}/attestato.pdf").status_code == 404
    complete(bruno, course)
    page = pdf_text(client.get(f"/courses/{course.slug}/attestato.pdf").data)
    assert "Bruno Verdi" in page
    assert "Anna Bianchi" not in page
    (certificate,) = _db.session.scalars(select(Certificate)).all()
    assert certificate.user_id == bruno.id


def test_a_retired_course_keeps_its_certificates(client, login_as, make_course, put_on_staff):
    course = make_course()
    user = login_as("learner")
    put_on_staff(user)
    complete(user, course)
    course.retired_at = T0
    _db.session.commit()
    assert client.get(f"/courses/{course.slug}/attestato.pdf").status_code == 200


# Course overview ----------------------------------------------------------------------------------

BUTTON = "Scarica l'attestato (PDF)"


def test_the_overview_offers_the_certificate_once_completed(
    client, login_as, make_course, put_on_staff
) -> None:
    course = make_course()
    user = login_as("learner")
    put_on_staff(user)
    page = text(client.get(f"/courses/{course.slug}/"))
    assert BUTTON not in page
    complete(user, course)
    page = text(client.get(f"/courses/{course.slug}/"))
    assert BUTTON in page
    assert f'href="/courses/{course.slug}/attestato.pdf"' in page


def test_the_overview_offers_nothing_without_a_staff_record(client, login_as, make_course):
    course = make_course()
    complete(login_as("admin"), course)
    page = text(client.get(f"/courses/{course.slug}/"))
    assert "Hai completato questo corso" in page
    assert BUTTON not in page


# Public check ---------------------------------------------------------------------------------


@pytest.fixture
def issued(make_user, make_course, put_on_staff) -> Certificate:
    user = make_user(email="maria.rossi@comune.example.it")
    put_on_staff(user, first="Maria", last="Rossi")
    course = make_course("Monitoraggio e controlli", hours="6.5")
    complete(user, course, at=LATE_EVENING)
    certificate = issue_certificate(user, course, now=T0)
    _db.session.commit()
    return certificate


def test_the_public_page_confirms_with_minimal_personal_data(
    client: FlaskClient, issued: Certificate
) -> None:
    response = client.get(f"/certificates/{issued.display_code}")
    assert response.status_code == 200
    page = text(response)
    for expected in (
        "Attestato valido",
        "Maria Rossi",
        "Monitoraggio e controlli",
        "6,5 ore",
        "01/03/2026",  # completed
        "02/03/2026",  # issued
        PROGRAMME,
        issued.display_code,
    ):
        assert expected in page, expected
    assert CF not in page
    assert CF[:6] not in page  # not even part of it
    assert "maria.rossi@" not in page
    assert "persona1@" not in page  # the staff record's e-mail


@pytest.mark.parametrize(
    "transform",
    [str.lower, lambda code: code.replace("-", ""), lambda code: code.replace("-", "").lower()],
    ids=["lower case", "no dashes", "lower case without dashes"],
)
def test_the_public_page_accepts_the_code_as_typed(client, issued, transform) -> None:
    response = client.get(f"/certificates/{transform(issued.display_code)}")
    assert response.status_code == 200
    assert "Attestato valido" in text(response)


@pytest.mark.parametrize("code", ["2222-2222-2222-2222-2222", "NON-ESISTE", "0" * 20])
def test_an_unknown_code_is_a_404_page(client, issued, code) -> None:  # noqa: ARG001
    response = client.get(f"/certificates/{code}")
    assert response.status_code == 404
    page = text(response)
    assert "Nessun attestato con questo codice" in page
    assert "Attestato valido" not in page
    assert "Maria Rossi" not in page


def test_the_lookup_form_leads_to_the_code(client, issued) -> None:
    form = client.get("/certificates/")
    assert form.status_code == 200
    assert '<label for="code"' in text(form)
    assert 'name="code"' in text(form)
    response = client.get("/certificates/", query_string={"code": issued.code.lower()})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/certificates/{issued.display_code}"


def test_the_lookup_form_explains_a_malformed_code(client) -> None:
    response = client.get("/certificates/", query_string={"code": "abc/123"})
    assert response.status_code == 200
    page = text(response)
    assert "Questo non è un codice di verifica" in page
    assert 'aria-invalid="true"' in page


def test_the_public_check_is_rate_limited(new_app, issued) -> None:
    app = new_app(RATELIMIT_ENABLED=True, CERTIFICATE_CHECK_LIMIT="3 per minute")
    limiter.reset()
    try:
        client = app.test_client()
        for _ in range(3):
            assert client.get(f"/certificates/{new_code()}").status_code == 404
        throttled = client.get(f"/certificates/{issued.display_code}")
        assert throttled.status_code == 429
        assert "Troppi tentativi" in text(throttled)
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
        assert other.get(f"/certificates/{issued.display_code}").status_code == 200
    finally:
        limiter.reset()


def test_the_home_page_links_the_certificate_of_each_completed_course(
    client, login_as, make_course, put_on_staff
) -> None:
    course = make_course()
    user = login_as("learner")
    put_on_staff(user)
    link = f'href="/courses/{course.slug}/attestato.pdf"'
    assert link not in text(client.get("/"))
    complete(user, course)
    assert link in text(client.get("/"))


def test_the_home_page_links_no_certificate_without_a_staff_record(
    client, login_as, make_course
) -> None:
    course = make_course()
    complete(login_as("learner"), course)
    page = text(client.get("/"))
    assert "completato il" in page
    assert "attestato.pdf" not in page
