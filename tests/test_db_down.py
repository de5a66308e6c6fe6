"""Error pages without the database, and SQLite connections that recover from read-only.

When the database cannot be reached, a signed-in person used to get the WSGI
server's bare "Internal Server Error": the error handler's page, its language
and the security headers each asked the database for the signed-in account,
and the handler itself failed. Now such errors are a 503 with ``Retry-After``
and a page that needs neither the database nor the layout; any other error's
page is rendered for an anonymous visitor when the account cannot be read.

The apps here point at databases that do not answer (PostgreSQL on a closed
port, an SQLite file in a directory that does not exist), with Flask's
production handling of exceptions (``PROPAGATE_EXCEPTIONS`` off), and one test
sends a real HTTP request to a real (threaded Werkzeug) server.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import login, make_test_app
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from lms.auth.models import Role, User
from lms.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent
UNAVAILABLE = "Servizio temporaneamente non disponibile"
UNAVAILABLE_EN = "Service temporarily unavailable"
CLOSED_PORT = "postgresql+psycopg://postgres@127.0.0.1:1/lms"
BROWSER = "Mozilla/5.0 (prova)"


@pytest.fixture(params=["postgresql", "sqlite"])
def unreachable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that does not answer: nothing listens on port 1; the directory is missing."""
    if request.param == "postgresql":
        return CLOSED_PORT
    return f"sqlite:///{tmp_path / 'no-such-directory' / 'lms.sqlite3'}"


@pytest.fixture
def down_app(unreachable_url: str) -> Iterator[Flask]:
    """The app on an unreachable database, handling exceptions as in production."""
    app = make_test_app(unreachable_url, PROPAGATE_EXCEPTIONS=False)

    @app.get("/prova-errore")
    def broken_page() -> str:
        message = "a bug in a view"
        raise RuntimeError(message)

    yield app
    with app.app_context():
        _db.engine.dispose()


def session_cookie(client: FlaskClient, user: User, *, english: bool = False) -> str:
    """Sign *user* in on the working app; the session cookie (the same secret key)."""
    assert login(client, user.email).status_code == 302
    if english:
        from conftest import csrf_token  # noqa: PLC0415

        client.post("/lingua", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    cookie = client.get_cookie("lms_session")
    assert cookie is not None
    return cookie.value


def down_client(app: Flask, cookie: str | None) -> FlaskClient:
    client = app.test_client()
    if cookie is not None:
        client.set_cookie("lms_session", cookie)
    return client


@pytest.mark.parametrize("url", ["/", "/personale/", "/reports/", "/enti/", "/login"])
def test_a_signed_in_person_gets_a_503_page_that_needs_no_database(
    client: FlaskClient, make_user: Callable[..., User], down_app: Flask, url: str
) -> None:
    cookie = session_cookie(client, make_user(Role.HR))
    response = down_client(down_app, cookie).get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:300]
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert UNAVAILABLE in page
    assert '<html lang="it">' in page
    assert "Internal Server Error" not in page


def test_the_503_page_is_in_the_readers_language(
    client: FlaskClient, make_user: Callable[..., User], down_app: Flask
) -> None:
    cookie = session_cookie(client, make_user(Role.LEARNER), english=True)
    response = down_client(down_app, cookie).get("/")
    assert response.status_code == 503
    assert UNAVAILABLE_EN in response.get_data(as_text=True)


def test_signing_in_while_the_database_is_down_is_a_503(
    make_user: Callable[..., User], down_app: Flask
) -> None:
    user = make_user(Role.LEARNER)
    visitor = down_client(down_app, None)
    assert visitor.get("/login").status_code == 200  # the form itself needs no database
    response = login(visitor, user.email)
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)


def test_the_health_check_answers_for_a_signed_in_browser_too(
    client: FlaskClient, make_user: Callable[..., User], down_app: Flask
) -> None:
    cookie = session_cookie(client, make_user(Role.LEARNER))
    response = down_client(down_app, cookie).get("/healthz")
    assert response.status_code == 503
    assert response.get_data(as_text=True) == "database unavailable"


def test_another_error_still_gets_the_sites_page_when_the_account_cannot_be_read(
    client: FlaskClient, make_user: Callable[..., User], down_app: Flask
) -> None:
    cookie = session_cookie(client, make_user(Role.LEARNER))
    browser = down_client(down_app, cookie)
    response = browser.get("/prova-errore")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Errore 500" in page  # the site's own error page, in its layout
    assert "Si è verificato un errore imprevisto" in page
    assert "bootstrap-italia" in page
    response = browser.get("/nessuna-pagina")
    assert response.status_code == 404
    assert "Pagina non trovata" in response.get_data(as_text=True)


