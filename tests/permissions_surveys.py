"""Rows of the permission table (tests/test_permissions.py) for course surveys (lms/surveys).

TABLE_ROWS: (method, url, {role: expected status}); CHANGES_ROWS: (url, form fields,
{role: expected status}), POSTed with a valid CSRF token. None is the anonymous visitor.

The table's world has no courses: the rows for a course or survey name one that does
not exist, which a trainer (or admin) finds missing (404), and which everyone else is
refused before anything is looked up (403). The results pages are the trainers' (course
statistics); answering is for learners and HR managers, on a survey they may see
(tests/test_surveys_web.py covers the courses that exist).
"""

from __future__ import annotations

ALL = (None, "learner", "trainer", "hr", "admin")
STATS = {None: 302, "learner": 403, "trainer": 200, "hr": 403, "admin": 200}
MISSING = {None: 302, "learner": 403, "trainer": 404, "hr": 403, "admin": 404}

TABLE_ROWS: list[tuple[str, str, dict[str | None, int]]] = [
    ("GET", "/questionari/", STATS),
    ("GET", "/questionari/nessun-corso/", MISSING),
    ("GET", "/questionari/nessun-corso/questionario/", MISSING),
    ("GET", "/questionari/nessun-corso/questionario/?edizione=999999", MISSING),
    ("GET", "/questionari/nessun-corso/questionario/risultati.csv", MISSING),
    ("GET", "/questionari/nessun-corso/questionario/risultati.xlsx", MISSING),
    ("GET", "/questionari/nessun-corso/questionario/risultati.exe", MISSING),
    # Answers only by POST, and every POST needs the CSRF token.
    ("GET", "/questionari/nessun-corso/questionario/risposte", dict.fromkeys(ALL, 405)),
    ("POST", "/questionari/nessun-corso/questionario/risposte", dict.fromkeys(ALL, 400)),
    ("POST", "/questionari/", dict.fromkeys(ALL, 405)),
]
CHANGES_ROWS: list[tuple[str, dict[str, str], dict[str | None, int]]] = [
    (
        "/questionari/nessun-corso/questionario/risposte",
        {"q1": "1", "versione": "1"},
        {None: 302, "learner": 404, "trainer": 404, "hr": 404, "admin": 404},
    ),
]
