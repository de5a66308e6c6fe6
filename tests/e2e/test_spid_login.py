"""The sign-in page with "Entra con SPID" and "Entra con CIE": axe-clean, keyboard, open lists.

Its own live server (SPID configured with two test identity providers, one
standing for CIE's), on an empty SQLite database built by the migrations.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator

import pytest
from conftest import dispose_app, make_test_app
from flask_migrate import upgrade
from playwright.sync_api import expect
from werkzeug.serving import make_server

from e2e.conftest import DESKTOP, Browser, LiveServer
from lms.spid.certificate import subject, write_key_and_certificate

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which("xmlsec1") is None, reason="no xmlsec1 (scripts/install-xmlsec.sh)"
    ),
]

IDPS = {
    "https://idp-uno.test.example": "Gestore Uno di prova",
    "https://cie.test.example": "CIE di prova",
}


def _idp_metadata(entity_id: str, name: str, cert: str) -> str:
    return f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{entity_id}/sso"/>
</md:IDPSSODescriptor>
<md:Organization><md:OrganizationName xml:lang="it">{name}</md:OrganizationName>
<md:OrganizationDisplayName xml:lang="it">{name}</md:OrganizationDisplayName>
<md:OrganizationURL xml:lang="it">{entity_id}</md:OrganizationURL></md:Organization>
</md:EntityDescriptor>"""  # noqa: E501


@pytest.fixture(scope="module")
def spid_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("e2e-spid")
    name = subject(
        organization="Prova", ipa_code="pcm", entity_id="http://x/spid/metadata", locality="Roma"
    )
    write_key_and_certificate(tmp / "sp.key", tmp / "sp.crt", name)
    cert = "".join(x for x in (tmp / "sp.crt").read_text().splitlines() if "-----" not in x)
    (tmp / "md").mkdir()
    for n, (entity, label) in enumerate(IDPS.items()):
        (tmp / "md" / f"{n}.xml").write_text(_idp_metadata(entity, label, cert), encoding="utf-8")
    app = make_test_app(
        f"sqlite:///{tmp / 'spid.sqlite3'}",
        SPID_IDP_METADATA=str(tmp / "md"),
        SPID_KEY=str(tmp / "sp.key"),
        SPID_CERT=str(tmp / "sp.crt"),
        SPID_IPA_CODE="pcm",
        SPID_ORGANIZATION="Prova",
        SPID_CONTACT_EMAIL="spid@example.org",
        SPID_CIE_IDPS="https://cie.test.example",
    )
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app, url)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    dispose_app(app)


@pytest.fixture
def spid_browser(chromium: object, spid_server: LiveServer) -> Iterator[Callable[[], Browser]]:
    opened: list[Browser] = []

    def factory() -> Browser:
        context = chromium.new_context(viewport=DESKTOP, locale="it-IT")
        context.set_default_timeout(15_000)
        opened.append(Browser(context, spid_server))
        return opened[-1]

    yield factory
    for browser in opened:
        browser.context.close()
        assert not browser.server_errors
        assert not browser.console_errors, browser.console_errors


def test_spid_and_cie_buttons_open_their_lists_by_keyboard(spid_browser) -> None:
    browser = spid_browser()
    browser.goto("/login")
    page = browser.page
    spid = page.get_by_role("button", name="Entra con SPID")
    cie = page.get_by_role("button", name="Entra con CIE")
    expect(spid).to_be_visible()
    expect(cie).to_be_visible()
    expect(page.locator("#password")).to_be_visible()  # the password form stays
    spid.focus()
    page.keyboard.press("Enter")
    expect(spid).to_have_attribute("aria-expanded", "true")
    link = page.get_by_role("link", name="Gestore Uno di prova")
    expect(link).to_be_visible()
    assert "/spid/login?idp=https" in (link.get_attribute("href") or "")
    expect(page.locator("#spid-idp-list").get_by_role("link", name="CIE di prova")).to_have_count(0)
    browser.check("/login (SPID list open)")
    browser.shot("login-spid")
    page.keyboard.press("Escape")
    expect(spid).to_have_attribute("aria-expanded", "false")
    cie.click()
    expect(page.get_by_role("link", name="CIE di prova")).to_be_visible()
    browser.check("/login (CIE list open)")
