"""Rows of the permission table (tests/test_permissions.py) for live sessions (lms/live).

TABLE_ROWS: (method, url, {role: expected status}); CHANGES_ROWS: (url, form fields,
{role: expected status}), POSTed with a valid CSRF token. None is the anonymous visitor.

The world of test_permissions has no edition: ids that do not exist (999999, and one
past any INTEGER) show that the role is checked first (403) and the object second
(404), and that a huge id is a 404, not a database error. Trainers and administrators
schedule sessions and keep registers; HR managers see the editions and book their
people; learners book their own seat from the module page only.
"""

from __future__ import annotations

ALL = (None, "learner", "trainer", "hr", "admin")
HUGE = "99999999999999999999"

#: Trainers and administrators only (the register, scheduling, editing).
_KEEPERS = {None: 302, "learner": 403, "trainer": 404, "hr": 403, "admin": 404}
#: Trainers, administrators and HR managers (the editions' pages).
_SESSION_STAFF = {None: 302, "learner": 403, "trainer": 404, "hr": 404, "admin": 404}
#: HR managers and administrators (booking for someone else).
_BOOKERS = {None: 302, "learner": 403, "trainer": 403, "hr": 404, "admin": 404}

TABLE_ROWS: list[tuple[str, str, dict[str | None, int]]] = [
    (
        "GET",
        "/sessioni/",
        {None: 302, "learner": 403, "trainer": 200, "hr": 200, "admin": 200},
    ),
    ("GET", "/sessioni/?corso=non-esiste", {"learner": 403, "trainer": 404, "hr": 404}),
    ("GET", "/sessioni/999999/", _SESSION_STAFF),
    ("GET", f"/sessioni/{HUGE}/", {"trainer": 404, "hr": 404}),
    ("GET", "/sessioni/999999/?q=rossi", _SESSION_STAFF),
    ("GET", "/sessioni/999999/registro", _KEEPERS),
    ("GET", f"/sessioni/{HUGE}/registro", {"trainer": 404, "admin": 404}),
    ("GET", "/sessioni/999999/registro.pdf", _KEEPERS),
    ("GET", "/sessioni/999999/registro.xlsx", _KEEPERS),
    ("GET", "/sessioni/999999/modifica", _KEEPERS),
    ("GET", "/sessioni/nuova/999999", _KEEPERS),
    ("GET", "/sessioni/nuova/abc", {"trainer": 404, "admin": 404}),
    ("GET", f"/sessioni/nuova/{HUGE}", {"trainer": 404}),
    # Changes only by POST, and every POST needs the CSRF token.
    ("GET", "/sessioni/999999/annulla", dict.fromkeys(ALL, 405)),
    ("GET", "/sessioni/999999/assegna", dict.fromkeys(ALL, 405)),
    ("GET", "/sessioni/999999/rimuovi", dict.fromkeys(ALL, 405)),
    ("GET", "/sessioni/corsi/a/b/999999/prenota", dict.fromkeys(ALL, 405)),
    ("GET", "/sessioni/corsi/a/b/999999/rinuncia", dict.fromkeys(ALL, 405)),
    ("POST", "/sessioni/999999/annulla", dict.fromkeys(ALL, 400)),
    ("POST", "/sessioni/999999/assegna", dict.fromkeys(ALL, 400)),
    ("POST", "/sessioni/999999/rimuovi", dict.fromkeys(ALL, 400)),
    ("POST", "/sessioni/999999/registro", dict.fromkeys(ALL, 400)),
    ("POST", "/sessioni/nuova/999999", dict.fromkeys(ALL, 400)),
    ("POST", "/sessioni/corsi/a/b/999999/prenota", dict.fromkeys(ALL, 400)),
    ("POST", "/sessioni/corsi/a/b/999999/rinuncia", dict.fromkeys(ALL, 400)),
]

CHANGES_ROWS: list[tuple[str, dict[str, str], dict[str | None, int]]] = [
    ("/sessioni/999999/annulla", {"confirm": "y"}, _KEEPERS),
    ("/sessioni/999999/registro", {}, _KEEPERS),
    ("/sessioni/999999/modifica", {}, _KEEPERS),
    ("/sessioni/nuova/999999", {}, _KEEPERS),
    ("/sessioni/999999/assegna", {"staff_id": "1"}, _BOOKERS),
    ("/sessioni/999999/rimuovi", {"staff_id": "1"}, _BOOKERS),
    (
        "/sessioni/corsi/non-esiste/webinar/999999/prenota",
        {},
        {None: 302, "learner": 404, "trainer": 404, "hr": 404, "admin": 404},
    ),
    (
        "/sessioni/corsi/non-esiste/webinar/999999/rinuncia",
        {},
        {None: 302, "learner": 404, "trainer": 404, "hr": 404, "admin": 404},
    ),
]

# The attendance report's upload (lms/live/import_views.py, the "live-attendance" helper's; its
# attacks with real editions and people are in tests/test_live_import.py): trainers and
# administrators only; edition 999999 does not exist.
_REPORT = {None: 302, "learner": 403, "trainer": 404, "hr": 403, "admin": 404}
TABLE_ROWS += [
    ("GET", "/sessioni/999999/registro/rapporto", _REPORT),
    ("POST", "/sessioni/999999/registro/rapporto", dict.fromkeys(ALL, 400)),
    ("GET", "/sessioni/999999/registro/rapporto/conferma", dict.fromkeys(ALL, 405)),
    ("POST", "/sessioni/999999/registro/rapporto/conferma", dict.fromkeys(ALL, 400)),
]
CHANGES_ROWS += [
    ("/sessioni/999999/registro/rapporto", {}, _REPORT),
    ("/sessioni/999999/registro/rapporto/conferma", {"token": "x"}, _REPORT),
]
