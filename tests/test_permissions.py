"""Who may open what: the permission table, HR scopes, and the permission helpers."""

from __future__ import annotations

import re

import permissions_external
import permissions_live
import permissions_surveys
import pytest
from conftest import csrf_token
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from lms.auth.models import Role
from lms.auth.permissions import (
    Capability,
    authority_in_scope,
    authority_scope_clause,
    can,
)
from lms.register.models import Authority, AuthorityKind

IN_SCOPE = "063049"  # Napoli, Campania: the HR manager's region
OUT_OF_SCOPE = "079023"  # Catanzaro, Calabria

ALL = (None, "learner", "trainer", "hr", "admin")
SIGNED_IN = ("learner", "trainer", "hr", "admin")


def without_tokens(response) -> str:
    """The page's HTML with CSRF tokens (which carry a timestamp) blanked out."""
    return re.sub(r'value="[\w.-]{40,}"', 'value=""', response.get_data(as_text=True))


#: (method, url, {role: expected status}); None is the anonymous visitor.
TABLE = [
    ("GET", "/", {None: 302, **dict.fromkeys(SIGNED_IN, 200)}),
    ("GET", "/healthz", dict.fromkeys(ALL, 200)),
    ("GET", "/login", {None: 200, **dict.fromkeys(SIGNED_IN, 302)}),
    ("GET", "/enti/", {None: 302, "learner": 403, "trainer": 403, "hr": 200, "admin": 200}),
    (
        "GET",
        f"/enti/{IN_SCOPE}",
        {None: 302, "learner": 403, "trainer": 403, "hr": 200, "admin": 200},
    ),
    (
        "GET",
        f"/enti/{OUT_OF_SCOPE}",
        {None: 302, "learner": 403, "trainer": 403, "hr": 404, "admin": 200},
    ),
    ("GET", "/enti/999999", {None: 302, "hr": 404, "admin": 404}),
    ("GET", "/enti/?kind=bogus", {"learner": 403, "hr": 400, "admin": 400}),
    ("GET", "/enti/?page=99", {"hr": 404, "admin": 404}),  # past the last page
    ("GET", "/admin/utenti?page=99", {"admin": 404}),
    ("GET", "/personale/?page=99", {"hr": 404}),
    # Issuing links changes state: only a POST does it, never a GET.
    (
        "GET",
        "/personale/link",
        {None: 302, "learner": 403, "trainer": 403, "hr": 200, "admin": 200},
    ),
    ("GET", "/personale/link.csv", {"hr": 404, "admin": 404}),
    (
        "GET",
        "/admin/utenti",
        {None: 302, "learner": 403, "trainer": 403, "hr": 403, "admin": 200},
    ),
    ("GET", "/admin/utenti?role=bogus", {"hr": 403, "admin": 400}),
    ("GET", "/logout", dict.fromkeys(ALL, 405)),
    # Every POST needs the CSRF token, whoever sends it.
    ("POST", "/lingua", dict.fromkeys(ALL, 400)),
    ("POST", "/logout", dict.fromkeys(ALL, 400)),
    ("POST", "/login", {None: 400}),
    ("POST", "/", dict.fromkeys(ALL, 405)),
    ("GET", "/non-esiste", dict.fromkeys(ALL, 404)),
    ("GET", "/enti/non/esiste", {None: 404, "admin": 404}),
    # Issue #15, one's own account: every signed-in person, nobody else.
    ("GET", "/profilo/", {None: 302, **dict.fromkeys(SIGNED_IN, 200)}),
    ("GET", "/profilo/password", {None: 302, **dict.fromkeys(SIGNED_IN, 200)}),
    ("GET", "/profilo/sessioni", {None: 302, **dict.fromkeys(SIGNED_IN, 200)}),
    ("POST", "/profilo/nome", {None: 400, **dict.fromkeys(SIGNED_IN, 400)}),
    ("POST", "/profilo/password", {None: 400, **dict.fromkeys(SIGNED_IN, 400)}),
    ("POST", "/profilo/sessioni/chiudi", {None: 400, **dict.fromkeys(SIGNED_IN, 400)}),
    ("GET", "/profilo/sessioni/chiudi", dict.fromkeys(ALL, 405)),
    # Issue #15, the administrators' Utenti pages (tests/test_admin_users_web.py): admins only.
    (
        "GET",
        "/admin/utenti/nuovo",
        {None: 302, "learner": 403, "trainer": 403, "hr": 403, "admin": 200},
    ),
    (
        "GET",
        "/admin/utenti/999999",
        {None: 302, "learner": 403, "trainer": 403, "hr": 403, "admin": 404},
    ),
    ("GET", "/admin/utenti/999999/disattiva", {None: 302, "hr": 403, "admin": 404}),
    ("POST", "/admin/utenti/nuovo", dict.fromkeys(ALL, 400)),  # no CSRF token
    ("POST", "/admin/utenti/999999/disattiva", dict.fromkeys(ALL, 400)),
    ("GET", "/admin/utenti/999999/link", dict.fromkeys(ALL, 405)),  # a link only by POST
    # End of the Utenti block.
]


