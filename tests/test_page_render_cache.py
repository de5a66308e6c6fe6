"""The layout kept per role and language (issue #19), and the language bound once a page.

lms/site/layout.py renders the header, menu and footer once for each role,
language and menu state and keeps them; each page fills in its own CSRF token,
path, the signed-in person's name, and base.html its content with the flash
messages. These tests check that what is kept is only what all the people of a
key share: another role or language gets its own menu at once, no one's name,
token or flash message is ever kept, and a page drawn from the cache is the
page drawn afresh, character for character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import flask_babel
import pytest
from conftest import csrf_token, login
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from jinja2 import Template

from lms.auth.models import Role, User
from lms.extensions import db as _db
from lms.site.layout import LayoutCache, LayoutKey, layout_cache

MENU = re.compile(r'<ul class="navbar-nav">(.*?)</ul>', re.DOTALL)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def menu(html: str) -> list[str]:
    """The main menu's entries, as shown."""
    found = MENU.search(html)
    assert found, "no main menu"
    return re.findall(r"<span>([^<]+)</span>", found.group(1))


def kept_text(app: Flask) -> str:
    """Everything the layout cache keeps, as one text."""
    cache = app.extensions["lms_layout"]
    return "".join("".join(texts) for kept in cache._kept.values() for texts, _ in kept.parts)


@pytest.fixture
def fresh_cache(web_app: Flask) -> Iterator[None]:
    """Each test starts with no layout kept (the web app lives for the whole run)."""
    web_app.extensions["lms_layout"].clear()
    yield
    web_app.extensions["lms_layout"].clear()


@pytest.fixture
def sign_in(
    web_app: Flask,
    make_user: Callable[..., User],
    fresh_cache: None,  # noqa: ARG001 - for its clearing
) -> Callable[..., tuple[FlaskClient, User]]:
    """A new browser signed in as a new user of *role*, speaking *lang*."""

    def open_browser(role: Role, lang: str = "it", **names: str) -> tuple[FlaskClient, User]:
        user = make_user(role, **names)
        browser = web_app.test_client()
        assert login(browser, user.email).status_code == 302
        if lang != "it":
            token = csrf_token(browser, "/")
            reply = browser.post("/lingua", data={"lang": lang, "next": "/", "csrf_token": token})
            assert reply.status_code == 302
        return browser, user

    return open_browser


def page(browser: FlaskClient, url: str = "/") -> str:
    reply = browser.get(url)
    assert reply.status_code == 200, (url, reply.status_code)
    return reply.get_data(as_text=True)


def test_each_role_and_language_gets_its_own_menu(sign_in, web_app: Flask) -> None:
    learner_it, _ = sign_in(Role.LEARNER)
    admin_en, _ = sign_in(Role.ADMIN, "en")
    learner_en, _ = sign_in(Role.LEARNER, "en")
    admin_it, _ = sign_in(Role.ADMIN)
    # Alternating, so that each page is drawn after another key's layout was kept.
    for _round in range(2):
        italian_learner = page(learner_it)
        english_admin = page(admin_en)
        english_learner = page(learner_en)
        italian_admin = page(admin_it)
    assert menu(italian_learner) == ["Home", "Corsi"]
    assert menu(english_learner) == ["Home", "Courses"]
    assert "Users" in menu(english_admin)
    assert "Activity log" in menu(english_admin)
    assert "Corsi" not in menu(english_admin)
    assert "Utenti" in menu(italian_admin)
    assert '<html lang="en"' in english_admin
    assert '<html lang="it"' in italian_learner
    assert '<span class="lms-user-role">Administrator</span>' in english_admin
    assert '<span class="lms-user-role">Discente</span>' in italian_learner
    assert "Sign out" in english_learner
    assert "Esci" in italian_learner
    keys = set(web_app.extensions["lms_layout"]._kept)
    assert {(k.locale, k.role) for k in keys} == {
        ("it", None),  # the sign-in page
        ("it", "learner"),
        ("en_GB", "learner"),
        ("it", "admin"),
        ("en_GB", "admin"),
    }


