# ruff: noqa: E501 - SAML messages are written out whole, one element a line
"""SPID sign-in and single logout through a test identity provider of our own.

The IdP here is a key, a certificate and a metadata file written by the test;
its responses are SPID-shaped XML signed with xmlsec1 (as an IdP signs them).
These tests need no network and run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import zlib
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from conftest import csrf_token, login
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from test_staff_pages import confirm, enrol_group, make_course, upload

from lms.auth.models import Role, SignInMethod, User, UserSession
from lms.core.types import today_in_italy, utcnow
from lms.extensions import db
from lms.register.models import StaffCategory, StaffMember
from lms.spid.certificate import subject, write_key_and_certificate

#: In CI (LMS_REQUIRE_SPID=1, set by .ci/run) a missing xmlsec1 fails these tests
#: instead of skipping them: the SP cannot check a signature without it.
if shutil.which("xmlsec1") is None and os.environ.get("LMS_REQUIRE_SPID", "") in {"1", "true"}:
    pytest.fail("xmlsec1 is missing and LMS_REQUIRE_SPID=1 (scripts/install-xmlsec.sh)")
pytestmark = pytest.mark.skipif(
    shutil.which("xmlsec1") is None, reason="no xmlsec1 (scripts/install-xmlsec.sh)"
)

IDP = "https://idp.test.example"
SLO = f"{IDP}/slo"
SSO = f"{IDP}/sso"
BASE = "http://localhost"
ACS = f"{BASE}/spid/acs"
SP_ENTITY = f"{BASE}/spid/metadata"
CF = "RSSMRA80A01H501U"
XMLSEC = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"


def _cert_body(path: Path) -> str:
    return "".join(x for x in path.read_text().splitlines() if "-----" not in x)


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("spid-keys")
    name = subject(organization="Prova", ipa_code="pcm", entity_id=SP_ENTITY, locality="Roma")
    write_key_and_certificate(folder / "sp.key", folder / "sp.crt", name)
    idp_name = subject(organization="IdP di prova", ipa_code="idp", entity_id=IDP, locality="Roma")
    write_key_and_certificate(folder / "idp.key", folder / "idp.crt", idp_name)
    other = subject(organization="Altro", ipa_code="x", entity_id=IDP, locality="Roma")
    write_key_and_certificate(folder / "other.key", folder / "other.crt", other)
    (folder / "md").mkdir()
    (folder / "md" / "idp.xml").write_text(
        f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{IDP}">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{_cert_body(folder / "idp.crt")}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{SLO}"/>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{SSO}"/>
</md:IDPSSODescriptor>
<md:Organization><md:OrganizationName xml:lang="it">IdP di prova</md:OrganizationName>
<md:OrganizationDisplayName xml:lang="it">IdP di prova</md:OrganizationDisplayName>
<md:OrganizationURL xml:lang="it">{IDP}</md:OrganizationURL></md:Organization>
</md:EntityDescriptor>""",
        encoding="utf-8",
    )
    return {"dir": folder}


@pytest.fixture
def spid_app(new_app, keys):
    return new_app(
        SPID_IDP_METADATA=str(keys["dir"] / "md"),
        SPID_KEY=str(keys["dir"] / "sp.key"),
        SPID_CERT=str(keys["dir"] / "sp.crt"),
        SPID_IPA_CODE="pcm",
        SPID_ORGANIZATION="Prova",
        SPID_CONTACT_EMAIL="spid@example.org",
    )


@pytest.fixture
def spid_client(spid_app):
    return spid_app.test_client()


@pytest.fixture
def learner(make_authority) -> User:
    authority = make_authority()
    user = User(email="anna@example.org", role=Role.LEARNER, first_name="Anna", last_name="Neri")
    db.session.add(user)
    db.session.flush()
    db.session.add(
        StaffMember(
            codice_fiscale=CF,
            first_name="Anna",
            last_name="Neri",
            email="anna@example.org",
            authority=authority,
            category=StaffCategory.NEW_HIRE,
            hired_on=date(2025, 1, 1),
            user_id=user.id,
        )
    )
    db.session.commit()
    return user