@pytest.fixture
def world(db, make_region, make_authority):
    """Two municipalities in two regions; HR managers are scoped to Campania."""
    campania = make_region("15")
    make_authority(istat_code=IN_SCOPE, name="Napoli", region_code="15")
    make_authority(istat_code=OUT_OF_SCOPE, name="Catanzaro", region_code="18")
    db.session.commit()
    return campania


@pytest.mark.parametrize("role", ALL, ids=[r or "anonymous" for r in ALL])
def test_permission_table(client, login_as, world, role):
    """Every row of TABLE for *role* (signed in once; all mismatches reported together)."""
    if role is not None:
        login_as(role, scope=[world] if role == "hr" else ())
    mismatches = []
    for method, url, expected_by_role in TABLE:
        if role not in expected_by_role:
            continue
        expected = expected_by_role[role]
        response = client.open(url, method=method)
        body = response.get_data(as_text=True)
        if response.status_code != expected:
            mismatches.append(f"{method} {url}: {response.status_code}, expected {expected}")
        elif expected == 302 and role is None and not response.location.startswith("/login"):
            mismatches.append(f"{method} {url}: redirected to {response.location}, not /login")
        elif expected >= 400 and (
            response.mimetype != "text/html" or "Traceback" in body or "<html" not in body
        ):
            mismatches.append(f"{method} {url}: not the site's error page")
    assert mismatches == []


#: (url, form fields, {role: expected status}) of changes, POSTed with a valid CSRF token:
#: the roster import and the set-password links, the two ways to reach other accounts.
CHANGES = [
    (
        "/personale/importa",
        {},
        {None: 302, "learner": 403, "trainer": 403, "hr": 200, "admin": 200},
    ),
    (
        "/personale/importa/conferma",
        {"token": "not-an-upload"},  # no such upload: back to the form, nothing applied
        {None: 302, "learner": 403, "trainer": 403, "hr": 302, "admin": 302},
    ),
    (
        "/personale/link",
        {"format": "csv"},
        {None: 302, "learner": 403, "trainer": 403, "hr": 200, "admin": 200},
    ),
    ("/personale/link", {"format": "exe"}, {"hr": 400, "admin": 400}),
    ("/personale/iscrizioni", {}, {None: 302, "learner": 403, "trainer": 403, "hr": 400}),
    # Issue #15, the administrators' Utenti pages: admins only, whatever the form says.
    (
        "/admin/utenti/nuovo",
        {"email": "nuovo.admin@example.org", "role": "admin"},
        {None: 302, "learner": 403, "trainer": 403, "hr": 403, "admin": 200},
    ),
    ("/admin/utenti/nuovo", {"email": "x@example.org", "role": "boss"}, {"admin": 400}),
    *(
        (
            f"/admin/utenti/999999/{action}",
            {},
            {None: 302, "learner": 403, "trainer": 403, "hr": 403, "admin": 404},
        )
        for action in (
            "ruolo",
            "competenza",
            "disattiva",
            "riattiva",
            "codice-fiscale",
            "codice-fiscale/rimuovi",
            "link",
        )
    ),
    # End of the Utenti block.
]