def test_the_name_token_and_path_are_each_pages_own(sign_in, web_app: Flask) -> None:
    first, _ = sign_in(Role.LEARNER, first_name="Ottavia", last_name="Quaranta")
    second, _ = sign_in(Role.LEARNER, first_name="Bruno", last_name="<Zeta> & Co")
    one = page(first, "/?da=uno")
    other = page(second, "/profilo/")
    # Same role, same language, same menu state: one layout each page, kept once.
    learners = [k for k in web_app.extensions["lms_layout"]._kept if k.role == "learner"]
    assert len(learners) == 2
    assert '<span class="lms-user-name">Ottavia Quaranta</span>' in one
    assert "Bruno" not in one
    assert '<span class="lms-user-name">Bruno &lt;Zeta&gt; &amp; Co</span>' in other
    assert "Ottavia" not in other
    assert '<input type="hidden" name="next" value="/?da=uno">' in one
    assert '<input type="hidden" name="next" value="/profilo/?">' in other
    # The language switch and the sign-out form carry the session's own token.
    tokens_one, tokens_other = set(TOKEN.findall(one)), set(TOKEN.findall(other))
    assert len(tokens_one) == 1
    assert tokens_one.isdisjoint(tokens_other)
    kept = kept_text(web_app)
    for personal in (
        "Ottavia",
        "Bruno",
        "Zeta",
        "da=uno",
        "/profilo/?",
        *tokens_one,
        *tokens_other,
    ):
        assert personal not in kept
    # The token in the kept header works: signing out with it signs out.
    reply = first.post("/logout", data={"csrf_token": tokens_one.pop()})
    assert reply.status_code == 302
    assert first.get("/").status_code == 302  # back to the sign-in page


def test_a_flash_message_and_a_new_name_show_once_and_only_to_their_reader(
    sign_in, web_app: Flask
) -> None:
    first, _ = sign_in(Role.TRAINER, first_name="Ada", last_name="Neri")
    second, _ = sign_in(Role.TRAINER, first_name="Elio", last_name="Blu")
    page(first, "/profilo/")
    page(second, "/profilo/")
    token = csrf_token(first, "/profilo/")
    reply = first.post(
        "/profilo/nome", data={"first_name": "Adele", "last_name": "Neri", "csrf_token": token}
    )
    assert reply.status_code == 302
    after = page(first, "/profilo/")
    assert "Nome aggiornato." in after
    assert '<span class="lms-user-name">Adele Neri</span>' in after
    theirs = page(second, "/profilo/")
    assert "Nome aggiornato." not in theirs
    assert "Adele" not in theirs
    assert '<span class="lms-user-name">Elio Blu</span>' in theirs
    again = page(first, "/profilo/")
    assert "Nome aggiornato." not in again  # shown once
    assert "Nome aggiornato." not in kept_text(web_app)
    assert "Adele" not in kept_text(web_app)


def test_a_change_of_role_shows_the_new_menu_at_once(sign_in, web_app: Flask) -> None:
    browser, user = sign_in(Role.LEARNER)
    assert menu(page(browser)) == ["Home", "Corsi"]
    with web_app.app_context():
        promoted = _db.session.get(User, user.id)
        assert promoted is not None
        promoted.role = Role.HR
        _db.session.commit()
    html = page(browser)
    assert menu(html) == [
        "Home",
        "Corsi",
        "Sessioni dal vivo",
        "Personale",
        "Enti",
        "Formazione esterna",
        "Report",
        "Registro attività",
    ]
    assert '<span class="lms-user-role">Responsabile del personale</span>' in html


