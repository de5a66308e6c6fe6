"""Permission table rows (tests/test_permissions.py) for training done elsewhere (lms/external).

TABLE_ROWS: (method, url, {role: expected status}); CHANGES_ROWS: (url, form fields,
{role: expected status}), POSTed with a valid CSRF token. None is the anonymous visitor.

The permission table's world has no staff: nobody there may declare (403), and the record
999999 does not exist, so whoever may reach it (its person, their HR manager) gets a 404 like
everybody else; tests/test_external.py attacks real records in and out of scope.
"""

from __future__ import annotations

ALL = (None, "learner", "trainer", "hr", "admin")
SIGNED_IN = ("learner", "trainer", "hr", "admin")

_BASE = "/formazione-esterna"
#: The HR pages: HR managers and administrators only.
_HR_ONLY = {None: 302, "learner": 403, "trainer": 403, "hr": 200, "admin": 200}
#: A record that does not exist, on an HR page.
_HR_MISSING = {None: 302, "learner": 403, "trainer": 403, "hr": 404, "admin": 404}
#: A record that does not exist, on a page of its person (or their HR manager).
_MISSING = {None: 302, **dict.fromkeys(SIGNED_IN, 404)}

TABLE_ROWS: list[tuple[str, str, dict[str | None, int]]] = [
    # One's own list: every signed-in person (without a staff record it says so).
    ("GET", f"{_BASE}/", {None: 302, **dict.fromkeys(SIGNED_IN, 200)}),
    # Declaring needs a staff record: nobody in this world has one.
    ("GET", f"{_BASE}/dichiara", {None: 302, **dict.fromkeys(SIGNED_IN, 403)}),
    ("POST", f"{_BASE}/dichiara", dict.fromkeys(ALL, 400)),  # no CSRF token
    ("GET", f"{_BASE}/999999/attestato.pdf", _MISSING),
    ("GET", f"{_BASE}/{2**40}/attestato.pdf", _MISSING),  # past any row id
    ("GET", f"{_BASE}/999999/ritira", dict.fromkeys(ALL, 405)),
    ("POST", f"{_BASE}/999999/ritira", dict.fromkeys(ALL, 400)),
    # The HR manager's queue, decisions and records.
    ("GET", f"{_BASE}/richieste", _HR_ONLY),
    ("GET", f"{_BASE}/richieste?page=99", {"learner": 403, "hr": 404, "admin": 404}),
    ("GET", f"{_BASE}/richieste/999999", _HR_MISSING),
    ("GET", f"{_BASE}/richieste/999999/approva", dict.fromkeys(ALL, 405)),
    ("GET", f"{_BASE}/richieste/999999/rifiuta", dict.fromkeys(ALL, 405)),
    ("POST", f"{_BASE}/richieste/999999/approva", dict.fromkeys(ALL, 400)),
    ("POST", f"{_BASE}/richieste/999999/rifiuta", dict.fromkeys(ALL, 400)),
    ("GET", f"{_BASE}/registro", _HR_ONLY),
    ("GET", f"{_BASE}/registro?status=bogus", {"learner": 403, "hr": 400, "admin": 400}),
    ("GET", f"{_BASE}/registro?year=1999", {"hr": 400, "admin": 400}),
    ("GET", f"{_BASE}/registro?persona=999999", _HR_MISSING),
    ("GET", f"{_BASE}/registro.csv", _HR_ONLY),
    # (the XLSX is the same view: the table reads bodies as text, so only its refusals)
    ("GET", f"{_BASE}/registro.xlsx", {None: 302, "learner": 403, "trainer": 403}),
    ("GET", f"{_BASE}/registro.pdf", _HR_MISSING),
    # The bulk import.
    ("GET", f"{_BASE}/importa", _HR_ONLY),
    ("GET", f"{_BASE}/importa/modello.csv", _HR_ONLY),
    ("POST", f"{_BASE}/importa", dict.fromkeys(ALL, 400)),
    ("GET", f"{_BASE}/importa/conferma", dict.fromkeys(ALL, 405)),
    ("POST", f"{_BASE}/importa/conferma", dict.fromkeys(ALL, 400)),
]

CHANGES_ROWS: list[tuple[str, dict[str, str], dict[str | None, int]]] = [
    (
        f"{_BASE}/dichiara",
        {"title": "Corso", "provider": "SNA", "completed_on": "2025-01-10", "hours": "8"},
        {None: 302, **dict.fromkeys(SIGNED_IN, 403)},
    ),
    (f"{_BASE}/999999/ritira", {}, _MISSING),
    (f"{_BASE}/richieste/999999/approva", {}, _HR_MISSING),
    (f"{_BASE}/richieste/999999/rifiuta", {"reason": "Manca l'attestato"}, _HR_MISSING),
    # No file: the form's error, 400; the roles without the capability never get that far.
    (f"{_BASE}/importa", {}, {None: 302, "learner": 403, "trainer": 403, "hr": 400, "admin": 400}),
    # No such upload: back to the form, nothing applied.
    (
        f"{_BASE}/importa/conferma",
        {"token": "not-an-upload"},
        {None: 302, "learner": 403, "trainer": 403, "hr": 302, "admin": 302},
    ),
]