def test_a_real_request_to_a_real_server(
    client: FlaskClient, make_user: Callable[..., User], down_app: Flask
) -> None:
    """Through a threaded WSGI server and a socket, as a browser would ask.

    The session is tied to the browser (Flask-Login's "strong" protection): the
    request carries the User-Agent the session was opened with.
    """
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    cookie = session_cookie(client, make_user(Role.HR))
    server = make_server("127.0.0.1", 0, down_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        headers = {"Cookie": f"lms_session={cookie}", "User-Agent": BROWSER}
        connection.request("GET", "/personale/", headers=headers)
        answer = connection.getresponse()
        body = answer.read().decode()
        connection.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert answer.status == 503, body[:300]
    assert answer.getheader("Retry-After") == "30"
    assert UNAVAILABLE in body


# SQLite files that were read-only -------------------------------------------------

#: Run in a child process that cannot override file permissions (see below).
READ_ONLY_SCENARIO = """
import json, sys
from pathlib import Path
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from config import TestingConfig
from lms import create_app
from lms.extensions import db

path, restore = Path(sys.argv[1]), sys.argv[2]
app = create_app(type("C", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}))
out = {}


def write_with(connections):
    results = []
    for connection in connections:
        try:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            connection.commit()
            results.append("ok")
        except OperationalError as exc:
            results.append(str(exc.orig))
            connection.rollback()
    return results


with app.app_context():
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    db.engine.dispose()
    path.chmod(0o444)
    # Three connections open while the file is read-only, and go back to the pool.
    pooled = [db.engine.connect() for _ in range(3)]
    for connection in pooled:
        connection.execute(text("SELECT count(*) FROM t"))
    for connection in pooled:
        connection.close()
    out["denied"] = [
        f.name
        for f in path.parent.iterdir()
        if f.name.startswith(path.name) and not f.stat().st_mode & 0o200
    ]
    try:
        db.session.execute(text("INSERT INTO t VALUES (0)"))
        db.session.commit()
        out["while_read_only"] = "ok"
    except OperationalError as exc:
        out["while_read_only"] = str(exc.orig)
        out["invalidated"] = exc.connection_invalidated
        db.session.rollback()
    # Writable again: the database file only, or it and its -wal and -shm files.
    for f in path.parent.iterdir():
        if f.name == path.name or (restore == "all" and f.name.startswith(path.name)):
            f.chmod(0o644)
    held = [db.engine.connect() for _ in range(3)]
    out["writable_again"] = write_with(held)
    for connection in held:
        connection.close()
    held = [db.engine.connect() for _ in range(3)]
    out["then"] = write_with(held)
    for connection in held:
        connection.close()
print(json.dumps(out))
"""


def _run_read_only_scenario(directory: Path, restore: str) -> dict:
    """Run :data:`READ_ONLY_SCENARIO` where file permissions bind.

    The suite runs as root here, and root writes to a 0444 file all the same
    (CAP_DAC_OVERRIDE). The child is started with that capability (and
    CAP_DAC_READ_SEARCH) dropped from its bounding set by util-linux's
    ``setpriv``, so that it meets the permissions as the service's own user
    would. It still owns the file, so it may chmod it back.
    """
    command = [sys.executable, "-c", READ_ONLY_SCENARIO, str(directory / "lms.sqlite3"), restore]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a read-only file cannot be made")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sqlite_connections_opened_read_only_are_replaced_once_it_is_writable(
    tmp_path: Path,
) -> None:
    """The file, its -wal and its -shm made read-only, then writable again (chmod).

    Before: each of the three pooled connections, opened read-only by SQLite,
    kept refusing every write until the process restarted.
    """
    out = _run_read_only_scenario(tmp_path, "all")
    assert "lms.sqlite3" in out["denied"]  # the file really was read-only for the child
    assert out["while_read_only"] == "attempt to write a readonly database"
    assert out["invalidated"] is True  # treated as a lost connection: the pool is renewed
    assert out["writable_again"] == ["ok", "ok", "ok"]
    assert out["then"] == ["ok", "ok", "ok"]


def test_sqlite_recovers_after_one_more_failure_when_only_the_main_file_is_restored(
    tmp_path: Path,
) -> None:
    """SQLite made the -wal and -shm files as read-only as the database file.

    With only the database file made writable again, the first fresh connection
    still meets a read-only -wal file and fails once; that failure renews the
    pool, SQLite removes the stale files as their last connection closes, and
    every later write succeeds.
    """
    out = _run_read_only_scenario(tmp_path, "main")
    assert out["while_read_only"] == "attempt to write a readonly database"
    assert out["writable_again"][1:] == ["ok", "ok"]
    assert out["then"] == ["ok", "ok", "ok"]
