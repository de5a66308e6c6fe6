"""Rows of the permission table (tests/test_permissions.py) for course surveys (lms/surveys).

TABLE_ROWS: (method, url, {role: expected status}); CHANGES_ROWS: (url, form fields,
{role: expected status}), POSTed with a valid CSRF token. None is the anonymous visitor.
"""

from __future__ import annotations

ALL = (None, "learner", "trainer", "hr", "admin")

TABLE_ROWS: list[tuple[str, str, dict[str | None, int]]] = []
CHANGES_ROWS: list[tuple[str, dict[str, str], dict[str | None, int]]] = []
