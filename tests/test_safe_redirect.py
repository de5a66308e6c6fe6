"""The redirect after sign-in (and after switching language) never leaves the site.

Each target goes through the real flow: ``GET /login?next=…`` puts it in the
form's hidden field, the form is posted with the right password, and the
answer's ``Location`` is read as a browser would resolve it. Targets that
become another site once percent-decoded, dot-segments resolved or a backslash
read as a slash go to the home page instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import quote, urljoin, urlsplit

import pytest
from conftest import TEST_PASSWORD, csrf_token
from flask import Flask
from flask.testing import FlaskClient

from lms.auth.models import Role, User
from lms.core.redirects import safe_next

SITE = "https://formazione.example.it"

OFF_SITE = [
    "/%2F/evil.example",
    "/%2f/evil.example",
    "/..//evil.example",
    "/.%2F/evil.example",
    "/%2E%2E//evil.example",
    "/%252F/evil.example",  # encoded twice
    "/%25252F%25252Fevil.example",  # three times
    "///evil.example",
    "//evil.example",
    "/\\evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://evil.example",
    "//evil.example/%2E%2E",
    "/\t/evil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "/corsi/../..//evil.example",
    "/corsi/%2E%2E/%2E%2E//evil.example",
    "/%3F//evil.example",
    "evil.example",
    "",
]

ON_SITE = [
    "/",
    "/corsi/",
    "/corsi/fondamenti?modulo=2",
    "/personale/?q=Rossi&page=2",
    "/personale/?q=a%2F%2Fb",  # a query may hold anything
    "/reports/learners.csv?region=15",
    "/corsi/caff%C3%A8",
]


def _login_with_next(client: FlaskClient, email: str, target: str) -> str:
    """Sign in from ``/login?next=<target>`` through the form; the answer's Location."""
    page = client.get("/login?next=" + quote(target, safe="")).get_data(as_text=True)
    field = re.search(r'<input[^>]*id="next"[^>]*>', page)  # not the language switch's
    assert field, "the login form has no next field"
    value = re.search(r'value="([^"]*)"', field.group(0))
    carried = html.unescape(value.group(1)) if value else ""
    assert carried == target
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": TEST_PASSWORD,
            "next": carried,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def _where_a_browser_goes(location: str) -> str:
    """The URL a browser opens for *location*, as it reads backslashes and dot-segments."""
    return urljoin(SITE + "/login", location.replace("\\", "/"))


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    user = make_user(Role.LEARNER)
    location = _login_with_next(client, user.email, target)
    assert location == "/"
    assert urlsplit(_where_a_browser_goes(location)).netloc == urlsplit(SITE).netloc


@pytest.mark.parametrize("target", ON_SITE)
def test_sign_in_follows_a_path_on_the_site(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    user = make_user(Role.LEARNER)
    assert _login_with_next(client, user.email, target) == target


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(
    client: FlaskClient, login_as: Callable[..., User], target: str
) -> None:
    login_as(Role.LEARNER)
    response = client.post(
        "/lingua",
        data={"lang": "en", "next": target, "csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_every_decoded_form_is_judged(web_app: Flask) -> None:
    """Unit view of the same rule: decoded repeatedly, normalised, a single leading slash."""
    with web_app.test_request_context():
        for target in OFF_SITE:
            assert safe_next(target) == "/", target
        for target in ON_SITE:
            assert safe_next(target) == target
        assert safe_next(None) == "/"
        assert safe_next("/" + "%25" * 8 + "2F/evil.example") == "/"  # too deeply encoded