def _t(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _start(client) -> str:
    """GET /spid/login; the AuthnRequest's ID (checked: signed redirect to the IdP)."""
    response = client.get(f"/spid/login?idp={IDP}")
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == SSO
    query = parse_qs(url.query)
    assert {"SAMLRequest", "RelayState", "SigAlg", "Signature"} <= set(query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()
    assert "https://www.spid.gov.it/SpidL2" in xml
    return re.search(r' ID="([^"]+)"', xml).group(1)


def _sign(xml: str, key: Path, node: str, node_id: str, tmp: Path) -> str:
    source = tmp / f"{node_id}.xml"
    source.write_text(xml, encoding="utf-8")
    done = subprocess.run(  # noqa: S603
        [
            XMLSEC, "--sign", "--privkey-pem", str(key),
            "--id-attr:ID", f"urn:oasis:names:tc:SAML:2.0:{node}", "--node-id", node_id, str(source),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def _signature(ref: str) -> str:
    return (
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        f'<ds:Reference URI="#{ref}"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"
    )


def response_xml(request_id, keys, tmp, *, cf=CF, audience=SP_ENTITY, destination=ACS,
                 expires_in=timedelta(minutes=5), sign=True, key="idp.key", wrap=False,
                 session_index="_sess1") -> str:  # fmt: skip
    now = utcnow()
    issuer = f'<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{IDP}</saml:Issuer>'
    assertion = (
        f'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="{_t(now)}">'
        f"{issuer}{_signature('_a1') if sign else ''}"
        '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" '
        f'NameQualifier="{IDP}">_nameid42</saml:NameID>'
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData InResponseTo="{request_id}" NotOnOrAfter="{_t(now + expires_in)}" Recipient="{ACS}"/>'
        "</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{_t(now - timedelta(minutes=1))}" NotOnOrAfter="{_t(now + expires_in)}">'
        f"<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{_t(now)}" SessionIndex="{session_index}"><saml:AuthnContext>'
        "<saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL2</saml:AuthnContextClassRef>"
        "</saml:AuthnContext></saml:AuthnStatement>"
        '<saml:AttributeStatement><saml:Attribute Name="fiscalNumber">'
        f"<saml:AttributeValue>TINIT-{cf}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
        "</saml:Assertion>"
    )
    if sign:
        assertion = (
            _sign(
                '<?xml version="1.0"?>' + assertion,
                keys["dir"] / key,
                "assertion:Assertion",
                "_a1",
                tmp,
            )
            .split("?>", 1)[1]
            .strip()
        )
    evil = assertion.replace('ID="_a1"', 'ID="_evil"').replace(
        f"TINIT-{cf}", "TINIT-XXXXXX00A00A000X"
    )
    response = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" '
        f'IssueInstant="{_t(now)}" Destination="{destination}" InResponseTo="{request_id}">'
        f"{issuer.replace(' xmlns:saml', '')}{_signature('_r1') if sign else ''}"
        '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
        f"{assertion}</samlp:Response>"
    )
    if sign:
        response = _sign(
            '<?xml version="1.0"?>' + response, keys["dir"] / key, "protocol:Response", "_r1", tmp
        )
    if wrap:  # XSW: a second, unsigned assertion next to the signed one
        response = response.replace("</samlp:Response>", evil + "</samlp:Response>")
    return response


def post(client, xml: str):
    return client.post("/spid/acs", data={"SAMLResponse": base64.b64encode(xml.encode()).decode()})


def test_spid_is_off_without_settings(client):
    assert client.get("/spid/metadata").status_code == 404
    assert client.get(f"/spid/login?idp={IDP}").status_code == 404
    assert client.post("/spid/acs", data={"SAMLResponse": "x"}).status_code == 404
    page = client.get("/login").get_data(as_text=True)
    assert "Entra con SPID" not in page
    assert 'name="password"' in page


def test_login_page_lists_the_identity_providers(spid_client):
    page = spid_client.get("/login").get_data(as_text=True)
    assert "Entra con SPID" in page
    assert "IdP di prova" in page
    assert "Entra con CIE" not in page  # no CIE identity provider configured
    assert 'name="password"' in page  # the password form stays


def test_metadata_is_signed_and_public(spid_client):
    response = spid_client.get("/spid/metadata")
    assert response.status_code == 200
    xml = response.get_data(as_text=True)
    # Any prefix: ElementTree names xmldsig's ns0, ns1 … or ds once something in the
    # process registered that prefix (the conformance test does, run before this one).
    assert re.search(r"<(\w+):SignatureValue>[A-Za-z0-9+/=\s]{100,}</\1:SignatureValue>", xml)
    assert "<spid:IPACode>pcm</spid:IPACode><spid:Public/>" in xml
    cie = spid_client.get("/cie/metadata").get_data(as_text=True)
    assert "<cie:Municipality>" in cie


def test_unknown_idp_is_a_400(spid_client):
    assert spid_client.get("/spid/login?idp=https://evil.example").status_code == 400


def test_learner_signs_in_and_replay_is_refused(spid_client, learner, keys, tmp_path):
    request_id = _start(spid_client)
    xml = response_xml(request_id, keys, tmp_path)
    response = post(spid_client, xml)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert response.headers["Location"] == "/"
    home = spid_client.get("/")
    assert home.status_code == 200
    assert "Anna" in home.get_data(as_text=True)
    row = db.session.query(UserSession).filter_by(user_id=learner.id).one()
    assert (row.method.value, row.saml_idp, row.saml_session_index) == ("spid", IDP, "_sess1")
    # the same response again, in another browser: refused
    other = spid_client.application.test_client()
    assert post(other, xml).status_code == 403


def test_login_csrf_a_response_started_in_another_browser_is_refused(
    spid_app, learner, keys, tmp_path
):
    """An attacker starts a sign-in and makes the victim's browser post the answer: refused.

    Else the victim would work in the attacker's account unknowingly (login
    CSRF). The request is tied to the nonce cookie of the browser that started
    it; a browser without it, or with its own, is refused and not signed in,
    and the request stays open for the browser that started it.
    """
    attacker = spid_app.test_client()
    request_id = _start(attacker)
    xml = response_xml(request_id, keys, tmp_path)
    victim = spid_app.test_client()
    refused = post(victim, xml)
    assert refused.status_code == 403
    assert "non è stato avviato da questo browser" in refused.get_data(as_text=True)
    _start(victim)  # the victim's own sign-in gives the victim a nonce of their own
    assert post(victim, xml).status_code == 403
    assert victim.get("/").status_code == 302  # not signed in
    assert db.session.query(UserSession).filter_by(user_id=learner.id).count() == 0
    assert post(attacker, xml).status_code == 302  # the browser that asked still may


def test_over_https_the_host_cookie_signs_in_and_a_planted_plain_one_does_not(
    spid_app, learner, keys, tmp_path
):
    """With Secure cookies the nonce is ``__Host-lms_saml_browser``; the plain name is ignored.

    A sibling site could set ``lms_saml_browser`` for the whole domain, never a
    ``__Host-`` cookie: a nonce planted under the plain name does not count.
    """
    spid_app.config["SESSION_COOKIE_SECURE"] = True
    try:
        browser = spid_app.test_client()
        browser.environ_base["wsgi.url_scheme"] = "https"
        request_id = _start(browser)
        xml = response_xml(request_id, keys, tmp_path)
        nonce = browser.get_cookie("__Host-lms_saml_browser", path="/").value
        victim = spid_app.test_client()
        victim.environ_base["wsgi.url_scheme"] = "https"
        victim.set_cookie("lms_saml_browser", nonce, domain="localhost", path="/spid/")
        assert post(victim, xml).status_code == 403
        assert post(browser, xml).status_code == 302
        assert db.session.query(UserSession).filter_by(user_id=learner.id).count() == 1
    finally:
        spid_app.config["SESSION_COOKIE_SECURE"] = False


def test_the_browser_cookie(spid_app):
    """HttpOnly, as long as a request lives, one nonce per browser (two tabs); __Host- over HTTPS."""
    client = spid_app.test_client()
    first = client.get(f"/spid/login?idp={IDP}").headers["Set-Cookie"]
    assert first.startswith("lms_saml_browser=")
    assert "HttpOnly" in first
    assert "Path=/spid/" in first
    assert "Max-Age=900" in first
    assert "SameSite=Lax" in first  # plain HTTP here: browsers refuse SameSite=None without Secure
    second = client.get(f"/spid/login?idp={IDP}").headers["Set-Cookie"]
    assert second.split(";")[0] == first.split(";")[0]
    spid_app.config["SESSION_COOKIE_SECURE"] = True
    try:
        secure = spid_app.test_client().get(f"/spid/login?idp={IDP}").headers["Set-Cookie"]
    finally:
        spid_app.config["SESSION_COOKIE_SECURE"] = False
    assert "Secure" in secure
    assert "SameSite=None" in secure  # the identity provider's cross-site POST carries it
    # Only this host may set it (no cookie tossing from a sibling site): __Host-, Path=/.
    assert secure.startswith("__Host-lms_saml_browser=")
    assert "Path=/;" in secure or secure.endswith("Path=/")
    assert "Domain" not in secure
    assert secure.split(";")[0].split("=", 1)[1] != first.split(";")[0].split("=", 1)[1]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sign": False}, 403),
        ({"key": "other.key"}, 403),  # signed by someone else
        ({"audience": "https://other-sp.example/metadata"}, 403),
        ({"destination": "https://other-sp.example/acs"}, 403),
        ({"expires_in": timedelta(minutes=-5)}, 403),
        ({"wrap": True}, 403),
    ],
    ids=["unsigned", "wrong-key", "other-audience", "other-destination", "expired", "xsw"],
)
def test_bad_responses_are_refused(spid_client, learner, keys, tmp_path, change, expected):
    request_id = _start(spid_client)
    response = post(spid_client, response_xml(request_id, keys, tmp_path, **change))
    assert response.status_code == expected
    assert spid_client.get("/").status_code == 302  # not signed in
    assert db.session.query(UserSession).filter_by(user_id=learner.id).count() == 0


@pytest.mark.usefixtures("learner")
def test_response_to_no_request_is_refused(spid_client, keys, tmp_path):
    assert post(spid_client, response_xml("_never-asked", keys, tmp_path)).status_code == 403
    assert spid_client.post("/spid/acs", data={"SAMLResponse": "!!"}).status_code == 400


@pytest.mark.usefixtures("learner")
def test_unknown_codice_fiscale_is_refused(spid_client, keys, tmp_path):
    request_id = _start(spid_client)
    response = post(spid_client, response_xml(request_id, keys, tmp_path, cf="BNCGPP70B02F205K"))
    assert response.status_code == 403
    assert (
        "nessun dipendente registrato con questo codice fiscale"
        in response.get_data(as_text=True).lower()
    )


def test_leaver_is_refused(spid_client, learner, keys, tmp_path):
    staff = db.session.query(StaffMember).filter_by(user_id=learner.id).one()
    staff.left_on = today_in_italy() - timedelta(days=1)
    db.session.commit()
    request_id = _start(spid_client)
    response = post(spid_client, response_xml(request_id, keys, tmp_path))
    assert response.status_code == 403
    assert "non risulti più in servizio" in response.get_data(as_text=True)


def test_bound_admin_signs_in_by_codice_fiscale(spid_client, make_user, keys, tmp_path):
    admin = make_user(Role.ADMIN)
    admin.fiscal_code = "BNCGPP70B02F205K"
    db.session.commit()
    request_id = _start(spid_client)
    response = post(spid_client, response_xml(request_id, keys, tmp_path, cf="BNCGPP70B02F205K"))
    assert response.status_code == 302


def _idp_redirect(keys, kind: str, xml: str) -> str:
    deflated = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = deflated.compress(xml.encode()) + deflated.flush()
    query = urlencode(
        [
            (kind, base64.b64encode(data).decode()),
            ("SigAlg", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
        ]
    )
    key = serialization.load_pem_private_key((keys["dir"] / "idp.key").read_bytes(), None)
    signature = key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"/spid/logout?{query}&{urlencode({'Signature': base64.b64encode(signature).decode()})}"


def _signed_in(client, keys, tmp_path) -> None:
    request_id = _start(client)
    assert post(client, response_xml(request_id, keys, tmp_path)).status_code == 302


@pytest.mark.usefixtures("learner")
def test_sp_initiated_single_logout(spid_client, keys, tmp_path):
    _signed_in(spid_client, keys, tmp_path)
    page = spid_client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = spid_client.post("/spid/logout", data={"csrf_token": token})
    assert response.status_code == 200
    target = response.headers["Refresh"].split("url=", 1)[1]
    assert target.startswith(SLO + "?SAMLRequest=")
    assert spid_client.get("/").status_code == 302  # signed out here already
    xml = zlib.decompress(
        base64.b64decode(parse_qs(urlsplit(target).query)["SAMLRequest"][0]), -15
    ).decode()
    logout_id = re.search(r' ID="([^"]+)"', xml).group(1)
    assert "_sess1" in xml
    assert "_nameid42" in xml
    answer = (
        '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" Version="2.0" '
        f'IssueInstant="{_t(utcnow())}" Destination="{BASE}/spid/logout" InResponseTo="{logout_id}">'
        f"<saml:Issuer>{IDP}</saml:Issuer><samlp:Status><samlp:StatusCode "
        'Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>'
    )
    done = spid_client.get(_idp_redirect(keys, "SAMLResponse", answer))
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/login")
    # the same LogoutResponse again: refused
    assert spid_client.get(_idp_redirect(keys, "SAMLResponse", answer)).status_code == 403


@pytest.mark.usefixtures("learner")
def test_the_header_sign_out_of_a_spid_session_is_single_logout(spid_client, keys, tmp_path):
    """Esci (POST /logout) hands a SPID session on to /spid/logout, CSRF token and all."""
    _signed_in(spid_client, keys, tmp_path)
    page = spid_client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = spid_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 307
    assert response.headers["Location"].endswith("/spid/logout")
    followed = spid_client.post("/spid/logout", data={"csrf_token": token})
    assert followed.headers["Refresh"].split("url=", 1)[1].startswith(SLO + "?SAMLRequest=")
    assert spid_client.get("/").status_code == 302


def test_the_header_sign_out_of_a_password_session_stays_local(spid_client, make_user):
    """With SPID on, a password session signs out here only (no identity provider to tell)."""
    user = make_user(Role.LEARNER)
    login(spid_client, user.email)
    token = csrf_token(spid_client, "/")
    response = spid_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


@pytest.mark.usefixtures("learner")
def test_idp_initiated_logout_ends_that_session_only(spid_client, spid_app, keys, tmp_path):
    _signed_in(spid_client, keys, tmp_path)
    other = spid_app.test_client()
    request_id = _start(other)
    assert (
        post(other, response_xml(request_id, keys, tmp_path, session_index="_sess2")).status_code
        == 302
    )
    logout = (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_idplo" Version="2.0" '
        f'IssueInstant="{_t(utcnow())}" Destination="{BASE}/spid/logout">'
        f"<saml:Issuer>{IDP}</saml:Issuer>"
        f'<saml:NameID NameQualifier="{IDP}" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">_nameid42</saml:NameID>'
        "<samlp:SessionIndex>_sess1</samlp:SessionIndex></samlp:LogoutRequest>"
    )
    response = spid_client.get(_idp_redirect(keys, "SAMLRequest", logout))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(SLO + "?SAMLResponse=")
    assert spid_client.get("/").status_code == 302  # this session ended
    assert other.get("/").status_code == 200  # the other one did not
    # a LogoutRequest signed by someone else ends nothing
    forged = logout.replace("_sess1", "_sess2").replace("_idplo", "_forged")
    url = _idp_redirect(keys, "SAMLRequest", forged)
    tampered = url.replace("Signature=", "Signature=AAAA")
    assert other.get(tampered).status_code == 403
    assert other.get("/").status_code == 200


def test_logout_by_get_without_message_is_a_400(spid_client):
    assert spid_client.get("/spid/logout").status_code == 400
    assert spid_client.post("/spid/logout", data={}).status_code == 400


def test_certificate_command(new_app, tmp_path):
    from cryptography import x509  # noqa: PLC0415

    app = new_app(
        SPID_ORGANIZATION="Agenzia per la Coesione Territoriale",
        SPID_IPA_CODE="act",
        SPID_LOCALITY="Roma",
    )
    runner = app.test_cli_runner()
    key, cert = tmp_path / "sp.key", tmp_path / "sp.crt"
    with app.app_context():
        result = runner.invoke(args=["spid", "certificate", "--key", str(key), "--cert", str(cert)])
    assert result.exit_code == 0, result.output
    assert key.stat().st_mode & 0o777 == 0o600
    made = x509.load_pem_x509_certificate(cert.read_bytes())
    values = {a.oid.dotted_string: a.value for a in made.subject}
    assert values["2.5.4.97"] == "PA:IT-act"
    assert values["2.5.4.83"] == "http://localhost/spid/metadata"
    assert values["2.5.4.6"] == "IT"
    assert made.public_key().key_size == 3072
    policies = {
        p.policy_identifier.dotted_string
        for p in made.extensions.get_extension_for_class(x509.CertificatePolicies).value
    }
    assert policies == {"1.3.76.16.6", "1.3.76.16.4.2.1"}
    assert made.extensions.get_extension_for_class(x509.KeyUsage).critical
    # never overwritten
    with app.app_context():
        again = runner.invoke(args=["spid", "certificate", "--key", str(key), "--cert", str(cert)])
    assert again.exit_code == 1
    assert "not overwritten" in again.output


def test_certificate_command_needs_the_ipa_code(new_app, tmp_path):
    app = new_app(SPID_ORGANIZATION="Prova", SPID_IPA_CODE="")
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=[
                "spid",
                "certificate",
                "--key",
                str(tmp_path / "k"),
                "--cert",
                str(tmp_path / "c"),
            ]
        )
    assert result.exit_code == 1
    assert "LMS_SPID_IPA_CODE" in result.output
    assert not (tmp_path / "k").exists()


# The journey issue #15 asks for, end to end through the web ---------------------------


def test_an_imported_learner_signs_in_with_spid_sees_the_course_and_signs_out(
    spid_app, spid_client, make_user, make_authority, keys, tmp_path
):
    """An HR manager imports a person and enrols their authority; the person signs in
    with SPID (no password, no link), sees the course on the home page, and signs
    out with single logout."""
    napoli = make_authority(name="Comune di Napoli", istat_code="063049")
    manager = make_user(Role.HR, scope=[napoli])
    hr = spid_app.test_client()
    assert login(hr, manager.email).status_code == 302

    # The HR manager imports the person from a roster and enrols the Comune.
    roster = (
        "codice_fiscale,first_name,last_name,email,authority_code,category\n"
        f"{CF.lower()},Mario,Rossi,mario.rossi@comune.napoli.it,063049,new_hire\n"
    )
    confirm(hr, upload(hr, roster.encode()))
    db.session.expire_all()
    member = db.session.query(StaffMember).filter_by(codice_fiscale=CF).one()
    account = db.session.get(User, member.user_id)
    assert account.password_hash is None  # no password was ever set
    course = make_course("fondamenti", title="Fondamenti della coesione")
    assert enrol_group(hr, course, f"a:{napoli.id}").status_code == 302

    # The person signs in through the identity provider: no password, no link.
    request_id = _start(spid_client)
    answer = post(spid_client, response_xml(request_id, keys, tmp_path))
    assert answer.status_code == 302
    assert urlsplit(answer.headers["Location"]).path == "/"
    home = spid_client.get("/").get_data(as_text=True)
    assert "Mario Rossi" in home
    assert "Fondamenti della coesione" in home
    db.session.expire_all()
    (opened,) = db.session.query(UserSession).filter_by(user_id=account.id).all()
    assert opened.method is SignInMethod.SPID
    assert opened.saml_session_index

    # Esci: single logout, through the identity provider.
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    handed_on = spid_client.post("/logout", data={"csrf_token": token})
    assert (handed_on.status_code, urlsplit(handed_on.headers["Location"]).path) == (
        307,
        "/spid/logout",
    )
    out = spid_client.post("/spid/logout", data={"csrf_token": token})
    assert out.headers["Refresh"].split("url=", 1)[1].startswith(SLO + "?SAMLRequest=")
    assert spid_client.get("/").status_code == 302
