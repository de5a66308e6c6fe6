"""Shared fixtures: the app on a migrated test database, clients, factories.

The suite runs on SQLite by default and on PostgreSQL when
``LMS_TEST_DATABASE_URL`` is set (that database is emptied: never point it at
real data). The schema is built once per run by the Alembic migrations, so every
run also proves that ``lms db upgrade`` builds the whole schema; every test
starts from empty tables.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from argon2 import PasswordHasher
from flask import Flask, session
from flask.testing import FlaskClient, FlaskCliRunner
from flask_babel import refresh
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.test import TestResponse

from config import TestingConfig
from lms import create_app
from lms.auth import passwords
from lms.auth.models import Role, SignInMethod, User, UserScope, UserSession
from lms.auth.operations import token_hash
from lms.auth.passwords import hash_password
from lms.extensions import db as _db
from lms.register.models import LESS_DEVELOPED_REGION_CODES, Authority, AuthorityKind, Region


def pytest_sessionstart(session: pytest.Session) -> None:  # noqa: ARG001
    """Compile the translations when a .mo is missing or older than its .po.

    The .mo files are build output (not in git, ``make translations`` writes them);
    this makes plain ``pytest`` work on a fresh clone. The same as ``pybabel compile
    -d lms/translations``, written atomically so two runs at once do not clash.
    """
    from babel.messages.mofile import write_mo  # noqa: PLC0415
    from babel.messages.pofile import read_po  # noqa: PLC0415

    translations = Path(__file__).resolve().parents[1] / "lms" / "translations"
    for po in sorted(translations.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parents[1].name)
        if catalog.fuzzy:  # pybabel compile skips fuzzy catalogues too
            continue
        partial = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        partial.replace(mo)


# Argon2 with its production cost makes each sign-in take 0.1-0.2 s; the suite
# signs in hundreds of times. Tests use the same algorithm with minimal cost
# (test_users_cli checks the production parameters separately).
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("not a real password")

TEST_PASSWORD = "Prova-password-1"
_TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD)

REGION_NAMES = {
    "01": "Piemonte",
    "02": "Valle d'Aosta/Vallée d'Aoste",
    "03": "Lombardia",
    "04": "Trentino-Alto Adige/Südtirol",
    "05": "Veneto",
    "06": "Friuli-Venezia Giulia",
    "07": "Liguria",
    "08": "Emilia-Romagna",
    "09": "Toscana",
    "10": "Umbria",
    "11": "Marche",
    "12": "Lazio",
    "13": "Abruzzo",
    "14": "Molise",
    "15": "Campania",
    "16": "Puglia",
    "17": "Basilicata",
    "18": "Calabria",
    "19": "Sicilia",
    "20": "Sardegna",
}


def _database_url(tmp_dir: Path) -> str:
    return os.environ.get("LMS_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


class ClosingClient(FlaskClient):
    """A test client that reads each response whole and closes it, as a WSGI server does.

    Closing runs what the app queued to follow the response (the e-mail sent
    after a request's commit, :mod:`lms.core.transaction`).
    """

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> TestResponse:
        return super().open(*args, buffered=buffered, **kwargs)


def make_test_app(database_url: str, **overrides: object) -> Flask:
    """An app with the testing configuration on *database_url* (and *overrides*)."""
    config = type(
        "TestConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_url, **overrides}
    )
    app = create_app(config)
    app.test_client_class = ClosingClient
    return app


@contextmanager
def request_in(app: Flask, lang: str) -> Iterator[None]:
    """A request context whose reader chose *lang* (``it``, ``en``) with the language switch."""
    with app.test_request_context("/"):
        session["lang"] = lang
        refresh()
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database, emptied and migrated once for the whole run."""
    url = _database_url(tmp_path_factory.mktemp("db"))
    app = make_test_app(url)
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        _db.engine.dispose()
    return url


def dispose_app(app: Flask) -> None:
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The application under test (its context is open during each test: see ``db``)."""
    app = make_test_app(database_url)
    yield app
    dispose_app(app)


@pytest.fixture(scope="session")
def web_app(database_url: str) -> Iterator[Flask]:
    """A second app on the same database, for HTTP requests.

    Requests to ``app`` would run inside the app context the autouse ``db``
    fixture keeps open, sharing ``g`` (the signed-in user, the language) and the
    database session between every request and client of a test. Requests to
    this app get a fresh context each, as in production. Commit what a request
    must see.
    """
    app = make_test_app(database_url)
    yield app
    dispose_app(app)


def _empty_tables(app: Flask) -> None:
    with app.app_context():
        _db.session.remove()
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        # DELETE, not TRUNCATE: on nearly empty tables it is several times faster.
        with _db.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names


@pytest.fixture(autouse=True)
def db(app: Flask) -> Iterator[object]:
    """Each test runs inside an app context and starts (and leaves) empty tables."""
    with app.app_context():
        yield _db
        _db.session.remove()
    _empty_tables(app)


@pytest.fixture
def new_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Make apps with settings of their own; their connections are closed afterwards."""
    apps: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        apps.append(make_test_app(database_url, **overrides))
        return apps[-1]

    yield factory
    for made in apps:
        dispose_app(made)


@pytest.fixture
def client(web_app: Flask) -> FlaskClient:
    """A browser-like client (cookies kept) of :func:`web_app`."""
    return web_app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Runs ``lms`` commands against the test app (stdout and stderr apart)."""
    return app.test_cli_runner()


# Factories ---------------------------------------------------------------


@pytest.fixture
def make_region() -> Callable[..., Region]:
    """Create (or return) a region by ISTAT code."""

    def factory(code: str = "15") -> Region:
        region = _db.session.query(Region).filter_by(code=code).one_or_none()
        if region is None:
            region = Region(
                code=code,
                name=REGION_NAMES[code],
                nuts2=None,
                less_developed=code in LESS_DEVELOPED_REGION_CODES,
            )
            _db.session.add(region)
            _db.session.flush()
        return region

    return factory


@pytest.fixture
def make_authority(make_region: Callable[..., Region]) -> Callable[..., Authority]:
    """Create an authority; by default a municipality in Campania."""
    counter = iter(range(1, 100_000))

    def factory(
        code: str | None = None,
        *,
        kind: AuthorityKind = AuthorityKind.COMUNE,
        name: str | None = None,
        region_code: str = "15",
        istat_code: str | None = None,
        ipa_code: str | None = None,
    ) -> Authority:
        n = next(counter)
        if code is None:
            code = istat_code or f"{region_code}{n:04d}"
        authority = Authority(
            code=code,
            kind=kind,
            name=name or f"Comune di Prova {n}",
            region=make_region(region_code),
            istat_code=istat_code
            if istat_code is not None
            else (code if code.isdigit() and len(code) in {2, 3, 6} else None),
            ipa_code=ipa_code,
        )
        _db.session.add(authority)
        _db.session.flush()
        return authority

    return factory


@pytest.fixture
def make_user() -> Callable[..., User]:
    """Create a user with the test password (hash computed once per run)."""
    counter = iter(range(1, 100_000))

    def factory(
        role: Role | str = Role.LEARNER,
        *,
        email: str | None = None,
        scope: list[Authority | Region] | tuple = (),
        active: bool = True,
        first_name: str = "Maria",
        last_name: str = "Rossi",
        password_hash: str | None = _TEST_PASSWORD_HASH,
    ) -> User:
        role = Role(role)
        user = User(
            email=email or f"{role.value}{next(counter)}@example.org",
            role=role,
            first_name=first_name,
            last_name=last_name,
            active=active,
            password_hash=password_hash,
        )
        user.scopes = [
            UserScope(authority=s) if isinstance(s, Authority) else UserScope(region=s)
            for s in scope
        ]
        _db.session.add(user)
        _db.session.commit()
        return user

    return factory


def open_session_cookie_id(user: User) -> str:
    """A session opened for *user* on the server, as its cookies name it (committed).

    For the tests that forge a "remember me" cookie: a cookie names a session
    row, not only an account.
    """
    key = secrets.token_urlsafe(32)
    _db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=token_hash(key),
            method=SignInMethod.PASSWORD,
            user_version=user.session_version,
        )
    )
    _db.session.commit()
    return f"{user.id}:{user.session_version}:{key}"


def csrf_token(client: FlaskClient, url: str = "/login") -> str:
    """Fetch *url* and return the CSRF token of its form."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, f"no CSRF token in {url}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = TEST_PASSWORD) -> object:
    """Sign in through the real form (CSRF token included)."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(
    client: FlaskClient,
    make_user: Callable[..., User],
) -> Callable[..., User]:
    """Create a user of *role* (an HR manager with *scope*) and sign the client in."""

    def sign_in(
        role: Role | str, scope: list[Authority | Region] | tuple = (), **kwargs: object
    ) -> User:
        user = make_user(role, scope=scope, **kwargs)
        response = login(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return sign_in


# E-mail ------------------------------------------------------------------


class _Inbox:
    """What the loopback SMTP server received: one ``EmailMessage`` per delivery."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            BytesParser(policy=email_policy.default).parsebytes(envelope.content)  # type: ignore[arg-type]
        )
        return "250 OK"


@pytest.fixture(scope="session")
def _smtp_controller() -> Iterator[tuple[Controller, _Inbox]]:
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def smtp_server(_smtp_controller: tuple[Controller, _Inbox]) -> _Inbox:
    """A real SMTP server (aiosmtpd) on loopback; ``smtp_settings`` points an app at it."""
    _controller, inbox = _smtp_controller
    inbox.messages.clear()
    return inbox


@pytest.fixture
def smtp_settings(_smtp_controller: tuple[Controller, _Inbox]) -> dict[str, object]:
    """App settings that send e-mail to :func:`smtp_server`."""
    controller, _inbox = _smtp_controller
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": controller.port,
        "SMTP_STARTTLS": False,
        "SMTP_USER": "",
    }