@pytest.mark.parametrize("role", ALL, ids=[r or "anonymous" for r in ALL])
def test_permission_table_of_changes(client, login_as, world, role):
    """Every row of CHANGES for *role*, with the form's CSRF token (so the role decides)."""
    if role is not None:
        login_as(role, scope=[world] if role == "hr" else ())
    mismatches = []
    for url, fields, expected_by_role in CHANGES:
        if role not in expected_by_role:
            continue
        token = csrf_token(client, "/accessibilita")
        response = client.post(url, data={"csrf_token": token, **fields})
        expected = expected_by_role[role]
        if response.status_code != expected:
            mismatches.append(f"POST {url}: {response.status_code}, expected {expected}")
        elif expected == 302 and role is None and not response.location.startswith("/login"):
            mismatches.append(f"POST {url}: redirected to {response.location}, not /login")
    assert mismatches == []


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/enti/")
    assert response.status_code == 302
    assert response.location == "/login?next=%2Fenti%2F"


@pytest.mark.usefixtures("world")
def test_healthz_body(client, login_as):
    assert client.get("/healthz").get_data(as_text=True) == "ok"
    login_as("learner")
    assert client.get("/healthz").get_data(as_text=True) == "ok"


@pytest.mark.usefixtures("world")
def test_error_pages_have_their_titles(client, login_as):
    login_as("learner")
    assert "Accesso non consentito" in client.get("/enti/").get_data(as_text=True)
    assert "Pagina non trovata" in client.get("/non-esiste").get_data(as_text=True)


def test_hr_out_of_scope_authority_looks_like_a_missing_one(client, login_as, world):
    login_as("hr", scope=[world])
    hidden = client.get(f"/enti/{OUT_OF_SCOPE}")
    missing = client.get("/enti/999999")
    assert hidden.status_code == missing.status_code == 404
    assert "Catanzaro" not in hidden.get_data(as_text=True)
    # The pages differ only by the address itself (kept in the language switch form).
    assert without_tokens(hidden).replace(OUT_OF_SCOPE, "X") == without_tokens(missing).replace(
        "999999", "X"
    )


# HR scopes on the register pages -------------------------------------------------------


@pytest.fixture
def two_regions(db, make_region, make_authority):
    make_authority(istat_code="063049", name="Napoli", region_code="15")
    make_authority(istat_code="065116", name="Salerno", region_code="15")
    make_authority(istat_code="079023", name="Catanzaro", region_code="18")
    make_authority(istat_code="078045", name="Cosenza", region_code="18")
    db.session.commit()
    return {"15": make_region("15"), "18": make_region("18")}


def test_hr_scoped_to_a_region_sees_only_its_authorities(client, login_as, two_regions):
    login_as("hr", scope=[two_regions["18"]])
    body = client.get("/enti/").get_data(as_text=True)
    assert "Catanzaro" in body
    assert "Cosenza" in body
    assert "Napoli" not in body
    assert "Salerno" not in body
    assert "Campania" not in body  # not even in the region filter
    # Searching does not reach outside the scope either.
    assert "Napoli" not in client.get("/enti/?q=napoli").get_data(as_text=True)
    assert "Napoli" not in client.get("/enti/?q=063049").get_data(as_text=True)
    assert "Napoli" not in client.get("/enti/?region=15").get_data(as_text=True)
    assert client.get("/enti/079023").status_code == 200
    assert client.get("/enti/063049").status_code == 404


@pytest.mark.usefixtures("two_regions")
def test_hr_scoped_to_one_authority_sees_only_it(client, login_as, db):
    napoli = db.session.scalar(select(Authority).where(Authority.code == "063049"))
    login_as("hr", scope=[napoli])
    body = client.get("/enti/").get_data(as_text=True)
    assert "Napoli" in body
    for other in ("Salerno", "Catanzaro", "Cosenza"):
        assert other not in body
    assert client.get("/enti/063049").status_code == 200
    assert client.get("/enti/065116").status_code == 404


def test_hr_with_authority_and_region_sees_both(client, login_as, two_regions, db):
    napoli = db.session.scalar(select(Authority).where(Authority.code == "063049"))
    login_as("hr", scope=[napoli, two_regions["18"]])
    body = client.get("/enti/").get_data(as_text=True)
    for name in ("Napoli", "Catanzaro", "Cosenza"):
        assert name in body
    assert "Salerno" not in body


@pytest.mark.usefixtures("two_regions")
def test_admin_sees_every_authority(client, login_as):
    login_as("admin")
    body = client.get("/enti/").get_data(as_text=True)
    for name in ("Napoli", "Salerno", "Catanzaro", "Cosenza"):
        assert name in body


