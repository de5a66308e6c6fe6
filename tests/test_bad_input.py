"""Bad input is a 4xx everywhere: NUL bytes and bad UTF-8, absurd page numbers, LIKE wildcards.

- NUL bytes or bytes that are not UTF-8 in the path, the query string or a
  form field are refused with 400, on the site's error page, before any view
  (``lms.core.request_guard``); PostgreSQL would otherwise fail on the NUL (a 500).
- Every paginated list answers 404 for a page past its end and for page
  numbers that are no page at all (``lms.core.sql.paginate``).
- ``%`` and ``_`` typed in a search are matched as themselves, not as LIKE
  wildcards (``lms.core.sql.contains_pattern``).

Runs on SQLite and, with ``LMS_TEST_DATABASE_URL``, on PostgreSQL, where the
NUL cases were 500s.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import csrf_token
from flask.testing import FlaskClient, FlaskCliRunner

from lms.auth.models import Role, User
from lms.extensions import db as _db
from lms.register.models import Authority, StaffCategory, StaffMember

REFUSED = "contiene caratteri non ammessi"
REFUSED_EN = "contains characters that are not allowed"


def refused(response: object, *, english: bool = False) -> bool:
    """True when *response* is the guard's 400, on the site's error page."""
    page = response.get_data(as_text=True)
    if english:
        return response.status_code == 400 and REFUSED_EN in page and "Error 400" in page
    return response.status_code == 400 and REFUSED in page and "Errore 400" in page


@pytest.fixture
def napoli(make_authority: Callable[..., Authority]) -> Authority:
    authority = make_authority("063049", name="Comune di Napoli", region_code="15")
    _db.session.commit()
    return authority


def add_staff(authority: Authority, cf: str, first: str, last: str) -> StaffMember:
    member = StaffMember(
        codice_fiscale=cf,
        first_name=first,
        last_name=last,
        email=f"{cf.lower()}@example.it",
        authority_id=authority.id,
        category=StaffCategory.EXISTING,
    )
    _db.session.add(member)
    _db.session.commit()
    return member


# NUL bytes and bad UTF-8 -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/personale/?q=a%00b",
        "/reports/learners.csv?region=%00",
        "/enti/06%0049",
        "/enti/?q=%00",
        "/admin/utenti?q=x%00",
        "/personale/?q=a%ffb",  # a lone byte that is not UTF-8
        "/personale/?q=%c3",  # a UTF-8 sequence cut short
        "/enti/?q=%ed%a0%80",  # an encoded surrogate, which UTF-8 forbids
        "/personale/?q=a+%00",
        "/nessuna-pagina/%00",  # before routing's 404 too
    ],
)
@pytest.mark.usefixtures("napoli")
def test_nul_or_bad_utf8_in_path_or_query_is_a_400(
    client: FlaskClient, login_as: Callable[..., User], url: str
) -> None:
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    assert refused(client.get(url))


@pytest.mark.usefixtures("napoli")
def test_good_text_is_not_refused(client: FlaskClient, login_as: Callable[..., User]) -> None:
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    assert client.get("/personale/?q=Niccol%C3%B2+D%27Amico").status_code == 200
    assert client.get("/enti/063049").status_code == 200
    assert client.get("/enti/?q=%E2%82%AC%20100%25").status_code == 200


@pytest.mark.usefixtures("napoli")
def test_bad_bytes_in_the_path_as_a_wsgi_server_passes_them(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    """gunicorn percent-decodes the path into PATH_INFO, one Latin-1 character a byte.

    Werkzeug's test client cannot send such a path (it decodes ``%ff`` to U+FFFD
    itself), so PATH_INFO is set as gunicorn's ``unquote_to_wsgi_str`` sets it.
    """
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    for path in ("/enti/06\x0049", "/enti/\xff", "/enti/\xc3", "/personale/\xe2\x82"):
        assert refused(client.get("/", environ_overrides={"PATH_INFO": path})), repr(path)
    # The same bytes when they are UTF-8: "/enti/è" is no authority, but it is text.
    response = client.get("/", environ_overrides={"PATH_INFO": "/enti/\xc3\xa8"})
    assert response.status_code == 404


@pytest.mark.usefixtures("napoli")
def test_the_refusal_is_in_the_readers_language(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    token = csrf_token(client, "/personale/")
    client.post("/lingua", data={"lang": "en", "csrf_token": token, "next": "/"})
    assert refused(client.get("/personale/?q=a%00b"), english=True)


def test_nul_in_the_login_email_is_a_400(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.LEARNER)
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"email": user.email + "\x00", "password": "x", "csrf_token": token},
    )
    assert refused(response)


@pytest.mark.parametrize(
    "body",
    [
        b"email=a%00%40example.org&password=x",
        b"email=a%ff%40example.org&password=x",  # percent-encoded byte that is not UTF-8
        b"email=a\xff@example.org&password=x",  # the raw byte itself
        b"email=a@example.org&password=\x00",
        b"email%00=a@example.org&password=x",  # in a field's name
    ],
)
def test_nul_or_bad_utf8_in_a_urlencoded_form_is_a_400(
    client: FlaskClient, make_user: Callable[..., User], body: bytes
) -> None:
    make_user(Role.LEARNER, email="a@example.org")
    token = csrf_token(client, "/login").encode()
    response = client.post(
        "/login",
        data=body + b"&csrf_token=" + token,
        content_type="application/x-www-form-urlencoded",
    )
    assert refused(response)


def test_a_urlencoded_form_of_good_text_still_signs_in(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """The guard reads the raw body first; the form is then parsed from that same copy."""
    user = make_user(Role.LEARNER, email="niccolo@example.org", first_name="Niccolò")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": "Prova-password-1", "csrf_token": token}
    )
    assert response.status_code == 302


def _multipart(fields: list[tuple[bytes, bytes]], boundary: bytes = b"xYzZY") -> bytes:
    parts = [
        b"--" + boundary + b"\r\n" + disposition + b"\r\n\r\n" + value + b"\r\n"
        for disposition, value in fields
    ]
    return b"".join(parts) + b"--" + boundary + b"--\r\n"


@pytest.mark.parametrize(
    "extra",
    [
        (b'Content-Disposition: form-data; name="note"', b"a\x00b"),
        (b'Content-Disposition: form-data; name="note"', b"a\xffb"),
        (b'Content-Disposition: form-data; name="no\x00te"', b"ok"),
        (
            (
                b'Content-Disposition: form-data; name="roster"; filename="a\x00.csv"\r\n'
                b"Content-Type: text/csv"
            ),
            b"codice_fiscale\n",
        ),
    ],
)
@pytest.mark.usefixtures("napoli")
def test_nul_or_bad_utf8_in_a_multipart_field_is_a_400(
    client: FlaskClient, login_as: Callable[..., User], extra: tuple[bytes, bytes]
) -> None:
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    token = csrf_token(client, "/personale/importa").encode()
    body = _multipart([(b'Content-Disposition: form-data; name="csrf_token"', token), extra])
    response = client.post(
        "/personale/importa", data=body, content_type="multipart/form-data; boundary=xYzZY"
    )
    assert refused(response)


@pytest.mark.usefixtures("napoli")
def test_a_nul_inside_an_uploaded_file_is_left_to_the_roster_reader(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    token = csrf_token(client, "/personale/importa")
    response = client.post(
        "/personale/importa",
        data={
            "csrf_token": token,
            "roster": (io.BytesIO(b"codice_fiscale,\x00nome\n"), "personale.csv"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:300]
    assert REFUSED not in page
    assert "il file non è un file CSV o XLSX" in page


def test_a_nul_in_a_roster_cell_past_the_first_4_kib_is_the_files_error(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    """The csv module keeps such a NUL; it used to reach a valid row, then PostgreSQL."""
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    header = "codice_fiscale;first_name;last_name;email;authority_code;category"
    row = f"RSSMRA75D21F839H;Ma\x00ria;Rossi;m.rossi@example.it;{napoli.code};in servizio"
    data = "\n".join([header, *[";;;;;"] * 1000, row]).encode()
    token = csrf_token(client, "/personale/importa")
    response = client.post(
        "/personale/importa",
        data={"csrf_token": token, "roster": (io.BytesIO(data), "personale.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:300]
    assert "riga 1002: il file contiene caratteri nulli (NUL)" in page


# Page numbers ------------------------------------------------------------------


LISTS = ("/personale/", "/enti/", "/admin/utenti")


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    "page",
    [
        "99999999999999999999",
        "9223372036854775808",  # 2**63: past SQLite's and PostgreSQL's integers
        "4611686018427387904",
        "1" + "0" * 5000,  # beyond int()'s default digit limit
        "0",
        "-1",
        "abc",
        "1e3",
        "",
        "٣",  # an Arabic-Indic digit, which int() would take
        "2",  # past the end of a short list
    ],
)
@pytest.mark.usefixtures("napoli")
def test_a_page_past_the_end_or_no_page_at_all_is_a_404(
    client: FlaskClient, login_as: Callable[..., User], url: str, page: str
) -> None:
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    response = client.get(url, query_string={"page": page})
    assert response.status_code == 404, (url, page[:30], response.status_code)
    assert "Pagina non trovata" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", LISTS)
def test_pages_that_exist_are_served_and_per_page_is_capped(
    client: FlaskClient,
    login_as: Callable[..., User],
    make_authority: Callable[..., Authority],
    make_user: Callable[..., User],
    url: str,
) -> None:
    first, second = make_authority(name="Comune A"), make_authority(name="Comune B")
    add_staff(first, "RSSMRA75D21F839H", "Maria", "Rossi")
    add_staff(second, "VRDGPP80A01F839W", "Giuseppe", "Verdi")
    make_user(Role.LEARNER)
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    assert client.get(url).status_code == 200
    assert client.get(url, query_string={"page": "2", "per_page": "1"}).status_code == 200
    assert client.get(url, query_string={"page": "1", "per_page": "9" * 20}).status_code == 200
    assert client.get(url, query_string={"page": "3", "per_page": "1"}).status_code == 404


# LIKE wildcards ----------------------------------------------------------------


@pytest.mark.parametrize("search", ["%", "_", "%%", "_a", "\\", "a%"])
def test_wildcards_in_the_staff_search_match_only_themselves(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority, search: str
) -> None:
    add_staff(napoli, "RSSMRA75D21F839H", "Maria", "Rossi")
    add_staff(napoli, "VRDGPP80A01F839W", "Giuseppe", "Verdi")
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    page = client.get("/personale/", query_string={"q": search}).get_data(as_text=True)
    assert "Rossi" not in page
    assert "Verdi" not in page


def test_the_staff_search_still_finds_names(
    client: FlaskClient, login_as: Callable[..., User], napoli: Authority
) -> None:
    add_staff(napoli, "RSSMRA75D21F839H", "Maria", "Rossi")
    add_staff(napoli, "VRDGPP80A01F839W", "Giuseppe", "Verdi")
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    page = client.get("/personale/", query_string={"q": "ROSSI ma"}).get_data(as_text=True)
    assert "Rossi" in page
    assert "Verdi" not in page


def test_wildcards_in_the_authority_search_match_only_themselves(
    client: FlaskClient, login_as: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    make_authority(name="Unione 100% Cilento")
    make_authority(name="Comune di Sant_Anna")
    make_authority(name="Comune di Santa Anna")
    _db.session.commit()
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")

    def found(search: str) -> set[str]:
        page = client.get("/enti/", query_string={"q": search}).get_data(as_text=True)
        names = {"Unione 100% Cilento", "Comune di Sant_Anna", "Comune di Santa Anna"}
        return {name for name in names if name in page}

    assert found("%") == {"Unione 100% Cilento"}
    assert found("_") == {"Comune di Sant_Anna"}
    assert found("sant_") == {"Comune di Sant_Anna"}
    assert found("santa") == {"Comune di Santa Anna"}
    assert found("\\") == set()


def test_wildcards_in_the_account_search_match_only_themselves(
    client: FlaskClient, login_as: Callable[..., User], make_user: Callable[..., User]
) -> None:
    make_user(Role.LEARNER, email="anna_bianchi@example.org", last_name="Bianchi")
    make_user(Role.LEARNER, email="annaxbianchi@example.org", last_name="Neri")
    login_as(Role.ADMIN, email="capo@example.org", last_name="Capo")
    page = client.get("/admin/utenti", query_string={"q": "anna_b"}).get_data(as_text=True)
    assert "anna_bianchi@example.org" in page
    assert "annaxbianchi@example.org" not in page
    page = client.get("/admin/utenti", query_string={"q": "%"}).get_data(as_text=True)
    assert "@example.org" not in page.replace("capo@example.org", "")


# Files of blank rows -------------------------------------------------------------

BLANK_ROWS = b";;;;;;\r\n;;;;;;\r\n;;;;;;\r\n"  # as Excel saves a sheet of empty rows
NO_HEADER = "the file has no header row: it only has blank rows (or rows of separators only)"


@pytest.mark.usefixtures("napoli")
def test_an_upload_of_blank_rows_says_it_has_no_header(
    client: FlaskClient, login_as: Callable[..., User]
) -> None:
    login_as(Role.ADMIN, first_name="Capo", last_name="Ufficio")
    token = csrf_token(client, "/personale/importa")
    response = client.post(
        "/personale/importa",
        data={"csrf_token": token, "roster": (io.BytesIO(BLANK_ROWS), "personale.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:300]
    assert "il file non ha una riga di intestazione" in page


def test_staff_import_of_blank_rows_says_it_has_no_header(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "personale.csv"
    path.write_bytes(BLANK_ROWS)
    result = runner.invoke(args=["staff", "import", str(path)])
    assert (result.exit_code, result.stderr) == (1, f"{path}: {NO_HEADER}\n")


def test_authority_import_of_blank_rows_says_it_has_no_header(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "enti.csv"
    path.write_bytes(b",,,,\n,,,,\n")
    result = runner.invoke(args=["register", "import-authorities", str(path)])
    assert result.exit_code == 1
    assert NO_HEADER in result.stderr
