"""Developers Italia's spid-sp-test against the app on loopback: 0 failures, SPID and CIE.

The tool (``.venv-spid-sp-test``, ``scripts/install-spid-sp-test.sh``) reads the
SP's metadata (``--extra``), asks ``/spid/login`` for an AuthnRequest, then posts
every one of its response tests (``-tr``: good ones, which must sign in and end
on a 200 page, and bad ones: unsigned, wrapped, expired, wrongly addressed...,
which must be refused with a 4xx) to ``/spid/acs``, as its test IdP
(``--idp-metadata``, which the SP loads). The person it signs in,
``TINIT-GDASDV00A01H501J``, is a staff member with a learner account here.

Skipped, saying why, when xmlsec1 or the tool is missing, unless
``LMS_REQUIRE_SPID=1`` (set by ``.ci/run``): then they fail. Run once, in one
pass (see ``CONFORMANCE_PASS``): the SP keeps no state but one table of pending
requests, which the rest of the suite tests on both databases, and the tool
takes a few minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import dispose_app, make_test_app
from werkzeug.serving import make_server

from lms.auth.models import Role, User
from lms.extensions import db
from lms.register.models import StaffCategory, StaffMember
from lms.spid.certificate import subject, write_key_and_certificate

ROOT = Path(__file__).resolve().parents[1]
TOOL = Path(os.environ.get("LMS_SPID_SP_TEST", ROOT / ".venv-spid-sp-test/bin/spid_sp_test"))
REQUIRE = os.environ.get("LMS_REQUIRE_SPID", "").strip() in {"1", "true", "yes"}
TEST_IDP = "https://localhost:8443"
TOOL_PERSON = "GDASDV00A01H501J"  # the tool's test identity (fiscalNumber TINIT-...)


#: Which pass of ``make test`` runs the tool: one is enough (the SP's logic is tested
#: on both databases by tests/test_spid.py). The SQLite pass by default;
#: scripts/run-tests.sh moves it to the PostgreSQL pass when there is one, which
#: ends minutes before the SQLite pass (browser tests, coverage) does.
CONFORMANCE_PASS = os.environ.get("LMS_SPID_CONFORMANCE_PASS", "sqlite")


def _skip_reason() -> str | None:
    this_pass = "postgresql" if os.environ.get("LMS_TEST_DATABASE_URL") else "sqlite"
    if this_pass != CONFORMANCE_PASS:
        return (
            f"spid-sp-test runs in the {CONFORMANCE_PASS} pass only"
            " (the SP's logic is tested on both)"
        )
    missing = [
        what
        for what, ok in (
            ("xmlsec1 (scripts/install-xmlsec.sh)", shutil.which("xmlsec1")),
            (f"spid-sp-test at {TOOL} (scripts/install-spid-sp-test.sh)", TOOL.is_file()),
        )
        if not ok
    ]
    if not missing or REQUIRE:
        return None
    return "SPID conformance SKIPPED: no " + ", no ".join(missing)


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


@pytest.fixture(scope="module")
def sp_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("spid")
    idp = folder / "idp" / "spid-sp-test-idp.xml"
    idp.parent.mkdir()
    result = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(TOOL), "--idp-metadata"], capture_output=True, text=True, check=True, timeout=60
    )
    idp.write_text(result.stdout, encoding="utf-8")
    return {"dir": folder, "idp": idp.parent}


def _serve(database_url: str, files: dict[str, Path], *, cie: bool) -> Iterator[str]:
    folder = files["dir"] / ("cie" if cie else "spid")
    folder.mkdir(exist_ok=True)
    app = make_test_app(
        database_url,
        SPID_IDP_METADATA=str(files["idp"]),
        SPID_KEY=str(folder / "sp.key"),
        SPID_CERT=str(folder / "sp.crt"),
        SPID_IPA_CODE="pcm",
        SPID_ORGANIZATION="Formazione Coesione di prova",
        SPID_CONTACT_EMAIL="spid@example.org",
        SPID_CONTACT_PHONE="+390612345678",
        SPID_CIE_IDPS=TEST_IDP if cie else "",
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = base
    write_key_and_certificate(
        folder / "sp.key",
        folder / "sp.crt",
        subject(
            organization="Formazione Coesione di prova",
            ipa_code="pcm",
            entity_id=f"{base}/spid/metadata",
            locality="Roma",
        ),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        dispose_app(app)


@pytest.fixture
def tool_person(db_session: object, make_authority) -> User:  # noqa: ARG001
    authority = make_authority()
    user = User(email="validator@example.org", role=Role.LEARNER, first_name="Spid")
    db.session.add(user)
    db.session.flush()
    db.session.add(
        StaffMember(
            codice_fiscale=TOOL_PERSON,
            first_name="Spid",
            last_name="Validator",
            email="validator@example.org",
            authority=authority,
            category=StaffCategory.NEW_HIRE,
            hired_on=date(2026, 1, 1),
            user_id=user.id,
        )
    )
    db.session.commit()
    return user


@pytest.fixture
def db_session(db: object) -> object:
    return db


def _start_tool(base: str, profile: str, report: Path) -> subprocess.Popen[str]:
    metadata = f"{base}/{'cie' if profile.startswith('cie') else 'spid'}/metadata"
    command = [
        str(TOOL),
        "--metadata-url",
        metadata,
        "--authn-url",
        f"{base}/spid/login?idp={TEST_IDP}",
        "--extra",
        "-tr",
        "--profile",
        profile,
        "-rf",
        "json",
        "-o",
        str(report),
        "-d",
        "CRITICAL",
    ]
    return subprocess.Popen(  # noqa: S603 - our own tool, fixed arguments
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _failures(data: dict) -> list[str]:
    found = []
    for category in data.get("test", {}).get("sp", {}).values():
        for checks in category.values():
            found += [
                f"{c.get('test_id', '')} {c.get('test', '')}: {c.get('value', '')}"[:300]
                for c in checks
                if c.get("result") == "failure"
            ]
    return found


def _count(data: dict) -> int:
    return sum(
        len(checks)
        for category in data.get("test", {}).get("sp", {}).values()
        for checks in category.values()
    )


PROFILES = ("spid-sp-public", "cie-sp-public")


@pytest.mark.usefixtures("tool_person")
def test_spid_sp_test_passes_both_profiles(database_url, sp_files, tmp_path):
    """Both profiles at once (two servers, two runs of the tool): half the wall time."""
    servers = [_serve(database_url, sp_files, cie=p.startswith("cie")) for p in PROFILES]
    bases = [next(server) for server in servers]
    try:
        runs = [
            (
                profile,
                tmp_path / f"{profile}.json",
                _start_tool(base, profile, tmp_path / f"{profile}.json"),
            )
            for profile, base in zip(PROFILES, bases, strict=True)
        ]
        outputs = {profile: run.communicate(timeout=900)[0] for profile, _r, run in runs}
    finally:
        for server in servers:
            server.close()
    for profile, report, run in runs:
        data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
        failures = _failures(data)
        assert failures == [], f"{profile}:\n" + "\n".join(failures)
        assert run.returncode == 0, outputs[profile][-3000:]
        # metadata, AuthnRequest and ~100 response tests ran (not an early stop)
        assert _count(data) > 150, outputs[profile][-3000:]
        responses = data["test"]["sp"]["response"]["SpidSpResponseCheck"]
        assert len(responses) >= 90, profile


def test_certificate_passes_agid_validator(tmp_path):
    """The certificate `lms spid certificate` writes, checked by spid-compliant-certificates."""
    name = subject(
        organization="Formazione Coesione di prova",
        ipa_code="pcm",
        entity_id="https://formazione.example.gov.it/spid/metadata",
        locality="Roma",
    )
    write_key_and_certificate(tmp_path / "sp.key", tmp_path / "sp.crt", name)
    script = (
        "import json, sys, pathlib, warnings; warnings.simplefilter('ignore');"
        "from spid_compliant_certificates.validator.validate import validate;"
        "r = validate(pathlib.PosixPath(sys.argv[1]), 'public').as_dict();"
        "print(json.dumps([c for t in r['tests'] for c in t['checks']], default=str))"
    )
    done = subprocess.run(  # noqa: S603 - the tool's own interpreter, fixed arguments
        [str(TOOL.parent / "python"), "-c", script, str(tmp_path / "sp.crt")],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    checks = json.loads(done.stdout)
    assert len(checks) > 10
    assert [c for c in checks if c["result"] != "success"] == []