def test_the_current_menu_entry_is_marked_on_its_pages(sign_in) -> None:
    browser, _ = sign_in(Role.LEARNER)
    home = page(browser)
    catalogue = page(browser, "/courses/")
    home_again = page(browser)
    current = re.compile(r'<a class="nav-link active" href="([^"]+)" aria-current="(\w+)">')
    assert current.findall(home) == [("/", "page")]
    assert current.findall(catalogue) == [("/courses/", "page")]
    assert home_again == home.replace(
        TOKEN.search(home).group(1), TOKEN.search(home_again).group(1)
    )
    # A stranger's sign-in page marks its own link; the accessibility statement its own.
    stranger = browser.application.test_client()
    login_page = page(stranger, "/login")
    statement = page(stranger, "/accessibilita")
    assert 'class="btn btn-sm lms-sign-in" href="/login" aria-current="page"' in login_page
    assert 'href="/login" aria-current' not in statement
    assert 'href="/accessibilita" aria-current="page"' in statement
    assert 'href="/accessibilita" aria-current' not in login_page


def normalised(html: str) -> str:
    return TOKEN.sub('name="csrf_token" value="T"', html)


def test_a_page_from_the_kept_layout_is_the_page_drawn_afresh(sign_in, web_app: Flask) -> None:
    pages = {
        Role.LEARNER: ["/", "/courses/", "/profilo/", "/accessibilita", "/non-esiste"],
        Role.TRAINER: ["/", "/formatori/", "/sessioni/"],
        Role.HR: ["/", "/personale/", "/reports/", "/audit/"],
        Role.ADMIN: ["/", "/admin/utenti", "/enti/"],
    }
    for lang in ("it", "en"):
        for role, urls in pages.items():
            browser, _ = sign_in(role, lang)
            for url in urls:
                web_app.extensions["lms_layout"].clear()
                afresh = browser.get(url).get_data(as_text=True)
                kept = browser.get(url).get_data(as_text=True)
                assert normalised(kept) == normalised(afresh), (role, lang, url)
                assert len(web_app.extensions["lms_layout"]) == 1, (role, lang, url)


def test_the_cache_is_bounded_and_keeps_the_recently_used() -> None:
    cache = LayoutCache(size=2)
    template = Template("x")
    keys = [LayoutKey("it", role, (), None, "") for role in ("learner", "hr", "admin")]
    parts = ((("x",), ()),)
    cache.put(keys[0], template, parts)
    cache.put(keys[1], template, parts)
    assert cache.get(keys[0], template) == parts  # now the most recently used
    cache.put(keys[2], template, parts)
    assert len(cache) == 2
    assert cache.get(keys[1], template) is None  # the least recently used, dropped
    assert cache.get(keys[0], template) == parts
    # Kept from another template (one reloaded as it changed): rendered again.
    assert cache.get(keys[0], Template("x")) is None


def test_a_page_looks_up_its_language_a_few_times_not_once_a_message(
    sign_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser, _ = sign_in(Role.ADMIN)
    page(browser)
    looked_up = []
    real = flask_babel._get_current_context

    def counting() -> object:
        looked_up.append(1)
        return real()

    monkeypatch.setattr(flask_babel, "_get_current_context", counting)
    html = page(browser)
    assert html.count("</a>") > 20
    # Flask-Babel looked its context up about 4 times a message: 306 times on this page.
    # Left: the first message's look-up, and each menu label of the sections' cards
    # (lazy strings, translated through flask_babel.gettext; two a card).
    assert len(looked_up) <= 30


def test_the_bound_language_follows_force_locale(web_app: Flask) -> None:
    with web_app.test_request_context("/"):
        assert gettext("Corsi") == "Corsi"
        assert render_template_string("{{ _('Corsi') }}") == "Corsi"
        with force_locale("en"):
            assert gettext("Corsi") == "Courses"
            assert render_template_string("{{ _('Corsi') }}") == "Courses"
            # No elision in English; in Italian, after: "l'8".
            assert render_template_string("{{ _('il %(n)s', n=8) }}") == "il 8"
        assert render_template_string("{{ _('il %(n)s', n=8) }}") == "l'8"
        assert gettext("Corsi") == "Corsi"
        flask_babel.refresh()
        assert gettext("Corsi") == "Corsi"


def test_layout_cache_is_the_apps_own(web_app: Flask, app: Flask) -> None:
    with web_app.app_context():
        mine = layout_cache()
    with app.app_context():
        theirs = layout_cache()
    assert mine is not theirs
