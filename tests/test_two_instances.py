"""Two app instances on one PostgreSQL database work as one site (docs/deploy.md).

Two gunicorn servers run in their own processes, with deploy/gunicorn.conf.py,
the production configuration, the same ``LMS_SECRET_KEY`` and the same database,
each in a folder of its own (its LMS_INSTANCE_DIR), and rate-limit counters in Redis when
Redis answers on 127.0.0.1:6379. A browser (cookies kept by hand, so a copy of
a cookie can be replayed) goes back and forth between them: a session, a quiz
attempt, a roster upload, failed sign-ins and a sign-out each start on one
instance and continue on the other.

Runs only on PostgreSQL (``LMS_TEST_DATABASE_URL``): on SQLite's single file
"sharing nothing but the database" proves little. ``scripts/two-instances-check.sh``
runs this file for a person checking a server.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import TEST_PASSWORD
from sqlalchemy import func, select
from test_quiz_attempts import KEY, attempts_of, make_quiz, quiz_form

from lms.auth.models import Role, User, UserSession
from lms.enrolments.models import PendingUpload
from lms.extensions import db as _db
from lms.register.models import Authority, AuthorityKind, StaffMember

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "tests" / "fixtures" / "roster" / "personale_comune.csv"
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_URL = os.environ.get("LMS_TEST_DATABASE_URL", "")
START_TIMEOUT = 30.0

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgresql"),
        reason="two instances sharing one database: needs PostgreSQL (LMS_TEST_DATABASE_URL)",
    ),
]


# Servers ----------------------------------------------------------------------------------


def _redis_answers(url: str) -> str | None:
    """None when Redis answers at *url*, else why not."""
    try:
        import redis  # noqa: PLC0415 - optional: the prod extra (and the test extra)
    except ImportError:
        return "the redis package is not installed"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as error:
        return f"Redis does not answer at {url}: {error}"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Instance:
    """One gunicorn server: its name, port and process."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path


@dataclass
class Site:
    """The two instances, and why rate limits are not shared (None: they are, in Redis)."""

    a: Instance
    b: Instance
    redis_missing: str | None


def _start(name: str, port: int, env: Mapping[str, str], folder: Path) -> Instance:
    log = folder / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--name",
        f"lms-test-{name}",
        "lms.wsgi:app",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=folder, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
    return Instance(name, port, process, log)


