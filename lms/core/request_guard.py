"""Refuse, before any view, a request whose text cannot be stored: NUL bytes, bad UTF-8.

PostgreSQL refuses a NUL character in any text value (``psycopg.DataError``, a
500 wherever a query string, a path or a form field reaches a query), and
Werkzeug turns bytes that are not UTF-8 into replacement characters or
percent-escapes without a word, so that a search or a code silently becomes
another one. Rather than each view checking each value, this hook answers 400,
on the site's error page in the reader's language, when

- the path (``PATH_INFO``, already percent-decoded by the server),
- the query string (percent-decoded here, ``+`` as a space),
- the fields of a urlencoded form (its raw body, decoded the same way), or
- the fields of a multipart form (names, values, and uploaded files' names)

hold a NUL byte or bytes that are not UTF-8. A multipart form's fields are
checked after Werkzeug has decoded them (it replaces bad bytes with U+FFFD, and
reading the raw body of a large upload twice would cost its size again): a
field holding U+FFFD is refused, since a browser sends one only when something
upstream already lost the text. The contents of uploaded files are not looked
at: the roster reader checks them itself (:mod:`lms.enrolments.roster`).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request
from flask_babel import gettext as _

_FORM_URLENCODED = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_REPLACEMENT = "\ufffd"


def init_app(app: Flask) -> None:
    """Check every request before the other hooks (CSRF, rate limits) and the view."""
    app.before_request(refuse_unreadable_text)


def refuse_unreadable_text() -> None:
    """Abort with 400 when the path, query string or form fields are not clean UTF-8."""
    environ = request.environ
    if not (
        _clean_wsgi_text(environ.get("PATH_INFO", ""), percent_encoded=False)
        and _clean_wsgi_text(environ.get("QUERY_STRING", ""), percent_encoded=True)
        and _clean_form()
    ):
        abort(
            400,
            description=_(
                "L'indirizzo o il modulo contiene caratteri non ammessi (un carattere nullo "
                "o un testo che non è in UTF-8). Controlla quanto hai scritto e riprova."
            ),
        )


def _clean_bytes(raw: bytes) -> bool:
    """True when *raw* is UTF-8 without a NUL byte."""
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _clean_wsgi_text(value: str, *, percent_encoded: bool) -> bool:
    """Check a WSGI environ string (its bytes as Latin-1, PEP 3333), unquoting it if asked.

    Splitting on ``&`` and ``=`` first is not needed: those are ASCII, and an
    ASCII byte is never part of a multi-byte UTF-8 character, so the whole is
    UTF-8 exactly when each name and value is.
    """
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:  # not what a WSGI server passes: refuse rather than guess
        return False
    if percent_encoded:
        raw = unquote_to_bytes(raw.replace(b"+", b" "))
    return _clean_bytes(raw)


def _clean_form() -> bool:
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return True
    mimetype = request.mimetype
    if mimetype == _FORM_URLENCODED:
        # Werkzeug reads such a body whole too; cached, the form is parsed from this copy.
        body = request.get_data(cache=True, parse_form_data=False)
        return _clean_wsgi_text(body.decode("latin-1"), percent_encoded=True)
    if mimetype == _MULTIPART:
        texts = [text for field in request.form.items(multi=True) for text in field]
        for name, upload in request.files.items(multi=True):
            texts.extend((name, upload.filename or ""))
        return not any("\x00" in text or _REPLACEMENT in text for text in texts)
    return True