def test_admin_users_page_lists_accounts(client, login_as, make_user):
    make_user("learner", email="giulia.esposito@example.org", first_name="Giulia")
    login_as("admin")
    body = client.get("/admin/utenti").get_data(as_text=True)
    assert "giulia.esposito@example.org" in body
    filtered = client.get("/admin/utenti?role=trainer").get_data(as_text=True)
    assert "giulia.esposito@example.org" not in filtered
    searched = client.get("/admin/utenti?q=GIULIA").get_data(as_text=True)
    assert "giulia.esposito@example.org" in searched


# can() ---------------------------------------------------------------------------

C = Capability
EXPECTED_CAPABILITIES = {
    "learner": {C.LEARN},
    "trainer": {C.LEARN, C.VIEW_DRAFTS, C.VIEW_COURSE_STATS, C.SCHEDULE_SESSIONS},
    "hr": {C.LEARN, C.MANAGE_STAFF, C.ENROL, C.VIEW_REPORTS},
    "admin": set(C),
}


@pytest.mark.parametrize("role", list(EXPECTED_CAPABILITIES))
@pytest.mark.parametrize("capability", list(Capability))
def test_can(make_user, make_region, role, capability):
    scope = [make_region("15")] if role == "hr" else ()
    user = make_user(role, scope=scope)
    assert can(user, capability) is (capability in EXPECTED_CAPABILITIES[role])


@pytest.mark.parametrize("capability", list(Capability))
def test_anonymous_can_nothing(capability):
    assert can(AnonymousUserMixin(), capability) is False
    assert can(None, capability) is False


# authority_in_scope() and authority_scope_clause() -----------------------------------------


@pytest.fixture
def authorities(make_authority):
    return {
        "napoli": make_authority(istat_code="063049", name="Napoli", region_code="15"),
        "salerno": make_authority(istat_code="065116", name="Salerno", region_code="15"),
        "catanzaro": make_authority(istat_code="079023", name="Catanzaro", region_code="18"),
        "unione": make_authority(
            "UC_PRESILA", kind=AuthorityKind.UNIONE_DI_COMUNI, name="Unione", region_code="18"
        ),
        "torino": make_authority(istat_code="001272", name="Torino", region_code="01"),
    }


def visible(db, user) -> set[str]:
    names = db.session.scalars(select(Authority.name).where(authority_scope_clause(user)))
    return set(names)


def scope_of(spec, authorities, make_region):
    return [authorities[s] if s in authorities else make_region(s) for s in spec]


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        ("admin", [], {"napoli", "salerno", "catanzaro", "unione", "torino"}),
        ("learner", [], set()),
        ("trainer", [], set()),
        ("hr", ["15"], {"napoli", "salerno"}),
        ("hr", ["18"], {"catanzaro", "unione"}),
        ("hr", ["napoli"], {"napoli"}),
        ("hr", ["unione"], {"unione"}),
        ("hr", ["napoli", "18"], {"napoli", "catanzaro", "unione"}),
        ("hr", ["15", "01"], {"napoli", "salerno", "torino"}),
        ("hr", [], set()),  # an HR account without scope sees nothing, not everything
    ],
)
def test_scope_helpers_agree(db, make_user, make_region, authorities, role, scope, expected):
    user = make_user(role, scope=scope_of(scope, authorities, make_region))
    names = {key: a.name for key, a in authorities.items()}
    assert visible(db, user) == {names[k] for k in expected}
    for key, authority in authorities.items():
        assert authority_in_scope(user, authority) is (key in expected), key


def test_scope_of_learner_is_empty_even_with_scope_rows(db, make_user, make_region, authorities):
    """A scope row left on a non-HR account (e.g. after a role change) grants nothing."""
    user = make_user("learner", scope=[make_region("15")])
    assert visible(db, user) == set()
    assert not authority_in_scope(user, authorities["napoli"])


@pytest.mark.usefixtures("authorities")
def test_role_change_takes_effect(db, make_user, make_region):
    user = make_user("hr", scope=[make_region("18")])
    assert visible(db, user) == {"Catanzaro", "Unione"}
    user.role = Role.ADMIN
    assert len(visible(db, user)) == 5


