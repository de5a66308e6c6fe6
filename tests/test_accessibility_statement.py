"""The accessibility statement (/accessibilita) and its link in every page's footer."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from lms.core.views import vendored_version

AGID_SECTIONS = (
    "Dichiarazione di accessibilità",
    "Stato di conformità",
    "Contenuti non accessibili",
    "Redazione della dichiarazione di accessibilità",
    "Meccanismo di feedback e recapiti",
    "Procedura di attuazione",
)


def test_the_statement_is_public_and_has_agids_sections(client: FlaskClient) -> None:
    response = client.get("/accessibilita")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    headings = re.findall(r"<h[12][^>]*>([^<]+)</h[12]>", html)
    assert [h.strip() for h in headings] == list(AGID_SECTIONS)
    assert "parzialmente conforme" in html
    assert "legge 9 gennaio 2004, n. 4" in html
    assert "25 novembre 2026" in html  # when it was written
    assert "autovalutazione" in html
    assert f"axe-core {vendored_version('axe-core')}" in html
    assert "lettori di schermo" in html  # what has not been done yet is said
    assert '<a href="https://form.agid.gov.it"' in html
    # No contact configured: the platform's sender address.
    assert '<a href="mailto:formazione@example.invalid">' in html


def test_the_contact_and_the_administration_come_from_the_configuration(new_app) -> None:
    app = new_app(
        ACCESSIBILITY_CONTACT="accessibilita@coesione.example",
        ACCESSIBILITY_ORGANISATION="Agenzia di prova",
    )
    html = app.test_client().get("/accessibilita").get_data(as_text=True)
    assert '<a href="mailto:accessibilita@coesione.example">' in html
    assert "Agenzia di prova si impegna a rendere accessibile" in html


def test_every_page_links_the_statement_from_its_footer(client: FlaskClient, login_as) -> None:
    footer = re.compile(r'<footer class="it-footer">.*href="/accessibilita"', re.DOTALL)
    assert footer.search(client.get("/login").get_data(as_text=True))
    login_as("learner")
    assert footer.search(client.get("/").get_data(as_text=True))
    assert footer.search(client.get("/pagina-inesistente").get_data(as_text=True))
    html = client.get("/accessibilita").get_data(as_text=True)
    assert 'href="/accessibilita" aria-current="page"' in html


def test_vendored_versions_are_read_from_versions_txt() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", vendored_version("axe-core") or "")
    assert vendored_version("no-such-package") is None