def _wait_until_healthy(instance: Instance) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            pytest.fail(f"instance {instance.name} exited:\n{instance.log.read_text()[-3000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    pytest.fail(f"instance {instance.name} did not answer:\n{instance.log.read_text()[-3000:]}")


def _stop(instance: Instance) -> None:
    if instance.process.poll() is None:
        instance.process.send_signal(signal.SIGTERM)
        try:
            instance.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait()


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Two instances on the (migrated) test database, started once for this file."""
    redis_missing = _redis_answers(REDIS_URL)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LMS_", "GUNICORN", "WEB_CONCURRENCY"))
    }
    env |= {
        "LMS_ENV": "production",
        "LMS_DATABASE_URL": database_url,
        "LMS_SECRET_KEY": secrets.token_hex(32),
        "LMS_SECURE_COOKIES": "0",  # plain HTTP on loopback
        "LMS_BASE_URL": "http://127.0.0.1",
        "LMS_RATELIMIT_STORAGE_URL": "memory://" if redis_missing else REDIS_URL,
        # Counters of this run only, so that runs in the same quarter of an hour
        # do not add up (the keys expire with their window).
        "LMS_RATELIMIT_KEY_PREFIX": f"lms-test-{uuid.uuid4().hex}",
        "PYTHONPATH": str(ROOT),
    }
    instances = []
    try:
        for name in ("a", "b"):
            folder = tmp_path_factory.mktemp(f"instance-{name}")
            instances.append(
                _start(name, _free_port(), env | {"LMS_INSTANCE_DIR": str(folder)}, folder)
            )
        for instance in instances:
            _wait_until_healthy(instance)
        yield Site(instances[0], instances[1], redis_missing)
    finally:
        for instance in instances:
            _stop(instance)


# A browser whose cookies can be copied ------------------------------------------------------


@dataclass
class Page:
    status: int
    location: str
    text: str


@dataclass
class Browser:
    """Cookies kept by hand (not by port, as a real browser would not either)."""

    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        instance: Instance,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Page:
        headers = {"User-Agent": "two-instances-test"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Page(response.status, response.getheader("Location") or "", text)

    def get(self, instance: Instance, path: str) -> Page:
        return self.request(instance, "GET", path)

    def post(
        self, instance: Instance, path: str, form: Mapping[str, str | list[str]], *, csrf_from: str
    ) -> Page:
        """POST *form* with a CSRF token from the page at *csrf_from* on the same instance."""
        data = {"csrf_token": self.csrf_token(instance, csrf_from), **form}
        return self.request(
            instance,
            "POST",
            path,
            urlencode(data, doseq=True).encode(),
            "application/x-www-form-urlencoded",
        )

    def csrf_token(self, instance: Instance, path: str) -> str:
        page = self.get(instance, path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path} ({page.status})"
        return match.group(1)

    def sign_in(self, instance: Instance, email: str, password: str = TEST_PASSWORD) -> Page:
        return self.post(
            instance, "/login", {"email": email, "password": password}, csrf_from="/login"
        )

    def upload(self, instance: Instance, path: str, filename: str, data: bytes) -> Page:
        boundary = secrets.token_hex(16)
        token = self.csrf_token(instance, path)
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                f"{token}\r\n"
                f'--{boundary}\r\nContent-Disposition: form-data; name="roster"; '
                f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.request(
            instance, "POST", path, body, f"multipart/form-data; boundary={boundary}"
        )


def signed_in(page: Page) -> bool:
    """Whether *page* (of ``/``) was served to a signed-in person."""
    if page.status == 302 and "/login" in page.location:
        return False
    assert page.status == 200, (page.status, page.location)
    return True


def one_value(model_column: object, *where: object) -> object:
    _db.session.expire_all()
    return _db.session.scalar(select(model_column).where(*where))


# The checks --------------------------------------------------------------------------------


def test_both_instances_answer_on_the_same_database(site: Site) -> None:
    for instance in (site.a, site.b):
        page = Browser().get(instance, "/healthz")
        assert (page.status, page.text) == (200, "ok")


def test_a_session_begun_on_one_instance_is_valid_on_the_other(
    site: Site, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.LEARNER, first_name="Giulia", last_name="Ferri")
    browser = Browser()
    assert browser.sign_in(site.a, user.email).status == 302
    on_b = browser.get(site.b, "/")
    assert signed_in(on_b)
    assert "Giulia" in on_b.text
    assert not signed_in(Browser().get(site.b, "/"))  # without the cookie: the sign-in page


def test_a_quiz_attempt_started_on_one_instance_is_submitted_on_the_other(
    site: Site, make_user: Callable[..., User], tmp_path: Path
) -> None:
    quiz = make_quiz(tmp_path, max_attempts=3)
    user = make_user(Role.LEARNER)
    browser = Browser()
    assert browser.sign_in(site.a, user.email).status == 302
    started = browser.post(
        site.a, "/courses/corso/verifica/tentativi", {}, csrf_from="/courses/corso/verifica/"
    )
    assert started.status == 302
    (attempt,) = attempts_of(user, quiz)
    assert attempt.submitted_at is None

    url = f"/courses/corso/verifica/tentativi/{attempt.id}"
    submitted = browser.post(site.b, url, quiz_form(KEY), csrf_from="/courses/")
    assert submitted.status == 302
    # The same form again, on the first instance (a double click, a replay): graded once.
    again = browser.post(site.a, url, quiz_form(KEY), csrf_from="/courses/")
    assert again.status == 302
    (attempt,) = attempts_of(user, quiz)
    assert attempt.submitted_at is not None
    assert attempt.score_pct == 100
    review = browser.get(site.a, url)
    assert review.status == 200


def test_a_roster_previewed_on_one_instance_is_confirmed_on_the_other(
    site: Site, make_authority: Callable[..., Authority], make_user: Callable[..., User]
) -> None:
    napoli = make_authority(
        "063049", istat_code="063049", ipa_code="c_f839", name="Comune di Napoli"
    )
    make_authority("15", kind=AuthorityKind.REGIONE, istat_code="15", name="Regione Campania")
    _db.session.commit()
    hr = make_user(Role.HR, scope=[napoli.region])
    browser = Browser()
    assert browser.sign_in(site.a, hr.email).status == 302
    preview = browser.upload(site.a, "/personale/importa", ROSTER.name, ROSTER.read_bytes())
    assert preview.status == 200
    match = re.search(r'name="token" value="([^"]+)"', preview.text)
    assert match, re.findall(r"<li>([^<]+)</li>", preview.text)[:5]
    token = match.group(1)
    assert one_value(func.count(PendingUpload.token_hash)) == 1
    assert one_value(func.count(StaffMember.id)) == 0

    done = browser.post(
        site.b, "/personale/importa/conferma", {"token": token}, csrf_from="/personale/importa"
    )
    assert done.status == 200, done.location
    assert one_value(func.count(StaffMember.id)) == 9
    assert one_value(func.count(PendingUpload.token_hash)) == 0
    # Confirmed once: the same confirmation on the first instance finds nothing to apply.
    again = browser.post(
        site.a, "/personale/importa/conferma", {"token": token}, csrf_from="/personale/importa"
    )
    assert (again.status, again.location) == (302, "/personale/importa")
    assert one_value(func.count(StaffMember.id)) == 9


def test_failed_sign_ins_on_both_instances_count_against_one_limit(
    site: Site, make_user: Callable[..., User]
) -> None:
    if site.redis_missing:
        pytest.skip(f"rate-limit counters are per instance without Redis: {site.redis_missing}")
    # An address of its own: the limit is kept per e-mail, and other tests' users
    # get the same generated addresses.
    user = make_user(Role.LEARNER, email="bersaglio@example.org")
    browser = Browser()
    # LMS_LOGIN_LIMIT_PER_ACCOUNT: 5 failures in 15 minutes, whichever instance served them.
    for instance in (site.a, site.b, site.a, site.b, site.a):
        assert browser.sign_in(instance, user.email, "Sbagliata-123").status == 200
    assert browser.sign_in(site.b, user.email, "Sbagliata-123").status == 429
    assert browser.sign_in(site.a, user.email).status == 429  # the right password too, now
    assert browser.sign_in(site.b, user.email).status == 429


def test_signing_out_on_one_instance_ends_the_session_on_the_other(
    site: Site, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.LEARNER)
    browser = Browser()
    assert browser.sign_in(site.a, user.email).status == 302
    copy = Browser(dict(browser.cookies))  # the same cookie, kept elsewhere
    assert signed_in(copy.get(site.a, "/"))

    out = browser.post(site.b, "/logout", {}, csrf_from="/")
    assert (out.status, out.location) == (302, "/login")
    assert not signed_in(browser.get(site.a, "/"))
    assert not signed_in(copy.get(site.a, "/"))  # the copy is no longer a session either
    # Signing out ends that session only, on the server: no version bump needed.
    assert one_value(UserSession.ended_at, UserSession.user_id == user.id) is not None
    assert one_value(User.session_version, User.id == user.id) == 1