# --- Issue #15: the HR manager's person page and the confirmation steps (tests/test_person_edit.py
# attacks them with real people in and out of scope). There is no person 999999: HR managers and
# admins get the 404 of a missing person, whatever the action; the others never get that far.
_STAFF_ONLY_MISSING = {None: 302, "learner": 403, "trainer": 403, "hr": 404, "admin": 404}
TABLE += [
    ("GET", "/personale/999999", _STAFF_ONLY_MISSING),
    # The confirmation pages only show what would happen.
    ("GET", "/personale/999999/iscrizioni/1/rimuovi", _STAFF_ONLY_MISSING),
    ("GET", "/personale/iscrizioni/regole/999999/rimuovi", _STAFF_ONLY_MISSING),
    # Editing and issuing a link are POSTs only, with the CSRF token.
    ("GET", "/personale/999999/modifica", dict.fromkeys(ALL, 405)),
    ("GET", "/personale/999999/link", dict.fromkeys(ALL, 405)),
    ("POST", "/personale/999999/modifica", dict.fromkeys(ALL, 400)),
    ("POST", "/personale/999999/link", dict.fromkeys(ALL, 400)),
    ("POST", "/personale/999999/iscrizioni/1/rimuovi", dict.fromkeys(ALL, 400)),
    ("POST", "/personale/iscrizioni/regole/999999/rimuovi", dict.fromkeys(ALL, 400)),
]
CHANGES += [
    ("/personale/999999/modifica", {"first_name": "Nuovo"}, _STAFF_ONLY_MISSING),
    ("/personale/999999/link", {}, _STAFF_ONLY_MISSING),
    ("/personale/999999/iscrizioni/1/rimuovi", {"confirm": "1"}, _STAFF_ONLY_MISSING),
    ("/personale/iscrizioni/regole/999999/rimuovi", {"confirm": "1"}, _STAFF_ONLY_MISSING),
]
# --- end of issue #15's person page rows


# --- Issue #15: SPID and CIE sign-in (lms/spid). Off in the test app (no LMS_SPID_IDP_METADATA):
# every URL is a 404 for everyone; tests/test_spid.py attacks them with SPID configured.
TABLE += [
    ("GET", "/spid/metadata", dict.fromkeys(ALL, 404)),
    ("GET", "/cie/metadata", dict.fromkeys(ALL, 404)),
    ("GET", "/spid/login?idp=https://idp.example", dict.fromkeys(ALL, 404)),
    ("POST", "/spid/acs", dict.fromkeys(ALL, 404)),
    ("GET", "/spid/logout", dict.fromkeys(ALL, 404)),
]
# --- end of issue #15's SPID rows


# --- Issue #16: due dates (lms/notifications). The feed's token is its only credential: a token
# that is not someone's current one is a 404 for everyone, signed in or not (tests/
# test_calendar_feed.py reads real feeds and attacks them). Resetting one's own address is a POST
# with the CSRF token, for anyone signed in; the anonymous visitor is sent to sign in.
TABLE += [
    ("GET", "/calendario/1-0123456789abcdef0123456789abcdef.ics", dict.fromkeys(ALL, 404)),
    ("GET", "/calendario/nonsense.ics", dict.fromkeys(ALL, 404)),
    ("GET", "/profilo/calendario/cambia-indirizzo", dict.fromkeys(ALL, 405)),
    ("POST", "/profilo/calendario/cambia-indirizzo", dict.fromkeys(ALL, 400)),
]
CHANGES += [
    ("/profilo/calendario/cambia-indirizzo", {}, dict.fromkeys(ALL, 302)),
]
# Choosing the weekly digest instead of each reminder: one's own choice, a POST with the token.
TABLE += [
    ("GET", "/profilo/promemoria", dict.fromkeys(ALL, 405)),
    ("POST", "/profilo/promemoria", dict.fromkeys(ALL, 400)),
]
CHANGES += [
    ("/profilo/promemoria", {"reminders": "digest"}, dict.fromkeys(ALL, 302)),
]
# --- end of issue #16's due-date rows


# --- Issue #17: live sessions, surveys and training done elsewhere. Each domain keeps its rows
# in its own file (tests/permissions_<domain>.py: TABLE_ROWS and CHANGES_ROWS, the same shapes).
for _rows in (permissions_live, permissions_surveys, permissions_external):
    TABLE += _rows.TABLE_ROWS
    CHANGES += _rows.CHANGES_ROWS
# --- end of issue #17's rows
